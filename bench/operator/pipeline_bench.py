#!/usr/bin/env python3
"""aidi-operator benchmark against aidi-devcluster: API writes per stage attempt, the latency
from a pod's Succeeded to the next stage's pod, and 1,000 pipelines of 5 stages.

A built-in kubelet stand-in watches stage pods and moves each one Pending -> Running ->
Succeeded with two /status writes, as a kubelet would. It stamps when it sent Succeeded; a
separate watch stamps when the next stage's pod appears. Writes are counted by devcluster
itself (GET /devcluster/requests), split by verb and resource; Events are counted apart.

    bench/operator/pipeline_bench.py [--pipelines 1000] [--latency-pipelines 60] [--json OUT]

Run by bench/operator/run.sh, which records the result in docs/benchmarks.md.
"""

import argparse
import heapq
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "devcluster"))
import harness  # noqa: E402

NS = "bench"
SHAPE = [("extract", []), ("clean", ["extract"]), ("features", ["extract"]),
         ("train", ["clean", "features"]), ("report", ["train"])]  # 5 stages, a diamond + tail


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Conn:
    """A keep-alive HTTPS connection to devcluster (one per thread)."""

    def __init__(self, dc):
        self.dc = dc
        self.c = dc.connection(timeout=60)

    def call(self, method, path, body=None, ctype="application/json"):
        h = {"Authorization": "Bearer " + self.dc.token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = ctype
        for attempt in range(3):
            try:
                self.c.request(method, path, body=data, headers=h)
                r = self.c.getresponse()
                payload = r.read()
                return r.status, (json.loads(payload) if payload else None)
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = self.dc.connection(timeout=60)
                if attempt == 2:
                    raise


def pipeline(name):
    return {"apiVersion": "aidi.dev/v1alpha1", "kind": "Pipeline",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"stages": [dict({"name": s, "op": "noop"}, **({"dependsOn": d} if d else {}))
                                for s, d in SHAPE]}}


