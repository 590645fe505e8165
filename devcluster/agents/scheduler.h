// Scheduler: devcluster's kube-scheduler. Pods whose spec.schedulerName matches a profile of a
// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) are placed by a loop that acts
// through the API as kube-scheduler does:
//   1. fit: the pod's requests (cpu, memory, pods, extended resources such as nvidia.com/gpu)
//      against each node's allocatable minus the requests of the non-terminated pods bound to
//      it; spec.nodeName-less pods only; nodeSelector, required node affinity, NoSchedule /
//      NoExecute taints against tolerations, spec.unschedulable, the Ready condition;
//   2. extenders, in configuration order, for pods they are interested in (managedResources
//      empty, or the pod requests/limits one of them): filterVerb narrows the candidates
//      (nodeCacheCapable: NodeNames, else full Nodes), prioritizeVerb scores (0..10 x weight,
//      then x10 onto the 0..100 plugin range, summed with our own LeastAllocated score),
//      bindVerb binds (at most one binding extender); a failed call of an `ignorable`
//      extender is skipped, otherwise it fails the attempt; `httpTimeout` bounds each call;
//   3. bind: the extender's bind verb when one is interested, otherwise POST pods/NAME/binding.
// A pod that fits nowhere gets status.conditions PodScheduled=False, reason Unschedulable and
// upstream's message ("0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't
// match Pod's node affinity/selector."), plus a FailedScheduling Event, and is retried with
// backoff (1 s doubling to 10 s) and whenever nodes or pods change.
//
// Thread safety: Run() blocks its thread; Stop() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube {
class Client;
class Transport;
}  // namespace aidi::kube

namespace aidi::devcluster {

// One entry of KubeSchedulerConfiguration.extenders (k8s.io/kube-scheduler/config/v1 Extender).
struct ExtenderConfig {
  std::string url_prefix;  // "http://127.0.0.1:8888" (verbs are appended after a '/')
  std::string filter_verb;
  std::string prioritize_verb;
  std::string bind_verb;
  std::string preempt_verb;  // accepted, never called (devcluster does not preempt)
  std::int64_t weight = 1;
  bool enable_https = false;
  bool insecure = false;                          // tlsConfig.insecure
  std::string ca_pem;                             // tlsConfig.caData (decoded) or caFile's contents
  std::string tls_server_name;                    // tlsConfig.serverName
  std::chrono::milliseconds http_timeout{30000};  // upstream default: 30s
  bool node_cache_capable = false;
  bool ignorable = false;
  // managedResources[].name; a pod interests the extender only if it requests one (or the list
  // is empty).
  std::vector<std::string> managed_resources;
  // managedResources[] with ignoredByScheduler: true; our own fit check skips them.
  std::vector<std::string> ignored_resources;
  std::string client_cert_pem;  // tlsConfig.certData (decoded) or certFile's contents
  std::string client_key_pem;   // tlsConfig.keyData (decoded) or keyFile's contents
};

struct SchedulerConfig {
  std::vector<std::string> profiles;  // schedulerName of every profile
  std::vector<ExtenderConfig> extenders;
};

// Parses a KubeSchedulerConfiguration (YAML or JSON). Errors name the file and field, e.g.
// `scheduler-config.yaml: extenders[0].weight: must be positive when prioritizeVerb is set`.
// Unknown fields are errors, as kube-scheduler's strict decoding makes them.
StatusOr<SchedulerConfig> ParseSchedulerConfig(const std::string& text, const std::string& source);
StatusOr<SchedulerConfig> LoadSchedulerConfig(const std::string& path);

class Scheduler {
 public:
  Scheduler(std::shared_ptr<kube::Client> client, SchedulerConfig config);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void Run();   // blocks until Stop()
  void Stop();  // idempotent

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- Building blocks of one scheduling attempt: pure functions (and the extender client),
// exposed for tests. ----

// A Go time.Duration string ("5s", "1m30s", "250ms", "1.5h"), as metav1.Duration reads it.
StatusOr<std::chrono::milliseconds> ParseGoDuration(std::string_view text);

// Resource name -> thousandths.
using ResourceMilli = std::map<std::string, std::int64_t>;

// The pod's effective requests, as kube-scheduler computes them: per resource the larger of the
// sum over its containers (plus sidecar init containers) and the largest ordinary init container
// (plus the sidecars started before it), plus spec.overhead. A container's request for a resource
// is requests[r], else limits[r]. Malformed quantities count as 0.
ResourceMilli PodRequests(const nlohmann::json& pod);

// Why `pod` cannot run on `node`, given the requests of the pods already there; empty when it
// fits. Checks in kube-scheduler's filter order, stopping at the first failing plugin:
// NodeUnschedulable ("node(s) were unschedulable"), TaintToleration ("node(s) had untolerated
// taint {key: value}"; a node without Ready=True counts as tainted
// node.kubernetes.io/not-ready:NoSchedule, or .../unreachable when Ready is Unknown),
// NodeAffinity ("node(s) didn't match Pod's node affinity/selector"), NodeResourcesFit ("Too
// many pods", "Insufficient cpu", ... one per short resource). `ignored` are resources the fit
// does not check (extenders' ignoredByScheduler). A node without status.allocatable uses
// status.capacity; one without a "pods" entry allows 110 pods (kubelet's default).
std::vector<std::string> NodeFitReasons(const nlohmann::json& pod,
                                        const ResourceMilli& pod_requests,
                                        const nlohmann::json& node,
                                        const std::vector<ResourceMilli>& node_pods,
                                        const std::vector<std::string>& ignored = {});

// Upstream's FitError message: "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2
// node(s) didn't match Pod's node affinity/selector." (reasons counted over nodes, each entry
// "<count> <reason>", sorted as strings). "no nodes available to schedule pods" with no nodes.
std::string FitErrorMessage(std::size_t num_nodes,
                            const std::map<std::string, std::vector<std::string>>& node_reasons);

// LeastAllocated on cpu and memory (weights 1): 0..100, higher means more room left.
std::int64_t LeastAllocatedScore(const ResourceMilli& pod_requests, const nlohmann::json& node,
                                 const std::vector<ResourceMilli>& node_pods);

// An extender's filter answer: the candidates that passed, and why the others did not.
struct ExtenderFilterOutcome {
  std::vector<std::string> passed;
  std::map<std::string, std::string> failed;               // FailedNodes
  std::map<std::string, std::string> failed_unresolvable;  // FailedAndUnresolvableNodes
};

// One configured extender, called over HTTP(S) as kube-scheduler's HTTPExtender does: POST
// JSON to urlPrefix + "/" + verb, 200 required, httpTimeout per call. The transport is built on
// first use (a bad CA or certificate fails the calls, naming the extender). Thread safety:
// every method may be called from any thread.
class HttpExtender {
 public:
  explicit HttpExtender(ExtenderConfig config);
  ~HttpExtender();
  HttpExtender(const HttpExtender&) = delete;
  HttpExtender& operator=(const HttpExtender&) = delete;

