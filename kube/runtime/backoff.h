// Backoff: how long a retry loop waits after each failure, growing exponentially with jitter and
// starting over once the loop has been healthy for a while (client-go's wait.Backoff plus
// kube-rs's ResetTimerBackoff, which its watcher uses).
//
// The rule, exactly. Let n be the number of Next() calls since the last reset. Then
//   base(n)  = min(initial * factor^n, max)
//   Next()   = base(n) * (1 - jitter * u), u uniform in [0, 1), rounded down to a millisecond
// so every delay lies in (base * (1 - jitter), base]: `max` is a hard ceiling, and jitter only
// ever shortens a wait, spreading many clients that failed together. Auto-reset: Next() first
// sets n back to 0 when more than `reset_after` has passed (on the injected clock) since the end
// of the previous delay, that is since the moment the caller resumed work after the previous
// Next(): it has then been healthy for longer than reset_after. A reset_after of zero turns
// auto-reset off; Reset() always works.
//
//   Backoff backoff(kWatcherBackoff, clock);
//   while (!stopping) {
//     Status s = WatchOnce();
//     if (!s.ok()) SleepFor(backoff.Next());
//   }
//
// Thread safety: none; a Backoff is a plain value that belongs to one retry loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "base/clock.h"

namespace aidi::kube {

struct BackoffPolicy {
  std::chrono::milliseconds initial{800};  // the first delay (before jitter)
  std::chrono::milliseconds max{30'000};   // no delay is ever longer; raised to initial if below
  double factor = 2.0;                     // growth per failure; values below 1 count as 1
  double jitter = 0.2;                     // fraction a delay may be shortened by, in [0, 1]
  std::chrono::milliseconds reset_after{120'000};  // healthy this long => start over; 0: never
};

// The watcher's policy: 800 ms doubling to 30 s, shortened by up to 20%, reset after 2 minutes
// of healthy watching.
inline constexpr BackoffPolicy kWatcherBackoff{};

class Backoff {
 public:
  // `clock` must outlive the Backoff. Equal seeds give equal delay sequences (for tests).
  explicit Backoff(BackoffPolicy policy, const Clock& clock = Clock::Real(),
                   std::uint64_t seed = RandomSeed());

  // The delay to wait after a failure; see the rule above.
  std::chrono::milliseconds Next();
  // Starts over: the next delay is based on `initial` again.
  void Reset();

  // Next() calls since the last reset (explicit or automatic as of the last Next()).
  int failures() const { return failures_; }
  const BackoffPolicy& policy() const { return policy_; }

  // A seed from std::random_device.
  static std::uint64_t RandomSeed();

 private:
  BackoffPolicy policy_;
  const Clock& clock_;
  std::mt19937_64 rng_;
  int failures_ = 0;
  double base_ms_;  // base(failures_), kept as a double so growth never overflows
  bool has_resumed_ = false;
  Clock::MonoTime resumed_at_{};  // when the previous delay ends
};

}  // namespace aidi::kube
