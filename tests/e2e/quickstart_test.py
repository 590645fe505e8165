#!/usr/bin/python3
"""aidi end to end on one machine, with nothing faked: aidi-devcluster with nodes, its node agent
and scheduler loop; aidi-scheduler-extender called by that loop; aidi-operator; aidi-worker in
every op stage. Real kubectl checks what a user would look at.

The pipeline is examples/quickstart.yaml on the sites of examples/edgesites.yaml and the nodes of
examples/devcluster/nodes.yaml: the data-gravity stage (`features`: 400 GB at edge-berlin) must
stay at edge-berlin, the compute-heavy stage (`train`: four reference-GPU hours) must go to the
cloud's H100s, the Edge-only CPU stage (`report`) must stay off the cloud, and the reasons must
say so.

    /usr/bin/python3 tests/e2e/quickstart_test.py --bin build/bin
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "devcluster"))
import harness  # noqa: E402
from harness import poll  # noqa: E402
from system import System, take_bin_arg  # noqa: E402

REPO = harness.REPO
BIN = None
EDGE_SITES = ("edge-berlin", "munich-plant")


class Quickstart(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # devcluster (nodes, node agent, scheduler loop), extender, operator, CRDs
        cls.sys = System(BIN, "quickstart", nodes=True, run_pods=True, extender=True)
        cls.sys.start_then(cls.run_quickstart)

    @classmethod
    def run_quickstart(cls):
        s = cls.sys
        s.apply_example_sites()
        s.kubectl("apply", "-f", os.path.join(REPO, "examples", "quickstart.yaml"))
        s.kubectl("wait", "--for=condition=Complete", "aip/quickstart", "--timeout=240s", timeout=260)
        cls.pipeline = json.loads(s.kubectl("get", "aip", "quickstart", "-o", "json"))
        cls.stages = {st["name"]: st for st in cls.pipeline["status"]["stages"]}

    @classmethod
    def kubectl(cls, *args):
        return cls.sys.kubectl(*args)

    @classmethod
    def tearDownClass(cls):
        cls.sys.stop()

    # -- where the stages ran, and why ------------------------------------------------------

    def test_every_stage_succeeded(self):
        self.assertEqual(self.pipeline["status"]["phase"], "Succeeded")
        self.assertEqual(sorted(self.stages), ["collect", "features", "report", "score", "train"])
        for name, s in self.stages.items():
            self.assertEqual(s["phase"], "Succeeded", s)
            self.assertTrue(s.get("node"), s)

    def test_data_gravity_keeps_features_at_the_edge(self):
        s = self.stages["features"]
        self.assertEqual(s["site"], "edge-berlin", s)
        self.assertEqual(s["node"], "berlin-store-gpu-1", s)
        reason = s["placement"]["reason"]
        self.assertTrue(reason.startswith("data gravity: 400 GB at edge-berlin; moving it to gpu-cloud takes 1.8 h"),
                        reason)

    def test_compute_heavy_train_goes_to_the_cloud(self):
        s = self.stages["train"]
        self.assertEqual(s["site"], "gpu-cloud", s)
        self.assertIn(s["node"], ("cloud-h100-1", "cloud-h100-2"))
        placement = s["placement"]
        # Balanced: cheaper and sooner on an H100 than on the edge's L4 with its data next door.
        self.assertIn("vs", placement["reason"])
        self.assertIn("on berlin-store-gpu-1", placement["reason"])
        self.assertGreater(placement["score"], 0)

    def test_edge_only_stage_stays_off_the_cloud(self):
        self.assertIn(self.stages["report"]["site"], EDGE_SITES)
        self.assertEqual(self.stages["collect"]["site"], "edge-berlin")  # placement Sites

    def test_the_pod_carries_the_extenders_annotation(self):
        pod = json.loads(self.kubectl("get", "pod", "-l", "aidi.dev/pipeline=quickstart,aidi.dev/stage=train",
                                      "-o", "jsonpath={.items[0]}"))
        placement = json.loads(pod["metadata"]["annotations"]["aidi.dev/placement"])
        self.assertEqual(placement["node"], pod["spec"]["nodeName"])
        self.assertEqual(placement["site"], "gpu-cloud")
        self.assertEqual(placement["reason"], self.stages["train"]["placement"]["reason"])
        # devcluster's scheduler loop reported the binding as kube-scheduler does.
        events = self.kubectl("get", "events", "--field-selector",
                              "involvedObject.name=%s,reason=Scheduled" % pod["metadata"]["name"],
                              "-o", "jsonpath={.items[*].message}")
        self.assertIn("Successfully assigned default/%s to %s" % (pod["metadata"]["name"], pod["spec"]["nodeName"]),
                      events)

    # -- what kubectl shows --------------------------------------------------------------------

    def test_kubectl_logs_show_the_workers_summary(self):
        expected = {"features": ("normalize", 20000), "train": ("train", 20000),
                    "score": ("predict", 20000), "report": ("groupby", 200)}
        for stage, (op, rows) in expected.items():
            pod = self.kubectl("get", "pod", "-l", "aidi.dev/pipeline=quickstart,aidi.dev/stage=" + stage,
                               "-o", "jsonpath={.items[0].metadata.name}")
            last = self.kubectl("logs", pod, "--tail=1")
            summary = json.loads(last)
            self.assertEqual(summary["op"], op, last)
            self.assertEqual(summary["device"], "cpu", last)
            if op == "train":
                self.assertEqual(summary["rowsIn"], rows, last)
                self.assertGreater(summary["metrics"]["accuracy"], 0.8, last)
            else:
                self.assertEqual(summary["rowsOut"], rows, last)
            # The same summary is the container's termination message.
            message = self.kubectl("get", "pod", pod, "-o",
                                   "jsonpath={.status.containerStatuses[0].state.terminated.message}")
            self.assertEqual(json.loads(message)["op"], op)
        collect = self.kubectl("logs", "quickstart-collect-1")
        self.assertIn("wrote 20000 readings", collect)

    def test_kubectl_get_aip_and_es(self):
        rows = self.kubectl("get", "aip").splitlines()
        self.assertEqual(rows[0].split(), ["NAME", "PHASE", "PROGRESS", "SITES", "AGE"])
        self.assertEqual(rows[1].split()[:4], ["quickstart", "Succeeded", "5/5", "edge-berlin,gpu-cloud"])
        es = {line.split()[0]: line.split() for line in self.kubectl("get", "es").splitlines()[1:]}
        # NAME TYPE READY GPUS... LATENCY AGE: every GPU is free again once the pipeline is done.
        poll(lambda: "16/16 free" in self.kubectl("get", "es", "gpu-cloud"), timeout=20,
             what="gpu-cloud's GPUs freed")
        self.assertEqual(es["gpu-cloud"][1:3], ["Cloud", "2/2"])
        self.assertEqual(es["edge-berlin"][1:3], ["Edge", "1/1"])
        self.assertEqual(es["munich-plant"][1:3], ["OnPrem", "1/1"])
        nodes = self.kubectl("get", "nodes", "-l", "aidi.dev/site=munich-plant", "-o", "name")
        self.assertEqual(nodes, "node/munich-plant-1")  # joined by the site's nodeSelector

    def test_pods_ran_as_kubelet_reports_them(self):
        pods = json.loads(self.kubectl("get", "pods", "-l", "aidi.dev/pipeline=quickstart", "-o", "json"))["items"]
        self.assertEqual(len(pods), 5)
        for pod in pods:
            status = pod["status"]
            self.assertEqual(status["phase"], "Succeeded", pod["metadata"]["name"])
            terminated = status["containerStatuses"][0]["state"]["terminated"]
            self.assertEqual((terminated["exitCode"], terminated["reason"]), (0, "Completed"))
            conditions = {c["type"]: c["status"] for c in status["conditions"]}
            self.assertEqual(conditions["PodScheduled"], "True")
            self.assertEqual(conditions["Ready"], "False")  # completed pods are not ready


if __name__ == "__main__":
    BIN = take_bin_arg(sys.argv)
    unittest.main(verbosity=2)
