#include "kube/runtime/watcher.h"

#include "base/log.h"
#include "kube/runtime/backoff.h"

namespace aidi::kube {
namespace {

// List items come without apiVersion and kind; objects in the cache carry them.
void FillTypeMeta(nlohmann::json& object, const ResourceRef& resource) {
  if (!object.is_object()) return;
  if (!object.contains("apiVersion")) object["apiVersion"] = resource.ApiVersion();
  if (!object.contains("kind")) object["kind"] = resource.kind;
}

std::string ListResourceVersion(const nlohmann::json& list) {
  auto meta = list.find("metadata");
  if (meta == list.end() || !meta->is_object()) return "";
  return meta->value("resourceVersion", "");
}

std::string ContinueToken(const nlohmann::json& list) {
  auto meta = list.find("metadata");
  if (meta == list.end() || !meta->is_object()) return "";
  return meta->value("continue", "");
}

}  // namespace

Watcher::Watcher(Api api, WatcherOptions options, const Clock& clock)
    : api_(std::move(api)), options_(std::move(options)), clock_(clock) {}

Watcher::~Watcher() { Stop(); }

void Watcher::Stop() {
  std::shared_ptr<WatchStream> stream;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    stream = current_;
  }
  if (stream) stream->Cancel();
  cv_.notify_all();
}

bool Watcher::Stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool Watcher::SleepUnlessStopped(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_; });
}

Status Watcher::List(const Sink& sink, std::string* resource_version) {
  sink(WatcherEvent{WatcherEvent::Type::kInit, {}});
  ListParams params;
  params.label_selector = options_.label_selector;
  params.field_selector = options_.field_selector;
  params.limit = options_.page_size;
  std::size_t count = 0;
  for (;;) {
    if (Stopping()) return Status::Cancelled("watcher stopped");
    AIDI_ASSIGN_OR_RETURN(nlohmann::json page, api_.List(params));
    auto items = page.find("items");
    if (items != page.end() && items->is_array()) {
      for (auto& item : *items) {
        FillTypeMeta(item, api_.resource());
        sink(WatcherEvent{WatcherEvent::Type::kInitApply, std::move(item)});
        ++count;
      }
    }
    *resource_version = ListResourceVersion(page);
    params.continue_token = ContinueToken(page);
    if (params.continue_token.empty()) break;
  }
  // Counted before InitDone goes out, so that whoever sees the store synced sees the list too.
  stats_.lists++;
  sink(WatcherEvent{WatcherEvent::Type::kInitDone, {}});
  log::Info("listed", {{"resource", api_.resource().GroupResource()},
                       {"namespace", api_.ns().empty() ? "*" : api_.ns()},
                       {"objects", static_cast<unsigned long long>(count)},
                       {"resourceVersion", *resource_version}});
  return Status::Ok();
}

void Watcher::Run(const Sink& sink) {
  Backoff backoff(options_.backoff, clock_);
  const std::string resource = api_.resource().GroupResource();

  std::string rv;
  bool need_list = true;
  bool resuming = false;  // the next watch continues from an earlier watch's resourceVersion
  while (!Stopping()) {
    if (need_list) {
      Status listed = List(sink, &rv);
      if (listed.code() == StatusCode::kCancelled && Stopping()) break;
      if (!listed.ok()) {
        stats_.errors++;
        auto delay = backoff.Next();
        log::Warn("list failed; retrying", {{"resource", resource},
                                            {"error", listed.ToString()},
                                            {"retry_ms", static_cast<long long>(delay.count())}});
        SleepUnlessStopped(delay);
        continue;
      }
      need_list = false;
      resuming = false;
    }

    WatchParams params;
    params.label_selector = options_.label_selector;
    params.field_selector = options_.field_selector;
    params.resource_version = rv;
    params.timeout_seconds = options_.watch_timeout_seconds;
    params.allow_bookmarks = true;
    auto opened = api_.Watch(params);
    if (!opened.ok()) {
      if (opened.status().IsExpired()) {
        stats_.expired++;
        log::Info("resourceVersion expired; relisting",
                  {{"resource", resource}, {"resourceVersion", rv}});
        need_list = true;
        continue;
      }
      stats_.errors++;
      auto delay = backoff.Next();
      log::Warn("watch failed; retrying", {{"resource", resource},
                                           {"error", opened.status().ToString()},
                                           {"retry_ms", static_cast<long long>(delay.count())}});
      SleepUnlessStopped(delay);
      continue;
    }
    std::shared_ptr<WatchStream> stream = std::move(opened).value();
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      current_ = stream;
    }
    if (resuming) {
      stats_.resumes++;
      log::Info("watch resumed", {{"resource", resource}, {"resourceVersion", rv}});
    }
    stats_.watch_starts++;  // after resumes: readers that saw this start see its resume too
    resuming = true;

    for (;;) {
      auto next = stream->Next();
      if (!next.ok()) {
        if (Stopping()) break;
        stats_.errors++;
        auto delay = backoff.Next();
        log::Warn("watch stream broken; resuming",
                  {{"resource", resource},
                   {"resourceVersion", rv},
                   {"error", next.status().ToString()},
                   {"retry_ms", static_cast<long long>(delay.count())}});
        SleepUnlessStopped(delay);
        break;
      }
      if (!next->has_value()) break;  // the server ended the watch (timeoutSeconds): go on
      WatchEvent& event = **next;
      if (event.type == WatchEventType::kError) {
        if (event.error.IsExpired()) {
          stats_.expired++;
          log::Info("watch expired in stream; relisting",
                    {{"resource", resource}, {"resourceVersion", rv}});
          need_list = true;
        } else {
          stats_.errors++;
          auto delay = backoff.Next();
          log::Warn("watch error event", {{"resource", resource},
                                          {"error", event.error.ToString()},
                                          {"retry_ms", static_cast<long long>(delay.count())}});
          SleepUnlessStopped(delay);
        }
        break;
      }
      std::string event_rv = event.ResourceVersion();
      if (!event_rv.empty()) rv = event_rv;
      switch (event.type) {
        case WatchEventType::kAdded:
        case WatchEventType::kModified:
          FillTypeMeta(event.object, api_.resource());
          sink(WatcherEvent{WatcherEvent::Type::kApply, std::move(event.object)});
          break;
        case WatchEventType::kDeleted:
          FillTypeMeta(event.object, api_.resource());
          sink(WatcherEvent{WatcherEvent::Type::kDelete, std::move(event.object)});
          break;
        case WatchEventType::kBookmark:
        case WatchEventType::kError:
          break;
      }
    }
    std::lock_guard lock(mu_);
    current_.reset();
  }
}

}  // namespace aidi::kube
