#include "scheduler-extender/gpu_ledger.h"

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "scheduler-extender/test_util.h"

namespace aidi::extender {
namespace {

using testing::NodeObject;
using testing::PodObject;

TEST(GpuLedger, ReservesOnlyWhatIsFree) {
  NodeCache cache;
  cache.ApplyNode(NodeObject("n1", "", "", 4));
  cache.ApplyPod(PodObject("default", "old", "u0", "n1", 1));
  GpuLedger ledger(&cache);
  EXPECT_EQ(*ledger.Free("n1"), 3);
  EXPECT_TRUE(ledger.Reserve("u1", "n1", 2).ok());
  EXPECT_EQ(*ledger.Free("n1"), 1);
  Status refused = ledger.Reserve("u2", "n1", 2);
  EXPECT_TRUE(refused.IsConflict());
  EXPECT_EQ(refused.message(), "node n1 has 1 free GPU, the pod needs 2");
  EXPECT_TRUE(ledger.Reserve("u1", "n1", 3).ok());  // the pod's own reservation is replaced
  EXPECT_EQ(ledger.ReservedOn("n1"), 3);
  EXPECT_EQ(ledger.Reserve("u3", "nope", 1).code(), StatusCode::kNotFound);
  EXPECT_TRUE(ledger.Reserve("u4", "n1", 0).ok());  // nothing to reserve
  EXPECT_EQ(ledger.size(), 1u);
  ledger.Release("u1");
  EXPECT_EQ(*ledger.Free("n1"), 3);
  EXPECT_EQ(ledger.rejected_total(), 2u);
  EXPECT_FALSE(ledger.Free("nope").has_value());
}

TEST(GpuLedger, DropsAReservationOnceTheCacheShowsThePodBound) {
  NodeCache cache;
  cache.ApplyNode(NodeObject("n1", "", "", 4));
  GpuLedger ledger(&cache);
  ASSERT_TRUE(ledger.Reserve("u1", "n1", 2).ok());
  cache.ApplyPod(PodObject("default", "p", "u1", "", 2, "Pending"));  // not bound yet
  EXPECT_EQ(ledger.ReservedOn("n1"), 2);
  cache.ApplyPod(PodObject("default", "p", "u1", "n1", 2, "Pending"));
  EXPECT_EQ(ledger.ReservedOn("n1"), 0);
  EXPECT_EQ(*ledger.Free("n1"), 2);  // counted once, by the cache
  ASSERT_TRUE(ledger.Reserve("u2", "n1", 2).ok());
  cache.DeletePod(PodObject("default", "q", "u2", "", 2));  // deleted before it was seen bound
  EXPECT_EQ(ledger.size(), 0u);
}

TEST(GpuLedger, ReservationsExpire) {
  NodeCache cache;
  cache.ApplyNode(NodeObject("n1", "", "", 1));
  FakeClock clock;
  GpuLedger ledger(&cache, GpuLedgerOptions{.ttl = std::chrono::seconds(60)}, clock);
  ASSERT_TRUE(ledger.Reserve("u1", "n1", 1).ok());
  clock.Advance(std::chrono::seconds(59));
  EXPECT_FALSE(ledger.Reserve("u2", "n1", 1).ok());
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(ledger.Reserve("u2", "n1", 1).ok());
  EXPECT_EQ(ledger.expired_total(), 1u);
}

// The burst property: however many binds race, no node is promised more than it has.
TEST(GpuLedger, ABurstOfConcurrentReservationsNeverOverAllocates) {
  constexpr int kNodes = 1000;
  constexpr int kPods = 10000;
  constexpr int kThreads = 8;
  NodeCache cache;
  std::vector<int> allocatable(kNodes);
  for (int i = 0; i < kNodes; ++i) {
    allocatable[i] = 1 + i % 8;
    cache.ApplyNode(NodeObject("n" + std::to_string(i), "", "", allocatable[i]));
  }
  // Some GPUs are already held by bound pods.
  for (int i = 0; i < kNodes; i += 3) {
    cache.ApplyPod(PodObject("default", "held-" + std::to_string(i), "h" + std::to_string(i),
                             "n" + std::to_string(i), 1));
  }
  GpuLedger ledger(&cache);
  std::vector<std::vector<std::pair<int, int>>> granted(kThreads);  // (node, gpus)
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int p = next++; p < kPods; p = next++) {
        int node = static_cast<int>(rng() % kNodes);
        int gpus = 1 + static_cast<int>(rng() % 3);
        if (ledger.Reserve("pod-" + std::to_string(p), "n" + std::to_string(node), gpus).ok()) {
          granted[t].emplace_back(node, gpus);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int> promised(kNodes, 0);
  int total = 0;
  for (const auto& g : granted) {
    for (auto [node, gpus] : g) {
      promised[node] += gpus;
      ++total;
    }
  }
  for (int i = 0; i < kNodes; ++i) {
    int held = i % 3 == 0 ? 1 : 0;
    ASSERT_LE(promised[i] + held, allocatable[i]) << "node n" << i;
    EXPECT_EQ(ledger.ReservedOn("n" + std::to_string(i)), promised[i]);
  }
  EXPECT_EQ(ledger.size(), static_cast<std::size_t>(total));
  EXPECT_GT(total, 1000);   // plenty were granted
  EXPECT_LT(total, kPods);  // and plenty refused: the nodes filled up
}

}  // namespace
}  // namespace aidi::extender
