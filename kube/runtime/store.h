// Store: the controller runtime's cache (an informer store) of one resource, fed by a Watcher.
//
// Purpose: controllers read objects from memory instead of asking the API server, look up the
// objects an owner owns or a label value groups (secondary indexes), learn what changed
// (subscriptions), and wait for the first complete list before acting (synced). What it holds
// may lag the server: an object read here can already have changed or gone there, so a
// reconciler treats a cached object as a hint and writes with resourceVersion preconditions.
//
// Ownership and threads: one writer, many readers. Exactly one thread, the watcher's (the one
// running Watcher::Run with Apply as its sink), calls Apply(); it owns the store's contents.
// Every other method may be called from any number of threads at once: readers share a
// std::shared_mutex, hold it only to find and copy out refcounted pointers, and decode after
// letting go of it. Subscribers are called on the writer thread, after the store has changed,
// never under the lock. The store must outlive the watcher feeding it and every reader.
//
// Memory: objects are first cut down by a Projection (projection.h; managedFields and the
// last-applied annotation always go), then kept encoded, not as nlohmann::json (a tree of maps
// and strings that costs several times the JSON text). The encoding is a compact binary form of
// JSON whose field names come from a dictionary the store shares between its objects, so
// "lastTransitionTime" costs one byte per use; the key ("ns/name") lives in the same
// allocation. Measured by bench/kube/cache_bench.cc (10,000 generated pods of ~4.5 KB JSON,
// malloc's own count): a pod projected to labels, ownerReferences, spec.nodeName, status.phase
// and status.conditions costs ~660 bytes with an owner-uid index (~430 of them the encoded
// object; CBOR or MessagePack would take ~800), the whole pod ~1.85 KB; held as nlohmann::json
// the projected pod costs ~6.7 KB and the full pod ~29 KB. The price is a decode per read, on
// one 2.1 GHz core: Get() of such a projected pod takes ~4 us, of a whole pod ~10 us; List() of
// 10,000 projected pods ~0.3 s, most of it building (and later freeing) 10,000 json trees.
// Readers that only need keys use Keys() and KeysByIndex(), which decode nothing; a reconciler
// that reads one object per key uses Get().
//
// A relist (kInit, kInitApply..., kInitDone) is built aside and swapped in at kInitDone under the
// lock: readers see the old contents until then, never a half-built or empty store; memory
// peaks at the two copies meanwhile.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/core/resource.h"
#include "kube/runtime/projection.h"
#include "kube/runtime/watcher_event.h"

namespace aidi::kube {

// An index maps a projected object to the values it is filed under (none, one or several).
// Called on the writer thread only; must be a pure function of the object.
using Indexer = std::function<std::vector<std::string>(const nlohmann::json& projected)>;

// Index name for IndexByOwnerUid().
inline constexpr std::string_view kIndexOwnerUid = "ownerUid";
// Index name for IndexByLabel(key), by convention: "label:" + key.
std::string LabelIndexName(std::string_view label_key);

// Files an object under the uid of every metadata.ownerReferences entry.
Indexer IndexByOwnerUid();
// Files an object under the value of its label `key` (not at all when it lacks the label).
Indexer IndexByLabel(std::string key);

struct StoreOptions {
  Projection projection;  // default: the whole object
  // Index name -> indexer. Names are what ByIndex() and KeysByIndex() take.
  std::map<std::string, Indexer, std::less<>> indexers;
};

// What a subscriber learns after each change the store makes.
struct StoreChange {
  enum class Type { kApplied, kDeleted };
  Type type = Type::kApplied;
  ObjectKey key;
  // kApplied: the (projected) object now cached. kDeleted: its last known state: the object the
  // watch's DELETED event carried, or, for a delete a relist found, what the cache held.
  nlohmann::json object;
  // What the cache held for `key` before this change (projected); nullopt when it held nothing
  // (an added object, or a delete of an object the cache never saw). For an owned object, the
  // old and new ownerReferences together say which owners to requeue.
  std::optional<nlohmann::json> old_object;
  // kDeleted only: true when a relist found the object gone, false for a watch event.
  bool synthesized = false;
};

class Store {
 public:
  using Listener = std::function<void(const StoreChange&)>;
  using SubscriptionId = std::uint64_t;

