#include "operator/api/pipeline.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aidi::op {
namespace {

using nlohmann::json;

std::string ParseError(const json& spec) {
  StatusOr<PipelineSpec> parsed = ParsePipelineSpec(spec);
  EXPECT_FALSE(parsed.ok());
  if (parsed.ok()) return "";
  EXPECT_TRUE(parsed.status().IsInvalid()) << parsed.status().ToString();
  return parsed.status().message();
}

PipelineSpec MustParse(const json& spec) {
  StatusOr<PipelineSpec> parsed = ParsePipelineSpec(spec);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return std::move(parsed).value();
}

TEST(PipelineSpecTest, MinimalSpecGetsDefaults) {
  PipelineSpec spec = MustParse(json::parse(R"({"stages": [{"name": "a", "op": "read_csv"}]})"));
  ASSERT_EQ(spec.stages.size(), 1u);
  const Stage& s = spec.stages[0];
  EXPECT_EQ(s.name, "a");
  EXPECT_EQ(s.op, "read_csv");
  EXPECT_FALSE(s.image.has_value());
  EXPECT_TRUE(s.params.is_null());
  EXPECT_EQ(s.placement.mode, PlacementMode::kAuto);
  EXPECT_EQ(s.retry.limit, 0);
  EXPECT_EQ(s.retry.backoff.initial_seconds, 10);
  EXPECT_EQ(s.retry.backoff.factor, 2.0);
  EXPECT_EQ(s.retry.backoff.max_seconds, 300);
  EXPECT_EQ(s.resources.gpu.count, 0);
  EXPECT_FALSE(spec.parallelism.has_value());
  EXPECT_FALSE(spec.suspend);
  EXPECT_EQ(spec.objective, Objective::kBalanced);
  EXPECT_EQ(spec.pod_gc_strategy, PodGCStrategy::kNever);
  EXPECT_FALSE(spec.ttl_seconds_after_finished.has_value());
}

TEST(PipelineSpecTest, FullSpecRoundTripsEveryField) {
  PipelineSpec spec = MustParse(json::parse(R"({
    "parallelism": 4, "suspend": true, "objective": "MinCost", "workspace": "ws",
    "serviceAccountName": "runner", "ttlSecondsAfterFinished": 3600,
    "podGC": {"strategy": "OnPodSuccess"},
    "stages": [
      {"name": "load", "op": "read_csv", "params": {"path": "/workspace/x.csv", "n": [1, 2]},
       "inputs": [{"uri": "s3://b/x.csv", "site": "edge-a", "bytes": 1048576}],
       "resources": {"cpu": 2, "memory": "8Gi",
                     "gpu": {"count": 1, "model": "NVIDIA-H100-80GB-HBM3", "minMemoryGiB": 40}},
       "placement": {"mode": "Sites", "sites": ["edge-a", "edge-b"], "maxLatencyMs": 50,
                     "weights": {"cost": 1, "time": 0.5}},
       "work": {"gpuSeconds": 12.5, "inputBytes": 99},
       "retry": {"limit": 3, "backoff": {"initialSeconds": 1, "factor": 1.5, "maxSeconds": 60}},
       "timeouts": {"activeSeconds": 600, "pendingSeconds": 120}},
      {"name": "shell", "dependsOn": ["load"], "image": "busybox",
       "command": ["sh", "-c"], "args": ["echo hi"],
       "env": [{"name": "A", "value": "1"}, {"name": "EMPTY"}],
       "inputs": [{"stage": "load"}]}
    ]})"));
  EXPECT_EQ(spec.parallelism, 4);
  EXPECT_TRUE(spec.suspend);
  EXPECT_EQ(spec.objective, Objective::kMinCost);
  EXPECT_EQ(spec.workspace, "ws");
  EXPECT_EQ(spec.service_account_name, "runner");
  EXPECT_EQ(spec.ttl_seconds_after_finished, 3600);
  EXPECT_EQ(spec.pod_gc_strategy, PodGCStrategy::kOnPodSuccess);
  ASSERT_EQ(spec.stages.size(), 2u);

  const Stage& load = spec.stages[0];
  EXPECT_EQ(load.params, json::parse(R"({"path": "/workspace/x.csv", "n": [1, 2]})"));
  ASSERT_EQ(load.inputs.size(), 1u);
  EXPECT_EQ(load.inputs[0].uri, "s3://b/x.csv");
  EXPECT_EQ(load.inputs[0].site, "edge-a");
  EXPECT_EQ(load.inputs[0].bytes, 1048576);
  EXPECT_EQ(load.resources.cpu, "2");
  EXPECT_EQ(load.resources.memory, "8Gi");
  EXPECT_EQ(load.resources.gpu.count, 1);
  EXPECT_EQ(load.resources.gpu.model, "NVIDIA-H100-80GB-HBM3");
  EXPECT_EQ(load.resources.gpu.min_memory_gib, 40);
  EXPECT_EQ(load.placement.mode, PlacementMode::kSites);
  EXPECT_THAT(load.placement.sites, ::testing::ElementsAre("edge-a", "edge-b"));
  EXPECT_EQ(load.placement.max_latency_ms, 50);
  ASSERT_TRUE(load.placement.weights.has_value());
  EXPECT_EQ(load.placement.weights->cost, 1.0);
  EXPECT_EQ(load.placement.weights->time, 0.5);
  EXPECT_FALSE(load.placement.weights->latency.has_value());
  EXPECT_EQ(load.work.gpu_seconds, 12.5);
  EXPECT_EQ(load.work.input_bytes, 99);
  EXPECT_EQ(load.retry.limit, 3);
  EXPECT_EQ(load.retry.backoff.initial_seconds, 1);
  EXPECT_EQ(load.retry.backoff.factor, 1.5);
  EXPECT_EQ(load.retry.backoff.max_seconds, 60);
  EXPECT_EQ(load.timeouts.active_seconds, 600);
  EXPECT_EQ(load.timeouts.pending_seconds, 120);

  const Stage& shell = spec.stages[1];
  EXPECT_EQ(shell.image, "busybox");
  EXPECT_FALSE(shell.op.has_value());
  EXPECT_THAT(shell.depends_on, ::testing::ElementsAre("load"));
  EXPECT_THAT(shell.command, ::testing::ElementsAre("sh", "-c"));
  EXPECT_THAT(shell.args, ::testing::ElementsAre("echo hi"));
  ASSERT_EQ(shell.env.size(), 2u);
  EXPECT_EQ(shell.env[1].name, "EMPTY");
  EXPECT_EQ(shell.env[1].value, "");
  ASSERT_EQ(shell.inputs.size(), 1u);
  EXPECT_EQ(shell.inputs[0].stage, "load");
}

TEST(PipelineSpecTest, RetryLimitErrorNamesPath) {
  json spec = json::parse(R"({"stages": [{"name": "a", "op": "x"}, {"name": "b", "op": "x"},
      {"name": "c", "op": "x", "retry": {"limit": -1}}]})");
  EXPECT_EQ(ParseError(spec), "spec.stages[2].retry.limit: must be an integer in [0, 100]");
  spec["stages"][2]["retry"]["limit"] = "3";
  EXPECT_EQ(ParseError(spec), "spec.stages[2].retry.limit: must be an integer in [0, 100]");
  spec["stages"][2]["retry"]["limit"] = 1.5;
  EXPECT_EQ(ParseError(spec), "spec.stages[2].retry.limit: must be an integer in [0, 100]");
}

