#include "operator/controller/pipeline_plan.h"

#include <gtest/gtest.h>

#include <set>

namespace aidi::op {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using WallTime = Clock::WallTime;

WallTime T(int s) { return WallTime(seconds(1'800'000'000 + s)); }

// A Pipeline as served: metadata, spec and (optionally) the status last written.
json Pipeline(json stages, json extra_spec = json::object()) {
  json spec = std::move(extra_spec);
  spec["stages"] = std::move(stages);
  return {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"uid", "u"}, {"generation", 1}}},
          {"spec", std::move(spec)}};
}

json OpStage(const std::string& name, std::vector<std::string> deps = {}) {
  json s = {{"name", name}, {"op", "noop"}};
  if (!deps.empty()) s["dependsOn"] = deps;
  return s;
}

StagePod Pod(const std::string& stage, int attempt, const std::string& phase, WallTime created) {
  StagePod pod;
  pod.name = "p-" + stage + "-" + std::to_string(attempt);
  pod.stage = stage;
  pod.attempt = attempt;
  pod.phase = phase;
  pod.created = created;
  if (phase != "Pending") pod.started = created;
  return pod;
}

// Drives the plan the way the reconciler does: the status it returns is what the next call
// reads, pods it creates appear Pending, pods it deletes disappear.
class PlanDriver {
 public:
  explicit PlanDriver(json pipeline, HostAccessPolicy host_access = {})
      : pipeline_(std::move(pipeline)), host_access_(host_access) {}

  Plan Step(WallTime now) {
    Plan plan = PlanPipeline({pipeline_, pods_, now, nullptr, host_access_});
    for (const auto& c : plan.create) {
      pods_.push_back(Pod(c.stage, c.attempt, "Pending", now));
      created_.push_back(pods_.back().name);
    }
    pipeline_["status"] = plan.status;
    for (const auto& r : plan.remove) {
      std::erase_if(pods_, [&](const StagePod& p) { return p.name == r.name; });
      removed_.push_back(r.name);
    }
    for (const auto& e : plan.events) reasons_.push_back(e.reason);
    return plan;
  }
  void SetPod(const std::string& name, const std::string& phase, WallTime at) {
    for (auto& p : pods_) {
      if (p.name != name) continue;
      p.phase = phase;
      if (phase == "Running") p.started = at;
      if (phase == "Failed") p.failure = "exit code 1 (Error)";
      return;
    }
    ADD_FAILURE() << "no pod " << name;
  }
  json& pipeline() { return pipeline_; }
  const json& status() const { return pipeline_["status"]; }
  json Stage(const std::string& name) const {
    for (const auto& e : pipeline_["status"]["stages"]) {
      if (e["name"] == name) return e;
    }
    return json();
  }
  std::vector<StagePod>& pods() { return pods_; }
  const std::vector<std::string>& created() const { return created_; }
  const std::vector<std::string>& removed() const { return removed_; }
  bool Emitted(const std::string& reason) const {
    return std::find(reasons_.begin(), reasons_.end(), reason) != reasons_.end();
  }

 private:
  json pipeline_;
  HostAccessPolicy host_access_;
  std::vector<StagePod> pods_;
  std::vector<std::string> created_, removed_, reasons_;
};

std::string Cond(const json& status, const std::string& type) {
  for (const auto& c : status["conditions"]) {
    if (c["type"] == type) return c["status"];
  }
  return "absent";
}

std::vector<std::string> Names(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& c : plan.create) out.push_back(c.stage + "-" + std::to_string(c.attempt));
  return out;
}

