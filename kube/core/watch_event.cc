#include "kube/core/watch_event.h"

#include "kube/core/api_status.h"

namespace aidi::kube {

std::string_view WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "ERROR";  // unreachable: the switch covers every enumerator
}

std::string WatchEvent::ResourceVersion() const {
  if (type == WatchEventType::kError) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto rv = meta->find("resourceVersion");
  return rv != meta->end() && rv->is_string() ? rv->get<std::string>() : "";
}

StatusOr<WatchEvent> ParseWatchEvent(std::string_view line) {
  nlohmann::json doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument("watch event is not a JSON object");
  }
  auto type = doc.find("type");
  auto object = doc.find("object");
  if (type == doc.end() || !type->is_string()) {
    return Status::InvalidArgument("watch event has no string \"type\"");
  }
  if (object == doc.end() || !object->is_object()) {
    return Status::InvalidArgument("watch event has no object \"object\"");
  }
  WatchEvent event;
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (t == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (t == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (t == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (t == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    return Status::InvalidArgument("watch event has unknown type \"" + t + "\"");
  }
  event.object = std::move(*object);
  if (event.type == WatchEventType::kError) {
    // value("code", 500) would throw on a non-numeric code: the line comes off the network.
    auto c = event.object.find("code");
    int code = c != event.object.end() && c->is_number_integer() ? c->get<int>() : 500;
    event.error = StatusFromResponse(code >= 400 ? code : 500, event.object.dump());
  }
  return event;
}

}  // namespace aidi::kube
