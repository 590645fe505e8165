#include "kube/runtime/work_queue.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace aidi::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Generous: only a broken queue makes a test wait this long.
constexpr auto kPatience = seconds(10);
// How long a test waits to see that something does NOT happen. A correct queue never does it,
// so a slow machine cannot make these checks fail.
constexpr auto kGrace = milliseconds(50);

std::vector<std::string> DrainNow(WorkQueue& q) {
  std::vector<std::string> out;
  while (std::optional<std::string> key = q.GetFor(nanoseconds::zero())) {
    out.push_back(*key);
    q.Done(*key);
  }
  return out;
}

template <typename F>
auto Async(F f) {
  return std::async(std::launch::async, std::move(f));
}

void WaitUntilShuttingDown(WorkQueue& q) {
  auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!q.ShuttingDown() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  ASSERT_TRUE(q.ShuttingDown());
}

// --- Add, Get, Done -----------------------------------------------------------------------

TEST(WorkQueue, GetReturnsKeysInFifoOrder) {
  FakeClock clock;
  WorkQueue q(clock);
  for (const char* k : {"ns/c", "ns/a", "ns/b"}) q.Add(k);
  EXPECT_EQ(q.Len(), 3u);
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/c", "ns/a", "ns/b"}));
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueue, WaitingKeyIsQueuedOnce) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  q.Add("ns/b");
  q.Add("ns/a");
  q.Add("ns/a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/a", "ns/b"}));
}

TEST(WorkQueue, KeyAddedWhileProcessingComesBackOnlyAfterDone) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  std::optional<std::string> key = q.Get();
  ASSERT_EQ(key, "ns/a");
  q.Add("ns/a");
  q.Add("ns/a");
  EXPECT_EQ(q.Len(), 0u);  // dirty, not queued: no second worker may take it
  EXPECT_EQ(q.GetFor(nanoseconds::zero()), std::nullopt);
  q.Done("ns/a");
  EXPECT_EQ(q.Len(), 1u);  // queued again, once
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/a"}));
}

TEST(WorkQueue, DirtyKeyGoesToTheBack) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  ASSERT_EQ(q.Get(), "ns/a");
  q.Add("ns/a");
  q.Add("ns/b");
  q.Done("ns/a");
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/b", "ns/a"}));
}

TEST(WorkQueue, DoneWithoutReAddDoesNotRequeue) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  ASSERT_EQ(q.Get(), "ns/a");
  q.Done("ns/a");
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.GetFor(nanoseconds::zero()), std::nullopt);
}

TEST(WorkQueue, DoneOfAKeyNotProcessingIsIgnored) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  q.Done("ns/a");  // queued, not processing: must not queue it a second time
  q.Done("ns/zzz");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/a"}));
}

TEST(WorkQueue, BlockedGetWakesOnAdd) {
  WorkQueue q;
  auto got = Async([&] { return q.Get(); });
  EXPECT_EQ(got.wait_for(kGrace), std::future_status::timeout);
  q.Add("ns/a");
  ASSERT_EQ(got.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(got.get(), "ns/a");
}

TEST(WorkQueue, GetForTimesOutOnAnEmptyQueue) {
  WorkQueue q;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(q.GetFor(milliseconds(20)), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(20));
  EXPECT_FALSE(q.ShuttingDown());
}

// Many producers add few keys while many workers process them. No key may ever be processed by
// two workers at once, and every add must be followed by a processing that saw it.
TEST(WorkQueue, StressNoKeyIsProcessedConcurrentlyAndNoAddIsLost) {
  constexpr int kKeys = 16;
  constexpr int kWorkers = 8;
  constexpr int kProducers = 4;
  constexpr int kAddsPerProducer = 5000;
  WorkQueue q;
  std::array<std::atomic<int>, kKeys> in_flight{};
  std::array<std::atomic<int>, kKeys> added{};      // bumped before each Add
  std::array<std::atomic<int>, kKeys> processed{};  // the `added` value the last processing saw
  std::atomic<int> overlaps{0};
  std::atomic<long> processings{0};
  auto key_of = [](int i) { return "ns/key-" + std::to_string(i); };

  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (std::optional<std::string> key = q.Get()) {
        int i = std::stoi(key->substr(key->rfind('-') + 1));
        if (in_flight[i].fetch_add(1) != 0) ++overlaps;
        int seen = added[i].load();
        std::this_thread::yield();  // widen the window a second worker would need
        if (seen > processed[i].load()) processed[i].store(seen);
        in_flight[i].fetch_sub(1);
        ++processings;
        q.Done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int n = 0; n < kAddsPerProducer; ++n) {
        int i = (n * 7 + p) % kKeys;
        added[i].fetch_add(1);
        q.Add(key_of(i));
      }
    });
  }
  for (std::thread& t : producers) t.join();
  q.ShutDownWithDrain();  // returns once every queued and re-added key has been processed
  for (std::thread& t : workers) t.join();

  EXPECT_EQ(overlaps.load(), 0);
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_EQ(processed[i].load(), added[i].load()) << key_of(i);
  }
  EXPECT_GE(processings.load(), kKeys);
  EXPECT_LE(processings.load(), long{kProducers} * kAddsPerProducer);
}

