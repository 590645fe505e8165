#!/usr/bin/env python3
"""Checks the manifests `helm template` rendered from charts/aidi, then writes them as JSON.

Parses every document (duplicate keys are errors, as in the API server's strict decoding) and
asserts what the chart promises: no wildcard in any RBAC rule and exactly the rules the code
needs, the pod and container security settings and resources on every container, the scheduler
configuration's profile and loopback extender, the operator's flags, Services and PDBs that
select real pods, bindings to accounts and roles that exist, and CRDs equal to crds/. The JSON
(one array of objects) goes to validate_manifests.mjs, which checks it against the upstream
Kubernetes schemas.

  check_rendered.py RENDERED.yaml --out OBJECTS.json --crds-dir crds --crds keep|plain|none
      [--scheduler-name aidi-scheduler] [--operator-image I] [--extender-image I] [--worker-image I]
  check_rendered.py --values charts/aidi/values.yaml     (the comment rule of values.yaml only)
"""
import argparse
import json
import pathlib
import re
import sys

import yaml

FAILURES = []


def fail(message):
    FAILURES.append(message)


class StrictLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate mapping keys."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_all(text, what):
    try:
        return [d for d in yaml.load_all(text, Loader=StrictLoader) if d is not None]
    except yaml.YAMLError as e:
        print(f"FAIL: {what} does not parse: {e}")
        sys.exit(1)


def name_of(obj):
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


# ---- values.yaml: a comment on every key, starting with the key's own name ----------------------

def check_values_comments(path):
    lines = pathlib.Path(path).read_text().splitlines()
    key_re = re.compile(r"^(\s*)(?:- )?([A-Za-z0-9_.-]+):(\s|$)")
    for i, line in enumerate(lines):
        m = key_re.match(line)
        if not m:
            continue
        key = m.group(2)
        # The comment block right above the key (same indentation), read from its first line.
        j = i - 1
        block = []
        while j >= 0 and lines[j].strip().startswith("#") and \
                lines[j].startswith(m.group(1) + "#"):
            block.insert(0, lines[j].strip())
            j -= 1
        if not block:
            fail(f"values.yaml:{i + 1}: key {key!r} has no comment above it")
        elif not re.match(rf"^# {re.escape(key)}\b", block[0]):
            fail(f"values.yaml:{i + 1}: the comment of {key!r} does not start with its name: {block[0]!r}")


# ---- RBAC ---------------------------------------------------------------------------------------

# Exactly the rules the code needs (operator/, kube/runtime/, scheduler-extender/); a broader or
# a narrower rule is a change to review here first.
EXPECTED_CLUSTER_RULES = {
    "operator": {
        ("aidi.dev", "pipelines", ""): {"list", "watch", "patch", "delete"},
        ("aidi.dev", "pipelines/status", ""): {"update"},
        ("aidi.dev", "pipelines/finalizers", ""): {"update"},
        ("aidi.dev", "edgesites", ""): {"list", "watch"},
        ("aidi.dev", "edgesites/status", ""): {"update"},
        ("", "pods", ""): {"get", "list", "watch", "create", "delete"},
        ("", "nodes", ""): {"list", "watch", "patch"},
        ("", "events", ""): {"create", "patch"},
    },
    "extender": {
        ("", "nodes", ""): {"list", "watch"},
        ("aidi.dev", "edgesites", ""): {"list", "watch"},
        ("", "pods", ""): {"get", "list", "watch", "patch"},
        ("", "pods/binding", ""): {"create"},
    },
}
UPSTREAM_CLUSTER_ROLES = {"system:kube-scheduler", "system:volume-scheduler"}
UPSTREAM_ROLES = {("kube-system", "extension-apiserver-authentication-reader")}


