#include "kube/runtime/backoff.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aidi::kube {

namespace {

BackoffPolicy Sanitised(BackoffPolicy p) {
  p.initial = std::max(p.initial, std::chrono::milliseconds(0));
  p.max = std::max(p.max, p.initial);
  if (!(p.factor >= 1.0)) p.factor = 1.0;  // also catches NaN
  if (!(p.jitter >= 0.0)) p.jitter = 0.0;
  p.jitter = std::min(p.jitter, 1.0);
  p.reset_after = std::max(p.reset_after, std::chrono::milliseconds(0));
  return p;
}

}  // namespace

std::uint64_t Backoff::RandomSeed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

Backoff::Backoff(BackoffPolicy policy, const Clock& clock, std::uint64_t seed)
    : policy_(Sanitised(policy)),
      clock_(clock),
      rng_(seed),
      base_ms_(static_cast<double>(policy_.initial.count())) {}

void Backoff::Reset() {
  failures_ = 0;
  base_ms_ = static_cast<double>(policy_.initial.count());
  has_resumed_ = false;
}

std::chrono::milliseconds Backoff::Next() {
  Clock::MonoTime now = clock_.Monotonic();
  if (has_resumed_ && policy_.reset_after.count() > 0 && now - resumed_at_ > policy_.reset_after) {
    Reset();
  }
  // 53 random bits give a uniform double in [0, 1).
  double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  double delay_ms = std::floor(base_ms_ * (1.0 - policy_.jitter * u));
  std::chrono::milliseconds delay(static_cast<std::chrono::milliseconds::rep>(delay_ms));

  if (failures_ < std::numeric_limits<int>::max()) ++failures_;
  base_ms_ = std::min(base_ms_ * policy_.factor, static_cast<double>(policy_.max.count()));
  has_resumed_ = true;
  resumed_at_ = now + delay;
  return delay;
}

}  // namespace aidi::kube
