#!/usr/bin/env python3
"""Static checks of the CRDs in crds/ that aidi-devcluster does not make when a CRD is created.

kube-apiserver refuses a CRD whose schema is not structural; devcluster accepts it (see
devcluster/crd/schema.h), so a mistake would only show on a real cluster. This lints, per CRD:
  - every field (property, items, additionalProperties) has a description (STYLE.md point 10);
  - the schema is structural: every node has a type (or int-or-string / preserve-unknown-fields),
    allOf/anyOf/oneOf/not hold value validations only (no type, description, default,
    additionalProperties, nullable), except the int-or-string form anyOf [integer, string];
    root metadata is `type: object` and nothing else;
  - map lists have object items whose keys are required scalar properties; enums and defaults
    are of the field's type and defaults are in the enum;
  - every printer column's jsonPath names a field of the schema.

Usage: schema_lint.py CRD.yaml...   Prints one line per problem; exit 1 when there is any.
"""
import sys

import yaml

TYPES = {"object", "array", "string", "integer", "number", "boolean"}
NOT_IN_JUNCTORS = ("type", "description", "default", "additionalProperties", "nullable",
                   "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
                   "x-kubernetes-embedded-resource", "x-kubernetes-list-type",
                   "x-kubernetes-list-map-keys", "x-kubernetes-validations")


def type_ok(value, typ):
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }.get(typ, True)


def lint_junctor(node, path, problems):
    """A schema under allOf/anyOf/oneOf/not: value validations only."""
    if not isinstance(node, dict):
        problems.append(f"{path}: not an object")
        return
    for key in NOT_IN_JUNCTORS:
        if key in node:
            problems.append(f"{path}: {key} is not allowed inside allOf/anyOf/oneOf/not")
    for key, sub in (node.get("properties") or {}).items():
        lint_junctor(sub, f"{path}.properties.{key}", problems)
    if isinstance(node.get("items"), dict):
        lint_junctor(node["items"], f"{path}.items", problems)


def is_int_or_string_any_of(node):
    return node.get("x-kubernetes-int-or-string") is True and \
        node.get("anyOf") == [{"type": "integer"}, {"type": "string"}]


def lint(node, path, problems, root=False):
    if not isinstance(node, dict):
        problems.append(f"{path}: schema is not an object")
        return
    if not root and not node.get("description"):
        problems.append(f"{path}: no description")
    typ = node.get("type")
    if typ is None:
        if not (node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")):
            problems.append(f"{path}: no type (not structural)")
    elif typ not in TYPES:
        problems.append(f"{path}: unknown type {typ!r}")
    if node.get("x-kubernetes-int-or-string") and typ is not None:
        problems.append(f"{path}: x-kubernetes-int-or-string must not set type")
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(node.get(junctor) or []):
            if junctor == "anyOf" and is_int_or_string_any_of(node):
                continue
            lint_junctor(sub, f"{path}.{junctor}[{i}]", problems)
    if "not" in node:
        lint_junctor(node["not"], f"{path}.not", problems)
    for value in node.get("enum") or []:
        if typ and not type_ok(value, typ):
            problems.append(f"{path}: enum value {value!r} is not a {typ}")
    if "default" in node:
        if typ and not type_ok(node["default"], typ):
            problems.append(f"{path}: default {node['default']!r} is not a {typ}")
        if "enum" in node and node["default"] not in node["enum"]:
            problems.append(f"{path}: default {node['default']!r} is not in the enum")
    props = node.get("properties") or {}
    if props and typ != "object":
        problems.append(f"{path}: properties on a non-object")
    if node.get("x-kubernetes-list-type") == "map":
        items = node.get("items") or {}
        for key in node.get("x-kubernetes-list-map-keys") or []:
            key_schema = (items.get("properties") or {}).get(key)
            if key_schema is None:
                problems.append(f"{path}: list-map key {key!r} is not a property of the items")
            elif key_schema.get("type") not in ("string", "integer", "number", "boolean"):
                problems.append(f"{path}: list-map key {key!r} is not a scalar")
            elif key not in (items.get("required") or []) and "default" not in key_schema:
                problems.append(f"{path}: list-map key {key!r} is neither required nor defaulted")
        if not node.get("x-kubernetes-list-map-keys"):
            problems.append(f"{path}: x-kubernetes-list-type map without x-kubernetes-list-map-keys")
    for key, sub in props.items():
        if root and key == "metadata":
            if sub != {"type": "object"}:
                problems.append(f"{path}.metadata: the root metadata schema may only say type: object")
            continue
        lint(sub, f"{path}.{key}", problems)
    if isinstance(node.get("items"), dict):
        lint(node["items"], f"{path}[]", problems)
    elif typ == "array":
        problems.append(f"{path}: array without an items schema")
    if isinstance(node.get("additionalProperties"), dict):
        lint(node["additionalProperties"], f"{path}{{}}", problems)


def resolve(schema, json_path):
    """The schema a printer column's simple jsonPath (.a.b.c) points at, or None."""
    node = schema
    for part in json_path.lstrip(".").split("."):
        node = (node.get("properties") or {}).get(part)
        if node is None:
            return None
    return node


def main(paths):
    problems = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            crd = yaml.safe_load(f)
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = version["schema"]["openAPIV3Schema"]
            where = f"{path}: {kind} {version['name']}"
            found = []
            lint(schema, kind, found, root=True)
            if not schema.get("description"):
                found.append(f"{kind}: no description")
            for column in version.get("additionalPrinterColumns") or []:
                jp = column["jsonPath"]
                if jp.startswith(".metadata."):
                    continue
                if resolve(schema, jp) is None:
                    found.append(f"printer column {column['name']}: {jp} is not in the schema")
            problems += [f"{where}: {p}" for p in found]
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
