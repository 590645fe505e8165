#include "costmodel/types.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace aidi::costmodel {
namespace {

TEST(ObjectiveTest, NamesRoundTrip) {
  for (Objective o : {Objective::kMinCost, Objective::kMinTime, Objective::kBalanced}) {
    StatusOr<Objective> parsed = ParseObjective(ObjectiveName(o));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, o);
  }
  StatusOr<Objective> bad = ParseObjective("mincost");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("MinCost, MinTime or Balanced"), std::string::npos);
}

TEST(SiteTypeTest, NamesRoundTrip) {
  for (SiteType t : {SiteType::kCloud, SiteType::kEdge, SiteType::kOnPrem}) {
    StatusOr<SiteType> parsed = ParseSiteType(SiteTypeName(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_FALSE(ParseSiteType("").ok());
}

TEST(SiteTest, GpuHourPriceByExactModel) {
  Site s;
  s.gpu_hour = {{"NVIDIA-L4", 0.8}, {"NVIDIA-H100-80GB-HBM3", 4.5}};
  EXPECT_EQ(s.GpuHourPrice("NVIDIA-H100-80GB-HBM3"), 4.5);
  EXPECT_EQ(s.GpuHourPrice("NVIDIA-L4"), 0.8);
  EXPECT_EQ(s.GpuHourPrice("NVIDIA-L40S"), std::nullopt);
}

TEST(ValidateTest, AcceptsDefaults) {
  EXPECT_TRUE(ValidateDemand(Demand{}).ok());
  EXPECT_TRUE(ValidateNodeOffer(NodeOffer{}).ok());
  EXPECT_TRUE(ValidateSite(Site{}).ok());
}

TEST(ValidateTest, NamesTheBadField) {
  Demand d;
  d.work_gpu_seconds = std::nan("");
  Status s = ValidateDemand(d);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("workGpuSeconds"), std::string::npos);

  d = Demand{};
  d.gpus = -1;
  EXPECT_FALSE(ValidateDemand(d).ok());
  d = Demand{};
  d.input_bytes = -5;
  EXPECT_FALSE(ValidateDemand(d).ok());
  d = Demand{};
  d.weights = Weights{.cost = -1};
  EXPECT_NE(ValidateDemand(d).message().find("weights.cost"), std::string::npos);
  d = Demand{};
  d.max_latency_ms = -1;
  EXPECT_FALSE(ValidateDemand(d).ok());

  NodeOffer n;
  n.name = "n1";
  n.total_gpus = 1;
  n.free_gpus = 2;
  EXPECT_NE(ValidateNodeOffer(n).message().find("node n1"), std::string::npos);
  n.free_gpus = 1;
  n.throughput = 0;
  EXPECT_FALSE(ValidateNodeOffer(n).ok());
  n.throughput = std::nullopt;
  n.price_per_gpu_hour = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(ValidateNodeOffer(n).ok());

  Site site;
  site.name = "edge";
  site.link.bandwidth_mbps = -1;
  EXPECT_NE(ValidateSite(site).message().find("bandwidthMbps"), std::string::npos);
  site.link.bandwidth_mbps = 0;  // unset
  site.gpu_hour = {{"NVIDIA-L4", -0.1}};
  EXPECT_NE(ValidateSite(site).message().find("cost.gpuHour[NVIDIA-L4]"), std::string::npos);
}

}  // namespace
}  // namespace aidi::costmodel
