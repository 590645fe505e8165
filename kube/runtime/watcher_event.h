// WatcherEvent: what a Watcher (watcher.h) reports and a Store (store.h) consumes.
//
//   kInit, kInitApply*, kInitDone   a (re)list: the complete set of objects, in pages
//   kApply                          an object was added or changed
//   kDelete                         an object was deleted
// A consumer that buffers kInitApply objects and swaps them in at kInitDone also learns of
// deletes that happened while nobody was watching (kube-rs's watcher::Event). Plain value.
#pragma once

#include <nlohmann/json.hpp>

namespace aidi::kube {

struct WatcherEvent {
  enum class Type { kInit, kInitApply, kInitDone, kApply, kDelete };
  Type type = Type::kApply;
  nlohmann::json object;  // kInitApply, kApply, kDelete
};

}  // namespace aidi::kube
