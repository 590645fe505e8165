// WatchEvent: one line of a watch stream ({"type":"ADDED","object":{...}}), parsed.
//
// ERROR events carry a metav1.Status as their object; `status` holds it mapped to a named code
// (a 410 Expired there means "relist"). Pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };
std::string_view WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object;  // the object (for ERROR: the Status body)
  Status error;           // ERROR only: the Status body as a named code
  // metadata.resourceVersion of the object ("" for ERROR events).
  std::string ResourceVersion() const;
};

// Parses one event line. A malformed line is kInvalidArgument naming what is wrong.
StatusOr<WatchEvent> ParseWatchEvent(std::string_view line);

}  // namespace aidi::kube
