#include "operator/pod_builder.h"

#include <algorithm>

namespace aidi::op {
namespace {

using nlohmann::json;

constexpr char kContainerName[] = "stage";
constexpr char kWorkspacePath[] = "/workspace";

// The inputs a stage reads: as written, or the outputs of its dependencies.
std::vector<StageInput> EffectiveInputs(const Stage& stage) {
  if (!stage.inputs.empty()) return stage.inputs;
  std::vector<StageInput> inputs;
  for (const auto& dep : stage.depends_on) {
    StageInput in;
    in.stage = dep;
    inputs.push_back(std::move(in));
  }
  return inputs;
}

json Weights(const PlacementWeights& w) {
  json out = json::object();
  if (w.cost) out["cost"] = *w.cost;
  if (w.time) out["time"] = *w.time;
  if (w.latency) out["latency"] = *w.latency;
  return out;
}

json SecurityContext() {
  return {{"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"capabilities", {{"drop", json::array({"ALL"})}}}};
}

}  // namespace

std::string StagePodName(const std::string& pipeline, const std::string& stage, int attempt) {
  return pipeline + "-" + stage + "-" + std::to_string(attempt);
}

std::string StageOutputPath(const std::string& pipeline, const Stage& stage) {
  const char* file = stage.op && *stage.op == "train" ? "model.json" : "out.parquet";
  return std::string(kWorkspacePath) + "/" + pipeline + "/" + stage.name + "/" + file;
}

json StageDemand(const PipelineSpec& spec, const Stage& stage, const StageContext& context) {
  const auto& upstream_sites = context.upstream_sites;
  json demand = json::object();
  const GpuRequest& gpu = stage.resources.gpu;
  demand["gpus"] = gpu.count;
  if (gpu.model) demand["gpuModel"] = *gpu.model;
  if (gpu.min_memory_gib) demand["gpuMemoryGiB"] = *gpu.min_memory_gib;
  if (stage.work.gpu_seconds) demand["workGpuSeconds"] = *stage.work.gpu_seconds;

  // Input bytes: work.inputBytes, else the sum of the uri inputs' bytes. Input site: the site of
  // the input holding the most known bytes; when no input's size is known, the first input
  // whose site is known (an upstream stage's output lives where that stage ran).
  int64_t uri_bytes = 0;
  bool any_bytes = false;
  std::string best_site;
  int64_t best_bytes = -1;
  std::string first_site;
  for (const auto& in : EffectiveInputs(stage)) {
    std::string site;
    std::optional<int64_t> bytes;
    if (in.stage) {
      if (auto it = upstream_sites.find(*in.stage); it != upstream_sites.end()) site = it->second;
    } else {
      site = in.site.value_or("");
      bytes = in.bytes;
      if (bytes) {
        uri_bytes += *bytes;
        any_bytes = true;
      }
    }
    if (site.empty()) continue;
    if (first_site.empty()) first_site = site;
    if (bytes && *bytes > best_bytes) {
      best_bytes = *bytes;
      best_site = site;
    }
  }
  if (stage.work.input_bytes) {
    demand["inputBytes"] = *stage.work.input_bytes;
  } else if (any_bytes) {
    demand["inputBytes"] = uri_bytes;
  }
  std::string input_site = best_site.empty() ? first_site : best_site;
  if (!input_site.empty()) demand["inputSite"] = input_site;

  demand["objective"] = std::string(ObjectiveName(spec.objective));
  if (stage.placement.weights) demand["weights"] = Weights(*stage.placement.weights);
  if (stage.placement.mode == PlacementMode::kSites) demand["sites"] = stage.placement.sites;
  if (stage.placement.mode == PlacementMode::kCloud ||
      stage.placement.mode == PlacementMode::kEdge) {
    // Cloud: sites of type Cloud. Edge: Edge and OnPrem sites. No such site: nothing fits.
    json sites = json::array();
    bool cloud = stage.placement.mode == PlacementMode::kCloud;
    for (const auto& [site, type] : context.site_types) {
      if ((type == "Cloud") == cloud) sites.push_back(site);
    }
    demand["sites"] = std::move(sites);
  }
  if (stage.placement.max_latency_ms) demand["maxLatencyMs"] = *stage.placement.max_latency_ms;
  return demand;
}

json BuildStagePod(const json& pipeline, const PipelineSpec& spec, const Stage& stage, int attempt,
                   const StageContext& context, const PodBuilderOptions& options) {
  const auto& avoid_sites = context.avoid_sites;
  const json& meta = pipeline.at("metadata");
  const std::string name = meta.at("name").get<std::string>();
  const std::string ns = meta.value("namespace", "default");

  json container = {{"name", kContainerName}, {"securityContext", SecurityContext()}};
  if (stage.op) {
    json args = json::array({"run", "--op", *stage.op, "--params",
                             stage.params.is_null() ? "{}" : stage.params.dump()});
    for (const auto& in : EffectiveInputs(stage)) {
      args.push_back("--input");
      if (!in.stage) {
        args.push_back(*in.uri);
        continue;
      }
      // Validation guarantees the stage exists; an unknown one would read nothing.
      auto upstream = std::find_if(spec.stages.begin(), spec.stages.end(),
                                   [&](const Stage& s) { return s.name == *in.stage; });
      Stage named;
      named.name = *in.stage;
      args.push_back(StageOutputPath(name, upstream != spec.stages.end() ? *upstream : named));
    }
    args.push_back("--output");
    args.push_back(StageOutputPath(name, stage));
    container["image"] = options.worker_image;
    container["command"] = json::array({"aidi-worker"});
    container["args"] = std::move(args);
    container["securityContext"]["runAsUser"] = kWorkerUid;
    container["securityContext"]["runAsGroup"] = kWorkerUid;
  } else {
    container["image"] = *stage.image;
    if (!stage.command.empty()) container["command"] = stage.command;
    if (!stage.args.empty()) container["args"] = stage.args;
  }
  json env = json::array();
  for (const auto& e : stage.env) env.push_back({{"name", e.name}, {"value", e.value}});
  env.push_back({{"name", "AIDI_PIPELINE"}, {"value", name}});
  env.push_back({{"name", "AIDI_STAGE"}, {"value", stage.name}});
  env.push_back({{"name", "AIDI_ATTEMPT"}, {"value", std::to_string(attempt)}});
  container["env"] = std::move(env);

  json requests = json::object();
  json limits = json::object();
  if (!stage.resources.cpu.empty()) requests["cpu"] = stage.resources.cpu;
  if (!stage.resources.memory.empty()) {
    requests["memory"] = stage.resources.memory;
    limits["memory"] = stage.resources.memory;
  }
  if (stage.resources.gpu.count > 0) {
    requests[kGpuResource] = std::to_string(stage.resources.gpu.count);
    limits[kGpuResource] = std::to_string(stage.resources.gpu.count);
  }
  json resources = json::object();
  if (!requests.empty()) resources["requests"] = std::move(requests);
  if (!limits.empty()) resources["limits"] = std::move(limits);
  container["resources"] = std::move(resources);
  container["volumeMounts"] = json::array({{{"name", "workspace"}, {"mountPath", kWorkspacePath}},
                                           {{"name", "tmp"}, {"mountPath", "/tmp"}}});

  json workspace = {{"name", "workspace"}};
  if (spec.workspace) {
    workspace["persistentVolumeClaim"] = {{"claimName", *spec.workspace}};
  } else {
    workspace["emptyDir"] = json::object();
  }

  json pod_spec = {
      {"schedulerName", options.scheduler_name},
      {"restartPolicy", "Never"},
      {"containers", json::array({std::move(container)})},
      {"volumes",
       json::array({std::move(workspace), {{"name", "tmp"}, {"emptyDir", json::object()}}})},
      {"securityContext",
       {{"runAsNonRoot", true}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
  };
  // Every stage of a pipeline shares the workspace, custom images included: one group owns it.
  pod_spec["securityContext"]["fsGroup"] = kWorkerUid;
  // Host access, as the stage asked and the admin allowed (the planner refused anything else).
  const HostAccess& host = stage.host_access;
  if (host.privileged) {
    json& sc = pod_spec["containers"][0]["securityContext"];
    sc["privileged"] = true;
    sc["allowPrivilegeEscalation"] = true;  // the API refuses privileged without it
    sc.erase("capabilities");
  }
  if (host.host_network) pod_spec["hostNetwork"] = true;
  if (host.host_pid) pod_spec["hostPID"] = true;
  for (size_t i = 0; i < host.host_paths.size(); ++i) {
    const std::string volume = "host-" + std::to_string(i);
    pod_spec["volumes"].push_back(
        {{"name", volume}, {"hostPath", {{"path", host.host_paths[i].path}}}});
    pod_spec["containers"][0]["volumeMounts"].push_back(
        {{"name", volume},
         {"mountPath", host.host_paths[i].mount_path},
         {"readOnly", host.host_paths[i].read_only}});
  }
  if (spec.service_account_name) {
    pod_spec["serviceAccountName"] = *spec.service_account_name;
  } else {
    // The worker never talks to the API server; a custom stage that must names an account.
    pod_spec["automountServiceAccountToken"] = false;
  }
  if (stage.resources.gpu.model) {
    pod_spec["nodeSelector"] = {{kGpuProductLabel, *stage.resources.gpu.model}};
  }

  // Sites the pod may and may not run on, as required node affinity, so the constraints hold
  // even when a stock scheduler places the pod.
  // Sites mode names them; Cloud and Edge mean the sites of those types (as in the demand), so
  // a CPU stage that no extender sees still keeps to them. With no site of the type known yet
  // there is nothing to name, and the pod is left unconstrained.
  json expressions = json::array();
  if (stage.placement.mode == PlacementMode::kSites) {
    expressions.push_back(
        {{"key", kSiteLabel}, {"operator", "In"}, {"values", stage.placement.sites}});
  } else if (stage.placement.mode == PlacementMode::kCloud ||
             stage.placement.mode == PlacementMode::kEdge) {
    json sites = StageDemand(spec, stage, context).value("sites", json::array());
    if (!sites.empty()) {
      expressions.push_back({{"key", kSiteLabel}, {"operator", "In"}, {"values", sites}});
    }
  }
  if (!avoid_sites.empty()) {
    expressions.push_back({{"key", kSiteLabel}, {"operator", "NotIn"}, {"values", avoid_sites}});
  }
  if (!expressions.empty()) {
    pod_spec["affinity"] = {
        {"nodeAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           {{"nodeSelectorTerms", json::array({{{"matchExpressions", expressions}}})}}}}}};
  }

  json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", StagePodName(name, stage.name, attempt)},
        {"namespace", ns},
        {"labels",
         {{kPipelineLabel, name},
          {kStageLabel, stage.name},
          {kAttemptLabel, std::to_string(attempt)}}},
        {"annotations", {{kDemandAnnotation, StageDemand(spec, stage, context).dump()}}},
        {"ownerReferences", json::array({{{"apiVersion", "aidi.dev/v1alpha1"},
                                          {"kind", "Pipeline"},
                                          {"name", name},
                                          {"uid", meta.value("uid", "")},
                                          {"controller", true},
                                          {"blockOwnerDeletion", true}}})}}},
      {"spec", std::move(pod_spec)},
  };
  return pod;
}

}  // namespace aidi::op
