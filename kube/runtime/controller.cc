#include "kube/runtime/controller.h"

#include <thread>

#include "base/log.h"
#include "kube/client/api.h"

namespace aidi::kube {

struct Controller::Source {
  ResourceRef resource;
  std::unique_ptr<Store> store;
  std::unique_ptr<Watcher> watcher;
  Store::SubscriptionId subscription = 0;
};

std::vector<ObjectKey> ControllerOwnerKeys(const nlohmann::json& child,
                                           const ResourceRef& primary) {
  std::vector<ObjectKey> keys;
  auto meta = child.find("metadata");
  if (meta == child.end() || !meta->is_object()) return keys;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return keys;
  std::string ns = primary.namespaced ? meta->value("namespace", "") : "";
  for (const auto& ref : *refs) {
    if (!ref.is_object() || !ref.value("controller", false)) continue;
    if (ref.value("kind", "") != primary.kind) continue;
    // The version may differ (an owner written as v1beta1 is the same object in v1); the group
    // may not.
    std::string api_version = ref.value("apiVersion", "");
    auto slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    if (group != primary.group) continue;
    std::string name = ref.value("name", "");
    if (!name.empty()) keys.push_back({ns, name});
  }
  return keys;
}

Controller::Controller(std::shared_ptr<Client> client, ResourceRef primary,
                       ControllerOptions options, const Clock& clock)
    : client_(std::move(client)),
      primary_(std::move(primary)),
      options_(std::move(options)),
      clock_(clock),
      queue_(clock, options_.queue) {
  Source& source = AddSource(primary_, options_.watch);
  source.subscription = source.store->Subscribe(
      [this](const StoreChange& change) { queue_.Add(change.key.String()); });
}

Controller::~Controller() { Stop(); }

Controller::Source& Controller::AddSource(ResourceRef resource, WatchOptions options) {
  auto source = std::make_unique<Source>();
  source->resource = resource;
  StoreOptions store_options;
  store_options.projection = std::move(options.projection);
  store_options.indexers = std::move(options.indexers);
  source->store = std::make_unique<Store>(std::move(store_options));
  WatcherOptions watcher_options = options_.watcher;
  watcher_options.label_selector = options.label_selector;
  watcher_options.field_selector = options.field_selector;
  std::string ns = resource.namespaced ? options.ns : "";
  source->watcher = std::make_unique<Watcher>(Api(client_, resource, ns), watcher_options, clock_);
  sources_.push_back(std::move(source));
  return *sources_.back();
}

Controller& Controller::Owns(ResourceRef child, WatchOptions options) {
  Source& source = AddSource(std::move(child), std::move(options));
  source.subscription = source.store->Subscribe([this](const StoreChange& change) {
    std::vector<ObjectKey> keys = ControllerOwnerKeys(change.object, primary_);
    if (change.old_object) {
      for (auto& k : ControllerOwnerKeys(*change.old_object, primary_)) keys.push_back(k);
    }
    for (const auto& k : keys) queue_.Add(k.String());
  });
  return *this;
}

Controller& Controller::Watches(ResourceRef other, Mapper mapper, WatchOptions options) {
  Source& source = AddSource(std::move(other), std::move(options));
  source.subscription =
      source.store->Subscribe([this, mapper = std::move(mapper)](const StoreChange& change) {
        for (const auto& k : mapper(change.object)) queue_.Add(k.String());
        if (change.old_object && *change.old_object != change.object) {
          for (const auto& k : mapper(*change.old_object)) queue_.Add(k.String());
        }
      });
  return *this;
}

void Controller::RegisterMetrics() {
  if (options_.metrics == nullptr) return;
  metrics_sampler_ = options_.metrics->AddSampler([this](std::vector<Metrics::Sample>& out) {
    WorkQueueStats q = queue_.Stats();
    std::map<std::string, std::string> ql = {{"name", options_.name}};
    out.push_back({"aidi_workqueue_depth", "Keys waiting to be reconciled.", false, ql,
                   static_cast<double>(q.depth)});
    out.push_back({"aidi_workqueue_adds_total", "Keys added to the work queue.", true, ql,
                   static_cast<double>(q.adds)});
    out.push_back({"aidi_workqueue_retries_total", "Keys requeued after a failure.", true, ql,
                   static_cast<double>(q.retries)});
    for (const auto& source : sources_) {
      const WatcherStats& w = source->watcher->stats();
      std::map<std::string, std::string> wl = {{"resource", source->resource.GroupResource()},
                                               {"controller", options_.name}};
      out.push_back({"aidi_watch_starts_total", "Watch requests opened.", true, wl,
                     static_cast<double>(w.watch_starts.load())});
      out.push_back({"aidi_watch_resumes_total",
                     "Watches resumed from the last resourceVersion without a relist.", true, wl,
                     static_cast<double>(w.resumes.load())});
      out.push_back({"aidi_watch_lists_total", "Complete (re)lists.", true, wl,
                     static_cast<double>(w.lists.load())});
      out.push_back({"aidi_watch_expired_total", "410 Expired answers that forced a relist.", true,
                     wl, static_cast<double>(w.expired.load())});
      out.push_back({"aidi_watch_errors_total", "Failed list/watch requests and broken streams.",
                     true, wl, static_cast<double>(w.errors.load())});
      out.push_back({"aidi_cache_objects", "Objects in the cache.", false, wl,
                     static_cast<double>(source->store->size())});
    }
  });
}

void Controller::Run(Reconciler reconcile, ErrorPolicy on_error) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
  }
  RegisterMetrics();
  std::vector<std::thread> watchers;
  for (auto& source : sources_) {
    Source* s = source.get();
    watchers.emplace_back(
        [s] { s->watcher->Run([s](WatcherEvent&& e) { s->store->Apply(std::move(e)); }); });
  }
  log::Info("controller starting", {{"controller", options_.name},
                                    {"resource", primary_.GroupResource()},
                                    {"watches", static_cast<unsigned long>(sources_.size())},
                                    {"workers", options_.concurrency}});
  bool all_synced = true;
  for (auto& source : sources_) {
    bool synced = source->store->WaitSynced(std::chrono::hours(24 * 365), [this] {
      std::lock_guard lock(mu_);
      return stopping_;
    });
    all_synced = all_synced && synced;
  }
  std::vector<std::thread> workers;
  if (all_synced) {
    log::Info("caches synced", {{"controller", options_.name},
                                {"objects", static_cast<unsigned long>(store().size())}});
    for (int i = 0; i < std::max(1, options_.concurrency); ++i) {
      workers.emplace_back([&] { Worker(reconcile, on_error); });
    }
  }
  for (auto& w : workers) w.join();
  for (auto& source : sources_) source->watcher->Stop();
  for (auto& w : watchers) w.join();
  // Nothing reads the metrics after Run(), so they need only outlive Run(), not the controller.
  if (options_.metrics != nullptr && metrics_sampler_ != 0) {
    options_.metrics->RemoveSampler(metrics_sampler_);
    metrics_sampler_ = 0;
  }
  log::Info("controller stopped", {{"controller", options_.name}});
}

