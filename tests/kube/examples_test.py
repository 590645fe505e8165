#!/usr/bin/env python3
"""End-to-end proof of the kube example programs' contracts, with the real binaries.

kube-example-podcache caches pods (all, or those matching --selector), prints one JSON line
{"event":"synced","count":N} once the initial list is in, then {"event":"changed","count":N} at
most every 100 ms while the cache changes, and exits 0 on SIGTERM or SIGINT.
kube-example-configmap-controller keeps the annotation example.aidi.dev/data-hash of every
ConfigMap labelled example.aidi.dev/hash=true equal to a hash of its data, records an Event when
it changes it, serves /healthz, /readyz and /metrics, and exits 0 on SIGTERM.

Each test class starts one aidi-devcluster (--enable-faults) in setUpClass; each test works in
namespaces of its own. Expected counts come from the server (a list of every pod), so tests do not
depend on each other's leftovers.

  tests/kube/examples_test.py --binary build/bin/aidi-devcluster --bin-dir build/bin
Exit code 77 (skipped) when the python kubernetes module is absent.
"""

import concurrent.futures
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "devcluster"))
import harness  # noqa: E402
from harness import poll  # noqa: E402

try:
    import kubernetes  # noqa: F401  (the suite's declared client dependency: skip without it)
except ImportError:
    print("SKIP: python kubernetes module not installed", file=sys.stderr)
    sys.exit(harness.SKIP)

BIN_DIR = None  # set in __main__ from --bin-dir
LABEL = "example.aidi.dev/hash"
ANNOTATION = "example.aidi.dev/data-hash"
SLACK_S = 0.150  # pipe and reader-thread jitter at the first and last line


