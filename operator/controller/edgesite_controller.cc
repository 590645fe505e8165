#include "operator/controller/edgesite_controller.h"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "kube/client/api.h"
#include "kube/runtime/controller.h"
#include "kube/runtime/projection.h"
#include "operator/controller/edgesite_rollup.h"
#include "operator/controller/resources.h"

namespace aidi::op {
namespace {

using nlohmann::json;

// The pod cache files every pod that holds GPUs (bound, not terminated, requesting some) under
// this index value, so a reconcile reads those and decodes no other pod.
constexpr char kGpuPodIndex[] = "gpuHolders";
constexpr char kHoldsGpus[] = "holds";

kube::ControllerOptions MakeOptions(const EdgeSiteControllerOptions& options) {
  kube::ControllerOptions out;
  out.name = "edgesite";
  out.concurrency = options.workers;
  out.metrics = options.metrics;
  return out;  // the primary cache keeps whole EdgeSites: spec and status are both read
}

kube::WatchOptions NodeWatch() {
  kube::WatchOptions watch;
  // Conditions cut to type and status: what the roll-up reads. (A heartbeat still changes the
  // resourceVersion, so it still maps to the node's sites, whose reconcile then writes nothing.)
  watch.projection =
      kube::Projection::Parse({"metadata.labels", "status.allocatable", "status.capacity",
                               "status.conditions[].type", "status.conditions[].status"})
          .value();  // literal paths: valid by construction
  return watch;
}

kube::WatchOptions PodWatch() {
  kube::WatchOptions watch;
  // As kube-scheduler's pod informer: a pod that finishes leaves the cache (the watch reports
  // it DELETED once it stops matching), and with it its hold on GPUs.
  watch.field_selector = "status.phase!=Succeeded,status.phase!=Failed";
  watch.projection = kube::Projection::Parse({"spec.nodeName", "spec.containers[].resources",
                                              "spec.initContainers[].resources", "status.phase"})
                         .value();  // literal paths: valid by construction
  watch.indexers[kGpuPodIndex] = [](const json& pod) {
    return PodHoldsGpus(pod) ? std::vector<std::string>{kHoldsGpus} : std::vector<std::string>{};
  };
  return watch;
}

// Writes the cache has not shown yet: object name -> the resourceVersion it had before this
// controller wrote it. While the cache still holds that version, a roll-up computed from it
// would repeat the write with a stale precondition, a certain 409 Conflict. The write's own
// watch event brings the site's key back (a status write through the primary watch, a label
// patch through the node mapper), so the reconcile skips such a write instead.
class PendingWrites {
 public:
  // True when the cache holds `name` at a version this controller has since written over.
  bool Stale(const std::string& name, const std::string& cached_version) {
    std::lock_guard lock(mu_);
    auto it = before_.find(name);
    if (it == before_.end()) return false;
    if (it->second == cached_version) return true;
    before_.erase(it);  // the cache has moved on
    return false;
  }
  // Records a write that took `name` from `before` to `after`. A write the server found
  // unchanged (same version) is not recorded: no watch event will follow it.
  void Wrote(const std::string& name, const std::string& before, const std::string& after) {
    if (before.empty() || before == after) return;
    std::lock_guard lock(mu_);
    before_[name] = before;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> before_;
};

}  // namespace

struct EdgeSiteController::Impl {
  Impl(std::shared_ptr<kube::Client> c, kube::EventRecorder* e, EdgeSiteControllerOptions o,
       const Clock& clk)
      : client(std::move(c)),
        events(e),
        clock(clk),
        controller(client, kEdgeSites, MakeOptions(o), clk) {
    controller.Watches(
        kube::resources::kNodes, [this](const json& node) { return SitesOfNode(node); },
        NodeWatch());
    controller.Watches(
        kube::resources::kPods, [this](const json& pod) { return SitesOfPod(pod); }, PodWatch());
  }

  // The sites a node change concerns: every site whose selector matches it (its own and those
  // that report it as claimed elsewhere) and the site its aidi.dev/site label names. The mapper
  // sees the old object too, so the sites it left are covered.
  std::vector<kube::ObjectKey> SitesOfNode(const json& node) const {
    SiteMembership membership(controller.store().List());
    json labels = node.value("/metadata/labels"_json_pointer, json());
    std::vector<kube::ObjectKey> keys;
    for (std::string& site : membership.MatchingSites(labels)) keys.push_back({"", site});
    if (labels.is_object() && labels.contains(kSiteLabel) && labels[kSiteLabel].is_string()) {
      std::string labelled = labels[kSiteLabel].get<std::string>();
      if (membership.Exists(labelled)) keys.push_back({"", labelled});
    }
    return keys;
  }