TEST(PipelinePlanTest, DiamondRunsInDependencyOrder) {
  PlanDriver d(
      Pipeline({OpStage("a"), OpStage("b", {"a"}), OpStage("c", {"a"}), OpStage("d", {"b", "c"})}));
  EXPECT_EQ(Names(d.Step(T(0))), (std::vector<std::string>{"a-1"}));
  EXPECT_EQ(d.status()["phase"], "Running");
  EXPECT_EQ(d.status()["progress"], "0/4");
  EXPECT_EQ(Cond(d.status(), "Accepted"), "True");
  EXPECT_TRUE(d.Step(T(1)).create.empty());  // a still pending: nothing new
  d.SetPod("p-a-1", "Succeeded", T(2));
  EXPECT_EQ(Names(d.Step(T(2))), (std::vector<std::string>{"b-1", "c-1"}));
  d.SetPod("p-b-1", "Succeeded", T(3));
  EXPECT_TRUE(d.Step(T(3)).create.empty());  // d waits for c too
  d.SetPod("p-c-1", "Succeeded", T(4));
  EXPECT_EQ(Names(d.Step(T(4))), (std::vector<std::string>{"d-1"}));
  d.SetPod("p-d-1", "Succeeded", T(5));
  Plan last = d.Step(T(5));
  EXPECT_EQ(d.status()["phase"], "Succeeded");
  EXPECT_EQ(d.status()["progress"], "4/4");
  EXPECT_EQ(d.status()["counts"]["succeeded"], 4);
  EXPECT_EQ(Cond(d.status(), "Complete"), "True");
  EXPECT_EQ(Cond(d.status(), "Succeeded"), "True");
  EXPECT_EQ(Cond(d.status(), "Failed"), "False");
  EXPECT_EQ(d.status()["finishedAt"], FormatRfc3339(T(5)));
  EXPECT_EQ(d.status()["startedAt"], FormatRfc3339(T(0)));
  EXPECT_TRUE(d.Emitted("PipelineSucceeded"));
  EXPECT_FALSE(last.wake_at.has_value());
}

TEST(PipelinePlanTest, NothingChangesWhileNothingHappens) {
  PlanDriver d(Pipeline({OpStage("a"), OpStage("b", {"a"})}));
  d.Step(T(0));
  json before = d.status();
  Plan again = d.Step(T(30));  // time passes, pods do not move: the status stays byte-equal
  EXPECT_EQ(again.status, before);
  EXPECT_TRUE(again.create.empty());
  EXPECT_TRUE(again.events.empty());
  d.SetPod("p-a-1", "Running", T(31));
  d.Step(T(31));
  EXPECT_EQ(d.Stage("a")["phase"], "Running");
  before = d.status();
  EXPECT_EQ(d.Step(T(40)).status, before);
}

TEST(PipelinePlanTest, ParallelismCapsStagesInFlight) {
  json stages = json::array();
  for (const char* n : {"s1", "s2", "s3", "s4", "s5"}) stages.push_back(OpStage(n));
  PlanDriver d(Pipeline(stages, {{"parallelism", 2}}));
  EXPECT_EQ(Names(d.Step(T(0))), (std::vector<std::string>{"s1-1", "s2-1"}));
  d.SetPod("p-s1-1", "Running", T(1));
  EXPECT_TRUE(d.Step(T(1)).create.empty());
  d.SetPod("p-s1-1", "Succeeded", T(2));
  EXPECT_EQ(Names(d.Step(T(2))), (std::vector<std::string>{"s3-1"}));
  EXPECT_EQ(d.status()["counts"]["pending"], 4);  // s2, s3 created but not running; s4, s5
}

TEST(PipelinePlanTest, RetriesWithExponentialBackoffThenSucceeds) {
  json b = OpStage("b");
  b["retry"] = {{"limit", 2},
                {"backoff", {{"initialSeconds", 10}, {"factor", 3}, {"maxSeconds", 20}}}};
  PlanDriver d(Pipeline({b}));
  d.Step(T(0));
  d.SetPod("p-b-1", "Failed", T(5));
  Plan p = d.Step(T(5));
  EXPECT_TRUE(p.create.empty());
  EXPECT_EQ(d.Stage("b")["phase"], "Pending");
  EXPECT_EQ(d.Stage("b")["retryAt"], FormatRfc3339(T(15)));  // 10 s after the failure
  EXPECT_EQ(d.Stage("b")["lastFailure"], "Failed");
  EXPECT_NE(d.Stage("b")["message"].get<std::string>().find("exit code 1"), std::string::npos);
  ASSERT_TRUE(p.wake_at.has_value());
  EXPECT_EQ(*p.wake_at, T(15));
  EXPECT_TRUE(d.Emitted("StageRetrying"));
  EXPECT_TRUE(d.Step(T(14)).create.empty());
  EXPECT_EQ(Names(d.Step(T(15))), (std::vector<std::string>{"b-2"}));
  EXPECT_FALSE(d.Stage("b").contains("retryAt"));
  d.SetPod("p-b-2", "Failed", T(16));
  d.Step(T(16));
  EXPECT_EQ(d.Stage("b")["retryAt"], FormatRfc3339(T(36)));  // 10 * 3 = 30, capped at 20
  EXPECT_EQ(Names(d.Step(T(36))), (std::vector<std::string>{"b-3"}));
  d.SetPod("p-b-3", "Succeeded", T(40));
  d.Step(T(40));
  EXPECT_EQ(d.Stage("b")["attempts"], 3);
  EXPECT_EQ(d.status()["phase"], "Succeeded");
}

