// The EdgeSite roll-up rules (edgesite_rollup.h): membership and conflicts, status counts, GPU
// accounting, conditions and their transition times, maintenance, node label changes, events.
#include "operator/controller/edgesite_rollup.h"

#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aidi::op {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const Clock::WallTime kT0 = Clock::WallTime{} + std::chrono::seconds(1'780'000'000);
const Clock::WallTime kT1 = kT0 + std::chrono::minutes(5);

json Site(const std::string& name, json spec = json::object(), json status = nullptr,
          int generation = 1) {
  if (!spec.contains("type")) spec["type"] = "Edge";
  json site = {{"apiVersion", "aidi.dev/v1alpha1"},
               {"kind", "EdgeSite"},
               {"metadata", {{"name", name}, {"generation", generation}}},
               {"spec", spec}};
  if (!status.is_null()) site["status"] = status;
  return site;
}

json SelectorSite(const std::string& name, json selector) {
  return Site(name, {{"nodeSelector", selector}});
}

struct NodeSpec {
  json labels = json::object();
  int gpus = 0;  // allocatable nvidia.com/gpu; 0 leaves it out
  bool ready = true;
  std::string model;  // nvidia.com/gpu.product; "" leaves it out
};

json Node(const std::string& name, NodeSpec n) {
  if (!n.model.empty()) n.labels[kGpuProductLabel] = n.model;
  json allocatable = {{"cpu", "16"}, {"memory", "64Gi"}};
  if (n.gpus > 0) allocatable[kGpuResource] = std::to_string(n.gpus);
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"resourceVersion", "rv-" + name}, {"labels", n.labels}}},
          {"status",
           {{"allocatable", allocatable},
            {"conditions",
             {{{"type", "MemoryPressure"}, {"status", "False"}},
              {{"type", "Ready"}, {"status", n.ready ? "True" : "False"}}}}}}};
}

json SiteNode(const std::string& name, const std::string& site, int gpus = 0, bool ready = true,
              const std::string& model = "") {
  return Node(name, {.labels = {{kSiteLabel, site}}, .gpus = gpus, .ready = ready, .model = model});
}

json GpuContainer(int gpus) {
  return {{"name", "c"}, {"resources", {{"requests", {{kGpuResource, std::to_string(gpus)}}}}}};
}