  explicit Store(StoreOptions options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // ---- Writer side: the watcher thread only. ----

  // Applies one event of the watcher protocol (watcher_event.h):
  //   kInit        starts buffering a (re)list; readers keep seeing the current contents.
  //   kInitApply   adds the object to the buffer (projected and encoded right away). A kInitApply
  //                with no kInit before it starts the buffer.
  //   kInitDone    swaps the buffer in atomically, marks the store synced (the first time), and
  //                tells subscribers about every object added, changed (bytes differ) or gone;
  //                objects that did not change are not announced. Without a kInit before it,
  //                it is ignored.
  //   kApply       inserts or replaces the object, and tells subscribers (unless the projected
  //                object is byte-for-byte what the cache holds).
  //   kDelete      removes the object and tells subscribers.
  // Objects without metadata.name are dropped (the API server never sends one).
  void Apply(WatcherEvent&& event);

  // ---- Reader side: any thread. ----

  // The cached (projected) object, decoded; nullopt when not cached.
  std::optional<nlohmann::json> Get(const ObjectKey& key) const;
  bool Contains(const ObjectKey& key) const;
  // Every cached object, ordered by key ("ns/name").
  std::vector<nlohmann::json> List() const;
  // Every cached key, ordered; decodes nothing.
  std::vector<ObjectKey> Keys() const;
  // The objects filed under `value` in index `index_name`, ordered by key. Asking for an index
  // that StoreOptions did not declare is a programming error: it aborts.
  std::vector<nlohmann::json> ByIndex(std::string_view index_name, std::string_view value) const;
  // The same as keys, decoding nothing.
  std::vector<ObjectKey> KeysByIndex(std::string_view index_name, std::string_view value) const;

  std::size_t size() const;
  // An estimate of the memory the cached objects and indexes take (encoded objects plus fixed
  // per-object and per-index-entry overheads); cheap.
  std::size_t ApproxBytes() const;
  // The bytes of the encoded objects alone, their keys included.
  std::size_t EncodedBytes() const;

  // True once the first complete list has been swapped in; never false again.
  bool synced() const { return synced_.load(std::memory_order_acquire); }
  // Blocks until synced (true), `timeout` passes (false) or `stop` (checked every ~20 ms)
  // returns true (false).
  bool WaitSynced(std::chrono::milliseconds timeout, const std::function<bool()>& stop = {}) const;

  // Calls `listener` on the writer thread after every change, never under the store's lock.
  // It must not call Apply(); reading the store from it is fine. Callable from any thread; a
  // change being applied while Subscribe() runs may or may not reach the new listener.
  SubscriptionId Subscribe(Listener listener);
  // Changes applied after this returns do not reach the listener. One the writer was applying
  // meanwhile still may (it takes its list of listeners when an event begins), so whatever the
  // listener captures must live until the writer has stopped or moved on to its next event.
  void Unsubscribe(SubscriptionId id);

  const Projection& projection() const { return projection_; }

  class KeyDictionary;  // field-name dictionary of the encoding; defined in store.cc
  struct Table;         // the objects and their indexes; defined in store.cc

 private:
  struct Slot;
  using Listeners = std::vector<std::shared_ptr<const Listener>>;

  Listeners SnapshotListeners() const;
  void Notify(const Listeners& listeners, const StoreChange& change) const;
  std::optional<Slot> Encode(nlohmann::json&& object, nlohmann::json* projected);
  nlohmann::json Decode(const Slot& slot) const;
  std::vector<std::vector<std::string>> IndexValuesOf(const nlohmann::json& projected) const;
  void Upsert(nlohmann::json&& object);
  void Remove(nlohmann::json&& object);
  void BufferForRelist(nlohmann::json&& object);
  void FinishRelist();
  std::vector<Slot> SlotsByIndex(std::string_view index_name, std::string_view value) const;
  std::vector<Slot> SortedSlots() const;

  const Projection projection_;
  std::vector<std::pair<std::string, Indexer>> indexers_;  // table indexes are parallel to it
  std::unique_ptr<KeyDictionary> dictionary_;

  mutable std::shared_mutex mu_;  // readers shared; Apply() exclusive while it changes table_
  std::unique_ptr<Table> table_;  // written under mu_ (exclusive) by the writer only

  std::unique_ptr<Table> relist_;  // writer only: the list being buffered, or null
  std::string scratch_;            // writer only: encoding buffer

  std::atomic<bool> synced_{false};
  mutable std::mutex sync_mu_;
  mutable std::condition_variable sync_cv_;

  mutable std::mutex listeners_mu_;
  std::vector<std::pair<SubscriptionId, std::shared_ptr<const Listener>>> listeners_;
  SubscriptionId next_subscription_ = 1;
};

}  // namespace aidi::kube
