#include "costmodel/score.h"

#include <cmath>
#include <set>
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

NodeEstimate Feasible(double money, double finish_seconds, double latency_ms = 0) {
  NodeEstimate e;
  e.money = money;
  e.finish_seconds = finish_seconds;
  e.latency_ms = latency_ms;
  return e;
}

NodeEstimate Infeasible(FilterReason reason) {
  NodeEstimate e;
  e.reason = reason;
  return e;
}

TEST(ScoreTest, ScoresAreIntegersFromZeroToTenBestTenWorstZero) {
  std::vector<NodeEstimate> es = {Feasible(3, 100), Feasible(1, 100), Feasible(2, 100),
                                  Feasible(10, 100)};
  Score(ObjectiveWeights(Objective::kMinCost), es);
  for (const NodeEstimate& e : es) {
    EXPECT_GE(e.score, 0);
    EXPECT_LE(e.score, kMaxScore);
    EXPECT_GE(e.cost, 0);
    EXPECT_LE(e.cost, 1);
  }
  EXPECT_EQ(es[1].score, 10);  // cheapest
  EXPECT_EQ(es[3].score, 0);   // dearest
  EXPECT_GT(es[2].score, es[0].score);
  EXPECT_EQ(Best(es), 1u);
}

TEST(ScoreTest, ElevenEvenlySpreadCandidatesUseAllElevenLevels) {
  std::vector<NodeEstimate> es;
  for (int i = 0; i <= 10; ++i) es.push_back(Feasible(10 + i, 60));
  Score(ObjectiveWeights(Objective::kMinCost), es);
  for (int i = 0; i <= 10; ++i) EXPECT_EQ(es[i].score, 10 - i) << i;

  // Many candidates spread evenly: every level carries information.
  std::vector<NodeEstimate> many;
  for (int i = 0; i < 1000; ++i) many.push_back(Feasible(60, 100 + i));
  Score(ObjectiveWeights(Objective::kMinTime), many);
  std::set<int> levels;
  for (const NodeEstimate& e : many) levels.insert(e.score);
  EXPECT_EQ(levels.size(), 11u);
  // Monotone: a later finish never scores higher.
  for (size_t i = 1; i < many.size(); ++i) EXPECT_LE(many[i].score, many[i - 1].score);
}

TEST(ScoreTest, EqualCostsAndSingleCandidatesGetTen) {
  std::vector<NodeEstimate> equal = {Feasible(5, 60), Feasible(5, 60), Feasible(5, 60)};
  Score(ObjectiveWeights(Objective::kBalanced), equal);
  for (const NodeEstimate& e : equal) EXPECT_EQ(e.score, 10);
  std::vector<NodeEstimate> one = {Feasible(5, 60)};
  Score(ObjectiveWeights(Objective::kBalanced), one);
  EXPECT_EQ(one[0].score, 10);
  EXPECT_DOUBLE_EQ(one[0].cost, 0);
  std::vector<NodeEstimate> zero = {Feasible(0, 0), Feasible(0, 0)};
  Score(ObjectiveWeights(Objective::kBalanced), zero);
  EXPECT_EQ(zero[0].score, 10);
  EXPECT_EQ(zero[1].score, 10);
}

TEST(ScoreTest, InfeasibleNodesScoreZeroAndStayOutOfTheNormalisation) {
  std::vector<NodeEstimate> es = {Infeasible(FilterReason::kGpusBusy), Feasible(2, 60),
                                  Infeasible(FilterReason::kMaintenance), Feasible(4, 60)};
  es[0].money = 0;  // would be the cheapest, but cannot run
  Score(ObjectiveWeights(Objective::kMinCost), es);
  EXPECT_EQ(es[0].score, 0);
  EXPECT_TRUE(std::isinf(es[0].cost));
  EXPECT_EQ(es[1].score, 10);
  EXPECT_EQ(es[3].score, 0);
  EXPECT_EQ(Best(es), 1u);

  std::vector<NodeEstimate> none = {Infeasible(FilterReason::kTooFewGpus)};
  Score(ObjectiveWeights(Objective::kMinCost), none);
  EXPECT_EQ(none[0].score, 0);
  EXPECT_EQ(Best(none), std::nullopt);
  std::vector<NodeEstimate> empty;
  Score(ObjectiveWeights(Objective::kMinCost), empty);
  EXPECT_EQ(Best(empty), std::nullopt);
}