json Pod(const std::string& name, const std::string& node, int gpus,
         const std::string& phase = "Running") {
  json pod = {{"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", {{"containers", {GpuContainer(gpus)}}}},
              {"status", {{"phase", phase}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  return pod;
}

std::map<std::string, SiteRollup> Roll(const std::vector<json>& sites,
                                       const std::vector<json>& nodes,
                                       const std::vector<json>& pods = {},
                                       Clock::WallTime now = kT0) {
  return RollUpEdgeSites({.sites = sites, .nodes = nodes, .pods = pods, .now = now});
}

const json& ConditionOf(const json& status, const std::string& type) {
  for (const json& c : status["conditions"]) {
    if (c["type"] == type) return c;
  }
  static const json kNone;
  ADD_FAILURE() << "no condition " << type << " in " << status.dump();
  return kNone;
}

// Returns `site` with the status the roll-up computed, as if the controller had written it.
json Written(json site, const SiteRollup& rollup) {
  site["status"] = rollup.status;
  return site;
}

// ---- Helpers: quantities, requests, readiness, selectors. ----

TEST(GpuQuantityTest, AcceptsWholeNumbersOnly) {
  EXPECT_EQ(GpuQuantity("8"), 8);
  EXPECT_EQ(GpuQuantity(json(4)), 4);
  EXPECT_EQ(GpuQuantity("0"), 0);
  EXPECT_EQ(GpuQuantity("1.5"), 0);
  EXPECT_EQ(GpuQuantity("2k"), 2000);  // whole, as Kubernetes reads it
  EXPECT_EQ(GpuQuantity("1e1"), 10);
  EXPECT_EQ(GpuQuantity("-1"), 0);
  EXPECT_EQ(GpuQuantity(json(-3)), 0);
  EXPECT_EQ(GpuQuantity(json(1.5)), 0);
  EXPECT_EQ(GpuQuantity(""), 0);
  EXPECT_EQ(GpuQuantity(nullptr), 0);
  EXPECT_EQ(GpuQuantity("99999999999"), 0);
}

TEST(PodGpuRequestTest, SumsContainersAndTakesTheLargerOfThatAndTheLargestInitContainer) {
  json pod = {{"spec",
               {{"containers", {GpuContainer(1), GpuContainer(2), {{"name", "cpu"}}}},
                {"initContainers", {GpuContainer(2)}}}}};
  EXPECT_EQ(PodGpuRequest(pod), 3);
  pod["spec"]["initContainers"] = {GpuContainer(1), GpuContainer(5)};
  EXPECT_EQ(PodGpuRequest(pod), 5);
}

TEST(PodGpuRequestTest, LimitsStandInForMissingRequests) {
  json limits_only = {
      {"spec",
       {{"containers", {{{"name", "c"}, {"resources", {{"limits", {{kGpuResource, "2"}}}}}}}}}}};
  EXPECT_EQ(PodGpuRequest(limits_only), 2);
  json both = {
      {"spec",
       {{"containers",
         {{{"name", "c"},
           {"resources",
            {{"requests", {{kGpuResource, "1"}}}, {"limits", {{kGpuResource, "3"}}}}}}}}}}};
  EXPECT_EQ(PodGpuRequest(both), 1);
  EXPECT_EQ(PodGpuRequest({{"spec", {{"containers", {{{"name", "c"}}}}}}}), 0);
}

TEST(PodHoldsGpusTest, OnlyBoundUnfinishedPodsThatRequestGpus) {
  EXPECT_TRUE(PodHoldsGpus(Pod("p", "n1", 1, "Running")));
  EXPECT_TRUE(PodHoldsGpus(Pod("p", "n1", 1, "Pending")));
  EXPECT_TRUE(PodHoldsGpus(Pod("p", "n1", 1, "Unknown")));
  EXPECT_FALSE(PodHoldsGpus(Pod("p", "n1", 1, "Succeeded")));
  EXPECT_FALSE(PodHoldsGpus(Pod("p", "n1", 1, "Failed")));
  EXPECT_FALSE(PodHoldsGpus(Pod("p", "", 1, "Pending")));
  EXPECT_FALSE(PodHoldsGpus(Pod("p", "n1", 0, "Running")));
}

TEST(NodeReadyTest, ReadsTheReadyCondition) {
  EXPECT_TRUE(NodeReady(Node("n", {.ready = true})));
  EXPECT_FALSE(NodeReady(Node("n", {.ready = false})));
  json no_conditions = Node("n", {});
  no_conditions["status"].erase("conditions");
  EXPECT_FALSE(NodeReady(no_conditions));
  json unknown = Node("n", {});
  unknown["status"]["conditions"][1]["status"] = "Unknown";
  EXPECT_FALSE(NodeReady(unknown));
}

TEST(SiteNodeSelectorTest, UnsetMeansTheSiteLabelAndEmptyMeansNothing) {
  auto unset = SiteNodeSelector(Site("berlin"));
  ASSERT_TRUE(unset.ok());
  ASSERT_TRUE(unset->has_value());
  EXPECT_EQ((*unset)->ToString(), "aidi.dev/site=berlin");

  auto null_selector = SiteNodeSelector(SelectorSite("berlin", nullptr));
  ASSERT_TRUE(null_selector.ok());
  ASSERT_TRUE(null_selector->has_value());
  EXPECT_EQ((*null_selector)->ToString(), "aidi.dev/site=berlin");

  for (const json& empty :
       {json::object(), json{{"matchLabels", json::object()}},
        json{{"matchLabels", json::object()}, {"matchExpressions", json::array()}}}) {
    auto parsed = SiteNodeSelector(SelectorSite("berlin", empty));
    ASSERT_TRUE(parsed.ok()) << empty.dump();
    EXPECT_FALSE(parsed->has_value()) << empty.dump();
  }

  auto invalid = SiteNodeSelector(SelectorSite("berlin", {{"matchLabels", {{"bad key!", "x"}}}}));
  EXPECT_FALSE(invalid.ok());
  EXPECT_THAT(invalid.status().message(), HasSubstr("spec.nodeSelector"));
}

TEST(SiteMembershipTest, FirstSiteByNameWins) {
  SiteMembership membership({SelectorSite("zeta", {{"matchLabels", {{"zone", "a"}}}}),
                             SelectorSite("alpha", {{"matchLabels", {{"zone", "a"}}}}),
                             SelectorSite("beta", {{"matchLabels", {{"zone", "b"}}}})});
  EXPECT_EQ(membership.SiteOf({{"zone", "a"}}), "alpha");
  EXPECT_THAT(membership.MatchingSites({{"zone", "a"}}), ElementsAre("alpha", "zeta"));
  EXPECT_EQ(membership.SiteOf({{"zone", "c"}}), "");
  EXPECT_EQ(membership.SiteOf(nullptr), "");
  EXPECT_TRUE(membership.Exists("beta"));
  EXPECT_FALSE(membership.Exists("gamma"));
}

// ---- Membership. ----

TEST(EdgeSiteRollupTest, DefaultSelectorTakesNodesLabelledWithTheSiteAndChangesNoLabel) {
  auto out = Roll({Site("berlin")}, {SiteNode("n2", "berlin"), SiteNode("n1", "berlin"),
                                     SiteNode("m1", "munich"), Node("free", {})});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out["berlin"].members, ElementsAre("n1", "n2"));
  EXPECT_THAT(out["berlin"].label_changes, IsEmpty());
  EXPECT_EQ(out["berlin"].status["totalNodes"], 2);
}

TEST(EdgeSiteRollupTest, SelectorUsesMatchLabelsAndMatchExpressionsAndLabelsMembers) {
  json selector = {
      {"matchLabels", {{"topology.kubernetes.io/zone", "eu-1a"}}},
      {"matchExpressions", {{{"key", "tier"}, {"operator", "In"}, {"values", {"gpu", "edge"}}}}}};
  auto out =
      Roll({SelectorSite("cloud", selector)},
           {Node("a", {.labels = {{"topology.kubernetes.io/zone", "eu-1a"}, {"tier", "gpu"}}}),
            Node("b", {.labels = {{"topology.kubernetes.io/zone", "eu-1a"}, {"tier", "cpu"}}}),
            Node("c", {.labels = {{"topology.kubernetes.io/zone", "eu-1b"}, {"tier", "gpu"}}}),
            Node("d", {.labels = {{"topology.kubernetes.io/zone", "eu-1a"},
                                  {"tier", "edge"},
                                  {kSiteLabel, "cloud"}}})});
  EXPECT_THAT(out["cloud"].members, ElementsAre("a", "d"));
  // d carries the label already; a gets it, with its resourceVersion as the precondition.
  EXPECT_THAT(
      out["cloud"].label_changes,
      ElementsAre(NodeLabelChange{.node = "a", .resource_version = "rv-a", .value = "cloud"}));
}

TEST(EdgeSiteRollupTest, EmptySelectorSelectsNoNode) {
  auto out =
      Roll({SelectorSite("nowhere", json::object())}, {Node("a", {}), SiteNode("b", "nowhere")});
  EXPECT_THAT(out["nowhere"].members, IsEmpty());
  const json& ready = ConditionOf(out["nowhere"].status, "Ready");
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "NoNodes");
  EXPECT_THAT(ready["message"].get<std::string>(), HasSubstr("empty"));
  // b is labelled for an existing site it is no member of: the label goes.
  EXPECT_THAT(
      out["nowhere"].label_changes,
      ElementsAre(NodeLabelChange{.node = "b", .resource_version = "rv-b", .value = std::nullopt}));
}

TEST(EdgeSiteRollupTest, InvalidSelectorSelectsNothingAndSaysWhy) {
  auto out = Roll({SelectorSite("bad", {{"matchLabels", {{"bad key!", "x"}}}})},
                  {Node("a", {.labels = {{"bad key!", "x"}}})});
  EXPECT_THAT(out["bad"].members, IsEmpty());
  EXPECT_EQ(out["bad"].status["phase"], "NotReady");
  const json& ready = ConditionOf(out["bad"].status, "Ready");
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "InvalidNodeSelector");
  EXPECT_THAT(ready["message"].get<std::string>(), HasSubstr("spec.nodeSelector"));
}

