// End-to-end placements through Evaluate: the behaviours issue 5 names (data gravity, price,
// maintenance) on small clusters of cloud and edge sites.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "costmodel/evaluate.h"
#include "costmodel/explain.h"
#include "costmodel/test_util.h"

namespace aidi::costmodel {
namespace {

using testing::kA100;
using testing::kH100;
using testing::kL4;
using testing::MakeNode;
using testing::MakeSite;

struct Placement {
  std::string node;
  std::string reason;
};

class ScenarioTest : public ::testing::Test {
 protected:
  ScenarioTest()
      : sites_(
            {MakeSite("cloud-fra", SiteType::kCloud, 15, 10000, 0.09, {{kH100, 4.5}, {kA100, 3.0}}),
             MakeSite("cloud-cheap", SiteType::kCloud, 25, 1000, 0.05, {{kA100, 1.2}}),
             MakeSite("edge-munich", SiteType::kEdge, 35, 200, 0.05, {{kL4, 0.9}})}),
        estimator_(sites_, ThroughputTable::BuiltIn()) {}

  Placement Place(const Demand& d, const std::vector<NodeOffer>& nodes) {
    std::optional<size_t> best = Evaluate(estimator_, d, nodes, &estimates_);
    if (!best) return {"", SummarizeFilter(estimates_)};
    return {nodes[*best].name, ExplainChoice(d, nodes, estimates_, *best)};
  }

  const NodeEstimate& EstimateOf(const std::vector<NodeOffer>& nodes, const std::string& name) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].name == name) return estimates_[i];
    }
    ADD_FAILURE() << "no node " << name;
    return estimates_.front();
  }

  SiteDirectory sites_;
  Estimator estimator_;
  std::vector<NodeEstimate> estimates_;
};

// A big input at an edge site keeps the stage there, although the cloud GPU is much faster.
TEST_F(ScenarioTest, DataGravityKeepsTheStageAtTheEdge) {
  std::vector<NodeOffer> nodes = {MakeNode("cloud-h100", "cloud-fra", kH100, 8, 8),
                                  MakeNode("edge-l4", "edge-munich", kL4, 2, 2, 22.5)};
  Demand d = testing::GpuDemand(1, 3600, Objective::kBalanced);
  d.input_bytes = 400'000'000'000;
  d.input_site = "edge-munich";
  for (Objective o : {Objective::kMinCost, Objective::kMinTime, Objective::kBalanced}) {
    d.objective = o;
    Placement p = Place(d, nodes);
    EXPECT_EQ(p.node, "edge-l4") << ObjectiveName(o);
    EXPECT_EQ(p.reason.rfind("data gravity: 400 GB at edge-munich; moving it to cloud-fra takes "
                             "4.4 h",
                             0),
              0u)
        << p.reason;
    // The cloud GPU computes faster; only the move (400 GB over 200 Mbps = 4.4 h) loses.
    EXPECT_LT(EstimateOf(nodes, "cloud-h100").run_seconds,
              EstimateOf(nodes, "edge-l4").run_seconds / 5);
    EXPECT_EQ(EstimateOf(nodes, "edge-l4").score, 10);
    EXPECT_EQ(EstimateOf(nodes, "cloud-h100").score, 0);
  }

  // Control: with a small input the faster cloud GPU wins on time.
  d.objective = Objective::kMinTime;
  d.input_bytes = 1'000'000'000;
  EXPECT_EQ(Place(d, nodes).node, "cloud-h100");
}

// Compute-heavy work with a small input goes to the cheaper site.
TEST_F(ScenarioTest, PriceSendsComputeHeavyWorkToTheCheaperSite) {
  std::vector<NodeOffer> nodes = {MakeNode("fra-a100", "cloud-fra", kA100, 8, 8),
                                  MakeNode("cheap-a100", "cloud-cheap", kA100, 8, 8)};
  Demand d = testing::GpuDemand(1, 20 * 3600, Objective::kMinCost);  // 20 A100-hours
  d.input_bytes = 2'000'000'000;                                     // in the cloud hub
  Placement p = Place(d, nodes);
  EXPECT_EQ(p.node, "cheap-a100");
  // $1.2 × 20 h + 2 GB × $0.05 egress vs $3.0 × 20 h + 2 GB × $0.09.
  EXPECT_EQ(p.reason, "cheapest: $24.10 vs $60.18 on fra-a100");
  d.objective = Objective::kBalanced;
  EXPECT_EQ(Place(d, nodes).node, "cheap-a100");
  // MinTime: the faster link saves 14 s of 20 h, a near-tie (below 0.1%), so the tie-breaker
  // (money at weight 0.001) still picks the cheaper site.
  d.objective = Objective::kMinTime;
  EXPECT_EQ(Place(d, nodes).node, "cheap-a100");
  // A 200 GB input makes the slower link cost 24 min more: now time decides MinTime, while
  // MinCost stays with the cheaper site ($34 vs $78).
  d.input_bytes = 200'000'000'000;
  EXPECT_EQ(Place(d, nodes).node, "fra-a100");
  d.objective = Objective::kMinCost;
  EXPECT_EQ(Place(d, nodes).node, "cheap-a100");
}