// --- AddAfter -----------------------------------------------------------------------------

TEST(WorkQueue, AddAfterIsReadyOnlyOnceTheDelayHasPassed) {
  FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("ns/a", seconds(10));
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Stats().waiting, 1u);
  EXPECT_EQ(q.GetFor(nanoseconds::zero()), std::nullopt);
  clock.Advance(seconds(10) - nanoseconds(1));
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(nanoseconds(1));
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Stats().waiting, 0u);
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/a"}));
}

TEST(WorkQueue, PromoteDueWakesAGetBlockedOnAFakeClock) {
  FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("ns/a", seconds(30));
  auto got = Async([&] { return q.Get(); });
  EXPECT_EQ(got.wait_for(kGrace), std::future_status::timeout);
  clock.Advance(seconds(30));
  q.PromoteDue();
  ASSERT_EQ(got.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(got.get(), "ns/a");
}

TEST(WorkQueue, AddAfterOnARealClockWakesABlockedGet) {
  WorkQueue q;
  auto start = std::chrono::steady_clock::now();
  q.AddAfter("ns/a", milliseconds(20));
  auto got = Async([&] { return q.Get(); });
  ASSERT_EQ(got.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(got.get(), "ns/a");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(20));
}

// Every sleeping Get() must wake for the earliest delayed key, whatever order the delays came
// in: a sleeper left waiting for a later key (or for nothing) would strand a due one.
TEST(WorkQueue, SeveralBlockedGetsAllReceiveDelayedKeys) {
  WorkQueue q;
  for (int round = 0; round < 10; ++round) {
    std::vector<std::future<std::optional<std::string>>> gets;
    for (int i = 0; i < 3; ++i) gets.push_back(Async([&] { return q.Get(); }));
    // The pauses let the Get()s go back to sleep between adds; the test holds without them.
    std::this_thread::sleep_for(milliseconds(5));
    q.AddAfter("ns/c", milliseconds(30));
    std::this_thread::sleep_for(milliseconds(2));
    q.AddAfter("ns/b", milliseconds(15));
    std::this_thread::sleep_for(milliseconds(2));
    q.AddAfter("ns/a", milliseconds(5));
    std::set<std::string> got;
    for (auto& g : gets) {
      ASSERT_EQ(g.wait_for(kPatience), std::future_status::ready) << "round " << round;
      std::optional<std::string> key = g.get();
      ASSERT_TRUE(key.has_value());
      got.insert(*key);
    }
    ASSERT_EQ(got, (std::set<std::string>{"ns/a", "ns/b", "ns/c"}));
    for (const std::string& key : got) q.Done(key);
  }
}

TEST(WorkQueue, EarlierAddAfterWins) {
  FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("ns/a", seconds(10));
  q.AddAfter("ns/a", seconds(2));
  EXPECT_EQ(q.Stats().waiting, 1u);
  clock.Advance(seconds(2));
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/a"}));
  clock.Advance(seconds(10));  // the superseded 10 s entry must not fire
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Stats().waiting, 0u);
}

TEST(WorkQueue, LaterAddAfterDoesNotPostpone) {
  FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("ns/a", seconds(2));
  q.AddAfter("ns/a", seconds(10));
  clock.Advance(seconds(2));
  EXPECT_EQ(q.Len(), 1u);
}

TEST(WorkQueue, DelayedKeysComeOutInReadyOrder) {
  FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("ns/late", seconds(3));
  q.AddAfter("ns/early", seconds(1));
  q.AddAfter("ns/middle", seconds(2));
  clock.Advance(seconds(5));
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/early", "ns/middle", "ns/late"}));
}

TEST(WorkQueue, NonPositiveDelayIsAPlainAdd) {
  FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("ns/a", nanoseconds::zero());
  q.AddAfter("ns/b", -seconds(1));
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Stats().waiting, 0u);
}

TEST(WorkQueue, HugeDelaysAndTimeoutsDoNotOverflow) {
  WorkQueue q;
  q.AddAfter("ns/a", nanoseconds::max());
  EXPECT_EQ(q.Stats().waiting, 1u);
  EXPECT_EQ(q.GetFor(milliseconds(1)), std::nullopt);
  auto got = Async([&] { return q.GetFor(nanoseconds::max()); });
  EXPECT_EQ(got.wait_for(kGrace), std::future_status::timeout);
  q.Add("ns/b");
  ASSERT_EQ(got.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(got.get(), "ns/b");
}

TEST(WorkQueue, DelayedKeyThatFiresWhileProcessingIsReAddedAfterDone) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  ASSERT_EQ(q.Get(), "ns/a");
  q.AddAfter("ns/a", seconds(1));
  clock.Advance(seconds(1));
  EXPECT_EQ(q.Len(), 0u);  // due, but processing: marked dirty
  q.Done("ns/a");
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/a"}));
}

