// Pod builder: one stage attempt of a Pipeline as a Pod object, following the contract in
// ../shared/DESIGN.md ("Stage pods") and docs/design.md ("aidi-operator").
//
// BuildStagePod is pure: it reads the Pipeline's metadata (name, namespace, uid), its parsed
// spec, the stage, the attempt number and where upstream stages ran, and returns the Pod JSON to
// POST. StageDemand builds the `aidi.dev/demand` annotation the scheduler extender reads.
// Thread safety: pure functions, safe from any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/api/pipeline.h"

namespace aidi::op {

// Labels and annotations of stage pods.
inline constexpr char kPipelineLabel[] = "aidi.dev/pipeline";
inline constexpr char kStageLabel[] = "aidi.dev/stage";
inline constexpr char kAttemptLabel[] = "aidi.dev/attempt";
inline constexpr char kSiteLabel[] = "aidi.dev/site";
inline constexpr char kDemandAnnotation[] = "aidi.dev/demand";
inline constexpr char kPlacementAnnotation[] = "aidi.dev/placement";
inline constexpr char kGpuResource[] = "nvidia.com/gpu";
inline constexpr char kGpuProductLabel[] = "nvidia.com/gpu.product";

// The worker image's user: stage pods of built-in ops run as this uid.
inline constexpr int kWorkerUid = 65532;

struct PodBuilderOptions {
  std::string scheduler_name = "aidi-scheduler";
  std::string worker_image = "aidi/worker:latest";
  // What custom stages may ask of their node (the planner rejects pipelines asking for more).
  HostAccessPolicy host_access;
};

// What the pod builder needs beyond the spec.
struct StageContext {
  // The site each upstream stage ran at (status.stages[].site); a stage missing here ran at an
  // unknown site. An upstream stage's output is where it ran.
  std::map<std::string, std::string, std::less<>> upstream_sites;
  // Every EdgeSite's spec.type (Edge, Cloud, OnPrem) by name: placement modes Cloud and Edge
  // become the list of matching sites in the demand.
  std::map<std::string, std::string, std::less<>> site_types;
  // Sites the attempt must avoid (a retry after a pending timeout there): a required node
  // affinity `aidi.dev/site NotIn`.
  std::vector<std::string> avoid_sites;
};

// The name of attempt `attempt` (1, 2, ...) of `stage`: "<pipeline>-<stage>-<attempt>".
std::string StagePodName(const std::string& pipeline, const std::string& stage, int attempt);

// Where a stage writes its output, and so where its readers find it: out.parquet, or model.json
// for a train stage (the worker picks formats by extension).
std::string StageOutputPath(const std::string& pipeline, const Stage& stage);

// The aidi.dev/demand object for `stage` (keys only where the spec says something).
nlohmann::json StageDemand(const PipelineSpec& spec, const Stage& stage,
                           const StageContext& context);

// `pipeline` is the Pipeline object (metadata.name, namespace and uid are read).
nlohmann::json BuildStagePod(const nlohmann::json& pipeline, const PipelineSpec& spec,
                             const Stage& stage, int attempt, const StageContext& context,
                             const PodBuilderOptions& options);

}  // namespace aidi::op
