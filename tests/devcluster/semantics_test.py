#!/usr/bin/python3
"""End-to-end API semantics that client libraries hide: exact Status bodies, watch details,
compaction, durability and process behaviour. Raw HTTP (http.client), no client library.

    /usr/bin/python3 tests/devcluster/semantics_test.py [--binary build/bin/aidi-devcluster] [-k name]
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import shutil
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DevCluster, poll, load_yaml  # noqa: E402

CM = "/api/v1/namespaces/%s/configmaps"
GD = "/apis/tests.aidi.dev/v1alpha1/namespaces/%s/gadgets"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def status(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
         "reason": reason, "code": code}
    if details is not None:
        s["details"] = details
    return s


def cm(name, labels=None, data=None):
    o = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
    if labels:
        o["metadata"]["labels"] = labels
    if data:
        o["data"] = data
    return o


def install_crd(dc):
    dc.ok("POST", CRDS, body=load_yaml("gadget-crd.yaml"))
    poll(lambda: dc.get(GD % "default").status == 200, timeout=15, what="gadgets served")


class Semantics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dc = DevCluster("--enable-faults", "--bookmark-interval", "1", name="sem")
        cls.dc.start()
        install_crd(cls.dc)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.dc.stop()
        finally:
            cls.dc.cleanup()

    def setUp(self):
        self.ns = "s-" + uuid.uuid4().hex[:8]
        self.dc.ok("POST", "/api/v1/namespaces", body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}})

    def assertStatus(self, r, want):
        self.assertEqual(r.status, want["code"], r)
        self.assertIn("application/json", r.headers.get("content-type", ""), r.headers)
        self.assertEqual(r.json, want)

    # -- Status bodies ---------------------------------------------------------------------
    def test_401_without_or_with_a_wrong_token(self):
        want = status(401, "Unauthorized", "Unauthorized")
        self.assertStatus(self.dc.get(CM % "default", token=None), want)
        self.assertStatus(self.dc.get(CM % "default", token="wrong"), want)
        self.assertStatus(self.dc.get("/version", token="wrong"), want)

    def test_404_bodies(self):
        self.assertStatus(self.dc.get(CM % self.ns + "/nope"),
                          status(404, "NotFound", 'configmaps "nope" not found', {"name": "nope", "kind": "configmaps"}))
        self.assertStatus(self.dc.get(GD % self.ns + "/nope"),
                          status(404, "NotFound", 'gadgets.tests.aidi.dev "nope" not found',
                                 {"name": "nope", "group": "tests.aidi.dev", "kind": "gadgets"}))
        self.assertStatus(self.dc.get("/api/v1/namespaces/does-not-exist"),
                          status(404, "NotFound", 'namespaces "does-not-exist" not found',
                                 {"name": "does-not-exist", "kind": "namespaces"}))
        r = self.dc.get("/api/v1/namespaces/default/widgets")
        self.assertStatus(r, status(404, "NotFound", "the server could not find the requested resource", {}))
        self.assertStatus(self.dc.request("DELETE", CM % self.ns + "/nope"),
                          status(404, "NotFound", 'configmaps "nope" not found', {"name": "nope", "kind": "configmaps"}))

    def test_409_already_exists_and_conflict(self):
        self.dc.ok("POST", CM % self.ns, body=cm("dup"))
        self.assertStatus(self.dc.post(CM % self.ns, body=cm("dup")),
                          status(409, "AlreadyExists", 'configmaps "dup" already exists', {"name": "dup", "kind": "configmaps"}))
        cur = self.dc.ok("GET", CM % self.ns + "/dup")
        self.dc.ok("PATCH", CM % self.ns + "/dup", body={"data": {"x": "1"}}, content_type="application/merge-patch+json")
        cur["data"] = {"x": "stale"}
        self.assertStatus(self.dc.put(CM % self.ns + "/dup", cur),
                          status(409, "Conflict",
                                 'Operation cannot be fulfilled on configmaps "dup": the object has been modified; '
                                 'please apply your changes to the latest version and try again',
                                 {"name": "dup", "kind": "configmaps"}))
        # Same for a custom resource (the group appears in the message and details).
        self.dc.ok("POST", GD % self.ns, body=load_yaml("gadget-sample.yaml"))
        cur = self.dc.ok("GET", GD % self.ns + "/sample")
        self.dc.ok("PATCH", GD % self.ns + "/sample", body={"spec": {"size": 4}})
        cur["spec"]["size"] = 5
        self.assertStatus(self.dc.put(GD % self.ns + "/sample", cur),
                          status(409, "Conflict",
                                 'Operation cannot be fulfilled on gadgets.tests.aidi.dev "sample": the object has been '
                                 'modified; please apply your changes to the latest version and try again',
                                 {"name": "sample", "group": "tests.aidi.dev", "kind": "gadgets"}))
        # A precondition on a wrong uid in DELETE also conflicts.
        r = self.dc.delete(CM % self.ns + "/dup", body={"kind": "DeleteOptions", "apiVersion": "v1",
                                                       "preconditions": {"uid": "not-the-uid"}})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["reason"], "Conflict")

    def test_422_names_every_bad_field(self):
        r = self.dc.post(GD % self.ns, body=load_yaml("gadget-invalid.yaml"))
        self.assertEqual(r.status, 422, r)
        b = r.json
        self.assertEqual(b["kind"], "Status")
        self.assertEqual(b["status"], "Failure")
        self.assertEqual(b["reason"], "Invalid")
        self.assertEqual(b["code"], 422)
        self.assertEqual(b["details"]["name"], "broken")
        self.assertEqual(b["details"]["group"], "tests.aidi.dev")
        self.assertEqual(b["details"]["kind"], "Gadget")
        self.assertTrue(b["message"].startswith('Gadget.tests.aidi.dev "broken" is invalid: '), b["message"])
        causes = sorted((c["field"], c["reason"], c["message"]) for c in b["details"]["causes"])
        self.assertEqual(causes, sorted([
            ("spec.size", "FieldValueInvalid", "Invalid value: -1: spec.size in body should be greater than or equal to 0"),
            ("spec.color", "FieldValueNotSupported", 'Unsupported value: "purple": supported values: "red", "green", "blue"'),
            ("spec.code", "FieldValueInvalid", "Invalid value: \"Not Valid!\": spec.code in body should match '^[a-z0-9-]+$'"),
            ("spec.parts[0].name", "FieldValueRequired", "Required value"),
        ]))
        for field in ("spec.size", "spec.color", "spec.code", "spec.parts[0].name"):
            self.assertIn(field + ": ", b["message"])
        # Missing required fields.
        r = self.dc.post(GD % self.ns, body={"apiVersion": "tests.aidi.dev/v1alpha1", "kind": "Gadget",
                                             "metadata": {"name": "empty"}, "spec": {}})
        self.assertEqual(r.status, 422, r)
        self.assertEqual(sorted((c["field"], c["reason"]) for c in r.json["details"]["causes"]),
                         [("spec.color", "FieldValueRequired"), ("spec.size", "FieldValueRequired")])
        # A built-in kind: no group in details.
        r = self.dc.post(CM % self.ns, body=cm("Bad_Name"))
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json["details"]["kind"], "ConfigMap")
        self.assertNotIn("group", r.json["details"])
        self.assertTrue(r.json["message"].startswith(
            'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain '
            'must consist of lower case alphanumeric characters'), r.json["message"])
        self.assertEqual(r.json["details"]["causes"][0]["field"], "metadata.name")

    def test_400_strict_unknown_field_and_bad_json(self):
        g = load_yaml("gadget-sample.yaml")
        g["spec"]["foo"] = "bar"
        r = self.dc.post(GD % self.ns + "?fieldValidation=Strict", body=g)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["reason"], "BadRequest")
        self.assertIn('strict decoding error: unknown field "spec.foo"', r.json["message"])
        # Warn: accepted, pruned, with a Warning header.
        r = self.dc.post(GD % self.ns + "?fieldValidation=Warn", body=g)
        self.assertEqual(r.status, 201, r)
        # RFC 7234 warn-text: a quoted string, so the inner quotes are escaped.
        self.assertEqual(r.headers.get("warning", ""), '299 - "unknown field \\"spec.foo\\""')
        self.assertNotIn("foo", r.json["spec"], "unknown fields are pruned")
        r = self.dc.post(CM % self.ns, body="{not json", content_type="application/json")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["reason"], "BadRequest")

    def test_builtin_unknown_fields_strict_warn_and_dropped(self):
        # Built-in kinds decode into typed structs: an unknown field is rejected (Strict), or dropped
        # with a Warning header (Warn, the default when fieldValidation is absent), never stored.
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "u-strict", "bogus": 1},
                "data": {"a": "b"}, "bogus": True}
        r = self.dc.post(CM % self.ns + "?fieldValidation=Strict", body=body)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json["reason"], "BadRequest")
        self.assertIn('strict decoding error: ', r.json["message"])
        self.assertIn('unknown field "bogus"', r.json["message"])
        self.assertIn('unknown field "metadata.bogus"', r.json["message"])
        for q in ("?fieldValidation=Warn", ""):
            body["metadata"]["name"] = "u-warn" + q[-4:].lower()
            r = self.dc.post(CM % self.ns + q, body=body)
            self.assertEqual(r.status, 201, r)
            self.assertNotIn("bogus", r.json, "unknown top-level field stored (query %r)" % q)
            self.assertNotIn("bogus", r.json["metadata"], "unknown metadata field stored (query %r)" % q)
            self.assertIn('unknown field \\"bogus\\"', r.headers.get("warning", ""), "query %r" % q)
        dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "typo"},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                        "template": {"metadata": {"labels": {"a": "b"}},
                                     "spec": {"containers": [{"name": "c", "image": "x", "imagePullPolcy": "Always"}]}}}}
        r = self.dc.post("/apis/apps/v1/namespaces/%s/deployments?fieldValidation=Strict" % self.ns, body=dep)
        self.assertEqual(r.status, 400, r)
        self.assertIn('unknown field "spec.template.spec.containers[0].imagePullPolcy"', r.json["message"])

    def test_413_request_body_too_large(self):
        big = cm("big", data={"blob": "x" * (4 * 1024 * 1024)})
        r = self.dc.post(CM % self.ns, body=big, timeout=60)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.json["kind"], "Status")
        self.assertEqual(r.json["reason"], "RequestEntityTooLarge")
        self.assertEqual(r.json["code"], 413)
        self.assertTrue(r.json["message"].startswith("Request entity too large"), r.json["message"])
        # The server still serves afterwards.
        self.assertEqual(self.dc.get(CM % self.ns).status, 200)

    def test_configmap_over_1_mib_is_422(self):
        # Under the 3 MiB body limit but over ConfigMap's 1 MiB (MaxSecretSize) data limit.
        r = self.dc.post(CM % self.ns, body=cm("big2", data={"blob": "x" * (1024 * 1024 + 10)}), timeout=60)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.json["reason"], "Invalid")

    def test_415_unsupported_media_type(self):
        r = self.dc.post(CM % self.ns, body=json.dumps(cm("txt")), content_type="text/plain")
        self.assertEqual(r.status, 415, r)
        self.assertEqual(r.json["reason"], "UnsupportedMediaType")
        self.assertEqual(r.json["code"], 415)
        self.assertIn("the body of the request was in an unknown format - accepted media types include:", r.json["message"])
        self.dc.ok("POST", CM % self.ns, body=cm("p"))
        # PATCH needs a patch media type.
        r = self.dc.patch(CM % self.ns + "/p", {"data": {"a": "b"}}, content_type="application/json")
        self.assertEqual(r.status, 415, r)
        self.assertEqual(r.json["reason"], "UnsupportedMediaType")
        # Custom resources do not support strategic merge patch.
        self.dc.ok("POST", GD % self.ns, body=load_yaml("gadget-sample.yaml"))
        r = self.dc.patch(GD % self.ns + "/sample", {"spec": {"size": 1}},
                          content_type="application/strategic-merge-patch+json")
        self.assertEqual(r.status, 415, r)
        self.assertEqual(r.json["reason"], "UnsupportedMediaType")
        self.assertNotIn("strategic-merge-patch", r.json["message"])

    def test_405_method_not_allowed(self):
        # PUT on a collection: go-restful has no route, the apiserver answers 405 with a Status.
        r = self.dc.request("PUT", CM % self.ns, body=cm("x"))
        self.assertEqual(r.status, 405, r)
        body = dict(r.json)
        body.pop("details", None)  # upstream sends an empty details object
        self.assertEqual(body, status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource"))

    # -- resourceVersion semantics ---------------------------------------------------------
    def test_resource_versions_and_no_op_writes(self):
        a = self.dc.ok("POST", CM % self.ns, body=cm("rv-a", data={"k": "1"}))
        b = self.dc.ok("POST", CM % self.ns, body=cm("rv-b"))
        self.assertGreater(int(b["metadata"]["resourceVersion"]), int(a["metadata"]["resourceVersion"]))
        lst = self.dc.ok("GET", CM % self.ns)
        self.assertGreaterEqual(int(lst["metadata"]["resourceVersion"]), int(b["metadata"]["resourceVersion"]))
        # A write that changes nothing does not bump resourceVersion (upstream skips the storage write).
        same = self.dc.ok("PUT", CM % self.ns + "/rv-a", body=a)
        self.assertEqual(same["metadata"]["resourceVersion"], a["metadata"]["resourceVersion"])
        same = self.dc.ok("PATCH", CM % self.ns + "/rv-a", body={"data": {"k": "1"}}, content_type="application/merge-patch+json")
        self.assertEqual(same["metadata"]["resourceVersion"], a["metadata"]["resourceVersion"])
        # PUT without resourceVersion is an unconditional update.
        c = dict(a)
        c["metadata"] = {"name": "rv-a"}
        c["data"] = {"k": "2"}
        upd = self.dc.ok("PUT", CM % self.ns + "/rv-a", body=c)
        self.assertGreater(int(upd["metadata"]["resourceVersion"]), int(b["metadata"]["resourceVersion"]))
        self.assertEqual(upd["metadata"]["uid"], a["metadata"]["uid"])
        self.assertEqual(upd["metadata"]["creationTimestamp"], a["metadata"]["creationTimestamp"])
        # resourceVersionMatch=NotOlderThan with a future RV: upstream waits then times out (504) or
        # answers "Too large resource version"; with rv=0 any version is fine.
        self.assertEqual(self.dc.get(CM % self.ns + "?resourceVersion=0").status, 200)

    # -- watch -----------------------------------------------------------------------------
    def test_watch_bookmarks(self):
        rv = self.dc.ok("GET", CM % self.ns)["metadata"]["resourceVersion"]
        w = self.dc.watch(CM % self.ns + "?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=10" % rv)
        try:
            self.assertEqual(w.status, 200)
            t0 = time.monotonic()
            ev = w.next()
            self.assertIsNotNone(ev, "watch ended without a BOOKMARK")
            self.assertEqual(ev["type"], "BOOKMARK", ev)
            self.assertLess(time.monotonic() - t0, 6, "bookmark interval is 1s")
            obj = ev["object"]
            self.assertEqual(obj["kind"], "ConfigMap")
            self.assertEqual(obj["apiVersion"], "v1")
            self.assertGreaterEqual(int(obj["metadata"]["resourceVersion"]), int(rv))
        finally:
            w.close()
        # Bookmarks on a custom resource carry its kind.
        rv = self.dc.ok("GET", GD % self.ns)["metadata"]["resourceVersion"]
        w = self.dc.watch(GD % self.ns + "?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=10" % rv)
        try:
            ev = w.next()
            self.assertEqual((ev or {}).get("type"), "BOOKMARK", ev)
            self.assertEqual(ev["object"]["kind"], "Gadget")
            self.assertEqual(ev["object"]["apiVersion"], "tests.aidi.dev/v1alpha1")
        finally:
            w.close()
        # Without allowWatchBookmarks: no BOOKMARK, and timeoutSeconds ends the stream.
        w = self.dc.watch(CM % self.ns + "?watch=1&resourceVersion=%s&timeoutSeconds=3" % rv)
        try:
            t0 = time.monotonic()
            evs = w.events()
            self.assertEqual([e["type"] for e in evs], [])
            self.assertLess(time.monotonic() - t0, 6, "timeoutSeconds=3 must end the watch")
        finally:
            w.close()

    def test_watch_label_selector_transitions(self):
        rv = self.dc.ok("GET", CM % self.ns)["metadata"]["resourceVersion"]
        base = CM % self.ns
        self.dc.ok("POST", base, body=cm("sel", labels={"color": "red"}))
        self.dc.ok("POST", base, body=cm("blue-from-start", labels={"color": "blue"}))
        mp = "application/merge-patch+json"
        left = self.dc.ok("PATCH", base + "/sel", body={"metadata": {"labels": {"color": "blue"}}}, content_type=mp)
        self.dc.ok("PATCH", base + "/sel", body={"data": {"x": "1"}}, content_type=mp)  # invisible
        self.dc.ok("PATCH", base + "/sel", body={"metadata": {"labels": {"color": "red"}}}, content_type=mp)  # enters
        self.dc.ok("PATCH", base + "/sel", body={"data": {"x": "2"}}, content_type=mp)  # modified
        self.dc.ok("DELETE", base + "/sel")
        w = self.dc.watch(base + "?watch=1&labelSelector=color%%3Dred&resourceVersion=%s&timeoutSeconds=2" % rv)
        try:
            self.assertEqual(w.status, 200)
            evs = w.events()  # everything since rv, then the stream ends at timeoutSeconds
        finally:
            w.close()
        got = [(e["type"], e["object"]["metadata"]["name"], e["object"]["metadata"]["labels"]["color"]) for e in evs]
        # Upstream (cacher.convertToWatchEvent): leaving the selector is a DELETED event carrying the
        # object's previous content (still color=red) at the new resourceVersion; coming back is ADDED.
        self.assertEqual(got, [
            ("ADDED", "sel", "red"),
            ("DELETED", "sel", "red"),    # left the selector
            ("ADDED", "sel", "red"),      # came back
            ("MODIFIED", "sel", "red"),
            ("DELETED", "sel", "red"),    # deleted
        ])
        self.assertEqual(evs[1]["object"]["metadata"]["resourceVersion"], left["metadata"]["resourceVersion"],
                         "the leave event carries the resourceVersion of the write that left")
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
        self.assertEqual(rvs, sorted(set(rvs)))

    def test_watch_without_resource_version_starts_with_synthetic_added(self):
        self.dc.ok("POST", CM % self.ns, body=cm("pre-1", labels={"pre": "y"}))
        self.dc.ok("POST", CM % self.ns, body=cm("pre-2", labels={"pre": "y"}))
        w = self.dc.watch(CM % self.ns + "?watch=1&labelSelector=pre%3Dy&timeoutSeconds=2")
        try:
            evs = w.events()
        finally:
            w.close()
        self.assertEqual(sorted((e["type"], e["object"]["metadata"]["name"]) for e in evs),
                         [("ADDED", "pre-1"), ("ADDED", "pre-2")])

    def test_compaction_gives_410_to_old_watches_and_continue_tokens(self):
        base = CM % self.ns
        for i in range(5):
            self.dc.ok("POST", base, body=cm("c-%d" % i))
        first = self.dc.ok("GET", base + "?limit=2")
        token = first["metadata"]["continue"]
        self.assertTrue(token)
        old_rv = first["metadata"]["resourceVersion"]
        self.dc.ok("POST", base, body=cm("c-late"))
        self.dc.compact()
        # Old continue token.
        r = self.dc.get(base + "?limit=2&continue=" + token)
        self.assertEqual(r.status, 410, r)
        self.assertEqual(r.json["reason"], "Expired")
        self.assertEqual(r.json["code"], 410)
        self.assertTrue(r.json["message"].startswith(
            "The provided continue parameter is too old to display a consistent list result."), r.json["message"])
        # Watch from the compacted resourceVersion: upstream answers 200 and a single ERROR event
        # carrying a 410 Expired Status ("too old resource version: X (Y)"), then ends the stream.
        w = self.dc.watch(base + "?watch=1&resourceVersion=%s&timeoutSeconds=5" % old_rv)
        try:
            if w.status != 200:
                body = w.body()
                self.fail("watch from a compacted resourceVersion: HTTP %d %s (upstream: 200 + ERROR event)"
                          % (w.status, body[:500]))
            evs = w.events()
        finally:
            w.close()
        self.assertEqual(len(evs), 1, evs)
        self.assertEqual(evs[0]["type"], "ERROR")
        st = evs[0]["object"]
        self.assertEqual((st["kind"], st["code"], st["reason"]), ("Status", 410, "Expired"))
        self.assertTrue(st["message"].startswith("too old resource version: "), st["message"])
        # A new list + watch works.
        rv = self.dc.ok("GET", base)["metadata"]["resourceVersion"]
        w = self.dc.watch(base + "?watch=1&resourceVersion=%s&timeoutSeconds=1" % rv)
        try:
            self.assertEqual(w.status, 200)
            self.assertEqual(w.events(), [])
        finally:
            w.close()

    def test_drop_watches_ends_open_streams(self):
        rv = self.dc.ok("GET", CM % self.ns)["metadata"]["resourceVersion"]
        w = self.dc.watch(CM % self.ns + "?watch=1&resourceVersion=%s&timeoutSeconds=30" % rv)
        try:
            self.assertEqual(w.status, 200)
            time.sleep(0.2)
            self.dc.ok("POST", "/devcluster/faults/drop-watches", body={})
            t0 = time.monotonic()
            self.assertEqual(w.events(), [])
            self.assertLess(time.monotonic() - t0, 5)
        finally:
            w.close()

    # -- faults ----------------------------------------------------------------------------
    def test_injected_errors_carry_retry_after(self):
        self.dc.ok("POST", CM % self.ns, body=cm("f"))
        self.dc.ok("POST", "/devcluster/faults/errors",
                   body={"verb": "get", "resource": "configmaps", "code": 429, "count": 1, "retryAfterSeconds": 2})
        try:
            r = self.dc.get(CM % self.ns + "/f")
            self.assertEqual(r.status, 429, r)
            self.assertEqual(r.headers.get("retry-after"), "2")
            self.assertEqual(r.json["reason"], "TooManyRequests")
            self.assertEqual(r.json["details"]["retryAfterSeconds"], 2)
            self.assertEqual(self.dc.get(CM % self.ns + "/f").status, 200, "count=1 must fire once")
            counts = self.dc.ok("GET", "/devcluster/requests")
            self.assertGreaterEqual(counts["counts"].get("get configmaps", 0), 2, counts)
        finally:
            self.dc.clear_faults()

    def test_expire_token_rotates_and_rewrites_kubeconfig(self):
        with DevCluster("--enable-faults", name="sem-token") as dc:
            old = dc.token
            dc.ok("POST", "/devcluster/faults/expire-token", body={})
            self.assertEqual(dc.get("/api/v1/namespaces").status, 401)
            poll(lambda: (dc.read_kubeconfig() or True) and dc.token != old, timeout=5, what="kubeconfig rewritten")
            self.assertEqual(dc.get("/api/v1/namespaces").status, 200)

    # -- process behaviour -----------------------------------------------------------------
    def test_durability_across_kill_9(self):
        state = tempfile.mkdtemp(prefix="aidi-devcluster-state.")
        try:
            dc = DevCluster(state_dir=state, name="durable")
            dc.start()
            try:
                install_crd(dc)
                dc.ok("POST", "/api/v1/namespaces", body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "keep"}})
                a = dc.ok("POST", CM % "keep", body=cm("a", data={"v": "1"}))
                b = dc.ok("POST", CM % "keep", body=cm("b"))
                b = dc.ok("PATCH", CM % "keep" + "/b", body={"data": {"v": "2"}}, content_type="application/merge-patch+json")
                g = dc.ok("POST", GD % "keep", body=load_yaml("gadget-sample.yaml"))
                g = dc.ok("PATCH", GD % "keep" + "/sample/status", body={"status": {"phase": "Kept"}})
                dc.ok("DELETE", CM % "keep" + "/a")
                before = dc.ok("GET", CM % "keep")
                max_rv = max(int(before["metadata"]["resourceVersion"]), int(g["metadata"]["resourceVersion"]))
                identity = (dc.token, dc.ca_pem)
                dc.kill()  # SIGKILL
                dc.start()
                # The same server to its clients: a kubeconfig from before still works.
                self.assertEqual((dc.token, dc.ca_pem), identity)
                b2 = dc.ok("GET", CM % "keep" + "/b")
                self.assertEqual(b2["metadata"]["resourceVersion"], b["metadata"]["resourceVersion"])
                self.assertEqual(b2["metadata"]["uid"], b["metadata"]["uid"])
                self.assertEqual(b2["data"], {"v": "2"})
                self.assertEqual(dc.get(CM % "keep" + "/a").status, 404, "a delete must survive a restart")
                g2 = dc.ok("GET", GD % "keep" + "/sample")
                self.assertEqual(g2["metadata"]["resourceVersion"], g["metadata"]["resourceVersion"])
                self.assertEqual(g2["status"], {"phase": "Kept"})
                c = dc.ok("POST", CM % "keep", body=cm("c"))
                self.assertGreater(int(c["metadata"]["resourceVersion"]), max_rv)
                self.assertGreater(int(c["metadata"]["resourceVersion"]), int(a["metadata"]["resourceVersion"]))
                lst = dc.ok("GET", CM % "keep")
                self.assertEqual(sorted(i["metadata"]["name"] for i in lst["items"]), ["b", "c"])
                # Graceful restart too.
                self.assertEqual(dc.stop(), 0)
                dc.start()
                self.assertEqual(dc.ok("GET", CM % "keep" + "/c")["metadata"]["resourceVersion"], c["metadata"]["resourceVersion"])
            finally:
                dc.cleanup()
        finally:
            shutil.rmtree(state, ignore_errors=True)

    def test_sigterm_exits_0_promptly_even_with_open_watch(self):
        dc = DevCluster(name="term")
        dc.start()
        try:
            w = dc.watch(CM % "default" + "?watch=1&timeoutSeconds=60")
            self.assertEqual(w.status, 200)
            t0 = time.monotonic()
            code = dc.stop(signal.SIGTERM, timeout=10)
            self.assertEqual(code, 0)
            self.assertLess(time.monotonic() - t0, 5, "SIGTERM must stop the server promptly")
            w.close()
        finally:
            dc.cleanup()

    def test_help(self):
        r = subprocess.run([harness.BINARY, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout + r.stderr
        for flag in ("--listen", "--kubeconfig-out", "--state-dir", "--watch-history", "--tls", "--enable-faults",
                     "--bookmark-interval"):
            self.assertIn(flag, out)

    def test_bad_flags_exit_non_zero(self):
        r = subprocess.run([harness.BINARY, "--listen", "nonsense", "--kubeconfig-out", "/dev/null"],
                           capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)
        r = subprocess.run([harness.BINARY], capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0, "--kubeconfig-out is required")


if __name__ == "__main__":
    harness.run_suite("__main__")