def flatten_rules(role):
    """{(group, resource, resourceName): verbs} of a Role or ClusterRole."""
    out = {}
    for rule in role.get("rules") or []:
        for field in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
            values = rule.get(field) or []
            if any("*" in str(v) for v in values):
                fail(f"{name_of(role)}: wildcard in {field}: {values}")
        if rule.get("nonResourceURLs"):
            fail(f"{name_of(role)}: nonResourceURLs are not expected")
        for group in rule.get("apiGroups") or [""]:
            for resource in rule.get("resources") or []:
                for rn in rule.get("resourceNames") or [""]:
                    out.setdefault((group, resource, rn), set()).update(rule.get("verbs") or [])
    return out


def check_rbac(objs, release_ns, scheduler_name, lease_names):
    roles = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
             for o in objs if o["kind"] in ("Role", "ClusterRole")}
    sas = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in objs if o["kind"] == "ServiceAccount"}
    for role in roles.values():
        flatten_rules(role)  # wildcards

    cluster_roles = {n: o for (ns, n), o in roles.items() if o["kind"] == "ClusterRole"}
    for suffix, expected in EXPECTED_CLUSTER_RULES.items():
        found = [o for n, o in cluster_roles.items() if n.endswith("-" + suffix)]
        if len(found) != 1:
            fail(f"expected one ClusterRole named *-{suffix}, found {len(found)}")
            continue
        got = flatten_rules(found[0])
        if got != expected:
            fail(f"{name_of(found[0])}: rules differ from what the code needs:\n  got      "
                 f"{sorted((k, sorted(v)) for k, v in got.items())}\n  expected "
                 f"{sorted((k, sorted(v)) for k, v in expected.items())}")

    lease_roles = [o for (ns, n), o in roles.items() if o["kind"] == "Role" and n.endswith("-leader-election")]
    if len(lease_roles) != 2:
        fail(f"expected two leader-election Roles, found {len(lease_roles)}")
    named = set()
    for role in lease_roles:
        if role["metadata"]["namespace"] != release_ns:
            fail(f"{name_of(role)}: not in the release namespace")
        rules = flatten_rules(role)
        names = {rn for (g, r, rn) in rules if rn}
        named |= names
        want = {("coordination.k8s.io", "leases", ""): {"create"}}
        want.update({("coordination.k8s.io", "leases", n): {"get", "update"} for n in names})
        if rules != want or len(names) != 1:
            fail(f"{name_of(role)}: expected create on leases and get/update on one named Lease, got {rules}")
    if named != set(lease_names):
        fail(f"leader-election Roles name Leases {sorted(named)}, expected {sorted(lease_names)}")

    for b in (o for o in objs if o["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        ref = b["roleRef"]
        ns = b["metadata"].get("namespace", "")
        if ref["kind"] == "ClusterRole":
            ok = ref["name"] in cluster_roles or ref["name"] in UPSTREAM_CLUSTER_ROLES
        else:
            ok = (ns, ref["name"]) in roles or (ns, ref["name"]) in UPSTREAM_ROLES
        if not ok:
            fail(f"{name_of(b)}: roleRef {ref['kind']}/{ref['name']} is neither rendered nor upstream")
        for s in b.get("subjects") or []:
            if s.get("kind") != "ServiceAccount" or (s.get("namespace"), s.get("name")) not in sas:
                fail(f"{name_of(b)}: subject {s} is not a rendered ServiceAccount")
    bound = {b["roleRef"]["name"] for b in objs if b["kind"] == "ClusterRoleBinding"}
    for upstream in UPSTREAM_CLUSTER_ROLES:
        if upstream not in bound:
            fail(f"the scheduler's ServiceAccount is not bound to {upstream}")


# ---- pods ---------------------------------------------------------------------------------------

def check_pod(owner, template, run_as_user):
    spec = template["spec"]
    psc = spec.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        fail(f"{owner}: pod securityContext.runAsNonRoot is not true")
    if not isinstance(psc.get("runAsUser"), int) or psc["runAsUser"] <= 0:
        fail(f"{owner}: pod securityContext.runAsUser is not a numeric non-root uid")
    if (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        fail(f"{owner}: pod seccompProfile is not RuntimeDefault")
    sa = spec.get("serviceAccountName")
    containers = (spec.get("initContainers") or []) + spec["containers"]
    for c in containers:
        where = f"{owner} container {c['name']}"
        sc = c.get("securityContext") or {}
        checks = {
            "runAsNonRoot": sc.get("runAsNonRoot") is True,
            "runAsUser": sc.get("runAsUser") == run_as_user,
            "readOnlyRootFilesystem": sc.get("readOnlyRootFilesystem") is True,
            "allowPrivilegeEscalation": sc.get("allowPrivilegeEscalation") is False,
            "capabilities.drop ALL": "ALL" in ((sc.get("capabilities") or {}).get("drop") or []),
            "no capabilities.add": not (sc.get("capabilities") or {}).get("add"),
            "seccompProfile RuntimeDefault": (sc.get("seccompProfile") or {}).get("type") == "RuntimeDefault",
            "not privileged": sc.get("privileged") in (None, False),
        }
        for what, ok in checks.items():
            if not ok:
                fail(f"{where}: securityContext {what} missing or wrong: {sc}")
        res = c.get("resources") or {}
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                if r not in (res.get(kind) or {}):
                    fail(f"{where}: resources.{kind}.{r} is not set")
        if ":" not in c.get("image", "") or c["image"].endswith(":"):
            fail(f"{where}: image {c.get('image')!r} has no tag")
        ports = {p.get("name") for p in c.get("ports") or []}
        for probe in ("livenessProbe", "readinessProbe"):
            p = c.get(probe)
            if not p:
                fail(f"{where}: no {probe}")
            elif "httpGet" in p and isinstance(p["httpGet"]["port"], str) and p["httpGet"]["port"] not in ports:
                fail(f"{where}: {probe} names port {p['httpGet']['port']!r}, not a container port")
    return sa


def args_of(container):
    out = {}
    for a in (container.get("command") or [])[1:] + (container.get("args") or []):
        k, _, v = a.partition("=")
        out[k] = v if _ else True
    return out


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_workloads(objs, opts):
    deployments = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Deployment"}
    sas = {o["metadata"]["name"] for o in objs if o["kind"] == "ServiceAccount"}
    run_as_user = None
    containers = {}
    pod_labels = {}
    for name, d in deployments.items():
        tpl = d["spec"]["template"]
        if not matches(d["spec"]["selector"]["matchLabels"], tpl["metadata"].get("labels") or {}):
            fail(f"Deployment/{name}: selector does not match its pod labels")
        run_as_user = (tpl["spec"].get("securityContext") or {}).get("runAsUser")
        sa = check_pod(f"Deployment/{name}", tpl, run_as_user)
        if sa not in sas:
            fail(f"Deployment/{name}: serviceAccountName {sa!r} is not rendered")
        pod_labels[name] = (tpl["metadata"].get("labels") or {}, tpl["spec"]["containers"])
        for c in tpl["spec"]["containers"]:
            containers[c["name"]] = (d, c)
    for want in ("operator", "kube-scheduler", "extender"):
        if want not in containers:
            fail(f"no container named {want}")
            return

    # The operator: leader election on, flags that match its ports, profile and images.
    _, op = containers["operator"]
    a = args_of(op)
    expected_flags = {"--leader-elect": True, "--scheduler-name": opts.scheduler_name}
    if opts.worker_image:
        expected_flags["--worker-image"] = opts.worker_image
    for flag, value in expected_flags.items():
        if a.get(flag) != value:
            fail(f"operator: {flag} is {a.get(flag)!r}, expected {value!r}")
    ports = {p["name"]: p["containerPort"] for p in op.get("ports") or []}
    for flag, port in (("--metrics-addr", "metrics"), ("--health-addr", "health")):
        if not str(a.get(flag, "")).endswith(f":{ports.get(port)}"):
            fail(f"operator: {flag}={a.get(flag)} does not serve the {port} port {ports.get(port)}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = (op.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != path or get.get("port") != "health":
            fail(f"operator: {probe} is not GET {path} on the health port")
    if opts.operator_image and op["image"] != opts.operator_image:
        fail(f"operator image is {op['image']}, expected {opts.operator_image}")

    # The scheduler pod: kube-scheduler and the extender side by side.
    sched_dep, ks = containers["kube-scheduler"]
    ext_dep, ext = containers["extender"]
    if sched_dep is not ext_dep:
        fail("kube-scheduler and the extender are not in the same pod")
    if not ks["image"].startswith("registry.k8s.io/kube-scheduler:"):
        fail(f"kube-scheduler image is {ks['image']}")
    if opts.extender_image and ext["image"] != opts.extender_image:
        fail(f"extender image is {ext['image']}, expected {opts.extender_image}")
    config_path = args_of(ks).get("--config")
    listen = args_of(ext).get("--listen", "")
    if not str(listen).startswith("127.0.0.1:"):
        fail(f"extender --listen={listen} is not on loopback")

    # Services and PDBs select real pods and name real ports.
    for svc in (o for o in objs if o["kind"] == "Service"):
        sel = svc["spec"].get("selector") or {}
        hits = [n for n, (labels, _) in pod_labels.items() if sel and matches(sel, labels)]
        if len(hits) != 1:
            fail(f"{name_of(svc)}: selector matches {len(hits)} Deployments")
            continue
        names = {p.get("name") for c in pod_labels[hits[0]][1] for p in c.get("ports") or []}
        for p in svc["spec"]["ports"]:
            if p.get("targetPort") not in names:
                fail(f"{name_of(svc)}: targetPort {p.get('targetPort')} is not a container port")
    for pdb in (o for o in objs if o["kind"] == "PodDisruptionBudget"):
        sel = pdb["spec"]["selector"]["matchLabels"]
        if len([n for n, (labels, _) in pod_labels.items() if matches(sel, labels)]) != 1:
            fail(f"{name_of(pdb)}: selector does not match exactly one Deployment's pods")
    return config_path, listen, sched_dep


# The fields of kube-scheduler's Extender (k8s.io/kube-scheduler/config/v1 types.go); it decodes
# its configuration strictly, so anything else would stop it.
EXTENDER_FIELDS = {"urlPrefix", "filterVerb", "preemptVerb", "prioritizeVerb", "weight", "bindVerb",
                   "enableHTTPS", "tlsConfig", "httpTimeout", "nodeCacheCapable", "managedResources",
                   "ignorable"}
CONFIG_FIELDS = {"apiVersion", "kind", "parallelism", "leaderElection", "clientConnection",
                 "healthzBindAddress", "metricsBindAddress", "enableProfiling",
                 "enableContentionProfiling", "percentageOfNodesToScore", "podInitialBackoffSeconds",
                 "podMaxBackoffSeconds", "profiles", "extenders", "delayCacheUntilActive"}


def check_scheduler_config(objs, opts, config_path, listen, sched_dep, release_ns):
    cms = [o for o in objs if o["kind"] == "ConfigMap"]
    vol = next((v for v in sched_dep["spec"]["template"]["spec"]["volumes"] if "configMap" in v), None)
    cm = next((c for c in cms if vol and c["metadata"]["name"] == vol["configMap"]["name"]), None)
    if cm is None:
        fail("the scheduler's ConfigMap is not mounted or not rendered")
        return
    key = pathlib.PurePosixPath(config_path or "").name
    if key not in cm["data"]:
        fail(f"--config={config_path}: key {key!r} not in {name_of(cm)}")
        return
    cfg = load_all(cm["data"][key], "the KubeSchedulerConfiguration")[0]
    if cfg.get("apiVersion") != "kubescheduler.config.k8s.io/v1" or cfg.get("kind") != "KubeSchedulerConfiguration":
        fail("the scheduler configuration is not a kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration")
    if set(cfg) - CONFIG_FIELDS:
        fail(f"unknown KubeSchedulerConfiguration fields: {sorted(set(cfg) - CONFIG_FIELDS)}")
    profiles = [p.get("schedulerName") for p in cfg.get("profiles") or []]
    if profiles != [opts.scheduler_name]:
        fail(f"profiles are {profiles}, expected [{opts.scheduler_name!r}]")
    le = cfg.get("leaderElection") or {}
    if not (le.get("leaderElect") is True and le.get("resourceNamespace") == release_ns
            and le.get("resourceName") == opts.scheduler_name):
        fail(f"scheduler leaderElection is {le}")
    exts = cfg.get("extenders") or []
    if len(exts) != 1:
        fail(f"expected one extender, got {len(exts)}")
        return
    e = exts[0]
    if set(e) - EXTENDER_FIELDS:
        fail(f"unknown Extender fields: {sorted(set(e) - EXTENDER_FIELDS)}")
    want = {"urlPrefix": f"http://{listen}", "filterVerb": "filter", "prioritizeVerb": "prioritize",
            "bindVerb": "bind", "nodeCacheCapable": True, "enableHTTPS": False}
    for k, v in want.items():
        if e.get(k) != v:
            fail(f"extender {k} is {e.get(k)!r}, expected {v!r}")
    if not isinstance(e.get("weight"), int) or e["weight"] <= 0:
        fail("extender weight must be a positive integer (a prioritizeVerb needs one)")
    if [m.get("name") for m in e.get("managedResources") or []] != ["nvidia.com/gpu"]:
        fail(f"extender managedResources are {e.get('managedResources')}")


def check_crds(objs, crds_dir, mode):
    rendered = {o["metadata"]["name"]: o for o in objs if o["kind"] == "CustomResourceDefinition"}
    sources = {}
    for f in sorted(pathlib.Path(crds_dir).glob("*.yaml")):
        for d in load_all(f.read_text(), str(f)):
            sources[d["metadata"]["name"]] = d
    if mode == "none":
        if rendered:
            fail(f"crds.install=false still renders {sorted(rendered)}")
        return
    if set(rendered) != set(sources):
        fail(f"rendered CRDs {sorted(rendered)} differ from {crds_dir}/: {sorted(sources)}")
    for name, src in sources.items():
        got = json.loads(json.dumps(rendered.get(name)))
        if got is None:
            continue
        annotations = got["metadata"].pop("annotations", None)
        want_ann = {"helm.sh/resource-policy": "keep"} if mode == "keep" else None
        if annotations != want_ann:
            fail(f"CRD {name}: annotations {annotations}, expected {want_ann}")
        if got != src:
            fail(f"CRD {name}: rendered content differs from {crds_dir}/")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rendered", nargs="?")
    p.add_argument("--out")
    p.add_argument("--crds-dir")
    p.add_argument("--crds", choices=["keep", "plain", "none"], default="keep")
    p.add_argument("--namespace", default="aidi-system")
    p.add_argument("--scheduler-name", default="aidi-scheduler")
    p.add_argument("--operator-lease", default="aidi-operator")
    p.add_argument("--operator-image")
    p.add_argument("--extender-image")
    p.add_argument("--worker-image")
    p.add_argument("--values")
    opts = p.parse_args()

    if opts.values:
        check_values_comments(opts.values)
    if opts.rendered:
        objs = load_all(pathlib.Path(opts.rendered).read_text(), opts.rendered)
        for o in objs:
            if not isinstance(o, dict) or not o.get("apiVersion") or not o.get("kind") or \
                    not (o.get("metadata") or {}).get("name"):
                fail(f"a rendered document lacks apiVersion, kind or metadata.name: {str(o)[:120]}")
        check_rbac(objs, opts.namespace, opts.scheduler_name, [opts.operator_lease, opts.scheduler_name])
        found = check_workloads(objs, opts)
        if found:
            check_scheduler_config(objs, opts, *found, opts.namespace)
        check_crds(objs, opts.crds_dir, opts.crds)
        if opts.out:
            pathlib.Path(opts.out).write_text(json.dumps(objs))
        print(f"check_rendered: {len(objs)} objects: " +
              ", ".join(f"{k} {v}" for k, v in sorted(_count(objs).items())))
    for f in FAILURES:
        print(f"FAIL: {f}")
    return 1 if FAILURES else 0


def _count(objs):
    out = {}
    for o in objs:
        out[o["kind"]] = out.get(o["kind"], 0) + 1
    return out


if __name__ == "__main__":
    sys.exit(main())
