// EventRecorder: tells users what a controller did to their objects with core/v1 Events (what
// `kubectl describe` and `kubectl get events` show), the way client-go's record package does,
// without ever slowing down or failing a reconcile.
//
//   EventRecorder events(client, {.component = "pipeline-controller"});
//   events.Record(pipeline, EventType::kWarning, "ImagePullFailed", "image x:1 not found");
//
// Record() only copies what it needs and enqueues; a background thread writes. The queue is
// bounded: when it is full the event is dropped with a warning log. Writing:
//   - a new event is a POST of an Event named "<object name>.<16 hex digits of the time>" in
//     the object's namespace ("default" for cluster-scoped objects), with involvedObject taken
//     from the object's apiVersion, kind, name, namespace, uid and resourceVersion (so pass
//     objects that carry apiVersion and kind: list items may not), source.component and
//     reportingComponent set to the component, reportingInstance to the instance, count 1;
//   - an identical event (same object, type, reason, message and component) recorded again
//     within the aggregation window of its previous occurrence is a merge PATCH of the existing
//     Event instead: {"count": n+1, "lastTimestamp": now}, as client-go's EventCorrelator does.
//     The recorder remembers the last cache_size distinct events (least recently used go first).
//     If the Event has gone (events expire, typically after an hour), a new one is created.
// Messages longer than 1024 bytes are cut (at a UTF-8 character boundary). Failed writes are
// logged and dropped: events are best effort.
//
// Thread safety: Record(), Flush() and stats() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "kube/client/client.h"

namespace aidi::kube {

enum class EventType { kNormal, kWarning };
// "Normal" or "Warning".
const char* EventTypeName(EventType type);

struct EventRecorderOptions {
  std::string component = "aidi";     // source.component and reportingComponent
  std::string instance;               // reportingInstance and source.host; "" means the hostname
  std::size_t queue_capacity = 1000;  // events waiting to be written; more are dropped
  std::size_t cache_size = 4096;      // distinct events remembered for aggregation
  std::chrono::milliseconds aggregation_window{std::chrono::minutes(10)};
};

// Counters since construction, for tests and metrics.
struct EventRecorderStats {
  std::uint64_t created = 0;     // POSTed Events
  std::uint64_t aggregated = 0;  // PATCHes that bumped a count
  std::uint64_t dropped = 0;     // queue full, or the object could not be referenced
  std::uint64_t failed = 0;      // writes the server refused or that could not be sent
};

class EventRecorder {
 public:
  // Starts the writer thread. `client` is shared; `clock` must outlive the recorder.
  EventRecorder(std::shared_ptr<Client> client, EventRecorderOptions options,
                const Clock& clock = Clock::Real());
  // Stops the writer after the write in progress; events still queued are dropped (call
  // Flush() first to write them).
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Enqueues an event about `involved_object` (a full object with apiVersion, kind and
  // metadata); never blocks on the network and never fails.
  void Record(const nlohmann::json& involved_object, EventType type, std::string reason,
              std::string message);
  // Blocks until every event recorded before the call has been written (or has failed).
  void Flush();
  EventRecorderStats stats() const;

  // The involvedObject reference for `object` (apiVersion, kind, name, namespace, uid,
  // resourceVersion; absent fields are left out).
  static nlohmann::json ObjectReference(const nlohmann::json& object);

 private:
  struct Pending {
    nlohmann::json reference;
    std::string ns;  // the Event's namespace
    EventType type = EventType::kNormal;
    std::string reason;
    std::string message;
    Clock::WallTime at;
    Clock::MonoTime mono;
  };
  // What the writer remembers about an Event it wrote.
  struct Seen {
    std::string key;
    std::string ns;
    std::string name;
    long long count = 0;
    Clock::MonoTime last{};
  };

  void WriterLoop();
  void Write(const Pending& event);                           // writer thread only
  bool Create(const Pending& event, const std::string& key);  // writer thread only
  std::string EventName(const std::string& object_name, Clock::WallTime at);
  void Remember(Seen seen);

  std::shared_ptr<Client> client_;
  EventRecorderOptions options_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // queue_ not empty, or stopping_
  std::condition_variable done_cv_;  // finished_ advanced
  std::deque<Pending> queue_;        // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  std::uint64_t enqueued_ = 0;       // guarded by mu_
  std::uint64_t finished_ = 0;       // guarded by mu_
  EventRecorderStats stats_;         // guarded by mu_

  // Writer thread only: the aggregation cache (most recently used first) and the last
  // timestamp used in a name, so names stay unique even when the clock stands still.
  std::list<Seen> lru_;
  std::unordered_map<std::string, std::list<Seen>::iterator> index_;
  long long last_name_nanos_ = 0;

  std::thread writer_;  // last: starts after everything above is initialised
};

}  // namespace aidi::kube
