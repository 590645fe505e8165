// Watcher: keeps a live view of one resource flowing, the way client-go's Reflector and
// kube-rs's watcher do, and reports it as a small event protocol that a Store consumes.
//
// Flow: list in pages (limit) -> watch from the list's resourceVersion with bookmarks and a
// server timeoutSeconds -> when the server ends the stream or the connection drops, watch again
// from the last resourceVersion seen (no relist) -> on 410 Expired (as an HTTP status or an
// in-stream ERROR event) relist. Failures back off with jitter (800 ms doubling to 30 s; the
// backoff resets after 2 minutes of healthy watching).
//
// Events (kube-rs's watcher::Event):
//   kInit, kInitApply* , kInitDone   a (re)list: the complete set of objects, in pages
//   kApply                           an object was added or changed
//   kDelete                          an object was deleted
// A consumer that buffers kInitApply objects and swaps at kInitDone sees deletes that happened
// while it was not watching (Store does exactly this).
//
// Thread safety: Run() is called by one thread, which also calls the sink; Stop() and the
// counters may be used from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "kube/client/api.h"
#include "kube/runtime/backoff.h"
#include "kube/runtime/watcher_event.h"

namespace aidi::kube {

struct WatcherOptions {
  std::string label_selector;
  std::string field_selector;
  int page_size = 500;
  int watch_timeout_seconds = 290;
  BackoffPolicy backoff = kWatcherBackoff;  // 800 ms doubling to 30 s, reset after 2 min
};

struct WatcherStats {
  std::atomic<std::uint64_t> lists{0};         // complete (re)lists
  std::atomic<std::uint64_t> watch_starts{0};  // watch requests opened
  std::atomic<std::uint64_t> resumes{0};       // watches resumed from a resourceVersion
  std::atomic<std::uint64_t> expired{0};       // 410s that forced a relist
  std::atomic<std::uint64_t> errors{0};        // failed requests and broken streams
};

class Watcher {
 public:
  using Sink = std::function<void(WatcherEvent&&)>;
  Watcher(Api api, WatcherOptions options, const Clock& clock = Clock::Real());
  ~Watcher();

  // Runs until Stop(); calls `sink` from this thread for every event, in order.
  void Run(const Sink& sink);
  // Ends Run() promptly (cancels an open watch, interrupts a backoff sleep). Idempotent.
  void Stop();

  const WatcherStats& stats() const { return stats_; }
  const Api& api() const { return api_; }

 private:
  // One complete paged list, reported as kInit, kInitApply..., kInitDone.
  Status List(const Sink& sink, std::string* resource_version);
  bool Stopping();
  // Sleeps for `delay` unless Stop() comes first; false if stopped.
  bool SleepUnlessStopped(std::chrono::milliseconds delay);

  Api api_;
  WatcherOptions options_;
  const Clock& clock_;
  WatcherStats stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::shared_ptr<WatchStream> current_;  // the open watch, so Stop() can cancel it
};

}  // namespace aidi::kube
