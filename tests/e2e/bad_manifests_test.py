#!/usr/bin/python3
"""Broken Pipelines and EdgeSites (issue 8, point 6), applied with real kubectl to a devcluster
running the real aidi-operator. Every case must end in one of two clear outcomes:

  rejected   `kubectl apply` fails and its message names the field (CRD schema validation;
             devcluster does not evaluate CEL rules, so those cases reach the operator), or
  condition  the API accepts it and the operator reports the problem: Pipelines get
             Accepted=False reason InvalidSpec, EdgeSites Ready=False reason InvalidNodeSelector,
             with a message naming the field.

The operator must never crash (still running, /healthz 200) and never hot-loop: once every case
has settled it makes no write (create, update, patch, delete) in a 10 s idle window, counted by
devcluster's per-client request log. A table of the outcomes is printed.

    /usr/bin/python3 tests/e2e/bad_manifests_test.py --bin build/bin
"""

import json
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import system  # noqa: E402
from system import System, poll  # noqa: E402

BIN = None
IDLE_SECONDS = 10
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


def pipeline(name, stages=None, **spec):
    body = {"stages": stages if stages is not None else [{"name": "a", "op": "noop"}]}
    body.update(spec)
    return {"apiVersion": "aidi.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": name}, "spec": body}


def stage(name="a", **fields):
    s = {"name": name, "op": "noop"}
    s.update(fields)
    return {k: v for k, v in s.items() if v is not None}


def site(name, **spec):
    body = {"type": "Edge", "link": {"latencyMs": 10, "bandwidthMbps": 100}}
    body.update(spec)
    return {"apiVersion": "aidi.dev/v1alpha1", "kind": "EdgeSite", "metadata": {"name": name}, "spec": body}


def nested(depth):
    v = {}
    for _ in range(depth):
        v = {"x": v}
    return v


REJECT, CONDITION = "rejected", "condition"

