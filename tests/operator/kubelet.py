"""A fake kubelet and scheduler for the operator end-to-end suite.

aidi-devcluster has no kubelet and no scheduler, so stage pods would sit Pending for ever. A
Kubelet plays both for one namespace, as the real ones would act through the API:

- binds Pending pods without spec.nodeName to a node (POST pods/NAME/binding with a v1 Binding),
  optionally writing the aidi.dev/placement annotation as the scheduler extender does at bind
  time, and honouring the pod's nodeSelector and required node affinity (e.g. `aidi.dev/site
  NotIn [...]` after a pending timeout);
- moves bound pods to Running (status.startTime, a running containerStatus) and then to
  Succeeded or Failed (containerStatuses[0].state.terminated {exitCode, reason}) through the
  pods/status subresource, by a rule the test controls.

The rule: `outcomes` maps a stage name to one outcome per attempt (the last one repeats); or
`decide(pod) -> outcome` overrides it. An outcome is a string, or a tuple (string, seconds) where
seconds is how long the pod runs before it ends (default `run_seconds`):
  "succeed"        run, then exit 0 (the default)
  "fail"           run, then exit 1 (reason Error)
  "hold"           run and never end (for active timeouts, deletion while running)
  "pending"        never bind: the pod stays Pending without a node (pending timeouts)
  "bound-pending"  bind, but never start: Pending on a node
Stages in `frozen` are not touched at all while they are there (a gate the test opens later),
and `paused` stops every action.

The Kubelet watches the namespace's pods from the moment it starts and records every event with
its resourceVersion (devcluster has one resourceVersion counter, so rv order is the server's
order of writes): `created[name]` is the rv and local time of a pod's creation, `finished[name]`
the rv and time it Succeeded or Failed, `uids[name]` every uid seen under that name, and
`max_active` the most pods that existed at once without having finished, checked at every event.
Start it before the pipeline is created so that every creation is seen as an ADDED event.
"""

import json
import socket
import threading
import time
import traceback

FINISHED = ("Succeeded", "Failed")


def close_watch(w):
    """Closes a harness WatchStream so that a thread blocked reading it wakes up at once (closing
    a socket does not interrupt a blocked recv; shutting it down does)."""
    if w is None:
        return
    fp = getattr(w.resp, "fp", None)
    raw = getattr(fp, "raw", None)
    for sock in (getattr(w.conn, "sock", None), getattr(raw, "_sock", None)):
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    w.close()


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def pod_stage(pod):
    return pod.get("metadata", {}).get("labels", {}).get("aidi.dev/stage", "")


def pod_attempt(pod):
    labels = pod.get("metadata", {}).get("labels", {})
    try:
        return int(labels.get("aidi.dev/attempt", "0"))
    except ValueError:
        return 0