// --- AddRateLimited -----------------------------------------------------------------------

TEST(WorkQueue, RateLimitedDelaysDoublePerKeyFrom5ms) {
  FakeClock clock;
  WorkQueue q(clock);
  for (nanoseconds want : {milliseconds(5), milliseconds(10), milliseconds(20), milliseconds(40)}) {
    nanoseconds got = q.AddRateLimited("ns/a");
    EXPECT_EQ(got, want);
    // And the key really waits that long.
    clock.Advance(want - nanoseconds(1));
    EXPECT_EQ(q.Len(), 0u);
    clock.Advance(nanoseconds(1));
    EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/a"}));
  }
  EXPECT_EQ(q.NumRequeues("ns/a"), 4);
  // Another key has its own count.
  EXPECT_EQ(q.AddRateLimited("ns/b"), milliseconds(5));
  EXPECT_EQ(q.NumRequeues("ns/b"), 1);
  EXPECT_EQ(q.NumRequeues("ns/never"), 0);
}

TEST(WorkQueue, RateLimitedDelayIsCappedAt1000s) {
  FakeClock clock;
  WorkQueue q(clock);
  nanoseconds want = milliseconds(5);
  for (int i = 0; i < 80; ++i) {
    ASSERT_EQ(q.AddRateLimited("ns/a"), std::min<nanoseconds>(want, seconds(1000))) << i;
    want = std::min<nanoseconds>(want * 2, seconds(2000));
  }
  EXPECT_EQ(q.NumRequeues("ns/a"), 80);
}

TEST(WorkQueue, ForgetResetsTheFailureCount) {
  FakeClock clock;
  WorkQueue q(clock);
  (void)q.AddRateLimited("ns/a");
  (void)q.AddRateLimited("ns/a");
  (void)q.AddRateLimited("ns/a");
  EXPECT_EQ(q.NumRequeues("ns/a"), 3);
  q.Forget("ns/a");
  EXPECT_EQ(q.NumRequeues("ns/a"), 0);
  EXPECT_EQ(q.AddRateLimited("ns/a"), milliseconds(5));
}

TEST(WorkQueue, GlobalBucketKicksInAfterTheBurst) {
  FakeClock clock;
  WorkQueue q(clock);  // 10 qps, burst 100
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(q.AddRateLimited("ns/k" + std::to_string(i)), milliseconds(5)) << i;
  }
  EXPECT_EQ(q.AddRateLimited("ns/k100"), milliseconds(100));
  EXPECT_EQ(q.AddRateLimited("ns/k101"), milliseconds(200));
  // The bucket refills at 10 tokens a second.
  clock.Advance(seconds(1));
  EXPECT_EQ(q.AddRateLimited("ns/k102"), milliseconds(5));
  EXPECT_EQ(q.Stats().retries, 103u);
}

TEST(WorkQueue, PerKeyDelayWinsOverTheBucketWhenLonger) {
  FakeClock clock;
  WorkQueueOptions options;
  options.burst = 1;
  WorkQueue q(clock, options);
  EXPECT_EQ(q.AddRateLimited("ns/a"), milliseconds(5));    // the burst token
  EXPECT_EQ(q.AddRateLimited("ns/b"), milliseconds(100));  // bucket: 100 ms > 5 ms
  for (int i = 0; i < 8; ++i) (void)q.AddRateLimited("ns/c");
  clock.Advance(seconds(100));                              // bucket full again
  EXPECT_EQ(q.AddRateLimited("ns/c"), milliseconds(1280));  // per key: 5 ms * 2^8
}

TEST(WorkQueue, ZeroQpsMeansNoGlobalLimit) {
  FakeClock clock;
  WorkQueueOptions options;
  options.qps = 0;
  WorkQueue q(clock, options);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(q.AddRateLimited("ns/k" + std::to_string(i)), milliseconds(5)) << i;
  }
}

// --- Shutdown -----------------------------------------------------------------------------