// A site in maintenance takes no new stage, however attractive; a node in maintenance neither.
TEST_F(ScenarioTest, MaintenanceIsExcluded) {
  std::vector<NodeOffer> nodes = {MakeNode("fra-a100", "cloud-fra", kA100, 8, 8),
                                  MakeNode("cheap-a100", "cloud-cheap", kA100, 8, 8)};
  Demand d = testing::GpuDemand(1, 20 * 3600, Objective::kMinCost);
  ASSERT_EQ(Place(d, nodes).node, "cheap-a100");

  std::vector<Site> sites(sites_.sites().begin(), sites_.sites().end());
  for (Site& s : sites) s.maintenance = s.name == "cloud-cheap";
  SiteDirectory in_maintenance(sites);
  Estimator estimator(in_maintenance, ThroughputTable::BuiltIn());
  std::optional<size_t> best = Evaluate(estimator, d, nodes, &estimates_);
  ASSERT_EQ(best, 0u);
  EXPECT_EQ(estimates_[1].reason, FilterReason::kMaintenance);
  EXPECT_EQ(estimates_[1].score, 0);
  EXPECT_EQ(FilterMessage(estimates_[1], nodes[1], d), "site cloud-cheap is in maintenance");

  nodes[0].maintenance = true;
  EXPECT_EQ(Evaluate(estimator, d, nodes, &estimates_), std::nullopt);
  EXPECT_EQ(SummarizeFilter(estimates_), "0/2 nodes fit; 2 in maintenance");
}

// Placement mode Edge with a latency bound: the operator lists the edge sites.
TEST_F(ScenarioTest, AllowedSitesAndLatencyNarrowTheChoice) {
  std::vector<NodeOffer> nodes = {MakeNode("fra-h100", "cloud-fra", kH100, 8, 8),
                                  MakeNode("edge-l4", "edge-munich", kL4, 2, 2, 22.5),
                                  MakeNode("edge-busy", "edge-munich", kL4, 2, 0, 22.5)};
  Demand d = testing::GpuDemand(1, 600, Objective::kMinTime);
  d.allowed_sites = std::vector<std::string>{"edge-munich"};
  Placement p = Place(d, nodes);
  EXPECT_EQ(p.node, "edge-l4");
  EXPECT_EQ(p.reason, "only node that fits: 1/3 nodes fit; 1 site not allowed, 1 GPUs busy");
  EXPECT_TRUE(IsUnresolvable(estimates_[0].reason));
  EXPECT_FALSE(IsUnresolvable(estimates_[2].reason));
  d.max_latency_ms = 20;
  EXPECT_EQ(Place(d, nodes).reason, "0/3 nodes fit; 2 latency too high, 1 site not allowed");
}

// The extender's scale: thousands of nodes over dozens of sites, scores all within 0..10.
TEST_F(ScenarioTest, ThousandsOfNodes) {
  std::vector<Site> sites;
  for (int s = 0; s < 50; ++s) {
    sites.push_back(MakeSite("site-" + std::to_string(s),
                             s % 3 ? SiteType::kEdge : SiteType::kCloud, 5 + s, 100 + 100 * s,
                             0.01 * (s % 7), {{kA100, 1.0 + 0.1 * s}, {kL4, 0.3 + 0.02 * s}}));
  }
  SiteDirectory dir(sites);
  Estimator estimator(dir, ThroughputTable::BuiltIn());
  std::vector<NodeOffer> nodes;
  for (int i = 0; i < 5000; ++i) {
    nodes.push_back(MakeNode("node-" + std::to_string(i), "site-" + std::to_string(i % 50),
                             i % 2 ? kA100 : kL4, 8, i % 9, i % 2 ? 80 : 22.5));
    nodes.back().queued_seconds = (i * 37) % 3600;
  }
  Demand d = testing::GpuDemand(2, 7200, Objective::kBalanced);
  d.input_bytes = 50'000'000'000;
  d.input_site = "site-7";
  std::optional<size_t> best = Evaluate(estimator, d, nodes, &estimates_);
  ASSERT_TRUE(best.has_value());
  int tens = 0, zeros = 0, feasible = 0;
  for (const NodeEstimate& e : estimates_) {
    ASSERT_GE(e.score, 0);
    ASSERT_LE(e.score, 10);
    if (!e.feasible()) continue;
    ++feasible;
    tens += e.score == 10;
    zeros += e.score == 0;
  }
  EXPECT_GT(feasible, 3000);
  EXPECT_GE(tens, 1);
  EXPECT_GE(zeros, 1);
  EXPECT_EQ(estimates_[*best].score, 10);
}

}  // namespace
}  // namespace aidi::costmodel
