// WorkQueue: the queue of object keys ("ns/name") a controller's workers reconcile, with the
// semantics of client-go's rate-limiting, delaying work queue.
//
// Guarantees
//   - Deduplication: a key waiting in the queue is queued once, however often it is added.
//   - One worker per key: a key handed out by Get() is "processing" until Done(key). Adding it
//     meanwhile marks it dirty; Done() then queues it again (at the back). So a key is never
//     processed by two workers at once, and a change that arrives during processing is never
//     lost.
//   - FIFO: keys come out of Get() in the order they were first queued.
//
// Delays. AddAfter(key, d) queues the key once d has passed on the injected clock; while it
// waits, a second AddAfter with an earlier ready time moves it earlier, a later one is ignored
// (client-go's waitingForQueue). AddRateLimited(key) is AddAfter with the larger of a per-key
// exponential failure delay (base_delay * 2^failures, capped at max_delay) and the wait for a
// token from a global bucket (qps, burst): client-go's DefaultControllerRateLimiter. Forget(key)
// clears the key's failure count once it reconciles cleanly.
//
// There is no timer thread. Due keys are moved into the queue at the start of every call (Add,
// Get, Done, Len, Stats, ...), so every caller sees the queue as if a timer had fired exactly on
// time; a Get() blocked on an empty queue sleeps until the earliest ready time, computed from the
// clock. A FakeClock does not wake sleepers: after FakeClock::Advance, call PromoteDue() to move
// due keys in and wake blocked Get()s.
//
// Shutdown. ShutDown(): queued and delayed keys are dropped, every Get() (blocked or later)
// returns nullopt at once, adds are ignored; Done() still ends processing. ShutDownWithDrain():
// adds are ignored and delayed keys dropped, but Get() keeps handing out the queued keys (and
// dirty keys queued again by Done()) and returns nullopt once no work is left; the call blocks
// until that happens and every processing key is Done(). It therefore needs the workers to keep
// running until their Get() returns nullopt.
//
// A worker:
//   while (std::optional<std::string> key = queue.Get()) {
//     Status s = Reconcile(*key);
//     if (s.ok()) queue.Forget(*key); else queue.AddRateLimited(*key);
//     queue.Done(*key);
//   }
//
// Thread safety: every method may be called from any thread; the queue must outlive the threads
// that use it (shut it down and join them before destroying it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/clock.h"
#include "base/token_bucket.h"

namespace aidi::kube {

// client-go's DefaultControllerRateLimiter: 5 ms * 2^failures up to 1000 s per key, and at most
// 10 requeues per second overall in bursts of 100.
struct WorkQueueOptions {
  std::chrono::nanoseconds base_delay = std::chrono::milliseconds(5);
  std::chrono::nanoseconds max_delay = std::chrono::seconds(1000);
  double qps = 10;  // <= 0: no global limit
  int burst = 100;
};

// A snapshot for metrics (client-go's workqueue metrics, minus the histograms).
struct WorkQueueStats {
  std::size_t depth = 0;       // keys queued, ready for Get(); Len()
  std::size_t processing = 0;  // keys handed out by Get() and not yet Done()
  std::size_t waiting = 0;     // keys waiting for an AddAfter/AddRateLimited delay
  std::uint64_t adds = 0;      // keys queued or marked dirty (duplicates of waiting keys excluded)
  std::uint64_t retries = 0;   // accepted AddRateLimited calls
  std::chrono::nanoseconds longest_running{0};  // how long the oldest processing key has run
};

class WorkQueue {
 public:
  // `clock` must outlive the queue; it times delays and processing ages.
  explicit WorkQueue(const Clock& clock = Clock::Real(), WorkQueueOptions options = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already queued; marks it dirty if it is processing. Ignored after
  // shutdown.
  void Add(const std::string& key);
  // Queues `key` once `delay` has passed (at once when delay <= 0). Ignored after shutdown.
  void AddAfter(const std::string& key, std::chrono::nanoseconds delay);
  // Records a failure of `key` and queues it after the rate-limited delay, which it returns (for
  // logging). Ignored after shutdown (returns zero and records nothing).
  std::chrono::nanoseconds AddRateLimited(const std::string& key);
  // Clears the failure count of `key` (not its place in the queue).
  void Forget(const std::string& key);
  // Failures recorded for `key` since its last Forget().
  int NumRequeues(const std::string& key) const;

  // Blocks until a key is ready and returns it, now processing; nullopt once shut down (see
  // above for the drain mode).
  std::optional<std::string> Get();
  // Get() that gives up after `timeout` of real (steady) time, also returning nullopt; it bounds
  // how long a thread blocks, so it is not measured on the injected clock. Zero polls.
  std::optional<std::string> GetFor(std::chrono::nanoseconds timeout);
  // Ends processing of `key`, queueing it again if it was added meanwhile. A key that is not
  // processing is ignored.
  void Done(const std::string& key);

  // See "Shutdown" above. Both are idempotent; ShutDown() during a drain drops the queued keys
  // and the drain then waits only for the processing keys.
  void ShutDown();
  void ShutDownWithDrain();
  bool ShuttingDown() const;

  // Moves keys whose delay has passed into the queue and wakes blocked Get()s; for FakeClock
  // users (every other call does this for itself).
  void PromoteDue();

  // Keys queued and ready: not counting processing or delayed keys. Not const: it first
  // promotes due keys.
  std::size_t Len();
  std::size_t depth() { return Len(); }
  WorkQueueStats Stats();

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  std::optional<std::string> GetUntil(std::optional<SteadyTime> deadline);
  void AddLocked(const std::string& key);
  void AddAfterLocked(const std::string& key, std::chrono::nanoseconds delay);
  void PromoteDueLocked();
  std::chrono::nanoseconds FailureDelayLocked(const std::string& key);

  const Clock& clock_;
  const WorkQueueOptions options_;

  // What the queue knows about one key. A key has an entry exactly while it is dirty or
  // processing; queue_ holds exactly the entries that are dirty and not processing, in order.
  struct KeyState {
    bool dirty = false;         // queued, or added again while processing
    bool processing = false;    // handed out by Get(), Done() not yet called
    Clock::MonoTime started{};  // when Get() handed it out
  };
  using KeyMap = std::unordered_map<std::string, KeyState>;

  mutable std::mutex mu_;
  std::condition_variable ready_cv_;    // Get()s wait here
  std::condition_variable drained_cv_;  // ShutDownWithDrain() waits here
  KeyMap keys_;
  // Pointers into keys_ (unordered_map never moves its elements), so a key is stored once.
  std::deque<KeyMap::value_type*> queue_;
  std::size_t dirty_count_ = 0;
  std::size_t processing_count_ = 0;
  // Delayed keys: ordered by (ready time, arrival) with an index by key to move one earlier.
  using WaitingSlot = std::pair<Clock::MonoTime, std::uint64_t>;
  std::map<WaitingSlot, std::string> waiting_;
  std::unordered_map<std::string, WaitingSlot> waiting_index_;
  std::uint64_t waiting_seq_ = 0;
  std::unordered_map<std::string, int> failures_;
  TokenBucket bucket_;
  bool shutting_down_ = false;
  bool drain_ = false;
  std::uint64_t adds_ = 0;
  std::uint64_t retries_ = 0;
};

}  // namespace aidi::kube
