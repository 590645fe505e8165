#include "operator/pod_builder.h"

#include <gtest/gtest.h>

namespace aidi::op {
namespace {

using nlohmann::json;

json Pipeline() {
  return {{"metadata", {{"name", "etl"}, {"namespace", "team-a"}, {"uid", "u-1"}}}};
}

PipelineSpec Spec(const json& spec) {
  auto parsed = ParsePipelineSpec(spec);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

const Stage& StageNamed(const PipelineSpec& spec, const std::string& name) {
  for (const auto& s : spec.stages) {
    if (s.name == name) return s;
  }
  ADD_FAILURE() << "no stage " << name;
  return spec.stages.front();
}

TEST(PodBuilderTest, OpStageFollowsThePodContract) {
  PipelineSpec spec =
      Spec({{"workspace", "data"},
            {"stages",
             {{{"name", "load"}, {"op", "read_csv"}, {"params", {{"path", "x.csv"}}}},
              {{"name", "clean"},
               {"op", "filter"},
               {"dependsOn", {"load"}},
               {"params", {{"where", "amount > 0"}}},
               {"resources",
                {{"cpu", "500m"},
                 {"memory", "1Gi"},
                 {"gpu", {{"count", 2}, {"model", "NVIDIA-H100-80GB-HBM3"}}}}}}}}});
  PodBuilderOptions options{"aidi-scheduler", "aidi/worker:1.0"};
  json pod = BuildStagePod(Pipeline(), spec, StageNamed(spec, "clean"), 3, {}, options);
  const json& meta = pod["metadata"];
  EXPECT_EQ(meta["name"], "etl-clean-3");
  EXPECT_EQ(meta["namespace"], "team-a");
  EXPECT_EQ(meta["labels"]["aidi.dev/pipeline"], "etl");
  EXPECT_EQ(meta["labels"]["aidi.dev/stage"], "clean");
  EXPECT_EQ(meta["labels"]["aidi.dev/attempt"], "3");
  ASSERT_EQ(meta["ownerReferences"].size(), 1u);
  EXPECT_EQ(meta["ownerReferences"][0]["uid"], "u-1");
  EXPECT_EQ(meta["ownerReferences"][0]["kind"], "Pipeline");
  EXPECT_EQ(meta["ownerReferences"][0]["controller"], true);
  const json& spec_json = pod["spec"];
  EXPECT_EQ(spec_json["schedulerName"], "aidi-scheduler");
  EXPECT_EQ(spec_json["restartPolicy"], "Never");
  EXPECT_EQ(spec_json["nodeSelector"]["nvidia.com/gpu.product"], "NVIDIA-H100-80GB-HBM3");
  EXPECT_EQ(spec_json["volumes"][0]["persistentVolumeClaim"]["claimName"], "data");
  EXPECT_EQ(spec_json["securityContext"]["runAsNonRoot"], true);
  const json& c = spec_json["containers"][0];
  EXPECT_EQ(c["image"], "aidi/worker:1.0");
  EXPECT_EQ(c["command"], json::array({"aidi-worker"}));
  EXPECT_EQ(c["args"],
            json::array({"run", "--op", "filter", "--params", R"({"where":"amount > 0"})",
                         "--input", "/workspace/etl/load/out.parquet", "--output",
                         "/workspace/etl/clean/out.parquet"}));
  EXPECT_EQ(c["resources"]["requests"]["nvidia.com/gpu"], "2");
  EXPECT_EQ(c["resources"]["limits"]["nvidia.com/gpu"], "2");
  EXPECT_EQ(c["resources"]["requests"]["cpu"], "500m");
  EXPECT_EQ(c["resources"]["limits"]["memory"], "1Gi");
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["runAsUser"], kWorkerUid);
  EXPECT_EQ(c["volumeMounts"][0]["mountPath"], "/workspace");
  json demand = json::parse(meta["annotations"]["aidi.dev/demand"].get<std::string>());
  EXPECT_EQ(demand["gpus"], 2);
  EXPECT_EQ(demand["gpuModel"], "NVIDIA-H100-80GB-HBM3");
  EXPECT_EQ(demand["objective"], "Balanced");
}

TEST(PodBuilderTest, CustomStageRunsItsOwnContainer) {
  PipelineSpec spec = Spec({{"stages",
                             {{{"name", "train"},
                               {"image", "ghcr.io/x/train:2"},
                               {"command", {"python", "train.py"}},
                               {"args", {"--epochs", "3"}},
                               {"env", {{{"name", "MODE"}, {"value", "fast"}}}}}}}});
  json pod = BuildStagePod(Pipeline(), spec, spec.stages[0], 1, {}, {});
  const json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "ghcr.io/x/train:2");
  EXPECT_EQ(c["command"], json::array({"python", "train.py"}));
  EXPECT_EQ(c["args"], json::array({"--epochs", "3"}));
  EXPECT_EQ(c["env"][0], json({{"name", "MODE"}, {"value", "fast"}}));
  EXPECT_FALSE(c["securityContext"].contains("runAsUser"));     // the image's own non-root user
  EXPECT_EQ(pod["spec"]["securityContext"]["fsGroup"], 65532);  // shares the workspace's group
  EXPECT_EQ(pod["spec"]["volumes"][0]["emptyDir"], json::object());  // no workspace PVC
  EXPECT_EQ(pod["spec"]["automountServiceAccountToken"], false);
  EXPECT_FALSE(pod["spec"].contains("affinity"));
}

TEST(PodBuilderTest, DemandTakesInputSiteFromTheBiggestInputOrTheUpstreamStage) {
  PipelineSpec spec = Spec(
      {{"objective", "MinCost"},
       {"stages",
        {{{"name", "a"}, {"op", "read_csv"}},
         {{"name", "b"},
          {"op", "join"},
          {"dependsOn", {"a"}},
          {"inputs",
           {{{"stage", "a"}},
            {{"uri", "s3://x/small"}, {"site", "edge-1"}, {"bytes", 10}},
            {{"uri", "s3://x/big"}, {"site", "edge-2"}, {"bytes", 1000}}}},
          {"work", {{"gpuSeconds", 120.5}}},
          {"placement",
           {{"mode", "Sites"}, {"sites", {"edge-1", "edge-2"}}, {"maxLatencyMs", 40}}}},
         {{"name", "c"}, {"op", "aggregate"}, {"dependsOn", {"a"}}, {"work", {{"inputBytes", 77}}}},
         {{"name", "d"}, {"op", "aggregate"}, {"placement", {{"mode", "Edge"}}}}}}});
  StageContext context;
  context.upstream_sites = {{"a", "cloud-1"}};
  context.site_types = {{"cloud-1", "Cloud"}, {"edge-1", "Edge"}, {"edge-2", "OnPrem"}};
  json b = StageDemand(spec, StageNamed(spec, "b"), context);
  EXPECT_EQ(b["inputBytes"], 1010);
  EXPECT_EQ(b["inputSite"], "edge-2");
  EXPECT_EQ(b["workGpuSeconds"], 120.5);
  EXPECT_EQ(b["sites"], json::array({"edge-1", "edge-2"}));
  EXPECT_EQ(b["maxLatencyMs"], 40);
  EXPECT_EQ(b["objective"], "MinCost");
  EXPECT_EQ(b["gpus"], 0);
  json c = StageDemand(spec, StageNamed(spec, "c"), context);
  EXPECT_EQ(c["inputBytes"], 77);
  EXPECT_EQ(c["inputSite"], "cloud-1");  // a's output lives where a ran
  json d = StageDemand(spec, StageNamed(spec, "d"), context);
  EXPECT_EQ(d["sites"], json::array({"edge-1", "edge-2"}));  // Edge: Edge and OnPrem sites
  EXPECT_FALSE(d.contains("inputSite"));

  json pod = BuildStagePod(Pipeline(), spec, StageNamed(spec, "b"), 1, context, {});
  const json& terms = pod["spec"]["affinity"]["nodeAffinity"]
                         ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"];
  EXPECT_EQ(terms[0]["matchExpressions"][0]["operator"], "In");
  EXPECT_EQ(pod["spec"]["containers"][0]["args"][6], "/workspace/etl/a/out.parquet");
  EXPECT_EQ(pod["spec"]["containers"][0]["args"][8], "s3://x/small");
}

TEST(PodBuilderTest, TrainWritesAJsonModelThatPredictReads) {
  // The worker picks formats by extension: a model must be .json, for train and for predict.
  PipelineSpec spec = Spec({{"stages",
                             {{{"name", "prep"}, {"op", "normalize"}},
                              {{"name", "fit"}, {"op", "train"}, {"dependsOn", {"prep"}}},
                              {{"name", "score"},
                               {"op", "predict"},
                               {"inputs", {{{"stage", "prep"}}, {{"stage", "fit"}}}}}}}});
  json fit = BuildStagePod(Pipeline(), spec, StageNamed(spec, "fit"), 1, {}, {});
  json score = BuildStagePod(Pipeline(), spec, StageNamed(spec, "score"), 1, {}, {});
  const json& fit_args = fit["spec"]["containers"][0]["args"];
  EXPECT_EQ(fit_args[fit_args.size() - 1], "/workspace/etl/fit/model.json");
  const json& score_args = score["spec"]["containers"][0]["args"];
  EXPECT_EQ(score_args[6], "/workspace/etl/prep/out.parquet");
  EXPECT_EQ(score_args[8], "/workspace/etl/fit/model.json");
  EXPECT_EQ(score_args[10], "/workspace/etl/score/out.parquet");
}

TEST(PodBuilderTest, EdgeAndCloudModesBecomeSiteAffinity) {
  PipelineSpec spec = Spec({{"stages",
                             {{{"name", "e"}, {"op", "noop"}, {"placement", {{"mode", "Edge"}}}},
                              {{"name", "c"}, {"op", "noop"}, {"placement", {{"mode", "Cloud"}}}},
                              {{"name", "a"}, {"op", "noop"}}}}});
  StageContext context;
  context.site_types = {{"edge-1", "Edge"}, {"plant", "OnPrem"}, {"cloud-1", "Cloud"}};
  auto terms = [&](const std::string& stage) {
    json pod = BuildStagePod(Pipeline(), spec, StageNamed(spec, stage), 1, context, {});
    return pod["spec"].value("affinity", json::object());
  };
  EXPECT_EQ(terms("e")["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                      ["nodeSelectorTerms"][0]["matchExpressions"][0]["values"],
            json::array({"edge-1", "plant"}));
  EXPECT_EQ(terms("c")["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                      ["nodeSelectorTerms"][0]["matchExpressions"][0]["values"],
            json::array({"cloud-1"}));
  EXPECT_TRUE(terms("a").empty());  // Auto: anywhere
  context.site_types.clear();       // no site known yet: nothing to name
  EXPECT_TRUE(terms("e").empty());
}

TEST(PodBuilderTest, AllowedHostAccessReachesThePod) {
  PipelineSpec spec =
      Spec({{"stages",
             {{{"name", "probe"},
               {"image", "busybox"},
               {"hostAccess",
                {{"privileged", true},
                 {"hostNetwork", true},
                 {"hostPaths", {{{"path", "/var/log"}, {"mountPath", "/logs"}}}}}}}}}});
  json pod = BuildStagePod(Pipeline(), spec, spec.stages[0], 1, {}, {});
  const json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["securityContext"]["privileged"], true);
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], true);  // required with privileged
  EXPECT_EQ(pod["spec"]["hostNetwork"], true);
  EXPECT_FALSE(pod["spec"].contains("hostPID"));
  EXPECT_EQ(pod["spec"]["volumes"].back(),
            json({{"name", "host-0"}, {"hostPath", {{"path", "/var/log"}}}}));
  EXPECT_EQ(c["volumeMounts"].back(),
            json({{"name", "host-0"}, {"mountPath", "/logs"}, {"readOnly", true}}));
  // Without host access nothing of it appears.
  PipelineSpec plain = Spec({{"stages", {{{"name", "a"}, {"image", "busybox"}}}}});
  json p2 = BuildStagePod(Pipeline(), plain, plain.stages[0], 1, {}, {});
  EXPECT_FALSE(p2["spec"].contains("hostNetwork"));
  EXPECT_EQ(p2["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"], false);
  for (const json& v : p2["spec"]["volumes"]) EXPECT_FALSE(v.contains("hostPath"));
}

TEST(PodBuilderTest, AvoidedSitesBecomeNotInAffinity) {
  PipelineSpec spec = Spec({{"stages", {{{"name", "a"}, {"op", "read_csv"}}}}});
  StageContext context;
  context.avoid_sites = {"edge-3"};
  json pod = BuildStagePod(Pipeline(), spec, spec.stages[0], 2, context, {});
  const json& expr =
      pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
         ["nodeSelectorTerms"][0]["matchExpressions"][0];
  EXPECT_EQ(expr["key"], "aidi.dev/site");
  EXPECT_EQ(expr["operator"], "NotIn");
  EXPECT_EQ(expr["values"], json::array({"edge-3"}));
}

}  // namespace
}  // namespace aidi::op