TEST(PipelineSpecTest, HostAccessIsParsedForImageStagesOnly) {
  PipelineSpec spec = MustParse(json::parse(R"({"stages": [{"name": "a", "image": "x",
      "hostAccess": {"privileged": true, "hostPID": true,
                     "hostPaths": [{"path": "/var/log", "mountPath": "/logs"},
                                   {"path": "/data", "mountPath": "/d", "readOnly": false}]}}]})"));
  const HostAccess& h = spec.stages[0].host_access;
  EXPECT_TRUE(h.privileged && h.host_pid && !h.host_network && h.Any());
  ASSERT_EQ(h.host_paths.size(), 2u);
  EXPECT_TRUE(h.host_paths[0].read_only);  // read-only unless said otherwise
  EXPECT_FALSE(h.host_paths[1].read_only);
  EXPECT_EQ(ParseError(json::parse(R"({"stages": [{"name": "a", "op": "noop",
      "hostAccess": {"hostNetwork": true}}]})")),
            "spec.stages[0].hostAccess: only stages with an image may ask for host access");
  EXPECT_EQ(ParseError(json::parse(R"({"stages": [{"name": "a", "image": "x",
      "hostAccess": {"hostPaths": [{"path": "var", "mountPath": "/v"}]}}]})")),
            "spec.stages[0].hostAccess.hostPaths[0].path: must be an absolute path");
  EXPECT_FALSE(HostAccessPolicy::FromNames({"privileged", "root"}).ok());
  auto policy = HostAccessPolicy::FromNames({"hostPath", "hostPID"});
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->host_path && policy->host_pid && !policy->privileged);
}

TEST(PipelineSpecTest, StagesRequired) {
  EXPECT_EQ(ParseError(json::object()), "spec.stages: must list at least 1 stage");
  EXPECT_EQ(ParseError(json::parse(R"({"stages": []})")),
            "spec.stages: must list at least 1 stage");
  EXPECT_EQ(ParseError(json::parse(R"({"stages": {}})")), "spec.stages: must be an array");
  EXPECT_EQ(ParseError(json::array()), "spec: must be an object");
}

TEST(PipelineSpecTest, StageShapeErrorsNamePaths) {
  EXPECT_EQ(ParseError(json::parse(R"({"stages": [{"op": "x"}]})")),
            "spec.stages[0].name: must be a non-empty string");
  EXPECT_EQ(ParseError(json::parse(R"({"stages": [7]})")), "spec.stages[0]: must be an object");
  EXPECT_EQ(ParseError(json::parse(R"({"stages": [{"name": "a", "dependsOn": ["b", 3]}]})")),
            "spec.stages[0].dependsOn[1]: must be a string");
  EXPECT_EQ(ParseError(json::parse(R"({"stages": [{"name": "a", "params": [1]}]})")),
            "spec.stages[0].params: must be an object");
  EXPECT_EQ(ParseError(json::parse(R"({"stages": [{"name": "a", "env": [{"value": "v"}]}]})")),
            "spec.stages[0].env[0].name: must be a non-empty string");
}

