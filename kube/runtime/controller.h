// Controller: the loop that turns changes into reconciles, as kube-rs's Controller and
// controller-runtime's do.
//
//   Controller pods(client, resources::kConfigMaps, {.name = "cm-sync", .concurrency = 2});
//   pods.Owns(resources::kPods, {});
//   pods.Run([&](const ObjectKey& key, const std::optional<nlohmann::json>& cm) -> StatusOr<Action>
//   {
//     if (!cm) return Action::AwaitChange();        // deleted: nothing to do
//     ...                                           // make the world match *cm
//     return Action::RequeueAfter(std::chrono::minutes(5));
//   });
//
// Flow: one Watcher + Store per watched resource (the primary kind, each owned kind, each mapped
// kind); every change enqueues keys of the primary kind into one WorkQueue: the object's own key,
// the controller owner's key of an owned object (old and new owners alike), or what a mapper
// returns. Workers start once every cache has synced; each takes a key, reads the primary object
// from the cache (nullopt when it is gone) and calls the reconciler. The reconciler returns an
// Action: RequeueAfter(d) (the key comes back after d) or AwaitChange() (only a change brings it
// back). An error goes to the error policy, which returns an Action; without one, the key is
// requeued with per-key exponential backoff (5 ms doubling to 1000 s) under a global 10 qps
// bucket. A key is never reconciled by two workers at once, and keys added while it runs are
// merged into one more reconcile afterwards.
//
// Caveats: the cache may lag the server; reconcilers must be idempotent and write with
// resourceVersion preconditions (a Conflict is just an error that retries). Deleted objects
// reach the reconciler as nullopt once; cleanup that must happen belongs in a finalizer
// (finalizer.h).
//
// Thread safety: configure (Owns/Watches) before Run(); Run() blocks its thread; Stop(),
// Enqueue(), synced() and the store accessors may be called from any thread. The reconciler
// runs on `concurrency` worker threads at once (for different keys).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "kube/client/client.h"
#include "kube/core/resource.h"
#include "kube/runtime/metrics.h"
#include "kube/runtime/projection.h"
#include "kube/runtime/store.h"
#include "kube/runtime/watcher.h"
#include "kube/runtime/work_queue.h"

namespace aidi::kube {

// What a reconcile asks for next.
class Action {
 public:
  static Action RequeueAfter(std::chrono::milliseconds after) { return Action(after); }
  static Action AwaitChange() { return Action(std::nullopt); }
  const std::optional<std::chrono::milliseconds>& requeue_after() const { return after_; }
  friend bool operator==(const Action&, const Action&) = default;

 private:
  explicit Action(std::optional<std::chrono::milliseconds> after) : after_(after) {}
  std::optional<std::chrono::milliseconds> after_;
};

struct WatchOptions {
  std::string ns;  // "" = all namespaces (or the resource is cluster-scoped)
  std::string label_selector;
  std::string field_selector;
  Projection projection;  // default: the whole object
  std::map<std::string, Indexer, std::less<>> indexers;
};

struct ControllerOptions {
  std::string name = "controller";  // in logs and metrics
  WatchOptions watch;               // the primary resource's watch and cache
  int concurrency = 1;
  WatcherOptions watcher;  // paging, timeouts, backoff (its selectors come from WatchOptions)
  WorkQueueOptions queue;
  Metrics* metrics = nullptr;  // optional; must outlive Run()
};

// The keys of the primary kind that own `child` as its controller (ownerReferences with
// controller: true whose apiVersion and kind are the primary's). Namespaced primaries share the
// child's namespace, as owner references require.
std::vector<ObjectKey> ControllerOwnerKeys(const nlohmann::json& child, const ResourceRef& primary);

class Controller {
 public:
  using Reconciler = std::function<StatusOr<Action>(const ObjectKey& key,
                                                    const std::optional<nlohmann::json>& object)>;
  using ErrorPolicy = std::function<Action(const ObjectKey& key, const Status& error)>;
  using Mapper = std::function<std::vector<ObjectKey>(const nlohmann::json& object)>;

  // `client` is shared; `clock` must outlive the controller.
  Controller(std::shared_ptr<Client> client, ResourceRef primary, ControllerOptions options,
             const Clock& clock = Clock::Real());
  ~Controller();  // stops and joins
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Watches `child` and reconciles its controller owner whenever it changes.
  Controller& Owns(ResourceRef child, WatchOptions options = {});
  // Watches `other` and reconciles whatever `mapper` says a changed object concerns (called with
  // the new object, and with the old one when it differs).
  Controller& Watches(ResourceRef other, Mapper mapper, WatchOptions options = {});

  // Runs until Stop(). Returns once watchers have stopped and in-flight reconciles finished.
  void Run(Reconciler reconcile, ErrorPolicy on_error = nullptr);
  // Asks Run() to return; in-flight reconciles complete, queued keys are dropped. Idempotent.
  void Stop();

  // Reconciles `key` (again) soon.
  void Enqueue(const ObjectKey& key);
  // True once every cache has its first complete list.
  bool synced() const;
  // The primary resource's cache, and those of owned or mapped resources (null if not watched).
  const Store& store() const;
  const Store* StoreOf(const ResourceRef& resource) const;
  WorkQueueStats queue_stats() { return queue_.Stats(); }
  const std::string& name() const { return options_.name; }

 private:
  struct Source;  // one watched resource: its watcher, store and how it maps to keys

  Source& AddSource(ResourceRef resource, WatchOptions options);
  void Worker(const Reconciler& reconcile, const ErrorPolicy& on_error);
  void ReconcileOne(const std::string& key, const Reconciler& reconcile,
                    const ErrorPolicy& on_error);
  void RegisterMetrics();

  std::shared_ptr<Client> client_;
  ResourceRef primary_;
  ControllerOptions options_;
  const Clock& clock_;
  WorkQueue queue_;
  std::vector<std::unique_ptr<Source>> sources_;  // [0] is the primary
  std::mutex mu_;
  bool stopping_ = false;
  int metrics_sampler_ = 0;
};

}  // namespace aidi::kube
