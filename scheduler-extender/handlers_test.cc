#include "scheduler-extender/handlers.h"

#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scheduler-extender/demand.h"
#include "scheduler-extender/test_util.h"

namespace aidi::extender {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::NamesArgs;
using testing::NodeObject;
using testing::PendingPod;
using testing::PodObject;
using testing::SiteObject;
using ::testing::StartsWith;

constexpr char kH100[] = "NVIDIA-H100-80GB-HBM3";
constexpr char kL4[] = "NVIDIA-L4";

// An API server's pods, in memory.
class FakePods final : public PodClient {
 public:
  StatusOr<json> GetPod(const std::string& ns, const std::string& name) override {
    calls.push_back("get " + name);
    auto it = pods.find(ns + "/" + name);
    if (it == pods.end()) return Status::NotFound("pods \"" + name + "\" not found");
    return it->second;
  }
  Status Annotate(const std::string& ns, const std::string& name, const std::string& uid,
                  const json& annotations) override {
    calls.push_back("annotate " + name + " uid=" + uid);
    if (!annotate_error.ok()) return annotate_error;
    json& pod = pods.at(ns + "/" + name);
    for (const auto& [k, v] : annotations.items()) pod["metadata"]["annotations"][k] = v;
    return Status::Ok();
  }
  Status Bind(const std::string& ns, const std::string& name, const std::string& uid,
              const std::string& node) override {
    calls.push_back("bind " + name + " uid=" + uid + " node=" + node);
    if (!bind_error.ok()) return bind_error;
    pods.at(ns + "/" + name)["spec"]["nodeName"] = node;
    return Status::Ok();
  }
  void Add(const json& pod) {
    pods[pod["metadata"]["namespace"].get<std::string>() + "/" +
         pod["metadata"]["name"].get<std::string>()] = pod;
  }
  json Placement(const std::string& name) {
    const json& a = pods.at("default/" + name)["metadata"]["annotations"];
    if (!a.contains(kPlacementAnnotation)) return nullptr;
    return json::parse(a[kPlacementAnnotation].get<std::string>());
  }

  std::map<std::string, json> pods;
  std::vector<std::string> calls;
  Status annotate_error;
  Status bind_error;
};

class HandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_.ApplySite(SiteObject("cloud-fra", "Cloud", 5, 10000, 0.09, {{kH100, 8.0}, {kL4, 0.9}}));
    cache_.ApplySite(SiteObject("edge-munich", "Edge", 20, 200, 0.05, {{kL4, 0.6}}));
    cache_.ApplySite(SiteObject("edge-far", "Edge", 120, 100, 0.05, {{kL4, 0.5}}));
    cache_.ApplySite(SiteObject("edge-down", "Edge", 10, 100, 0.05, {{kL4, 0.5}}, true));
    cache_.ApplyNode(NodeObject("cloud-1", "cloud-fra", kH100, 8, 81559));
    cache_.ApplyNode(NodeObject("cloud-2", "cloud-fra", kL4, 4, 23034));
    cache_.ApplyNode(NodeObject("munich-1", "edge-munich", kL4, 2, 23034));
    cache_.ApplyNode(NodeObject("far-1", "edge-far", kL4, 2, 23034));
    cache_.ApplyNode(NodeObject("down-1", "edge-down", kL4, 2, 23034));
    cache_.ApplyNode(NodeObject("cordoned-1", "cloud-fra", kL4, 4, 23034, /*cordoned=*/true));
    cache_.ApplyNode(NodeObject("busy-1", "cloud-fra", kL4, 2, 23034));
    cache_.ApplyPod(PodObject("default", "running", "u-running", "busy-1", 2));
  }

  std::vector<std::string> All() {
    return {"cloud-1", "cloud-2", "munich-1", "far-1", "down-1", "cordoned-1", "busy-1", "ghost"};
  }

  std::map<std::string, std::int64_t> Scores(const HostPriorityList& list) {
    std::map<std::string, std::int64_t> out;
    for (const auto& h : list) out[h.host] = h.score;
    return out;
  }

  NodeCache cache_;
  GpuLedger ledger_{&cache_};
  FakePods pods_;
  Handlers handlers_{&cache_, &ledger_, &pods_};
};