TEST(ScoreTest, ObjectivesChangeTheWinner) {
  // Node 0: cheap and slow. Node 1: dear and fast.
  std::vector<NodeEstimate> es = {Feasible(1, 3600), Feasible(3, 600)};
  Score(ObjectiveWeights(Objective::kMinCost), es);
  EXPECT_EQ(Best(es), 0u);
  Score(ObjectiveWeights(Objective::kMinTime), es);
  EXPECT_EQ(Best(es), 1u);
  // Balanced: node 1's money excess is (3 - 1) / 3 = 2/3, node 0's time excess
  // (3600 - 600) / 3600 = 5/6, so node 1 wins by a little.
  Score(ObjectiveWeights(Objective::kBalanced), es);
  EXPECT_EQ(Best(es), 1u);
  EXPECT_NEAR(es[0].cost, (0 + 5.0 / 6) / 2, 1e-12);
  EXPECT_NEAR(es[1].cost, (2.0 / 3 + 0) / 2, 1e-12);
}

TEST(ScoreTest, TieBreakerDecidesOnlyNearTies) {
  // MinCost: equal money, the sooner finish wins.
  std::vector<NodeEstimate> tie = {Feasible(2, 3600), Feasible(2, 60)};
  Score(ObjectiveWeights(Objective::kMinCost), tie);
  EXPECT_EQ(Best(tie), 1u);
  EXPECT_EQ(tie[1].score, 10);
  // A 1% cheaper node wins even if it is ten times slower.
  std::vector<NodeEstimate> cheap = {Feasible(1.00, 6000), Feasible(1.01, 600)};
  Score(ObjectiveWeights(Objective::kMinCost), cheap);
  EXPECT_EQ(Best(cheap), 0u);
}

TEST(ScoreTest, WeightsOverrideTheObjective) {
  Demand d;
  d.objective = Objective::kMinCost;
  EXPECT_FALSE(UsesOwnWeights(d));
  d.weights = Weights{.cost = 0, .time = 1, .latency = 0};
  EXPECT_TRUE(UsesOwnWeights(d));
  std::vector<NodeEstimate> es = {Feasible(1, 3600), Feasible(3, 600)};
  Score(EffectiveWeights(d), es);
  EXPECT_EQ(Best(es), 1u);  // time only, despite MinCost

  // Latency weight: the nearer site wins when cost and time agree.
  d.weights = Weights{.cost = 1, .time = 1, .latency = 1};
  std::vector<NodeEstimate> lat = {Feasible(1, 60, 80), Feasible(1, 60, 5)};
  Score(EffectiveWeights(d), lat);
  EXPECT_EQ(Best(lat), 1u);
  EXPECT_EQ(lat[0].score, 0);

  // All zero, negative or NaN: the objective's weights.
  d.weights = Weights{.cost = 0, .time = -1, .latency = std::nan("")};
  EXPECT_FALSE(UsesOwnWeights(d));
  Weights w = EffectiveWeights(d);
  EXPECT_EQ(w.cost, 1);
  EXPECT_EQ(w.time, 0.001);
  // Score itself survives unusable weights (falls back to Balanced).
  Score(Weights{.cost = -1, .time = 0, .latency = 0}, es);
  EXPECT_EQ(Best(es), 1u);
}

TEST(ScoreTest, BestBreaksTiesBySoonerFinishThenMoneyThenIndex) {
  std::vector<NodeEstimate> es = {Feasible(2, 60), Feasible(2, 60), Feasible(2, 60)};
  for (NodeEstimate& e : es) e.cost = 0.5;
  es[2].finish_seconds = 30;
  EXPECT_EQ(Best(es), 2u);
  es[2].finish_seconds = 60;
  es[1].money = 1;
  EXPECT_EQ(Best(es), 1u);
  es[1].money = 2;
  EXPECT_EQ(Best(es), 0u);
}

TEST(EvaluateTest, EstimatesScoresAndPicks) {
  SiteDirectory sites({MakeSite("cloud", SiteType::kCloud, 10, 10000, 0.09,
                                {{kH100, 4.5}, {kA100, 3.0}, {kL4, 0.8}})});
  Estimator estimator(sites, ThroughputTable::BuiltIn());
  std::vector<NodeOffer> nodes = {MakeNode("l4", "cloud", kL4, 1, 1),
                                  MakeNode("h100", "cloud", kH100, 1, 1),
                                  MakeNode("busy", "cloud", kH100, 1, 0)};
  Demand d = testing::GpuDemand(1, 36000, Objective::kMinTime);
  std::vector<NodeEstimate> out;
  std::optional<size_t> best = Evaluate(estimator, d, nodes, &out);
  ASSERT_EQ(best, 1u);
  EXPECT_EQ(out[1].score, 10);
  EXPECT_EQ(out[0].score, 0);
  EXPECT_EQ(out[2].score, 0);
  EXPECT_FALSE(out[2].feasible());
  // MinCost: the H100 costs 4.5 × 4 h = $18, the L4 0.8 × 33.3 h = $26.7: still the H100.
  d.objective = Objective::kMinCost;
  EXPECT_EQ(Evaluate(estimator, d, nodes, &out), 1u);
  EXPECT_EQ(Evaluate(estimator, d, std::span<const NodeOffer>{}, &out), std::nullopt);
}

}  // namespace
}  // namespace aidi::costmodel