TEST(PipelinePlanTest, JitterStretchesTheDelayByUpToAFifth) {
  json a = OpStage("a");
  a["retry"] = {{"limit", 1}, {"backoff", {{"initialSeconds", 100}}}};
  json pipeline = Pipeline({a});
  std::vector<StagePod> pods = {Pod("a", 1, "Failed", T(0))};
  pipeline["status"] = {
      {"stages", {{{"name", "a"}, {"phase", "Pending"}, {"attempts", 1}, {"podName", "p-a-1"}}}}};
  Plan plan = PlanPipeline({pipeline, pods, T(0), [] { return 0.5; }});
  WallTime at;
  ASSERT_TRUE(ParseRfc3339(plan.status["stages"][0]["retryAt"], &at));
  EXPECT_EQ(at, T(110));
}

TEST(PipelinePlanTest, ExhaustedRetriesFailThePipelineAndSkipDownstream) {
  json b = OpStage("b", {"a"});
  b["retry"] = {{"limit", 1}, {"backoff", {{"initialSeconds", 0}}}};
  PlanDriver d(Pipeline({OpStage("a"), b, OpStage("c", {"b"}), OpStage("side")}));
  d.Step(T(0));  // a and side start
  d.SetPod("p-a-1", "Succeeded", T(1));
  d.Step(T(1));
  d.SetPod("p-b-1", "Failed", T(2));
  EXPECT_EQ(Names(d.Step(T(2))), (std::vector<std::string>{"b-2"}));  // backoff 0: at once
  d.SetPod("p-b-2", "Failed", T(3));
  EXPECT_TRUE(d.Step(T(3)).create.empty());
  EXPECT_EQ(d.Stage("b")["phase"], "Failed");
  EXPECT_EQ(d.status()["phase"], "Running");  // side is still running
  EXPECT_EQ(Cond(d.status(), "Failed"), "False");
  d.SetPod("p-side-1", "Succeeded", T(4));
  d.Step(T(4));
  EXPECT_EQ(d.status()["phase"], "Failed");
  EXPECT_EQ(d.Stage("c")["phase"], "Skipped");
  EXPECT_EQ(d.Stage("side")["phase"], "Succeeded");
  EXPECT_EQ(Cond(d.status(), "Failed"), "True");
  EXPECT_EQ(Cond(d.status(), "Complete"), "False");
  EXPECT_EQ(d.status()["counts"]["skipped"], 1);
  EXPECT_NE(d.status()["message"].get<std::string>().find("stage b failed"), std::string::npos);
  EXPECT_TRUE(d.Emitted("StageFailed"));
  EXPECT_TRUE(d.Emitted("PipelineFailed"));
  for (const auto& name : d.created()) EXPECT_NE(name, "p-c-1");
}

TEST(PipelinePlanTest, CycleIsRejectedWithoutPods) {
  PlanDriver d(Pipeline({OpStage("a", {"c"}), OpStage("b", {"a"}), OpStage("c", {"b"})}));
  Plan p = d.Step(T(0));
  EXPECT_TRUE(p.create.empty());
  EXPECT_EQ(d.status()["phase"], "Failed");
  EXPECT_EQ(Cond(d.status(), "Accepted"), "False");
  EXPECT_EQ(Cond(d.status(), "Failed"), "True");
  std::string message = d.status()["conditions"][0]["message"];
  EXPECT_NE(message.find("a -> c -> b -> a"), std::string::npos) << message;
  EXPECT_EQ(d.status()["conditions"][0]["reason"], "InvalidSpec");
  EXPECT_TRUE(d.Emitted("InvalidSpec"));
  // Reconciling again changes nothing and does not repeat the event.
  Plan again = d.Step(T(5));
  EXPECT_EQ(again.status, d.status());
  EXPECT_TRUE(again.events.empty());
}