TEST(EdgeSiteRollupTest, ConflictGoesToTheFirstSiteByNameAndTheOtherReportsIt) {
  json zone_a = {{"matchLabels", {{"zone", "a"}}}};
  auto out =
      Roll({SelectorSite("zurich", zone_a), SelectorSite("amsterdam", zone_a)},
           {Node("n1", {.labels = {{"zone", "a"}}}), Node("n2", {.labels = {{"zone", "a"}}})});
  EXPECT_THAT(out["amsterdam"].members, ElementsAre("n1", "n2"));
  EXPECT_THAT(out["zurich"].members, IsEmpty());
  EXPECT_EQ(out["zurich"].claimed_elsewhere,
            (std::map<std::string, std::string>{{"n1", "amsterdam"}, {"n2", "amsterdam"}}));
  EXPECT_THAT(out["amsterdam"].claimed_elsewhere, IsEmpty());
  EXPECT_EQ(out["zurich"].status["totalNodes"], 0);
  EXPECT_THAT(ConditionOf(out["zurich"].status, "Ready")["message"].get<std::string>(),
              HasSubstr("2 nodes matching the nodeSelector belong to a site whose name sorts "
                        "first: n1 (site amsterdam), n2 (site amsterdam)"));
  EXPECT_THAT(ConditionOf(out["amsterdam"].status, "Ready")["message"].get<std::string>(),
              Not(HasSubstr("sorts first")));
  EXPECT_EQ(out["amsterdam"].label_changes.size(), 2u);
  EXPECT_THAT(out["zurich"].label_changes, IsEmpty());
}

