#include "kube/runtime/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <vector>

namespace aidi::kube {
namespace {

using std::chrono::milliseconds;

BackoffPolicy NoJitter(milliseconds initial, milliseconds max, milliseconds reset_after) {
  BackoffPolicy p;
  p.initial = initial;
  p.max = max;
  p.jitter = 0;
  p.reset_after = reset_after;
  return p;
}

// Calls Next() `n` times, advancing the clock by each delay as a caller that sleeps would.
std::vector<milliseconds> Failures(Backoff& b, FakeClock& clock, int n) {
  std::vector<milliseconds> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(b.Next());
    clock.Advance(out.back());
  }
  return out;
}

TEST(Backoff, DoublesFromInitialAndCapsAtMax) {
  FakeClock clock;
  Backoff b(NoJitter(milliseconds(100), milliseconds(1000), milliseconds(0)), clock);
  std::vector<milliseconds> want = {milliseconds(100), milliseconds(200),  milliseconds(400),
                                    milliseconds(800), milliseconds(1000), milliseconds(1000)};
  EXPECT_EQ(Failures(b, clock, 6), want);
  EXPECT_EQ(b.failures(), 6);
}

TEST(Backoff, WatcherDefaultsGoFrom800msTo30s) {
  EXPECT_EQ(kWatcherBackoff.initial, milliseconds(800));
  EXPECT_EQ(kWatcherBackoff.max, milliseconds(30'000));
  EXPECT_EQ(kWatcherBackoff.factor, 2.0);
  EXPECT_EQ(kWatcherBackoff.reset_after, milliseconds(120'000));

  BackoffPolicy p = kWatcherBackoff;
  p.jitter = 0;
  FakeClock clock;
  Backoff b(p, clock);
  std::vector<milliseconds> want = {milliseconds(800),   milliseconds(1600),  milliseconds(3200),
                                    milliseconds(6400),  milliseconds(12800), milliseconds(25600),
                                    milliseconds(30000), milliseconds(30000)};
  EXPECT_EQ(Failures(b, clock, 8), want);
}

TEST(Backoff, FactorIsHonoured) {
  FakeClock clock;
  BackoffPolicy p = NoJitter(milliseconds(10), milliseconds(10'000), milliseconds(0));
  p.factor = 3;
  Backoff b(p, clock);
  std::vector<milliseconds> want = {milliseconds(10), milliseconds(30), milliseconds(90),
                                    milliseconds(270)};
  EXPECT_EQ(Failures(b, clock, 4), want);
}

TEST(Backoff, JitterOnlyShortensAndStaysWithinBounds) {
  FakeClock clock;
  BackoffPolicy p = NoJitter(milliseconds(1000), milliseconds(1000), milliseconds(0));
  p.jitter = 0.5;
  Backoff b(p, clock, /*seed=*/42);
  std::set<long long> seen;
  for (int i = 0; i < 2000; ++i) {
    milliseconds d = b.Next();
    ASSERT_GE(d, milliseconds(500));
    ASSERT_LE(d, milliseconds(1000));
    seen.insert(d.count());
  }
  // Spread over the whole range, not stuck at one end.
  EXPECT_LT(*seen.begin(), 550);
  EXPECT_GT(*seen.rbegin(), 950);
  EXPECT_GT(seen.size(), 200u);
}

TEST(Backoff, JitterAppliesToEveryStep) {
  FakeClock clock;
  BackoffPolicy p = NoJitter(milliseconds(800), milliseconds(30'000), milliseconds(0));
  p.jitter = 0.2;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Backoff b(p, clock, seed);
    double base = 800;
    for (int i = 0; i < 8; ++i) {
      double d = static_cast<double>(b.Next().count());
      EXPECT_GE(d, std::floor(base * 0.8)) << "seed " << seed << " step " << i;
      EXPECT_LE(d, base) << "seed " << seed << " step " << i;
      base = std::min(base * 2, 30'000.0);
    }
  }
}

TEST(Backoff, EqualSeedsGiveEqualSequences) {
  FakeClock clock;
  BackoffPolicy p = kWatcherBackoff;
  Backoff a(p, clock, 7), b(p, clock, 7), c(p, clock, 8);
  std::vector<milliseconds> sa, sb, sc;
  for (int i = 0; i < 10; ++i) {
    sa.push_back(a.Next());
    sb.push_back(b.Next());
    sc.push_back(c.Next());
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(Backoff, ResetsAfterHealthyPeriod) {
  FakeClock clock;
  Backoff b(NoJitter(milliseconds(100), milliseconds(10'000), milliseconds(1000)), clock);
  EXPECT_EQ(b.Next(), milliseconds(100));
  clock.Advance(milliseconds(100));  // slept
  EXPECT_EQ(b.Next(), milliseconds(200));
  clock.Advance(milliseconds(200));   // slept
  clock.Advance(milliseconds(1001));  // then healthy for longer than reset_after
  EXPECT_EQ(b.Next(), milliseconds(100));
  EXPECT_EQ(b.failures(), 1);
}

TEST(Backoff, NoResetWhenHealthyForExactlyResetAfter) {
  FakeClock clock;
  Backoff b(NoJitter(milliseconds(100), milliseconds(10'000), milliseconds(1000)), clock);
  EXPECT_EQ(b.Next(), milliseconds(100));
  clock.Advance(milliseconds(100) + milliseconds(1000));  // the sleep, then exactly reset_after
  EXPECT_EQ(b.Next(), milliseconds(200));
}

TEST(Backoff, HealthyTimeCountsFromTheEndOfTheDelay) {
  // The sleep itself is not health: 500 ms of sleeping plus 600 ms of running is not more than
  // 1000 ms healthy.
  FakeClock clock;
  Backoff b(NoJitter(milliseconds(500), milliseconds(10'000), milliseconds(1000)), clock);
  EXPECT_EQ(b.Next(), milliseconds(500));
  clock.Advance(milliseconds(1100));
  EXPECT_EQ(b.Next(), milliseconds(1000));
}

TEST(Backoff, ZeroResetAfterNeverResets) {
  FakeClock clock;
  Backoff b(NoJitter(milliseconds(100), milliseconds(10'000), milliseconds(0)), clock);
  EXPECT_EQ(b.Next(), milliseconds(100));
  clock.Advance(std::chrono::hours(24));
  EXPECT_EQ(b.Next(), milliseconds(200));
}

TEST(Backoff, ExplicitResetStartsOver) {
  FakeClock clock;
  Backoff b(NoJitter(milliseconds(100), milliseconds(10'000), milliseconds(0)), clock);
  Failures(b, clock, 4);
  b.Reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.Next(), milliseconds(100));
}

TEST(Backoff, ManyFailuresStayAtMaxWithoutOverflow) {
  FakeClock clock;
  Backoff b(NoJitter(milliseconds(1), milliseconds(30'000), milliseconds(0)), clock);
  milliseconds last{0};
  for (int i = 0; i < 5000; ++i) last = b.Next();
  EXPECT_EQ(last, milliseconds(30'000));
}

TEST(Backoff, NonsensePolicyIsClamped) {
  FakeClock clock;
  BackoffPolicy p;
  p.initial = milliseconds(100);
  p.max = milliseconds(10);  // below initial: raised to initial
  p.factor = 0.5;            // below 1: counts as 1
  p.jitter = 7;              // above 1: counts as 1
  Backoff b(p, clock, 3);
  for (int i = 0; i < 100; ++i) {
    milliseconds d = b.Next();
    ASSERT_LE(d, milliseconds(100));
    ASSERT_GE(d, milliseconds(0));
  }
}

}  // namespace
}  // namespace aidi::kube
