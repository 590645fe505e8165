#!/usr/bin/env node
// Generates builtin_schemas.json: structural schemas for the built-in kinds aidi-devcluster
// serves, from the TypeScript declarations of the npm package `kubernetes-models` (which are
// generated from Kubernetes' OpenAPI spec and carry its descriptions as JSDoc).
//
//   node devcluster/builtin_schemas/generate.mjs [--modules DIR] [--out FILE]
//
// DIR is a folder whose node_modules/ holds kubernetes-models and typescript; without it the
// script npm-installs the pinned versions below into a temporary folder (needs the npm
// registry). CI does not run this script: its output is committed and embedded into the binary.
//
// Output (compact JSON):
//   {"source": "...",
//    "kinds": [{"group": "", "version": "v1", "kind": "Pod", "definition": "io.k8s.api.core.v1.Pod"}, ...],
//    "definitions": {"io.k8s.api.core.v1.Pod": {...}, ...}}
// Definitions are named as kube-apiserver names them in its OpenAPI documents. A reference is
// {"$ref": "<definition name>"} plus optional siblings (description, patch extensions) that
// apply to the referring field. Values: types object/array/string/integer/number/boolean,
// `properties`, `required`, `items`, `additionalProperties` for maps, `enum` for Go enum types,
// `format` where the models' validators carry one; Quantity and IntOrString are
// `x-kubernetes-int-or-string: true`; free-form values (RawExtension, FieldsV1, the JSON fields of
// JSONSchemaProps, JSONSchemaPropsOr*) are `x-kubernetes-preserve-unknown-fields: true`.
// Strategic-merge-patch metadata is not in the models: it comes from the PATCH_META table below,
// transcribed from the patchStrategy/patchMergeKey struct tags of k8s.io/api and
// k8s.io/apiextensions-apiserver (as kube-openapi publishes them: x-kubernetes-patch-strategy,
// x-kubernetes-patch-merge-key, x-kubernetes-list-type, x-kubernetes-list-map-keys).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MODELS_VERSION = "5.1.0";
const TYPESCRIPT_VERSION = "5.9.3";

// The kinds devcluster serves (devcluster/builtin_types.cc) plus the subresource bodies it
// accepts (pods/binding, <resource>/scale).
const KINDS = [
  ["", "v1", "Namespace"],
  ["", "v1", "Pod"],
  ["", "v1", "Node"],
  ["", "v1", "ConfigMap"],
  ["", "v1", "Secret"],
  ["", "v1", "Service"],
  ["", "v1", "ServiceAccount"],
  ["", "v1", "Event"],
  ["", "v1", "PersistentVolumeClaim"],
  ["", "v1", "Binding"],
  ["coordination.k8s.io", "v1", "Lease"],
  ["apps", "v1", "Deployment"],
  ["apiextensions.k8s.io", "v1", "CustomResourceDefinition"],
  ["autoscaling", "v1", "Scale"],
];