TEST(EdgeSiteRollupTest, ConflictMessageNamesAtMostFiveNodes) {
  json all = {{"matchExpressions", {{{"key", "zone"}, {"operator", "Exists"}}}}};
  std::vector<json> nodes;
  for (int i = 0; i < 7; ++i)
    nodes.push_back(Node("n" + std::to_string(i), {.labels = {{"zone", "x"}}}));
  auto out = Roll({SelectorSite("a", all), SelectorSite("b", all)}, nodes);
  std::string message = ConditionOf(out["b"].status, "Ready")["message"];
  EXPECT_THAT(message, HasSubstr("7 nodes"));
  EXPECT_THAT(message, HasSubstr("n4 (site a) and 2 more"));
  EXPECT_THAT(message, Not(HasSubstr("n5")));
}

// ---- Status numbers. ----

TEST(EdgeSiteRollupTest, CountsNodesAndGpusOfReadyNodesByModel) {
  auto out = Roll({Site("s")},
                  {SiteNode("h1", "s", 8, true, "NVIDIA-H100-80GB-HBM3"),
                   SiteNode("h2", "s", 8, true, "NVIDIA-H100-80GB-HBM3"),
                   SiteNode("t1", "s", 4, true, "Tesla-T4"), SiteNode("x", "s", 2, true),
                   SiteNode("down", "s", 8, false, "Tesla-T4"), SiteNode("cpu", "s")},
                  {Pod("p1", "h1", 3), Pod("p2", "t1", 4)});
  const json& status = out["s"].status;
  EXPECT_EQ(status["phase"], "Ready");
  EXPECT_EQ(status["totalNodes"], 6);
  EXPECT_EQ(status["readyNodes"], 5);
  EXPECT_EQ(status["readySummary"], "5/6");
  EXPECT_EQ(status["gpus"]["total"], 22);  // the not-ready node's 8 do not count
  EXPECT_EQ(status["gpus"]["free"], 15);
  EXPECT_EQ(status["gpuSummary"], "15/22 free");
  EXPECT_EQ(status["gpus"]["byModel"],
            json::parse(R"({"NVIDIA-H100-80GB-HBM3": {"total": 16, "free": 13},
                            "Tesla-T4": {"total": 4, "free": 0},
                            "unknown": {"total": 2, "free": 2}})"));
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ(ConditionOf(status, "Ready")["reason"], "NodesReady");
  EXPECT_EQ(ConditionOf(status, "Ready")["message"], "5/6 nodes ready");
  EXPECT_EQ(ConditionOf(status, "CapacityAvailable")["status"], "True");
  EXPECT_EQ(ConditionOf(status, "CapacityAvailable")["reason"], "GpusFree");
  EXPECT_EQ(ConditionOf(status, "CapacityAvailable")["message"], "15/22 GPUs free");
}

