#include "kube/core/quantity.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>

namespace aidi::kube {
namespace {

using json = nlohmann::json;

TEST(QuantityTest, ParsesKubernetesQuantitiesInThousandths) {
  EXPECT_EQ(*ParseQuantityMilli("500m"), 500);
  EXPECT_EQ(*ParseQuantityMilli("1"), 1000);
  EXPECT_EQ(*ParseQuantityMilli("1.5"), 1500);
  EXPECT_EQ(*ParseQuantityMilli("2Gi"), 2147483648000LL);
  EXPECT_EQ(*ParseQuantityMilli("100Mi"), 104857600000LL);
  EXPECT_EQ(*ParseQuantityMilli("1k"), 1000000);
  EXPECT_EQ(*ParseQuantityMilli("1e3"), 1000000);
  EXPECT_EQ(*ParseQuantityMilli("1E-3"), 1);
  EXPECT_EQ(*ParseQuantityMilli("0.1m"), 1);  // rounded up, as MilliValue does
  EXPECT_EQ(*ParseQuantityMilli("100n"), 1);
  EXPECT_EQ(*ParseQuantityMilli("0"), 0);
  EXPECT_EQ(*ParseQuantityMilli("+2"), 2000);
  EXPECT_EQ(*ParseQuantityMilli("-2"), -2000);
  EXPECT_EQ(*ParseQuantityMilli("16E"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(*ParseQuantityMilli("99999999999999999999999999999999"),
            std::numeric_limits<std::int64_t>::max());
  for (const char* bad : {"", "m", "abc", "1Zi", "1.2.3", "1 Gi", "1e", "--1", "1KiB"}) {
    EXPECT_FALSE(ParseQuantityMilli(bad).ok()) << bad;
  }
  EXPECT_EQ(*QuantityMilli(json(2)), 2000);
  EXPECT_EQ(*QuantityMilli(json(0.25)), 250);
  EXPECT_EQ(*QuantityMilli(json("250m")), 250);
  EXPECT_FALSE(QuantityMilli(json::array()).ok());
}

TEST(QuantityTest, WholeCountsAreWholeNonNegativeQuantities) {
  EXPECT_EQ(WholeCount("8"), 8);
  EXPECT_EQ(WholeCount("0"), 0);
  EXPECT_EQ(WholeCount("2k"), 2000);  // a whole number, as Kubernetes accepts it
  EXPECT_EQ(WholeCount("1e1"), 10);
  EXPECT_EQ(WholeCount("2147483647"), 2147483647);
  EXPECT_EQ(WholeCount(json(4)), 4);
  EXPECT_EQ(WholeCount(json("3")), 3);
  for (const char* bad : {"1.5", "500m", "-1", "2147483648", "99999999999", "", "x", "1Gi "}) {
    EXPECT_EQ(WholeCount(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(WholeCount(json(-3)), std::nullopt);
  EXPECT_EQ(WholeCount(json(1.5)), std::nullopt);
  EXPECT_EQ(WholeCount(json(nullptr)), std::nullopt);
  EXPECT_EQ(WholeCount(json::object()), std::nullopt);
}

}  // namespace
}  // namespace aidi::kube