// A name too long for a label value (the CRD's CEL rule not evaluated) is an invalid spec: no
// pod creates that the API server would refuse forever.
TEST(PipelinePlanTest, HostAccessIsRefusedUnlessTheAdminAllowsIt) {
  json stage = {{"name", "probe"},
                {"image", "busybox"},
                {"command", {"true"}},
                {"hostAccess", {{"hostNetwork", true}}}};
  PlanDriver refused(Pipeline({OpStage("a"), stage}));
  Plan p = refused.Step(T(0));
  EXPECT_TRUE(p.create.empty());
  EXPECT_EQ(Cond(refused.status(), "Accepted"), "False");
  std::string message = refused.status()["conditions"][0]["message"];
  EXPECT_EQ(message,
            "spec.stages[1].hostAccess.hostNetwork: this operator does not allow hostNetwork (an "
            "admin allows it with --allow-host-access=hostNetwork)");
  // Allowing something else is not enough; allowing it is.
  PlanDriver other(Pipeline({OpStage("a"), stage}), {.privileged = true, .host_path = true});
  other.Step(T(0));
  EXPECT_EQ(Cond(other.status(), "Accepted"), "False");
  PlanDriver allowed(Pipeline({OpStage("a"), stage}), {.host_network = true});
  EXPECT_EQ(allowed.Step(T(0)).create.size(), 2u);
  EXPECT_EQ(Cond(allowed.status(), "Accepted"), "True");
}

TEST(PipelinePlanTest, NameLongerThanALabelValueIsRejectedWithoutPods) {
  json pipeline = Pipeline({OpStage("a")});
  pipeline["metadata"]["name"] = std::string(64, 'p');
  PlanDriver d(pipeline);
  Plan p = d.Step(T(0));
  EXPECT_TRUE(p.create.empty());
  EXPECT_EQ(d.status()["phase"], "Failed");
  EXPECT_EQ(Cond(d.status(), "Accepted"), "False");
  EXPECT_EQ(d.status()["conditions"][0]["reason"], "InvalidSpec");
  std::string message = d.status()["conditions"][0]["message"];
  EXPECT_EQ(message.rfind("metadata.name: must be at most 63 characters (it is 64)", 0), 0)
      << message;
  EXPECT_EQ(d.Step(T(5)).status, d.status());

  pipeline["metadata"]["name"] = std::string(63, 'p');  // the longest that works
  EXPECT_EQ(PlanPipeline({pipeline, {}, T(0), nullptr}).create.size(), 1u);
}

TEST(PipelinePlanTest, PendingTimeoutRetriesElsewhere) {
  json a = OpStage("a");
  a["timeouts"] = {{"pendingSeconds", 30}};
  a["retry"] = {{"limit", 1}, {"backoff", {{"initialSeconds", 0}}}};
  PlanDriver d(Pipeline({a}));
  d.Step(T(0));
  d.pods()[0].node = "n1";  // bound, but never started
  d.pods()[0].site = "edge-1";
  Plan p = d.Step(T(10));
  ASSERT_TRUE(p.wake_at.has_value());
  EXPECT_EQ(*p.wake_at, T(30));
  p = d.Step(T(30));
  EXPECT_EQ(d.removed(), (std::vector<std::string>{"p-a-1"}));
  ASSERT_EQ(p.create.size(), 1u);
  EXPECT_EQ(p.create[0].attempt, 2);
  EXPECT_EQ(p.create[0].avoid_sites, (std::vector<std::string>{"edge-1"}));
  EXPECT_EQ(d.Stage("a")["lastFailure"], "PendingTimeout");
}

TEST(PipelinePlanTest, ActiveTimeoutFailsTheStage) {
  json a = OpStage("a");
  a["timeouts"] = {{"activeSeconds", 60}};
  PlanDriver d(Pipeline({a}));
  d.Step(T(0));
  d.SetPod("p-a-1", "Running", T(5));
  Plan p = d.Step(T(5));
  ASSERT_TRUE(p.wake_at.has_value());
  EXPECT_EQ(*p.wake_at, T(65));
  d.Step(T(65));
  EXPECT_EQ(d.removed(), (std::vector<std::string>{"p-a-1"}));
  EXPECT_EQ(d.Stage("a")["phase"], "Failed");
  EXPECT_EQ(d.Stage("a")["lastFailure"], "ActiveTimeout");
  EXPECT_EQ(d.status()["phase"], "Failed");
}