def take_bin_dir_arg(argv):
    """Removes `--bin-dir DIR` from argv and returns the directory (default build/bin)."""
    d = None
    if "--bin-dir" in argv:
        i = argv.index("--bin-dir")
        d = argv[i + 1]
        del argv[i:i + 2]
    return os.path.abspath(d or os.path.join(harness.REPO, "build", "bin"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data_hash(data):
    """The controller's hash: FNV-1a 64 over nlohmann::json's dump() of the data (sorted keys,
    no spaces, UTF-8)."""
    h = 1469598103934665603
    for c in json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode():
        h ^= c
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def pod(name, labels=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


class ExampleProcess:
    """One example binary. stdout is read line by line by a thread that stamps each line with
    time.monotonic() on arrival; stderr goes to a file (it can be large at --log-level debug)."""

    def __init__(self, name, *args):
        self.path = os.path.join(BIN_DIR, name)
        self.tmp = tempfile.mkdtemp(prefix="aidi-example.")
        self.stderr_path = os.path.join(self.tmp, "stderr")
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([self.path] + list(args), stdout=subprocess.PIPE,
                                     stderr=self.stderr_file)
        self.lines = queue.Queue()
        self.received = []  # (monotonic time, raw line) of every stdout line, in order
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            item = (time.monotonic(), raw.decode(errors="replace").rstrip("\n"))
            self.received.append(item)
            self.lines.put(item)
        self.lines.put(None)  # end of stream

    def next_event(self, timeout=10.0):
        """The next stdout line as (time, parsed JSON); fails on timeout, EOF or a non-JSON line."""
        try:
            item = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no stdout line within %.1fs; stderr:\n%s" % (timeout, self.stderr_tail()))
        if item is None:
            raise AssertionError("stdout closed (exit %s); stderr:\n%s" % (self.proc.poll(), self.stderr_tail()))
        t, line = item
        try:
            return t, json.loads(line)
        except ValueError:
            raise AssertionError("stdout line is not JSON: %r" % line)

    def wait_count(self, expected, timeout=10.0, settle=0.3):
        """Reads "changed" lines until one says `expected`, then checks that no later line within
        `settle` seconds disagrees. Returns the events read."""
        deadline = time.monotonic() + timeout
        events = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("count never reached %d; last lines %r; stderr:\n%s"
                                     % (expected, events[-5:], self.stderr_tail()))
            _, e = self.next_event(timeout=left)
            events.append(e)
            if e.get("event") != "changed":
                raise AssertionError("expected a changed line, got %r" % e)
            if e["count"] == expected:
                break
        end = time.monotonic() + settle
        while time.monotonic() < end:
            try:
                item = self.lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                raise AssertionError("stdout closed while settling; stderr:\n%s" % self.stderr_tail())
            e = json.loads(item[1])
            events.append(e)
            if e["count"] != expected:
                raise AssertionError("count moved away from %d after reaching it: %r" % (expected, e))
        return events

    def drain(self, quiet=0.3):
        """Discards lines until none arrives for `quiet` seconds."""
        while True:
            try:
                self.lines.get(timeout=quiet)
            except queue.Empty:
                return

    def signal(self, sig, timeout=5.0):
        """Sends `sig` and returns the exit code; fails if the process outlives `timeout`."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("%s did not exit within %.0fs of signal %d; stderr:\n%s"
                                 % (os.path.basename(self.path), timeout, sig, self.stderr_tail()))

    def stdout_text(self):
        return "\n".join(line for _, line in self.received)

    def stderr_text(self):
        self.stderr_file.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stderr_tail(self, n=20):
        return "\n".join(self.stderr_text().splitlines()[-n:])

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        self.stderr_file.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class ClusterTest(unittest.TestCase):
    """One devcluster (with fault endpoints) per class; helpers for pods and namespaces."""

    @classmethod
    def setUpClass(cls):
        cls.dc = harness.DevCluster("--enable-faults", name=cls.__name__).start()
        cls.namespaces = 0

    @classmethod
    def tearDownClass(cls):
        cls.dc.cleanup()

    def tearDown(self):
        self.dc.clear_faults()

    def namespace(self):
        type(self).namespaces += 1
        name = "%s-%d" % (self._testMethodName.replace("_", "-")[:40].strip("-"), self.namespaces)
        self.dc.ok("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
        return name

    def start(self, name, *args):
        p = ExampleProcess(name, "--kubeconfig", self.dc.kubeconfig, *args)
        self.addCleanup(p.close)
        return p

    def create_pods(self, ns, names, labels=None, workers=8):
        """Creates the pods concurrently (a burst, not a trickle)."""
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda n: self.dc.ok("POST", "/api/v1/namespaces/%s/pods" % ns, pod(n, labels)), names))

    def delete_pods(self, ns, names, workers=8):
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda n: self.dc.ok("DELETE", "/api/v1/namespaces/%s/pods/%s" % (ns, n)), names))

    def server_pod_count(self, selector=None):
        path = "/api/v1/pods"
        if selector:
            path += "?labelSelector=" + selector
        return len(self.dc.ok("GET", path)["items"])

    def drop_watches(self):
        """Closes every open watch; waits until there was one to close (a client that has just
        listed may not have opened its watch yet)."""
        return poll(lambda: self.dc.ok("POST", "/devcluster/faults/drop-watches", {})["dropped"],
                    timeout=10, what="an open watch to drop")

    def request_counts(self):
        return self.dc.ok("GET", "/devcluster/requests")["counts"]

    def assert_min_gaps(self, proc):
        # Lines are stamped when the reader thread gets them, so a busy machine can deliver two
        # at once; the rate over the whole run still shows whether the 100 ms rule held: n lines
        # need at least (n - 1) * 100 ms between the first and the last.
        changed = [t for t, line in proc.received if '"changed"' in line]
        if len(changed) < 2:
            return
        span = changed[-1] - changed[0]
        self.assertGreaterEqual(span + SLACK_S, (len(changed) - 1) * 0.100,
                                "%d changed lines within %.0f ms" % (len(changed), span * 1000))

    def assert_no_secret(self, proc, token):
        out, err = proc.stdout_text(), proc.stderr_text()
        self.assertNotIn(token, out, "bearer token printed on stdout")
        self.assertNotIn(token, err, "bearer token logged on stderr")
        # Token prefixes are secrets too (a log that truncates still leaks entropy).
        self.assertNotIn(token[:16], err, "a prefix of the bearer token logged on stderr")


class PodCacheSyncTest(ClusterTest):
    """A fresh cluster, so the synced count is exactly the pods this test made."""

    def test_first_line_is_synced_with_precreated_count(self):
        a, b = self.namespace(), self.namespace()
        self.create_pods(a, ["a-%d" % i for i in range(18)])
        self.create_pods(b, ["b-%d" % i for i in range(12)], labels={"app": "web"})
        self.assertEqual(self.server_pod_count(), 30)
        p = self.start("kube-example-podcache")
        _, first = p.next_event(timeout=15)
        self.assertEqual(first, {"event": "synced", "count": 30})
        # Nothing changed since the list: no "changed" line follows.
        with self.assertRaises(queue.Empty):
            p.lines.get(timeout=0.4)
        self.assertEqual(p.signal(signal.SIGTERM), 0)
        self.assertEqual(p.stdout_text().splitlines(), ['{"count":30,"event":"synced"}'])


class PodCacheTest(ClusterTest):

    def start_synced(self, *args):
        expected = self.server_pod_count(*(a.split("=", 1)[1] for a in args if a.startswith("--selector=")))
        p = self.start("kube-example-podcache", *args)
        _, first = p.next_event(timeout=15)
        self.assertEqual(first, {"event": "synced", "count": expected})
        return p, expected

    def test_changes_are_reported_and_rate_limited(self):
        ns = self.namespace()
        self.create_pods(ns, ["seed-%d" % i for i in range(5)])
        p, n = self.start_synced()
        # One at a time, waiting for each: every change is reported with the right count.
        for i in range(3):
            self.create_pods(ns, ["one-%d" % i])
            n += 1
            self.assertEqual(p.wait_count(n)[-1], {"event": "changed", "count": n})
        self.delete_pods(ns, ["one-0"])
        n -= 1
        p.wait_count(n)
        # A burst of 50 creates: coalesced into fewer lines than pods, at most one per 100 ms.
        before = len(p.received)
        self.create_pods(ns, ["burst-%d" % i for i in range(50)])
        n += 50
        self.assertEqual(n, self.server_pod_count())
        p.wait_count(n, timeout=15)
        burst_lines = len(p.received) - before
        self.assertGreaterEqual(burst_lines, 1)
        self.assertLess(burst_lines, 50, "a 50-pod burst printed %d lines" % burst_lines)
        # A burst of deletes, likewise.
        before = len(p.received)
        self.delete_pods(ns, ["burst-%d" % i for i in range(30)])
        n -= 30
        p.wait_count(n, timeout=15)
        self.assertLess(len(p.received) - before, 30)
        self.assert_min_gaps(p)
        self.assertEqual(p.signal(signal.SIGTERM), 0)

    def test_selector_counts_only_matching_pods(self):
        ns = self.namespace()
        self.create_pods(ns, ["web-%d" % i for i in range(3)], labels={"app": "web"})
        self.create_pods(ns, ["db-%d" % i for i in range(2)], labels={"app": "db"})
        self.create_pods(ns, ["web2-0"], labels={"app": "web2"})
        self.create_pods(ns, ["bare-0"])
        self.assertEqual(self.server_pod_count("app=web"), 3)
        p, n = self.start_synced("--selector=app=web")
        self.assertEqual(n, 3)
        pods = "/api/v1/namespaces/%s/pods/" % ns
        # Relabel out of the selection, then another one in.
        self.dc.ok("PATCH", pods + "web-0", {"metadata": {"labels": {"app": "db"}}})
        p.wait_count(2)
        self.dc.ok("PATCH", pods + "db-0", {"metadata": {"labels": {"app": "web"}}})
        p.wait_count(3)
        # Non-matching pods come and go unseen; matching ones are counted.
        before = len(p.received)
        self.create_pods(ns, ["db-9"], labels={"app": "db"})
        self.delete_pods(ns, ["db-1", "bare-0"])
        self.dc.ok("PATCH", pods + "web2-0", {"metadata": {"labels": {"tier": "x"}}})
        self.create_pods(ns, ["web-9"], labels={"app": "web"})
        p.wait_count(4)
        self.assertEqual(self.server_pod_count("app=web"), 4)
        self.delete_pods(ns, ["web-1"])
        p.wait_count(3)
        # Only the two matching changes above could have produced lines.
        self.assertLessEqual(len(p.received) - before, 2)
        self.assertEqual(p.signal(signal.SIGTERM), 0)

    def test_sigterm_exits_zero(self):
        p, _ = self.start_synced()
        t = time.monotonic()
        self.assertEqual(p.signal(signal.SIGTERM, timeout=5), 0)
        self.assertLess(time.monotonic() - t, 5)

    def test_sigint_exits_zero(self):
        p, _ = self.start_synced()
        self.assertEqual(p.signal(signal.SIGINT, timeout=5), 0)

    def test_sigterm_before_sync_exits_zero(self):
        # Lists hang (latency fault): the signal must still end the process promptly.
        self.dc.ok("POST", "/devcluster/faults/latency", {"verb": "list", "resource": "pods", "milliseconds": 3000})
        p = self.start("kube-example-podcache")
        time.sleep(0.5)
        self.assertEqual(p.signal(signal.SIGTERM, timeout=5), 0)
        self.assertEqual(p.stdout_text(), "")

    def test_survives_dropped_watches(self):
        ns = self.namespace()
        self.create_pods(ns, ["pre-%d" % i for i in range(4)])
        p, n = self.start_synced()
        counts = self.request_counts()
        for round_ in range(3):
            self.drop_watches()
            names = ["r%d-%d" % (round_, i) for i in range(10)]
            self.create_pods(ns, names)
            n += 10
            p.wait_count(n)
            self.delete_pods(ns, names[:4])
            n -= 4
            p.wait_count(n)
        after = self.request_counts()
        # It resumed its watch each time, and did so without a relist (history was kept).
        self.assertGreaterEqual(after.get("watch pods", 0) - counts.get("watch pods", 0), 3)
        self.assertEqual(after.get("list pods", 0), counts.get("list pods", 0),
                         "podcache relisted although its resourceVersion was still in history")
        self.assertEqual(n, self.server_pod_count())
        self.assertEqual(p.signal(signal.SIGTERM), 0)

    def test_survives_compaction_and_dropped_watches(self):
        ns = self.namespace()
        self.create_pods(ns, ["pre-%d" % i for i in range(6)])
        p, n = self.start_synced()
        counts = self.request_counts()
        # Compaction drops every watch and forgets history: the resume gets 410 and must relist.
        # The changes right after it race the relist; either way they must end up counted.
        self.dc.compact()
        self.delete_pods(ns, ["pre-0", "pre-1"])
        self.create_pods(ns, ["c-%d" % i for i in range(7)])
        n += 5
        p.wait_count(n)
        self.dc.compact()
        self.drop_watches()
        self.create_pods(ns, ["d-%d" % i for i in range(3)])
        n += 3
        p.wait_count(n)
        after = self.request_counts()
        self.assertGreaterEqual(after.get("list pods", 0) - counts.get("list pods", 0), 1,
                                "no relist after compaction")
        self.assertEqual(n, self.server_pod_count())
        self.assertEqual(p.signal(signal.SIGTERM), 0)

    def test_token_never_logged(self):
        token = self.dc.token
        ns = self.namespace()
        # A failed list, a throttled watch, dropped watches and a compaction: the paths that log.
        self.dc.ok("POST", "/devcluster/faults/errors", {"verb": "list", "resource": "pods", "code": 500, "count": 1})
        self.dc.ok("POST", "/devcluster/faults/errors",
                   {"verb": "watch", "resource": "pods", "code": 429, "count": 1, "retryAfterSeconds": 1})
        p = self.start("kube-example-podcache", "--log-level", "debug")
        _, first = p.next_event(timeout=20)
        self.assertEqual(first["event"], "synced")
        n = self.server_pod_count()
        self.create_pods(ns, ["s-%d" % i for i in range(3)])
        n += 3
        p.wait_count(n, timeout=15)
        self.drop_watches()
        self.create_pods(ns, ["t-0"])
        p.wait_count(n + 1)
        self.dc.compact()
        self.delete_pods(ns, ["t-0"])
        p.wait_count(n)
        self.assertEqual(p.signal(signal.SIGTERM), 0)
        err = p.stderr_text()
        self.assertIn("level=debug", err, "--log-level debug logged no debug lines")
        self.assert_no_secret(p, token)


class CommandLineTest(unittest.TestCase):
    """Flags and start-up failures; no cluster needed."""

    def run_binary(self, name, *args):
        return subprocess.run([os.path.join(BIN_DIR, name)] + list(args), capture_output=True,
                              timeout=15, env=dict(os.environ, KUBECONFIG="/nonexistent/kubeconfig"))

    def test_bad_kubeconfig_path(self):
        missing = os.path.join(tempfile.gettempdir(), "aidi-no-such-dir-%d" % os.getpid(), "kubeconfig")
        for name, extra in (("kube-example-podcache", []),
                            ("kube-example-configmap-controller", ["--health-addr", "127.0.0.1:%d" % free_port()])):
            r = self.run_binary(name, "--kubeconfig", missing, *extra)
            self.assertNotEqual(r.returncode, 0, name)
            self.assertIn(missing, r.stderr.decode(), name)
            self.assertEqual(r.stdout, b"", name)

    def test_unparsable_kubeconfig(self):
        d = tempfile.mkdtemp(prefix="aidi-example.")
        self.addCleanup(shutil.rmtree, d, True)
        bad = os.path.join(d, "kubeconfig")
        with open(bad, "w") as f:
            f.write("clusters: [this is: not: valid\n")
        r = self.run_binary("kube-example-podcache", "--kubeconfig", bad)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(bad, r.stderr.decode())

    def test_help(self):
        for name, flags in (("kube-example-podcache", ["--kubeconfig", "--selector", "--log-level"]),
                            ("kube-example-configmap-controller", ["--kubeconfig", "--health-addr", "--log-level"])):
            r = self.run_binary(name, "--help")
            self.assertEqual(r.returncode, 0, name)
            out = r.stdout.decode()
            self.assertIn("Usage", out, name)
            for flag in flags:
                self.assertIn(flag, out, name)

    def test_bad_flag_value(self):
        r = self.run_binary("kube-example-podcache", "--log-level", "loud")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("loud", r.stderr.decode())


class ConfigMapControllerTest(ClusterTest):

    def start_controller(self, *args):
        port = free_port()
        p = self.start("kube-example-configmap-controller", "--health-addr", "127.0.0.1:%d" % port, *args)
        self.health = "http://127.0.0.1:%d" % port
        return p

    def http_get(self, path):
        try:
            with urllib.request.urlopen(self.health + path, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def annotation(self, ns, name):
        cm = self.dc.ok("GET", "/api/v1/namespaces/%s/configmaps/%s" % (ns, name))
        return (cm["metadata"].get("annotations") or {}).get(ANNOTATION)

    def events(self, ns, reason):
        items = self.dc.ok("GET", "/api/v1/namespaces/%s/events" % ns)["items"]
        return [e for e in items if e.get("reason") == reason]

    def test_keeps_hash_annotation(self):
        ns = self.namespace()
        cms = "/api/v1/namespaces/%s/configmaps" % ns
        self.dc.ok("POST", cms, {"metadata": {"name": "plain"}, "data": {"k": "v"}})
        p = self.start_controller()
        poll(lambda: self.http_get("/readyz")[0] == 200, timeout=15, what="/readyz 200")
        self.assertEqual(self.http_get("/healthz")[0], 200)

        data = {"b": "2", "a": "1", "nested": "x=y z"}
        self.dc.ok("POST", cms, {"metadata": {"name": "hashed", "labels": {LABEL: "true"}}, "data": data})
        want = data_hash(data)
        poll(lambda: self.annotation(ns, "hashed") == want, timeout=10, what="data-hash annotation")

        # Changing the data changes the annotation.
        self.dc.ok("PATCH", cms + "/hashed", {"data": {"a": "changed"}})
        data2 = dict(data, a="changed")
        self.assertNotEqual(data_hash(data2), want)
        poll(lambda: self.annotation(ns, "hashed") == data_hash(data2), timeout=10, what="updated annotation")

        # A labelled ConfigMap without data gets the hash of {}; the unlabelled one is untouched.
        self.dc.ok("POST", cms, {"metadata": {"name": "empty", "labels": {LABEL: "true"}}})
        poll(lambda: self.annotation(ns, "empty") == data_hash({}), timeout=10, what="hash of empty data")
        plain = self.dc.ok("GET", cms + "/plain")
        self.assertNotIn(ANNOTATION, plain["metadata"].get("annotations") or {})
        self.assertEqual(plain["metadata"].get("resourceVersion"),
                         self.dc.ok("GET", cms + "/plain")["metadata"]["resourceVersion"])

        # Someone overwrites the annotation: the controller puts it back.
        self.dc.ok("PATCH", cms + "/hashed", {"metadata": {"annotations": {ANNOTATION: "bogus"}}})
        poll(lambda: self.annotation(ns, "hashed") == data_hash(data2), timeout=10, what="annotation restored")

        events = poll(lambda: [e for e in self.events(ns, "HashUpdated")
                               if e["involvedObject"].get("name") == "hashed"],
                      timeout=10, what="HashUpdated event")
        self.assertEqual(events[0]["type"], "Normal")
        self.assertEqual(events[0]["involvedObject"].get("kind"), "ConfigMap")
        self.assertFalse([e for e in self.events(ns, "HashUpdated") if e["involvedObject"].get("name") == "plain"])

        status, metrics = self.http_get("/metrics")
        self.assertEqual(status, 200)
        self.assertIn("aidi_controller_reconcile_total", metrics)
        if shutil.which("promtool"):
            r = subprocess.run(["promtool", "check", "metrics"], input=metrics.encode(), capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, "promtool check metrics: %s%s" % (r.stdout.decode(), r.stderr.decode()))

        self.assertEqual(p.signal(signal.SIGTERM), 0)

    def test_sigint_exits_zero(self):
        p = self.start_controller()
        poll(lambda: self.http_get("/readyz")[0] == 200, timeout=15, what="/readyz 200")
        self.assertEqual(p.signal(signal.SIGINT), 0)

    def test_token_never_logged(self):
        token = self.dc.token
        ns = self.namespace()
        cms = "/api/v1/namespaces/%s/configmaps" % ns
        self.dc.ok("POST", "/devcluster/faults/errors", {"verb": "list", "resource": "configmaps", "code": 500, "count": 1})
        # One conflict on the controller's patch: the reconcile fails and is retried.
        self.dc.ok("POST", "/devcluster/faults/errors", {"verb": "patch", "resource": "configmaps", "code": 409, "count": 1})
        p = self.start_controller("--log-level", "debug")
        poll(lambda: self.http_get("/readyz")[0] == 200, timeout=20, what="/readyz 200")
        for i in range(3):
            self.dc.ok("POST", cms, {"metadata": {"name": "cm-%d" % i, "labels": {LABEL: "true"}}, "data": {"i": str(i)}})
        self.drop_watches()
        self.dc.compact()
        for i in range(3):
            poll(lambda: self.annotation(ns, "cm-%d" % i) == data_hash({"i": str(i)}), timeout=15,
                 what="annotation on cm-%d" % i)
        poll(lambda: len(self.events(ns, "HashUpdated")) >= 3, timeout=10, what="3 HashUpdated events")
        self.assertEqual(p.signal(signal.SIGTERM), 0)
        self.assertIn("level=debug", p.stderr_text(), "--log-level debug logged no debug lines")
        self.assert_no_secret(p, token)


if __name__ == "__main__":
    BIN_DIR = take_bin_dir_arg(sys.argv)
    for b in ("kube-example-podcache", "kube-example-configmap-controller"):
        if not os.access(os.path.join(BIN_DIR, b), os.X_OK):
            print("FAIL: %s not found or not executable in %s" % (b, BIN_DIR), file=sys.stderr)
            sys.exit(1)
    harness.run_suite(__name__)
