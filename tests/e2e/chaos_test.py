#!/usr/bin/python3
"""Issue 8's convergence proofs, on the whole system with nothing faked: devcluster (nodes, node
agent, scheduler loop, fault injection), the operator, the extender, real stage processes.

Every stage is a shell that appends "PIPELINE STAGE ATTEMPT" to one shared file on the workspace
claim before it sleeps, so a stage attempt that ran twice shows up as a repeated line, whatever
the API says. Classes (each its own cluster):
  Chaos            40 pipelines (diamonds and chains) under dropped watches every 2 s, 5% of
                   requests failing with 500 or 429 + Retry-After, one history compaction
                   (every resume gets 410), and three SIGKILLs of the operator
  DevclusterCrash  devcluster killed with SIGKILL mid-run and restarted on its state directory
  LeaderFailover   two operators with leader election; the leader is killed with SIGKILL
  ExtenderRestart  a burst of GPU pods; the extender is killed mid-burst and restarted; no node
                   ever holds more GPUs than it has

Each prints one FIGURES line (JSON) that docs/reliability.md records.

    /usr/bin/python3 tests/e2e/chaos_test.py --bin build/bin [Chaos|DevclusterCrash|...]
"""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "devcluster"))
import harness  # noqa: E402
from harness import poll  # noqa: E402
from system import free_port, take_bin_arg, uid_65532_can_run  # noqa: E402

REPO = harness.REPO
BIN = None


def nodes_yaml(count, gpus=0):
    docs = []
    for i in range(count):
        capacity = {"cpu": "64", "memory": "256Gi", "pods": "200"}
        labels = {"aidi.dev/site": "chaos-site"}
        if gpus:
            capacity["nvidia.com/gpu"] = str(gpus)
            labels["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3"
            labels["nvidia.com/gpu.memory"] = "81559"
        docs.append(json.dumps({"apiVersion": "v1", "kind": "Node",
                                "metadata": {"name": "node-%d" % i, "labels": labels},
                                "status": {"capacity": capacity}}))
    return "\n---\n".join(docs)


# CPU stages only: the aidi-scheduler profile with no extender.
PLAIN_SCHEDULER_CONFIG = """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: aidi-scheduler
"""

SCHEDULER_CONFIG = """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: aidi-scheduler
extenders:
- urlPrefix: http://127.0.0.1:%(port)d
  filterVerb: filter
  prioritizeVerb: prioritize
  bindVerb: bind
  weight: 5
  nodeCacheCapable: true
  httpTimeout: 5s
  managedResources:
  - name: nvidia.com/gpu
    ignoredByScheduler: %(ignored)s
"""

STAGE_SCRIPT = ('echo "$AIDI_PIPELINE $AIDI_STAGE $AIDI_ATTEMPT" >> /workspace/attempts.log && sleep %s')


def stage(name, deps=(), seconds="0.3", retries=0):
    s = {"name": name, "image": "busybox", "command": ["sh", "-c", STAGE_SCRIPT % seconds],
         "resources": {"cpu": "10m", "memory": "16Mi"}}
    if deps:
        s["dependsOn"] = list(deps)
    if retries:
        s["retry"] = {"limit": retries, "backoff": {"initialSeconds": 1, "factor": 1, "maxSeconds": 1}}
    return s


def diamond(name, **kw):
    return pipeline(name, [stage("a", **kw), stage("b", ["a"], **kw), stage("c", ["a"], **kw),
                           stage("d", ["b", "c"], **kw)])


def chain(name, **kw):
    return pipeline(name, [stage("a", **kw), stage("b", ["a"], **kw), stage("c", ["b"], **kw)])


def pipeline(name, stages):
    return {"apiVersion": "aidi.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": name},
            "spec": {"workspace": "chaos-ws", "stages": stages}}


