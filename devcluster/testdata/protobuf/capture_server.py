#!/usr/bin/env python3
"""Stand-in apiserver that records the request bodies kubectl sends, for the fixtures here.

Serves legacy discovery for v1, apps/v1 and coordination.k8s.io/v1, answers GET of
pods/<name> with debug_copy_pod.source.json, and answers every write with 201 and a small JSON
object so kubectl carries on. Each write body lands in OUT_DIR as NNN_METHOD.bin next to a .meta
file holding the request line and headers. Plain HTTP on purpose: it only records.

usage: capture_server.py PORT OUT_DIR
"""
import http.server
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PORT, OUT = int(sys.argv[1]), sys.argv[2]
COUNT = [0]
RESOURCES = {
    "v1": [("namespaces", "Namespace", False), ("configmaps", "ConfigMap", True),
           ("secrets", "Secret", True), ("serviceaccounts", "ServiceAccount", True),
           ("services", "Service", True), ("pods", "Pod", True), ("events", "Event", True)],
    "apps/v1": [("deployments", "Deployment", True)],
    "coordination.k8s.io/v1": [("leases", "Lease", True)],
}


def resource_list(gv):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [{"name": n, "singularName": "", "namespaced": ns, "kind": k,
                           "verbs": ["create", "delete", "get", "list", "patch", "update"]}
                          for n, k, ns in RESOURCES[gv]]}


def group(gv):
    return {"name": gv.split("/")[0], "versions": [{"groupVersion": gv, "version": "v1"}],
            "preferredVersion": {"groupVersion": gv, "version": "v1"}}


class Handler(http.server.BaseHTTPRequestHandler):
    def send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/api":
            return self.send(200, {"kind": "APIVersions", "versions": ["v1"]})
        if path == "/apis":
            return self.send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                group("apps/v1"), group("coordination.k8s.io/v1")]})
        if path == "/api/v1":
            return self.send(200, resource_list("v1"))
        m = re.match(r"/apis/(.+/v1)$", path)
        if m and m.group(1) in RESOURCES:
            return self.send(200, resource_list(m.group(1)))
        if re.match(r"/api/v1/namespaces/[^/]+/pods/[^/]+$", path):
            with open(os.path.join(HERE, "debug_copy_pod.source.json")) as f:
                return self.send(200, json.load(f))
        return self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "reason": "NotFound", "code": 404})

    def record(self):
        n = int(self.headers.get("Content-Length") or 0)
        COUNT[0] += 1
        base = os.path.join(OUT, "%03d_%s" % (COUNT[0], self.command))
        with open(base + ".bin", "wb") as f:
            f.write(self.rfile.read(n))
        with open(base + ".meta", "w") as f:
            f.write("%s %s\n%s" % (self.command, self.path, self.headers))
        self.send(201, {"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "x", "namespace": "default"}})

    do_POST = do_PUT = do_PATCH = do_DELETE = record

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
