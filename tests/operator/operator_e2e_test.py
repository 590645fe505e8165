#!/usr/bin/env python3
"""End-to-end proof of aidi-operator's contract (docs/design.md, "aidi-operator"; crds/).

The real aidi-operator binary runs against the real aidi-devcluster binary. devcluster has no
kubelet and no scheduler, so a fake Kubelet (kubelet.py) binds stage pods to test nodes, writes
the aidi.dev/placement annotation as the scheduler extender would, and moves pods to Running,
Succeeded or Failed by a rule each test sets. The Kubelet records every pod event with its
resourceVersion, so DAG order and parallelism are checked exactly (devcluster has one
resourceVersion counter: rv order is the order of writes).

One devcluster per run (CRDs applied with kubectl, four nodes in two EdgeSites); each test gets
its own namespace and its own operator process(es), with stderr in a file printed on failure.
Each test deletes its Pipelines while its operator still runs (the finalizer needs it).

  /usr/bin/python3 tests/operator/operator_e2e_test.py \\
      --binary build/bin/aidi-devcluster --operator build/bin/aidi-operator [-k pattern]
Environment: AIDI_OPERATOR (binary), AIDI_OPERATOR_LOG_LEVEL (default info).
Exit code 77 (skipped) when kubectl or the python yaml module is absent.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "devcluster"))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import poll  # noqa: E402
from kubelet import Kubelet, Recorder  # noqa: E402

try:
    import yaml  # noqa: F401  (the harness reads the kubeconfig with it; Debian's python3-yaml)
except ImportError:
    print("SKIP: python yaml module not installed (run with Debian's /usr/bin/python3)", file=sys.stderr)
    sys.exit(harness.SKIP)
if shutil.which("kubectl") is None:
    print("SKIP: kubectl is not installed", file=sys.stderr)
    sys.exit(harness.SKIP)

OPERATOR = None  # set in __main__
LOG_LEVEL = os.environ.get("AIDI_OPERATOR_LOG_LEVEL", "info")
GROUP = "/apis/aidi.dev/v1alpha1"

# Test nodes the kubelet binds to: two sites (EdgeSites with the default selector, i.e. the
# aidi.dev/site label), GPU Feature Discovery labels, allocatable GPUs, Ready.
NODES = [
    {"name": "cloud-a-1", "site": "cloud-a", "gpu": "NVIDIA-H100-80GB-HBM3", "mem": 81559, "count": 4},
    {"name": "cloud-a-2", "site": "cloud-a", "gpu": "NVIDIA-H100-80GB-HBM3", "mem": 81559, "count": 4},
    {"name": "edge-b-1", "site": "edge-b", "gpu": "NVIDIA-L4", "mem": 23034, "count": 2},
    {"name": "edge-b-2", "site": "edge-b", "gpu": "NVIDIA-L4", "mem": 23034, "count": 2},
]
SITES = {"cloud-a": "Cloud", "edge-b": "Edge"}
for _n in NODES:
    _n["labels"] = {"aidi.dev/site": _n["site"], "kubernetes.io/hostname": _n["name"],
                    "nvidia.com/gpu.product": _n["gpu"], "nvidia.com/gpu.memory": str(_n["mem"]),
                    "nvidia.com/gpu.count": str(_n["count"])}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_object(name, labels, gpus, ready=True, gpu_product=None, gpu_mem=None):
    labels = dict(labels)
    labels.setdefault("kubernetes.io/hostname", name)
    if gpu_product:
        labels["nvidia.com/gpu.product"] = gpu_product
        labels["nvidia.com/gpu.memory"] = str(gpu_mem)
        labels["nvidia.com/gpu.count"] = str(gpus)
    res = {"cpu": "16", "memory": "64Gi", "pods": "110", "nvidia.com/gpu": str(gpus)}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "status": {"capacity": res, "allocatable": res,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                       "reason": "KubeletReady" if ready else "KubeletNotReady",
                                       "message": "fake", "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                                       "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}


def cond(obj, type_):
    for c in (obj or {}).get("status", {}).get("conditions", []) or []:
        if c.get("type") == type_:
            return c
    return None


def parse_time(text):
    """RFC 3339 (as Kubernetes writes it) to seconds since the epoch."""
    import datetime
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def stage_status(obj, stage):
    for s in (obj or {}).get("status", {}).get("stages", []) or []:
        if s.get("name") == stage:
            return s
    return None


def image_stage(name, deps=None, **kw):
    s = {"name": name, "image": "busybox:1.36", "command": ["sh", "-c", "echo %s" % name]}
    if deps:
        s["dependsOn"] = deps
    s.update(kw)
    return s


class OperatorProcess:
    """One aidi-operator process; stderr (its structured log) goes to a file."""

    def __init__(self, dc, *args, name="op", kubeconfig=None):
        self.tmp = tempfile.mkdtemp(prefix="aidi-operator-%s." % name)
        self.name = name
        self.log_path = os.path.join(self.tmp, "stderr")
        self.health_port = free_port()
        self.metrics_port = free_port()
        self.cmd = [OPERATOR, "--kubeconfig", kubeconfig or dc.kubeconfig,
                    "--health-addr", "127.0.0.1:%d" % self.health_port,
                    "--metrics-addr", "127.0.0.1:%d" % self.metrics_port,
                    "--log-level", LOG_LEVEL] + list(args)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.exit_code = None

    def http_get(self, port, path, timeout=2):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")

    def wait_healthy(self, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("operator %s exited with %s at start:\n%s"
                                     % (self.name, self.proc.returncode, self.log_tail()))
            try:
                if self.http_get(self.health_port, "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("operator %s: /healthz not 200 within %ss:\n%s"
                                     % (self.name, timeout, self.log_tail()))
            time.sleep(0.05)

    def lease_identity(self):
        """The identity it competes for the lease with (its "waiting for the leader lease" line)."""
        for line in self.log_text().splitlines():
            if "waiting for the leader lease" in line:
                m = re.search(r'\bidentity=("(?:[^"\\]|\\.)*"|\S+)', line)
                if m:
                    return m.group(1).strip('"')
        return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
            self.exit_code = self.proc.returncode

    def stop(self, timeout=10):
        """SIGTERM and wait; returns the exit code (SIGKILL and None after `timeout`)."""
        if self.proc is None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_code = None
                return None
        self.exit_code = self.proc.returncode
        return self.exit_code

    def log_text(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_tail(self, n=60):
        return "\n".join(self.log_text().splitlines()[-n:])

    def close(self):
        self.kill9()
        self.log.close()
        if not os.environ.get("DC_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)


class OperatorTest(unittest.TestCase):
    dc = None

    @classmethod
    def setUpClass(cls):
        cls.dc = harness.DevCluster("--enable-faults", name="operator").start()
        cls.env = dict(os.environ, KUBECONFIG=cls.dc.kubeconfig)
        cls.kubectl_ok("apply", "-f", os.path.join(harness.REPO, "crds"))
        cls.kubectl_ok("wait", "--for=condition=Established", "crd/pipelines.aidi.dev",
                       "crd/edgesites.aidi.dev", "--timeout=30s")
        for n in NODES:
            cls.create_node(node_object(n["name"], {"aidi.dev/site": n["site"]}, n["count"],
                                        gpu_product=n["gpu"], gpu_mem=n["mem"]))
        for site, type_ in SITES.items():
            cls.dc.ok("POST", GROUP + "/edgesites", {
                "apiVersion": "aidi.dev/v1alpha1", "kind": "EdgeSite", "metadata": {"name": site},
                "spec": {"type": type_, "link": {"latencyMs": 1 if type_ == "Cloud" else 20}}})
        cls.namespaces = 0

    @classmethod
    def tearDownClass(cls):
        if cls.dc is not None:
            cls.dc.cleanup()

    @classmethod
    def kubectl(cls, *args, timeout=60):
        return subprocess.run(["kubectl"] + list(args), env=cls.env, capture_output=True, text=True,
                              timeout=timeout)

    @classmethod
    def kubectl_ok(cls, *args, timeout=60):
        r = cls.kubectl(*args, timeout=timeout)
        if r.returncode != 0:
            raise AssertionError("kubectl %s -> %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    @classmethod
    def create_node(cls, node):
        created = cls.dc.ok("POST", "/api/v1/nodes", node)
        if created.get("status", {}).get("allocatable") != node["status"]["allocatable"]:
            created["status"] = node["status"]
            cls.dc.ok("PUT", "/api/v1/nodes/%s/status" % node["metadata"]["name"], created)
        return created

    # -- per test -----------------------------------------------------------------------------
    def setUp(self):
        self.ops = []
        self.kubelets = []
        self.recorders = []
        self.my_namespaces = []

    def tearDown(self):
        for k in self.kubelets + self.recorders:
            k.stop()
        live = any(op.alive() for op in self.ops)
        for ns in self.my_namespaces:
            try:
                if live:
                    for p in self.pipelines(ns):
                        self.dc.request("DELETE", self.pl_path(ns, p["metadata"]["name"]))
                    deadline = time.monotonic() + 10
                    while self.pipelines(ns) and time.monotonic() < deadline:
                        time.sleep(0.05)
                for p in self.pipelines(ns):  # no operator to run the finalizer: drop it
                    name = p["metadata"]["name"]
                    self.dc.request("PATCH", self.pl_path(ns, name), {"metadata": {"finalizers": None}})
                    self.dc.request("DELETE", self.pl_path(ns, name))
            except (OSError, AssertionError):
                pass
        for op in self.ops:
            op.stop()
            op.close()

    def _callTestMethod(self, method):
        t0 = time.monotonic()
        try:
            method()
        except BaseException:
            self.dump_diagnostics()
            raise
        finally:
            print("(%.1fs) " % (time.monotonic() - t0), end="", file=sys.stderr, flush=True)

    def dump_diagnostics(self):
        out = ["", "=" * 30 + " diagnostics for %s " % self.id() + "=" * 30]
        for op in self.ops:
            out.append("--- operator %s (pid %d, exit %s) log tail:" % (op.name, op.pid, op.proc.poll()))
            out.append(op.log_tail(80))
        for k in self.kubelets:
            out.append("--- kubelet (%s): errors %r" % (k.ns, k.errors[-5:]))
            out.append("    last pod events: %r" % (k.records[-25:],))
        for ns in self.my_namespaces:
            try:
                for p in self.pipelines(ns):
                    out.append("--- pipeline %s/%s status: %s" % (ns, p["metadata"]["name"],
                                                                  json.dumps(p.get("status"))[:3000]))
            except Exception as e:  # noqa: BLE001
                out.append("(could not list pipelines: %r)" % e)
        print("\n".join(out), file=sys.stderr)

    def namespace(self):
        type(self).namespaces += 1
        name = "%s-%d" % (self._testMethodName.replace("_", "-")[5:40].strip("-"), self.namespaces)
        self.dc.ok("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
        self.my_namespaces.append(name)
        return name

    def operator(self, *args, name=None, wait=True):
        op = OperatorProcess(self.dc, *args, name=name or "op%d" % (len(self.ops) + 1))
        self.ops.append(op)
        if wait:
            op.wait_healthy()
        return op

    def kubelet(self, ns, nodes=None, **kw):
        k = Kubelet(self.dc, ns, nodes or NODES, **kw)
        self.kubelets.append(k)
        return k.start()

    def recorder(self, ns):
        """Records every event of the namespace's Pipelines (status writes with their rv)."""
        r = Recorder(self.dc, self.pl_path(ns))
        self.recorders.append(r)
        return r.start()

    # -- pipelines ----------------------------------------------------------------------------
    @staticmethod
    def pl_path(ns, name=""):
        return GROUP + "/namespaces/%s/pipelines%s" % (ns, "/" + name if name else "")

    def pipelines(self, ns):
        return self.dc.ok("GET", self.pl_path(ns))["items"]

    def create_pipeline(self, ns, name, stages, **spec):
        spec = dict(spec, stages=stages)
        return self.dc.ok("POST", self.pl_path(ns), {
            "apiVersion": "aidi.dev/v1alpha1", "kind": "Pipeline",
            "metadata": {"name": name, "namespace": ns}, "spec": spec})

    def get_pipeline(self, ns, name):
        r = self.dc.get(self.pl_path(ns, name))
        if r.status == 404:
            return None
        if r.status != 200:
            raise AssertionError("GET pipeline %s/%s -> %r" % (ns, name, r))
        return r.json

    def wait_pipeline(self, ns, name, pred, timeout=20, what=None):
        """Polls the Pipeline until pred(p); on timeout the failure shows its last status."""
        last = [None]

        def check():
            p = self.get_pipeline(ns, name)
            last[0] = p
            return p if p is not None and pred(p) else None
        try:
            return poll(check, timeout=timeout, interval=0.05, what=what or "pipeline %s/%s" % (ns, name))
        except AssertionError as e:
            st = (last[0] or {}).get("status") if last[0] is not None else "(pipeline does not exist)"
            raise AssertionError("%s\n  last status: %s" % (e, json.dumps(st)[:4000])) from None

    def wait_phase(self, ns, name, phase, timeout=20):
        return self.wait_pipeline(ns, name, lambda p: p.get("status", {}).get("phase") == phase,
                                  timeout=timeout, what="pipeline %s/%s phase %s" % (ns, name, phase))

    def pods(self, ns, selector=None):
        path = "/api/v1/namespaces/%s/pods" % ns
        if selector:
            path += "?labelSelector=" + selector
        return self.dc.ok("GET", path)["items"]

    def events(self, ns, name):
        """Events about the Pipeline `name`, from core/v1 and events.k8s.io/v1 alike."""
        out = []
        for e in self.dc.ok("GET", "/api/v1/namespaces/%s/events" % ns)["items"]:
            if e.get("involvedObject", {}).get("name") == name:
                out.append(e)
        r = self.dc.get("/apis/events.k8s.io/v1/namespaces/%s/events" % ns)
        if r.status == 200:
            for e in r.json["items"]:
                if e.get("regarding", {}).get("name") == name and e not in out:
                    out.append(e)
        return out

    def assert_dag_order(self, k, pipeline, stages):
        """Every pod was created (rv) after every dependency's pod Succeeded (rv)."""
        for s in stages:
            mine = k.stage_pods(s["name"])
            self.assertTrue(mine, "stage %s has no pod" % s["name"])
            created_rv = k.created[mine[0]][0]
            for d in s.get("dependsOn", []):
                dep = "%s-%s-1" % (pipeline, d)
                self.assertIn(dep, k.finished, "dependency pod %s never finished" % dep)
                fin_rv, _, phase = k.finished[dep]
                self.assertEqual(phase, "Succeeded")
                self.assertGreater(created_rv, fin_rv, "%s (rv %d) created before %s Succeeded (rv %d)"
                                   % (mine[0], created_rv, dep, fin_rv))

    def assert_succeeded(self, p, total):
        st = p["status"]
        self.assertEqual(st.get("phase"), "Succeeded", st)
        self.assertEqual(st.get("progress"), "%d/%d" % (total, total))
        self.assertEqual((cond(p, "Complete") or {}).get("status"), "True", st.get("conditions"))
        self.assertEqual((cond(p, "Succeeded") or {}).get("status"), "True", st.get("conditions"))
        self.assertEqual((cond(p, "Accepted") or {}).get("status"), "True", st.get("conditions"))
        self.assertNotEqual((cond(p, "Failed") or {}).get("status"), "True", st.get("conditions"))
        self.assertTrue(st.get("startedAt"), st)
        self.assertTrue(st.get("finishedAt"), st)
        self.assertEqual(st.get("observedGeneration"), p["metadata"].get("generation"))
        self.assertEqual(st.get("counts", {}).get("succeeded"), total, st.get("counts"))
        self.assertEqual(st.get("counts", {}).get("total"), total, st.get("counts"))

    # ==========================================================================================
    # 1. DAG order
    # ==========================================================================================
    def test_01_dag_diamond_and_pod_contract(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, run_seconds=0.3)
        stages = [
            {"name": "a", "op": "convert", "params": {"csv": {"header": True, "delimiter": ","}},
             "inputs": [{"uri": "s3://bucket/sales.csv", "bytes": 1000000}],
             "resources": {"cpu": "1", "memory": "1Gi", "gpu": {"count": 1, "model": "NVIDIA-H100-80GB-HBM3"}},
             "work": {"gpuSeconds": 30}},
            {"name": "b", "dependsOn": ["a"], "op": "filter", "params": {"where": "amount > 0"}},
            image_stage("c", ["a"], env=[{"name": "MODE", "value": "fast"}], args=["--x", "1"]),
            {"name": "d", "dependsOn": ["b", "c"], "op": "groupby", "params": {"keys": ["id"], "aggs": {"n": "count()"}}},
        ]
        self.create_pipeline(ns, "dia", stages, objective="MinCost")
        p = self.wait_phase(ns, "dia", "Succeeded", timeout=30)
        self.assert_succeeded(p, 4)
        self.assert_dag_order(k, "dia", stages)
        self.assertEqual(k.pod_names(), ["dia-a-1", "dia-b-1", "dia-c-1", "dia-d-1"])
        # b and c ran side by side: both were created before either finished.
        self.assertLess(max(k.created["dia-b-1"][0], k.created["dia-c-1"][0]),
                        min(k.finished["dia-b-1"][0], k.finished["dia-c-1"][0]))
        r = self.kubectl("wait", "--for=condition=Complete", "aip/dia", "-n", ns, "--timeout=30s")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        # Stage status: attempts, pod, node, site, placement copied from the pod's annotation.
        for s in stages:
            ss = stage_status(p, s["name"])
            self.assertIsNotNone(ss, s["name"])
            self.assertEqual(ss.get("phase"), "Succeeded", ss)
            self.assertEqual(ss.get("attempts"), 1, ss)
            self.assertEqual(ss.get("podName"), "dia-%s-1" % s["name"], ss)
            pod = self.dc.ok("GET", "/api/v1/namespaces/%s/pods/dia-%s-1" % (ns, s["name"]))
            self.assertEqual(ss.get("node"), pod["spec"]["nodeName"], ss)
            site = next(n["site"] for n in NODES if n["name"] == pod["spec"]["nodeName"])
            self.assertEqual(ss.get("site"), site, ss)
            self.assertEqual(ss.get("placement"), json.loads(pod["metadata"]["annotations"]["aidi.dev/placement"]))
            self.assertTrue(ss.get("startedAt") and ss.get("finishedAt"), ss)

        # The pod contract.
        pl = self.get_pipeline(ns, "dia")
        a = self.dc.ok("GET", "/api/v1/namespaces/%s/pods/dia-a-1" % ns)
        md = a["metadata"]
        self.assertEqual(md["labels"].get("aidi.dev/pipeline"), "dia")
        self.assertEqual(md["labels"].get("aidi.dev/stage"), "a")
        self.assertEqual(md["labels"].get("aidi.dev/attempt"), "1")
        owners = [o for o in md.get("ownerReferences", []) if o.get("controller")]
        self.assertEqual(len(owners), 1, md.get("ownerReferences"))
        self.assertEqual((owners[0]["kind"], owners[0]["name"], owners[0]["uid"], owners[0]["apiVersion"]),
                         ("Pipeline", "dia", pl["metadata"]["uid"], "aidi.dev/v1alpha1"))
        self.assertEqual(a["spec"].get("schedulerName"), "aidi-scheduler")
        self.assertEqual(a["spec"].get("restartPolicy"), "Never")
        c0 = a["spec"]["containers"][0]
        self.assertEqual(c0["image"], "aidi/worker:latest")
        # Pod security (docs/design.md): non-root, read-only root, no escalation, no capabilities,
        # RuntimeDefault seccomp, a writable /tmp, no service account token.
        psc, csc = a["spec"].get("securityContext", {}), c0.get("securityContext", {})
        self.assertTrue(psc.get("runAsNonRoot") or csc.get("runAsNonRoot"), (psc, csc))
        self.assertEqual(csc.get("runAsUser", psc.get("runAsUser")), 65532, (psc, csc))
        self.assertIs(csc.get("readOnlyRootFilesystem"), True, csc)
        self.assertIs(csc.get("allowPrivilegeEscalation"), False, csc)
        self.assertEqual(csc.get("capabilities", {}).get("drop"), ["ALL"], csc)
        self.assertEqual((csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type"), "RuntimeDefault")
        self.assertIs(a["spec"].get("automountServiceAccountToken"), False)
        tmp = [m for m in c0.get("volumeMounts", []) if m.get("mountPath") == "/tmp"]
        self.assertEqual(len(tmp), 1, c0.get("volumeMounts"))
        vol = [v for v in a["spec"].get("volumes", []) if v["name"] == tmp[0]["name"]]
        self.assertIn("emptyDir", vol[0], vol)
        for c in pl["status"]["conditions"]:
            self.assertEqual(c.get("observedGeneration"), pl["metadata"]["generation"], c)
        self.assertEqual(str(c0["resources"]["limits"].get("nvidia.com/gpu")), "1", c0["resources"])
        self.assertEqual(str(c0["resources"]["requests"].get("nvidia.com/gpu", "1")), "1", c0["resources"])
        demand = json.loads(md["annotations"]["aidi.dev/demand"])
        self.assertIsInstance(demand, dict)
        self.assertEqual(demand.get("gpuModel"), "NVIDIA-H100-80GB-HBM3", demand)
        self.assertEqual(demand.get("objective"), "MinCost", demand)
        self.assertEqual(c0["command"], ["aidi-worker"])
        args = c0["args"]
        self.assertEqual(args[:3], ["run", "--op", "convert"], args)
        self.assertEqual(json.loads(args[args.index("--params") + 1]), {"csv": {"header": True, "delimiter": ","}})
        self.assertEqual(args[args.index("--output") + 1], "/workspace/dia/a/out.parquet", args)
        self.assertEqual(args[args.index("--input") + 1], "s3://bucket/sales.csv", args)
        # d reads both upstream outputs by default.
        d_args = self.dc.ok("GET", "/api/v1/namespaces/%s/pods/dia-d-1" % ns)["spec"]["containers"][0]["args"]
        inputs = [d_args[i + 1] for i, x in enumerate(d_args[:-1]) if x == "--input"]
        self.assertEqual(sorted(inputs), ["/workspace/dia/b/out.parquet", "/workspace/dia/c/out.parquet"], d_args)
        self.assertEqual(d_args[d_args.index("--output") + 1], "/workspace/dia/d/out.parquet", d_args)
        # A custom stage runs its own image, command, args and env.
        c = self.dc.ok("GET", "/api/v1/namespaces/%s/pods/dia-c-1" % ns)["spec"]["containers"][0]
        self.assertEqual(c["image"], "busybox:1.36")
        self.assertEqual(c["command"], ["sh", "-c", "echo c"])
        self.assertEqual(c.get("args"), ["--x", "1"])
        self.assertIn({"name": "MODE", "value": "fast"}, c.get("env", []))

    def test_01b_dag_fan_out(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, run_seconds=0.3)
        stages = [image_stage("a")] + [image_stage(x, ["a"]) for x in "bcde"]
        self.create_pipeline(ns, "fan", stages)
        p = self.wait_phase(ns, "fan", "Succeeded", timeout=30)
        self.assert_succeeded(p, 5)
        self.assert_dag_order(k, "fan", stages)
        self.assertEqual(len(k.pod_names()), 5, k.pod_names())
        # No parallelism limit: all four were created before any of them finished.
        last_created = max(k.created["fan-%s-1" % x][0] for x in "bcde")
        first_finished = min(k.finished["fan-%s-1" % x][0] for x in "bcde")
        self.assertLess(last_created, first_finished)
        r = self.kubectl("wait", "--for=condition=Complete", "aip/fan", "-n", ns, "--timeout=30s")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    # ==========================================================================================
    # 2. parallelism
    # ==========================================================================================
    def test_02_parallelism(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, run_seconds=0.4)
        self.create_pipeline(ns, "par", [image_stage("s%d" % i) for i in range(5)], parallelism=2)
        p = self.wait_phase(ns, "par", "Succeeded", timeout=30)
        self.assert_succeeded(p, 5)
        self.assertEqual(len(k.pod_names()), 5)
        self.assertLessEqual(k.max_active, 2, "more than 2 unfinished pods at once: %s" % k.active_at_max)
        self.assertEqual(k.max_active, 2, "parallelism 2 was never used")

    # ==========================================================================================
    # 3. retries with backoff, events
    # ==========================================================================================
    def test_03_retry_with_backoff(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, outcomes={"a": ["fail", "fail", "succeed"]}, align_failures=True)
        rec = self.recorder(ns)
        self.create_pipeline(ns, "rt", [image_stage("a", retry={
            "limit": 2, "backoff": {"initialSeconds": 1, "factor": 2, "maxSeconds": 10}})])
        p = self.wait_phase(ns, "rt", "Succeeded", timeout=30)
        self.assert_succeeded(p, 1)
        self.assertEqual(k.stage_pods("a"), ["rt-a-1", "rt-a-2", "rt-a-3"])
        self.assertEqual(stage_status(p, "a").get("attempts"), 3, stage_status(p, "a"))
        self.assertEqual(stage_status(p, "a").get("podName"), "rt-a-3")
        gap1 = k.created["rt-a-2"][1] - k.finished["rt-a-1"][1]
        gap2 = k.created["rt-a-3"][1] - k.finished["rt-a-2"][1]
        self.assertGreaterEqual(gap1, 0.9, "retry 1 came %.2fs after the failure (backoff 1s)" % gap1)
        self.assertLessEqual(gap1, 1.2 + 3.0, "retry 1 came %.2fs after the failure" % gap1)
        self.assertGreaterEqual(gap2, 1.9, "retry 2 came %.2fs after the failure (backoff 2s)" % gap2)
        self.assertLessEqual(gap2, 2.4 + 3.0, "retry 2 came %.2fs after the failure" % gap2)
        # Between a failure and its retry, status said why and when (written before the retry).
        for failed, retry, backoff in (("rt-a-1", "rt-a-2", 1), ("rt-a-2", "rt-a-3", 2)):
            waiting = [e for e in rec.of("rt") if k.finished[failed][0] < e[0] < k.created[retry][0]
                       and (stage_status(e[2], "a") or {}).get("retryAt")]
            self.assertTrue(waiting, "no status with retryAt between %s failing and %s" % (failed, retry))
            ss = stage_status(waiting[0][2], "a")
            self.assertEqual(ss.get("lastFailure"), "Failed", ss)
            self.assertEqual(ss.get("phase"), "Pending", ss)
            fin = k.pods_finished_at(failed)
            retry_at = parse_time(ss["retryAt"])
            # retryAt has the second resolution of a metav1.Time.
            self.assertGreaterEqual(retry_at - fin, backoff - 1.0, "retryAt %s, failed at %.3f" % (ss["retryAt"], fin))
            self.assertLessEqual(retry_at - fin, backoff * 1.2 + 1.0, "retryAt %s, failed at %.3f" % (ss["retryAt"], fin))

        def reasons():
            return {e.get("reason") for e in self.events(ns, "rt")}
        got = poll(lambda: (lambda r: r if {"StageRetrying", "PipelineSucceeded"} <= r else None)(reasons()),
                   timeout=5, what="StageRetrying and PipelineSucceeded events (have %s)" % reasons())
        self.assertIn("StageRetrying", got)
        self.assertIn("PipelineSucceeded", got)
        out = self.kubectl_ok("get", "events", "-n", ns, "--field-selector", "involvedObject.name=rt")
        self.assertIn("StageRetrying", out)
        self.assertIn("PipelineSucceeded", out)
        self.assertIn("pipeline/rt", out)
        retry = [e for e in self.events(ns, "rt") if e.get("reason") == "StageRetrying"]
        self.assertEqual(retry[0].get("involvedObject", retry[0].get("regarding", {})).get("kind"), "Pipeline")

    # ==========================================================================================
    # 4. retry limit exhausted
    # ==========================================================================================
    def test_04_retry_limit_exhausted(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, outcomes={"b": ["fail"]})
        retry = {"limit": 1, "backoff": {"initialSeconds": 0, "factor": 2, "maxSeconds": 10}}
        self.create_pipeline(ns, "ex", [image_stage("a"), image_stage("b", ["a"], retry=retry),
                                        image_stage("c", ["b"])])
        p = self.wait_phase(ns, "ex", "Failed", timeout=30)
        st = p["status"]
        self.assertEqual(k.stage_pods("b"), ["ex-b-1", "ex-b-2"])
        b = stage_status(p, "b")
        self.assertEqual((b.get("phase"), b.get("attempts"), b.get("lastFailure")), ("Failed", 2, "Failed"), b)
        c = stage_status(p, "c")
        self.assertEqual(c.get("phase"), "Skipped", c)
        self.assertEqual(stage_status(p, "a").get("phase"), "Succeeded")
        self.assertEqual(st.get("progress"), "1/3")
        self.assertEqual((cond(p, "Failed") or {}).get("status"), "True", st.get("conditions"))
        self.assertNotEqual((cond(p, "Complete") or {}).get("status"), "True", st.get("conditions"))
        self.assertNotEqual((cond(p, "Succeeded") or {}).get("status"), "True", st.get("conditions"))
        self.assertTrue(st.get("finishedAt"))
        r = self.kubectl("wait", "--for=condition=Failed", "aip/ex", "-n", ns, "--timeout=30s")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        time.sleep(1.0)
        self.assertEqual(k.stage_pods("c"), [], "a stage downstream of the failure got a pod")
        reasons = {e.get("reason") for e in self.events(ns, "ex")}
        self.assertIn("StageFailed", reasons)
        self.assertIn("PipelineFailed", reasons)

    def test_04b_failure_lets_running_stages_finish(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, outcomes={"a": ["fail"], "b": [("succeed", 2.5)]})
        self.create_pipeline(ns, "ff", [image_stage("a"), image_stage("b"), image_stage("c", ["a"]),
                                        image_stage("d", ["b"])])
        k.wait_finished("ff-a-1")
        p = self.wait_pipeline(ns, "ff", lambda p: (stage_status(p, "a") or {}).get("phase") == "Failed",
                               timeout=10, what="stage a Failed")
        # b still runs: the pipeline has not failed yet, and b's pod is left alone.
        if "ff-b-1" not in k.finished:
            self.assertNotEqual(p["status"].get("phase"), "Failed", "Failed while stage b still ran")
            self.assertNotEqual((cond(p, "Failed") or {}).get("status"), "True")
        p = self.wait_phase(ns, "ff", "Failed", timeout=15)
        self.assertEqual(k.finished["ff-b-1"][2], "Succeeded")
        self.assertNotIn("ff-b-1", k.deleted)
        phases = {s: stage_status(p, s).get("phase") for s in "abcd"}
        # d's dependency succeeded, but failure stops new work: d never starts either.
        self.assertEqual(phases, {"a": "Failed", "b": "Succeeded", "c": "Skipped", "d": "Skipped"})
        self.assertEqual(sorted(k.pod_names()), ["ff-a-1", "ff-b-1"])
        self.assertEqual(p["status"]["counts"].get("skipped"), 2, p["status"]["counts"])
        self.assertEqual(p["status"]["counts"].get("failed"), 1, p["status"]["counts"])
        self.assertEqual(p["status"]["progress"], "1/4")

    # ==========================================================================================
    # 5. cycle rejected, 16. invalid spec
    # ==========================================================================================
    def assert_rejected(self, ns, name, k, *fragments, check_pods=True):
        p = self.wait_pipeline(ns, name, lambda p: (cond(p, "Accepted") or {}).get("status") == "False",
                               timeout=8, what="Accepted=False on %s" % name)
        acc = cond(p, "Accepted")
        self.assertEqual(acc.get("reason"), "InvalidSpec", acc)
        for f in fragments:
            if isinstance(f, (list, tuple)):
                self.assertTrue(any(x in acc.get("message", "") for x in f), "none of %r in %r" % (f, acc))
            else:
                self.assertIn(f, acc.get("message", ""), acc)
        p = self.wait_phase(ns, name, "Failed", timeout=5)
        self.assertEqual((cond(p, "Failed") or {}).get("status"), "True", p["status"].get("conditions"))
        self.assertNotEqual((cond(p, "Complete") or {}).get("status"), "True")
        if check_pods:
            time.sleep(2.0)
            self.assertEqual(k.pod_names(), [], "a rejected pipeline got pods")
            self.assertEqual(self.pods(ns), [])
        r = self.kubectl("wait", "--for=condition=Failed", "aip/" + name, "-n", ns, "--timeout=10s")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return acc

    def test_05_cycle_rejected(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns)
        self.create_pipeline(ns, "cyc", [image_stage("a", ["c"]), image_stage("b", ["a"]),
                                         image_stage("c", ["b"])])
        # a needs c, c needs b, b needs a: the same cycle whichever way the arrows are read.
        rotations = ["a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c",
                     "a -> c -> b -> a", "c -> b -> a -> c", "b -> a -> c -> b"]
        self.assert_rejected(ns, "cyc", k, "cycle", rotations)

    def test_16_invalid_spec(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns)
        # Neither op nor image: the schema's oneOf rejects it where it is enforced (devcluster
        # does); if the server lets it through, the operator must reject it.
        r = self.dc.post(self.pl_path(ns), {"apiVersion": "aidi.dev/v1alpha1", "kind": "Pipeline",
                                            "metadata": {"name": "noop"},
                                            "spec": {"stages": [{"name": "a"}]}})
        self.assertIn(r.status, (201, 422), r)
        cases = [("noop", None, ["op", "image"])] if r.status == 201 else []
        cases += [
            # Rules only CEL states, which devcluster stores but does not evaluate: the operator
            # checks them again (crds/README.md).
            ("cmd", [{"name": "a", "op": "filter", "params": {"where": "x > 1"}, "command": ["sh"]}],
             ["command"]),
            ("prm", [image_stage("a", params={"x": 1})], ["params"]),
            ("self", [image_stage("a", ["a"])], ["a"]),
            ("bko", [image_stage("a", retry={"limit": 1, "backoff": {"initialSeconds": 20, "maxSeconds": 5}})],
             ["maxSeconds"]),
            # What no schema can say: an op the worker does not know, a dependsOn naming no
            # stage, an input that is not upstream.
            ("unk", [{"name": "a", "op": "frobnicate"}], ["frobnicate"]),
            ("dangling", [image_stage("a"), image_stage("b", ["zz"])], ["zz"]),
            ("inp", [image_stage("a"), {"name": "b", "op": "filter", "inputs": [{"stage": "a"}]}], ["a", "b"]),
        ]
        for name, stages, _ in cases:
            if stages is not None:
                self.create_pipeline(ns, name, stages)
        for name, _, fragments in cases:
            with self.subTest(pipeline=name):
                self.assert_rejected(ns, name, k, *fragments, check_pods=False)
        time.sleep(2.0)
        for name, _, _ in cases:
            with self.subTest(pipeline=name, check="no pods"):
                self.assertEqual([n for n in k.pod_names() if n.startswith(name + "-")], [],
                                 "rejected pipeline %s got pods" % name)

    # ==========================================================================================
    # 6., 7. timeouts
    # ==========================================================================================
    def test_06_pending_timeout(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, outcomes={"a": ["bound-pending", ("succeed", 2.0)]})
        rec = self.recorder(ns)
        self.create_pipeline(ns, "pt", [image_stage("a", timeouts={"pendingSeconds": 2}, retry={
            "limit": 1, "backoff": {"initialSeconds": 0, "factor": 2, "maxSeconds": 10}})])
        k.wait_created("pt-a-1")
        first_node = poll(lambda: k.pods.get("pt-a-1", {}).get("spec", {}).get("nodeName"), timeout=5,
                          what="pt-a-1 bound")
        first_site = next(n["site"] for n in NODES if n["name"] == first_node)
        k.wait_created("pt-a-2", timeout=15)
        self.assertIn("pt-a-1", k.deleted, "the pod that timed out was not deleted")
        waited = k.deleted["pt-a-1"][1] - k.created["pt-a-1"][1]
        self.assertGreaterEqual(waited, 1.0, "deleted %.2fs after creation (pendingSeconds 2)" % waited)
        self.assertLessEqual(waited, 2.0 + 5.0, "deleted %.2fs after creation (pendingSeconds 2)" % waited)
        p = self.wait_pipeline(ns, "pt", lambda p: (stage_status(p, "a") or {}).get("lastFailure") == "PendingTimeout",
                               timeout=5, what="lastFailure PendingTimeout")
        self.assertEqual(stage_status(p, "a").get("attempts"), 2, stage_status(p, "a"))
        # The retry avoids the site of the node the first attempt waited on.
        pod2 = self.dc.ok("GET", "/api/v1/namespaces/%s/pods/pt-a-2" % ns)
        exprs = [e for t in pod2["spec"].get("affinity", {}).get("nodeAffinity", {})
                 .get("requiredDuringSchedulingIgnoredDuringExecution", {}).get("nodeSelectorTerms", [])
                 for e in t.get("matchExpressions", [])]
        self.assertIn({"key": "aidi.dev/site", "operator": "NotIn", "values": [first_site]}, exprs,
                      pod2["spec"].get("affinity"))
        p = self.wait_phase(ns, "pt", "Succeeded", timeout=20)
        self.assert_succeeded(p, 1)
        self.assert_recorded_before(rec, "pt", "a", "PendingTimeout", k.deleted["pt-a-1"][0])

    def assert_recorded_before(self, rec, pipeline, stage, failure, rv):
        """Status recorded `failure` on `stage` before the write at `rv` (the pod's deletion)."""
        e = rec.first(pipeline, lambda o: (stage_status(o, stage) or {}).get("lastFailure") == failure)
        self.assertIsNotNone(e, "no status with lastFailure %s" % failure)
        self.assertLess(e[0], rv, "the pod was deleted (rv %d) before status recorded %s (rv %d)" % (rv, failure, e[0]))

    def test_07_active_timeout(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, outcomes={"a": ["hold"]})
        rec = self.recorder(ns)
        self.create_pipeline(ns, "at", [image_stage("a", timeouts={"activeSeconds": 2})])
        k.wait_created("at-a-1")
        p = self.wait_phase(ns, "at", "Failed", timeout=20)
        a = stage_status(p, "a")
        self.assertEqual((a.get("phase"), a.get("lastFailure"), a.get("attempts")), ("Failed", "ActiveTimeout", 1), a)
        self.assertEqual((cond(p, "Failed") or {}).get("status"), "True")
        poll(lambda: "at-a-1" in k.deleted, timeout=5, what="at-a-1 deleted")
        ran = k.deleted["at-a-1"][1] - k.created["at-a-1"][1]
        self.assertGreaterEqual(ran, 1.0, "deleted %.2fs after creation (activeSeconds 2)" % ran)
        self.assertLessEqual(ran, 2.0 + 6.0)
        self.assertEqual(k.stage_pods("a"), ["at-a-1"])
        self.assert_recorded_before(rec, "at", "a", "ActiveTimeout", k.deleted["at-a-1"][0])

    # ==========================================================================================
    # 8. suspend / resume
    # ==========================================================================================
    def test_08_suspend_resume(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns)
        self.create_pipeline(ns, "sus", [image_stage("a"), image_stage("b", ["a"])], suspend=True)
        self.wait_phase(ns, "sus", "Suspended", timeout=10)
        time.sleep(2.5)
        self.assertEqual(k.pod_names(), [], "a suspended pipeline created pods")
        self.assertEqual(self.get_pipeline(ns, "sus")["status"]["phase"], "Suspended")
        self.dc.ok("PATCH", self.pl_path(ns, "sus"), {"spec": {"suspend": False}})
        p = self.wait_phase(ns, "sus", "Succeeded", timeout=20)
        self.assert_succeeded(p, 2)
        self.assertEqual(k.pod_names(), ["sus-a-1", "sus-b-1"])

    def test_08b_suspend_while_running(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns)
        k.frozen.add("a")
        self.create_pipeline(ns, "sr", [image_stage("a"), image_stage("b", ["a"])])
        k.wait_created("sr-a-1")
        self.dc.ok("PATCH", self.pl_path(ns, "sr"), {"spec": {"suspend": True}})
        self.wait_phase(ns, "sr", "Suspended", timeout=10)
        k.frozen.discard("a")  # the running stage finishes ...
        k.wait_finished("sr-a-1")
        self.wait_pipeline(ns, "sr", lambda p: (stage_status(p, "a") or {}).get("phase") == "Succeeded",
                           timeout=10, what="stage a Succeeded while suspended")
        time.sleep(1.5)  # ... but no new one starts
        self.assertNotIn("sr-a-1", k.deleted, "suspend deleted a running pod")
        self.assertEqual(k.pod_names(), ["sr-a-1"], "a suspended pipeline started a stage")
        p = self.get_pipeline(ns, "sr")
        self.assertEqual(p["status"]["phase"], "Suspended")
        self.assertEqual(p["status"]["progress"], "1/2")
        self.dc.ok("PATCH", self.pl_path(ns, "sr"), {"spec": {"suspend": False}})
        p = self.wait_phase(ns, "sr", "Succeeded", timeout=20)
        self.assert_succeeded(p, 2)

    # ==========================================================================================
    # 9. delete with cleanup (finalizer)
    # ==========================================================================================
    def test_09_delete_stops_pods(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, outcomes={"a": ["hold"], "b": ["hold"]})
        self.create_pipeline(ns, "del", [image_stage("a"), image_stage("b")])
        poll(lambda: k.phase("del-a-1") == "Running" and k.phase("del-b-1") == "Running", timeout=10,
             what="both pods Running")
        p = self.wait_pipeline(ns, "del", lambda p: "aidi.dev/stop-pods" in p["metadata"].get("finalizers", [])
                               and p.get("status", {}).get("counts", {}).get("running") == 2,
                               timeout=5, what="finalizer aidi.dev/stop-pods and 2 stages running")
        self.assertEqual(p["status"].get("phase"), "Running")
        self.assertEqual(p["status"].get("progress"), "0/2")
        self.assertEqual((cond(p, "Running") or {}).get("status"), "True", p["status"].get("conditions"))
        self.assertEqual([stage_status(p, s).get("phase") for s in "ab"], ["Running", "Running"])
        for t in ("Complete", "Failed", "Succeeded"):
            self.assertNotEqual((cond(p, t) or {}).get("status"), "True", t)
        rec = self.recorder(ns)
        self.dc.ok("DELETE", self.pl_path(ns, "del"))
        poll(lambda: self.get_pipeline(ns, "del") is None, timeout=15, what="pipeline gone")
        poll(lambda: {"del-a-1", "del-b-1"} <= set(k.deleted), timeout=5, what="stage pods deleted")
        gone = poll(lambda: [e for e in rec.of("del") if e[1] == "DELETED"], timeout=5,
                    what="DELETED event of the pipeline")[0]
        for n in ("del-a-1", "del-b-1"):
            # By the operator (its finalizer), not by garbage collection after the Pipeline went.
            self.assertLess(k.deleted[n][0], gone[0], "%s deleted (rv %d) after the Pipeline went (rv %d)"
                            % (n, k.deleted[n][0], gone[0]))
        self.assertEqual(self.pods(ns), [])

    # ==========================================================================================
    # 10. TTL
    # ==========================================================================================
    def test_10_ttl_after_finished(self):
        ns = self.namespace()
        self.operator()
        self.kubelet(ns)
        self.create_pipeline(ns, "ttl", [image_stage("a")], ttlSecondsAfterFinished=2)
        self.wait_phase(ns, "ttl", "Succeeded", timeout=15)
        done = time.monotonic()
        gone = poll(lambda: time.monotonic() if self.get_pipeline(ns, "ttl") is None else None,
                    timeout=15, interval=0.05, what="pipeline deleted by TTL")
        self.assertGreaterEqual(gone - done, 1.0, "deleted %.2fs after it finished (TTL 2s)" % (gone - done))
        self.assertLessEqual(gone - done, 2.0 + 5.0)
        poll(lambda: self.pods(ns) == [], timeout=10, what="its pods gone with it")

    # ==========================================================================================
    # 11. pod GC
    # ==========================================================================================
    def test_11_pod_gc(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, outcomes={"c": ["fail", "succeed"]})
        retry = {"limit": 1, "backoff": {"initialSeconds": 0, "factor": 2, "maxSeconds": 10}}
        stages = [image_stage("a"), image_stage("b", ["a"]), image_stage("c", ["a"], retry=retry)]
        rec = self.recorder(ns)
        self.create_pipeline(ns, "gcs", stages, podGC={"strategy": "OnPodSuccess"})
        p = self.wait_phase(ns, "gcs", "Succeeded", timeout=20)
        self.assert_succeeded(p, 3)
        self.assertEqual([stage_status(p, s).get("attempts") for s in "abc"], [1, 1, 2])
        for s in "abc":
            self.assertNotEqual(stage_status(p, s).get("lastFailure"), "PodDeleted", stage_status(p, s))
        poll(lambda: sorted(x["metadata"]["name"] for x in self.pods(ns)) == ["gcs-c-1"], timeout=10,
             what="only the failed pod gcs-c-1 left (have %s)" % [x["metadata"]["name"] for x in self.pods(ns)])
        for n in ("gcs-a-1", "gcs-b-1", "gcs-c-2"):
            # Deleted only after status recorded the stage's success.
            stage = n.split("-")[1]
            rec_ok = rec.first("gcs", lambda o: (stage_status(o, stage) or {}).get("phase") == "Succeeded")
            self.assertIsNotNone(rec_ok)
            self.assertGreater(k.deleted[n][0], rec_ok[0], "%s deleted before status recorded its success" % n)
        time.sleep(1.0)
        p = self.get_pipeline(ns, "gcs")
        self.assert_succeeded(p, 3)

        # OnPodCompletion: every finished pod goes, the failed one too, but not while it is the
        # latest attempt of a stage waiting to retry (its failure time drives the backoff).
        retry1 = {"limit": 1, "backoff": {"initialSeconds": 1, "factor": 2, "maxSeconds": 10}}
        stages = [image_stage("a"), image_stage("b", ["a"]), image_stage("c", ["a"], retry=retry1)]
        self.create_pipeline(ns, "gcc", stages, podGC={"strategy": "OnPodCompletion"})
        p = self.wait_phase(ns, "gcc", "Succeeded", timeout=20)
        self.assert_succeeded(p, 3)
        poll(lambda: [x for x in self.pods(ns) if x["metadata"]["labels"].get("aidi.dev/pipeline") == "gcc"] == [],
             timeout=10, what="every gcc pod deleted")
        self.assertGreater(k.deleted["gcc-c-1"][0], k.created["gcc-c-2"][0],
                           "the failed attempt gcc-c-1 was deleted (rv %d, %.2fs after it failed) before its "
                           "retry gcc-c-2 was created (rv %d)" % (k.deleted["gcc-c-1"][0],
                                                                  k.deleted["gcc-c-1"][1] - k.finished["gcc-c-1"][1],
                                                                  k.created["gcc-c-2"][0]))

    # ==========================================================================================
    # 12. kill -9 and adoption
    # ==========================================================================================
    def test_12_kill9_and_adoption(self):
        ns = self.namespace()
        op = self.operator(name="op1")
        k = self.kubelet(ns)
        k.frozen.add("a")
        stages = [image_stage("a"), image_stage("b", ["a"]), image_stage("c", ["b"])]
        self.create_pipeline(ns, "k9", stages)
        k.wait_created("k9-a-1")
        op.kill9()  # (a) right after a's pod was created
        k.frozen.discard("a")
        k.wait_finished("k9-a-1")  # finishes while no operator runs
        k.frozen.add("b")
        op = self.operator(name="op2")
        k.wait_created("k9-b-1", timeout=15)
        op.kill9()
        k.frozen.discard("b")
        k.wait_finished("k9-b-1")  # (b) finishes while the operator is down
        # Adoption: the pod the operator would create next, made by hand while it is down.
        pl = self.get_pipeline(ns, "k9")
        self.dc.ok("POST", "/api/v1/namespaces/%s/pods" % ns, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "k9-c-1", "labels": {"aidi.dev/pipeline": "k9", "aidi.dev/stage": "c",
                                                      "aidi.dev/attempt": "1"},
                         "ownerReferences": [{"apiVersion": "aidi.dev/v1alpha1", "kind": "Pipeline", "name": "k9",
                                              "uid": pl["metadata"]["uid"], "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"schedulerName": "aidi-scheduler",
                     "containers": [{"name": "main", "image": "busybox:1.36", "command": ["true"]}]}})
        time.sleep(0.3)
        self.operator(name="op3")
        p = self.wait_phase(ns, "k9", "Succeeded", timeout=30)
        self.assert_succeeded(p, 3)
        self.assertEqual(k.pod_names(), ["k9-a-1", "k9-b-1", "k9-c-1"])
        self.assertEqual(k.duplicate_names(), {}, "a pod name was created twice")
        for s in "abc":
            self.assertEqual(stage_status(p, s).get("attempts"), 1, stage_status(p, s))
            self.assertEqual(stage_status(p, s).get("podName"), "k9-%s-1" % s)
        self.assert_dag_order(k, "k9", stages)

    # ==========================================================================================
    # 13. status size
    # ==========================================================================================
    def test_13_status_size_500_stages(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, skip_running=True, placement=True, tick=0.01)
        n = 500
        stages = [{"name": "s%03d" % i, "image": "busybox:1.36", "command": ["true"]} for i in range(n)]
        self.create_pipeline(ns, "big", stages, parallelism=100)
        p = self.wait_pipeline(ns, "big", lambda p: p.get("status", {}).get("phase") in ("Succeeded", "Failed"),
                               timeout=120, what="500-stage pipeline finished")
        self.assertEqual(p["status"]["phase"], "Succeeded", p["status"].get("message"))
        self.assertEqual(p["status"]["progress"], "500/500")
        self.assertEqual(len(p["status"]["stages"]), n)
        status_size = len(json.dumps(p["status"], separators=(",", ":")))
        whole = len(self.dc.get(self.pl_path(ns, "big")).body)
        self.assertLess(status_size, 256 * 1024, "status is %d bytes" % status_size)
        self.assertLess(whole, 1024 * 1024, "object is %d bytes" % whole)
        self.assertLessEqual(k.max_active, 100)
        print("\n  500 stages: status %d bytes, object %d bytes" % (status_size, whole), file=sys.stderr)

    # ==========================================================================================
    # 14. printer columns with kubectl
    # ==========================================================================================
    @staticmethod
    def table(text):
        lines = [l for l in text.splitlines() if l.strip()]
        header = lines[0].split()
        return header, [l.split() for l in lines[1:]]

    def test_14_printer_columns(self):
        ns = self.namespace()
        self.operator()
        self.kubelet(ns)
        self.create_pipeline(ns, "cols", [image_stage("a"), image_stage("b", ["a"]), image_stage("c", ["a"]),
                                          image_stage("d", ["b", "c"])])
        p = self.wait_phase(ns, "cols", "Succeeded", timeout=30)
        sites = sorted({stage_status(p, s).get("site") for s in "abcd"})
        header, rows = self.table(self.kubectl_ok("get", "aip", "cols", "-n", ns))
        self.assertEqual(header, ["NAME", "PHASE", "PROGRESS", "SITES", "AGE"])
        self.assertEqual(rows[0][:3], ["cols", "Succeeded", "4/4"], rows)
        for s in sites:
            self.assertIn(s, rows[0][3], "site %s not in SITES %r" % (s, rows[0]))
        out = self.kubectl_ok("get", "aip", "cols", "-n", ns, "-o", "wide")
        header = out.splitlines()[0].split()
        self.assertEqual(header, ["NAME", "PHASE", "PROGRESS", "SITES", "AGE", "MESSAGE"])
        self.assertTrue(p["status"].get("message"), "empty MESSAGE column")

        # EdgeSite roll-up: a site selecting two fresh nodes by a label of its own.
        for i in (1, 2):
            self.create_node(node_object("pool-%d" % i, {"pool": "es-e2e"}, 4, gpu_product="NVIDIA-L4",
                                         gpu_mem=23034))
        self.dc.ok("POST", GROUP + "/edgesites", {
            "apiVersion": "aidi.dev/v1alpha1", "kind": "EdgeSite", "metadata": {"name": "es-pool"},
            "spec": {"type": "Edge", "nodeSelector": {"matchLabels": {"pool": "es-e2e"}},
                     "link": {"latencyMs": 7}}})

        def es_row():
            h, r = self.table(self.kubectl_ok("get", "es", "es-pool"))
            return h, r[0]
        header, _ = es_row()
        self.assertEqual(header, ["NAME", "TYPE", "READY", "GPUS", "LATENCY", "AGE"])
        poll(lambda: es_row()[1][1:5] == ["Edge", "2/2", "8/8", "free"], timeout=15,
             what="es-pool row Edge 2/2 8/8 free 7 (have %r)" % (es_row()[1],))
        self.assertEqual(es_row()[1][5], "7")
        for i in (1, 2):
            poll(lambda: self.dc.ok("GET", "/api/v1/nodes/pool-%d" % i)["metadata"]["labels"].get("aidi.dev/site")
                 == "es-pool", timeout=10, what="pool-%d labelled aidi.dev/site=es-pool" % i)
        # A running pod that holds 2 GPUs on pool-1 (in a namespace the fake kubelet leaves alone).
        all_pods = Recorder(self.dc, "/api/v1/pods")
        self.recorders.append(all_pods)
        all_pods.start()
        ns = self.namespace()
        self.dc.ok("POST", "/api/v1/namespaces/%s/pods" % ns, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gpu-user"},
            "spec": {"nodeName": "pool-1", "containers": [{"name": "m", "image": "x", "resources": {
                "requests": {"nvidia.com/gpu": "2"}, "limits": {"nvidia.com/gpu": "2"}}}]}})
        self.dc.ok("PATCH", "/api/v1/namespaces/%s/pods/gpu-user/status" % ns,
                   {"status": {"phase": "Running", "startTime": "2026-01-01T00:00:00Z"}})
        try:
            poll(lambda: es_row()[1][3] == "6/8", timeout=15, what="GPUS 6/8 free (have %r)" % (es_row()[1],))
        except AssertionError as e:
            seen = [(ev[0], ev[1], ev[2].get("spec", {}).get("nodeName"), ev[2].get("status", {}).get("phase"))
                    for ev in all_pods.of("gpu-user")]
            raise AssertionError("%s\n  a cluster-wide pod watch saw gpu-user as %r\n  es-pool status: %s"
                                 % (e, seen, json.dumps(self.dc.ok("GET", GROUP + "/edgesites/es-pool").get("status"))))
        self.dc.request("DELETE", "/api/v1/namespaces/%s/pods/gpu-user" % ns)
        poll(lambda: es_row()[1][3] == "8/8", timeout=15, what="GPUS 8/8 free again (have %r)" % (es_row()[1],))
        # A node going NotReady.
        n2 = self.dc.ok("GET", "/api/v1/nodes/pool-2")
        n2["status"]["conditions"][0]["status"] = "False"
        self.dc.ok("PUT", "/api/v1/nodes/pool-2/status", n2)
        poll(lambda: es_row()[1][2] == "1/2", timeout=15, what="READY 1/2 (have %r)" % (es_row()[1],))
        es = self.dc.ok("GET", GROUP + "/edgesites/es-pool")
        self.assertEqual(es["status"].get("totalNodes"), 2, es["status"])
        self.assertEqual(es["status"].get("readyNodes"), 1, es["status"])

        # The sites the operator has known since it started stay current too.
        def site_row(name):
            return self.table(self.kubectl_ok("get", "es", name))[1][0]
        self.assertEqual(site_row("cloud-a")[1:5], ["Cloud", "2/2", "8/8", "free"])
        n = self.dc.ok("GET", "/api/v1/nodes/cloud-a-2")
        n["status"]["conditions"][0]["status"] = "False"
        self.dc.ok("PUT", "/api/v1/nodes/cloud-a-2/status", n)
        try:
            poll(lambda: site_row("cloud-a")[2] == "1/2", timeout=15,
                 what="cloud-a READY 1/2 after cloud-a-2 went NotReady (have %r)" % (site_row("cloud-a"),))
        finally:
            n = self.dc.ok("GET", "/api/v1/nodes/cloud-a-2")
            n["status"]["conditions"][0]["status"] = "True"
            self.dc.ok("PUT", "/api/v1/nodes/cloud-a-2/status", n)
        poll(lambda: site_row("cloud-a")[2] == "2/2", timeout=15, what="cloud-a READY 2/2 again")

    # ==========================================================================================
    # 15. leader election
    # ==========================================================================================
    def lease(self, ns, name):
        r = self.dc.get("/apis/coordination.k8s.io/v1/namespaces/%s/leases/%s" % (ns, name))
        return r.json if r.status == 200 else None

    def test_15_leader_election(self):
        ns = self.namespace()
        args = ["--leader-elect", "--leader-election-namespace", ns, "--leader-election-id", "aidi-op-e2e"]
        a = self.operator(*args, name="A")
        b = self.operator(*args, name="B")
        holder = poll(lambda: (self.lease(ns, "aidi-op-e2e") or {}).get("spec", {}).get("holderIdentity"),
                      timeout=20, what="lease aidi-op-e2e held")
        time.sleep(1.0)

        def leader_of(identity):
            cands = [op for op in (a, b) if op.lease_identity() == identity]
            return cands[0] if len(cands) == 1 else None
        leader = leader_of(holder)
        self.assertIsNotNone(leader, "holderIdentity %r is neither operator's identity (%r, %r)"
                             % (holder, a.lease_identity(), b.lease_identity()))
        other = b if leader is a else a
        k = self.kubelet(ns)
        k.frozen.add("b")
        stages = [image_stage("a"), image_stage("b", ["a"]), image_stage("c", ["b"])]
        self.create_pipeline(ns, "le", stages)
        k.wait_created("le-b-1", timeout=15)
        time.sleep(0.5)
        # Only the leader acts: the follower never started its controllers.
        self.assertIn("starting controllers", leader.log_text())
        self.assertNotIn("starting controllers", other.log_text(), "the follower started its controllers")
        leader.kill9()
        t0 = time.monotonic()
        k.frozen.discard("b")
        new_holder = poll(lambda: (lambda h: h if h and h != holder else None)(
            (self.lease(ns, "aidi-op-e2e") or {}).get("spec", {}).get("holderIdentity")),
            timeout=30, interval=0.1, what="the other operator takes the lease")
        took = time.monotonic() - t0
        # lease 15 s, then the next try (retry period 2 s stretched by up to 2.2).
        self.assertLessEqual(took, 22.0, "takeover took %.1fs" % took)
        poll(lambda: "starting controllers" in other.log_text(), timeout=5, what="the new leader starts")
        self.assertIs(leader_of(new_holder), other)
        p = self.wait_phase(ns, "le", "Succeeded", timeout=30)
        self.assert_succeeded(p, 3)
        self.assertEqual(k.pod_names(), ["le-a-1", "le-b-1", "le-c-1"])
        self.assertEqual(k.duplicate_names(), {})

    # ==========================================================================================
    # pods deleted behind the operator's back; no writes while nothing changes
    # ==========================================================================================
    def test_18_pod_deleted(self):
        ns = self.namespace()
        op = self.operator(name="op1")
        k = self.kubelet(ns, outcomes={"a": ["hold", "succeed"], "b": ["hold", "succeed"]})
        retry = {"limit": 1, "backoff": {"initialSeconds": 0, "factor": 2, "maxSeconds": 10}}
        self.create_pipeline(ns, "pd", [image_stage("a", retry=retry), image_stage("b", retry=retry)])
        self.wait_pipeline(ns, "pd", lambda p: p.get("status", {}).get("counts", {}).get("running") == 2,
                           timeout=10, what="both stages running")
        # While the operator runs: its watch sees the deletion.
        self.dc.ok("DELETE", "/api/v1/namespaces/%s/pods/pd-a-1" % ns)
        p = self.wait_pipeline(ns, "pd", lambda p: (stage_status(p, "a") or {}).get("lastFailure") == "PodDeleted",
                               timeout=10, what="stage a lastFailure PodDeleted")
        # While it is down: on restart the status says b is in flight, its pod is gone.
        op.kill9()
        self.dc.ok("DELETE", "/api/v1/namespaces/%s/pods/pd-b-1" % ns)
        self.operator(name="op2")
        p = self.wait_pipeline(ns, "pd", lambda p: (stage_status(p, "b") or {}).get("lastFailure") == "PodDeleted",
                               timeout=10, what="stage b lastFailure PodDeleted after a restart")
        p = self.wait_phase(ns, "pd", "Succeeded", timeout=15)
        self.assert_succeeded(p, 2)
        self.assertEqual(sorted(k.pod_names()), ["pd-a-1", "pd-a-2", "pd-b-1", "pd-b-2"])
        self.assertEqual([stage_status(p, s).get("attempts") for s in "ab"], [2, 2])

    def test_19_no_writes_while_nothing_changes(self):
        ns = self.namespace()
        self.operator()
        k = self.kubelet(ns, outcomes={"b": ["hold"]})
        rec = self.recorder(ns)
        self.create_pipeline(ns, "q", [image_stage("a"), image_stage("b", ["a"]), image_stage("c", ["b"])])
        self.wait_pipeline(ns, "q", lambda p: (stage_status(p, "b") or {}).get("phase") == "Running",
                           timeout=10, what="stage b Running")
        time.sleep(0.5)
        n = len(rec.of("q"))
        time.sleep(3.0)
        extra = rec.of("q")[n:]
        self.assertEqual(extra, [], "%d Pipeline writes while stage b just ran" % len(extra))
        k.outcomes["b"] = ["succeed"]
        p = self.wait_phase(ns, "q", "Succeeded", timeout=15)
        self.assert_succeeded(p, 3)
        # The whole run: one status write per stage start, run and end at most, plus a few for the
        # finalizer, acceptance and the end (docs/design.md, "Each reconcile is a pure plan").
        writes = [e for e in rec.of("q") if e[1] == "MODIFIED"]
        self.assertLessEqual(len(writes), 3 * 3 + 4, "%d writes for 3 stages" % len(writes))
        time.sleep(0.5)
        n = len(rec.of("q"))
        time.sleep(2.0)
        self.assertEqual(rec.of("q")[n:], [], "Pipeline writes after it finished")
        print("\n  3-stage chain: %d Pipeline writes" % len(writes), file=sys.stderr)

    # ==========================================================================================
    # misc: health, metrics, SIGTERM
    # ==========================================================================================
    def test_17_flags_health_metrics_sigterm(self):
        ns = self.namespace()
        other = self.namespace()
        op = self.operator("--namespace", ns, "--scheduler-name", "my-sched", "--worker-image", "reg.test/w:9")
        k = self.kubelet(ns)
        k_other = self.kubelet(other)
        self.create_pipeline(other, "elsewhere", [image_stage("a")])
        self.create_pipeline(ns, "hm", [{"name": "a", "op": "filter", "params": {"where": "x > 1"}}])
        self.wait_phase(ns, "hm", "Succeeded", timeout=15)
        pod = self.dc.ok("GET", "/api/v1/namespaces/%s/pods/hm-a-1" % ns)
        self.assertEqual(pod["spec"]["schedulerName"], "my-sched")
        self.assertEqual(pod["spec"]["containers"][0]["image"], "reg.test/w:9")
        # --namespace: a Pipeline elsewhere is left alone (no status, no finalizer, no pods).
        time.sleep(1.0)
        p = self.get_pipeline(other, "elsewhere")
        self.assertEqual(p.get("status") or {}, {}, "a pipeline outside --namespace got a status")
        self.assertEqual(p["metadata"].get("finalizers") or [], [])
        self.assertEqual(k_other.pod_names(), [])
        self.assertEqual(k.pod_names(), ["hm-a-1"])
        self.assertEqual(op.http_get(op.health_port, "/healthz")[0], 200)
        self.assertEqual(poll(lambda: op.http_get(op.health_port, "/readyz")[0] == 200, timeout=10,
                              what="/readyz 200"), True)
        status, body = op.http_get(op.metrics_port, "/metrics")
        self.assertEqual(status, 200)
        self.assertRegex(body, re.compile(r"^# (HELP|TYPE) ", re.M))
        # Delete the pipeline first (its finalizer needs the operator), then stop it.
        self.dc.ok("DELETE", self.pl_path(ns, "hm"))
        poll(lambda: self.get_pipeline(ns, "hm") is None, timeout=10, what="pipeline gone")
        self.assertEqual(op.stop(timeout=10), 0, "exit code on SIGTERM\n" + op.log_tail())

    def test_18_sigterm_while_the_api_server_is_unreachable(self):
        """List retries against an unreachable API server (~20 s of backoff in all) must not
        hold up SIGTERM: workers get 5 s to finish, then the client is shut down. Before, the
        operator exited only after 23 s."""
        path = os.path.join(tempfile.mkdtemp(prefix="aidi-unreachable."), "kubeconfig")
        with open(path, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                    "    server: https://127.0.0.1:%d\n    insecure-skip-tls-verify: true\n"
                    "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n"
                    "  context: {cluster: c, user: u}\ncurrent-context: x\n" % free_port())
        op = OperatorProcess(self.dc, name="unreachable", kubeconfig=path)
        self.ops.append(op)
        op.wait_healthy()
        time.sleep(2)  # the first lists fail: each watcher is in a retry wait
        self.assertEqual(op.stop(timeout=12), 0,
                         "still waiting out its retries 12 s after SIGTERM\n" + op.log_tail())
        self.assertIn("cutting its requests short", op.log_text())


if __name__ == "__main__":
    harness.BINARY = harness.take_binary_arg(sys.argv)
    OPERATOR = os.path.abspath(harness.take_arg(sys.argv, "--operator") or os.environ.get("AIDI_OPERATOR")
                               or os.path.join(harness.REPO, "build", "bin", "aidi-operator"))
    for what, path in (("devcluster", harness.BINARY), ("operator", OPERATOR)):
        if not os.access(path, os.X_OK):
            print("FAIL: %s binary not found or not executable: %s" % (what, path), file=sys.stderr)
            sys.exit(1)
    prog = unittest.main(module=__name__, exit=False, verbosity=2)
    r = prog.result
    print("\n== %d run, %d failures, %d errors, %d skipped"
          % (r.testsRun, len(r.failures), len(r.errors), len(r.skipped)))
    sys.exit(0 if r.wasSuccessful() else 1)
