// Store: devcluster's versioned object store, the single source of truth for every resource.
//
// Objects live per storage key ("group/resource") in a sorted map keyed by namespace/name, as
// compact JSON strings plus the few fields selectors need, so a stored object costs little more
// than its JSON and a list or watch event is served without re-encoding. One resourceVersion
// counter increases across all resources. Every change is made by Mutate(), which runs the
// caller's decision function under the store's write lock (so read-modify-write and
// optimistic-concurrency checks are atomic), assigns the next resourceVersion, makes the change
// durable through the WAL (when one is attached) before anyone can see it, and publishes a
// watch event. A change that leaves the object byte-identical is a no-op: same
// resourceVersion, no event.
//
// Watch history is bounded per storage key (`history_limit` events). A watch from a
// resourceVersion older than what the history still holds gets Expired (410).
//
// Thread safety: every method may be called from any thread. Readers take a shared lock;
// writers are serialised. Watchers receive events through their own queue, in order.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "kube/core/api_status.h"
#include "kube/core/selectors.h"

namespace aidi::devcluster {

class Wal;

// One stored object. Immutable once published: shared by the map, lists, history and watchers.
struct StoredObject {
  std::string storage_key;
  std::string ns;
  std::string name;
  std::uint64_t rv = 0;
  std::string json;  // compact JSON including metadata.resourceVersion
  kube::Labels labels;
  std::string uid;
  std::vector<std::string> owner_uids;
  bool deleting = false;  // metadata.deletionTimestamp is set
  // Values of the resource's selectable fields (e.g. "spec.nodeName"), captured at write time.
  std::map<std::string, std::string, std::less<>> fields;

  nlohmann::json Parse() const { return nlohmann::json::parse(json); }
};
using ObjectPtr = std::shared_ptr<const StoredObject>;

enum class EventType { kAdded, kModified, kDeleted };
std::string_view EventTypeName(EventType t);

struct WatchEvent {
  EventType type;
  std::uint64_t rv;
  ObjectPtr object;  // for kDeleted: the last state, with the deletion's resourceVersion
  ObjectPtr prev;    // for kModified/kDeleted: the state before (selector transitions)
};

// What a Mutate() decision function wants done.
struct Mutation {
  enum class Kind { kPut, kDelete, kNoop };
  Kind kind = Kind::kNoop;
  nlohmann::json object;  // for kPut: the new object (metadata.resourceVersion is set by the store)
  // Selectable field names to capture for this resource (from its ResourceType).
  const std::vector<std::string>* selectable_fields = nullptr;
};
using MutateFn = std::function<std::variant<kube::ApiError, Mutation>(const ObjectPtr& current)>;

// A registered watch: the store pushes events; the owner pops them.
class Watcher {
 public:
  // Waits up to `timeout` for events; returns them (possibly none). Closed() after Close() or
  // when the store dropped this watcher (overflow, fault injection, shutdown).
  std::vector<WatchEvent> Wait(std::chrono::milliseconds timeout);
  bool Closed() const;
  void Close();
  // The resourceVersion up to which this watcher has been given every event of its key.
  std::uint64_t SyncedRv() const;

 private:
  friend class Store;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchEvent> pending_;
  std::uint64_t synced_rv_ = 0;
  bool closed_ = false;
  std::string storage_key_;
};
using WatcherPtr = std::shared_ptr<Watcher>;

class Store {
 public:
  explicit Store(std::size_t history_limit);
  ~Store();

  // Attaches durability; every later acknowledged change is written to `wal` first.
  void AttachWal(Wal* wal) { wal_ = wal; }
  // Loads a recovered object (startup only, before serving). Keeps its resourceVersion.
  void Restore(ObjectPtr object);
  // After Restore: the next resourceVersion continues above `rv`; history starts empty.
  void FinishRestore(std::uint64_t rv);

  std::uint64_t CurrentRv() const;

  ObjectPtr Get(const std::string& storage_key, const std::string& ns,
                const std::string& name) const;

  struct ListResult {
    std::vector<ObjectPtr> items;  // sorted by namespace, then name
    std::uint64_t rv = 0;          // the store's resourceVersion when listed
  };
  // `ns` empty lists every namespace.
  ListResult List(const std::string& storage_key, const std::string& ns) const;
  // Every object of every storage key (for snapshots and garbage collection).
  std::vector<ObjectPtr> All() const;
  // Objects with an ownerReference to `uid`.
  std::vector<ObjectPtr> Dependents(const std::string& owner_uid) const;
  bool UidExists(const std::string& uid) const;
  std::size_t Count() const;

  // Runs `fn` on the current object (null if absent) under the write lock and applies its
  // decision. Returns the stored object after the change (for kDelete: the final state; for
  // kNoop: the current one), or the decision's ApiError.
  std::variant<kube::ApiError, ObjectPtr> Mutate(const std::string& storage_key,
                                                 const std::string& ns, const std::string& name,
                                                 const MutateFn& fn);

  // Starts a watch on `storage_key`. from_rv == 0 means "now": `initial` (current objects) are
  // delivered first as kAdded. from_rv > 0 replays history after from_rv, or Expired when the
  // history no longer reaches back that far.
  std::variant<kube::ApiError, WatcherPtr> Watch(const std::string& storage_key,
                                                 std::uint64_t from_rv, bool send_initial);
  void Unwatch(const WatcherPtr& w);
  // The resourceVersion a BOOKMARK may promise to `w`: the store's current one when `w` has no
  // undelivered events (every change of its key up to it was handed over), else 0.
  std::uint64_t BookmarkRv(const WatcherPtr& w) const;

  // Whether a continue token or watch at `rv` can still be served for `storage_key`.
  bool RvCompacted(const std::string& storage_key, std::uint64_t rv) const;
  std::uint64_t CompactedRv(const std::string& storage_key) const;

  // Faults and shutdown.
  void DropAllWatchers();
  void CompactHistory();  // forget all history: older watches and continue tokens get 410
  std::size_t WatcherCount() const;

  // Called (outside the lock) after every committed change; used by the garbage collector.
  void SetChangeListener(std::function<void(const WatchEvent&)> listener);

 private:
  struct Table {
    std::map<std::pair<std::string, std::string>, ObjectPtr> objects;
    std::deque<WatchEvent> history;
    std::uint64_t compacted_rv = 0;  // watches from below this rv get 410
    std::vector<WatcherPtr> watchers;
  };
  Table& TableFor(const std::string& key);  // requires write lock
  void Publish(Table& t, const WatchEvent& ev);
  void IndexOwners(const ObjectPtr& old_obj, const ObjectPtr& new_obj);

  const std::size_t history_limit_;
  mutable std::shared_mutex mu_;
  std::map<std::string, Table> tables_;
  std::multimap<std::string, std::pair<std::string, std::pair<std::string, std::string>>> owners_;
  std::set<std::string> uids_;
  std::uint64_t rv_ = 1;
  std::uint64_t startup_rv_ = 1;
  Wal* wal_ = nullptr;
  std::function<void(const WatchEvent&)> listener_;
};

// Builds a StoredObject from a JSON object (labels, uid, owners, selectable fields).
ObjectPtr MakeStoredObject(const std::string& storage_key, nlohmann::json object, std::uint64_t rv,
                           const std::vector<std::string>* selectable_fields);

}  // namespace aidi::devcluster
