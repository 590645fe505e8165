#include "costmodel/explain.h"

#include <vector>

#include <gtest/gtest.h>

#include "costmodel/evaluate.h"
#include "costmodel/test_util.h"

namespace aidi::costmodel {
namespace {

using testing::kA100;
using testing::kH100;
using testing::kL4;
using testing::MakeNode;
using testing::MakeSite;

class ExplainTest : public ::testing::Test {
 protected:
  ExplainTest()
      : sites_(
            {MakeSite("cloud-fra", SiteType::kCloud, 10, 10000, 0.09, {{kH100, 4.5}, {kA100, 1.5}}),
             MakeSite("edge-munich", SiteType::kEdge, 40, 100, 0.09, {{kL4, 0.8}})}),
        estimator_(sites_, ThroughputTable::BuiltIn()) {}

  std::string Explain(const Demand& d, const std::vector<NodeOffer>& nodes) {
    std::optional<size_t> best = Evaluate(estimator_, d, nodes, &estimates_);
    if (!best) return "<none>";
    return nodes[*best].name + ": " + ExplainChoice(d, nodes, estimates_, *best);
  }

  SiteDirectory sites_;
  Estimator estimator_;
  std::vector<NodeEstimate> estimates_;
};

TEST_F(ExplainTest, Cheapest) {
  Demand d = testing::GpuDemand(1, 36000, Objective::kMinCost);
  std::vector<NodeOffer> nodes = {MakeNode("h100", "cloud-fra", kH100, 1, 1),
                                  MakeNode("a100", "cloud-fra", kA100, 1, 1)};
  // A100: 10 h at $1.5 = $15; H100: 4 h at $4.5 = $18.
  EXPECT_EQ(Explain(d, nodes), "a100: cheapest: $15.00 vs $18.00 on h100");
}

TEST_F(ExplainTest, FastestFinish) {
  Demand d = testing::GpuDemand(1, 36000, Objective::kMinTime);
  std::vector<NodeOffer> nodes = {MakeNode("h100", "cloud-fra", kH100, 1, 1),
                                  MakeNode("a100", "cloud-fra", kA100, 1, 1)};
  EXPECT_EQ(Explain(d, nodes), "h100: fastest finish: 4.0 h vs 10.0 h on a100");
}

TEST_F(ExplainTest, Balanced) {
  Demand d = testing::GpuDemand(1, 36000, Objective::kBalanced);
  std::vector<NodeOffer> nodes = {MakeNode("h100", "cloud-fra", kH100, 1, 1),
                                  MakeNode("a100", "cloud-fra", kA100, 1, 1)};
  EXPECT_EQ(Explain(d, nodes),
            "h100: best balance of cost and time: $18.00 in 4.0 h vs $15.00 in 10.0 h on a100");
}

TEST_F(ExplainTest, ComparesWithSomethingOtherThanATwinOfTheChosenNode) {
  Demand d = testing::GpuDemand(1, 36000, Objective::kBalanced);
  std::vector<NodeOffer> nodes = {MakeNode("h100-1", "cloud-fra", kH100, 1, 1),
                                  MakeNode("h100-2", "cloud-fra", kH100, 1, 1),
                                  MakeNode("a100", "cloud-fra", kA100, 1, 1)};
  // h100-2 ranks second but is the same offer: a100 is the choice that was passed over.
  EXPECT_EQ(Explain(d, nodes),
            "h100-1: best balance of cost and time: $18.00 in 4.0 h vs $15.00 in 10.0 h on a100");
  nodes.pop_back();  // only twins left: name one
  EXPECT_EQ(Explain(d, nodes),
            "h100-1: best balance of cost and time: $18.00 in 4.0 h vs $18.00 in 4.0 h on h100-2");
}

TEST_F(ExplainTest, CustomWeights) {
  Demand d = testing::GpuDemand(1, 36000, Objective::kMinTime);
  d.weights = Weights{.cost = 5, .time = 1, .latency = 0};
  std::vector<NodeOffer> nodes = {MakeNode("h100", "cloud-fra", kH100, 1, 1),
                                  MakeNode("a100", "cloud-fra", kA100, 1, 1)};
  EXPECT_EQ(Explain(d, nodes),
            "a100: lowest weighted cost (cost 5, time 1, latency 0): $15.00 in 10.0 h, 10 ms vs "
            "$18.00 in 4.0 h, 10 ms on h100");
}

TEST_F(ExplainTest, TiesSayWhatBrokeThem) {
  Demand d = testing::GpuDemand(1, 3600, Objective::kMinCost);
  NodeOffer a = MakeNode("a", "cloud-fra", kA100, 1, 1);
  NodeOffer b = MakeNode("b", "cloud-fra", kA100, 1, 1);
  b.queued_seconds = 1800;
  EXPECT_EQ(Explain(d, {a, b}), "a: cheapest: $1.50, as on b, and sooner: 60 min vs 1.5 h");
  d.objective = Objective::kMinTime;
  b.queued_seconds = 0;
  b.price_per_gpu_hour = 1.0;
  EXPECT_EQ(Explain(d, {a, b}), "b: fastest finish: 60 min, as on a, and cheaper: $1.00 vs $1.50");
}

TEST_F(ExplainTest, DataGravity) {
  Demand d = testing::GpuDemand(1, 3600, Objective::kBalanced);
  d.input_bytes = 400'000'000'000;
  d.input_site = "edge-munich";
  std::vector<NodeOffer> nodes = {MakeNode("h100", "cloud-fra", kH100, 1, 1),
                                  MakeNode("l4", "edge-munich", kL4, 1, 1)};
  // 400 GB over 100 Mbps is 32000 s; egress crosses both links at $0.09/GB.
  EXPECT_EQ(Explain(d, nodes),
            "l4: data gravity: 400 GB at edge-munich; moving it to cloud-fra takes 8.9 h and "
            "costs $72.00");
}

TEST_F(ExplainTest, DataGravityFromTheCloudHub) {
  Demand d = testing::GpuDemand(1, 3600, Objective::kMinTime);
  d.input_bytes = 400'000'000'000;
  std::vector<NodeOffer> nodes = {MakeNode("fast", "edge-munich", kH100, 1, 1),
                                  MakeNode("slow", "", kL4, 1, 1)};
  EXPECT_EQ(Explain(d, nodes),
            "slow: data gravity: 400 GB in the cloud; moving it to edge-munich takes 8.9 h and "
            "costs $36.00");
}

TEST_F(ExplainTest, OnlyNodeThatFits) {
  Demand d = testing::GpuDemand(2, 3600, Objective::kMinCost);
  std::vector<NodeOffer> nodes = {
      MakeNode("ok", "cloud-fra", kH100, 8, 4), MakeNode("busy1", "cloud-fra", kH100, 8, 1),
      MakeNode("busy2", "cloud-fra", kH100, 8, 0), MakeNode("small", "cloud-fra", kL4, 1, 1)};
  EXPECT_EQ(Explain(d, nodes),
            "ok: only node that fits: 1/4 nodes fit; 2 GPUs busy, 1 too few GPUs");
}

TEST_F(ExplainTest, BadIndexGivesEmpty) {
  Demand d;
  std::vector<NodeOffer> nodes = {MakeNode("n", "cloud-fra", kL4, 1, 0)};
  d.gpus = 1;
  Evaluate(estimator_, d, nodes, &estimates_);
  EXPECT_EQ(ExplainChoice(d, nodes, estimates_, 0), "");  // infeasible
  EXPECT_EQ(ExplainChoice(d, nodes, estimates_, 7), "");  // out of range
}

TEST(SummarizeFilterTest, CountsByReasonMostFrequentFirst) {
  std::vector<NodeEstimate> es(6);
  es[0].reason = FilterReason::kMaintenance;
  es[1].reason = FilterReason::kGpusBusy;
  es[2].reason = FilterReason::kGpusBusy;
  es[3].reason = FilterReason::kGpuModelMismatch;
  es[4].reason = FilterReason::kGpuModelMismatch;
  EXPECT_EQ(SummarizeFilter(es), "1/6 nodes fit; 2 other GPU model, 2 GPUs busy, 1 in maintenance");
  EXPECT_EQ(SummarizeFilter(std::vector<NodeEstimate>(3)), "3/3 nodes fit");
  EXPECT_EQ(SummarizeFilter({}), "no nodes");
  es[5].reason = FilterReason::kSiteNotAllowed;
  EXPECT_EQ(SummarizeFilter(es),
            "0/6 nodes fit; 2 other GPU model, 2 GPUs busy, 1 in maintenance, 1 site not allowed");
}

}  // namespace
}  // namespace aidi::costmodel