// Per "<definition>.<field>": the list/patch extensions upstream's OpenAPI carries for the field.
const M = (key, extra = {}) => ({
  "x-kubernetes-patch-merge-key": key,
  "x-kubernetes-patch-strategy": "merge",
  ...extra,
});
const MAP = (...keys) => ({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": keys });
const core = (t) => "io.k8s.api.core.v1." + t;
const meta = (t) => "io.k8s.apimachinery.pkg.apis.meta.v1." + t;
const PATCH_META = {
  [meta("ObjectMeta") + ".finalizers"]: {
    "x-kubernetes-list-type": "set",
    "x-kubernetes-patch-strategy": "merge",
  },
  [meta("ObjectMeta") + ".ownerReferences"]: M("uid", MAP("uid")),
  [meta("ObjectMeta") + ".managedFields"]: { "x-kubernetes-list-type": "atomic" },
  [core("PodSpec") + ".volumes"]: {
    ...M("name", MAP("name")),
    "x-kubernetes-patch-strategy": "merge,retainKeys",
  },
  [core("PodSpec") + ".initContainers"]: M("name", MAP("name")),
  [core("PodSpec") + ".containers"]: M("name", MAP("name")),
  [core("PodSpec") + ".ephemeralContainers"]: M("name", MAP("name")),
  [core("PodSpec") + ".imagePullSecrets"]: M("name", MAP("name")),
  [core("PodSpec") + ".hostAliases"]: M("ip", MAP("ip")),
  [core("PodSpec") + ".topologySpreadConstraints"]: M(
    "topologyKey",
    MAP("topologyKey", "whenUnsatisfiable"),
  ),
  [core("PodSpec") + ".resourceClaims"]: {
    ...M("name", MAP("name")),
    "x-kubernetes-patch-strategy": "merge,retainKeys",
  },
  [core("PodSpec") + ".schedulingGates"]: M("name", MAP("name")),
  [core("PodSpec") + ".tolerations"]: { "x-kubernetes-list-type": "atomic" },
  [core("Container") + ".ports"]: M("containerPort", MAP("containerPort", "protocol")),
  [core("Container") + ".env"]: M("name", MAP("name")),
  [core("Container") + ".volumeMounts"]: M("mountPath", MAP("mountPath")),
  [core("Container") + ".volumeDevices"]: M("devicePath", MAP("devicePath")),
  [core("EphemeralContainer") + ".ports"]: M("containerPort", MAP("containerPort", "protocol")),
  [core("EphemeralContainer") + ".env"]: M("name", MAP("name")),
  [core("EphemeralContainer") + ".volumeMounts"]: M("mountPath", MAP("mountPath")),
  [core("EphemeralContainer") + ".volumeDevices"]: M("devicePath", MAP("devicePath")),
  [core("PodStatus") + ".conditions"]: M("type", MAP("type")),
  [core("PodStatus") + ".podIPs"]: M("ip", MAP("ip")),
  [core("PodStatus") + ".hostIPs"]: M("ip", MAP("ip")),
  [core("PodStatus") + ".resourceClaimStatuses"]: {
    ...M("name", MAP("name")),
    "x-kubernetes-patch-strategy": "merge,retainKeys",
  },
  [core("ServiceSpec") + ".ports"]: M("port", MAP("port", "protocol")),
  [core("ServiceStatus") + ".conditions"]: M("type", MAP("type")),
  [core("ServiceAccount") + ".secrets"]: M("name"),
  [core("NodeSpec") + ".podCIDRs"]: {
    "x-kubernetes-list-type": "set",
    "x-kubernetes-patch-strategy": "merge",
  },
  [core("NodeSpec") + ".taints"]: { "x-kubernetes-list-type": "atomic" },
  [core("NodeStatus") + ".conditions"]: M("type", MAP("type")),
  [core("NodeStatus") + ".addresses"]: M("type", MAP("type")),
  [core("NamespaceStatus") + ".conditions"]: M("type", MAP("type")),
  [core("PersistentVolumeClaimStatus") + ".conditions"]: M("type", MAP("type")),
  ["io.k8s.api.apps.v1.DeploymentSpec.strategy"]: { "x-kubernetes-patch-strategy": "retainKeys" },
  ["io.k8s.api.apps.v1.DeploymentStatus.conditions"]: M("type", MAP("type")),
  ["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus.conditions"]:
    MAP("type"),
  ["io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps.x-kubernetes-validations"]:
    M("rule", MAP("rule")),
};

// Values of these types hold arbitrary JSON.
const FREE_FORM = new Set([
  "io.k8s.apimachinery.pkg.runtime.RawExtension",
  meta("FieldsV1"),
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
]);
const OBJECT_FREE_FORM = new Set(["io.k8s.apimachinery.pkg.runtime.RawExtension", meta("FieldsV1")]);
// Go structs without fields: objects whose every key is unknown.
const EMPTY_STRUCTS = new Set([
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceSubresourceStatus",
]);
const INT_OR_STRING = new Set([
  "io.k8s.apimachinery.pkg.api.resource.Quantity",
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
]);

const TYPE_META_DESCRIPTIONS = {
  apiVersion:
    "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
  kind: "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
};

function parseArgs() {
  const args = { modules: null, out: null };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--modules") args.modules = argv[++i];
    else if (argv[i] === "--out") args.out = argv[++i];
    else throw new Error("unknown argument " + argv[i]);
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  args.out ??= path.join(here, "builtin_schemas.json");
  return args;
}

function ensureModules(dir) {
  if (dir) return path.resolve(dir);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "builtin-schemas-"));
  fs.writeFileSync(path.join(tmp, "package.json"), '{"name":"gen","private":true}');
  execFileSync(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--loglevel=error",
      `kubernetes-models@${MODELS_VERSION}`,
      `typescript@${TYPESCRIPT_VERSION}`,
    ],
    { cwd: tmp, stdio: ["ignore", "inherit", "inherit"] },
  );
  return tmp;
}

