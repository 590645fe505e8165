#include "operator/controller/pipeline_controller.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>

#include "base/log.h"
#include "kube/client/api.h"
#include "kube/runtime/controller.h"
#include "kube/runtime/finalizer.h"
#include "operator/api/pipeline.h"
#include "operator/controller/pipeline_plan.h"
#include "operator/controller/resources.h"

namespace aidi::op {
namespace {

using nlohmann::json;

// What the caches keep: only the fields the plan and the pod builder read.
kube::Projection PodProjection() {
  return kube::Projection::Parse({"metadata.annotations", "spec.nodeName", "status.phase",
                                  "status.startTime", "status.reason", "status.message",
                                  "status.containerStatuses[].state.terminated"})
      .value();
}

std::string OwnerUid(const json& object) {
  return object.value("metadata", json::object()).value("uid", "");
}

bool OwnedBy(const json& pod, const std::string& uid) {
  const json& refs = pod.value("metadata", json::object()).value("ownerReferences", json::array());
  for (const auto& ref : refs) {
    if (ref.value("controller", false) && ref.value("uid", "") == uid) return true;
  }
  return false;
}

}  // namespace

struct PipelineController::Impl {
  Impl(std::shared_ptr<kube::Client> client, kube::EventRecorder* events,
       PipelineControllerOptions options, const Clock& clock)
      : client(std::move(client)),
        events(events),
        options(std::move(options)),
        clock(clock),
        random(std::random_device{}()) {
    kube::ControllerOptions controller_options;
    controller_options.name = "pipeline";
    controller_options.watch.ns = this->options.ns;
    controller_options.concurrency = this->options.workers;
    controller_options.metrics = this->options.metrics;
    controller =
        std::make_unique<kube::Controller>(this->client, kPipelines, controller_options, clock);
    kube::WatchOptions pods;
    pods.ns = this->options.ns;
    pods.label_selector = kPipelineLabel;  // stage pods only
    pods.projection = PodProjection();
    pods.indexers.emplace(std::string(kube::kIndexOwnerUid), kube::IndexByOwnerUid());
    controller->Owns(kube::resources::kPods, std::move(pods));
    // Caches only: a node's site label and a site's type matter when a pod is read or built,
    // and a change to either does not by itself change any pipeline.
    kube::WatchOptions nodes;
    nodes.projection = kube::Projection::Parse({"metadata.labels"}).value();
    controller->Watches(
        kube::resources::kNodes, [](const json&) { return std::vector<kube::ObjectKey>{}; },
        std::move(nodes));
    if (this->options.metrics != nullptr) {
      sampler = this->options.metrics->AddSampler(
          [this](std::vector<kube::Metrics::Sample>& out) { Sample(out); });
    }
    kube::WatchOptions sites;
    sites.projection = kube::Projection::Parse({"spec.type"}).value();
    controller->Watches(
        kEdgeSites, [](const json&) { return std::vector<kube::ObjectKey>{}; }, std::move(sites));
  }

  StatusOr<kube::Action> Reconcile(const kube::ObjectKey& key, const std::optional<json>& object) {
    if (!object) {  // gone; the finalizer already stopped its pods
      std::lock_guard<std::mutex> lock(written_mu);
      written.erase(key.String());
      waiting_since.erase(key.String());
      created_unseen.erase(key.String());
      return kube::Action::AwaitChange();
    }
    json pipeline = Freshest(key, *object);
    kube::Api api(client, kPipelines, key.ns);
    if (!kube::HasFinalizer(pipeline, kPipelineFinalizer) && !kube::IsBeingDeleted(pipeline)) {
      // Add it and go on in the same reconcile (Finalize would wait for the watch to bring the
      // updated object back): the first stage starts one round trip sooner.
      AIDI_ASSIGN_OR_RETURN(json updated, kube::AddFinalizer(api, kPipelineFinalizer, pipeline));
      RememberWrite(key, pipeline, updated);
      pipeline = Freshest(key, pipeline);
    }
    return kube::Finalize(
        api, kPipelineFinalizer, pipeline, [&](const json& p) { return Apply(key, p); },
        [&](const json& p) { return Cleanup(key, p); });
  }

