#include "costmodel/distribution.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

namespace aidi::costmodel {
namespace {

double Sum(const std::vector<double>& p) { return std::accumulate(p.begin(), p.end(), 0.0); }

// The seed's worked example: 100 equal nodes give every node p = 1/n.
TEST(DistributionTest, HundredEqualNodesGiveOneOverN) {
  for (double beta : {0.0, 0.5, 1.0, 50.0, -2.0}) {
    std::vector<NodeLoad> nodes(100, NodeLoad{.capacity = 4, .load = 30});
    std::vector<double> p = AssignmentProbabilities(nodes, 10, beta);
    ASSERT_EQ(p.size(), 100u);
    for (double pi : p) EXPECT_NEAR(pi, 1.0 / 100, 1e-15) << beta;
    EXPECT_NEAR(Sum(p), 1, 1e-12);
  }
}

TEST(DistributionTest, LessLoadedNodesGetMoreWork) {
  std::vector<NodeLoad> nodes = {
      {.capacity = 1, .load = 0}, {.capacity = 1, .load = 1}, {.capacity = 1, .load = 2}};
  std::vector<double> p = AssignmentProbabilities(nodes, 1, 1.0);
  EXPECT_GT(p[0], p[1]);
  EXPECT_GT(p[1], p[2]);
  EXPECT_NEAR(Sum(p), 1, 1e-12);
  // f_i = exp(-(t_i + 1)): ratios are e.
  EXPECT_NEAR(p[0] / p[1], std::exp(1.0), 1e-12);
  EXPECT_NEAR(p[0], 1 / (1 + std::exp(-1.0) + std::exp(-2.0)), 1e-12);
}

TEST(DistributionTest, BetaZeroIsProportionalToCapacity) {
  std::vector<NodeLoad> nodes = {{.capacity = 1, .load = 100}, {.capacity = 3, .load = 0}};
  std::vector<double> p = AssignmentProbabilities(nodes, 5, 0);
  EXPECT_NEAR(p[0], 0.25, 1e-12);
  EXPECT_NEAR(p[1], 0.75, 1e-12);
}

TEST(DistributionTest, LargeBetaPicksTheSoonestFinishAndNegativeBetaPacks) {
  // Drain times with the task: (20 + 2) / 4 = 5.5 and (0 + 2) / 1 = 2.
  std::vector<NodeLoad> nodes = {{.capacity = 4, .load = 20}, {.capacity = 1, .load = 0}};
  std::vector<double> p = AssignmentProbabilities(nodes, 2, 1e6);
  EXPECT_NEAR(p[1], 1, 1e-12);
  EXPECT_NEAR(p[0], 0, 1e-12);
  std::vector<double> packed = AssignmentProbabilities(nodes, 2, -1e6);
  EXPECT_NEAR(packed[0], 1, 1e-12);
}

TEST(DistributionTest, NoOverflowOrZeroOverZero) {
  // exp(-1e6) underflows to 0 for every node; log space keeps the ratios.
  std::vector<NodeLoad> nodes = {{.capacity = 1, .load = 1e6}, {.capacity = 1, .load = 1e6 + 1}};
  std::vector<double> p = AssignmentProbabilities(nodes, 0, 1);
  EXPECT_NEAR(p[0], 1 / (1 + std::exp(-1.0)), 1e-9);
  EXPECT_NEAR(Sum(p), 1, 1e-12);
  // Infinite load with beta > 0: that node gets nothing.
  nodes[1].load = std::numeric_limits<double>::infinity();
  p = AssignmentProbabilities(nodes, 0, 1);
  EXPECT_DOUBLE_EQ(p[0], 1);
  EXPECT_DOUBLE_EQ(p[1], 0);
  // ... with beta < 0 it takes everything.
  p = AssignmentProbabilities(nodes, 0, -1);
  EXPECT_DOUBLE_EQ(p[1], 1);
  EXPECT_DOUBLE_EQ(p[0], 0);
}

TEST(DistributionTest, NodesWithoutCapacityGetNothing) {
  std::vector<NodeLoad> nodes = {{.capacity = 0, .load = 0},
                                 {.capacity = -1, .load = 0},
                                 {.capacity = std::nan(""), .load = 0},
                                 {.capacity = 2, .load = -5}};
  std::vector<double> p = AssignmentProbabilities(nodes, std::nan(""), std::nan(""));
  EXPECT_EQ(p, (std::vector<double>{0, 0, 0, 1}));
  std::vector<NodeLoad> none(3);
  EXPECT_EQ(AssignmentProbabilities(none, 1, 1), (std::vector<double>{0, 0, 0}));
  EXPECT_TRUE(AssignmentProbabilities({}, 1, 1).empty());
}

TEST(DistributionTest, MatrixRowsArePerTask) {
  std::vector<NodeLoad> nodes = {{.capacity = 1, .load = 0}, {.capacity = 2, .load = 0}};
  std::vector<double> tasks = {0, 10};
  std::vector<double> m = AssignmentMatrix(nodes, tasks, 1);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_NEAR(m[0] + m[1], 1, 1e-12);
  EXPECT_NEAR(m[2] + m[3], 1, 1e-12);
  // No load, no task: capacity alone. A long task favours the bigger node more.
  EXPECT_NEAR(m[1], 2.0 / 3, 1e-12);
  EXPECT_GT(m[3], m[1]);
  std::vector<double> row = AssignmentProbabilities(nodes, 10, 1);
  EXPECT_DOUBLE_EQ(m[2], row[0]);
  EXPECT_DOUBLE_EQ(m[3], row[1]);
}

}  // namespace
}  // namespace aidi::costmodel
