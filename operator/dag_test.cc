#include "operator/dag.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aidi::op {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A spec whose stages are op stages named by `deps` (name, dependsOn) in this order.
PipelineSpec Spec(const std::vector<std::pair<std::string, std::vector<std::string>>>& deps) {
  PipelineSpec spec;
  for (const auto& [name, depends_on] : deps) {
    Stage s;
    s.name = name;
    s.op = "noop";
    s.depends_on = depends_on;
    spec.stages.push_back(std::move(s));
  }
  return spec;
}

Dag MustBuild(const PipelineSpec& spec) {
  StatusOr<Dag> dag = BuildDag(spec);
  EXPECT_TRUE(dag.ok()) << dag.status().ToString();
  return std::move(dag).value();
}

std::string BuildError(const PipelineSpec& spec) {
  StatusOr<Dag> dag = BuildDag(spec);
  EXPECT_FALSE(dag.ok());
  if (dag.ok()) return "";
  EXPECT_TRUE(dag.status().IsInvalid()) << dag.status().ToString();
  return dag.status().message();
}

PipelineSpec Diamond() {
  return Spec({{"load", {}}, {"left", {"load"}}, {"right", {"load"}}, {"join", {"left", "right"}}});
}

TEST(DagTest, DiamondTopologicalOrderAndEdges) {
  Dag dag = MustBuild(Diamond());
  EXPECT_THAT(dag.TopologicalOrder(), ElementsAre("load", "left", "right", "join"));
  EXPECT_THAT(dag.Dependencies("join"), ElementsAre("left", "right"));
  EXPECT_THAT(dag.Dependents("load"), ElementsAre("left", "right"));
  EXPECT_THAT(dag.Dependencies("load"), IsEmpty());
  EXPECT_THAT(dag.Dependencies("nope"), IsEmpty());
  EXPECT_TRUE(dag.Contains("join"));
  EXPECT_FALSE(dag.Contains("nope"));
  EXPECT_EQ(dag.size(), 4u);
}

TEST(DagTest, TopologicalOrderIsStableInSpecOrder) {
  // Spec order lists dependents first; ready stages still come out in spec order.
  Dag dag = MustBuild(Spec({{"z", {"b"}}, {"y", {}}, {"b", {}}, {"a", {"y"}}}));
  EXPECT_THAT(dag.TopologicalOrder(), ElementsAre("y", "b", "z", "a"));
  EXPECT_THAT(dag.stages(), ElementsAre("z", "y", "b", "a"));
}

TEST(DagTest, ReadyAsDiamondStagesSucceed) {
  Dag dag = MustBuild(Diamond());
  std::map<std::string, StagePhase> phases;
  EXPECT_THAT(dag.Ready(phases), ElementsAre("load"));
  phases["load"] = StagePhase::kRunning;
  EXPECT_THAT(dag.Ready(phases), IsEmpty());
  phases["load"] = StagePhase::kSucceeded;
  EXPECT_THAT(dag.Ready(phases), ElementsAre("left", "right"));
  phases["left"] = StagePhase::kSucceeded;
  phases["right"] = StagePhase::kRunning;
  EXPECT_THAT(dag.Ready(phases), IsEmpty());
  phases["right"] = StagePhase::kSucceeded;
  EXPECT_THAT(dag.Ready(phases), ElementsAre("join"));
  phases["join"] = StagePhase::kSucceeded;
  EXPECT_THAT(dag.Ready(phases), IsEmpty());
}

TEST(DagTest, ReadyIgnoresFailedDependencies) {
  Dag dag = MustBuild(Diamond());
  std::map<std::string, StagePhase> phases = {{"load", StagePhase::kSucceeded},
                                              {"left", StagePhase::kFailed},
                                              {"right", StagePhase::kSucceeded}};
  EXPECT_THAT(dag.Ready(phases), IsEmpty());
}