TEST(WorkQueue, ShutDownWakesBlockedGets) {
  WorkQueue q;
  auto a = Async([&] { return q.Get(); });
  auto b = Async([&] { return q.GetFor(seconds(1000)); });
  EXPECT_EQ(a.wait_for(kGrace), std::future_status::timeout);
  q.ShutDown();
  ASSERT_EQ(a.wait_for(kPatience), std::future_status::ready);
  ASSERT_EQ(b.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(a.get(), std::nullopt);
  EXPECT_EQ(b.get(), std::nullopt);
  EXPECT_TRUE(q.ShuttingDown());
}

TEST(WorkQueue, ShutDownDropsQueuedAndDelayedKeys) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  q.AddAfter("ns/b", seconds(1));
  q.ShutDown();
  EXPECT_EQ(q.Get(), std::nullopt);  // at once, although "ns/a" was queued
  clock.Advance(seconds(2));
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Stats().waiting, 0u);
}

TEST(WorkQueue, AddsAfterShutDownAreIgnored) {
  FakeClock clock;
  WorkQueue q(clock);
  q.ShutDown();
  q.Add("ns/a");
  q.AddAfter("ns/b", seconds(1));
  EXPECT_EQ(q.AddRateLimited("ns/c"), nanoseconds::zero());
  clock.Advance(seconds(2));
  WorkQueueStats s = q.Stats();
  EXPECT_EQ(s.depth, 0u);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(s.adds, 0u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(q.NumRequeues("ns/c"), 0);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueue, ShutDownWithDrainWaitsForDone) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  ASSERT_EQ(q.Get(), "ns/a");
  auto drained = Async([&] { q.ShutDownWithDrain(); });
  WaitUntilShuttingDown(q);
  EXPECT_EQ(drained.wait_for(kGrace), std::future_status::timeout);
  q.Add("ns/b");  // ignored: the drain does not wait for it
  q.Done("ns/a");
  ASSERT_EQ(drained.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueue, ShutDownWithDrainHandsOutQueuedAndReAddedKeys) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  q.Add("ns/b");
  ASSERT_EQ(q.Get(), "ns/a");
  q.Add("ns/a");  // dirty while processing
  auto drained = Async([&] { q.ShutDownWithDrain(); });
  WaitUntilShuttingDown(q);
  ASSERT_EQ(q.Get(), "ns/b");
  q.Done("ns/b");
  // Nothing is queued, but "ns/a" will be: a second worker must wait for it, not exit.
  auto second = Async([&] { return q.Get(); });
  EXPECT_EQ(second.wait_for(kGrace), std::future_status::timeout);
  q.Done("ns/a");
  ASSERT_EQ(second.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(second.get(), "ns/a");
  EXPECT_EQ(drained.wait_for(kGrace), std::future_status::timeout);
  q.Done("ns/a");
  ASSERT_EQ(drained.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueue, ShutDownWithDrainReturnsAtOnceWhenIdle) {
  WorkQueue q;
  auto drained = Async([&] { q.ShutDownWithDrain(); });
  ASSERT_EQ(drained.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueue, ShutDownDuringADrainDropsTheQueue) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  q.Add("ns/b");
  ASSERT_EQ(q.Get(), "ns/a");
  auto drained = Async([&] { q.ShutDownWithDrain(); });
  WaitUntilShuttingDown(q);
  q.ShutDown();
  EXPECT_EQ(q.Get(), std::nullopt);  // "ns/b" was dropped
  EXPECT_EQ(drained.wait_for(kGrace), std::future_status::timeout);
  q.Done("ns/a");
  ASSERT_EQ(drained.wait_for(kPatience), std::future_status::ready);
}

// --- Metrics ------------------------------------------------------------------------------

TEST(WorkQueue, StatsCountAddsRetriesDepthAndProcessingAge) {
  FakeClock clock;
  WorkQueue q(clock);
  q.Add("ns/a");
  q.Add("ns/b");
  q.Add("ns/a");  // duplicate: not an add
  EXPECT_EQ(q.Stats().adds, 2u);
  ASSERT_EQ(q.Get(), "ns/a");
  q.Add("ns/a");  // dirty: an add
  q.AddAfter("ns/c", seconds(1));
  (void)q.AddRateLimited("ns/d");
  WorkQueueStats s = q.Stats();
  EXPECT_EQ(s.depth, 1u);  // ns/b
  EXPECT_EQ(s.processing, 1u);
  EXPECT_EQ(s.waiting, 2u);
  EXPECT_EQ(s.adds, 3u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.longest_running, nanoseconds::zero());

  clock.Advance(seconds(3));
  s = q.Stats();
  EXPECT_EQ(s.depth, 3u);  // ns/b, then ns/d (5 ms) and ns/c (1 s) in ready order
  EXPECT_EQ(q.depth(), 3u);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(s.adds, 5u);
  EXPECT_EQ(s.longest_running, seconds(3));
  q.Done("ns/a");
  EXPECT_EQ(DrainNow(q), (std::vector<std::string>{"ns/b", "ns/d", "ns/c", "ns/a"}));
  EXPECT_EQ(q.Stats().longest_running, nanoseconds::zero());
}

}  // namespace
}  // namespace aidi::kube