const args = parseArgs();
const root = ensureModules(args.modules);
if (!args.modules) process.on("exit", () => fs.rmSync(root, { recursive: true, force: true }));
const nm = path.join(root, "node_modules");
const ts = createRequire(path.join(root, "package.json"))("typescript");
const modelsVersion = JSON.parse(
  fs.readFileSync(path.join(nm, "kubernetes-models", "package.json"), "utf8"),
).version;
const machineryVersion = JSON.parse(
  fs.readFileSync(path.join(nm, "@kubernetes-models", "apimachinery", "package.json"), "utf8"),
).version;

// ---- files and names ---------------------------------------------------------------------

// The upstream definition name for a .d.ts file of the models.
function definitionName(file) {
  const rel = path.relative(nm, file).split(path.sep);
  const type = path.basename(file, ".d.ts");
  if (rel[0] === "kubernetes-models") {
    const parts = rel.slice(1, -1);
    if (parts.length === 1) return `io.k8s.api.core.${parts[0]}.${type}`;
    const [group, version] = parts;
    if (group === "apiextensions.k8s.io") {
      return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}.${type}`;
    }
    return `io.k8s.api.${group.split(".")[0]}.${version}.${type}`;
  }
  if (rel[0] === "@kubernetes-models" && rel[1] === "apimachinery") {
    return `io.k8s.apimachinery.pkg.${rel.slice(2, -1).join(".")}.${type}`;
  }
  throw new Error("unexpected type file " + file);
}

// The alias the models export for a file's type ("IoK8sApiCoreV1Pod"), for its validator.
function modelAlias(sf) {
  const m = /export type \{ I\w+ as I(IoK8s\w+),/.exec(sf.text);
  if (!m) throw new Error("no exported alias in " + sf.fileName);
  return m[1];
}

function resolveImport(fromFile, spec) {
  let base;
  if (spec.startsWith(".")) base = path.resolve(path.dirname(fromFile), spec);
  else base = path.join(nm, spec);
  base = base.replace(/\.js$/, "");
  const file = base + ".d.ts";
  if (!fs.existsSync(file)) throw new Error(`cannot resolve ${spec} from ${fromFile}`);
  return file;
}

const sourceCache = new Map();
function source(file) {
  if (!sourceCache.has(file)) {
    const text = fs.readFileSync(file, "utf8");
    sourceCache.set(file, ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  }
  return sourceCache.get(file);
}

function docOf(node) {
  const docs = ts.getJSDocCommentsAndTags(node).filter((d) => ts.isJSDoc(d));
  if (!docs.length) return undefined;
  const text = ts.getTextOfJSDocComment(docs[docs.length - 1].comment);
  return text ? text.replace(/\*\\\//g, "*/") : undefined;
}

// ---- numbers: integer or number, and format, from the models' compiled validators ----------

// Maps property name -> {type, format} for numeric properties of one type, read from the ajv
// validator the models ship (_schemas/<alias>.js): `validateN(data.prop` calls the property's
// validator, whose body names `type:"integer"` or `type:"number"` and `format:"int32"`...
function numericInfo(file, sf) {
  const alias = modelAlias(sf);
  const pkg = path.relative(nm, file).startsWith("kubernetes-models")
    ? path.join(nm, "kubernetes-models")
    : path.join(nm, "@kubernetes-models", "apimachinery");
  const js = path.join(pkg, "_schemas", alias + ".js");
  const out = new Map();
  if (!fs.existsSync(js)) return out;
  const text = fs.readFileSync(js, "utf8");
  const bodies = new Map();
  const fnRe = /function (validate\d+)\(data,/g;
  const starts = [];
  let m;
  while ((m = fnRe.exec(text))) starts.push([m[1], m.index]);
  for (let i = 0; i < starts.length; i++) {
    bodies.set(starts[i][0], text.slice(starts[i][1], i + 1 < starts.length ? starts[i + 1][1] : text.length));
  }
  const callRe = /void 0!==data(?:\.([\w$]+)|\["([^"]+)"\])&&\((validate\d+)\(/g;
  while ((m = callRe.exec(text))) {
    const prop = m[1] ?? m[2];
    const body = bodies.get(m[3]) ?? "";
    const type = /params:\{type:"(integer|number)"\}/.exec(body);
    const format = /params:\{format:"([\w-]+)"\}/.exec(body);
    if (type) out.set(prop, { type: type[1], format: format?.[1] });
  }
  // Validations ajv inlined: `if(void 0!==data.prop){let dataN=data.prop;...` up to the next
  // property.
  const inlineRe = /void 0!==data(?:\.([\w$]+)|\["([^"]+)"\])\)\{let data\d+=data/g;
  const found = [];
  while ((m = inlineRe.exec(text))) found.push([m[1] ?? m[2], m.index]);
  for (let i = 0; i < found.length; i++) {
    const [prop, at] = found[i];
    if (out.has(prop)) continue;
    const body = text.slice(at, i + 1 < found.length ? found[i + 1][1] : text.length);
    const type = /params:\{type:"(\w+)"\}/.exec(body);
    const format = /params:\{format:"([\w-]+)"\}/.exec(body);
    if (type && (type[1] === "integer" || type[1] === "number")) {
      out.set(prop, { type: type[1], format: format?.[1] });
    }
  }
  return out;
}

// ---- conversion ------------------------------------------------------------------------

const definitions = {};
const queue = [];
const usedPatchMeta = new Set();

function refTo(file) {
  const name = definitionName(file);
  if (!(name in definitions)) {
    definitions[name] = null; // reserved; filled when dequeued
    queue.push(file);
  }
  return { $ref: name };
}

function importsOf(sf) {
  const map = new Map();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !st.importClause?.namedBindings) continue;
    const spec = st.moduleSpecifier.text;
    if (spec === "@kubernetes-models/base") continue;
    for (const el of st.importClause.namedBindings.elements) {
      map.set(el.name.text, resolveImport(sf.fileName, spec));
    }
  }
  return map;
}

function convertType(node, ctx) {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: "string" };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: "boolean" };
    case ts.SyntaxKind.NumberKeyword: {
      const info = ctx.numeric ?? { type: "integer" };
      return info.format ? { type: info.type, format: info.format } : { type: info.type };
    }
    case ts.SyntaxKind.LiteralType:
      if (ts.isStringLiteral(node.literal)) return { type: "string", enum: [node.literal.text] };
      break;
    case ts.SyntaxKind.UnionType: {
      const lits = node.types.map((t) =>
        ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : null,
      );
      if (lits.every((l) => l !== null)) return { type: "string", enum: lits };
      const kinds = node.types.map((t) => t.kind).sort();
      if (
        kinds.length === 2 &&
        kinds.includes(ts.SyntaxKind.NumberKeyword) &&
        kinds.includes(ts.SyntaxKind.StringKeyword)
      ) {
        return { "x-kubernetes-int-or-string": true };
      }
      break;
    }
    case ts.SyntaxKind.ArrayType:
      return { type: "array", items: convertType(node.elementType, { ...ctx, numeric: undefined }) };
    case ts.SyntaxKind.TypeLiteral: {
      const members = node.members;
      if (members.length === 1 && ts.isIndexSignatureDeclaration(members[0])) {
        return {
          type: "object",
          additionalProperties: convertType(members[0].type, { ...ctx, numeric: undefined }),
        };
      }
      break;
    }
    case ts.SyntaxKind.TypeReference: {
      const name = node.typeName.getText();
      if (name === "Array" && node.typeArguments?.length === 1) {
        return {
          type: "array",
          items: convertType(node.typeArguments[0], { ...ctx, numeric: undefined }),
        };
      }
      if (ctx.imports.has(name)) return refTo(ctx.imports.get(name));
      // A reference to the file's own interface (JSONSchemaProps refers to itself).
      if (ctx.localInterface === name) return refTo(ctx.file);
      break;
    }
  }
  throw new Error(`unsupported type \`${node.getText()}\` in ${ctx.file}`);
}

function convertFile(file) {
  const sf = source(file);
  const name = definitionName(file);
  const alias = modelAlias(sf);
  const squash = (s) => s.replace(/[.-]/g, "").toLowerCase();
  if (squash(name) !== squash(alias)) throw new Error(`name ${name} does not match ${alias}`);
  const imports = importsOf(sf);
  const iface = sf.statements.find((s) => ts.isInterfaceDeclaration(s));
  const typeAlias = sf.statements.find((s) => ts.isTypeAliasDeclaration(s));
  const decl = iface ?? typeAlias;
  if (!decl) throw new Error("no declaration in " + file);
  const description = docOf(decl);
  let schema;
  if (FREE_FORM.has(name)) {
    schema = { "x-kubernetes-preserve-unknown-fields": true };
    if (OBJECT_FREE_FORM.has(name)) schema.type = "object";
  } else if (INT_OR_STRING.has(name)) {
    schema = { "x-kubernetes-int-or-string": true };
  } else if (!iface) {
    schema = convertType(typeAlias.type, { file, imports });
    if (name === meta("Time") || name === meta("MicroTime")) schema.format = "date-time";
  } else {
    if (iface.members.length === 0 && !EMPTY_STRUCTS.has(name)) {
      throw new Error(`empty interface ${name}: add it to FREE_FORM or EMPTY_STRUCTS`);
    }
    const numeric = numericInfo(file, sf);
    const properties = {};
    const required = [];
    for (const member of iface.members) {
      if (!ts.isPropertySignature(member)) throw new Error(`unexpected member in ${name}`);
      const prop = member.name.text ?? member.name.getText();
      const ctx = { file, imports, numeric: numeric.get(prop), localInterface: iface.name.text };
      let p = convertType(member.type, ctx);
      const doc = docOf(member);
      if (doc) p = { description: doc, ...p };
      const ext = PATCH_META[`${name}.${prop}`];
      if (ext) {
        Object.assign(p, ext);
        usedPatchMeta.add(`${name}.${prop}`);
      }
      properties[prop] = p;
      if (!member.questionToken) required.push(prop);
    }
    schema = { type: "object", properties };
    if (required.length) schema.required = required;
  }
  return description ? { description, ...schema } : schema;
}

function kindFile(group, version, kind) {
  const dir = group === "" ? version : path.join(group, version);
  return path.join(nm, "kubernetes-models", dir, kind + ".d.ts");
}

const kinds = [];
for (const [group, version, kind] of KINDS) {
  const file = kindFile(group, version, kind);
  kinds.push({ group, version, kind, definition: refTo(file).$ref });
}
while (queue.length) {
  const file = queue.shift();
  definitions[definitionName(file)] = convertFile(file);
}

// The kinds: apiVersion and kind are plain strings (the server checks them), never required,
// and the definition carries its GVK as upstream's does.
for (const k of kinds) {
  const d = definitions[k.definition];
  for (const f of ["apiVersion", "kind"]) {
    d.properties[f] = { description: TYPE_META_DESCRIPTIONS[f], type: "string" };
  }
  if (d.required) {
    d.required = d.required.filter((f) => f !== "apiVersion" && f !== "kind");
    if (!d.required.length) delete d.required;
  }
  d["x-kubernetes-group-version-kind"] = [{ group: k.group, kind: k.kind, version: k.version }];
}

const unused = Object.keys(PATCH_META).filter((k) => !usedPatchMeta.has(k));
if (unused.length) throw new Error("PATCH_META entries that match no field: " + unused.join(", "));

const sorted = {};
for (const key of Object.keys(definitions).sort()) sorted[key] = definitions[key];
const out = {
  source: `kubernetes-models@${modelsVersion} (@kubernetes-models/apimachinery@${machineryVersion}); generated by devcluster/builtin_schemas/generate.mjs`,
  kinds,
  definitions: sorted,
};
// ASCII only (non-ASCII as \uXXXX escapes): the build embeds the file in chunks that must not
// split a character.
const text = JSON.stringify(out).replace(
  /[\u007f-\uffff]/g,
  (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
);
fs.writeFileSync(args.out, text + "\n");
console.error(
  `wrote ${args.out}: ${kinds.length} kinds, ${Object.keys(sorted).length} definitions, ` +
    `${fs.statSync(args.out).size} bytes`,
);
