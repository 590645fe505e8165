// TokenBucket: at most `rate` events per second on average, in bursts of up to `burst`
// (golang.org/x/time/rate's Limiter, which client-go and its work queues use).
//
// Reserve() takes a token now and says how long the caller must wait before acting on it, so
// callers sleep on their own terms (a cancellable wait, or a fake one in tests). A rate <= 0
// means unlimited. Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <mutex>

#include "base/clock.h"

namespace aidi {

class TokenBucket {
 public:
  // `clock` must outlive the bucket. The bucket starts full.
  TokenBucket(double rate_per_second, int burst, const Clock& clock = Clock::Real());

  // Takes one token; returns how long to wait until it is valid (zero when one was available).
  std::chrono::nanoseconds Reserve();
  // Takes a token only if one is available now.
  bool TryTake();

 private:
  void RefillLocked(Clock::MonoTime now);

  const double rate_;
  const double burst_;
  const Clock& clock_;
  std::mutex mu_;
  double tokens_;  // may go negative: reservations made ahead of time
  Clock::MonoTime last_;
};

}  // namespace aidi
