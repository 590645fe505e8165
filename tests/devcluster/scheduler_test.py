#!/usr/bin/python3
"""devcluster's scheduler loop (`--scheduler-config`) against real kubectl and a recording
extender written here, so every call kube-scheduler would make is checked on the wire.

    /usr/bin/python3 tests/devcluster/scheduler_test.py [--binary build/bin/aidi-devcluster]
"""

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DevCluster, poll  # noqa: E402

NODES = """
apiVersion: v1
kind: Node
metadata: {name: gpu-a, labels: {accel: gpu}}
status: {capacity: {cpu: "8", memory: 32Gi, nvidia.com/gpu: "2"}}
---
apiVersion: v1
kind: Node
metadata: {name: gpu-b, labels: {accel: gpu}}
status: {capacity: {cpu: "8", memory: 32Gi, nvidia.com/gpu: "2"}}
---
apiVersion: v1
kind: Node
metadata: {name: cpu-a}
status: {capacity: {cpu: "4", memory: 8Gi}}
"""

CONFIG = """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: aidi-scheduler
extenders:
- urlPrefix: http://127.0.0.1:%(port)d/ext
  filterVerb: filter
  prioritizeVerb: prioritize
  bindVerb: bind
  weight: 5
  nodeCacheCapable: true
  httpTimeout: 2s
  managedResources:
  - name: nvidia.com/gpu
- urlPrefix: http://127.0.0.1:%(dead)d
  filterVerb: filter
  ignorable: true
  managedResources:
  - name: nvidia.com/gpu
"""


