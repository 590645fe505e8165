#include "costmodel/format.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace aidi::costmodel {
namespace {

TEST(FormatTest, Durations) {
  EXPECT_EQ(FormatDuration(0), "0 s");
  EXPECT_EQ(FormatDuration(45.4), "45 s");
  EXPECT_EQ(FormatDuration(90), "2 min");
  EXPECT_EQ(FormatDuration(720), "12 min");
  EXPECT_EQ(FormatDuration(3600), "60 min");
  EXPECT_EQ(FormatDuration(15840), "4.4 h");
  EXPECT_EQ(FormatDuration(216000), "2.5 d");
  EXPECT_EQ(FormatDuration(-5), "0 s");
  EXPECT_EQ(FormatDuration(std::nan("")), "0 s");
  EXPECT_EQ(FormatDuration(std::numeric_limits<double>::infinity()), "0 s");
}

TEST(FormatTest, Bytes) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1500), "1.5 kB");
  EXPECT_EQ(FormatBytes(400e9), "400 GB");
  EXPECT_EQ(FormatBytes(12.34e9), "12.3 GB");
  EXPECT_EQ(FormatBytes(999.9e9), "1 TB");
  EXPECT_EQ(FormatBytes(2.5e12), "2.5 TB");
}

TEST(FormatTest, Money) {
  EXPECT_EQ(FormatMoney(1.2), "$1.20");
  EXPECT_EQ(FormatMoney(36, ""), "$36.00");
  EXPECT_EQ(FormatMoney(3.1, "EUR"), "3.10 EUR");
  EXPECT_EQ(FormatMoney(std::nan("")), "$0.00");
}

TEST(FormatTest, Numbers) {
  EXPECT_EQ(FormatNumber(80), "80");
  EXPECT_EQ(FormatNumber(22.5), "22.5");
  EXPECT_EQ(FormatNumber(79.647), "79.6");
  EXPECT_EQ(FormatNumber(0.001), "0");
  EXPECT_EQ(FormatNumber(std::nan("")), "0");
}

}  // namespace
}  // namespace aidi::costmodel
