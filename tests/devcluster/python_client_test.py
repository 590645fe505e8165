#!/usr/bin/python3
"""End-to-end: Debian's python3-kubernetes client drives aidi-devcluster.

Run with /usr/bin/python3 (the Debian interpreter that has the `kubernetes` package):
    /usr/bin/python3 tests/devcluster/python_client_test.py [--binary build/bin/aidi-devcluster] [-k name]
Exits 77 (skipped) when the kubernetes module is missing.
"""

import copy
import os
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import DevCluster, poll, load_yaml  # noqa: E402

try:
    import kubernetes
    from kubernetes import client, config, watch
    from kubernetes.client.rest import ApiException
except ImportError:  # pragma: no cover
    print("SKIP: the python kubernetes module is not installed for %s" % sys.executable)
    sys.exit(harness.SKIP)

GROUP, VERSION, PLURAL = "tests.aidi.dev", "v1alpha1", "gadgets"


def rv_int(obj):
    md = obj["metadata"] if isinstance(obj, dict) else obj.metadata
    rv = md["resourceVersion"] if isinstance(md, dict) else md.resource_version
    return int(rv)


def gadget(name, size=1, color="green", **spec):
    s = {"size": size, "color": color}
    s.update(spec)
    return {"apiVersion": GROUP + "/" + VERSION, "kind": "Gadget", "metadata": {"name": name}, "spec": s}