void Controller::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  // Workers finish the key in hand; queued keys are dropped (the next leader relists anyway).
  queue_.ShutDown();
  for (auto& source : sources_) source->watcher->Stop();
}

void Controller::Worker(const Reconciler& reconcile, const ErrorPolicy& on_error) {
  while (auto key = queue_.Get()) {
    ReconcileOne(*key, reconcile, on_error);
    queue_.Done(*key);
  }
}

void Controller::ReconcileOne(const std::string& key, const Reconciler& reconcile,
                              const ErrorPolicy& on_error) {
  ObjectKey object_key = ObjectKey::Parse(key);
  std::optional<nlohmann::json> object = store().Get(object_key);
  auto started = clock_.Monotonic();
  StatusOr<Action> result = reconcile(object_key, object);
  double seconds = std::chrono::duration<double>(clock_.Monotonic() - started).count();
  std::string outcome;
  if (result.ok()) {
    queue_.Forget(key);
    if (auto after = result->requeue_after()) {
      queue_.AddAfter(key, *after);
      outcome = "requeue";
    } else {
      outcome = "success";
    }
  } else {
    outcome = "error";
    std::optional<Action> action;
    if (on_error) action = on_error(object_key, result.status());
    std::chrono::nanoseconds delay;
    if (action && action->requeue_after()) {
      delay = *action->requeue_after();
      queue_.AddAfter(key, delay);
    } else if (action) {
      delay = std::chrono::nanoseconds(0);  // the policy said: wait for a change
    } else {
      delay = queue_.AddRateLimited(key);
    }
    log::Warn(
        "reconcile failed",
        {{"controller", options_.name},
         {"key", key},
         {"error", result.status().ToString()},
         {"retry_ms", static_cast<long long>(
                          std::chrono::duration_cast<std::chrono::milliseconds>(delay).count())}});
  }
  if (options_.metrics != nullptr)
    options_.metrics->ObserveReconcile(options_.name, outcome, seconds);
}

void Controller::Enqueue(const ObjectKey& key) { queue_.Add(key.String()); }

bool Controller::synced() const {
  for (const auto& source : sources_) {
    if (!source->store->synced()) return false;
  }
  return true;
}

const Store& Controller::store() const { return *sources_.front()->store; }

const Store* Controller::StoreOf(const ResourceRef& resource) const {
  for (const auto& source : sources_) {
    if (source->resource.group == resource.group &&
        source->resource.resource == resource.resource) {
      return source->store.get();
    }
  }
  return nullptr;
}

}  // namespace aidi::kube