TEST(PipelineSpecTest, InputErrorsNamePaths) {
  EXPECT_EQ(
      ParseError(json::parse(
          R"({"stages": [{"name": "a", "op": "x", "inputs": [{"stage": "b", "uri": "s3://x/y"}]}]})")),
      "spec.stages[0].inputs[0]: exactly one of stage or uri must be set");
  EXPECT_EQ(
      ParseError(json::parse(
          R"({"stages": [{"name": "a", "op": "x", "inputs": [{"uri": "s3://x/y", "bytes": -5}]}]})")),
      "spec.stages[0].inputs[0].bytes: must be an integer >= 0");
}

TEST(PipelineSpecTest, EnumErrorsListAllowedValues) {
  EXPECT_EQ(ParseError(json::parse(R"({"objective": "Cheap", "stages": [{"name": "a"}]})")),
            "spec.objective: must be one of MinCost, MinTime, Balanced, not \"Cheap\"");
  EXPECT_EQ(
      ParseError(json::parse(R"({"stages": [{"name": "a", "placement": {"mode": "Moon"}}]})")),
      "spec.stages[0].placement.mode: must be one of Auto, Cloud, Edge, Sites, not \"Moon\"");
  EXPECT_EQ(ParseError(json::parse(R"({"podGC": {"strategy": 1}, "stages": [{"name": "a"}]})")),
            "spec.podGC.strategy: must be a string");
}

TEST(PipelineSpecTest, PlacementSitesOnlyWithModeSites) {
  EXPECT_EQ(
      ParseError(json::parse(R"({"stages": [{"name": "a", "placement": {"mode": "Sites"}}]})")),
      "spec.stages[0].placement.sites: must be set when mode is Sites, and only then");
  EXPECT_EQ(
      ParseError(json::parse(R"({"stages": [{"name": "a", "placement": {"sites": ["e"]}}]})")),
      "spec.stages[0].placement.sites: must be set when mode is Sites, and only then");
}

TEST(PipelineSpecTest, NumericRangesChecked) {
  EXPECT_EQ(ParseError(json::parse(R"({"parallelism": 0, "stages": [{"name": "a"}]})")),
            "spec.parallelism: must be an integer in [1, 2147483647]");
  EXPECT_EQ(ParseError(
                json::parse(R"({"stages": [{"name": "a", "resources": {"gpu": {"count": 65}}}]})")),
            "spec.stages[0].resources.gpu.count: must be an integer in [0, 64]");
  EXPECT_EQ(ParseError(json::parse(
                R"({"stages": [{"name": "a", "retry": {"backoff": {"factor": 0.5}}}]})")),
            "spec.stages[0].retry.backoff.factor: must be a number >= 1.0");
  EXPECT_EQ(
      ParseError(json::parse(R"({"stages": [{"name": "a", "timeouts": {"activeSeconds": 0}}]})")),
      "spec.stages[0].timeouts.activeSeconds: must be an integer >= 1");
  EXPECT_EQ(ParseError(json::parse(R"({"stages": [{"name": "a", "resources": {"cpu": -1}}]})")),
            "spec.stages[0].resources.cpu: must be a quantity (a string such as 500m, or an "
            "integer >= 0)");
  EXPECT_EQ(ParseError(json::parse(R"({"suspend": "yes", "stages": [{"name": "a"}]})")),
            "spec.suspend: must be a boolean");
}

TEST(PipelineSpecTest, BackoffMaxBelowInitialRejected) {
  EXPECT_EQ(ParseError(json::parse(
                R"({"stages": [{"name": "a", "retry": {"backoff": {"initialSeconds": 500}}}]})")),
            "spec.stages[0].retry.backoff.maxSeconds: must be at least initialSeconds");
}

TEST(PipelineSpecTest, NullAndUnknownFieldsIgnored) {
  PipelineSpec spec = MustParse(json::parse(
      R"({"parallelism": null, "extra": 1, "stages": [{"name": "a", "op": "x", "retry": null,
          "future": {"k": 1}}]})"));
  EXPECT_FALSE(spec.parallelism.has_value());
  EXPECT_EQ(spec.stages[0].retry.limit, 0);
}

TEST(PipelineSpecTest, EnumNames) {
  EXPECT_EQ(PlacementModeName(PlacementMode::kEdge), "Edge");
  EXPECT_EQ(ObjectiveName(Objective::kMinTime), "MinTime");
  EXPECT_EQ(PodGCStrategyName(PodGCStrategy::kOnPipelineSuccess), "OnPipelineSuccess");
  EXPECT_EQ(StagePhaseName(StagePhase::kSkipped), "Skipped");
}

}  // namespace
}  // namespace aidi::op