  // The cache lags our own status writes by a watch event. Reconciling from the object it still
  // holds would plan from the old status and lose the write to a Conflict, so until the cache
  // moves past the resourceVersion a write was based on, the object that write returned is used.
  json Freshest(const kube::ObjectKey& key, const json& cached) {
    std::lock_guard<std::mutex> lock(written_mu);
    auto it = written.find(key.String());
    if (it == written.end()) return cached;
    if (ResourceVersion(cached) == it->second.based_on) return it->second.object;
    written.erase(it);  // the cache has caught up (or someone else wrote): trust it
    return cached;
  }

  void RememberWrite(const kube::ObjectKey& key, const json& sent, json answer) {
    if (answer.contains("metadata")) answer["metadata"].erase("managedFields");
    std::lock_guard<std::mutex> lock(written_mu);
    written[key.String()] = {ResourceVersion(sent), std::move(answer)};
  }

  // A status change that records no outcome (see Plan::status_urgent) waits up to
  // options.coalesce so that the next change, often the pod's end, goes out in the same write.
  // Returns how much longer to wait, or nullopt when the write is due now.
  std::optional<std::chrono::milliseconds> Coalesce(const kube::ObjectKey& key) {
    std::lock_guard<std::mutex> lock(written_mu);
    auto now = clock.Monotonic();
    auto [it, inserted] = waiting_since.emplace(key.String(), now);
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second);
    if (waited >= options.coalesce) return std::nullopt;
    return options.coalesce - waited;
  }

  static std::string ResourceVersion(const json& object) {
    return object.value("metadata", json::object()).value("resourceVersion", "");
  }