TEST_F(HandlersTest, FilterSaysWhyEachNodeFailsAndWhichFailuresArePermanent) {
  auto args = NamesArgs(PendingPod("p", 1, R"({"gpuModel":"NVIDIA-L4","maxLatencyMs":50})"), All());
  ExtenderFilterResult r = handlers_.Filter(args);
  EXPECT_EQ(r.passed, (std::vector<std::string>{"cloud-2", "munich-1"}));
  EXPECT_EQ(r.failed_nodes, (FailedNodesMap{{"busy-1", "needs 1 GPU, 0 free"},
                                            {"ghost",
                                             "node is not in the aidi extender's node "
                                             "cache yet"}}));
  EXPECT_EQ(r.failed_and_unresolvable_nodes,
            (FailedNodesMap{
                {"cloud-1", "GPU model NVIDIA-H100-80GB-HBM3 is not NVIDIA-L4"},
                {"far-1", "link latency 120 ms exceeds maxLatencyMs 50"},
                {"down-1", "site edge-down is in maintenance"},
                {"cordoned-1", "node cordoned-1 is in maintenance"},
            }));
  EXPECT_EQ(r.error, "");
}

TEST_F(HandlersTest, FilterHonoursAllowedSitesMemoryAndTotalGpus) {
  auto sites = handlers_.Filter(
      NamesArgs(PendingPod("p", 1, R"({"sites":["edge-munich"]})"), {"cloud-2", "munich-1"}));
  EXPECT_EQ(sites.passed, (std::vector<std::string>{"munich-1"}));
  EXPECT_EQ(sites.failed_and_unresolvable_nodes.at("cloud-2"),
            "site cloud-fra is not allowed (allowed: edge-munich)");
  auto none = handlers_.Filter(NamesArgs(PendingPod("p", 1, R"({"sites":[]})"), {"cloud-2"}));
  EXPECT_TRUE(none.passed.empty());
  EXPECT_EQ(none.failed_and_unresolvable_nodes.size(), 1u);
  auto memory = handlers_.Filter(
      NamesArgs(PendingPod("p", 1, R"({"gpuMemoryGiB":40})"), {"cloud-1", "cloud-2"}));
  EXPECT_EQ(memory.passed, (std::vector<std::string>{"cloud-1"}));
  EXPECT_THAT(memory.failed_and_unresolvable_nodes.at("cloud-2"), HasSubstr("GPU memory"));
  auto total = handlers_.Filter(NamesArgs(PendingPod("p", 3), {"cloud-2", "munich-1"}));
  EXPECT_EQ(total.passed, (std::vector<std::string>{"cloud-2"}));
  EXPECT_EQ(total.failed_and_unresolvable_nodes.at("munich-1"), "needs 3 GPUs, node has 2");
}

TEST_F(HandlersTest, FilterSubtractsReservationsNotYetInTheCache) {
  ASSERT_TRUE(ledger_.Reserve("other", "munich-1", 2).ok());
  auto r = handlers_.Filter(NamesArgs(PendingPod("p", 1), {"munich-1", "cloud-2"}));
  EXPECT_EQ(r.passed, (std::vector<std::string>{"cloud-2"}));
  EXPECT_EQ(r.failed_nodes.at("munich-1"), "needs 1 GPU, 0 free");
  // Once the watch shows the pod bound, the cache counts it and the reservation goes.
  cache_.ApplyPod(PodObject("default", "other", "other", "munich-1", 2));
  EXPECT_EQ(ledger_.size(), 0u);
  r = handlers_.Filter(NamesArgs(PendingPod("p", 1), {"munich-1"}));
  EXPECT_EQ(r.failed_nodes.at("munich-1"), "needs 1 GPU, 0 free");
  cache_.DeletePod(PodObject("default", "other", "other", "munich-1", 2));
  EXPECT_EQ(handlers_.Filter(NamesArgs(PendingPod("p", 1), {"munich-1"})).passed.size(), 1u);
}