TEST(PipelinePlanTest, SuspendStartsNothingUntilResumed) {
  PlanDriver d(Pipeline({OpStage("a"), OpStage("b", {"a"})}, {{"suspend", true}}));
  EXPECT_TRUE(d.Step(T(0)).create.empty());
  EXPECT_EQ(d.status()["phase"], "Suspended");
  d.pipeline()["spec"]["suspend"] = false;
  EXPECT_EQ(Names(d.Step(T(1))), (std::vector<std::string>{"a-1"}));
  d.pipeline()["spec"]["suspend"] = true;
  d.SetPod("p-a-1", "Succeeded", T(2));
  EXPECT_TRUE(d.Step(T(2)).create.empty());  // a's success is recorded, b waits
  EXPECT_EQ(d.Stage("a")["phase"], "Succeeded");
  EXPECT_EQ(d.status()["phase"], "Suspended");
  d.pipeline()["spec"]["suspend"] = false;
  EXPECT_EQ(Names(d.Step(T(3))), (std::vector<std::string>{"b-1"}));
}

TEST(PipelinePlanTest, AdoptsAPodCreatedButNotRecorded) {
  PlanDriver d(Pipeline({OpStage("a"), OpStage("b", {"a"})}));
  d.Step(T(0));
  d.SetPod("p-a-1", "Succeeded", T(1));
  json before_b = d.pipeline()["status"];
  d.Step(T(1));                       // creates b-1 ...
  d.pipeline()["status"] = before_b;  // ... but the status write was lost in a crash
  Plan p = d.Step(T(2));
  EXPECT_TRUE(p.create.empty()) << "b-1 exists: no second attempt";
  EXPECT_EQ(d.Stage("b")["attempts"], 1);
  EXPECT_EQ(d.Stage("b")["podName"], "p-b-1");
}

TEST(PipelinePlanTest, AVanishedPodIsAFailedAttempt) {
  json a = OpStage("a");
  a["retry"] = {{"limit", 1}, {"backoff", {{"initialSeconds", 0}}}};
  PlanDriver d(Pipeline({a}));
  d.Step(T(0));
  EXPECT_EQ(InFlightPodNames(d.status()), (std::vector<std::string>{"p-a-1"}));
  d.pods().clear();  // deleted by someone else (the reconciler checked the server)
  Plan p = d.Step(T(1));
  EXPECT_EQ(d.Stage("a")["lastFailure"], "PodDeleted");
  EXPECT_EQ(Names(p), (std::vector<std::string>{"a-2"}));
}

TEST(PipelinePlanTest, PodGcDeletesOnlyRecordedOutcomes) {
  PlanDriver d(
      Pipeline({OpStage("a"), OpStage("b", {"a"})}, {{"podGC", {{"strategy", "OnPodSuccess"}}}}));
  d.Step(T(0));
  d.SetPod("p-a-1", "Succeeded", T(1));
  Plan p = d.Step(T(1));
  EXPECT_EQ(d.removed(), (std::vector<std::string>{"p-a-1"}));  // recorded in this status
  d.SetPod("p-b-1", "Failed", T(2));
  d.Step(T(2));
  EXPECT_EQ(d.removed().size(), 1u);  // failed pods stay for their logs
}

TEST(PipelinePlanTest, PodGcKeepsAFailedAttemptUntilItsRetryStarts) {
  json a = OpStage("a");
  a["retry"] = {{"limit", 1}, {"backoff", {{"initialSeconds", 10}}}};
  PlanDriver d(Pipeline({a}, {{"podGC", {{"strategy", "OnPodCompletion"}}}}));
  d.Step(T(0));
  d.SetPod("p-a-1", "Failed", T(1));
  d.Step(T(1));
  EXPECT_TRUE(d.removed().empty());  // waiting to retry: its logs stay readable
  EXPECT_EQ(Names(d.Step(T(11))), (std::vector<std::string>{"a-2"}));
  EXPECT_EQ(d.removed(), (std::vector<std::string>{"p-a-1"}));
  d.SetPod("p-a-2", "Succeeded", T(12));
  d.Step(T(12));
  EXPECT_EQ(d.removed(), (std::vector<std::string>{"p-a-1", "p-a-2"}));
}