def node_fits(pod, node):
    """Whether `node` ({"name", "site", "labels"}) satisfies the pod's nodeSelector and the
    required node affinity's In/NotIn/Exists/DoesNotExist expressions (any term may match)."""
    labels = dict(node.get("labels") or {})
    if node.get("site"):
        labels.setdefault("aidi.dev/site", node["site"])
    spec = pod.get("spec", {})
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    req = (spec.get("affinity") or {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    terms = (req or {}).get("nodeSelectorTerms") or []
    if not terms:
        return True

    def expr_ok(e):
        op, key, values = e.get("operator"), e.get("key"), e.get("values") or []
        if op == "In":
            return labels.get(key) in values
        if op == "NotIn":
            return labels.get(key) not in values
        if op == "Exists":
            return key in labels
        if op == "DoesNotExist":
            return key not in labels
        return False
    return any(all(expr_ok(e) for e in t.get("matchExpressions") or []) for t in terms)


class Record:
    """One watch event as the kubelet saw it."""
    __slots__ = ("t", "type", "name", "uid", "rv", "phase", "node")

    def __init__(self, t, type_, name, uid, rv, phase, node):
        self.t, self.type, self.name, self.uid, self.rv, self.phase, self.node = t, type_, name, uid, rv, phase, node

    def __repr__(self):
        return "%s %s rv=%d phase=%s node=%s" % (self.type, self.name, self.rv, self.phase, self.node or "-")


class Kubelet:
    def __init__(self, dc, namespace, nodes, outcomes=None, decide=None, run_seconds=0.1,
                 start_delay=0.0, placement=True, tick=0.02, skip_running=False, align_failures=False):
        """`nodes`: list of {"name", "site", "labels"} to bind to (round robin over those that fit). `placement`: write the
        aidi.dev/placement annotation when binding. `skip_running`: go straight from bound to the
        final phase (still with startTime), for big pipelines. `align_failures`: write a failure
        just after a whole second, so that its second-resolution timestamps (terminated.finishedAt)
        are within a few ms of the truth and backoff gaps can be measured tightly."""
        self.dc = dc
        self.ns = namespace
        self.nodes = list(nodes)
        self.outcomes = dict(outcomes or {})
        self.decide = decide
        self.run_seconds = run_seconds
        self.start_delay = start_delay
        self.placement = placement
        self.tick = tick
        self.skip_running = skip_running
        self.align_failures = align_failures
        self.frozen = set()
        self.paused = False

        self.lock = threading.RLock()
        self.pods = {}          # name -> latest object (absent once deleted)
        self.records = []       # every watch event, in order
        self.created = {}       # name -> (rv, t) of the first ADDED (latest uid)
        self.finished = {}      # name -> (rv, t, phase)
        self.deleted = {}       # name -> (rv, t)
        self.finished_wall = {} # name -> time.time() when the kubelet wrote its final phase
        self.uids = {}          # name -> [uid, ...] in order of appearance
        self.stage_of = {}      # name -> aidi.dev/stage label
        self.max_active = 0
        self.active_at_max = []
        self.errors = []        # unexpected write failures (status, body)
        self._state = {}        # uid -> {"bound": t, "running": t, "done": t}
        self._rr = 0
        self._stop = threading.Event()
        self._synced = threading.Event()
        self._watch = None
        self._threads = []

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self):
        for target in (self._watch_loop, self._act_loop):
            th = threading.Thread(target=target, daemon=True)
            th.start()
            self._threads.append(th)
        if not self._synced.wait(10):
            raise AssertionError("kubelet: pod watch did not start")
        return self

    def stop(self):
        self._stop.set()
        close_watch(self._watch)
        for th in self._threads:
            th.join(timeout=5)

    # -- queries ------------------------------------------------------------------------------
    def pod_names(self):
        with self.lock:
            return sorted(self.created)

    def created_order(self):
        """Names of created pods in order of creation (rv)."""
        with self.lock:
            return [n for n, _ in sorted(self.created.items(), key=lambda kv: kv[1][0])]

    def stage_pods(self, stage):
        """Names of the pods (ever) created for `stage`, by its aidi.dev/stage label, in order."""
        with self.lock:
            return sorted((n for n, s in self.stage_of.items() if s == stage),
                          key=lambda n: self.created[n][0])

    def phase(self, name):
        with self.lock:
            p = self.pods.get(name)
            return p.get("status", {}).get("phase") if p else None

    def pods_finished_at(self, name):
        """Wall-clock time (epoch seconds) at which the kubelet ended the pod."""
        return self.finished_wall[name]

    def duplicate_names(self):
        with self.lock:
            return {n: u for n, u in self.uids.items() if len(u) > 1}

    def wait_created(self, name, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if name in self.created:
                    return self.created[name]
            time.sleep(0.01)
        raise AssertionError("pod %s not created within %.0fs (pods: %s)" % (name, timeout, self.pod_names()))

    def wait_finished(self, name, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if name in self.finished:
                    return self.finished[name]
            time.sleep(0.01)
        raise AssertionError("pod %s did not finish within %.0fs (phase %s)" % (name, timeout, self.phase(name)))

    # -- watch --------------------------------------------------------------------------------
    def _path(self, suffix=""):
        return "/api/v1/namespaces/%s/pods%s" % (self.ns, suffix)

    def _watch_loop(self):
        rv = None
        while not self._stop.is_set():
            try:
                if rv is None:
                    lst = self.dc.ok("GET", self._path())
                    rv = lst["metadata"]["resourceVersion"]
                    with self.lock:
                        for p in lst["items"]:
                            self._observe("ADDED", p)
                w = self.dc.watch(self._path("?watch=true&allowWatchBookmarks=true&timeoutSeconds=600"
                                             "&resourceVersion=%s" % rv), timeout=60)
                self._watch = w
                self._synced.set()
                while not self._stop.is_set():
                    e = w.next()
                    if e is None:
                        break
                    obj = e.get("object", {})
                    if e["type"] == "ERROR":
                        rv = None  # 410 Expired: relist
                        break
                    rv = obj.get("metadata", {}).get("resourceVersion", rv)
                    if e["type"] == "BOOKMARK":
                        continue
                    with self.lock:
                        self._observe(e["type"], obj)
                w.close()
            except Exception:  # noqa: BLE001 - a dropped or closed stream: resume (or stop)
                if self._stop.is_set():
                    return
                time.sleep(0.1)

    def _observe(self, type_, pod):
        md = pod.get("metadata", {})
        name, uid = md.get("name", ""), md.get("uid", "")
        rv = int(md.get("resourceVersion", "0") or 0)
        phase = pod.get("status", {}).get("phase", "")
        t = time.monotonic()
        self.records.append(Record(t, type_, name, uid, rv, phase, pod.get("spec", {}).get("nodeName")))
        if type_ == "DELETED":
            self.pods.pop(name, None)
            self.deleted[name] = (rv, t)
        else:
            self.pods[name] = pod
            self.stage_of[name] = pod_stage(pod)
            uids = self.uids.setdefault(name, [])
            if uid not in uids:
                uids.append(uid)
                self.created[name] = (rv, t)
            if phase in FINISHED and name not in self.finished:
                self.finished[name] = (rv, t, phase)
        active = [n for n, p in self.pods.items() if p.get("status", {}).get("phase") not in FINISHED]
        if len(active) > self.max_active:
            self.max_active = len(active)
            self.active_at_max = sorted(active)

    # -- acting -------------------------------------------------------------------------------
    def outcome(self, pod):
        if self.decide is not None:
            o = self.decide(pod)
        else:
            seq = self.outcomes.get(pod_stage(pod)) or ["succeed"]
            i = max(pod_attempt(pod), 1) - 1
            o = seq[min(i, len(seq) - 1)]
        if isinstance(o, tuple):
            return o[0], o[1]
        return o, self.run_seconds

    def _act_loop(self):
        while not self._stop.is_set():
            try:
                if not self.paused:
                    with self.lock:
                        pods = list(self.pods.values())
                    for p in pods:
                        if self._stop.is_set() or self.paused:
                            break
                        self._step(p)
            except Exception:  # noqa: BLE001 - keep the kubelet alive; record what broke
                self.errors.append(traceback.format_exc())
            time.sleep(self.tick)

    def _step(self, pod):
        md = pod["metadata"]
        if md.get("deletionTimestamp"):
            return
        stage = pod_stage(pod)
        if stage in self.frozen:
            return
        uid = md["uid"]
        st = self._state.setdefault(uid, {})
        if "done" in st:
            return
        phase = pod.get("status", {}).get("phase", "Pending")
        if phase in FINISHED:
            st["done"] = time.monotonic()
            return
        outcome, seconds = self.outcome(pod)
        now = time.monotonic()
        if "bound" not in st:
            if pod.get("spec", {}).get("nodeName"):
                st["bound"] = now
            elif outcome == "pending":
                return
            else:
                if self._bind(pod):
                    st["bound"] = now
                return
        if outcome in ("pending", "bound-pending"):
            return
        if "running" not in st:
            if phase == "Running":
                st["running"] = now
            elif now - st["bound"] >= self.start_delay:
                if self.skip_running and outcome in ("succeed", "fail"):
                    if self._finish(pod, outcome):
                        st["running"] = st["done"] = now
                    return
                if self._run(pod):
                    st["running"] = now
                return
            else:
                return
        if outcome in ("succeed", "fail") and now - st["running"] >= seconds:
            if self._finish(pod, outcome):
                st["done"] = now

    def choose_node(self, pod):
        """Round robin over the nodes that fit the pod; None (stay Pending) when none does."""
        for _ in range(len(self.nodes)):
            n = self.nodes[self._rr % len(self.nodes)]
            self._rr += 1
            if node_fits(pod, n):
                return n
        return None

    def _write(self, method, path, body, content_type=None):
        r = self.dc.request(method, path, body=body, content_type=content_type)
        if r.status // 100 == 2:
            return r
        if r.status in (404, 409):  # deleted meanwhile, or already bound: not an error here
            return None
        self.errors.append((method, path, r.status, r.body[:300]))
        return None

    def _bind(self, pod):
        node = self.choose_node(pod)
        if node is None:
            return False
        name = pod["metadata"]["name"]
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": name, "namespace": self.ns},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node["name"]}}
        if self.placement:
            binding["metadata"]["annotations"] = {"aidi.dev/placement": json.dumps(
                {"node": node["name"], "site": node.get("site", ""), "score": 87.5, "estSeconds": 12.5,
                 "estCost": 0.0042, "transferSeconds": 0.25,
                 "reason": "fake kubelet: round robin over test nodes"}, separators=(",", ":"))}
        return self._write("POST", self._path("/%s/binding" % name), binding) is not None

    def _container_name(self, pod):
        cs = pod.get("spec", {}).get("containers") or [{}]
        return cs[0].get("name", "main")

    def _run(self, pod):
        t = now_rfc3339()
        status = {"status": {
            "phase": "Running", "startTime": t, "hostIP": "10.0.0.1", "podIP": "10.244.0.10",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": t},
                           {"type": "ContainersReady", "status": "True", "lastTransitionTime": t},
                           {"type": "Initialized", "status": "True", "lastTransitionTime": t},
                           {"type": "PodScheduled", "status": "True", "lastTransitionTime": t}],
            "containerStatuses": [{"name": self._container_name(pod), "ready": True, "restartCount": 0,
                                   "started": True, "image": "img", "imageID": "img@sha256:0",
                                   "containerID": "containerd://" + pod["metadata"]["uid"],
                                   "state": {"running": {"startedAt": t}}}]}}
        return self._write("PATCH", self._path("/%s/status" % pod["metadata"]["name"]), status,
                           "application/merge-patch+json") is not None

    def _finish(self, pod, outcome):
        ok = outcome == "succeed"
        if not ok and self.align_failures:
            time.sleep(1.0 - (time.time() % 1.0) + 0.005)
        t = now_rfc3339()
        self.finished_wall[pod["metadata"]["name"]] = time.time()
        started = pod.get("status", {}).get("startTime") or t
        status = {"status": {
            "phase": "Succeeded" if ok else "Failed", "startTime": started,
            "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": t,
                            "reason": "PodCompleted"}],
            "containerStatuses": [{"name": self._container_name(pod), "ready": False, "restartCount": 0,
                                   "started": False, "image": "img", "imageID": "img@sha256:0",
                                   "containerID": "containerd://" + pod["metadata"]["uid"],
                                   "state": {"terminated": {
                                       "exitCode": 0 if ok else 1, "reason": "Completed" if ok else "Error",
                                       "startedAt": started, "finishedAt": t}}}]}}
        return self._write("PATCH", self._path("/%s/status" % pod["metadata"]["name"]), status,
                           "application/merge-patch+json") is not None