TEST_F(HandlersTest, NodesFormReadsTheRequestsNodesAndTheCachesUsage) {
  ExtenderArgs args;
  args.pod = PendingPod("p", 1, R"({"gpuModel":"NVIDIA-L4"})");
  std::vector<ExtenderNode> nodes;
  for (const char* name : {"busy-1", "fresh-1", "fresh-2"}) {
    ExtenderNode n;
    n.name = name;
    n.labels = {{"aidi.dev/site", "edge-munich"}, {"nvidia.com/gpu.product", kL4}};
    n.allocatable = {{"nvidia.com/gpu", "2"}};
    nodes.push_back(n);
  }
  nodes[2].labels["nvidia.com/gpu.product"] = kH100;
  args.nodes = nodes;
  ExtenderFilterResult r = handlers_.Filter(args);
  EXPECT_EQ(r.passed, (std::vector<std::string>{"fresh-1"}));     // not cached: the request says
  EXPECT_EQ(r.failed_nodes.at("busy-1"), "needs 1 GPU, 0 free");  // usage from the cache
  EXPECT_THAT(r.failed_and_unresolvable_nodes.at("fresh-2"), HasSubstr("GPU model"));
  HostPriorityList scores = handlers_.Prioritize(args);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_EQ(scores[1].host, "fresh-1");
  EXPECT_EQ(scores[1].score, 10);
  EXPECT_EQ(scores[0].score, 0);
}

TEST_F(HandlersTest, ScoresAreZeroToTenAndZeroForNodesThatDoNotFit) {
  for (const char* demand :
       {R"({})", R"({"workGpuSeconds":3600})", R"({"workGpuSeconds":3600,"objective":"MinTime"})",
        R"({"inputBytes":1000000000,"inputSite":"edge-munich"})", R"({"weights":{"latency":1}})"}) {
    HostPriorityList list = handlers_.Prioritize(NamesArgs(PendingPod("p", 1, demand), All()));
    ASSERT_EQ(list.size(), All().size());
    auto scores = Scores(list);
    for (const auto& [host, score] : scores) {
      EXPECT_GE(score, 0) << host;
      EXPECT_LE(score, 10) << host;
    }
    for (const char* unfit : {"far-1", "down-1", "cordoned-1", "busy-1", "ghost"}) {
      if (std::string(unfit) == "far-1") continue;  // fits when no maxLatencyMs is given
      EXPECT_EQ(scores[unfit], 0) << unfit << " " << demand;
    }
    EXPECT_EQ(std::max({scores["cloud-1"], scores["cloud-2"], scores["munich-1"], scores["far-1"]}),
              10)
        << demand;
  }
}

TEST_F(HandlersTest, DataGravityKeepsTheStageWhereItsInputIs) {
  // 400 GB at edge-munich: moving it to the H100s in the cloud takes 4.4 h over 200 Mbps.
  const char* demand =
      R"({"workGpuSeconds":3600,"inputBytes":400000000000,"inputSite":"edge-munich"})";
  auto scores =
      Scores(handlers_.Prioritize(NamesArgs(PendingPod("p", 1, demand), {"cloud-1", "munich-1"})));
  EXPECT_EQ(scores["munich-1"], 10);
  EXPECT_LT(scores["cloud-1"], 5);
  Placement placement = handlers_.PlacementFor(*DemandOf(PendingPod("p", 1, demand)), "munich-1");
  EXPECT_EQ(placement.site, "edge-munich");
  EXPECT_DOUBLE_EQ(placement.transfer_seconds, 0);
  EXPECT_THAT(placement.reason, StartsWith("data gravity: 400 GB at edge-munich; moving it to "
                                           "cloud-fra takes 4.4 h"));
}

