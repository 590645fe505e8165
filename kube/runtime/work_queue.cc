#include "kube/runtime/work_queue.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aidi::kube {

namespace {

// t + d, saturating at the latest representable time (AddAfter and GetFor take any duration).
template <typename TimePoint>
TimePoint AddSaturating(TimePoint t, std::chrono::nanoseconds d) {
  using Duration = typename TimePoint::duration;
  if (d <= std::chrono::nanoseconds::zero()) return t + std::chrono::duration_cast<Duration>(d);
  if (std::chrono::duration_cast<Duration>(d) >= TimePoint::max() - t) return TimePoint::max();
  return t + std::chrono::duration_cast<Duration>(d);
}

}  // namespace

WorkQueue::WorkQueue(const Clock& clock, WorkQueueOptions options)
    : clock_(clock), options_(options), bucket_(options.qps, options.burst, clock) {}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  AddLocked(key);
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  auto it = keys_.try_emplace(key).first;
  KeyState& state = it->second;
  if (state.dirty) return;  // already queued, or already re-added while processing
  state.dirty = true;
  ++dirty_count_;
  ++adds_;
  if (state.processing) return;  // Done() queues it
  queue_.push_back(&*it);
  ready_cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  AddAfterLocked(key, delay);
}

void WorkQueue::AddAfterLocked(const std::string& key, std::chrono::nanoseconds delay) {
  if (shutting_down_) return;
  if (delay <= std::chrono::nanoseconds::zero()) {
    AddLocked(key);
    return;
  }
  Clock::MonoTime ready = AddSaturating(clock_.Monotonic(), delay);
  auto it = waiting_index_.find(key);
  if (it != waiting_index_.end()) {
    if (it->second.first <= ready) return;  // the earlier time wins
    waiting_.erase(it->second);
    waiting_index_.erase(it);
  }
  WaitingSlot slot{ready, waiting_seq_++};
  waiting_.emplace(slot, key);
  waiting_index_.emplace(key, slot);
  // Every sleeping Get() recomputes its wake-up time, so each sleeps at most until the earliest
  // ready time (notify_one could leave a sleeper waiting for a later key, or for nothing).
  ready_cv_.notify_all();
}

std::chrono::nanoseconds WorkQueue::FailureDelayLocked(const std::string& key) {
  int& failures = failures_[key];
  int exponent = failures;
  if (failures < std::numeric_limits<int>::max()) ++failures;
  // In floating point: 2^exponent overflows no integer, and anything past max_delay is capped.
  double delay_ns = static_cast<double>(options_.base_delay.count()) * std::ldexp(1.0, exponent);
  if (!(delay_ns < static_cast<double>(options_.max_delay.count()))) return options_.max_delay;
  return std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(delay_ns));
}

std::chrono::nanoseconds WorkQueue::AddRateLimited(const std::string& key) {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  if (shutting_down_) return std::chrono::nanoseconds::zero();
  // Both limiters are always consulted (client-go's MaxOfRateLimiter), so every retry takes a
  // token from the bucket even when the per-key delay is the longer one.
  std::chrono::nanoseconds delay = std::max(FailureDelayLocked(key), bucket_.Reserve());
  ++retries_;
  AddAfterLocked(key, delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<std::string> WorkQueue::Get() { return GetUntil(std::nullopt); }

std::optional<std::string> WorkQueue::GetFor(std::chrono::nanoseconds timeout) {
  return GetUntil(AddSaturating(std::chrono::steady_clock::now(), timeout));
}

std::optional<std::string> WorkQueue::GetUntil(std::optional<SteadyTime> deadline) {
  std::unique_lock lock(mu_);
  for (;;) {
    PromoteDueLocked();
    if (!queue_.empty()) {
      KeyMap::value_type* entry = queue_.front();
      queue_.pop_front();
      entry->second.dirty = false;
      --dirty_count_;
      entry->second.processing = true;
      ++processing_count_;
      entry->second.started = clock_.Monotonic();
      // While draining, the last key out lets the other workers see that nothing is left.
      if (shutting_down_ && dirty_count_ == 0) ready_cv_.notify_all();
      return entry->first;
    }
    // Shut down: nothing is queued. While draining, a processing key that was added again (the
    // only dirty keys now) will be queued by its Done(), so keep waiting for it.
    if (shutting_down_ && (!drain_ || dirty_count_ == 0)) return std::nullopt;

    SteadyTime now = std::chrono::steady_clock::now();
    if (deadline && now >= *deadline) return std::nullopt;
    std::optional<SteadyTime> wake = deadline;
    if (!waiting_.empty()) {
      // Sleep until the earliest ready time, read off the injected clock.
      std::chrono::nanoseconds remaining = waiting_.begin()->first.first - clock_.Monotonic();
      SteadyTime due = AddSaturating(now, std::max(remaining, std::chrono::nanoseconds::zero()));
      if (!wake || due < *wake) wake = due;
    }
    if (wake && *wake != SteadyTime::max()) {
      ready_cv_.wait_until(lock, *wake);
    } else {
      ready_cv_.wait(lock);
    }
  }
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  auto it = keys_.find(key);
  if (it == keys_.end() || !it->second.processing) return;
  it->second.processing = false;
  --processing_count_;
  if (it->second.dirty) {
    queue_.push_back(&*it);
    ready_cv_.notify_one();
  } else {
    keys_.erase(it);
  }
  if (shutting_down_) {
    if (processing_count_ == 0 && dirty_count_ == 0) drained_cv_.notify_all();
    ready_cv_.notify_all();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  drain_ = false;
  queue_.clear();
  for (auto it = keys_.begin(); it != keys_.end();) {
    if (it->second.processing) {
      it->second.dirty = false;
      ++it;
    } else {
      it = keys_.erase(it);
    }
  }
  dirty_count_ = 0;
  waiting_.clear();
  waiting_index_.clear();
  ready_cv_.notify_all();
  drained_cv_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  std::unique_lock lock(mu_);
  if (!shutting_down_) {
    shutting_down_ = true;
    drain_ = true;
    waiting_.clear();
    waiting_index_.clear();
    ready_cv_.notify_all();
  }
  drained_cv_.wait(lock, [this] { return processing_count_ == 0 && dirty_count_ == 0; });
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

void WorkQueue::PromoteDue() {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  // A sleeping Get() may have computed its wake-up from an older clock reading (FakeClock).
  if (!queue_.empty()) ready_cv_.notify_all();
}

void WorkQueue::PromoteDueLocked() {
  if (waiting_.empty()) return;
  Clock::MonoTime now = clock_.Monotonic();
  while (!waiting_.empty() && waiting_.begin()->first.first <= now) {
    auto node = waiting_.extract(waiting_.begin());
    waiting_index_.erase(node.mapped());
    AddLocked(node.mapped());
  }
}

std::size_t WorkQueue::Len() {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  return queue_.size();
}

WorkQueueStats WorkQueue::Stats() {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  WorkQueueStats stats;
  stats.depth = queue_.size();
  stats.processing = processing_count_;
  stats.waiting = waiting_.size();
  stats.adds = adds_;
  stats.retries = retries_;
  std::optional<Clock::MonoTime> oldest;
  for (const auto& [key, state] : keys_) {
    if (state.processing && (!oldest || state.started < *oldest)) oldest = state.started;
  }
  if (oldest) stats.longest_running = clock_.Monotonic() - *oldest;
  return stats;
}

}  // namespace aidi::kube