TEST(PipelinePlanTest, TtlDeletesThePipelineAfterItFinishes) {
  PlanDriver d(Pipeline({OpStage("a")}, {{"ttlSecondsAfterFinished", 60}}));
  d.Step(T(0));
  d.SetPod("p-a-1", "Succeeded", T(10));
  Plan p = d.Step(T(10));
  EXPECT_FALSE(p.delete_pipeline);
  ASSERT_TRUE(p.wake_at.has_value());
  EXPECT_EQ(*p.wake_at, T(70));
  EXPECT_TRUE(d.Step(T(70)).delete_pipeline);
}

TEST(PipelinePlanTest, ConditionsKeepTransitionTimeAndCarryGeneration) {
  PlanDriver d(Pipeline({OpStage("a")}));
  d.Step(T(0));
  d.pipeline()["metadata"]["generation"] = 4;
  d.SetPod("p-a-1", "Running", T(3));
  d.Step(T(3));
  for (const auto& c : d.status()["conditions"]) {
    EXPECT_EQ(c["observedGeneration"], 4);
    EXPECT_EQ(c["lastTransitionTime"], FormatRfc3339(T(0))) << c.dump();
  }
  EXPECT_EQ(d.status()["observedGeneration"], 4);
}

TEST(PipelinePlanTest, PlacementAndSiteComeFromThePod) {
  PlanDriver d(Pipeline({OpStage("a")}));
  d.Step(T(0));
  StagePod& pod = d.pods()[0];
  pod.phase = "Running";
  pod.started = T(1);
  pod.node = "gpu-7";
  pod.site = "edge-2";
  pod.placement = {{"node", "gpu-7"}, {"site", "edge-2"}, {"score", 0.9}, {"reason", "cheapest"}};
  d.Step(T(1));
  EXPECT_EQ(d.Stage("a")["node"], "gpu-7");
  EXPECT_EQ(d.Stage("a")["site"], "edge-2");
  EXPECT_EQ(d.Stage("a")["placement"]["reason"], "cheapest");
  EXPECT_EQ(d.status()["sitesSummary"], "edge-2");
}

TEST(PipelinePlanTest, FiveHundredStagesKeepStatusSmall) {
  json stages = json::array();
  for (int i = 0; i < 500; ++i) {
    json s = OpStage("stage-with-a-long-descriptive-name-" + std::to_string(i));
    if (i > 0) s["dependsOn"] = {"stage-with-a-long-descriptive-name-" + std::to_string(i - 1)};
    stages.push_back(s);
  }
  PlanDriver d(Pipeline(stages));
  d.Step(T(0));
  for (int i = 0; i < 500; ++i) {
    StagePod& pod = d.pods().back();
    pod.phase = "Succeeded";
    pod.node = "node-with-a-long-name-" + std::to_string(i);
    pod.site = "edge-site-" + std::to_string(i % 7);
    pod.placement = {{"node", pod.node},
                     {"site", pod.site},
                     {"score", 0.123456},
                     {"estSeconds", 12.5},
                     {"estCost", 0.42},
                     {"transferSeconds", 1.5},
                     {"reason", "lowest cost among 12 feasible nodes; data at edge-site-3"}};
    d.Step(T(i + 1));
  }
  EXPECT_EQ(d.status()["phase"], "Succeeded");
  EXPECT_EQ(d.status()["progress"], "500/500");
  size_t bytes = d.status().dump().size();
  RecordProperty("status_bytes", static_cast<int>(bytes));
  EXPECT_LT(bytes, 512u * 1024) << "status of 500 stages is " << bytes << " bytes";
}

TEST(PipelinePlanTest, ReadStagePodReadsTheFailureAndPlacement) {
  json pod = json::parse(R"({
    "metadata": {"name": "p-a-2", "creationTimestamp": "2027-01-15T08:00:00Z",
                 "labels": {"aidi.dev/stage": "a", "aidi.dev/attempt": "2"},
                 "annotations": {"aidi.dev/placement": "{\"node\":\"n\",\"site\":\"s1\",\"score\":1}"}},
    "spec": {"nodeName": "n"},
    "status": {"phase": "Failed",
               "containerStatuses": [{"state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}
  })");
  auto read = ReadStagePod(pod, "fallback");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->attempt, 2);
  EXPECT_EQ(read->site, "s1");
  EXPECT_EQ(read->failure, "exit code 137 (OOMKilled)");
  EXPECT_EQ(read->placement["score"], 1);
  pod["metadata"]["labels"].erase("aidi.dev/attempt");
  EXPECT_FALSE(ReadStagePod(pod, "").has_value());
}

}  // namespace
}  // namespace aidi::op