TEST(EdgeSiteRollupTest, FreeGpusIgnoreTerminatedUnboundAndElsewherePods) {
  auto out = Roll({Site("s")}, {SiteNode("n1", "s", 8), SiteNode("other", "t", 8)},
                  {Pod("running", "n1", 1, "Running"), Pod("pending", "n1", 2, "Pending"),
                   Pod("done", "n1", 4, "Succeeded"), Pod("failed", "n1", 4, "Failed"),
                   Pod("unbound", "", 4, "Pending"), Pod("elsewhere", "other", 4, "Running"),
                   Pod("cpu", "n1", 0, "Running")});
  EXPECT_EQ(out["s"].status["gpus"]["total"], 8);
  EXPECT_EQ(out["s"].status["gpus"]["free"], 5);
}

TEST(EdgeSiteRollupTest, FreeGpusNeverGoBelowZeroPerNode) {
  // n1 is oversubscribed (a stale pod list, or capacity that shrank); n2's free GPUs are not
  // eaten by n1's deficit.
  auto out = Roll({Site("s")}, {SiteNode("n1", "s", 2), SiteNode("n2", "s", 4)},
                  {Pod("a", "n1", 2), Pod("b", "n1", 2)});
  EXPECT_EQ(out["s"].status["gpus"]["free"], 4);
  EXPECT_EQ(out["s"].status["gpus"]["byModel"]["unknown"]["free"], 4);
}

TEST(EdgeSiteRollupTest, CapacityFallsBackToStatusCapacity) {
  json node = SiteNode("n1", "s");
  node["status"]["capacity"] = {{kGpuResource, "2"}};
  auto out = Roll({Site("s")}, {node});
  EXPECT_EQ(out["s"].status["gpus"]["total"], 2);
}

TEST(EdgeSiteRollupTest, ZeroNodeSiteIsNotReadyWithNoCapacity) {
  auto out = Roll({Site("empty")}, {SiteNode("n1", "elsewhere", 4)});
  const json& status = out["empty"].status;
  EXPECT_EQ(status["phase"], "NotReady");
  EXPECT_EQ(status["totalNodes"], 0);
  EXPECT_EQ(status["readyNodes"], 0);
  EXPECT_EQ(status["readySummary"], "0/0");
  EXPECT_EQ(status["gpuSummary"], "0/0 free");
  EXPECT_EQ(status["gpus"], json::parse(R"({"total": 0, "free": 0, "byModel": {}})"));
  EXPECT_EQ(ConditionOf(status, "Ready")["status"], "False");
  EXPECT_EQ(ConditionOf(status, "Ready")["reason"], "NoNodes");
  EXPECT_EQ(ConditionOf(status, "CapacityAvailable")["status"], "False");
  EXPECT_EQ(ConditionOf(status, "CapacityAvailable")["reason"], "NoReadyNodes");
}

