#include "kube/runtime/events.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <utility>

#include "base/log.h"
#include "kube/client/api.h"
#include "kube/core/json_fields.h"
#include "kube/core/resource.h"

namespace aidi::kube {
namespace {

constexpr std::size_t kMaxMessageBytes = 1024;

std::string Hostname() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "unknown";
  return host;
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string& s, std::size_t max) {
  if (s.size() <= max) return;
  std::size_t cut = max;
  // Back off over continuation bytes (10xxxxxx) to the start of the character at `cut`.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
}

}  // namespace

const char* EventTypeName(EventType type) {
  return type == EventType::kWarning ? "Warning" : "Normal";
}

nlohmann::json EventRecorder::ObjectReference(const nlohmann::json& object) {
  nlohmann::json ref = nlohmann::json::object();
  if (!object.is_object()) return ref;
  for (const char* key : {"apiVersion", "kind"}) {
    if (std::string v = StringField(object, key); !v.empty()) ref[key] = v;
  }
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return ref;
  for (const char* key : {"name", "namespace", "uid", "resourceVersion"}) {
    if (std::string v = StringField(*meta, key); !v.empty()) ref[key] = v;
  }
  return ref;
}

EventRecorder::EventRecorder(std::shared_ptr<Client> client, EventRecorderOptions options,
                             const Clock& clock)
    : client_(std::move(client)), options_(std::move(options)), clock_(clock) {
  if (options_.instance.empty()) options_.instance = Hostname();
  if (options_.queue_capacity == 0) options_.queue_capacity = 1;
  if (options_.cache_size == 0) options_.cache_size = 1;
  writer_ = std::thread([this] { WriterLoop(); });
}

EventRecorder::~EventRecorder() {
  std::size_t left = 0;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    left = queue_.size();
  }
  work_cv_.notify_all();
  done_cv_.notify_all();
  writer_.join();
  if (left > 0) {
    log::Warn("event recorder: dropping queued events at shutdown",
              {{"component", options_.component}, {"events", static_cast<unsigned long>(left)}});
  }
}

void EventRecorder::Record(const nlohmann::json& involved_object, EventType type,
                           std::string reason, std::string message) {
  Pending event{.reference = ObjectReference(involved_object),
                .ns = "",
                .type = type,
                .reason = std::move(reason),
                .message = std::move(message),
                .at = clock_.Now(),
                .mono = clock_.Monotonic()};
  event.ns = StringField(event.reference, "namespace");
  if (event.ns.empty()) event.ns = "default";  // cluster-scoped objects: client-go's choice
  TruncateUtf8(event.message, kMaxMessageBytes);
  const std::string object_name = StringField(event.reference, "name");
  std::lock_guard lock(mu_);
  if (object_name.empty() || stopping_ || queue_.size() >= options_.queue_capacity) {
    std::uint64_t dropped = ++stats_.dropped;
    if (dropped == 1 || dropped % 100 == 0) {  // a flood must not flood the log too
      log::Warn("event recorder: event dropped",
                {{"component", options_.component},
                 {"reason", event.reason},
                 {"object", event.ns + "/" + object_name},
                 {"why", object_name.empty() ? "the object has no name" : "the queue is full"},
                 {"dropped_total", static_cast<unsigned long long>(dropped)}});
    }
    return;
  }
  queue_.push_back(std::move(event));
  ++enqueued_;
  work_cv_.notify_one();
}

void EventRecorder::Flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = enqueued_;
  done_cv_.wait(lock, [&] { return finished_ >= target || stopping_; });
}

EventRecorderStats EventRecorder::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void EventRecorder::WriterLoop() {
  for (;;) {
    Pending event;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    Write(event);
    {
      std::lock_guard lock(mu_);
      ++finished_;
    }
    done_cv_.notify_all();
  }
}

std::string EventRecorder::EventName(const std::string& object_name, Clock::WallTime at) {
  long long nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
  if (nanos <= last_name_nanos_) nanos = last_name_nanos_ + 1;  // unique even on a still clock
  last_name_nanos_ = nanos;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(nanos));
  return object_name + "." + hex;
}

void EventRecorder::Remember(Seen seen) {
  if (auto it = index_.find(seen.key); it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(std::move(seen));
  index_[lru_.front().key] = lru_.begin();
  while (lru_.size() > options_.cache_size) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void EventRecorder::Write(const Pending& event) {
  // The identity of an event for aggregation: everything but its time.
  const std::string key =
      nlohmann::json::array(
          {event.reference.value("apiVersion", ""), event.reference.value("kind", ""), event.ns,
           event.reference.value("name", ""), event.reference.value("uid", ""),
           EventTypeName(event.type), event.reason, event.message, options_.component})
          .dump();
  if (auto it = index_.find(key); it != index_.end()) {
    Seen seen = *it->second;
    lru_.erase(it->second);
    index_.erase(it);
    if (event.mono - seen.last <= options_.aggregation_window) {
      Api events(client_, resources::kEvents, seen.ns);
      nlohmann::json patch = {{"count", seen.count + 1},
                              {"lastTimestamp", FormatRfc3339(event.at)}};
      auto patched = events.Patch(seen.name, PatchType::kMerge, patch);
      if (patched.ok()) {
        auto count = patched->find("count");
        seen.count = count != patched->end() && count->is_number_integer() ? count->get<long long>()
                                                                           : seen.count + 1;
        seen.last = event.mono;
        Remember(std::move(seen));
        std::lock_guard lock(mu_);
        ++stats_.aggregated;
        return;
      }
      if (!patched.status().IsNotFound()) {
        log::Warn("event recorder: updating an event failed",
                  {{"event", seen.ns + "/" + seen.name},
                   {"reason", event.reason},
                   {"error", patched.status().ToString()}});
        std::lock_guard lock(mu_);
        ++stats_.failed;
        return;
      }
      // The Event expired on the server: start a new one.
    }
  }
  if (!Create(event, key)) {
    std::lock_guard lock(mu_);
    ++stats_.failed;
  }
}

bool EventRecorder::Create(const Pending& event, const std::string& key) {
  const std::string object_name = event.reference.value("name", "");
  const std::string name = EventName(object_name, event.at);
  const std::string now = FormatRfc3339(event.at);
  nlohmann::json body = {
      {"apiVersion", resources::kEvents.ApiVersion()},
      {"kind", resources::kEvents.kind},
      {"metadata", {{"name", name}, {"namespace", event.ns}}},
      {"involvedObject", event.reference},
      {"reason", event.reason},
      {"message", event.message},
      {"type", EventTypeName(event.type)},
      {"source", {{"component", options_.component}, {"host", options_.instance}}},
      {"reportingComponent", options_.component},
      {"reportingInstance", options_.instance},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1}};
  Api events(client_, resources::kEvents, event.ns);
  auto created = events.Create(body);
  if (!created.ok()) {
    log::Warn("event recorder: creating an event failed", {{"event", event.ns + "/" + name},
                                                           {"reason", event.reason},
                                                           {"error", created.status().ToString()}});
    return false;
  }
  Remember({.key = key, .ns = event.ns, .name = name, .count = 1, .last = event.mono});
  std::lock_guard lock(mu_);
  ++stats_.created;
  return true;
}

}  // namespace aidi::kube