class Recorder:
    """Records every watch event of one collection (e.g. a namespace's Pipelines) with its
    resourceVersion, from the moment it starts: `events` is a list of (rv, type, object, t)."""

    def __init__(self, dc, path):
        self.dc = dc
        self.path = path
        self.events = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._synced = threading.Event()
        self._watch = None
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        if not self._synced.wait(10):
            raise AssertionError("recorder: watch of %s did not start" % self.path)
        return self

    def stop(self):
        self._stop.set()
        close_watch(self._watch)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self):
        rv = None
        while not self._stop.is_set():
            try:
                if rv is None:
                    lst = self.dc.ok("GET", self.path)
                    rv = lst["metadata"]["resourceVersion"]
                    with self.lock:
                        for o in lst["items"]:
                            self.events.append((int(o["metadata"]["resourceVersion"]), "ADDED", o, time.monotonic()))
                sep = "&" if "?" in self.path else "?"
                w = self.dc.watch(self.path + sep + "watch=true&allowWatchBookmarks=true&timeoutSeconds=600"
                                  "&resourceVersion=%s" % rv, timeout=60)
                self._watch = w
                self._synced.set()
                while not self._stop.is_set():
                    e = w.next()
                    if e is None:
                        break
                    if e["type"] == "ERROR":
                        rv = None
                        break
                    obj = e.get("object", {})
                    rv = obj.get("metadata", {}).get("resourceVersion", rv)
                    if e["type"] == "BOOKMARK":
                        continue
                    with self.lock:
                        self.events.append((int(rv), e["type"], obj, time.monotonic()))
                w.close()
            except Exception:  # noqa: BLE001 - a dropped or closed stream: resume (or stop)
                if self._stop.is_set():
                    return
                time.sleep(0.1)

    def of(self, name):
        """Events of the object `name`, in order."""
        with self.lock:
            return [e for e in self.events if e[2].get("metadata", {}).get("name") == name]

    def first(self, name, pred):
        """The first event of `name` whose object satisfies pred, or None."""
        for e in self.of(name):
            if pred(e[2]):
                return e
        return None