  StatusOr<kube::Action> Apply(const kube::ObjectKey& key, const json& pipeline) {
    const std::string uid = OwnerUid(pipeline);
    kube::Api pods_api(client, kube::resources::kPods, key.ns);
    std::vector<StagePod> pods;
    std::set<std::string> seen;
    for (const json& pod :
         controller->StoreOf(kube::resources::kPods)->ByIndex(kube::kIndexOwnerUid, uid)) {
      if (!OwnedBy(pod, uid)) continue;
      if (auto stage_pod = ReadStagePod(pod, NodeSite(pod))) {
        seen.insert(stage_pod->name);
        pods.push_back(std::move(*stage_pod));
      }
    }
    // The cache may not have seen a pod we created a moment ago: ask the server before
    // concluding that an in-flight attempt's pod is gone.
    std::vector<std::string> check = InFlightPodNames(pipeline.value("status", json::object()));
    {
      // Pods this process created whose status write is still coalescing: not yet in status.
      std::lock_guard<std::mutex> lock(written_mu);
      auto& mine = created_unseen[key.String()];
      for (auto it = mine.begin(); it != mine.end();) {
        if (seen.count(*it)) {
          it = mine.erase(it);
        } else {
          check.push_back(*it++);
        }
      }
    }
    std::sort(check.begin(), check.end());
    check.erase(std::unique(check.begin(), check.end()), check.end());
    for (const std::string& name : check) {
      if (seen.count(name)) continue;
      AIDI_ASSIGN_OR_RETURN(std::optional<json> live, pods_api.GetIfExists(name));
      if (live && OwnedBy(*live, uid)) {
        if (auto stage_pod = ReadStagePod(*live, NodeSite(*live)))
          pods.push_back(std::move(*stage_pod));
      }
    }

    Plan plan = PlanPipeline(
        {pipeline, pods, clock.Now(), [this] { return Random(); }, options.pods.host_access});

    if (plan.delete_pipeline) {
      log::Info("deleting finished pipeline (ttlSecondsAfterFinished)",
                {{"pipeline", key.String()}});
      kube::DeleteParams params;
      params.propagation_policy = "Background";
      params.precondition_uid = uid;
      Status s = kube::Api(client, kPipelines, key.ns).Delete(key.name, params).status();
      if (!s.ok() && !s.IsNotFound()) return s;
      return kube::Action::AwaitChange();
    }

    std::set<std::string> adopted;  // planned creations that existed already
    if (!plan.create.empty()) {
      const PipelineSpec& spec = *plan.spec;  // a plan that creates pods parsed the spec
      StageContext context;
      for (const auto& e : plan.status.value("stages", json::array())) {
        if (e.contains("site")) context.upstream_sites[e.value("name", "")] = e["site"];
      }
      for (const json& site : controller->StoreOf(kEdgeSites)->List()) {
        context.site_types[site["metadata"].value("name", "")] =
            site.value("spec", json::object()).value("type", "Edge");
      }
      for (const PodToCreate& create : plan.create) {
        auto stage = std::find_if(spec.stages.begin(), spec.stages.end(),
                                  [&](const Stage& s) { return s.name == create.stage; });
        if (stage == spec.stages.end()) return Status::Internal("planned an unknown stage");
        context.avoid_sites = create.avoid_sites;
        json pod = BuildStagePod(pipeline, spec, *stage, create.attempt, context, options.pods);
        std::string name = pod["metadata"]["name"];
        StatusOr<json> created = pods_api.Create(pod);
        if (created.ok()) {
          log::Info("stage pod created", {{"pipeline", key.String()}, {"pod", name}});
          std::lock_guard<std::mutex> lock(written_mu);
          created_unseen[key.String()].insert(name);
          ++pods_created;
          continue;
        }
        if (!created.status().IsAlreadyExists()) return created.status();
        // Created by an earlier run that did not get to record it: adopt it if it is ours.
        AIDI_ASSIGN_OR_RETURN(json existing, pods_api.Get(name));
        if (!OwnedBy(existing, uid)) {
          return Status::AlreadyExists("pod " + key.ns + "/" + name +
                                       " exists and is not owned by this pipeline");
        }
        log::Info("stage pod adopted", {{"pipeline", key.String()}, {"pod", name}});
        adopted.insert(name);
        ++pods_adopted;
      }
    }

    std::optional<std::chrono::milliseconds> write_in;  // a status write waiting to coalesce
    if (plan.status != pipeline.value("status", json()) && !plan.status_urgent) {
      write_in = Coalesce(key);
    }
    if (plan.status != pipeline.value("status", json()) && !write_in) {
      json updated = pipeline;
      updated["status"] = plan.status;
      kube::Api api(client, kPipelines, key.ns);
      AIDI_ASSIGN_OR_RETURN(json answer, api.ReplaceStatus(key.name, updated));
      RememberWrite(key, pipeline, std::move(answer));
      std::lock_guard<std::mutex> lock(written_mu);
      waiting_since.erase(key.String());
      if (plan.status.value("phase", "") !=
          pipeline.value("status", json::object()).value("phase", "")) {
        log::Info("pipeline phase", {{"pipeline", key.String()},
                                     {"phase", plan.status.value("phase", "")},
                                     {"progress", plan.status.value("progress", "")},
                                     {"message", plan.status.value("message", "")}});
      }
    }

    for (const PodToDelete& remove : plan.remove) {
      Status s = pods_api.Delete(remove.name).status();
      if (!s.ok() && !s.IsNotFound()) return s;
      log::Info("stage pod deleted",
                {{"pipeline", key.String()}, {"pod", remove.name}, {"reason", remove.reason}});
    }
    if (events != nullptr) {
      for (const PlannedEvent& e : plan.events) {
        // An adopted pod's start was told when it was created.
        if (!e.pod.empty() && adopted.count(e.pod) > 0) continue;
        events->Record(pipeline, e.warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                       e.reason, e.message);
      }
    }
    std::optional<std::chrono::milliseconds> next = write_in;
    if (plan.wake_at) {
      auto after =
          std::chrono::duration_cast<std::chrono::milliseconds>(*plan.wake_at - clock.Now());
      after = std::max(after, std::chrono::milliseconds(0)) + std::chrono::milliseconds(20);
      next = next ? std::min(*next, after) : after;
    }
    return next ? kube::Action::RequeueAfter(*next) : kube::Action::AwaitChange();
  }

