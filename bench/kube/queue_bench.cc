// kube_queue_bench: throughput of the controller work queue (kube/runtime/work_queue.h) next to
// an anchor measured in the same run: a plain std::deque + mutex + condition variable queue with
// no deduplication, no processing set and no delays, i.e. the least a thread-safe queue can do.
//
//   BM_WorkQueue/workers:N, BM_PlainQueue/workers:N
//     One iteration: the benchmark thread adds 10,000 distinct keys ("ns/object-00042") while
//     N worker threads Get() (and, for WorkQueue, Done()) them; it ends when all 10,000 are
//     processed. workers:0 does the same on the benchmark thread alone (Add all, then Get+Done
//     all): the per-operation cost without any hand-off between threads.
//   BM_WorkQueue_AddQueuedKey: Add() of a key that is already queued (the deduplication hit).
//   BM_WorkQueue_Delayed: AddAfter() of 10,000 keys with distinct delays on a FakeClock, then
//     one Advance and Get+Done of all of them (the delay heap's cost).
//
// items_per_second is keys processed (Add+Get+Done cycles) per second of wall time. It measures
// and records; it asserts nothing (see STYLE.md: a benchmark is not a test).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "kube/runtime/work_queue.h"

namespace aidi::kube {
namespace {

constexpr int kKeys = 10'000;

const std::vector<std::string>& Keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    out.reserve(kKeys);
    char buf[32];
    for (int i = 0; i < kKeys; ++i) {
      std::snprintf(buf, sizeof buf, "ns/object-%05d", i);
      out.emplace_back(buf);
    }
    return out;
  }();
  return keys;
}

// The anchor: FIFO with blocking pop, nothing else.
class PlainQueue {
 public:
  void Add(const std::string& key) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return;
      queue_.push_back(key);
    }
    cv_.notify_one();
  }
  std::optional<std::string> Get() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return std::nullopt;
    std::string key = std::move(queue_.front());
    queue_.pop_front();
    return key;
  }
  std::optional<std::string> GetFor(std::chrono::nanoseconds) {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return std::nullopt;
    std::string key = std::move(queue_.front());
    queue_.pop_front();
    return key;
  }
  void Done(const std::string&) {}
  void ShutDown() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool closed_ = false;
};

template <typename Queue>
void RunThroughput(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const std::vector<std::string>& keys = Keys();
  Queue q;

  if (workers == 0) {
    for (auto _ : state) {
      for (const std::string& key : keys) q.Add(key);
      while (std::optional<std::string> key = q.GetFor(std::chrono::nanoseconds::zero())) {
        benchmark::DoNotOptimize(key->data());
        q.Done(*key);
      }
    }
    state.SetItemsProcessed(state.iterations() * kKeys);
    return;
  }

  std::atomic<std::int64_t> processed{0};
  std::atomic<std::int64_t> target{-1};
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      while (std::optional<std::string> key = q.Get()) {
        benchmark::DoNotOptimize(key->data());
        q.Done(*key);
        if (processed.fetch_add(1, std::memory_order_acq_rel) + 1 ==
            target.load(std::memory_order_acquire)) {
          processed.notify_one();
        }
      }
    });
  }
  std::int64_t goal = 0;
  for (auto _ : state) {
    goal += kKeys;
    target.store(goal, std::memory_order_release);
    for (const std::string& key : keys) q.Add(key);
    for (std::int64_t seen = processed.load(); seen < goal; seen = processed.load()) {
      processed.wait(seen);
    }
  }
  q.ShutDown();
  for (std::thread& t : threads) t.join();
  state.SetItemsProcessed(state.iterations() * kKeys);
}

void BM_WorkQueue(benchmark::State& state) { RunThroughput<WorkQueue>(state); }
void BM_PlainQueue(benchmark::State& state) { RunThroughput<PlainQueue>(state); }

BENCHMARK(BM_WorkQueue)->ArgName("workers")->Arg(0)->Arg(1)->Arg(4)->UseRealTime();
BENCHMARK(BM_PlainQueue)->ArgName("workers")->Arg(0)->Arg(1)->Arg(4)->UseRealTime();

void BM_WorkQueue_AddQueuedKey(benchmark::State& state) {
  WorkQueue q;
  const std::vector<std::string>& keys = Keys();
  for (const std::string& key : keys) q.Add(key);
  std::size_t i = 0;
  for (auto _ : state) {
    q.Add(keys[i]);
    if (++i == keys.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WorkQueue_AddQueuedKey);

void BM_WorkQueue_Delayed(benchmark::State& state) {
  FakeClock clock;
  WorkQueue q(clock);
  const std::vector<std::string>& keys = Keys();
  for (auto _ : state) {
    for (int i = 0; i < kKeys; ++i) {
      // Distinct delays in shuffled order, so the heap really sorts.
      q.AddAfter(keys[i], std::chrono::microseconds(1 + (i * 7919) % kKeys));
    }
    clock.Advance(std::chrono::seconds(1));
    while (std::optional<std::string> key = q.GetFor(std::chrono::nanoseconds::zero())) {
      benchmark::DoNotOptimize(key->data());
      q.Done(*key);
    }
  }
  state.SetItemsProcessed(state.iterations() * kKeys);
}
BENCHMARK(BM_WorkQueue_Delayed);

}  // namespace
}  // namespace aidi::kube

BENCHMARK_MAIN();