def install_crd(api_client):
    ext = client.ApiextensionsV1Api(api_client)
    ext.create_custom_resource_definition(load_yaml("gadget-crd.yaml"))

    def established():
        crd = ext.read_custom_resource_definition("gadgets.tests.aidi.dev")
        return any(c.type == "Established" and c.status == "True" for c in (crd.status.conditions or []))
    poll(established, timeout=15, what="CRD Established")
    # The new resource must be served, not just recorded.
    co = client.CustomObjectsApi(api_client)
    poll(lambda: co.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL) is not None,
         timeout=15, what="gadgets served")


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dc = DevCluster("--enable-faults", name="py")  # default mode (TLS)
        cls.dc.start()
        cls.api_client = config.new_client_from_config(config_file=cls.dc.kubeconfig)
        cls.core = client.CoreV1Api(cls.api_client)
        cls.co = client.CustomObjectsApi(cls.api_client)
        install_crd(cls.api_client)
        cls.ns = "py-" + uuid.uuid4().hex[:6]
        cls.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=cls.ns)))

    @classmethod
    def tearDownClass(cls):
        try:
            cls.api_client.close()
        except Exception:  # noqa: BLE001
            pass
        try:
            code = cls.dc.stop()
            if code != 0:
                print("devcluster exit code on SIGTERM: %s" % code, file=sys.stderr)
        finally:
            cls.dc.cleanup()

    def assertApiError(self, status, fn, *args, **kw):
        with self.assertRaises(ApiException) as cm:
            fn(*args, **kw)
        self.assertEqual(cm.exception.status, status, "body: %s" % cm.exception.body)
        return cm.exception

    # -- config maps -----------------------------------------------------------------------
    def test_configmap_crud(self):
        ns = self.ns
        cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="crud", labels={"app": "crud"}),
                                data={"a": "1"})
        created = self.core.create_namespaced_config_map(ns, cm)
        self.assertEqual(created.metadata.name, "crud")
        self.assertEqual(created.metadata.namespace, ns)
        self.assertTrue(created.metadata.uid)
        self.assertTrue(created.metadata.creation_timestamp)
        rv1 = rv_int(created)

        got = self.core.read_namespaced_config_map("crud", ns)
        self.assertEqual(got.data, {"a": "1"})
        self.assertEqual(rv_int(got), rv1)

        lst = self.core.list_namespaced_config_map(ns)
        self.assertIn("crud", [i.metadata.name for i in lst.items])
        self.assertGreaterEqual(int(lst.metadata.resource_version), rv1)

        # The python client sends a dict patch to core kinds as a strategic merge patch.
        patched = self.core.patch_namespaced_config_map("crud", ns, {"data": {"b": "2"}, "metadata": {"labels": {"x": "y"}}})
        self.assertEqual(patched.data, {"a": "1", "b": "2"})
        self.assertEqual(patched.metadata.labels, {"app": "crud", "x": "y"})
        self.assertGreater(rv_int(patched), rv1)

        # JSON patch (a list body).
        patched = self.core.patch_namespaced_config_map("crud", ns, [{"op": "remove", "path": "/data/a"}])
        self.assertEqual(patched.data, {"b": "2"})

        patched.data["c"] = "3"
        replaced = self.core.replace_namespaced_config_map("crud", ns, patched)
        self.assertEqual(replaced.data, {"b": "2", "c": "3"})

        st = self.core.delete_namespaced_config_map("crud", ns)
        self.assertIsNotNone(st)
        self.assertApiError(404, self.core.read_namespaced_config_map, "crud", ns)
        self.assertApiError(404, self.core.delete_namespaced_config_map, "crud", ns)

    def test_create_duplicate_is_409_already_exists(self):
        cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dup"), data={"a": "1"})
        self.core.create_namespaced_config_map(self.ns, cm)
        e = self.assertApiError(409, self.core.create_namespaced_config_map, self.ns, cm)
        self.assertIn('"reason":"AlreadyExists"', e.body.replace(" ", ""))

    def test_stale_replace_is_409_conflict(self):
        ns = self.ns
        self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="stale"), data={"v": "0"}))
        old = self.core.read_namespaced_config_map("stale", ns)
        self.core.patch_namespaced_config_map("stale", ns, {"data": {"v": "1"}})
        old.data = {"v": "stale-write"}
        e = self.assertApiError(409, self.core.replace_namespaced_config_map, "stale", ns, old)
        import json
        body = json.loads(e.body)
        self.assertEqual(body["reason"], "Conflict")
        self.assertEqual(body["message"], 'Operation cannot be fulfilled on configmaps "stale": the object has been '
                                          'modified; please apply your changes to the latest version and try again')
        self.assertEqual(self.core.read_namespaced_config_map("stale", ns).data, {"v": "1"})

    def test_label_and_field_selectors(self):
        ns = self.ns
        labels = {
            "s-a": {"sel": "yes", "tier": "a"},
            "s-b": {"sel": "yes", "tier": "b"},
            "s-c": {"sel": "yes", "tier": "c", "extra": "1"},
            "s-none": {"sel": "yes"},
            "other": {"sel": "no", "tier": "a"},
        }
        for name, l in labels.items():
            self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=l)))

        def names(selector=None, field=None):
            kw = {}
            if selector:
                kw["label_selector"] = selector
            if field:
                kw["field_selector"] = field
            return sorted(i.metadata.name for i in self.core.list_namespaced_config_map(ns, **kw).items
                          if i.metadata.name in labels)
        self.assertEqual(names("sel=yes"), ["s-a", "s-b", "s-c", "s-none"])
        self.assertEqual(names("sel=yes,tier=a"), ["s-a"])
        self.assertEqual(names("sel==yes,tier!=a"), ["s-b", "s-c", "s-none"])
        self.assertEqual(names("sel=yes,tier in (a,b)"), ["s-a", "s-b"])
        self.assertEqual(names("sel=yes,tier notin (a,b)"), ["s-c", "s-none"])
        self.assertEqual(names("sel=yes,!tier"), ["s-none"])
        self.assertEqual(names("tier"), ["other", "s-a", "s-b", "s-c"])
        self.assertEqual(names("extra,sel=yes"), ["s-c"])
        self.assertEqual(names(field="metadata.name=s-b"), ["s-b"])
        self.assertEqual(names("sel=yes", field="metadata.name!=s-b"), ["s-a", "s-c", "s-none"])
        self.assertApiError(400, self.core.list_namespaced_config_map, ns, label_selector="tier in (a")

    def test_limit_and_continue(self):
        ns = "paging-" + uuid.uuid4().hex[:6]
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        want = ["p-%d" % i for i in range(7)]
        for n in want:
            self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=n)))
        first = self.core.list_namespaced_config_map(ns, limit=3)
        self.assertEqual(len(first.items), 3)
        self.assertTrue(first.metadata._continue, "a first page of 3 out of 7 must carry a continue token")
        self.assertEqual(first.metadata.remaining_item_count, 4)
        got = [i.metadata.name for i in first.items]
        token, pages = first.metadata._continue, 1
        while token:
            page = self.core.list_namespaced_config_map(ns, limit=3, _continue=token)
            self.assertLessEqual(len(page.items), 3)
            # Every page is served at the resourceVersion of the first one.
            self.assertEqual(page.metadata.resource_version, first.metadata.resource_version)
            got += [i.metadata.name for i in page.items]
            token, pages = page.metadata._continue, pages + 1
            self.assertLess(pages, 10, "paging does not terminate")
        self.assertEqual(sorted(got), want)
        self.assertEqual(len(got), len(set(got)), "paging returned duplicates: %s" % got)
        self.assertEqual(pages, 3)
        # Custom objects page too.
        for i in range(5):
            self.co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, gadget("pg-%d" % i, size=i))
        items, token = [], None
        for _ in range(10):
            kw = {"limit": 2}
            if token:
                kw["_continue"] = token
            page = self.co.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, **kw)
            self.assertLessEqual(len(page["items"]), 2)
            items += [i["metadata"]["name"] for i in page["items"]]
            token = page["metadata"].get("continue")
            if not token:
                break
        self.assertEqual(sorted(items), ["pg-%d" % i for i in range(5)])

    # -- custom objects --------------------------------------------------------------------
    def test_custom_object_crud(self):
        ns = self.ns
        g = gadget("crud-g", size=2, color="red", parts=[{"name": "bolt"}])
        created = self.co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, g)
        self.assertEqual(created["kind"], "Gadget")
        self.assertEqual(created["apiVersion"], "tests.aidi.dev/v1alpha1")
        self.assertEqual(created["metadata"]["namespace"], ns)
        self.assertEqual(created["metadata"]["generation"], 1)
        self.assertEqual(created["spec"]["owner"], "nobody", "schema default not applied")
        self.assertEqual(created["spec"]["parts"], [{"name": "bolt", "count": 1}], "nested default not applied")
        rv1 = rv_int(created)

        got = self.co.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "crud-g")
        self.assertEqual(got["spec"], created["spec"])
        lst = self.co.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)
        self.assertEqual(lst["kind"], "GadgetList")
        self.assertIn("crud-g", [i["metadata"]["name"] for i in lst["items"]])
        allns = self.co.list_cluster_custom_object(GROUP, VERSION, PLURAL)
        self.assertIn(("crud-g", ns), [(i["metadata"]["name"], i["metadata"]["namespace"]) for i in allns["items"]])

        patched = self.co.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "crud-g", {"spec": {"color": "blue"}})
        self.assertEqual(patched["spec"]["color"], "blue")
        self.assertEqual(patched["spec"]["size"], 2)
        self.assertEqual(patched["metadata"]["generation"], 2, "a spec change must bump generation")
        self.assertGreater(rv_int(patched), rv1)

        labelled = self.co.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "crud-g", {"metadata": {"labels": {"l": "v"}}})
        self.assertEqual(labelled["metadata"]["generation"], 2, "a metadata-only change must not bump generation")

        st = self.co.patch_namespaced_custom_object_status(GROUP, VERSION, ns, PLURAL, "crud-g",
                                                           {"status": {"phase": "Running"}, "spec": {"size": 99}})
        self.assertEqual(st["status"], {"phase": "Running"})
        self.assertEqual(st["spec"]["size"], 2, "status subresource must ignore spec changes")
        self.assertEqual(st["metadata"]["generation"], 2, "a status change must not bump generation")
        got = self.co.get_namespaced_custom_object_status(GROUP, VERSION, ns, PLURAL, "crud-g")
        self.assertEqual(got["status"]["phase"], "Running")

        # Status sent to the main resource is ignored when the status subresource is on.
        main = self.co.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "crud-g", {"status": {"phase": "Nope"}})
        self.assertEqual(main["status"]["phase"], "Running")

        # Replace with the current resourceVersion works; with a stale one conflicts.
        cur = self.co.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "crud-g")
        stale = copy.deepcopy(cur)
        cur["spec"]["size"] = 5
        rep = self.co.replace_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "crud-g", cur)
        self.assertEqual(rep["spec"]["size"], 5)
        stale["spec"]["size"] = 6
        self.assertApiError(409, self.co.replace_namespaced_custom_object, GROUP, VERSION, ns, PLURAL, "crud-g", stale)

        # Schema validation through the client surfaces as 422.
        e = self.assertApiError(422, self.co.patch_namespaced_custom_object, GROUP, VERSION, ns, PLURAL, "crud-g",
                                {"spec": {"color": "purple"}})
        self.assertIn("spec.color", e.body)

        self.co.delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "crud-g")
        self.assertApiError(404, self.co.get_namespaced_custom_object, GROUP, VERSION, ns, PLURAL, "crud-g")

    def test_finalizer_keeps_object_until_released(self):
        ns = self.ns
        g = gadget("fin-g")
        g["metadata"]["finalizers"] = ["tests.aidi.dev/hold"]
        self.co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, g)
        self.co.delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "fin-g")
        got = self.co.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "fin-g")
        self.assertTrue(got["metadata"].get("deletionTimestamp"))
        self.co.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "fin-g", {"metadata": {"finalizers": None}})
        poll(lambda: self._gone(lambda: self.co.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "fin-g")),
             timeout=10, what="fin-g gone")

    def test_owner_references_garbage_collection(self):
        ns = self.ns
        owner = self.co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, gadget("gc-owner"))
        ref = client.V1OwnerReference(api_version=GROUP + "/" + VERSION, kind="Gadget", name="gc-owner",
                                      uid=owner["metadata"]["uid"], controller=True, block_owner_deletion=True)
        for n in ("gc-dep-1", "gc-dep-2"):
            self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=n, owner_references=[ref])))
        self.co.delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "gc-owner")
        for n in ("gc-dep-1", "gc-dep-2"):
            poll(lambda n=n: self._gone(lambda: self.core.read_namespaced_config_map(n, ns)), timeout=15,
                 what="dependent %s collected" % n)

        owner = self.co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, gadget("gc-orphaner"))
        ref.name, ref.uid = "gc-orphaner", owner["metadata"]["uid"]
        self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="gc-orphan", owner_references=[ref])))
        self.co.delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "gc-orphaner", propagation_policy="Orphan")
        poll(lambda: self._gone(lambda: self.co.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, "gc-orphaner")),
             timeout=15, what="orphaning owner gone")
        poll(lambda: not self.core.read_namespaced_config_map("gc-orphan", ns).metadata.owner_references,
             timeout=15, what="orphan's ownerReferences removed")

    def _gone(self, fn):
        try:
            fn()
            return False
        except ApiException as e:
            if e.status == 404:
                return True
            raise

    # -- watches ---------------------------------------------------------------------------
    def _watch_in_thread(self, func, *args, stop_on=None, **kw):
        events, errors = [], []
        w = watch.Watch()

        def run():
            try:
                for ev in w.stream(func, *args, timeout_seconds=15, _request_timeout=30, **kw):
                    events.append(ev)
                    if stop_on and stop_on(ev):
                        w.stop()
                        break
            except Exception as e:  # noqa: BLE001
                errors.append(e)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, events, errors

    def test_watch_custom_objects_live(self):
        ns = self.ns
        lst = self.co.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)
        rv = lst["metadata"]["resourceVersion"]
        name = "watched-g"
        t, events, errors = self._watch_in_thread(
            self.co.list_namespaced_custom_object, GROUP, VERSION, ns, PLURAL, resource_version=rv,
            stop_on=lambda e: e["type"] == "DELETED" and e["object"]["metadata"]["name"] == name)
        time.sleep(0.3)  # let the watch connect; events since rv are replayed anyway
        self.co.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, gadget(name))
        self.co.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name, {"spec": {"size": 7}})
        self.co.patch_namespaced_custom_object_status(GROUP, VERSION, ns, PLURAL, name, {"status": {"phase": "Up"}})
        self.co.delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)
        t.join(20)
        self.assertFalse(t.is_alive(), "watch did not see DELETED; events: %s" % [e["type"] for e in events])
        self.assertEqual(errors, [])
        mine = [e for e in events if e["object"]["metadata"]["name"] == name]
        self.assertEqual([e["type"] for e in mine], ["ADDED", "MODIFIED", "MODIFIED", "DELETED"])
        self.assertEqual(mine[1]["object"]["spec"]["size"], 7)
        self.assertEqual(mine[2]["object"]["status"]["phase"], "Up")
        rvs = [rv_int(e["object"]) for e in mine]
        self.assertEqual(rvs, sorted(set(rvs)), "resourceVersions must strictly increase: %s" % rvs)
        self.assertGreater(rvs[0], int(rv))
        for e in mine:
            self.assertEqual(e["object"]["kind"], "Gadget")
            self.assertEqual(e["object"]["apiVersion"], "tests.aidi.dev/v1alpha1")

    def test_watch_configmaps_replay_from_resource_version(self):
        ns = self.ns
        rv = self.core.list_namespaced_config_map(ns).metadata.resource_version
        self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w-cm"), data={"v": "1"}))
        self.core.patch_namespaced_config_map("w-cm", ns, {"data": {"v": "2"}})
        self.core.delete_namespaced_config_map("w-cm", ns)
        events = []
        w = watch.Watch()
        for ev in w.stream(self.core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=5,
                           _request_timeout=15):
            if ev["object"].metadata.name == "w-cm":
                events.append(ev)
            if ev["type"] == "DELETED" and ev["object"].metadata.name == "w-cm":
                w.stop()
                break
        self.assertEqual([e["type"] for e in events], ["ADDED", "MODIFIED", "DELETED"])
        self.assertIsInstance(events[0]["object"], client.V1ConfigMap)
        self.assertEqual(events[1]["object"].data, {"v": "2"})
        rvs = [rv_int(e["object"]) for e in events]
        self.assertEqual(rvs, sorted(set(rvs)), "resourceVersions must strictly increase: %s" % rvs)

    def test_watch_configmaps_live_with_label_selector(self):
        ns = self.ns
        rv = self.core.list_namespaced_config_map(ns).metadata.resource_version
        t, events, errors = self._watch_in_thread(
            self.core.list_namespaced_config_map, ns, resource_version=rv, label_selector="watch=me",
            stop_on=lambda e: e["type"] == "DELETED")
        time.sleep(0.3)
        self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w-other")))
        self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w-me", labels={"watch": "me"})))
        self.core.patch_namespaced_config_map("w-me", ns, {"data": {"k": "v"}})
        self.core.delete_namespaced_config_map("w-me", ns)
        t.join(20)
        self.assertFalse(t.is_alive())
        self.assertEqual(errors, [])
        self.assertEqual([(e["type"], e["object"].metadata.name) for e in events],
                         [("ADDED", "w-me"), ("MODIFIED", "w-me"), ("DELETED", "w-me")])

    def test_watch_resumed_after_compaction_raises_410(self):
        ns = self.ns
        self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="old-rv")))
        old = self.core.read_namespaced_config_map("old-rv", ns).metadata.resource_version
        for i in range(3):
            self.core.patch_namespaced_config_map("old-rv", ns, {"data": {"i": str(i)}})
        self.dc.compact()
        # With timeout_seconds the client does not retry: the first 410 surfaces as ApiException.
        with self.assertRaises(ApiException) as cm:
            for _ in watch.Watch().stream(self.core.list_namespaced_config_map, ns, resource_version=old,
                                          timeout_seconds=5, _request_timeout=15):
                pass
        self.assertEqual(cm.exception.status, 410)
        # Without it the client retries once from the same (too old) resourceVersion, then raises.
        with self.assertRaises(ApiException) as cm:
            for _ in watch.Watch().stream(self.core.list_namespaced_config_map, ns, resource_version=old,
                                          _request_timeout=15):
                pass
        self.assertEqual(cm.exception.status, 410)
        # A fresh list + watch from its resourceVersion works again.
        fresh = self.core.list_namespaced_config_map(ns).metadata.resource_version
        for ev in watch.Watch().stream(self.core.list_namespaced_config_map, ns, resource_version=fresh,
                                       timeout_seconds=1, _request_timeout=15):
            self.fail("unexpected event after compaction: %s" % ev["type"])

    def test_old_continue_token_after_compaction_is_410(self):
        ns = "compact-" + uuid.uuid4().hex[:6]
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        for i in range(4):
            self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c-%d" % i)))
        first = self.core.list_namespaced_config_map(ns, limit=2)
        self.assertTrue(first.metadata._continue)
        self.core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c-late")))
        self.dc.compact()
        e = self.assertApiError(410, self.core.list_namespaced_config_map, ns, limit=2, _continue=first.metadata._continue)
        self.assertIn("Expired", e.body)

    # -- TLS -------------------------------------------------------------------------------
    def test_tls_mode_with_ca_from_kubeconfig(self):
        # --tls is the default; name it anyway, as the issue does.
        with DevCluster("--tls", name="py-tls") as dc:
            self.assertTrue(dc.server.startswith("https://"))
            self.assertTrue(dc.ca_pem and "BEGIN CERTIFICATE" in dc.ca_pem)
            api_client = config.new_client_from_config(config_file=dc.kubeconfig)
            try:
                self.assertTrue(api_client.configuration.verify_ssl)
                self.assertTrue(api_client.configuration.ssl_ca_cert)
                core = client.CoreV1Api(api_client)
                names = [n.metadata.name for n in core.list_namespace().items]
                self.assertIn("default", names)
                core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="tls-cm"), data={"a": "b"}))
                self.assertEqual(core.read_namespaced_config_map("tls-cm", "default").data, {"a": "b"})
                ver = client.VersionApi(api_client).get_code()
                self.assertTrue(ver.git_version.startswith("v"))
                install_crd(api_client)
                co = client.CustomObjectsApi(api_client)
                co.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, gadget("tls-g"))
                rv = co.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["metadata"]["resourceVersion"]
                co.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "tls-g", {"spec": {"size": 3}})
                seen = []
                for ev in watch.Watch().stream(co.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL,
                                               resource_version=rv, timeout_seconds=2, _request_timeout=15):
                    seen.append(ev["type"])
                    break
                self.assertEqual(seen, ["MODIFIED"])
            finally:
                api_client.close()
            self.assertEqual(dc.stop(), 0)

    def test_plain_http_mode(self):
        # Unlike client-go, the python client sends the kubeconfig token over plain http too.
        r = __import__("subprocess").run([harness.BINARY, "--help"], capture_output=True, text=True, timeout=10)
        if "--plain-http" not in r.stdout + r.stderr:
            self.skipTest("this devcluster has no --plain-http")
        with DevCluster("--plain-http", name="py-plain") as dc:
            self.assertTrue(dc.server.startswith("http://"))
            api_client = config.new_client_from_config(config_file=dc.kubeconfig)
            try:
                core = client.CoreV1Api(api_client)
                self.assertIn("default", [n.metadata.name for n in core.list_namespace().items])
            finally:
                api_client.close()

    def test_version_and_discovery(self):
        ver = client.VersionApi(self.api_client).get_code()
        self.assertTrue(ver.git_version.startswith("v"))
        self.assertTrue(ver.major)
        groups = client.ApisApi(self.api_client).get_api_versions()
        names = [g.name for g in groups.groups]
        self.assertIn("apps", names)
        self.assertIn(GROUP, names)
        res = self.api_client.call_api("/apis/%s/%s" % (GROUP, VERSION), "GET", response_type="V1APIResourceList",
                                        auth_settings=["BearerToken"], _return_http_data_only=True)
        g = [r for r in res.resources if r.name == PLURAL][0]
        self.assertEqual(g.kind, "Gadget")
        self.assertTrue(g.namespaced)
        self.assertEqual(g.short_names, ["gd"])
        self.assertEqual(g.categories, ["testcat"])
        self.assertIn("watch", g.verbs)
        self.assertIn("gadgets/status", [r.name for r in res.resources])


if __name__ == "__main__":
    harness.run_suite("__main__")