TEST(EdgeSiteRollupTest, NoReadyNodeMakesTheSiteNotReady) {
  auto out = Roll({Site("s")}, {SiteNode("n1", "s", 4, false), SiteNode("n2", "s", 0, false)});
  const json& status = out["s"].status;
  EXPECT_EQ(status["phase"], "NotReady");
  EXPECT_EQ(status["readySummary"], "0/2");
  EXPECT_EQ(status["gpuSummary"], "0/0 free");
  EXPECT_EQ(ConditionOf(status, "Ready")["reason"], "NoReadyNodes");
  EXPECT_EQ(ConditionOf(status, "CapacityAvailable")["reason"], "NoReadyNodes");
}

TEST(EdgeSiteRollupTest, CapacityWithoutGpusIsAReadyNodeAndWithGpusAFreeGpu) {
  auto cpu = Roll({Site("s")}, {SiteNode("n1", "s")});
  EXPECT_EQ(ConditionOf(cpu["s"].status, "CapacityAvailable")["status"], "True");
  EXPECT_EQ(ConditionOf(cpu["s"].status, "CapacityAvailable")["reason"], "NoGpusNodesReady");

  auto full = Roll({Site("s")}, {SiteNode("n1", "s", 2)}, {Pod("p", "n1", 2)});
  EXPECT_EQ(full["s"].status["phase"], "Ready");
  EXPECT_EQ(ConditionOf(full["s"].status, "Ready")["status"], "True");
  EXPECT_EQ(ConditionOf(full["s"].status, "CapacityAvailable")["status"], "False");
  EXPECT_EQ(ConditionOf(full["s"].status, "CapacityAvailable")["reason"], "NoFreeGpus");
  EXPECT_EQ(full["s"].status["gpuSummary"], "0/2 free");
}

TEST(EdgeSiteRollupTest, MaintenanceMarksTheSiteAndTakesAwayCapacity) {
  auto out = Roll({Site("s", {{"maintenance", true}})}, {SiteNode("n1", "s", 4)});
  const json& status = out["s"].status;
  EXPECT_EQ(status["phase"], "Maintenance");
  EXPECT_EQ(status["readySummary"], "1/1");  // still observed
  EXPECT_EQ(status["gpuSummary"], "4/4 free");
  EXPECT_EQ(ConditionOf(status, "Ready")["status"], "False");
  EXPECT_EQ(ConditionOf(status, "Ready")["reason"], "Maintenance");
  EXPECT_EQ(ConditionOf(status, "CapacityAvailable")["status"], "False");
  EXPECT_EQ(ConditionOf(status, "CapacityAvailable")["reason"], "Maintenance");

  auto off = Roll({Site("s", {{"maintenance", false}})}, {SiteNode("n1", "s", 4)});
  EXPECT_EQ(off["s"].status["phase"], "Ready");
}

// ---- Conditions over time. ----

