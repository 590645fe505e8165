#include "base/token_bucket.h"

#include <algorithm>

namespace aidi {

TokenBucket::TokenBucket(double rate_per_second, int burst, const Clock& clock)
    : rate_(rate_per_second),
      burst_(std::max(1, burst)),
      clock_(clock),
      tokens_(std::max(1, burst)),
      last_(clock.Monotonic()) {}

void TokenBucket::RefillLocked(Clock::MonoTime now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::Reserve() {
  if (rate_ <= 0) return std::chrono::nanoseconds(0);
  std::lock_guard lock(mu_);
  RefillLocked(clock_.Monotonic());
  tokens_ -= 1;
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<long long>(-tokens_ / rate_ * 1e9));
}

bool TokenBucket::TryTake() {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mu_);
  RefillLocked(clock_.Monotonic());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace aidi
