#!/usr/bin/python3
"""End-to-end: devcluster's agents (`--nodes`, `--run-pods`) driven by the installed kubectl, as a
user would drive a real cluster with real kubelets: nodes Ready with heartbeats, pods run as local
processes with their env, volumes, logs, termination messages and exit codes.

    /usr/bin/python3 tests/devcluster/agents_test.py [--binary build/bin/aidi-devcluster] [-k name]

Exits 77 (skipped) when kubectl is not installed. DC_KEEP_TMP=1 keeps the temp dirs.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DevCluster, poll  # noqa: E402

if shutil.which("kubectl") is None:
    print("SKIP: kubectl is not installed")
    sys.exit(harness.SKIP)

NODES_YAML = """\
apiVersion: v1
kind: Node
metadata:
  name: agent-gpu-1
  labels:
    aidi.dev/pool: gpu
    topology.kubernetes.io/zone: zone-a
status:
  capacity:
    cpu: "8"
    memory: 32Gi
    nvidia.com/gpu: "2"
---
apiVersion: v1
kind: Node
metadata:
  name: agent-cpu-1
  labels:
    aidi.dev/pool: cpu
status:
  capacity:
    cpu: "4"
    memory: 8Gi
---
apiVersion: v1
kind: Node
metadata:
  name: agent-broken
  labels:
    aidi.dev/pool: cpu
status:
  conditions:
  - type: Ready
    status: "False"
    reason: KubeletNotReady
    message: declared NotReady by the test
"""

BAD_NODES_YAML = """\
apiVersion: v1
kind: Node
metadata:
  name: fine-node
---
apiVersion: v1
kind: Pod
metadata:
  name: not-a-node
spec:
  containers: [{name: c, image: busybox}]