class Extender:
    """A recording extender: filter keeps the nodes the test allows, prioritize prefers one node,
    bind posts the Binding to devcluster itself (as aidi-scheduler-extender does)."""

    def __init__(self, dc):
        self.dc = dc
        self.calls = []
        self.allowed = None   # node names filter keeps (None: all)
        self.preferred = None  # node prioritize scores 10 (others 1)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                verb = self.path.rsplit("/", 1)[-1]
                outer.calls.append((self.path, body))
                if verb == "filter":
                    names = body["NodeNames"]
                    keep = [n for n in names if outer.allowed is None or n in outer.allowed]
                    out = {"NodeNames": keep, "FailedNodes": {n: "not allowed by the test" for n in names
                                                             if n not in keep}, "Error": ""}
                elif verb == "prioritize":
                    out = [{"Host": n, "Score": 10 if n == outer.preferred else 1} for n in body["NodeNames"]]
                elif verb == "bind":
                    r = outer.dc.request("POST", "/api/v1/namespaces/%s/pods/%s/binding" % (
                        body["PodNamespace"], body["PodName"]), body={
                        "apiVersion": "v1", "kind": "Binding", "metadata": {"name": body["PodName"]},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": body["Node"]}})
                    out = {"Error": "" if r.status == 201 else r.body.decode()}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def verbs_for(self, pod):
        out = []
        for path, body in self.calls:
            name = body.get("PodName") or (body.get("Pod") or {}).get("metadata", {}).get("name")
            if name == pod:
                out.append(path.rsplit("/", 1)[-1])
        return out

    def stop(self):
        self.server.shutdown()


def pod(name, scheduler="aidi-scheduler", gpus=0, cpu="100m", node_selector=None):
    requests = {"cpu": cpu}
    limits = {}
    if gpus:
        requests["nvidia.com/gpu"] = str(gpus)
        limits["nvidia.com/gpu"] = str(gpus)
    spec = {"schedulerName": scheduler, "restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox", "command": ["true"],
                            "resources": {"requests": requests, "limits": limits}}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


class SchedulerLoop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = harness.tempfile.mkdtemp(prefix="aidi-sched.")
        with socket.socket() as s:  # a port nobody listens on: the ignorable extender is down
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        cls.dc = DevCluster("--nodes", cls.write("nodes.yaml", NODES), name="sched")
        # The extender must know the server to bind through it, and devcluster must know the
        # extender's port: start the extender on a placeholder, then point it at devcluster.
        cls.ext = Extender(None)
        cls.dc.args += ["--scheduler-config", cls.write("config.yaml", CONFIG % {"port": cls.ext.port,
                                                                                 "dead": dead})]
        cls.dc.start()
        cls.ext.dc = cls.dc
        cls.env = dict(os.environ, KUBECONFIG=cls.dc.kubeconfig, KUBECACHEDIR=os.path.join(cls.tmp, "cache"))

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    @classmethod
    def tearDownClass(cls):
        cls.ext.stop()
        cls.dc.cleanup()

    def kubectl(self, *args, stdin=None, check=True):
        r = subprocess.run(["kubectl", *args], env=self.env, capture_output=True, text=True, input=stdin,
                           timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s: %s\n%s" % (" ".join(args), r.stderr, self.dc.log_tail()))
        return r.stdout.strip()

    def create(self, obj):
        self.kubectl("apply", "-f", "-", stdin=json.dumps(obj))

    def node_of(self, name):
        return self.kubectl("get", "pod", name, "-o", "jsonpath={.spec.nodeName}")

    def wait_bound(self, name):
        return poll(lambda: self.node_of(name), timeout=20, what="pod %s bound" % name)

    def test_cpu_pod_is_bound_by_the_loop_without_the_extender(self):
        self.create(pod("cpu-1"))
        node = self.wait_bound("cpu-1")
        self.assertIn(node, ("gpu-a", "gpu-b", "cpu-a"))
        self.assertEqual(self.ext.verbs_for("cpu-1"), [])  # managedResources: GPU pods only
        cond = self.kubectl("get", "pod", "cpu-1", "-o",
                            "jsonpath={.status.conditions[?(@.type=='PodScheduled')].status}")
        self.assertEqual(cond, "True")
        events = self.kubectl("get", "events", "--field-selector", "involvedObject.name=cpu-1,reason=Scheduled",
                              "-o", "jsonpath={.items[*].message}")
        self.assertEqual(events, "Successfully assigned default/cpu-1 to %s" % node)

    def test_gpu_pod_goes_through_filter_prioritize_and_bind(self):
        self.ext.allowed, self.ext.preferred = None, "gpu-b"
        self.create(pod("gpu-1", gpus=1))
        self.assertEqual(self.wait_bound("gpu-1"), "gpu-b")  # the extender's score x weight wins
        self.assertEqual(self.ext.verbs_for("gpu-1"), ["filter", "prioritize", "bind"])
        # The second extender is down but ignorable: it did not stop the pod.
        filter_args = next(b for p, b in self.ext.calls if p.endswith("/filter") and
                           b["Pod"]["metadata"]["name"] == "gpu-1")
        # nodeCacheCapable: names only, and only nodes our own fit kept (cpu-a has no GPU).
        self.assertEqual(sorted(filter_args["NodeNames"]), ["gpu-a", "gpu-b"])
        self.assertIsNone(filter_args.get("Nodes"))
        self.assertTrue(all(p.startswith("/ext/") for p, _ in self.ext.calls))

    def test_extender_filter_decides(self):
        self.ext.allowed, self.ext.preferred = {"gpu-a"}, "gpu-b"
        self.create(pod("gpu-2", gpus=1))
        self.assertEqual(self.wait_bound("gpu-2"), "gpu-a")

    def test_unschedulable_pod_is_marked_and_retried_when_a_node_appears(self):
        self.ext.allowed, self.ext.preferred = None, None
        self.create(pod("big", gpus=4))

        def condition():
            c = json.loads(self.kubectl("get", "pod", "big", "-o", "jsonpath={.status.conditions}") or "[]")
            return next((x for x in c if x["type"] == "PodScheduled"), None)
        c = poll(condition, timeout=20, what="PodScheduled on the big pod")
        self.assertEqual((c["status"], c["reason"]), ("False", "Unschedulable"))
        self.assertTrue(c["message"].startswith("0/3 nodes are available: "), c["message"])
        self.assertIn("Insufficient nvidia.com/gpu", c["message"])
        self.assertIn("Pending", self.kubectl("get", "pod", "big"))
        events = self.kubectl("get", "events", "--field-selector", "involvedObject.name=big,reason=FailedScheduling",
                              "-o", "jsonpath={.items[*].type}")
        self.assertEqual(events.split()[0], "Warning")
        # A bigger node joins and reports Ready: the pod is retried and lands there.
        self.kubectl("apply", "-f", "-", stdin=json.dumps({
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-big"}}))
        self.kubectl("patch", "node", "gpu-big", "--subresource=status", "--type=merge", "-p", json.dumps({
            "status": {"capacity": {"cpu": "8", "memory": "8Gi", "pods": "10", "nvidia.com/gpu": "8"},
                       "allocatable": {"cpu": "8", "memory": "8Gi", "pods": "10", "nvidia.com/gpu": "8"},
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}]}}))
        self.assertEqual(self.wait_bound("big"), "gpu-big")

    def test_pods_of_other_schedulers_are_left_alone(self):
        self.create(pod("other", scheduler="default-scheduler"))
        harness.time.sleep(1.5)
        self.assertEqual(self.node_of("other"), "")
        self.assertEqual(self.kubectl("get", "pod", "other", "-o", "jsonpath={.status.conditions}"), "")

    def test_node_selector_is_honoured(self):
        self.create(pod("picky", node_selector={"accel": "gpu"}, cpu="7"))
        self.assertIn(self.wait_bound("picky"), ("gpu-a", "gpu-b"))


if __name__ == "__main__":
    harness.BINARY = harness.take_binary_arg(sys.argv)
    unittest.main(verbosity=2)
