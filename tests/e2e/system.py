"""The whole aidi system on one machine for the e2e suites that need more control than
quickstart_test.py: a devcluster (with --enable-faults, so /devcluster/requests counts every
request per client), the extender and the operator as child processes with their logs in the
devcluster's temp dir, and real kubectl against it.

    sys = System(bin_dir, nodes=True, run_pods=True, extender=True)
    sys.start(); sys.kubectl("get", "aip"); sys.requests(); sys.stop()
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "devcluster"))
import harness  # noqa: E402
from harness import DevCluster, poll  # noqa: E402,F401

REPO = harness.REPO
SKIP = harness.SKIP


def take_bin_arg(argv):
    """Removes `--bin DIR` from argv and returns the binaries' folder (default build/bin)."""
    return os.path.abspath(harness.take_arg(argv, "--bin") or os.path.join(REPO, "build", "bin"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uid_65532_can_run(binary):
    if os.geteuid() != 0:
        return True
    r = subprocess.run(["setpriv", "--reuid=65532", "--regid=65532", "--clear-groups", "test", "-x", binary],
                       capture_output=True)
    return r.returncode == 0


def http_status(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


class System:
    def __init__(self, bin_dir, name, nodes=True, run_pods=False, extender=False, log_level="info",
                 operator_args=()):
        self.bin = bin_dir
        self.name = name
        self.nodes = nodes
        self.run_pods = run_pods
        self.with_extender = extender
        self.log_level = log_level
        self.operator_args = list(operator_args)
        self.procs = {}
        self.dc = None
        self.extender_port = free_port()
        self.health_port = free_port()

    def binary(self, name):
        return os.path.join(self.bin, name)

    def start(self):
        args = ["--enable-faults", "--log-level", self.log_level]
        state_dir = None
        if self.nodes:
            args += ["--nodes", os.path.join(REPO, "examples", "devcluster", "nodes.yaml")]
        if self.run_pods:
            args.append("--run-pods")
            if not uid_65532_can_run(self.binary("aidi-worker")):
                args.append("--run-pods-as-self")
        if self.with_extender:
            with open(os.path.join(REPO, "examples", "devcluster", "scheduler-config.yaml")) as f:
                config = f.read().replace("http://127.0.0.1:8888", "http://127.0.0.1:%d" % self.extender_port)
            self.dc = DevCluster(binary=self.binary("aidi-devcluster"), name=self.name)
            path = os.path.join(self.dc.tmp, "scheduler-config.yaml")
            with open(path, "w") as f:
                f.write(config)
            args += ["--scheduler-config", path]
        else:
            self.dc = DevCluster(binary=self.binary("aidi-devcluster"), name=self.name)
        if self.run_pods:
            state_dir = os.path.join(self.dc.tmp, "state")
        self.dc.args = args
        self.dc.state_dir = state_dir
        self.dc.start()
        self.env = dict(os.environ, KUBECONFIG=self.dc.kubeconfig,
                        KUBECACHEDIR=os.path.join(self.dc.tmp, "cache"))
        self.kubectl("apply", "-f", os.path.join(REPO, "crds"))
        self.kubectl("wait", "--for=condition=Established", "crd/pipelines.aidi.dev", "crd/edgesites.aidi.dev",
                     "--timeout=30s")
        if self.with_extender:
            self.spawn("extender", [self.binary("aidi-scheduler-extender"), "--listen",
                                    "127.0.0.1:%d" % self.extender_port, "--kubeconfig", self.dc.kubeconfig,
                                    "--log-level", self.log_level])

            def extender_ready():
                return http_status("http://127.0.0.1:%d/readyz" % self.extender_port) == 200
            poll(extender_ready, timeout=20, what="the extender's /readyz")
        self.spawn("operator", [self.binary("aidi-operator"), "--kubeconfig", self.dc.kubeconfig,
                                "--metrics-addr", "", "--health-addr", "127.0.0.1:%d" % self.health_port,
                                "--log-level", self.log_level] + self.operator_args)
        poll(lambda: self.operator_health() == 200, timeout=20, what="the operator's /healthz")
        return self

    def apply_example_sites(self):
        """The demo's EdgeSites and workspace claim (examples/), once the operator has counted
        gpu-cloud's GPUs from the --nodes nodes."""
        self.kubectl("apply", "-f", os.path.join(REPO, "examples", "edgesites.yaml"),
                     "-f", os.path.join(REPO, "examples", "workspace.yaml"))
        poll(lambda: self.kubectl("get", "es", "gpu-cloud", "-o", "jsonpath={.status.gpus.total}") == "16",
             timeout=20, what="gpu-cloud's GPUs counted")

    def spawn(self, name, cmd):
        log = open(self.log_path(name), "ab")
        self.procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log)

    def log_path(self, name):
        if name == "devcluster":
            return self.dc.log_path
        return os.path.join(self.dc.tmp, name + ".log")

    def log_text(self, name):
        with open(self.log_path(name), "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self, name):
        return self.procs[name][0].poll() is None

    def operator_health(self):
        return http_status("http://127.0.0.1:%d/healthz" % self.health_port)

    def kubectl(self, *args, timeout=60, check=True, stdin=None):
        r = subprocess.run(["kubectl", *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                           input=stdin)
        if check and r.returncode != 0:
            raise AssertionError("kubectl %s failed (%d): %s\n--- devcluster log ---\n%s" % (
                " ".join(args), r.returncode, r.stderr, self.dc.log_tail(20)))
        return r if not check else r.stdout.strip()

    def start_then(self, setup=lambda: None):
        """start(), then setup(); when either fails, stop() before the error goes on: a failing
        setUpClass gets no tearDownClass, so nothing else would stop the processes."""
        try:
            self.start()
            setup()
        except BaseException:
            self.stop()
            raise

    def requests(self):
        return self.dc.ok("GET", "/devcluster/requests")

    def reset_requests(self):
        return self.dc.ok("DELETE", "/devcluster/requests")

    def stop(self):
        for p, _ in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p, log in self.procs.values():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()
        if self.dc is not None:
            if self.dc.proc is not None:
                try:
                    self.dc.stop()
                except AssertionError:
                    pass
            self.dc.cleanup()


def wait_json(fn, what, timeout=30):
    """Polls fn() (returning a value or None) until it returns something."""
    return poll(fn, timeout=timeout, interval=0.2, what=what)


def dumps(obj):
    return json.dumps(obj)


def now():
    return time.monotonic()