# (case, manifest, expected outcome, text the message must contain: the field or the problem)
CASES = [
    # -- names ------------------------------------------------------------------------------
    ("pipeline name not a DNS subdomain", pipeline("Bad_Name"), REJECT, "metadata.name"),
    # The CRD's CEL rule (not evaluated by devcluster) caps the name at 63; the operator too.
    ("pipeline name of 64 characters", pipeline("p" * 64), CONDITION, "metadata.name: must be at most 63"),
    ("stage name with '_'", pipeline("stage-name", [stage("Stage_1")]), REJECT, "spec.stages[0].name"),
    ("stage name of 64 characters", pipeline("stage-long", [stage("s" * 64)]), REJECT, "spec.stages[0].name"),
    # -- the graph ----------------------------------------------------------------------------
    ("dependency cycle a->b->a", pipeline("cycle", [stage("a", dependsOn=["b"]), stage("b", dependsOn=["a"])]),
     CONDITION, "dependency cycle"),
    ("self-dependency", pipeline("self-dep", [stage("a", dependsOn=["a"])]), CONDITION,
     "cannot depend on itself"),
    ("dependsOn an unknown stage", pipeline("unknown-dep", [stage("a", dependsOn=["ghost"])]), CONDITION,
     "dependsOn names unknown stage \"ghost\""),
    ("duplicate stage names", pipeline("dup-stages", [stage("a"), stage("a")]), REJECT, "spec.stages[1]"),
    ("input from a stage not upstream", pipeline("bad-input", [stage("a"), stage("b", inputs=[{"stage": "a"}])]),
     CONDITION, "spec.stages[1]"),
    ("no stages", pipeline("no-stages", []), REJECT, "spec.stages"),
    ("no spec", {"apiVersion": "aidi.dev/v1alpha1", "kind": "Pipeline", "metadata": {"name": "no-spec"}},
     REJECT, "spec"),
    # -- what a stage runs --------------------------------------------------------------------
    ("unknown op", pipeline("unknown-op", [stage(op="frobnicate")]), CONDITION, "unknown op \"frobnicate\""),
    ("both image and op", pipeline("both", [stage(image="busybox")]), REJECT, "spec.stages[0]"),
    ("neither image nor op", pipeline("neither", [{"name": "a"}]), REJECT, "spec.stages[0]"),
    ("params on an image stage", pipeline("image-params", [stage(op=None, image="busybox", params={"a": 1})]),
     CONDITION, "params is only used with op"),
    ("op with a bad spelling", pipeline("op-pattern", [stage(op="Read-CSV")]), REJECT, "spec.stages[0].op"),
    # -- retries, timeouts, sizes ------------------------------------------------------------
    ("negative retries", pipeline("neg-retry", [stage(retry={"limit": -1})]), REJECT,
     "spec.stages[0].retry.limit"),
    ("retries above 100", pipeline("many-retry", [stage(retry={"limit": 101})]), REJECT,
     "spec.stages[0].retry.limit"),
    ("backoff max below initial", pipeline("backoff", [stage(retry={
        "limit": 1, "backoff": {"initialSeconds": 60, "maxSeconds": 5}})]), CONDITION, "maxSeconds"),
    ("zero activeSeconds", pipeline("timeout-zero", [stage(timeouts={"activeSeconds": 0})]), REJECT,
     "spec.stages[0].timeouts.activeSeconds"),
    ("params over the 3 MiB request limit", pipeline("huge-params", [stage(params={"blob": "x" * (3 * 1024 * 1024)})]),
     REJECT, "too large"),
    ("params nested 200 deep", pipeline("deep-params", [stage(params=nested(200))]), REJECT, "nests deeper than"),
    # -- wrong types ---------------------------------------------------------------------------
    ("parallelism as a string", pipeline("par-string", parallelism="two"), REJECT, "spec.parallelism"),
    ("stages as an object", pipeline("stages-object", {"a": {"op": "noop"}}), REJECT, "spec.stages"),
    ("dependsOn as a string", pipeline("deps-string", [stage("a"), stage("b", dependsOn="a")]), REJECT,
     "spec.stages[1].dependsOn"),
    ("suspend as a string", pipeline("suspend-string", suspend="yes"), REJECT, "spec.suspend"),
    # -- placement, objective, quantities -----------------------------------------------------
    ("placement Sites without sites", pipeline("sites-none", [stage(placement={"mode": "Sites"})]), CONDITION,
     "spec.stages[0].placement.sites"),
    ("placement sites without mode Sites", pipeline("sites-auto", [stage(placement={"sites": ["edge-berlin"]})]),
     CONDITION, "spec.stages[0].placement.sites"),
    ("placement mode Moon", pipeline("mode-moon", [stage(placement={"mode": "Moon"})]), REJECT,
     "spec.stages[0].placement.mode"),
    ("objective Cheapest", pipeline("objective", objective="Cheapest"), REJECT, "spec.objective"),
    ("cpu quantity 'lots'", pipeline("cpu-lots", [stage(resources={"cpu": "lots"})]), REJECT,
     "spec.stages[0].resources.cpu"),
    ("negative memory", pipeline("mem-neg", [stage(resources={"memory": "-1Gi"})]), REJECT,
     "spec.stages[0].resources.memory"),
    ("65 GPUs", pipeline("gpu-65", [stage(resources={"gpu": {"count": 65}})]), REJECT,
     "spec.stages[0].resources.gpu.count"),
    ("negative ttlSecondsAfterFinished", pipeline("ttl-neg", ttlSecondsAfterFinished=-5), REJECT,
     "spec.ttlSecondsAfterFinished"),
    # -- EdgeSites ----------------------------------------------------------------------------
    ("EdgeSite negative bandwidth", site("neg-bw", link={"bandwidthMbps": -100}), REJECT,
     "spec.link.bandwidthMbps"),
    ("EdgeSite negative latency", site("neg-latency", link={"latencyMs": -1}), REJECT, "spec.link.latencyMs"),
    ("EdgeSite type Moon", site("moon", type="Moon"), REJECT, "spec.type"),
    ("EdgeSite without type", {"apiVersion": "aidi.dev/v1alpha1", "kind": "EdgeSite",
                               "metadata": {"name": "no-type"}, "spec": {}}, REJECT, "spec.type"),
    ("EdgeSite currency 'usd'", site("currency", cost={"currency": "usd"}), REJECT, "spec.cost.currency"),
    ("EdgeSite nodeSelector operator Like", site("op-like", nodeSelector={
        "matchExpressions": [{"key": "zone", "operator": "Like", "values": ["a"]}]}), REJECT,
     "spec.nodeSelector.matchExpressions[0].operator"),
    ("EdgeSite nodeSelector In without values", site("in-empty", nodeSelector={
        "matchExpressions": [{"key": "zone", "operator": "In"}]}), CONDITION, "spec.nodeSelector"),
    ("EdgeSite nodeSelector Exists with values", site("exists-values", nodeSelector={
        "matchExpressions": [{"key": "zone", "operator": "Exists", "values": ["a"]}]}), CONDITION,
     "spec.nodeSelector"),
    ("EdgeSite nodeSelector bad label key", site("bad-key", nodeSelector={
        "matchLabels": {"not a key!": "x"}}), CONDITION, "spec.nodeSelector"),
    # The CRD's CEL rule (not evaluated by devcluster) caps the name at 63: the operator says why.
    ("EdgeSite name of 64 characters", site("e" * 64), CONDITION, "is not a valid label value"),
]