  const ExtenderConfig& config() const { return config_; }
  // managedResources empty, or the pod requests or limits one (containers or initContainers).
  bool IsInterested(const nlohmann::json& pod) const;
  bool IsBinder() const { return !config_.bind_verb.empty(); }

  // ExtenderArgs for `pod` and the candidate nodes, in the form nodeCacheCapable selects.
  nlohmann::json BuildArgs(const nlohmann::json& pod,
                           const std::vector<const nlohmann::json*>& nodes) const;
  // Without a filterVerb every candidate passes. Errors: transport, non-200, a non-empty Error,
  // a passed node that was not a candidate.
  StatusOr<ExtenderFilterOutcome> Filter(const nlohmann::json& pod,
                                         const std::vector<const nlohmann::json*>& nodes) const;
  // Host -> score (0..10, as answered); empty without a prioritizeVerb.
  StatusOr<std::map<std::string, std::int64_t>> Prioritize(
      const nlohmann::json& pod, const std::vector<const nlohmann::json*>& nodes) const;
  // ExtenderBindingArgs; a non-empty Error in the answer fails it.
  Status Bind(const nlohmann::json& pod, const std::string& node) const;

 private:
  StatusOr<nlohmann::json> Post(const std::string& verb, const nlohmann::json& body) const;

  ExtenderConfig config_;
  std::string server_;     // scheme://host:port of url_prefix
  std::string path_;       // url_prefix's path without a trailing '/'
  mutable std::mutex mu_;  // guards transport_
  mutable std::shared_ptr<kube::Transport> transport_;
};

// The outcome of one scheduling attempt.
struct PlacementDecision {
  std::string node;  // the chosen node; "" when none fits
  // Set when node is "": FitErrorMessage over node_reasons.
  std::string message;
  // Node -> why the pod cannot run there (our plugins, then extenders' FailedNodes).
  std::map<std::string, std::vector<std::string>> node_reasons;
  // Feasible node -> total score (ours plus extenders' x weight x 10).
  std::map<std::string, std::int64_t> scores;
  const HttpExtender* binder = nullptr;  // the interested binding extender, if any
};

// Decides where `pod` goes, as kube-scheduler's schedulePod does: filter every node with our
// fit check, then with each interested extender in order (stopping once none is left); one
// feasible node is taken as is, several are scored (LeastAllocated plus interested extenders'
// prioritize answers, whose failures are ignored) and the highest wins, ties to the first by
// node name. `pods_by_node` holds the requests of the pods bound to (or assumed on) each node.
// An error (a non-ignorable extender's failed filter) fails the attempt.
StatusOr<PlacementDecision> DecidePlacement(
    const nlohmann::json& pod, const std::vector<nlohmann::json>& nodes,
    const std::map<std::string, std::vector<ResourceMilli>>& pods_by_node,
    const std::vector<const HttpExtender*>& extenders);

// The v1 Binding POSTed to pods/NAME/binding.
nlohmann::json BindingFor(const nlohmann::json& pod, const std::string& node);

}  // namespace aidi::devcluster