class Cluster:
    """devcluster on a fixed port and state directory (so it can be killed and restarted), plus
    named operator and extender processes."""

    def __init__(self, name, nodes, scheduler_config=PLAIN_SCHEDULER_CONFIG):
        self.tmp = tempfile.mkdtemp(prefix="aidi-chaos-%s." % name)
        self.state = os.path.join(self.tmp, "state")
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        self.port = free_port()
        self.extender_port = free_port()
        self.procs = {}
        with open(os.path.join(self.tmp, "nodes.yaml"), "w") as f:
            f.write(nodes)
        self.args = ["--listen", "127.0.0.1:%d" % self.port, "--kubeconfig-out", self.kubeconfig,
                     "--state-dir", self.state, "--enable-faults", "--nodes", os.path.join(self.tmp, "nodes.yaml"),
                     "--run-pods", "--node-heartbeat", "2"]
        if not uid_65532_can_run(os.path.join(BIN, "aidi-worker")):
            self.args.append("--run-pods-as-self")
        path = os.path.join(self.tmp, "scheduler-config.yaml")
        with open(path, "w") as f:
            f.write(scheduler_config.replace("%(port)d", str(self.extender_port)))
        self.args += ["--scheduler-config", path]
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig, KUBECACHEDIR=os.path.join(self.tmp, "cache"))
        self.dc = harness.DevCluster(binary=os.path.join(BIN, "aidi-devcluster"), name=name)

    # -- processes -----------------------------------------------------------------------------

    def spawn(self, name, cmd):
        log = open(os.path.join(self.tmp, name + ".log"), "ab")
        self.procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log)

    def kill(self, name, sig=signal.SIGKILL):
        p, log = self.procs.pop(name)
        if p.poll() is None:
            p.send_signal(sig)
        p.wait(timeout=60)
        log.close()

    def start_devcluster(self):
        if os.path.exists(self.kubeconfig):
            os.unlink(self.kubeconfig)
        self.spawn("devcluster", [os.path.join(BIN, "aidi-devcluster")] + self.args)
        poll(lambda: os.path.exists(self.kubeconfig) and os.path.getsize(self.kubeconfig) > 0, timeout=30,
             what="devcluster's kubeconfig")
        self.dc.kubeconfig = self.kubeconfig
        self.dc.read_kubeconfig()

    def start_operator(self, name="operator", extra=()):
        self.spawn(name, [os.path.join(BIN, "aidi-operator"), "--kubeconfig", self.kubeconfig, "--metrics-addr", "",
                          "--health-addr", ""] + list(extra))

    def start_extender(self):
        self.spawn("extender", [os.path.join(BIN, "aidi-scheduler-extender"), "--listen",
                                "127.0.0.1:%d" % self.extender_port, "--kubeconfig", self.kubeconfig])

    def extender_ready(self):
        import urllib.request
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % self.extender_port, timeout=2) as r:
                return r.status == 200
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def stop(self):
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM if name == "devcluster" else signal.SIGKILL)
        if not os.environ.get("DC_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, name, n=25):
        try:
            with open(os.path.join(self.tmp, name + ".log"), "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    # -- API, with retries: the test's own requests meet the injected faults too -------------------

    def api(self, method, path, body=None, ok=(200, 201), content_type=None):
        last = None
        for _ in range(30):
            try:
                r = self.dc.request(method, path, body=body, content_type=content_type)
            except OSError as e:  # devcluster restarting
                last = e
                time.sleep(0.2)
                continue
            if r.status in ok:
                return r.json if r.body else None
            last = r
            if r.status not in (429, 500, 503, 504):
                break
            time.sleep(0.1)
        raise AssertionError("%s %s -> %r" % (method, path, last))

    def kubectl(self, *args):
        r = None
        for _ in range(10):
            r = subprocess.run(["kubectl", *args], env=self.env, capture_output=True, text=True, timeout=60)
            if r.returncode == 0:
                return r.stdout.strip()
            time.sleep(0.3)
        raise AssertionError("kubectl %s: %s" % (" ".join(args), r.stderr))

    def setup_workspace(self):
        self.api("POST", "/api/v1/namespaces/default/persistentvolumeclaims", body={
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "chaos-ws"},
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}}},
            ok=(201, 409))
        self.kubectl("apply", "-f", os.path.join(REPO, "crds"))
        self.kubectl("wait", "--for=condition=Established", "crd/pipelines.aidi.dev", "--timeout=30s")

    def create_pipeline(self, p):
        self.api("POST", "/apis/aidi.dev/v1alpha1/namespaces/default/pipelines", body=p, ok=(201, 409))

    def pipelines(self):
        return self.api("GET", "/apis/aidi.dev/v1alpha1/namespaces/default/pipelines")["items"]

    def pods(self, selector=""):
        return self.api("GET", "/api/v1/namespaces/default/pods?labelSelector=" + selector)["items"]

    def attempts(self):
        path = os.path.join(self.state, "volumes", "pvc", "default", "chaos-ws", "attempts.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [tuple(line.split()) for line in f.read().splitlines() if line.strip()]

    def wait_all_succeeded(self, names, timeout, during=None):
        deadline = time.monotonic() + timeout
        phases = {}
        while time.monotonic() < deadline:
            if during:
                during()
            try:
                phases = {p["metadata"]["name"]: p.get("status", {}).get("phase") for p in self.pipelines()}
            except AssertionError:
                time.sleep(0.5)
                continue
            if all(phases.get(n) == "Succeeded" for n in names):
                return phases
            if any(phases.get(n) == "Failed" for n in names):
                break
            time.sleep(0.5)
        raise AssertionError("pipelines not all Succeeded: %s\n--- operator ---\n%s\n--- devcluster ---\n%s" % (
            {n: phases.get(n) for n in names if phases.get(n) != "Succeeded"},
            self.log_tail("operator"), self.log_tail("devcluster")))


class ConvergenceAsserts:
    def assert_no_stage_ran_twice(self, cluster, names, allow_lost=False):
        """Each (pipeline, stage, attempt) ran at most once, and every stage ran; with allow_lost,
        a later attempt may follow one whose process was lost."""
        lines = cluster.attempts()
        counts = collections.Counter(lines)
        doubled = {k: v for k, v in counts.items() if v > 1}
        self.assertEqual(doubled, {}, "stage attempts that ran more than once")
        ran = collections.defaultdict(list)
        for p, s, a in lines:
            ran[(p, s)].append(int(a))
        for name in names:
            stages = [s["name"] for s in next(p for p in cluster.pipelines()
                                              if p["metadata"]["name"] == name)["spec"]["stages"]]
            for s in stages:
                self.assertIn((name, s), ran, "stage %s/%s never ran" % (name, s))
                if not allow_lost:
                    self.assertEqual(ran[(name, s)], [1], "%s/%s ran attempts %s" % (name, s, ran[(name, s)]))
        return len(lines)

    def assert_status_agrees_with_pods(self, cluster, names):
        pods = {p["metadata"]["name"]: p for p in cluster.pods("aidi.dev/pipeline")}
        for p in cluster.pipelines():
            if p["metadata"]["name"] not in names:
                continue
            for s in p["status"]["stages"]:
                self.assertEqual(s["phase"], "Succeeded", (p["metadata"]["name"], s))
                pod = pods.get(s.get("podName"))
                self.assertIsNotNone(pod, "status names pod %s, which does not exist" % s.get("podName"))
                self.assertEqual(pod["status"]["phase"], "Succeeded", s.get("podName"))
                self.assertEqual(pod["spec"]["nodeName"], s.get("node"), s.get("podName"))
                attempts = [x for x in pods.values()
                            if x["metadata"]["labels"].get("aidi.dev/pipeline") == p["metadata"]["name"]
                            and x["metadata"]["labels"].get("aidi.dev/stage") == s["name"]]
                self.assertEqual(len(attempts), s.get("attempts", 1), s)


def parse_micro_time(text):
    """metav1.MicroTime ("2026-11-28T06:47:40.808830Z") as epoch seconds."""
    import datetime
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def figures(name, **values):
    print("FIGURES %s %s" % (name, json.dumps(values, sort_keys=True)), flush=True)


class Chaos(unittest.TestCase, ConvergenceAsserts):
    def test_forty_pipelines_converge_under_faults_and_operator_kills(self):
        c = Cluster("chaos", nodes_yaml(4))
        self.addCleanup(c.stop)
        c.start_devcluster()
        c.setup_workspace()
        c.start_operator()
        names = []
        for i in range(20):
            names.append("diamond-%02d" % i)
            c.create_pipeline(diamond(names[-1], seconds="2"))
            names.append("chain-%02d" % i)
            c.create_pipeline(chain(names[-1], seconds="2"))
        c.api("POST", "/devcluster/faults/errors", body={"verb": "*", "resource": "*", "code": 500,
                                                         "probability": 0.025, "count": -1})
        c.api("POST", "/devcluster/faults/errors", body={"verb": "*", "resource": "*", "code": 429,
                                                         "probability": 0.025, "count": -1, "retryAfterSeconds": 1})
        start = time.monotonic()
        events = {"drops": 0, "kills": 0, "compactions": 0}
        # Kills and the compaction are paced by progress (stage attempts started, of 140), not by
        # the clock, so they land mid-run on any machine.
        kills_at = [20, 60, 100]
        compact_at = [40]
        next_drop = [start + 2]
        restart_times = []

        def chaos():
            now = time.monotonic()
            started = len(c.attempts())
            if now >= next_drop[0]:
                c.api("POST", "/devcluster/faults/drop-watches", body={})
                events["drops"] += 1
                next_drop[0] = now + 2
            if kills_at and started >= kills_at[0]:
                kills_at.pop(0)
                c.kill("operator")  # SIGKILL, mid-write or not
                events["kills"] += 1
                c.start_operator()
                restart_times.append(time.monotonic())
            if compact_at and started >= compact_at[0]:
                compact_at.pop(0)
                c.api("POST", "/devcluster/faults/compact", body={})
                events["compactions"] += 1
        c.wait_all_succeeded(names, timeout=300, during=chaos)
        elapsed = time.monotonic() - start
        # Faults off before reading back, so the checks themselves are not retried into noise.
        stats = c.api("GET", "/devcluster/requests")
        c.api("DELETE", "/devcluster/faults", ok=(200,))
        self.assertEqual(events["kills"], 3, "the run ended before every operator kill")
        # The compaction made the operator's watches expire (410): its caches relisted.
        with open(os.path.join(c.tmp, "operator.log"), errors="replace") as f:
            relists = sum(1 for line in f if "relisting" in line)
        self.assertGreater(relists, 0, "no watch of the operator relisted after the compaction")
        ran = self.assert_no_stage_ran_twice(c, names)
        self.assert_status_agrees_with_pods(c, names)
        figures("chaos", pipelines=len(names), stage_attempts=ran, watch_drops=events["drops"],
                compactions=events["compactions"], operator_kills=events["kills"], operator_relists=relists,
                faults_injected=stats.get("faultsInjected"), requests=stats.get("total"),
                seconds_to_all_succeeded=round(elapsed, 1),
                seconds_after_last_kill=round(time.monotonic() - restart_times[-1], 1))


class DevclusterCrash(unittest.TestCase, ConvergenceAsserts):
    def test_operator_reconnects_after_devcluster_kill_9_and_finishes(self):
        c = Cluster("crash", nodes_yaml(2))
        self.addCleanup(c.stop)
        c.start_devcluster()
        c.setup_workspace()
        c.start_operator()
        names = ["slow-%02d" % i for i in range(10)]
        for n in names:
            c.create_pipeline(chain(n, seconds="1.5", retries=2))
        poll(lambda: len([p for p in c.pods("aidi.dev/pipeline")
                          if p.get("status", {}).get("phase") == "Running"]) >= 3,
             timeout=60, what="stage pods running")
        c.kill("devcluster")  # SIGKILL: its pods' processes die with it
        killed = time.monotonic()
        time.sleep(1)
        c.start_devcluster()
        back = time.monotonic()
        c.wait_all_succeeded(names, timeout=240)
        done = time.monotonic()
        self.assertTrue(c.procs["operator"][0].poll() is None, "the operator must survive the outage")
        lost = [p for p in c.pods("aidi.dev/pipeline")
                if p["status"].get("phase") == "Failed"
                and "restarted" in json.dumps(p["status"].get("containerStatuses", []))]
        self.assertTrue(lost, "pods running at the kill are reported lost")
        self.assert_no_stage_ran_twice(c, names, allow_lost=True)
        figures("devcluster_kill_9", pipelines=len(names), lost_attempts_retried=len(lost),
                seconds_down=round(back - killed, 1), seconds_from_restart_to_all_succeeded=round(done - back, 1))


class LeaderFailover(unittest.TestCase, ConvergenceAsserts):
    def test_the_standby_takes_over_within_the_lease_duration(self):
        c = Cluster("leader", nodes_yaml(2))
        self.addCleanup(c.stop)
        c.start_devcluster()
        c.setup_workspace()
        args = ["--leader-elect", "--leader-election-namespace", "default"]
        c.start_operator("operator", args)
        lease_path = "/apis/coordination.k8s.io/v1/namespaces/default/leases/aidi-operator"
        first = poll(lambda: (c.api("GET", lease_path, ok=(200,)) or {}).get("spec", {}).get("holderIdentity"),
                     timeout=30, what="a leader")
        c.start_operator("standby", args)
        names = ["led-%02d" % i for i in range(8)]
        for n in names:
            c.create_pipeline(chain(n, seconds="1"))
        poll(lambda: any(p.get("status", {}).get("phase") == "Running" for p in c.pods("aidi.dev/pipeline")),
             timeout=60, what="stages running")
        c.kill("operator")  # the leader, by SIGKILL: no release
        killed = time.monotonic()
        last_renewal = parse_micro_time(c.api("GET", lease_path)["spec"]["renewTime"])
        second = poll(lambda: (lambda h: h if h and h != first else None)(
            c.api("GET", lease_path, ok=(200,))["spec"].get("holderIdentity")), timeout=40, interval=0.1,
            what="the standby taking the lease")
        takeover = time.monotonic() - killed
        lease = c.api("GET", lease_path)["spec"]
        lease_seconds = lease["leaseDurationSeconds"]
        # client-go's rule: a candidate may take the lease once lease_duration has passed since
        # the last renewal it saw, and it tries every retry period (2 s, jittered up to 2.2x).
        # So the standby must hold it within one retry period of the dead leader's lease expiring.
        after_expiry = parse_micro_time(lease["acquireTime"]) - (last_renewal + lease_seconds)
        self.assertLessEqual(after_expiry, 2 * 2.2 + 0.5, "took over %.1f s after expiry" % after_expiry)
        self.assertNotEqual(second, first)
        c.wait_all_succeeded(names, timeout=180)
        self.assert_no_stage_ran_twice(c, names)
        self.assert_status_agrees_with_pods(c, names)
        figures("leader_failover", lease_duration_seconds=lease_seconds, takeover_seconds=round(takeover, 1),
                seconds_after_lease_expiry=round(after_expiry, 1),
                pipelines=len(names))


class ExtenderRestart(unittest.TestCase):
    def test_the_ledger_rebuilds_and_no_gpu_is_over_allocated(self):
        # ignoredByScheduler: the scheduler loop leaves GPU fit to the extender alone, so only the
        # extender's ledger stands between a burst and over-allocation.
        c = Cluster("extender", nodes_yaml(4, gpus=2), SCHEDULER_CONFIG.replace("%(ignored)s", "true"))
        self.addCleanup(c.stop)
        c.start_devcluster()
        c.setup_workspace()
        c.start_extender()
        poll(c.extender_ready, timeout=30, what="the extender's /readyz")
        capacity = {"node-%d" % i: 2 for i in range(4)}
        worst = {"over": 0, "max_held": 0}
        stop = threading.Event()

        def watch_allocation():
            while not stop.is_set():
                try:
                    held = collections.Counter()
                    for p in c.pods("burst=1"):
                        node = p["spec"].get("nodeName")
                        if node and p.get("status", {}).get("phase") not in ("Succeeded", "Failed"):
                            held[node] += 1
                    worst["max_held"] = max([worst["max_held"]] + list(held.values()))
                    worst["over"] = max([worst["over"]] + [held[n] - capacity[n] for n in held])
                except AssertionError:
                    pass
                time.sleep(0.05)
        t = threading.Thread(target=watch_allocation, daemon=True)
        t.start()
        count = 24
        for i in range(count):
            c.api("POST", "/api/v1/namespaces/default/pods", body={
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "gpu-%02d" % i, "labels": {"burst": "1"},
                             "annotations": {"aidi.dev/demand": json.dumps({"gpus": 1, "workGpuSeconds": 1})}},
                "spec": {"schedulerName": "aidi-scheduler", "restartPolicy": "Never",
                         "containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c", "sleep 1.5"],
                                         "resources": {"requests": {"nvidia.com/gpu": "1"},
                                                       "limits": {"nvidia.com/gpu": "1"}}}]}})
        poll(lambda: len([p for p in c.pods("burst=1") if p["spec"].get("nodeName")]) >= 6, timeout=60,
             what="the first GPU pods bound")
        c.kill("extender")  # SIGKILL mid-burst: its ledger is gone
        killed = time.monotonic()
        time.sleep(1)
        c.start_extender()
        poll(c.extender_ready, timeout=30, what="the restarted extender's /readyz")
        ready = time.monotonic()
        poll(lambda: all(p.get("status", {}).get("phase") == "Succeeded" for p in c.pods("burst=1")),
             timeout=240, interval=0.5, what="every GPU pod finished")
        done = time.monotonic()
        stop.set()
        t.join()
        self.assertEqual(worst["over"], 0, "a node held more GPUs than it has")
        self.assertEqual(worst["max_held"], 2, "the burst should fill nodes")
        figures("extender_restart", gpu_pods=count, gpus=sum(capacity.values()), over_allocated=worst["over"],
                seconds_to_ready_after_restart=round(ready - killed, 1),
                seconds_from_ready_to_burst_done=round(done - ready, 1))


if __name__ == "__main__":
    BIN = take_bin_arg(sys.argv)
    if shutil.which("kubectl") is None:
        sys.exit(harness.SKIP)
    unittest.main(verbosity=2)