def condition_of(obj, kind):
    """(type, status, reason, message) of the condition that reports a bad spec, if set."""
    want = "Accepted" if kind == "Pipeline" else "Ready"
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == want:
            return c
    return None


class BadManifests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("kubectl") is None:
            raise unittest.SkipTest("kubectl is not installed")
        cls.sys = System(BIN, "bad-manifests")

        def run():
            cls.results = cls.run_cases()
        cls.sys.start_then(run)

    @classmethod
    def tearDownClass(cls):
        cls.sys.stop()

    @classmethod
    def run_cases(cls):
        results = []
        accepted = []
        for case, manifest, expected, needle in CASES:
            r = cls.sys.kubectl("apply", "-f", "-", check=False, stdin=json.dumps(manifest), timeout=120)
            if r.returncode != 0:
                results.append({"case": case, "expected": expected, "needle": needle, "outcome": REJECT,
                                "message": " ".join(r.stderr.split())})
            else:
                entry = {"case": case, "expected": expected, "needle": needle, "outcome": None, "message": "",
                         "kind": manifest["kind"], "name": manifest["metadata"]["name"]}
                results.append(entry)
                accepted.append(entry)
        # Everything the API accepted: wait for the operator's verdict.
        for entry in accepted:
            resource = "aip" if entry["kind"] == "Pipeline" else "es"

            def verdict():
                obj = json.loads(cls.sys.kubectl("get", resource, entry["name"], "-o", "json"))
                c = condition_of(obj, entry["kind"])
                if c and c.get("status") == "False" and c.get("reason") in ("InvalidSpec", "InvalidNodeSelector"):
                    return c
                if entry["kind"] == "Pipeline" and c and c.get("status") == "True":
                    return c
                return None
            try:
                c = poll(verdict, timeout=20, interval=0.2, what="the operator's verdict on " + entry["case"])
                entry["outcome"] = CONDITION if c["status"] == "False" else "accepted"
                entry["message"] = "%s=%s %s: %s" % (c["type"], c["status"], c["reason"], c.get("message", ""))
            except AssertionError as e:
                entry["outcome"] = "no verdict"
                entry["message"] = str(e)[:300]
        cls.print_table(results)
        return results

    @staticmethod
    def print_table(results):
        print("\n%-42s %-9s %-11s %s" % ("case", "expected", "outcome", "message"), file=sys.stderr)
        for r in results:
            print("%-42s %-9s %-11s %s" % (r["case"][:42], r["expected"], r["outcome"], r["message"][:160]),
                  file=sys.stderr)
        print("%d cases: %d rejected by the API, %d reported by the operator" % (
            len(results), sum(r["outcome"] == REJECT for r in results),
            sum(r["outcome"] == CONDITION for r in results)), file=sys.stderr)

    def test_at_least_twenty_cases(self):
        self.assertGreaterEqual(len(CASES), 20)

    def test_every_case_gets_a_clear_answer_naming_the_problem(self):
        for r in self.results:
            with self.subTest(case=r["case"]):
                self.assertEqual(r["outcome"], r["expected"], r["message"])
                self.assertIn(r["needle"], r["message"])

    def test_pipelines_rejected_by_the_operator_start_nothing(self):
        pods = json.loads(self.sys.kubectl("get", "pods", "-A", "-o", "json"))["items"]
        self.assertEqual([p["metadata"]["name"] for p in pods], [])
        for r in self.results:
            if r.get("kind") == "Pipeline" and r["outcome"] == CONDITION:
                phase = self.sys.kubectl("get", "aip", r["name"], "-o", "jsonpath={.status.phase}")
                self.assertEqual(phase, "Failed", r["case"])

    def test_zz_operator_alive_and_idle(self):
        # Runs last (name order): every verdict above is in, so the operator has nothing to do.
        time.sleep(1)
        self.sys.reset_requests()
        time.sleep(IDLE_SECONDS)
        log = self.sys.requests()
        operator = log.get("byAgent", {}).get("aidi-operator", {})
        writes = {k: v for k, v in operator.items() if k.split(" ")[0] in WRITE_VERBS}
        print("operator requests in %d s idle: %s" % (IDLE_SECONDS, json.dumps(operator, sort_keys=True)),
              file=sys.stderr)
        self.assertEqual(writes, {}, "the operator wrote while idle: %s" % operator)
        self.assertTrue(self.sys.alive("operator"), self.sys.log_text("operator")[-3000:])
        self.assertEqual(self.sys.operator_health(), 200)
        self.assertNotIn("FATAL", self.sys.log_text("operator"))


if __name__ == "__main__":
    BIN = system.take_bin_arg(sys.argv)
    if shutil.which("kubectl") is None:
        print("%s: kubectl is missing" % os.path.basename(__file__), file=sys.stderr)
        sys.exit(system.SKIP)
    unittest.main(verbosity=2)
