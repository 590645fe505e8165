#!/usr/bin/python3
"""Anchor for the devcluster benchmark: the in-memory JSON store a user would hack up instead.

A Python standard-library `http.server` (ThreadingHTTPServer, HTTP/1.1 keep-alive, one thread
per connection) that keeps objects as parsed dicts per collection path and implements only:
  POST <collection>          create: 201 with the object (+ resourceVersion, uid,
                             creationTimestamp), 409 if the name exists
  GET  <collection>          list, sorted by name, with ?limit=N&continue=TOKEN paging
  GET  <collection>/<name>   get
Every request needs `Authorization: Bearer <token>`. There is no watch, validation, schema,
defaulting, admission, durability, field/label selectors, or Table output: it is a floor for
the HTTP + JSON work, not a Kubernetes API server. It writes a kubeconfig like
aidi-devcluster's once listening, so the benchmark drives both the same way.

Usage: anchor_server.py --listen 127.0.0.1:0 --kubeconfig-out FILE [--token T]
"""

import argparse
import base64
import json
import os
import secrets
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_lock = threading.Lock()
_collections = {}  # "/api/v1/namespaces/ns/configmaps" -> {name: object}
_rv = 0
_token = ""


def _split(path):
    """Returns (collection, name) for a request path; name is None for a collection."""
    parts = [p for p in path.split("/") if p]
    # /api/v1/<resource>, /api/v1/namespaces/<ns>/<resource>, and /apis/<g>/<v>/... alike.
    prefix = 2 if parts and parts[0] == "api" else 3
    rest = parts[prefix:]
    if len(rest) in (1, 3):
        return "/" + "/".join(parts), None
    return "/" + "/".join(parts[:-1]), parts[-1]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # responses go out in one write; no 40 ms delayed-ACK stalls

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _send(self, status, obj):
        body = json.dumps(obj, separators=(",", ":")).encode()
        head = (
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.wfile.write(head + body)

    def _status(self, code, reason, message):
        self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                          "message": message, "reason": reason, "code": code})

    def _authorized(self):
        if self.headers.get("Authorization", "") == "Bearer " + _token:
            return True
        self._status(401, "Unauthorized", "Unauthorized")
        return False

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if not self._authorized():
            return
        collection, name = _split(urlsplit(self.path).path)
        if name is not None:
            return self._status(405, "MethodNotAllowed", "POST to a collection")
        try:
            obj = json.loads(raw)
            name = obj["metadata"]["name"]
        except (ValueError, KeyError, TypeError):
            return self._status(400, "BadRequest", "expected a JSON object with metadata.name")
        global _rv
        with _lock:
            objects = _collections.setdefault(collection, {})
            exists = name in objects
            if not exists:
                _rv += 1
                meta = obj["metadata"]
                meta["resourceVersion"] = str(_rv)
                meta["uid"] = str(uuid.uuid4())
                meta["creationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                objects[name] = obj
        if exists:
            return self._status(409, "AlreadyExists", f'"{name}" already exists')
        self._send(201, obj)

    def do_GET(self):  # noqa: N802
        if not self._authorized():
            return
        url = urlsplit(self.path)
        collection, name = _split(url.path)
        if name is not None:
            with _lock:
                obj = _collections.get(collection, {}).get(name)
            if obj is None:
                return self._status(404, "NotFound", f'"{name}" not found')
            return self._send(200, obj)
        with _lock:
            objects = _collections.get(collection, {})
            rv = str(_rv)
            names = sorted(objects)
            query = parse_qs(url.query)
            limit = int(query.get("limit", ["0"])[0] or 0)
            start = 0
            if "continue" in query:
                after = base64.urlsafe_b64decode(query["continue"][0]).decode()
                start = next((i for i, n in enumerate(names) if n > after), len(names))
            end = min(len(names), start + limit) if limit else len(names)
            items = [objects[n] for n in names[start:end]]
        meta = {"resourceVersion": rv}
        if end < len(names):
            meta["continue"] = base64.urlsafe_b64encode(names[end - 1].encode()).decode()
            meta["remainingItemCount"] = len(names) - end
        kind = (items[0].get("kind", "") if items else "") + "List"
        self._send(200, {"kind": kind, "apiVersion": "v1", "metadata": meta, "items": items})


def main():
    global _token
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--kubeconfig-out", required=True)
    ap.add_argument("--token", default="")
    args = ap.parse_args()
    _token = args.token or secrets.token_hex(24)
    host, port = args.listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server_url = f"http://{host}:{server.server_address[1]}"
    tmp = args.kubeconfig_out + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: anchor\n  cluster:\n    server: {server_url}\n"
            f"users:\n- name: anchor\n  user:\n    token: {_token}\n"
            "contexts:\n- name: anchor\n  context:\n    cluster: anchor\n    user: anchor\n"
            "current-context: anchor\n")
    os.rename(tmp, args.kubeconfig_out)  # its presence means "serving"
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


if __name__ == "__main__":
    main()