class Kubelet:
    """Moves every new stage pod to Running at once and to Succeeded `run_seconds` later (a
    stage runs for a while: the operator records Running before the pod ends, as in a real
    cluster); stamps when each pod appeared and when Succeeded was sent."""

    def __init__(self, dc, run_seconds=0.1, workers=4):
        self.dc = dc
        self.run_seconds = run_seconds
        self.work = queue.Queue()
        self.timers = []  # heap of (due, pod name)
        self.timers_cv = threading.Condition()
        self.created = {}     # pod name -> monotonic time its ADDED event arrived
        self.succeeded = {}   # pod name -> monotonic time Succeeded was sent
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.watch, daemon=True),
                        threading.Thread(target=self.timer_loop, daemon=True)]
        self.threads += [threading.Thread(target=self.worker, daemon=True) for _ in range(workers)]

    def start(self):
        for t in self.threads:
            t.start()

    def watch(self):
        try:
            self.watch_pods()
        except (OSError, http.client.HTTPException):
            pass  # devcluster went away: the run is over

    def watch_pods(self):
        rv = Conn(self.dc).call("GET", "/api/v1/namespaces/%s/pods" % NS)[1]["metadata"]["resourceVersion"]
        while True:
            w = self.dc.watch("/api/v1/namespaces/%s/pods?watch=1&resourceVersion=%s&timeoutSeconds=300"
                              % (NS, rv), timeout=400)
            while True:
                e = w.next()
                if e is None:
                    break
                now = time.monotonic()
                obj = e["object"]
                rv = obj["metadata"].get("resourceVersion", rv)
                if e["type"] == "ADDED":
                    name = obj["metadata"]["name"]
                    with self.lock:
                        self.created.setdefault(name, now)
                    self.work.put(("run", name))
            w.close()

    def timer_loop(self):
        with self.timers_cv:
            while True:
                while not self.timers:
                    self.timers_cv.wait()
                due, name = self.timers[0]
                delay = due - time.monotonic()
                if delay > 0:
                    self.timers_cv.wait(delay)
                    continue
                heapq.heappop(self.timers)
                self.work.put(("succeed", name))

    def worker(self):
        conn = Conn(self.dc)
        while True:
            action, name = self.work.get()
            path = "/api/v1/namespaces/%s/pods/%s/status" % (NS, name)
            if action == "run":
                start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                conn.call("PATCH", path, {"status": {"phase": "Running", "startTime": start}},
                          "application/merge-patch+json")
                with self.timers_cv:
                    heapq.heappush(self.timers, (time.monotonic() + self.run_seconds, name))
                    self.timers_cv.notify()
                continue
            with self.lock:
                self.succeeded[name] = time.monotonic()
            conn.call("PATCH", path, {"status": {"phase": "Succeeded", "containerStatuses": [
                {"name": "stage", "ready": False, "restartCount": 0, "image": "x", "imageID": "",
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}},
                "application/merge-patch+json")


def request_counts(conn):
    return conn.call("GET", "/devcluster/requests")[1]["counts"]


def writes(before, after):
    """Writes between two request snapshots, split into stage-pod, pipeline and event writes."""
    out = {}
    for key, n in after.items():
        d = n - before.get(key, 0)
        verb = key.split(" ")[0]
        if d and verb in ("create", "update", "patch", "delete", "deletecollection"):
            out[key] = d
    return out


def rss_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_all_complete(conn, names, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = conn.call("GET", "/apis/aidi.dev/v1alpha1/namespaces/%s/pipelines" % NS)[1]["items"]
        done = sum(1 for p in items if p["metadata"]["name"] in names
                   and p.get("status", {}).get("phase") == "Succeeded")
        if done == len(names):
            return True
        time.sleep(0.2)
    return False


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devcluster", default=os.path.join(REPO, "build", "bin", "aidi-devcluster"))
    ap.add_argument("--operator", default=os.path.join(REPO, "build", "bin", "aidi-operator"))
    ap.add_argument("--pipelines", type=int, default=1000, help="pipelines in the scale run")
    ap.add_argument("--latency-pipelines", type=int, default=60,
                    help="pipelines in the latency run (created 5 at a time)")
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args()

    dc = harness.DevCluster("--enable-faults", binary=args.devcluster, name="bench")
    dc.start()
    env = dict(os.environ, KUBECONFIG=dc.kubeconfig)
    subprocess.run(["kubectl", "apply", "-f", os.path.join(REPO, "crds")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    conn = Conn(dc)
    conn.call("POST", "/api/v1/namespaces", {"metadata": {"name": NS}})
    log = open(os.environ.get("BENCH_OPERATOR_LOG_FILE", os.path.join(dc.tmp, "operator.log")), "wb")
    op = subprocess.Popen([args.operator, "--kubeconfig", dc.kubeconfig, "--log-level", os.environ.get("BENCH_OPERATOR_LOG", "warn"),
                           "--metrics-addr", "127.0.0.1:%d" % free_port(),
                           "--health-addr", "127.0.0.1:%d" % free_port()], stdout=log, stderr=log)
    results = {}
    try:
        time.sleep(1.0)
        kubelet = Kubelet(dc)
        kubelet.start()
        time.sleep(0.5)

        # 1. Latency and writes per attempt: a few pipelines at a time, on an idle operator.
        before = request_counts(conn)
        names = []
        for i in range(args.latency_pipelines):
            name = "lat-%03d" % i
            names.append(name)
            conn.call("POST", "/apis/aidi.dev/v1alpha1/namespaces/%s/pipelines" % NS, pipeline(name))
            if i % 5 == 4:
                assert wait_all_complete(conn, names[-5:], 60), "latency batch did not finish"
        time.sleep(1.0)
        after = request_counts(conn)
        w = writes(before, after)
        attempts = len(names) * len(SHAPE)
        events = sum(n for k, n in w.items() if k.endswith(" events"))
        # The operator's writes: stage pods, Pipeline status, the finalizer (not the bench's own
        # Pipeline creates, nor the kubelet's pod status writes).
        operator_writes = {k: n for k, n in w.items()
                           if k in ("create pods", "delete pods", "update pipelines/status",
                                    "patch pipelines/status", "patch pipelines", "update pipelines")}
        results["writes_per_attempt"] = round(sum(operator_writes.values()) / attempts, 2)
        results["writes_detail"] = operator_writes
        results["event_writes"] = events
        # Idle: nothing but watches and renewals for 10 s.
        idle_before = request_counts(conn)
        time.sleep(10)
        idle = writes(idle_before, request_counts(conn))
        results["idle_writes_10s"] = {k: n for k, n in idle.items() if "pods/status" not in k}

        lat = []
        with kubelet.lock:
            for name in names:
                for stage, deps in SHAPE:
                    if not deps:
                        continue
                    pod = "%s-%s-1" % (name, stage)
                    ready = max(kubelet.succeeded["%s-%s-1" % (name, d)] for d in deps)
                    lat.append((kubelet.created[pod] - ready) * 1000.0)
        results["latency_ms"] = {"samples": len(lat), "p50": round(percentile(lat, 50), 1),
                                 "p90": round(percentile(lat, 90), 1), "p99": round(percentile(lat, 99), 1),
                                 "max": round(max(lat), 1)}

        # 2. Scale: N pipelines created at once; time until every one is Succeeded.
        rss_before = rss_kib(op.pid, "VmRSS")
        cpu0 = {"operator": cpu_seconds(op.pid), "devcluster": cpu_seconds(dc.proc.pid),
                "bench": time.process_time()}
        names = ["scale-%04d" % i for i in range(args.pipelines)]
        t0 = time.monotonic()
        for name in names:
            conn.call("POST", "/apis/aidi.dev/v1alpha1/namespaces/%s/pipelines" % NS, pipeline(name))
        created_s = time.monotonic() - t0
        ok = wait_all_complete(conn, set(names), 1200)
        total_s = time.monotonic() - t0
        results["scale"] = {"pipelines": args.pipelines, "stages": len(SHAPE), "all_succeeded": ok,
                            "create_seconds": round(created_s, 1), "seconds_to_all_complete": round(total_s, 1),
                            "pods_per_second": round(args.pipelines * len(SHAPE) / total_s, 1),
                            "operator_rss_mib_before": round(rss_before / 1024.0, 1),
                            "operator_rss_mib_after": round(rss_kib(op.pid, "VmRSS") / 1024.0, 1),
                            "operator_peak_rss_mib": round(rss_kib(op.pid, "VmHWM") / 1024.0, 1),
                            "cpu_seconds": {
                                "operator": round(cpu_seconds(op.pid) - cpu0["operator"], 1),
                                "devcluster": round(cpu_seconds(dc.proc.pid) - cpu0["devcluster"], 1),
                                "bench_kubelet": round(time.process_time() - cpu0["bench"], 1)}}
        print(json.dumps(results, indent=2))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
        return 0 if ok else 1
    finally:
        op.terminate()
        try:
            op.wait(10)
        except subprocess.TimeoutExpired:
            op.kill()
        dc.cleanup()


if __name__ == "__main__":
    sys.exit(main())