TEST(EdgeSiteRollupTest, ConditionsCarryGenerationAndTheirTransitionTime) {
  json site = Site("s", json::object(), nullptr, 3);
  auto first = Roll({site}, {SiteNode("n1", "s", 2)}, {}, kT0);
  const json& ready = ConditionOf(first["s"].status, "Ready");
  EXPECT_EQ(ready["observedGeneration"], 3);
  EXPECT_EQ(ready["lastTransitionTime"], FormatRfc3339(kT0));
  EXPECT_EQ(first["s"].status["observedGeneration"], 3);
  EXPECT_TRUE(first["s"].status_changed);

  // Same observations later: nothing changes, not even the times.
  json written = Written(site, first["s"]);
  auto same = Roll({written}, {SiteNode("n1", "s", 2)}, {}, kT1);
  EXPECT_FALSE(same["s"].status_changed);
  EXPECT_EQ(same["s"].status, written["status"]);
  EXPECT_FALSE(same["s"].event.has_value());

  // A message change (1 of 2 GPUs used) keeps both transition times; status values move.
  auto used = Roll({written}, {SiteNode("n1", "s", 2)}, {Pod("p", "n1", 1)}, kT1);
  EXPECT_TRUE(used["s"].status_changed);
  EXPECT_EQ(ConditionOf(used["s"].status, "CapacityAvailable")["lastTransitionTime"],
            FormatRfc3339(kT0));
  EXPECT_EQ(ConditionOf(used["s"].status, "CapacityAvailable")["message"], "1/2 GPUs free");

  // A flip (the node goes down) moves the time of the conditions that flipped.
  auto down = Roll({written}, {SiteNode("n1", "s", 2, false)}, {}, kT1);
  EXPECT_EQ(ConditionOf(down["s"].status, "Ready")["status"], "False");
  EXPECT_EQ(ConditionOf(down["s"].status, "Ready")["lastTransitionTime"], FormatRfc3339(kT1));

  // A new generation is recorded even when nothing else changed.
  json bumped = written;
  bumped["metadata"]["generation"] = 4;
  auto next = Roll({bumped}, {SiteNode("n1", "s", 2)}, {}, kT1);
  EXPECT_TRUE(next["s"].status_changed);
  EXPECT_EQ(ConditionOf(next["s"].status, "Ready")["observedGeneration"], 4);
  EXPECT_EQ(ConditionOf(next["s"].status, "Ready")["lastTransitionTime"], FormatRfc3339(kT0));
}

TEST(EdgeSiteRollupTest, ConditionsOfOtherTypesAreKept) {
  json foreign = {{"type", "Audited"},
                  {"status", "True"},
                  {"lastTransitionTime", "2026-01-01T00:00:00Z"},
                  {"reason", "Manual"},
                  {"message", ""}};
  auto out = Roll({Site("s", json::object(), {{"conditions", {foreign}}})}, {SiteNode("n1", "s")});
  ASSERT_EQ(out["s"].status["conditions"].size(), 3u);
  EXPECT_EQ(out["s"].status["conditions"][2], foreign);
}

TEST(EdgeSiteRollupTest, ReadyChangesRecordOneEvent) {
  json site = Site("s");
  auto first = Roll({site}, {SiteNode("n1", "s")});
  ASSERT_TRUE(first["s"].event.has_value());
  EXPECT_EQ(*first["s"].event,
            (SiteEvent{.warning = false, .reason = "SiteReady", .message = "1/1 nodes ready"}));

  json written = Written(site, first["s"]);
  auto down = Roll({written}, {SiteNode("n1", "s", 0, false)}, {}, kT1);
  ASSERT_TRUE(down["s"].event.has_value());
  EXPECT_TRUE(down["s"].event->warning);
  EXPECT_EQ(down["s"].event->reason, "SiteNotReady");
  EXPECT_EQ(down["s"].event->message, "0/1 nodes ready");

  // A change that leaves Ready as it is (a second ready node) records nothing.
  auto more = Roll({written}, {SiteNode("n1", "s"), SiteNode("n2", "s")}, {}, kT1);
  EXPECT_TRUE(more["s"].status_changed);
  EXPECT_FALSE(more["s"].event.has_value());
}

// ---- Labels. ----