"""

NODE = "agent-gpu-1"


def is_root():
    return os.geteuid() == 0


def uid_65532_can_run(path):
    """As scripts/demo checks: can uid 65532 reach and run `path` (the checkout may be private)?"""
    if shutil.which("setpriv") is None:
        return False
    r = subprocess.run(["setpriv", "--reuid=65532", "--regid=65532", "--clear-groups", "test", "-x", path],
                       capture_output=True, timeout=10)
    return r.returncode == 0


class Agents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="aidi-agents-e2e.")
        cls.nodes_file = os.path.join(cls.tmp, "nodes.yaml")
        with open(cls.nodes_file, "w") as f:
            f.write(NODES_YAML)
        cls.worker = os.path.join(os.path.dirname(harness.BINARY), "aidi-worker")
        # Pods with runAsUser run as that user only when the checkout is reachable for it.
        cls.as_self = is_root() and not uid_65532_can_run(cls.worker)
        args = ["--nodes", cls.nodes_file, "--run-pods", "--node-heartbeat", "1"]
        if cls.as_self:
            args.append("--run-pods-as-self")
        cls.state = os.path.join(cls.tmp, "state")
        cls.dc = DevCluster(*args, state_dir=cls.state, name="agents")
        cls.dc.start()
        cls.env = dict(os.environ)
        cls.env.update({"KUBECONFIG": cls.dc.kubeconfig, "KUBECACHEDIR": os.path.join(cls.tmp, "kubecache"),
                        "HOME": os.path.join(cls.tmp, "home")})
        os.makedirs(cls.env["HOME"], exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.dc.stop()
        finally:
            if os.environ.get("DC_KEEP_TMP"):
                print("kept %s and %s" % (cls.tmp, cls.dc.tmp), file=sys.stderr)
            else:
                shutil.rmtree(cls.tmp, ignore_errors=True)
            cls.dc.cleanup()

    def setUp(self):
        self.ns = "a-" + uuid.uuid4().hex[:8]
        self.kubectl("create", "namespace", self.ns)

    # -- helpers ---------------------------------------------------------------------------
    def run_kubectl(self, *args, stdin=None, timeout=30, ns=True):
        cmd = ["kubectl"] + (["-n", self.ns] if ns else []) + list(args)
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=self.env, timeout=timeout)

    def kubectl(self, *args, **kw):
        r = self.run_kubectl(*args, **kw)
        if r.returncode != 0:
            self.fail("kubectl %s -> rc %d\nstdout: %s\nstderr: %s\ndevcluster log:\n%s"
                      % (" ".join(args), r.returncode, r.stdout, r.stderr, self.dc.log_tail(15)))
        return r.stdout

    def apply(self, *objects):
        import yaml
        return self.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(objects))

    def jsonpath(self, kind_name, path, ns=True):
        return self.kubectl("get", *kind_name.split(), "-o", "jsonpath={%s}" % path, ns=ns)

    def pod_field(self, pod, path):
        return self.jsonpath("pod " + pod, path)

    def kubectl_wait_phase(self, pod, phase, timeout=30):
        out = self.kubectl("wait", "--for=jsonpath={.status.phase}=" + phase, "pod/" + pod,
                           "--timeout=%ds" % timeout, timeout=timeout + 10)
        self.assertIn("condition met", out)

    def wait_phase(self, pod, phase, timeout=20):
        """Polls until the pod is in `phase` or a final phase (so a wrong one fails fast)."""
        final = ("Succeeded", "Failed")
        got = poll(lambda: (lambda p: p if p == phase or p in final else None)(self.pod_field(pod, ".status.phase")),
                   timeout=timeout, interval=0.2, what="pod %s to reach %s" % (pod, phase))
        if got != phase:
            self.fail("pod %s is %s, want %s:\n%s\nlogs:\n%s" % (pod, got, phase,
                      self.kubectl("get", "pod", pod, "-o", "jsonpath={.status}"),
                      self.run_kubectl("logs", pod).stdout))

    def terminated(self, pod):
        raw = self.pod_field(pod, ".status.containerStatuses[0].state.terminated")
        self.assertTrue(raw, "pod %s has no terminated state: %s" % (pod, self.kubectl("get", "pod", pod, "-o", "yaml")))
        return json.loads(raw)

    def pod(self, name, command, args=None, volumes=None, mounts=None, env=None, node=NODE, **container):
        c = {"name": "main", "image": "busybox:1.36", "command": command}
        if args is not None:
            c["args"] = args
        if env:
            c["env"] = env
        if mounts:
            c["volumeMounts"] = mounts
        pod_sc = container.pop("pod_security_context", None)
        c.update(container)
        spec = {"nodeName": node, "restartPolicy": "Never", "containers": [c]}
        if volumes:
            spec["volumes"] = volumes
        if pod_sc:
            spec["securityContext"] = pod_sc
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": self.ns}, "spec": spec}

    def kept_under(self, mount_path):
        """The folder the node agent binds back under a volume at `mount_path` so that its own
        binaries stay visible (pod_exec.h, node_software), or a name that matches nothing."""
        bin_dir = os.path.dirname(os.path.abspath(harness.BINARY))
        if not bin_dir.startswith(mount_path + "/"):
            return "aidi-no-such-entry"
        return bin_dir[len(mount_path) + 1:].split("/")[0]

    def pvc(self, name):
        return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": self.ns},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}

    # -- 1. nodes --------------------------------------------------------------------------
    def test_nodes_ready_with_labels_and_capacity(self):
        out = self.kubectl("get", "nodes", ns=False)
        rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
        self.assertEqual(rows["agent-gpu-1"][1], "Ready", out)
        self.assertEqual(rows["agent-cpu-1"][1], "Ready", out)
        self.assertEqual(rows["agent-broken"][1], "NotReady", out)
        out = self.kubectl("get", "nodes", "-l", "aidi.dev/pool=gpu", "-o", "name", ns=False)
        self.assertEqual(out.split(), ["node/agent-gpu-1"])
        out = self.kubectl("get", "nodes", "-l", "aidi.dev/pool=cpu", "-o", "name", ns=False)
        self.assertEqual(sorted(out.split()), ["node/agent-broken", "node/agent-cpu-1"])
        self.assertEqual(self.jsonpath("node agent-gpu-1", ".metadata.labels.topology\\.kubernetes\\.io/zone",
                                       ns=False), "zone-a")
        self.assertEqual(self.jsonpath("node agent-gpu-1", ".status.capacity.nvidia\\.com/gpu", ns=False), "2")
        self.assertEqual(self.jsonpath("node agent-gpu-1", ".status.capacity.cpu", ns=False), "8")
        self.assertEqual(self.jsonpath("node agent-gpu-1", ".status.allocatable.memory", ns=False), "32Gi")
        self.assertEqual(self.jsonpath("node agent-broken", '.status.conditions[?(@.type=="Ready")].message',
                                       ns=False), "declared NotReady by the test")
        # kubectl describe reads the same fields a user looks at.
        out = self.kubectl("describe", "node", "agent-gpu-1", ns=False)
        self.assertRegex(out, r"nvidia\.com/gpu:\s+2")
        self.assertRegex(out, r"Ready\s+True")

    def test_node_heartbeats(self):
        lease = "lease " + NODE
        first = self.kubectl("get", "-n", "kube-node-lease", *lease.split(), "-o", "jsonpath={.spec.renewTime}", ns=False)
        self.assertTrue(first, "no Lease renewTime for %s" % NODE)
        self.assertEqual(self.kubectl("get", "-n", "kube-node-lease", *lease.split(), "-o",
                                      "jsonpath={.spec.holderIdentity}", ns=False), NODE)
        beat = '.status.conditions[?(@.type=="Ready")].lastHeartbeatTime'
        first_beat = self.jsonpath("node " + NODE, beat, ns=False)
        transition = '.status.conditions[?(@.type=="Ready")].lastTransitionTime'
        first_transition = self.jsonpath("node " + NODE, transition, ns=False)
        self.assertTrue(first_transition)
        time.sleep(1.2)
        poll(lambda: self.kubectl("get", "-n", "kube-node-lease", *lease.split(), "-o",
                                  "jsonpath={.spec.renewTime}", ns=False) > first,
             timeout=5, interval=0.3, what="the Lease renewTime to advance")
        # lastHeartbeatTime has second precision: it moves within a couple of beats.
        poll(lambda: self.jsonpath("node " + NODE, beat, ns=False) > first_beat,
             timeout=5, interval=0.3, what="the Ready condition's lastHeartbeatTime to advance")
        self.assertEqual(self.jsonpath("node " + NODE, transition, ns=False), first_transition,
                         "a heartbeat is no transition: Ready's lastTransitionTime must stay put")

    def test_bad_nodes_file_exits_2_naming_file_and_document(self):
        bad = os.path.join(self.tmp, "bad-nodes.yaml")
        with open(bad, "w") as f:
            f.write(BAD_NODES_YAML)
        r = subprocess.run([harness.BINARY, "--listen", "127.0.0.1:0", "--kubeconfig-out",
                            os.path.join(self.tmp, "bad.kubeconfig"), "--nodes", bad],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(bad, r.stderr)
        self.assertIn("document 2", r.stderr)
        self.assertIn("Pod", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "bad.kubeconfig")))

    # -- 2. a pod with env, volumes, logs and a termination message --------------------------
    def test_pod_env_volumes_logs_and_termination_message(self):
        self.kubectl("create", "configmap", "settings", "--from-literal=greeting=hello",
                     "--from-literal=app.conf=mode=fast")
        self.kubectl("create", "secret", "generic", "creds", "--from-literal=token=s3cr3t")
        self.apply(self.pvc("work"))
        script = "\n".join([
            'echo "name=$POD_NAME greeting=$GREETING token=$TOKEN plain=$PLAIN"',
            'echo "args=$1|$2|$3"',
            'echo "from-envfrom=$CFG_greeting"',
            'echo to-stderr >&2',
            'echo "tmp-entries=`ls -A /tmp | grep -v config | grep -vx %s | wc -l`"' % self.kept_under("/tmp"),
            'echo scratch > /tmp/scratch.txt && echo "tmp=`cat /tmp/scratch.txt`"',
            'echo "conf=`cat /tmp/config/app.conf`"',
            'echo "shared by $POD_NAME" > /workspace/shared.txt',
            'printf "all good from %s" "$POD_NAME" > /dev/termination-log',
            'echo last-line',
        ])
        writer = self.pod(
            "writer", ["sh", "-c", script, "sh"],
            args=["$(GREETING)-$(POD_NAME)", "$(NOT_DEFINED)", "$$(GREETING)"],
            env=[{"name": "PLAIN", "value": "v1"},
                 {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                 {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "greeting"}}},
                 {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}],
            envFrom=[{"prefix": "CFG_", "configMapRef": {"name": "settings"}}],
            volumes=[{"name": "workspace", "persistentVolumeClaim": {"claimName": "work"}},
                     {"name": "tmp", "emptyDir": {}},
                     {"name": "config", "configMap": {"name": "settings"}}],
            mounts=[{"name": "workspace", "mountPath": "/workspace"},
                    {"name": "tmp", "mountPath": "/tmp"},
                    # inside the emptyDir above: its mount point is made in that volume
                    {"name": "config", "mountPath": "/tmp/config"}])
        self.apply(writer)
        self.kubectl_wait_phase("writer", "Succeeded")
        logs = self.kubectl("logs", "writer")
        self.assertIn("name=writer greeting=hello token=s3cr3t plain=v1\n", logs)
        self.assertIn("args=hello-writer|$(NOT_DEFINED)|$(GREETING)\n", logs)
        self.assertIn("from-envfrom=hello\n", logs)
        self.assertIn("to-stderr\n", logs)
        self.assertIn("tmp-entries=0\n", logs, "/tmp is not the pod's own emptyDir")
        self.assertIn("tmp=scratch\n", logs)
        self.assertIn("conf=mode=fast\n", logs)
        self.assertTrue(logs.endswith("last-line\n"), logs)
        self.assertEqual(self.kubectl("logs", "writer", "--tail=1"), "last-line\n")
        self.assertEqual(self.kubectl("logs", "writer", "--limit-bytes=5"), "name=")
        self.assertEqual(self.pod_field("writer", ".status.containerStatuses[0].state.terminated.message"),
                         "all good from writer")
        t = self.terminated("writer")
        self.assertEqual((t["exitCode"], t["reason"]), (0, "Completed"), t)
        self.assertEqual(self.pod_field("writer", ".status.phase"), "Succeeded")
        self.assertEqual(self.jsonpath("pvc work", ".status.phase"), "Bound")
        # Mounts stay in the pod's private namespace.
        self.assertFalse(os.path.exists("/workspace/shared.txt"), "the PVC mount leaked to the host")
        self.assertFalse(os.path.exists("/tmp/scratch.txt"), "the emptyDir mount leaked to the host")

        reader = self.pod("reader", ["sh", "-c", 'cat /workspace/shared.txt; ls -A /tmp | grep -vx %s | wc -l'
                                     % self.kept_under("/tmp")],
                          volumes=[{"name": "workspace", "persistentVolumeClaim": {"claimName": "work"}},
                                   {"name": "tmp", "emptyDir": {}}],
                          mounts=[{"name": "workspace", "mountPath": "/workspace"},
                                  {"name": "tmp", "mountPath": "/tmp"}])
        self.apply(reader)
        self.wait_phase("reader", "Succeeded")
        self.assertEqual(self.kubectl("logs", "reader"), "shared by writer\n0\n",
                         "the second pod sees the first pod's file on the claim, and a fresh emptyDir")
        out = self.kubectl("get", "pods")
        self.assertRegex(out, r"(?m)^writer\s+0/1\s+Completed\s+0\s")

    # -- 3. a failing container ------------------------------------------------------------
    def test_exit_code_and_fallback_to_logs_message(self):
        self.apply(self.pod("fails", ["sh", "-c", "echo line-1; echo line-2; echo line-3 >&2; exit 3"],
                            terminationMessagePolicy="FallbackToLogsOnError"),
                   self.pod("fails-quietly", ["sh", "-c", "echo not-a-message; exit 3"]))
        self.wait_phase("fails", "Failed")
        t = self.terminated("fails")
        self.assertEqual((t["exitCode"], t["reason"]), (3, "Error"), t)
        self.assertEqual(t.get("message"), "line-1\nline-2\nline-3", t)
        self.wait_phase("fails-quietly", "Failed")
        t = self.terminated("fails-quietly")
        self.assertEqual((t["exitCode"], t["reason"]), (3, "Error"), t)
        self.assertNotIn("message", t, "terminationMessagePolicy File takes no message from the log")
        out = self.kubectl("get", "pods", "fails")
        self.assertRegex(out, r"(?m)^fails\s+0/1\s+Error\s+0\s")

    # -- 4. commands and PATH --------------------------------------------------------------
    def test_start_error_and_worker_on_path(self):
        self.assertTrue(os.access(self.worker, os.X_OK), "aidi-worker is not built next to the devcluster binary: "
                        "ninja bin/aidi-worker")
        missing = "aidi-no-such-command-" + uuid.uuid4().hex[:6]
        self.apply(self.pod("nocmd", [missing, "--flag"]),
                   self.pod("worker", ["aidi-worker", "ops"]))
        self.wait_phase("nocmd", "Failed")
        t = self.terminated("nocmd")
        self.assertEqual(t["reason"], "StartError", t)
        self.assertIn(missing, t.get("message", ""), t)
        self.assertNotEqual(t["exitCode"], 0, t)
        self.wait_phase("worker", "Succeeded")
        logs = self.kubectl("logs", "worker")
        for op in ("noop", "groupby", "filter"):
            self.assertRegex(logs, r"(?m)^%s$" % op, logs)

    def test_worker_resolves_under_a_volume_that_covers_its_folder(self):
        # An emptyDir over the top folder of the checkout (stage pods mount one at /tmp, and CI
        # may clone under /tmp): the node's software stays visible through it, read-only.
        top = "/" + os.path.abspath(self.worker).split("/")[1]
        self.apply(self.pod("covered", ["sh", "-c", "aidi-worker ops | grep -x noop && touch %s/x && ls %s" % (top, top)],
                            volumes=[{"name": "cover", "emptyDir": {}}],
                            mounts=[{"name": "cover", "mountPath": top}]))
        self.wait_phase("covered", "Succeeded")
        logs = self.kubectl("logs", "covered")
        self.assertIn("noop", logs)
        # The pod's own view of that folder is its emptyDir: what it writes there stays in it.
        self.assertIn("x", logs.split())
        self.assertFalse(os.path.exists(os.path.join(top, "x")))

    # -- 5. waiting for a claim ------------------------------------------------------------
    def test_waits_for_missing_claim_then_runs(self):
        self.apply(self.pod("patient", ["sh", "-c", "echo hi > /data/f && cat /data/f"],
                            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "late-claim"}}],
                            mounts=[{"name": "data", "mountPath": "/data"}]))
        waiting = ".status.containerStatuses[0].state.waiting"
        got = poll(lambda: self.pod_field("patient", waiting), timeout=15, interval=0.2,
                   what="a waiting state on the pod")
        w = json.loads(got)
        self.assertEqual(w.get("reason"), "ContainerCreating", w)
        self.assertIn("late-claim", w.get("message", ""), w)
        self.assertEqual(self.pod_field("patient", ".status.phase"), "Pending")
        self.assertRegex(self.kubectl("get", "pod", "patient"), r"(?m)^patient\s+0/1\s+ContainerCreating\s")
        time.sleep(0.5)
        self.assertEqual(self.pod_field("patient", ".status.phase"), "Pending", "it must not run without its claim")
        self.apply(self.pvc("late-claim"))
        self.wait_phase("patient", "Succeeded", timeout=20)
        self.assertEqual(self.kubectl("logs", "patient"), "hi\n")
        self.assertEqual(self.jsonpath("pvc late-claim", ".status.phase"), "Bound")

    # -- 5b. an agent that died while starting a pod ---------------------------------------
    def test_pod_an_earlier_agent_began_to_start_is_lost_not_run_again(self):
        """The agent writes a container's exec spec just before starting it and reports Running
        just after. Killed in between, the container may have run; the next agent must report
        the pod lost and never start it again (a pipeline's stage attempt runs at most once)."""
        claim = "claim-" + self.ns
        # A missing claim holds the pod Pending with its folder made: the moment between the
        # spec and the start, held still; the spec is then written as that agent would have.
        self.apply(self.pod("halfway", ["sh", "-c", "echo ran"],
                            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
                            mounts=[{"name": "data", "mountPath": "/data"}]))
        poll(lambda: self.pod_field("halfway", ".status.containerStatuses[0].state.waiting"),
             timeout=15, interval=0.2, what="the pod waiting for its claim")
        uid = self.pod_field("halfway", ".metadata.uid")
        pod_dir = os.path.join(self.state, "pods", "%s_halfway_%s" % (self.ns, uid))
        self.assertTrue(os.path.isdir(pod_dir), pod_dir)
        self.dc.stop(sig=signal.SIGKILL)
        with open(os.path.join(pod_dir, "main.exec.json"), "w") as f:
            f.write("{}")
        # What the container left behind in its session (its pid file names it) must go too.
        left = subprocess.Popen(["sleep", "300"], start_new_session=True)
        self.addCleanup(lambda: left.poll() is None and left.kill())
        with open(os.path.join(pod_dir, "main.pid"), "w") as f:
            f.write(str(left.pid))
        self.dc.start()
        self.apply(self.pvc(claim))  # it could start now, were it not lost
        self.wait_phase("halfway", "Failed", timeout=20)
        t = self.terminated("halfway")
        self.assertEqual(t["exitCode"], 137, t)
        self.assertIn("restarted while the container ran", t["message"], t)
        poll(lambda: left.poll() is not None, timeout=10, what="the left-behind session killed")
        time.sleep(1)
        self.assertEqual(self.run_kubectl("logs", "halfway").stdout, "", "a lost pod must not run again")

    # -- 6. deleting a running pod ---------------------------------------------------------
    def test_delete_kills_the_process_group(self):
        marker = "301.5%06d" % (uuid.uuid4().int % 1000000)
        # sh stays the parent (a second command follows), so the kill must reach the whole group.
        self.apply(self.pod("sleeper", ["sh", "-c", "sleep %s; echo never" % marker]))
        self.wait_phase("sleeper", "Running")

        def pids():
            r = subprocess.run(["pgrep", "-f", "sleep " + marker], capture_output=True, text=True)
            return r.stdout.split()

        poll(lambda: len(pids()) >= 1, timeout=10, what="the sleep process")
        start = time.monotonic()
        self.kubectl("delete", "pod", "sleeper", "--timeout=20s", timeout=30)
        took = time.monotonic() - start
        self.assertLess(took, 10, "kubectl delete took %.1fs" % took)
        try:
            poll(lambda: not pids(), timeout=5, what="the sleep process to be gone")
        finally:
            for pid in pids():  # never leave a stray sleep behind
                subprocess.run(["kill", "-9", pid])
        r = self.run_kubectl("get", "pod", "sleeper")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("NotFound", r.stderr)

    # -- 7. security context (root only) ---------------------------------------------------
    def test_run_as_user_fs_group_and_read_only_root(self):
        if not is_root():
            self.skipTest("needs root: uids and read-only root are honoured only when devcluster is root")
        self.apply(self.pvc("owned"))
        script = 'id -u; id -G; echo data > /workspace/by-user && stat -c %u:%g /workspace/by-user'
        self.apply(self.pod("as-user", ["sh", "-c", script],
                            pod_security_context={"runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532},
                            volumes=[{"name": "workspace", "persistentVolumeClaim": {"claimName": "owned"}}],
                            mounts=[{"name": "workspace", "mountPath": "/workspace"}]))
        probe = "/aidi-agents-e2e-rootfs-probe-" + uuid.uuid4().hex[:6]
        self.apply(self.pod("ro-root", ["sh", "-c", "if touch %s; then echo root-writable; else echo root-ro; fi; "
                                        "echo ok > /workspace/f && cat /workspace/f" % probe],
                            securityContext={"readOnlyRootFilesystem": True},
                            volumes=[{"name": "workspace", "persistentVolumeClaim": {"claimName": "owned"}}],
                            mounts=[{"name": "workspace", "mountPath": "/workspace"}]))
        self.wait_phase("as-user", "Succeeded")
        lines = self.kubectl("logs", "as-user").split("\n")
        if self.as_self:
            print("\n  (uid 65532 cannot read %s: --run-pods-as-self, uid not checked)" % self.worker, file=sys.stderr)
        else:
            self.assertEqual(lines[0], "65532", lines)
            self.assertIn("65532", lines[1].split(), lines)
            self.assertEqual(lines[2], "65532:65532", lines)
        self.wait_phase("ro-root", "Succeeded")
        leaked = os.path.exists(probe)
        if leaked:
            os.unlink(probe)
        self.assertFalse(leaked, "the pod wrote to the host's root filesystem")
        logs = self.kubectl("logs", "ro-root")
        self.assertIn("root-ro\n", logs)
        self.assertTrue(logs.endswith("ok\n"), logs)


if __name__ == "__main__":
    harness.run_suite("__main__")
