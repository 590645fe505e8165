"""Shared Python harness for the devcluster end-to-end suites.

DevCluster starts the real aidi-devcluster binary on a free port in its own temp dir, waits for
the kubeconfig (written only once it serves), and always kills the process at the end. It also
offers raw HTTP helpers (http.client, so nothing hides status codes or bodies from the tests).

The binary comes from `--binary PATH` on the command line, $AIDI_DEVCLUSTER, or
build/bin/aidi-devcluster under the repository root, in that order.
"""

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
SKIP = 77


def take_arg(argv, flag):
    """Removes `flag VALUE` from argv (so unittest does not see it) and returns VALUE, or None."""
    if flag in argv:
        i = argv.index(flag)
        value = argv[i + 1]
        del argv[i:i + 2]
        return value
    return None


def take_binary_arg(argv):
    """Removes `--binary PATH` from argv (so unittest does not see it) and returns the binary."""
    binary = take_arg(argv, "--binary")
    binary = binary or os.environ.get("AIDI_DEVCLUSTER") or os.path.join(REPO, "build", "bin", "aidi-devcluster")
    return os.path.abspath(binary)


BINARY = None  # set by the suite's __main__ via take_binary_arg


def poll(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = predicate()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - polled predicates may fail while things settle
            last = e
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(interval)


def load_yaml(name):
    import yaml
    with open(os.path.join(FIXTURES, name)) as f:
        return yaml.safe_load(f)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        body = self.body if len(self.body) <= 600 else self.body[:600] + b"...(%d bytes)" % len(self.body)
        return "<%d %s>" % (self.status, body)


class DevCluster:
    """One aidi-devcluster process. Use as a context manager or call start()/stop()."""

    def __init__(self, *args, binary=None, state_dir=None, name="dc"):
        self.binary = binary or BINARY
        self.args = list(args)
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="aidi-devcluster-%s." % name)
        self.state_dir = state_dir
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        self.log_path = os.path.join(self.tmp, "devcluster.log")
        self.proc = None
        self.exit_code = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, timeout=30):
        if os.path.exists(self.kubeconfig):
            os.unlink(self.kubeconfig)
        cmd = [self.binary, "--listen", "127.0.0.1:0", "--kubeconfig-out", self.kubeconfig] + self.args
        if self.state_dir:
            cmd += ["--state-dir", self.state_dir]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not (os.path.exists(self.kubeconfig) and os.path.getsize(self.kubeconfig) > 0):
            if self.proc.poll() is not None:
                raise RuntimeError("devcluster exited with %s before serving:\n%s" % (self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("devcluster did not write its kubeconfig in %ss:\n%s" % (timeout, self.log_tail()))
            time.sleep(0.02)
        self.read_kubeconfig()
        return self

    def read_kubeconfig(self):
        import yaml
        with open(self.kubeconfig) as f:
            kc = yaml.safe_load(f)
        cluster = kc["clusters"][0]["cluster"]
        self.server = cluster["server"]
        self.token = kc["users"][0]["user"]["token"]
        self.ca_pem = None
        self.ssl_context = None
        if "certificate-authority-data" in cluster:
            import base64
            self.ca_pem = base64.b64decode(cluster["certificate-authority-data"]).decode()
            self.ssl_context = ssl.create_default_context(cadata=self.ca_pem)
        u = urllib.parse.urlparse(self.server)
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signals the process and waits; returns its exit code (or raises on timeout)."""
        if self.proc is None:
            return self.exit_code
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit_code = self.proc.returncode
                self.proc = None
                raise AssertionError("devcluster did not exit within %ss of signal %s" % (timeout, sig))
        self.exit_code = self.proc.returncode
        self.proc = None
        self.log.close()
        return self.exit_code

    def kill(self):
        """SIGKILL (no chance to flush anything not already durable) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            self.exit_code = self.proc.returncode
            self.proc = None
            self.log.close()

    def cleanup(self):
        self.kill()
        if not os.environ.get("DC_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return "(no log)"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # -- raw HTTP --------------------------------------------------------------------------
    def connection(self, timeout=20):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ssl_context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, content_type=None, token="default",
                headers=None, timeout=20):
        """One request; returns Response(status, headers, body bytes). token=None sends none.
        The body's Content-Type defaults to merge-patch for PATCH and JSON otherwise."""
        if content_type is None:
            content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
        h = {"Accept": "application/json"}
        if token == "default":
            token = self.token
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            h["Content-Type"] = content_type
        h.update(headers or {})
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path, body, content_type=None, **kw):
        return self.request("PATCH", path, body=body, content_type=content_type, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body=body, **kw)

    def ok(self, method, path, body=None, **kw):
        r = self.request(method, path, body=body, **kw)
        if r.status // 100 != 2:
            raise AssertionError("%s %s -> %r" % (method, path, r))
        return r.json if r.body else None

    def watch(self, path, timeout=20):
        """Opens a watch; returns a WatchStream that yields decoded events (dicts)."""
        conn = self.connection(timeout)
        conn.request("GET", path, headers={"Authorization": "Bearer " + self.token, "Accept": "application/json"})
        r = conn.getresponse()
        return WatchStream(conn, r)

    # -- fault endpoints -------------------------------------------------------------------
    def compact(self):
        return self.ok("POST", "/devcluster/faults/compact", body={})

    def clear_faults(self):
        return self.ok("DELETE", "/devcluster/faults")


class WatchStream:
    def __init__(self, conn, resp):
        self.conn = conn
        self.resp = resp
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.getheaders()}

    def body(self):
        return self.resp.read()

    def next(self):
        """The next event, or None at end of stream. Raises socket.timeout when idle too long."""
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.strip()
            if line:
                return json.loads(line)

    def events(self, until=None, limit=1000):
        out = []
        while len(out) < limit:
            e = self.next()
            if e is None:
                break
            out.append(e)
            if until and until(e):
                break
        return out

    def close(self):
        try:
            self.conn.sock and self.conn.sock.close()
        except OSError:
            pass
        self.conn.close()


def run_suite(module_name):
    """unittest.main with --binary handling and the skip protocol (exit 77)."""
    import unittest
    global BINARY
    BINARY = take_binary_arg(sys.argv)
    if not os.access(BINARY, os.X_OK):
        print("FAIL: devcluster binary not found or not executable: %s" % BINARY, file=sys.stderr)
        sys.exit(1)
    prog = unittest.main(module=module_name, exit=False, verbosity=2)
    r = prog.result
    print("\n== %d run, %d failures, %d errors, %d skipped"
          % (r.testsRun, len(r.failures), len(r.errors), len(r.skipped)))
    sys.exit(0 if r.wasSuccessful() else 1)
