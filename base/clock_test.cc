#include "base/clock.h"

#include <gtest/gtest.h>

namespace aidi {
namespace {

TEST(Clock, Rfc3339RoundTrip) {
  Clock::WallTime t;
  ASSERT_TRUE(ParseRfc3339("2026-11-27T20:03:48Z", &t));
  EXPECT_EQ(FormatRfc3339(t), "2026-11-27T20:03:48Z");
  ASSERT_TRUE(ParseRfc3339("2026-11-27T20:03:48.123456Z", &t));
  EXPECT_EQ(FormatRfc3339Micro(t), "2026-11-27T20:03:48.123456Z");
  ASSERT_TRUE(ParseRfc3339("2026-11-27T21:03:48+01:00", &t));
  EXPECT_EQ(FormatRfc3339(t), "2026-11-27T20:03:48Z");
  EXPECT_FALSE(ParseRfc3339("yesterday", &t));
  EXPECT_FALSE(ParseRfc3339("2026-11-27T20:03:48", &t));
}

TEST(Clock, FakeClockMovesOnlyWhenTold) {
  FakeClock clock;
  auto a = clock.Monotonic();
  EXPECT_EQ(clock.Monotonic(), a);
  clock.Advance(std::chrono::seconds(3));
  EXPECT_EQ(clock.Monotonic() - a, std::chrono::seconds(3));
}

}  // namespace
}  // namespace aidi