TEST(EdgeSiteRollupTest, LabelsMoveWithTheSelectorAndUnknownSitesAreLeftAlone) {
  json zone = {{"matchLabels", {{"zone", "a"}}}};
  auto out = Roll({SelectorSite("a-site", zone), Site("b-site")},
                  {// Was labelled for b-site, now matches a-site: a-site sets its own name.
                   Node("moved", {.labels = {{"zone", "a"}, {kSiteLabel, "b-site"}}}),
                   // Labelled for a-site, no longer matches any site: a-site removes the label.
                   Node("left", {.labels = {{"zone", "b"}, {kSiteLabel, "a-site"}}}),
                   // Labelled for a site that does not exist (yet): untouched.
                   Node("early", {.labels = {{kSiteLabel, "c-site"}}}),
                   // Member of b-site by its label: nothing to do.
                   Node("kept", {.labels = {{kSiteLabel, "b-site"}}})});
  EXPECT_THAT(out["a-site"].members, ElementsAre("moved"));
  EXPECT_THAT(out["b-site"].members, ElementsAre("kept"));
  EXPECT_THAT(
      out["a-site"].label_changes,
      ElementsAre(
          NodeLabelChange{.node = "left", .resource_version = "rv-left", .value = std::nullopt},
          NodeLabelChange{.node = "moved", .resource_version = "rv-moved", .value = "a-site"}));
  EXPECT_THAT(out["b-site"].label_changes, IsEmpty());
}

TEST(EdgeSiteRollupTest, NoLabelChangeThatWouldChangeMembership) {
  // A selector on the site label itself, naming another value: relabelling the node would
  // take it out of the site, so its label stays.
  auto by_other_value = Roll({SelectorSite("a", {{"matchLabels", {{kSiteLabel, "legacy"}}}})},
                             {Node("n1", {.labels = {{kSiteLabel, "legacy"}}})});
  EXPECT_THAT(by_other_value["a"].members, ElementsAre("n1"));
  EXPECT_THAT(by_other_value["a"].label_changes, IsEmpty());

  // DoesNotExist on the site label: labelling the node would take it out again.
  auto unlabelled =
      Roll({SelectorSite(
               "a", {{"matchExpressions", {{{"key", kSiteLabel}, {"operator", "DoesNotExist"}}}}})},
           {Node("n1", {})});
  EXPECT_THAT(unlabelled["a"].members, ElementsAre("n1"));
  EXPECT_THAT(unlabelled["a"].label_changes, IsEmpty());

  // Removing the label would make the node a member of a (labelled "b", b selects nothing).
  auto removal =
      Roll({SelectorSite(
                "a", {{"matchExpressions", {{{"key", kSiteLabel}, {"operator", "DoesNotExist"}}}}}),
            SelectorSite("b", json::object())},
           {Node("n1", {.labels = {{kSiteLabel, "b"}}})});
  EXPECT_THAT(removal["a"].label_changes, IsEmpty());
  EXPECT_THAT(removal["b"].label_changes, IsEmpty());
}

TEST(EdgeSiteRollupTest, SecondRollUpAfterTheChangesIsQuiet) {
  json zone = {{"matchLabels", {{"zone", "a"}}}};
  std::vector<json> sites = {SelectorSite("a", zone), SelectorSite("b", zone)};
  std::vector<json> nodes = {Node("n1", {.labels = {{"zone", "a"}}}),
                             Node("n2", {.labels = {{"zone", "b"}, {kSiteLabel, "b"}}})};
  auto first = Roll(sites, nodes);
  ASSERT_EQ(first["a"].label_changes.size(), 1u);
  ASSERT_EQ(first["b"].label_changes.size(), 1u);
  nodes[0]["metadata"]["labels"][kSiteLabel] = "a";
  nodes[1]["metadata"]["labels"].erase(kSiteLabel);
  sites = {Written(sites[0], first["a"]), Written(sites[1], first["b"])};
  auto second = Roll(sites, nodes, {}, kT1);
  for (const auto& [name, rollup] : second) {
    EXPECT_FALSE(rollup.status_changed) << name;
    EXPECT_THAT(rollup.label_changes, IsEmpty()) << name;
  }
}

}  // namespace
}  // namespace aidi::op
