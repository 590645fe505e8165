// The scheduler loop: watches unscheduled pods and nodes, places each pod (scheduler_fit.cc,
// scheduler_extender.cc), binds it, and reports a pod that fits nowhere as kube-scheduler does
// (PodScheduled=False, a FailedScheduling event, retries with backoff). See scheduler.h for the
// behaviour; upstream: pkg/scheduler/schedule_one.go.
#include "devcluster/agents/scheduler.h"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <set>

#include "base/log.h"
#include "devcluster/agents/scheduler_internal.h"
#include "kube/client/api.h"
#include "kube/client/client.h"
#include "kube/core/json_fields.h"
#include "kube/core/request.h"
#include "kube/core/resource.h"
#include "kube/runtime/controller.h"
#include "kube/runtime/events.h"

namespace aidi::devcluster {

using json = nlohmann::json;
using kube::Field;
using kube::StringField;
using scheduler_internal::IsTerminal;
using scheduler_internal::kComponent;
using scheduler_internal::kMilli;
using scheduler_internal::NodeName;

namespace {

constexpr char kUnscheduledIndex[] = "aidi.devcluster/unscheduled";  // value: schedulerName
constexpr char kNodeIndex[] = "aidi.devcluster/node";                // value: spec.nodeName
constexpr std::chrono::milliseconds kInitialBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{10000};

// A pod the loop should place: no node, not finished, not being deleted.
bool Unscheduled(const json& pod) {
  return StringField(Field(pod, "spec"), "nodeName").empty() && !IsTerminal(pod) &&
         Field(Field(pod, "metadata"), "deletionTimestamp").is_null();
}

std::string NowRfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The pod's PodScheduled condition, or null.
const json& PodScheduledCondition(const json& pod) {
  static const json kNull;
  const json& conditions = Field(Field(pod, "status"), "conditions");
  if (!conditions.is_array()) return kNull;
  for (const auto& c : conditions) {
    if (StringField(c, "type") == "PodScheduled") return c;
  }
  return kNull;
}

bool HasCondition(const json& pod, const std::string& reason, const std::string& message) {
  const json& c = PodScheduledCondition(pod);
  return StringField(c, "status") == "False" && StringField(c, "reason") == reason &&
         StringField(c, "message") == message;
}

}  // namespace

struct Scheduler::Impl {
  Impl(std::shared_ptr<kube::Client> c, SchedulerConfig cfg)
      : client(std::move(c)),
        config(std::move(cfg)),
        events(client, {.component = kComponent}),
        controller(client, kube::resources::kPods, Options(config)) {
    for (const auto& e : config.extenders) {
      extenders.push_back(std::make_unique<HttpExtender>(e));
      extender_ptrs.push_back(extenders.back().get());
    }
    // Any node change may make room: requeue every unscheduled pod of ours.
    controller.Watches(kube::resources::kNodes, [this](const json&) { return UnscheduledKeys(); });
    // A bound pod that changes (finishes, goes away) may free room on its node.
    kube::WatchOptions pod_watch;
    pod_watch.projection = kube::Projection::Parse({"spec.nodeName", "status.phase"}).value();
    controller.Watches(
        kube::resources::kPods,
        [this](const json& pod) {
          if (StringField(Field(pod, "spec"), "nodeName").empty())
            return std::vector<kube::ObjectKey>();
          return UnscheduledKeys();
        },
        std::move(pod_watch));
  }

  static kube::ControllerOptions Options(const SchedulerConfig& config) {
    kube::ControllerOptions o;
    o.name = "devcluster-scheduler";
    std::vector<std::string> profiles = config.profiles;
    o.watch.indexers[kUnscheduledIndex] = [profiles](const json& pod) {
      std::string name = StringField(Field(pod, "spec"), "schedulerName");
      if (name.empty()) name = "default-scheduler";
      if (!Unscheduled(pod) ||
          std::find(profiles.begin(), profiles.end(), name) == profiles.end()) {
        return std::vector<std::string>();
      }
      return std::vector<std::string>{name};
    };
    o.watch.indexers[kNodeIndex] = [](const json& pod) {
      std::string node = StringField(Field(pod, "spec"), "nodeName");
      if (node.empty() || IsTerminal(pod)) return std::vector<std::string>();
      return std::vector<std::string>{node};
    };
    return o;
  }

