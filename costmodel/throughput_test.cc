#include "costmodel/throughput.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace aidi::costmodel {
namespace {

TEST(ThroughputTableTest, ReferenceGpuIsOne) {
  const ThroughputTable& t = ThroughputTable::BuiltIn();
  EXPECT_DOUBLE_EQ(t.Lookup(ThroughputTable::kReferenceGpu), 1.0);
}

TEST(ThroughputTableTest, BuiltInOrdersTheProductsSensibly) {
  const ThroughputTable& t = ThroughputTable::BuiltIn();
  EXPECT_GT(t.Lookup("NVIDIA-B200"), t.Lookup("NVIDIA-H200"));
  EXPECT_GT(t.Lookup("NVIDIA-H100-80GB-HBM3"), t.Lookup("NVIDIA-A100-SXM4-80GB"));
  EXPECT_GT(t.Lookup("NVIDIA-A100-SXM4-80GB"), t.Lookup("NVIDIA-L40S"));
  EXPECT_GT(t.Lookup("NVIDIA-L40S"), t.Lookup("NVIDIA-L4"));
  EXPECT_GT(t.Lookup("NVIDIA-L4"), t.Lookup("Tesla-T4"));
  EXPECT_GT(t.Lookup("Tesla-T4"), t.Lookup("NVIDIA-Jetson-AGX-Orin"));
  for (const auto& [model, relative] : t.entries()) {
    EXPECT_GT(relative, 0) << model;
    EXPECT_EQ(t.Lookup(model), relative) << model;
  }
}

TEST(ThroughputTableTest, FallsBackToTheFamilyThenTheDefault) {
  const ThroughputTable& t = ThroughputTable::BuiltIn();
  // Unlisted variants take their family's figure.
  EXPECT_DOUBLE_EQ(t.Lookup("NVIDIA-H100-SXM5-94GB"), t.Lookup("NVIDIA-H100"));
  EXPECT_DOUBLE_EQ(t.Lookup("NVIDIA-A100-SXM4-80GB-MIG-7g.80gb"), 1.0);
  EXPECT_DOUBLE_EQ(t.Lookup("Tesla-T4-SHARED"), t.Lookup("Tesla-T4"));
  // A family prefix matches at a '-' only: the A10G is not an A10, the A100 not an A10.
  EXPECT_DOUBLE_EQ(t.Lookup("NVIDIA-A10G"), 0.3);
  EXPECT_DOUBLE_EQ(t.Lookup("NVIDIA-A10"), 0.35);
  EXPECT_NE(t.Lookup("NVIDIA-A100X"), t.Lookup("NVIDIA-A10"));
  // Nothing matches: the default.
  EXPECT_DOUBLE_EQ(t.Lookup("AMD-MI300X"), ThroughputTable::kDefaultThroughput);
  EXPECT_DOUBLE_EQ(t.Lookup(""), ThroughputTable::kDefaultThroughput);
  EXPECT_DOUBLE_EQ(t.Lookup("-"), ThroughputTable::kDefaultThroughput);
}

TEST(ThroughputTableTest, SetOverridesAndAdds) {
  ThroughputTable t = ThroughputTable::BuiltIn();
  ASSERT_TRUE(t.Set("NVIDIA-L4", 0.42).ok());
  ASSERT_TRUE(t.Set("AMD-MI300X", 2.6).ok());
  EXPECT_DOUBLE_EQ(t.Lookup("NVIDIA-L4"), 0.42);
  EXPECT_DOUBLE_EQ(t.Lookup("AMD-MI300X"), 2.6);
  // The built-in table is untouched.
  EXPECT_DOUBLE_EQ(ThroughputTable::BuiltIn().Lookup("NVIDIA-L4"), 0.3);
  EXPECT_TRUE(std::is_sorted(t.entries().begin(), t.entries().end()));
}

TEST(ThroughputTableTest, RejectsUnusableFigures) {
  ThroughputTable t;
  EXPECT_EQ(t.Set("", 1).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(t.Set("X", 0).ok());
  EXPECT_FALSE(t.Set("X", -1).ok());
  EXPECT_FALSE(t.Set("X", std::nan("")).ok());
  EXPECT_FALSE(t.Set("X", std::numeric_limits<double>::infinity()).ok());
  EXPECT_FALSE(t.SetDefault(0).ok());
  EXPECT_TRUE(t.entries().empty());
  ASSERT_TRUE(t.SetDefault(0.2).ok());
  EXPECT_DOUBLE_EQ(t.Lookup("anything"), 0.2);
}

}  // namespace
}  // namespace aidi::costmodel