TEST_F(HandlersTest, PriceDecidesComputeHeavyStagesUnderMinCost) {
  // Ten L4-hours of work, no input: edge-munich's L4 at $0.60 beats the cloud's at $0.90 and the
  // H100 at $8.00 (2.5x faster, still dearer).
  auto cheap = Scores(handlers_.Prioritize(
      NamesArgs(PendingPod("p", 1, R"({"workGpuSeconds":10800,"objective":"MinCost"})"),
                {"cloud-1", "cloud-2", "munich-1"})));
  EXPECT_EQ(cheap["munich-1"], 10);
  EXPECT_GT(cheap["munich-1"], cheap["cloud-2"]);
  EXPECT_GT(cheap["cloud-2"], cheap["cloud-1"]);
  // The placement is explained over every cached node: far-1 ($0.50) is cheaper still, so a
  // bind to munich-1 says the scheduler chose it over the model's pick.
  const costmodel::Demand heavy =
      *DemandOf(PendingPod("p", 1, R"({"workGpuSeconds":10800,"objective":"MinCost"})"));
  EXPECT_EQ(handlers_.PlacementFor(heavy, "far-1").reason, "cheapest: $5.00 vs $6.00 on munich-1");
  Placement placement = handlers_.PlacementFor(heavy, "munich-1");
  EXPECT_EQ(placement.reason,
            "scheduler's choice (model score 8/10); the model preferred far-1: cheapest: $5.00 "
            "vs $6.00 on munich-1");
  EXPECT_NEAR(placement.est_cost, 6.0, 1e-9);
  // MinTime flips it to the H100.
  auto fast = Scores(handlers_.Prioritize(
      NamesArgs(PendingPod("p", 1, R"({"workGpuSeconds":10800,"objective":"MinTime"})"),
                {"cloud-1", "cloud-2", "munich-1"})));
  EXPECT_EQ(fast["cloud-1"], 10);
  EXPECT_GT(fast["cloud-1"], fast["munich-1"]);
}

TEST_F(HandlersTest, AMalformedDemandFailsEveryNodeWithTheReason) {
  auto args = NamesArgs(PendingPod("p", 1, R"({"gpus":"two"})"), {"cloud-1", "munich-1"});
  ExtenderFilterResult r = handlers_.Filter(args);
  EXPECT_TRUE(r.passed.empty());
  EXPECT_TRUE(r.failed_nodes.empty());
  EXPECT_EQ(r.failed_and_unresolvable_nodes,
            (FailedNodesMap{{"cloud-1", "aidi.dev/demand: gpus: must be a whole number"},
                            {"munich-1", "aidi.dev/demand: gpus: must be a whole number"}}));
  for (const auto& h : handlers_.Prioritize(args)) EXPECT_EQ(h.score, 0);
}