  std::vector<kube::ObjectKey> UnscheduledKeys() const {
    std::vector<kube::ObjectKey> keys;
    for (const auto& profile : config.profiles) {
      for (auto& k : controller.store().KeysByIndex(kUnscheduledIndex, profile)) {
        keys.push_back(std::move(k));
      }
    }
    return keys;
  }

  std::chrono::milliseconds NextBackoff(const std::string& key) {
    std::lock_guard lock(mu);
    int& attempts = attempts_by_pod[key];
    auto delay = kInitialBackoff * (1LL << std::min(attempts, 4));
    ++attempts;
    return std::min<std::chrono::milliseconds>(delay, kMaxBackoff);
  }

  void Forget(const std::string& key) {
    std::lock_guard lock(mu);
    attempts_by_pod.erase(key);
    assumed.erase(key);
  }

  // Requests of the pods on every node: the cache's, plus pods bound here that it has not shown
  // bound yet.
  std::map<std::string, std::vector<ResourceMilli>> PodsByNode(const std::vector<json>& nodes) {
    std::map<std::string, std::vector<ResourceMilli>> out;
    std::set<std::string> seen;
    for (const auto& node : nodes) {
      std::string name = NodeName(node);
      auto& list = out[name];
      for (const auto& p : controller.store().ByIndex(kNodeIndex, name)) {
        list.push_back(PodRequests(p));
        seen.insert(kube::ObjectKey::Of(p).String());
      }
    }
    std::lock_guard lock(mu);
    for (const auto& [key, a] : assumed) {
      if (!seen.count(key)) out[a.first].push_back(a.second);
    }
    return out;
  }

  StatusOr<kube::Action> Reconcile(const kube::ObjectKey& key, const std::optional<json>& pod) {
    std::string k = key.String();
    if (!pod || !Unscheduled(*pod)) {
      Forget(k);
      return kube::Action::AwaitChange();
    }
    std::string profile = StringField(Field(*pod, "spec"), "schedulerName");
    if (profile.empty()) profile = "default-scheduler";
    if (std::find(config.profiles.begin(), config.profiles.end(), profile) ==
        config.profiles.end()) {
      return kube::Action::AwaitChange();
    }
    {
      std::lock_guard lock(mu);
      if (assumed.count(k)) return kube::Action::AwaitChange();  // bound; the cache lags
    }
    const kube::Store* node_store = controller.StoreOf(kube::resources::kNodes);
    std::vector<json> nodes = node_store ? node_store->List() : std::vector<json>();
    auto decision = DecidePlacement(*pod, nodes, PodsByNode(nodes), extender_ptrs);
    if (!decision.ok()) {
      log::Warn("scheduling attempt failed", {{"pod", k}, {"error", decision.status().message()}});
      return Failed(*pod, "SchedulerError", decision.status().message());
    }
    if (decision->node.empty()) {
      log::Info("pod unschedulable", {{"pod", k}, {"message", decision->message}});
      return Failed(*pod, "Unschedulable", decision->message);
    }
    Status bound = decision->binder ? decision->binder->Bind(*pod, decision->node)
                                    : BindThroughApi(*pod, decision->node);
    if (!bound.ok()) {
      if (bound.IsConflict()) return kube::Action::AwaitChange();  // someone else bound it
      log::Warn("binding failed",
                {{"pod", k}, {"node", decision->node}, {"error", bound.message()}});
      return Failed(*pod, "SchedulerError", "binding rejected: " + bound.message());
    }
    {
      std::lock_guard lock(mu);
      attempts_by_pod.erase(k);
      ResourceMilli requests = PodRequests(*pod);
      requests["pods"] = kMilli;
      assumed[k] = {decision->node, std::move(requests)};
    }
    log::Info("pod scheduled", {{"pod", k}, {"node", decision->node}});
    events.Record(WithTypeMeta(*pod), kube::EventType::kNormal, "Scheduled",
                  "Successfully assigned " + k + " to " + decision->node);
    return kube::Action::AwaitChange();
  }