  // The sites a pod change concerns: those of its node, when it requests GPUs at all.
  std::vector<kube::ObjectKey> SitesOfPod(const json& pod) const {
    if (PodGpuRequest(pod) == 0) return {};
    std::string node_name = pod.value("/spec/nodeName"_json_pointer, "");
    if (node_name.empty()) return {};
    const kube::Store* nodes = controller.StoreOf(kube::resources::kNodes);
    std::optional<json> node = nodes->Get({"", node_name});
    if (!node) return {};  // its arrival will map to the sites
    return SitesOfNode(*node);
  }

  StatusOr<kube::Action> Reconcile(const kube::ObjectKey& key, const std::optional<json>& cached) {
    std::vector<json> sites = controller.store().List();
    std::vector<json> nodes = controller.StoreOf(kube::resources::kNodes)->List();
    std::vector<json> pods =
        controller.StoreOf(kube::resources::kPods)->ByIndex(kGpuPodIndex, kHoldsGpus);
    std::map<std::string, SiteRollup> rollups =
        RollUpEdgeSites({.sites = sites, .nodes = nodes, .pods = pods, .now = clock.Now()});

    // Membership is decided across sites: a change to this one (its selector, its deletion) can
    // move nodes to or from others. Those with work to do come back on their own key.
    for (const auto& [name, rollup] : rollups) {
      if (name != key.name && (rollup.status_changed || !rollup.label_changes.empty())) {
        controller.Enqueue({"", name});
      }
    }
    if (!cached) return kube::Action::AwaitChange();  // deleted: its labels stay (see the rollup)
    auto it = rollups.find(key.name);
    const json* site = nullptr;
    for (const json& s : sites) {
      if (s.value("/metadata/name"_json_pointer, "") == key.name) site = &s;
    }
    if (it == rollups.end() || site == nullptr) return kube::Action::AwaitChange();
    const SiteRollup& rollup = it->second;

    kube::Api node_api(client, kube::resources::kNodes, "");
    for (const NodeLabelChange& change : rollup.label_changes) {
      if (pending_nodes.Stale(change.node, change.resource_version)) continue;
      json patch = {{"metadata",
                     {{"resourceVersion", change.resource_version},
                      {"labels", {{kSiteLabel, change.value ? json(*change.value) : json()}}}}}};
      AIDI_ASSIGN_OR_RETURN(json patched,
                            node_api.Patch(change.node, kube::PatchType::kMerge, patch));
      pending_nodes.Wrote(change.node, change.resource_version,
                          patched.value("/metadata/resourceVersion"_json_pointer, ""));
      log::Info(change.value ? "node labelled" : "node label removed",
                {{"edgesite", key.name}, {"node", change.node}, {"label", kSiteLabel}});
    }

    std::string version = site->value("/metadata/resourceVersion"_json_pointer, "");
    if (rollup.status_changed && !pending_sites.Stale(key.name, version)) {
      // The resourceVersion the roll-up read is the precondition: a stale cache answers 409.
      json body = {{"apiVersion", kEdgeSites.ApiVersion()},
                   {"kind", kEdgeSites.kind},
                   {"metadata", {{"name", key.name}, {"resourceVersion", version}}},
                   {"status", rollup.status}};
      kube::Api sites_api(client, kEdgeSites, "");
      AIDI_ASSIGN_OR_RETURN(json written, sites_api.ReplaceStatus(key.name, body));
      pending_sites.Wrote(key.name, version,
                          written.value("/metadata/resourceVersion"_json_pointer, ""));
      log::Debug("edgesite status written", {{"edgesite", key.name},
                                             {"ready", rollup.status.value("readySummary", "")},
                                             {"gpus", rollup.status.value("gpuSummary", "")}});
      if (rollup.event && events != nullptr) {
        events->Record(written,
                       rollup.event->warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                       rollup.event->reason, rollup.event->message);
      }
    }
    return kube::Action::AwaitChange();
  }

  std::shared_ptr<kube::Client> client;
  kube::EventRecorder* events;
  const Clock& clock;
  PendingWrites pending_sites;  // by EdgeSite name
  PendingWrites pending_nodes;  // by Node name
  kube::Controller controller;  // last: its watchers call back into the members above
};

EdgeSiteController::EdgeSiteController(std::shared_ptr<kube::Client> client,
                                       kube::EventRecorder* events,
                                       EdgeSiteControllerOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(client), events, options, clock)) {}

EdgeSiteController::~EdgeSiteController() {
  Stop();
  // impl_ goes next: kube::Controller's destructor joins what Run() left.
}

void EdgeSiteController::Run() {
  impl_->controller.Run([this](const kube::ObjectKey& key, const std::optional<nlohmann::json>& s) {
    return impl_->Reconcile(key, s);
  });
}

void EdgeSiteController::Stop() { impl_->controller.Stop(); }

bool EdgeSiteController::synced() const { return impl_->controller.synced(); }

}  // namespace aidi::op