TEST_F(HandlersTest, BindReservesAnnotatesThenBinds) {
  const char* demand =
      R"({"workGpuSeconds":3600,"inputBytes":400000000000,"inputSite":"edge-munich"})";
  pods_.Add(PodObject("default", "stage", "u-stage", "", 1, "Pending", demand));
  std::string error = handlers_.Bind({"stage", "default", "u-stage", "munich-1"});
  ASSERT_EQ(error, "");
  EXPECT_EQ(pods_.calls, (std::vector<std::string>{"get stage", "annotate stage uid=u-stage",
                                                   "bind stage uid=u-stage node=munich-1"}));
  json placement = pods_.Placement("stage");
  EXPECT_EQ(placement["node"], "munich-1");
  EXPECT_EQ(placement["site"], "edge-munich");
  EXPECT_EQ(placement["score"], 10);
  EXPECT_GT(placement["estSeconds"].get<double>(), 11000);  // 3600 / 0.3 on an L4
  EXPECT_NEAR(placement["estCost"].get<double>(), 2.0, 0.01);
  EXPECT_EQ(placement["transferSeconds"], 0.0);
  EXPECT_THAT(placement["reason"].get<std::string>(),
              StartsWith("data gravity: 400 GB at edge-munich"));
  for (const char* key :
       {"node", "site", "score", "estSeconds", "estCost", "transferSeconds", "reason"}) {
    EXPECT_TRUE(placement.contains(key)) << key;
  }
  // Reserved until the watch shows the binding.
  EXPECT_EQ(ledger_.ReservedOn("munich-1"), 1);
  cache_.ApplyPod(pods_.pods.at("default/stage"));
  EXPECT_EQ(ledger_.size(), 0u);
  EXPECT_EQ(cache_.UsageOf("munich-1")->used, 1);
  // A retried bind of a pod already bound there succeeds without writing.
  pods_.calls.clear();
  EXPECT_EQ(handlers_.Bind({"stage", "default", "u-stage", "munich-1"}), "");
  EXPECT_EQ(pods_.calls, (std::vector<std::string>{"get stage"}));
  EXPECT_THAT(handlers_.Bind({"stage", "default", "u-stage", "cloud-2"}),
              HasSubstr("already bound to node munich-1"));
}

TEST_F(HandlersTest, ABindThatFailsReleasesItsReservation) {
  pods_.Add(PodObject("default", "a", "ua", "", 2, "Pending"));
  pods_.bind_error = Status::Conflict("pod a is being deleted, cannot be assigned to a host");
  EXPECT_EQ(handlers_.Bind({"a", "default", "ua", "munich-1"}),
            "cannot bind pod default/a to munich-1: pod a is being deleted, cannot be assigned "
            "to a host");
  EXPECT_EQ(ledger_.size(), 0u);
  pods_.bind_error = Status::Ok();
  pods_.annotate_error = Status::NotFound("pods \"a\" not found");
  EXPECT_THAT(handlers_.Bind({"a", "default", "ua", "munich-1"}), HasSubstr("cannot annotate"));
  EXPECT_EQ(ledger_.size(), 0u);
  EXPECT_EQ(*ledger_.Free("munich-1"), 2);
}

TEST_F(HandlersTest, ABurstOfBindsToOneNodeTakesOnlyWhatItHas) {
  for (const char* name : {"a", "b", "c"}) {
    pods_.Add(PodObject("default", name, std::string("u") + name, "", 1, "Pending"));
  }
  EXPECT_EQ(handlers_.Bind({"a", "default", "ua", "munich-1"}), "");
  EXPECT_EQ(handlers_.Bind({"b", "default", "ub", "munich-1"}), "");
  // The watch has shown neither binding yet; the ledger still knows munich-1 is full.
  pods_.calls.clear();
  EXPECT_EQ(handlers_.Bind({"c", "default", "uc", "munich-1"}),
            "cannot reserve GPUs: node munich-1 has 0 free GPUs, the pod needs 1");
  EXPECT_EQ(pods_.calls, (std::vector<std::string>{"get c"}));  // nothing written
}

TEST_F(HandlersTest, BindRefusesARecreatedPodAndAMissingOne) {
  pods_.Add(PodObject("default", "a", "u-new", "", 1, "Pending"));
  EXPECT_EQ(handlers_.Bind({"a", "default", "u-old", "munich-1"}),
            "pod default/a has uid u-new, not u-old (it was deleted and created again)");
  EXPECT_THAT(handlers_.Bind({"zzz", "default", "u", "munich-1"}),
              StartsWith("cannot read pod default/zzz: "));
  EXPECT_EQ(ledger_.size(), 0u);
  Handlers no_client(&cache_, &ledger_, nullptr);
  EXPECT_NE(no_client.Bind({"a", "default", "u-new", "munich-1"}), "");
}

}  // namespace
}  // namespace aidi::extender