  Status BindThroughApi(const json& pod, const std::string& node) {
    const json& meta = Field(pod, "metadata");
    kube::HttpRequest request;
    request.method = "POST";
    request.path = "/api/v1/namespaces/" + StringField(meta, "namespace") + "/pods/" +
                   StringField(meta, "name") + "/binding";
    request.body = BindingFor(pod, node).dump();
    request.content_type = "application/json";
    auto answer = client->Send(request);
    return answer.ok() ? Status::Ok() : answer.status();
  }

  static json WithTypeMeta(json pod) {
    pod["apiVersion"] = "v1";
    pod["kind"] = "Pod";
    return pod;
  }

  // Records a failed attempt (condition and event, only when the message changed) and retries
  // with backoff.
  StatusOr<kube::Action> Failed(const json& cached, const std::string& reason,
                                const std::string& message) {
    std::string key = kube::ObjectKey::Of(cached).String();
    auto delay = NextBackoff(key);
    if (HasCondition(cached, reason, message)) return kube::Action::RequeueAfter(delay);
    const json& meta = Field(cached, "metadata");
    kube::Api pods(client, kube::resources::kPods, StringField(meta, "namespace"));
    auto fresh = pods.GetIfExists(StringField(meta, "name"));
    if (!fresh.ok()) return fresh.status();
    if (!*fresh || !Unscheduled(**fresh)) return kube::Action::AwaitChange();
    const json& pod = **fresh;
    if (HasCondition(pod, reason, message)) return kube::Action::RequeueAfter(delay);
    json conditions = json::array();
    std::string transition = NowRfc3339();
    const json& all = Field(Field(pod, "status"), "conditions");
    if (all.is_array()) {
      for (const auto& c : all) {
        if (StringField(c, "type") != "PodScheduled") {
          conditions.push_back(c);
        } else if (StringField(c, "status") == "False" &&
                   !StringField(c, "lastTransitionTime").empty()) {
          transition = StringField(c, "lastTransitionTime");  // status unchanged: keep its time
        }
      }
    }
    conditions.push_back({{"type", "PodScheduled"},
                          {"status", "False"},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", transition},
                          {"reason", reason},
                          {"message", message}});
    json patch = {
        {"metadata", {{"resourceVersion", StringField(Field(pod, "metadata"), "resourceVersion")}}},
        {"status", {{"conditions", std::move(conditions)}}}};
    auto patched = pods.PatchStatus(StringField(meta, "name"), kube::PatchType::kMerge, patch);
    if (!patched.ok()) {
      if (patched.status().IsNotFound()) return kube::Action::AwaitChange();
      return patched.status();  // a conflict retries soon with the fresher pod
    }
    events.Record(WithTypeMeta(pod), kube::EventType::kWarning, "FailedScheduling", message);
    return kube::Action::RequeueAfter(delay);
  }

  std::shared_ptr<kube::Client> client;
  SchedulerConfig config;
  std::vector<std::unique_ptr<HttpExtender>> extenders;
  std::vector<const HttpExtender*> extender_ptrs;
  kube::EventRecorder events;
  std::mutex mu;                               // guards the two maps below
  std::map<std::string, int> attempts_by_pod;  // pod key -> failed attempts in a row
  std::map<std::string, std::pair<std::string, ResourceMilli>> assumed;  // key -> node, requests
  // Last: destroyed (stopped and joined) first, while everything its reconciles use still lives.
  kube::Controller controller;
};

Scheduler::Scheduler(std::shared_ptr<kube::Client> client, SchedulerConfig config)
    : impl_(std::make_unique<Impl>(std::move(client), std::move(config))) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Run() {
  log::Info("scheduler starting",
            {{"profiles", static_cast<unsigned long>(impl_->config.profiles.size())},
             {"extenders", static_cast<unsigned long>(impl_->extenders.size())}});
  impl_->controller.Run([this](const kube::ObjectKey& key, const std::optional<json>& pod) {
    return impl_->Reconcile(key, pod);
  });
}

void Scheduler::Stop() { impl_->controller.Stop(); }

}  // namespace aidi::devcluster