TEST(DagTest, FanOutAllReadyAtOnce) {
  Dag dag = MustBuild(Spec({{"src", {}}, {"a", {"src"}}, {"b", {"src"}}, {"c", {"src"}}}));
  EXPECT_THAT(dag.Ready({{"src", StagePhase::kSucceeded}}), ElementsAre("a", "b", "c"));
  EXPECT_THAT(dag.Downstream("src"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(dag.Dependents("src"), ElementsAre("a", "b", "c"));
}

TEST(DagTest, IndependentRootsAreReadyTogether) {
  Dag dag = MustBuild(Spec({{"a", {}}, {"b", {}}, {"c", {"a", "b"}}}));
  EXPECT_THAT(dag.Ready({}), ElementsAre("a", "b"));
  EXPECT_THAT(dag.Ready({{"a", StagePhase::kSkipped}}), ElementsAre("b"));
}

TEST(DagTest, DownstreamIsTransitiveInTopologicalOrder) {
  Dag dag = MustBuild(
      Spec({{"a", {}}, {"e", {"d"}}, {"b", {"a"}}, {"c", {"b"}}, {"d", {"a"}}, {"x", {}}}));
  EXPECT_THAT(dag.Downstream("a"), ElementsAre("b", "c", "d", "e"));
  EXPECT_THAT(dag.Downstream("b"), ElementsAre("c"));
  EXPECT_THAT(dag.Downstream("e"), IsEmpty());
  EXPECT_THAT(dag.Downstream("x"), IsEmpty());
  EXPECT_THAT(dag.Downstream("missing"), IsEmpty());
}

TEST(DagTest, DownstreamOfDiamondRootHasJoinOnce) {
  Dag dag = MustBuild(Diamond());
  EXPECT_THAT(dag.Downstream("load"), ElementsAre("left", "right", "join"));
  EXPECT_THAT(dag.Downstream("left"), ElementsAre("join"));
}

TEST(DagTest, TwoCycleNamed) {
  EXPECT_EQ(BuildError(Spec({{"a", {"b"}}, {"b", {"a"}}})),
            "spec.stages: dependency cycle: a -> b -> a (each stage depends on the next)");
}

TEST(DagTest, ThreeCycleNamedInOrder) {
  EXPECT_THAT(BuildError(Spec({{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}})),
              HasSubstr("cycle: a -> b -> c -> a"));
}

TEST(DagTest, CycleNotInvolvingFirstStage) {
  EXPECT_THAT(
      BuildError(Spec(
          {{"start", {}}, {"sink", {"x"}}, {"x", {"y", "start"}}, {"y", {"z"}}, {"z", {"x"}}})),
      HasSubstr("cycle: x -> y -> z -> x"));
}

TEST(DagTest, ShortestCycleIsReported) {
  // a -> b -> c -> d -> a and c -> d -> c: the 2-cycle is reported.
  EXPECT_THAT(BuildError(Spec({{"a", {"b"}}, {"b", {"c"}}, {"c", {"d"}}, {"d", {"a", "c"}}})),
              HasSubstr("cycle: c -> d -> c"));
}

TEST(DagTest, SelfDependencyRejected) {
  EXPECT_EQ(BuildError(Spec({{"a", {}}, {"b", {"b"}}})),
            "spec.stages[1] (b): a stage cannot depend on itself");
}

TEST(DagTest, UnknownDependencyNamed) {
  EXPECT_EQ(BuildError(Spec({{"a", {}}, {"b", {"a", "ghost"}}})),
            "spec.stages[1] (b): dependsOn names unknown stage \"ghost\"");
}

TEST(DagTest, DuplicateNamesRejected) {
  EXPECT_EQ(BuildError(Spec({{"a", {}}, {"b", {}}, {"a", {}}})),
            "spec.stages[2] (a): duplicate stage name \"a\" (also spec.stages[0])");
}

TEST(DagTest, OpAndImageBothOrNeitherRejected) {
  PipelineSpec both = Spec({{"a", {}}});
  both.stages[0].image = "python:3.12-slim";
  EXPECT_EQ(BuildError(both),
            "spec.stages[0] (a): exactly one of op or image must be set (both are)");
  PipelineSpec neither = Spec({{"a", {}}});
  neither.stages[0].op.reset();
  EXPECT_EQ(BuildError(neither),
            "spec.stages[0] (a): exactly one of op or image must be set (neither is)");
  PipelineSpec image_only = Spec({{"a", {}}});
  image_only.stages[0].op.reset();
  image_only.stages[0].image = "busybox";
  EXPECT_TRUE(BuildDag(image_only).ok());
}

TEST(DagTest, UnknownOpsAndMismatchedFieldsRejected) {
  PipelineSpec unknown = Spec({{"a", {}}, {"b", {"a"}}});
  unknown.stages[1].op = "frobnicate";
  std::string error = BuildError(unknown);
  EXPECT_EQ(error.rfind("spec.stages[1] (b).op: unknown op \"frobnicate\" (aidi-worker runs: ", 0),
            0u)
      << error;
  EXPECT_NE(error.find("groupby"), std::string::npos) << error;

  PipelineSpec op_with_command = Spec({{"a", {}}});
  op_with_command.stages[0].command = {"sh"};
  EXPECT_EQ(BuildError(op_with_command),
            "spec.stages[0] (a): command, args and env are only used with image (an op stage "
            "takes params)");
  PipelineSpec op_with_env = Spec({{"a", {}}});
  op_with_env.stages[0].env = {{"X", "1"}};
  EXPECT_NE(BuildError(op_with_env).find("only used with image"), std::string::npos);

  PipelineSpec image_with_params = Spec({{"a", {}}});
  image_with_params.stages[0].op.reset();
  image_with_params.stages[0].image = "busybox";
  image_with_params.stages[0].params = {{"x", 1}};
  EXPECT_EQ(BuildError(image_with_params),
            "spec.stages[0] (a): params is only used with op (a container stage takes command, "
            "args and env)");
}

TEST(DagTest, DuplicateDependsOnEntriesCollapse) {
  Dag dag = MustBuild(Spec({{"a", {}}, {"b", {"a", "a"}}}));
  EXPECT_THAT(dag.Dependencies("b"), ElementsAre("a"));
  EXPECT_THAT(dag.Dependents("a"), ElementsAre("b"));
}

TEST(DagTest, StageInputMayNameAnAncestor) {
  PipelineSpec spec = Spec({{"a", {}}, {"b", {"a"}}, {"c", {"b"}}});
  spec.stages[2].inputs.push_back({.stage = "a"});
  spec.stages[2].inputs.push_back({.uri = "s3://bucket/x.csv"});
  EXPECT_TRUE(BuildDag(spec).ok());
}

TEST(DagTest, StageInputMustBeUpstream) {
  PipelineSpec spec = Spec({{"a", {}}, {"b", {}}});
  spec.stages[1].inputs.push_back({.stage = "a"});
  EXPECT_THAT(BuildError(spec),
              HasSubstr("spec.stages[1] (b): inputs[0].stage \"a\" must be a stage \"b\" depends "
                        "on"));
}

TEST(DagTest, StageInputUnknownStageNamed) {
  PipelineSpec spec = Spec({{"a", {}}});
  spec.stages[0].inputs.push_back({.stage = "ghost"});
  EXPECT_EQ(BuildError(spec), "spec.stages[0] (a): inputs[0].stage names unknown stage \"ghost\"");
}

}  // namespace
}  // namespace aidi::op
