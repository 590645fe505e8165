// Pipeline spec as C++ values: the operator's typed view of a Pipeline's `spec`.
//
// ParsePipelineSpec turns the JSON the API server returns (defaults from the CRD already
// applied) into a PipelineSpec. It checks the JSON types and numeric ranges of every field it
// reads, applies the CRD's defaults itself when a field is missing (so hand-built JSON in tests
// and fixtures behaves like a served object), and reports the first problem as an Invalid status
// whose message starts with the JSON path, e.g. "spec.stages[2].retry.limit: must be an integer
// >= 0". Graph rules (unique names, known dependencies, acyclicity, exactly one of op or image)
// are BuildDag's job (operator/dag.h). Unknown fields are ignored. crds/pipelines.aidi.dev.yaml
// is the source of truth for every field's meaning. Pure functions over plain values: no
// shared state, safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::op {

// One item of stage.inputs: an upstream stage's output ({stage}) or a dataset ({uri, site,
// bytes}). Exactly one of `stage` and `uri` is set.
struct StageInput {
  std::optional<std::string> stage;
  std::optional<std::string> uri;
  std::optional<std::string> site;  // EdgeSite holding the dataset; unset: the cloud
  std::optional<int64_t> bytes;
};

struct GpuRequest {
  int count = 0;                     // 0: a CPU-only stage
  std::optional<std::string> model;  // nvidia.com/gpu.product spelling; unset: any model
  std::optional<int> min_memory_gib;
};

// Kubernetes quantities kept as written ("500m", "8Gi"); an integer in the JSON becomes its
// decimal string. Empty: not requested.
struct Resources {
  std::string cpu;
  std::string memory;
  GpuRequest gpu;
};

enum class PlacementMode { kAuto, kCloud, kEdge, kSites };
std::string_view PlacementModeName(PlacementMode mode);

struct PlacementWeights {
  std::optional<double> cost;
  std::optional<double> time;
  std::optional<double> latency;
};

struct Placement {
  PlacementMode mode = PlacementMode::kAuto;
  std::vector<std::string> sites;  // only with mode Sites
  std::optional<int64_t> max_latency_ms;
  std::optional<PlacementWeights> weights;  // unset: the objective's weights
};

struct Work {
  std::optional<double> gpu_seconds;  // on the reference GPU
  std::optional<int64_t> input_bytes;
};

// Delay before retry n (n = 1, 2, ...): min(initial_seconds * factor^(n-1), max_seconds).
struct Backoff {
  int64_t initial_seconds = 10;
  double factor = 2;
  int64_t max_seconds = 300;
};

struct Retry {
  int limit = 0;  // retries after the first attempt
  Backoff backoff;
};

struct Timeouts {
  std::optional<int64_t> active_seconds;
  std::optional<int64_t> pending_seconds;
};

struct EnvVar {
  std::string name;
  std::string value;
};

// One stage. Either `op` (+ `params`) or `image` (+ command, args, env) is set; BuildDag rejects
// a stage with both or neither.
// What a custom (image) stage asks of the node it runs on. Refused unless the operator's admin
// allows that kind of access (HostAccessPolicy, `--allow-host-access`); op stages never ask.
struct HostPathMount {
  std::string path;        // on the node
  std::string mount_path;  // in the container
  bool read_only = true;
};
struct HostAccess {
  bool privileged = false;
  bool host_network = false;
  bool host_pid = false;
  std::vector<HostPathMount> host_paths;
  bool Any() const { return privileged || host_network || host_pid || !host_paths.empty(); }
};

// The host access this operator lets stages ask for: the values of `--allow-host-access`.
struct HostAccessPolicy {
  bool privileged = false;
  bool host_network = false;
  bool host_pid = false;
  bool host_path = false;
  // From names "privileged", "hostNetwork", "hostPID", "hostPath"; an unknown name is an error.
  static StatusOr<HostAccessPolicy> FromNames(const std::vector<std::string>& names);
};

struct Stage {
  std::string name;
  std::vector<std::string> depends_on;
  std::optional<std::string> op;
  nlohmann::json params;  // null when unset; passed to aidi-worker as written
  std::optional<std::string> image;
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::vector<EnvVar> env;
  std::vector<StageInput> inputs;  // empty: the outputs of depends_on
  Resources resources;
  Placement placement;
  Work work;
  Retry retry;
  Timeouts timeouts;
  HostAccess host_access;
};

enum class Objective { kMinCost, kMinTime, kBalanced };
std::string_view ObjectiveName(Objective objective);

enum class PodGCStrategy {
  kOnPodCompletion,
  kOnPodSuccess,
  kOnPipelineCompletion,
  kOnPipelineSuccess,
  kNever,
};
std::string_view PodGCStrategyName(PodGCStrategy strategy);

struct PipelineSpec;
// OK when every stage asks only for host access `policy` allows; otherwise names the first stage
// and field that asks for more, and how an admin would allow it.
Status CheckHostAccess(const PipelineSpec& spec, const HostAccessPolicy& policy);

struct PipelineSpec {
  std::vector<Stage> stages;       // in spec order
  std::optional<int> parallelism;  // unset: no limit
  bool suspend = false;
  Objective objective = Objective::kBalanced;
  std::optional<std::string> workspace;  // a PVC name
  std::optional<std::string> service_account_name;
  std::optional<int64_t> ttl_seconds_after_finished;
  PodGCStrategy pod_gc_strategy = PodGCStrategy::kNever;
};

// Phase of one stage, as status.stages[].phase spells it.
enum class StagePhase { kPending, kRunning, kSucceeded, kFailed, kSkipped };
std::string_view StagePhaseName(StagePhase phase);

// Parses a Pipeline's `spec` object. Errors are Invalid and name the JSON path ("spec....").
[[nodiscard]] StatusOr<PipelineSpec> ParsePipelineSpec(const nlohmann::json& spec);

}  // namespace aidi::op