  // The Pipeline is being deleted: stop its pods, then let it go.
  StatusOr<kube::Action> Cleanup(const kube::ObjectKey& key, const json& pipeline) {
    const std::string uid = OwnerUid(pipeline);
    kube::Api pods_api(client, kube::resources::kPods, key.ns);
    kube::ListParams params;
    params.label_selector = std::string(kPipelineLabel) + "=" + key.name;
    AIDI_ASSIGN_OR_RETURN(json list, pods_api.List(params));  // live: the cache may lag
    int stopped = 0;
    for (const json& pod : list.value("items", json::array())) {
      if (!OwnedBy(pod, uid)) continue;
      std::string name = pod["metadata"].value("name", "");
      std::string phase = pod.value("status", json::object()).value("phase", "Pending");
      Status s = pods_api.Delete(name).status();
      if (!s.ok() && !s.IsNotFound()) return s;
      if (phase != "Succeeded" && phase != "Failed") ++stopped;
    }
    log::Info("pipeline deleted; stage pods removed",
              {{"pipeline", key.String()},
               {"pods", std::to_string(list.value("items", json::array()).size())},
               {"stopped", std::to_string(stopped)}});
    std::string phase = pipeline.value("status", json::object()).value("phase", "");
    if (stopped > 0 && phase != "Succeeded" && phase != "Failed") {
      // Best effort, so that a watcher sees why the pipeline went: it is going either way.
      json updated = pipeline;
      updated["status"]["phase"] = "Cancelled";
      updated["status"]["message"] =
          "deleted: stopped " + std::to_string(stopped) + " running stage pod(s)";
      (void)kube::Api(client, kPipelines, key.ns).ReplaceStatus(key.name, updated);
    }
    return kube::Action::AwaitChange();
  }

  ~Impl() {
    if (options.metrics != nullptr && sampler != 0) options.metrics->RemoveSampler(sampler);
  }

  // Scrape time: Pipelines by phase, and the stage pods this process created and adopted.
  void Sample(std::vector<kube::Metrics::Sample>& out) {
    std::map<std::string, double> phases = {
        {"Pending", 0}, {"Running", 0}, {"Succeeded", 0}, {"Failed", 0}, {"Suspended", 0}};
    for (const json& p : controller->store().List()) {
      phases[p.value("status", json::object()).value("phase", "Pending")] += 1;
    }
    for (const auto& [phase, n] : phases) {
      out.push_back({"aidi_pipelines",
                     "Pipelines in the cache, by status.phase.",
                     false,
                     {{"phase", phase}},
                     n});
    }
    out.push_back({"aidi_stage_pods_created_total",
                   "Stage pods created by this process.",
                   true,
                   {},
                   static_cast<double>(pods_created.load())});
    out.push_back({"aidi_stage_pods_adopted_total",
                   "Planned stage pods that existed already (created before a restart).",
                   true,
                   {},
                   static_cast<double>(pods_adopted.load())});
  }

  std::string NodeSite(const json& pod) const {
    std::string node = pod.value("spec", json::object()).value("nodeName", "");
    if (node.empty()) return "";
    std::optional<json> n = controller->StoreOf(kube::resources::kNodes)->Get({"", node});
    if (!n) return "";
    return n->value("metadata", json::object())
        .value("labels", json::object())
        .value(kSiteLabel, "");
  }

  double Random() {
    std::lock_guard<std::mutex> lock(random_mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(random);
  }

  std::shared_ptr<kube::Client> client;
  kube::EventRecorder* events;
  PipelineControllerOptions options;
  const Clock& clock;
  std::unique_ptr<kube::Controller> controller;
  struct Written {
    std::string based_on;  // resourceVersion the write replaced
    json object;           // what the server answered
  };
  std::mutex written_mu;
  std::map<std::string, Written> written;                       // by key
  std::map<std::string, Clock::MonoTime> waiting_since;         // by key: a status write coalescing
  std::map<std::string, std::set<std::string>> created_unseen;  // by key: pods not yet cached
  int sampler = 0;
  std::atomic<uint64_t> pods_created{0};
  std::atomic<uint64_t> pods_adopted{0};
  std::mutex random_mu;
  std::mt19937_64 random;
};

PipelineController::PipelineController(std::shared_ptr<kube::Client> client,
                                       kube::EventRecorder* events,
                                       PipelineControllerOptions options, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(client), events, std::move(options), clock)) {}

PipelineController::~PipelineController() = default;

void PipelineController::Run() {
  impl_->controller->Run([this](const kube::ObjectKey& key, const std::optional<json>& object) {
    return impl_->Reconcile(key, object);
  });
}

void PipelineController::Stop() { impl_->controller->Stop(); }

bool PipelineController::synced() const { return impl_->controller->synced(); }

}  // namespace aidi::op
