// Pipeline plan: what the pipeline reconciler should do next, as a pure function.
//
// PlanPipeline reads a Pipeline (metadata, spec and the status last written), the stage pods
// the cache holds for it (plus any the reconciler fetched live) and the time, and returns the
// status to write, the pods to create and delete, the events to record and when time alone
// will next change something. It does no I/O, so every rule of docs/design.md ("aidi-operator")
// is tested here without a server: DAG order, parallelism, retries with backoff, timeouts,
// suspend, failure, TTL and pod GC. The reconciler (pipeline_controller.h) performs the plan in
// a fixed order: create pods, write status (only when it changed), then delete pods and record
// events, so what status says always happened first.
//
// Thread safety: pure functions over values; safe from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "operator/api/pipeline.h"

namespace aidi::op {

// What the plan needs to know of one stage pod.
struct StagePod {
  std::string name;
  std::string stage;
  int attempt = 0;
  std::string phase;  // Pending | Running | Succeeded | Failed | Unknown (pod status.phase)
  std::string node;   // spec.nodeName; "" while unbound
  std::string site;   // EdgeSite of the node (placement annotation, else node label); "" unknown
  Clock::WallTime created{};               // metadata.creationTimestamp
  std::optional<Clock::WallTime> started;  // status.startTime
  bool deleting = false;                   // metadata.deletionTimestamp is set
  std::string failure;                     // why it failed, e.g. "exit code 1 (Error)"
  nlohmann::json placement;                // aidi.dev/placement parsed; null when absent
};

// Reads a Pod object (as the API or cache returns it) into a StagePod; `node_site` is the
// EdgeSite label of its node ("" when unknown). Returns nullopt when the pod lacks the stage
// labels (not a stage pod).
std::optional<StagePod> ReadStagePod(const nlohmann::json& pod, const std::string& node_site);

struct PodToCreate {
  std::string stage;
  int attempt = 0;
  std::vector<std::string> avoid_sites;  // after a pending timeout on a site
};

struct PodToDelete {
  std::string name;
  std::string reason;  // for the log: "active timeout", "pod GC", ...
};

struct PlannedEvent {
  bool warning = false;
  std::string reason;  // CamelCase: StageStarted, StageSucceeded, StageRetrying, ...
  std::string message;
  std::string pod;  // StageStarted: the pod the event announces
};

struct Plan {
  nlohmann::json status;  // the whole status to write (compare with the old one before writing)
  // True when the new status records an outcome: the pipeline's phase or a condition changed, a
  // stage ended or failed an attempt, or the spec's generation was observed. Other changes (a
  // stage pod created or running, its node and placement) may wait a moment and be written
  // together with the next one: the pods themselves record them meanwhile.
  bool status_urgent = false;
  std::vector<PodToCreate> create;
  std::vector<PodToDelete> remove;
  std::vector<PlannedEvent> events;        // to record once the status is written
  std::optional<Clock::WallTime> wake_at;  // earliest time-driven change: retry, timeout, TTL
  bool delete_pipeline = false;            // ttlSecondsAfterFinished has passed
  // The spec as parsed; set unless it was rejected (the pod builder needs it for `create`).
  std::optional<PipelineSpec> spec;
};

struct PlanInput {
  const nlohmann::json& pipeline;  // metadata, spec, status
  const std::vector<StagePod>& pods;
  Clock::WallTime now;
  // Jitter for retry backoff: returns a number in [0, 1). Unset: 0 (no jitter).
  std::function<double()> random;
  // What stages may ask of their node; a pipeline asking for more is rejected (Accepted=False).
  HostAccessPolicy host_access;
};

Plan PlanPipeline(const PlanInput& input);

// Pod names the status says are in flight (an attempt started, its outcome not yet recorded).
// The reconciler GETs any the cache lacks before planning: a pod missing from the server too was
// deleted before it finished.
std::vector<std::string> InFlightPodNames(const nlohmann::json& status);

}  // namespace aidi::op
