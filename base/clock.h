// Clock: the one place aidi reads time, so tests can move it by hand.
//
// RealClock reads the system clocks; FakeClock starts where told and moves only when Advance()
// is called. Both are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

namespace aidi {

class Clock {
 public:
  using WallTime = std::chrono::system_clock::time_point;
  using MonoTime = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;        // wall time, for timestamps users see
  virtual MonoTime Monotonic() const = 0;  // for durations and deadlines
  static Clock& Real();
};

class RealClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime{}) : wall_(start.time_since_epoch().count()) {}
  WallTime Now() const override { return WallTime{WallTime::duration{wall_.load()}}; }
  MonoTime Monotonic() const override { return MonoTime{MonoTime::duration{mono_.load()}}; }
  void Advance(std::chrono::nanoseconds d) {
    wall_ += std::chrono::duration_cast<WallTime::duration>(d).count();
    mono_ += std::chrono::duration_cast<MonoTime::duration>(d).count();
  }

 private:
  std::atomic<WallTime::rep> wall_;
  std::atomic<MonoTime::rep> mono_{0};
};

// RFC 3339 in UTC with second precision, as Kubernetes writes metav1.Time: 2026-11-27T20:03:48Z.
std::string FormatRfc3339(Clock::WallTime t);
// The same with microseconds, as metav1.MicroTime: 2026-11-27T20:03:48.123456Z.
std::string FormatRfc3339Micro(Clock::WallTime t);
// Parses both forms (and a numeric offset); false when `s` is not RFC 3339.
bool ParseRfc3339(const std::string& s, Clock::WallTime* out);

}  // namespace aidi
