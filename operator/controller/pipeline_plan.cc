#include "operator/controller/pipeline_plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "operator/api/pipeline.h"
#include "operator/dag.h"
#include "operator/pod_builder.h"

namespace aidi::op {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using WallTime = Clock::WallTime;

constexpr size_t kMaxMessage = 1024;
constexpr size_t kMaxStageMessage = 512;
constexpr size_t kMaxSitesSummary = 256;
constexpr size_t kMaxLabelValue = 63;

std::string Truncate(std::string s, size_t max) {
  if (s.size() <= max) return s;
  s.resize(max - 3);
  return s + "...";
}

// Timestamps are written with whole seconds; a deadline rounds up so that it never comes early.
WallTime CeilToSecond(WallTime t) {
  auto floor = std::chrono::time_point_cast<seconds>(t);
  return floor == t ? t : WallTime(floor + seconds(1));
}

std::optional<WallTime> ParseTime(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  WallTime t;
  if (!ParseRfc3339(it->get<std::string>(), &t)) return std::nullopt;
  return t;
}

bool IsTerminal(std::string_view stage_phase) {
  return stage_phase == "Succeeded" || stage_phase == "Failed" || stage_phase == "Skipped";
}

bool PodFinished(const StagePod& pod) { return pod.phase == "Succeeded" || pod.phase == "Failed"; }

// metav1.Condition, keeping lastTransitionTime while the status stays the same.
json Condition(const json& old_conditions, const std::string& type, bool value,
               const std::string& reason, const std::string& message, int64_t generation,
               WallTime now) {
  std::string status = value ? "True" : "False";
  std::string since = FormatRfc3339(now);
  if (old_conditions.is_array()) {
    for (const auto& c : old_conditions) {
      if (c.value("type", "") == type && c.value("status", "") == status) {
        since = c.value("lastTransitionTime", since);
      }
    }
  }
  return {{"type", type},
          {"status", status},
          {"observedGeneration", generation},
          {"lastTransitionTime", since},
          {"reason", reason},
          {"message", Truncate(message, kMaxMessage)}};
}

// What the plan knows of one stage while it decides.
struct StageState {
  const Stage* spec = nullptr;
  json entry;                        // the status entry being built
  int attempt = 0;                   // the attempt the stage is on (0: never started)
  bool in_flight = false;            // that attempt's pod runs or waits to
  std::optional<WallTime> retry_at;  // waiting to retry
  std::string phase() const { return entry.value("phase", "Pending"); }
};

class Planner {
 public:
  explicit Planner(const PlanInput& in)
      : in_(in),
        meta_(in.pipeline.at("metadata")),
        old_status_(in.pipeline.contains("status") && in.pipeline["status"].is_object()
                        ? in.pipeline["status"]
                        : json::object()),
        generation_(meta_.value("generation", int64_t{0})),
        name_(meta_.value("name", "")) {}

  Plan Run() {
    // The name is the aidi.dev/pipeline label value of every stage pod, and label values stop
    // at 63 characters. The CRD's CEL rule says so, but an API server that does not evaluate CEL
    // (devcluster; CEL validation off) lets a longer name through, and then every pod create
    // failed with 422 and was retried forever, with no word in the Pipeline's status.
    if (name_.size() > kMaxLabelValue) {
      return Rejected(
          Status::Invalid("metadata.name: must be at most " + std::to_string(kMaxLabelValue) +
                          " characters (it is " + std::to_string(name_.size()) +
                          "): it is the value of the aidi.dev/pipeline label on "
                          "stage pods"),
          nullptr);
    }
    StatusOr<PipelineSpec> spec = ParsePipelineSpec(in_.pipeline.value("spec", json()));
    if (!spec.ok()) return Rejected(spec.status(), nullptr);
    StatusOr<Dag> dag = BuildDag(*spec);
    if (!dag.ok()) return Rejected(dag.status(), &*spec);
    if (Status allowed = CheckHostAccess(*spec, in_.host_access); !allowed.ok()) {
      return Rejected(allowed, &*spec);
    }
    spec_ = &*spec;
    dag_ = &*dag;

    for (const auto& pod : in_.pods) pods_[pod.stage][pod.attempt] = &pod;
    std::map<std::string, json> old_entries;
    if (old_status_.contains("stages") && old_status_["stages"].is_array()) {
      for (const auto& e : old_status_["stages"]) old_entries[e.value("name", "")] = e;
    }
    for (const auto& stage : spec_->stages) {
      StageState& st = stages_[stage.name];
      st.spec = &stage;
      auto it = old_entries.find(stage.name);
      st.entry = it != old_entries.end() ? it->second : json{{"name", stage.name}};
      Observe(st);
    }
    StartReadyStages();
    Finish();
    CollectPods();
    plan_.spec = std::move(*spec);
    return std::move(plan_);
  }

 private:
  // Folds what the pods say into one stage's entry: adoption, success, failure, timeouts.
  void Observe(StageState& st) {
    const std::string& name = st.spec->name;
    json& e = st.entry;
    if (IsTerminal(st.phase())) {  // decided for good; never revisited
      st.attempt = e.value("attempts", 0);
      return;
    }
    const auto& pods = pods_[name];
    int recorded = e.value("attempts", 0);
    int highest = pods.empty() ? 0 : pods.rbegin()->first;
    st.attempt = std::max(recorded, highest);
    if (st.attempt == 0) {
      e["phase"] = "Pending";
      return;
    }
    auto pod_it = pods.find(st.attempt);
    const StagePod* pod = pod_it == pods.end() ? nullptr : pod_it->second;

    if (e.contains("retryAt") && recorded == st.attempt) {  // the latest attempt failed
      st.retry_at = ParseTime(e, "retryAt");
      if (!st.retry_at) st.retry_at = in_.now;
      if (pod != nullptr && !pod->deleting && !PodFinished(*pod)) {
        Remove(pod->name, "stopping a failed attempt (" + e.value("lastFailure", "Failed") + ")");
      }
      return;
    }
    if (st.attempt > recorded) {  // created before a crash and never recorded: adopt it
      e["attempts"] = st.attempt;
      e["podName"] = StagePodName(name_, name, st.attempt);
      if (!e.contains("startedAt") && pod != nullptr) e["startedAt"] = FormatRfc3339(pod->created);
      e.erase("retryAt");
    }
    st.in_flight = true;
    if (pod == nullptr) {
      Fail(st, nullptr, "PodDeleted",
           "pod " + StagePodName(name_, name, st.attempt) + " was deleted before it finished");
      return;
    }
    if (pod->phase == "Succeeded") {
      st.in_flight = false;
      RecordPlace(e, *pod);
      e["phase"] = "Succeeded";
      e["finishedAt"] = FormatRfc3339(in_.now);
      e.erase("message");
      Event(false, "StageSucceeded",
            "stage " + name + " succeeded (pod " + pod->name + Where(*pod) + ")");
      return;
    }
    if (pod->phase == "Failed") {
      Fail(st, pod, "Failed", pod->failure.empty() ? "pod failed" : pod->failure);
      return;
    }
    const Timeouts& timeouts = st.spec->timeouts;
    if (pod->phase == "Running") {
      RecordPlace(e, *pod);
      e["phase"] = "Running";
      if (timeouts.active_seconds && pod->started && !pod->deleting) {
        WallTime deadline = *pod->started + seconds(*timeouts.active_seconds);
        if (in_.now >= deadline) {
          Fail(
              st, pod, "ActiveTimeout",
              "ran longer than activeSeconds (" + std::to_string(*timeouts.active_seconds) + " s)");
          return;
        }
        Wake(deadline);
      }
      return;
    }
    e["phase"] = "Pending";  // created, not running yet
    if (timeouts.pending_seconds && !pod->deleting) {
      WallTime deadline = pod->created + seconds(*timeouts.pending_seconds);
      if (in_.now >= deadline) {
        Fail(st, pod, "PendingTimeout",
             "did not start within pendingSeconds (" + std::to_string(*timeouts.pending_seconds) +
                 " s)" + (pod->node.empty() ? "; no node could take it" : ""));
        return;
      }
      Wake(deadline);
    }
  }

  // The latest attempt of `st` failed: retry after a backoff, or fail the stage for good.
  void Fail(StageState& st, const StagePod* pod, const std::string& reason,
            const std::string& why) {
    json& e = st.entry;
    const std::string& name = st.spec->name;
    st.in_flight = false;
    if (pod != nullptr) {
      RecordPlace(e, *pod);
      if (!pod->deleting && !PodFinished(*pod)) Remove(pod->name, "attempt failed: " + reason);
    }
    e["lastFailure"] = reason;
    std::string what = "attempt " + std::to_string(st.attempt) + " failed (" + reason + "): " + why;
    const Retry& retry = st.spec->retry;
    if (st.attempt < 1 + retry.limit) {
      double delay = retry.backoff.initial_seconds *
                     std::pow(retry.backoff.factor, static_cast<double>(st.attempt - 1));
      delay = std::min(delay, static_cast<double>(retry.backoff.max_seconds));
      double jitter = in_.random ? 1.0 + 0.2 * in_.random() : 1.0;
      auto wait = std::chrono::duration_cast<WallTime::duration>(
          std::chrono::duration<double>(delay * jitter));
      WallTime at = CeilToSecond(in_.now + wait);
      st.retry_at = at;
      e["phase"] = "Pending";
      e["retryAt"] = FormatRfc3339(at);
      e["message"] = Truncate(what + "; retrying", kMaxStageMessage);
      Event(true, "StageRetrying",
            "stage " + name + " " + what + "; attempt " + std::to_string(st.attempt + 1) + " of " +
                std::to_string(1 + retry.limit) + " at " + FormatRfc3339(at));
      return;
    }
    e["phase"] = "Failed";
    e["finishedAt"] = FormatRfc3339(in_.now);
    e.erase("retryAt");
    e["message"] = Truncate(what, kMaxStageMessage);
    Event(true, "StageFailed",
          "stage " + name + " " + what + (retry.limit > 0 ? "; no retries left" : ""));
  }

  // Starts every stage that may start: dependencies succeeded (or its retry is due), the pipeline
  // is not suspended and nothing failed for good, within spec.parallelism.
  void StartReadyStages() {
    bool any_failed = false;
    int in_flight = 0;
    std::map<std::string, StagePhase> phases;
    for (const auto& [name, st] : stages_) {
      std::string phase = st.phase();
      any_failed = any_failed || phase == "Failed";
      in_flight += st.in_flight ? 1 : 0;
      if (phase == "Succeeded") {
        phases[name] = StagePhase::kSucceeded;
      } else if (st.attempt == 0 && phase == "Pending") {
        phases[name] = StagePhase::kPending;
      } else {
        phases[name] = StagePhase::kRunning;  // started, or done another way: not ready
      }
    }
    if (any_failed || spec_->suspend) return;
    std::vector<std::string> ready = dag_->Ready(phases);
    std::set<std::string> ready_set(ready.begin(), ready.end());
    int slots = spec_->parallelism ? std::max(0, *spec_->parallelism - in_flight) : 1 << 30;
    for (const auto& stage : spec_->stages) {
      StageState& st = stages_[stage.name];
      bool first = ready_set.count(stage.name) > 0;
      bool retry = st.retry_at.has_value() && !st.in_flight && st.phase() == "Pending";
      if (!first && !retry) continue;
      if (retry && *st.retry_at > in_.now) {
        Wake(*st.retry_at);
        continue;
      }
      if (slots <= 0) continue;  // a finishing stage brings this key back
      --slots;
      Start(st);
    }
  }

  void Start(StageState& st) {
    json& e = st.entry;
    const std::string& name = st.spec->name;
    PodToCreate create{name, st.attempt + 1, {}};
    if (e.value("lastFailure", "") == "PendingTimeout" && !e.value("site", "").empty()) {
      create.avoid_sites.push_back(e["site"].get<std::string>());
    }
    st.attempt += 1;
    st.in_flight = true;
    st.retry_at.reset();
    std::string pod = StagePodName(name_, name, st.attempt);
    e["phase"] = "Pending";
    e["attempts"] = st.attempt;
    e["podName"] = pod;
    if (!e.contains("startedAt")) e["startedAt"] = FormatRfc3339(in_.now);
    for (const char* field : {"retryAt", "node", "site", "placement", "message"}) e.erase(field);
    if (st.attempt > 1) {
      e["message"] = "attempt " + std::to_string(st.attempt) + " of " +
                     std::to_string(1 + st.spec->retry.limit);
    }
    Event(false, "StageStarted",
          "stage " + name + " attempt " + std::to_string(st.attempt) + ": created pod " + pod);
    plan_.events.back().pod = pod;
    plan_.create.push_back(std::move(create));
  }

  // Pipeline phase, counts, conditions, TTL.
  void Finish() {
    int total = 0, pending = 0, running = 0, succeeded = 0, failed = 0, skipped = 0;
    std::string failed_stage;
    std::vector<std::string> active, retrying;
    bool any_started = false;
    for (const auto& stage : spec_->stages) {
      const StageState& st = stages_[stage.name];
      std::string phase = st.phase();
      any_started = any_started || st.attempt > 0;
      if (phase == "Failed" && failed_stage.empty()) failed_stage = stage.name;
      if (st.in_flight) active.push_back(stage.name);
      if (st.retry_at && !st.in_flight && phase == "Pending") retrying.push_back(stage.name);
    }
    bool finished_failing = !failed_stage.empty() && active.empty();
    if (finished_failing) {  // nothing more will run: settle every stage that has not ended
      for (const auto& stage : spec_->stages) {
        json& e = stages_[stage.name].entry;
        std::string phase = e.value("phase", "Pending");
        if (IsTerminal(phase)) continue;
        bool had_attempt = stages_[stage.name].attempt > 0;
        e["phase"] = had_attempt ? "Failed" : "Skipped";
        e["finishedAt"] = FormatRfc3339(in_.now);
        e.erase("retryAt");
        std::string why = "stage " + failed_stage + " failed";
        e["message"] = Truncate(
            had_attempt ? e.value("message", "") + "; retry cancelled: " + why : "not run: " + why,
            kMaxStageMessage);
      }
    }
    json stages = json::array();
    std::vector<std::string> sites;
    for (const auto& stage : spec_->stages) {
      const json& e = stages_[stage.name].entry;
      std::string phase = e.value("phase", "Pending");
      ++total;
      if (phase == "Pending") ++pending;
      if (phase == "Running") ++running;
      if (phase == "Succeeded") ++succeeded;
      if (phase == "Failed") ++failed;
      if (phase == "Skipped") ++skipped;
      std::string site = e.value("site", "");
      if (!site.empty() && std::find(sites.begin(), sites.end(), site) == sites.end()) {
        sites.push_back(site);
      }
      stages.push_back(e);
    }

    std::string phase, message;
    if (succeeded == total) {
      phase = "Succeeded";
      message = "all " + std::to_string(total) + " stages succeeded";
    } else if (finished_failing) {
      phase = "Failed";
      message =
          "stage " + failed_stage + " failed: " + stages_[failed_stage].entry.value("message", "");
    } else if (!failed_stage.empty()) {
      phase = "Running";
      message = "stage " + failed_stage + " failed; waiting for " + std::to_string(active.size()) +
                " running stage(s) to finish";
    } else if (spec_->suspend) {
      phase = "Suspended";
      message = active.empty()
                    ? "suspended"
                    : "suspended; " + std::to_string(active.size()) + " stage(s) still running";
    } else if (!any_started) {
      phase = "Pending";
      message = "waiting to start";
    } else {
      phase = "Running";
      message = active.empty() ? "" : "running " + NameList(active);
      if (!retrying.empty()) {
        message += (message.empty() ? "" : "; ") + std::string("retrying ") + NameList(retrying);
      }
    }

    json status = old_status_;
    status["phase"] = phase;
    status["progress"] = std::to_string(succeeded) + "/" + std::to_string(total);
    status["counts"] = {{"total", total},         {"pending", pending}, {"running", running},
                        {"succeeded", succeeded}, {"failed", failed},   {"skipped", skipped}};
    status["message"] = Truncate(message, kMaxMessage);
    status["observedGeneration"] = generation_;
    status["stages"] = std::move(stages);
    std::string summary;
    for (const auto& s : sites) summary += (summary.empty() ? "" : ",") + s;
    if (summary.empty()) {
      status.erase("sitesSummary");
    } else {
      status["sitesSummary"] = Truncate(summary, kMaxSitesSummary);
    }
    if (!status.contains("startedAt")) {
      std::string first;
      for (const auto& e : status["stages"]) {
        std::string t = e.value("startedAt", "");
        if (!t.empty() && (first.empty() || t < first)) first = t;
      }
      if (!first.empty()) status["startedAt"] = first;
    }
    bool done = phase == "Succeeded" || phase == "Failed";
    if (done) {
      if (!status.contains("finishedAt")) status["finishedAt"] = FormatRfc3339(in_.now);
    } else {
      status.erase("finishedAt");
    }
    std::string old_phase = old_status_.value("phase", "");
    if (done && old_phase != phase) {
      if (phase == "Succeeded") {
        Event(false, "PipelineSucceeded", message);
      } else {
        Event(true, "PipelineFailed", message);
      }
    }

    const json& old_conditions = old_status_.value("conditions", json::array());
    std::string n = std::to_string(total);
    json conditions = json::array();
    conditions.push_back(Condition(old_conditions, "Accepted", true, "Valid",
                                   "the spec is valid: " + n + " stages", generation_, in_.now));
    conditions.push_back(Condition(old_conditions, "Running", phase == "Running",
                                   phase == "Running" ? "StagesRunning" : phase, message,
                                   generation_, in_.now));
    bool ok = phase == "Succeeded";
    std::string outcome = ok                  ? "AllStagesSucceeded"
                          : phase == "Failed" ? "StageFailed"
                                              : "NotFinished";
    conditions.push_back(
        Condition(old_conditions, "Succeeded", ok, outcome, message, generation_, in_.now));
    conditions.push_back(
        Condition(old_conditions, "Complete", ok, outcome, message, generation_, in_.now));
    conditions.push_back(Condition(old_conditions, "Failed", phase == "Failed",
                                   phase == "Failed" ? "StageFailed" : "NotFailed",
                                   phase == "Failed" ? message : "", generation_, in_.now));
    status["conditions"] = std::move(conditions);
    plan_.status = std::move(status);
    plan_.status_urgent = Urgent(old_status_, plan_.status);
    pipeline_phase_ = phase;
    Ttl();
  }

  // See Plan::status_urgent.
  static bool Urgent(const json& before, const json& after) {
    auto conditions = [](const json& status) {
      std::map<std::string, std::string> out;
      for (const auto& c : status.value("conditions", json::array())) {
        out[c.value("type", "")] = c.value("status", "");
      }
      return out;
    };
    if (before.value("phase", "") != after.value("phase", "") ||
        before.value("observedGeneration", int64_t{-1}) !=
            after.value("observedGeneration", int64_t{-1}) ||
        conditions(before) != conditions(after)) {
      return true;
    }
    std::map<std::string, json> old_stages;
    for (const auto& e : before.value("stages", json::array())) old_stages[e.value("name", "")] = e;
    for (const auto& e : after.value("stages", json::array())) {
      const json& o = old_stages[e.value("name", "")];
      std::string was = o.is_object() ? o.value("phase", "Pending") : "Pending";
      if (IsTerminal(e.value("phase", "Pending")) != IsTerminal(was)) return true;
      for (const char* field : {"retryAt", "lastFailure"}) {
        if ((o.is_object() ? o.value(field, json()) : json()) != e.value(field, json()))
          return true;
      }
    }
    return false;
  }

  // Pods to delete beyond failed attempts: superseded attempts still running, and pod GC.
  void CollectPods() {
    PodGCStrategy gc = spec_->pod_gc_strategy;
    for (const auto& pod : in_.pods) {
      if (pod.deleting) continue;
      auto it = stages_.find(pod.stage);
      if (it == stages_.end()) continue;  // a stage no longer in the spec: left to the owner GC
      const StageState& st = it->second;
      const json& e = st.entry;
      bool finished = PodFinished(pod);
      if (pod.attempt < st.attempt && !finished) {
        Remove(pod.name, "superseded by attempt " + std::to_string(st.attempt));
        continue;
      }
      bool recorded = pod.attempt < e.value("attempts", 0) ||
                      (pod.attempt == e.value("attempts", 0) &&
                       (IsTerminal(e.value("phase", "")) || e.contains("retryAt")));
      bool collect = false;
      switch (gc) {
        case PodGCStrategy::kOnPodCompletion:
          // The latest attempt of a stage waiting to retry stays until the retry starts: its
          // logs are what a user reads during the backoff.
          collect = recorded && finished &&
                    !(pod.attempt == e.value("attempts", 0) && e.contains("retryAt"));
          break;
        case PodGCStrategy::kOnPodSuccess:
          collect = recorded && pod.phase == "Succeeded";
          break;
        case PodGCStrategy::kOnPipelineCompletion:
          collect = finished && (pipeline_phase_ == "Succeeded" || pipeline_phase_ == "Failed");
          break;
        case PodGCStrategy::kOnPipelineSuccess:
          collect = finished && pipeline_phase_ == "Succeeded";
          break;
        case PodGCStrategy::kNever:
          break;
      }
      if (collect) Remove(pod.name, "pod GC (" + std::string(PodGCStrategyName(gc)) + ")");
    }
  }

  void Ttl() {
    if (!spec_->ttl_seconds_after_finished) return;
    if (pipeline_phase_ != "Succeeded" && pipeline_phase_ != "Failed") return;
    std::optional<WallTime> finished = ParseTime(plan_.status, "finishedAt");
    if (!finished) return;
    WallTime deadline = *finished + seconds(*spec_->ttl_seconds_after_finished);
    if (in_.now >= deadline) {
      plan_.delete_pipeline = true;
    } else {
      Wake(deadline);
    }
  }

  // The spec cannot run: say why, start nothing. `parsed` is the spec when it parsed (the graph
  // was what failed), for its TTL.
  Plan Rejected(const Status& error, const PipelineSpec* parsed) {
    json status = old_status_;
    const std::string& why = error.message();
    size_t stages = 0;
    const json spec = in_.pipeline.value("spec", json::object());
    if (spec.is_object() && spec.contains("stages") && spec["stages"].is_array()) {
      stages = spec["stages"].size();
    }
    status["phase"] = "Failed";
    status["message"] = Truncate("invalid spec: " + why, kMaxMessage);
    status["observedGeneration"] = generation_;
    if (!status.contains("progress")) status["progress"] = "0/" + std::to_string(stages);
    if (!status.contains("finishedAt")) status["finishedAt"] = FormatRfc3339(in_.now);
    const json& old = old_status_.value("conditions", json::array());
    json conditions = json::array();
    conditions.push_back(
        Condition(old, "Accepted", false, "InvalidSpec", why, generation_, in_.now));
    conditions.push_back(Condition(old, "Running", false, "InvalidSpec", "", generation_, in_.now));
    conditions.push_back(
        Condition(old, "Succeeded", false, "InvalidSpec", "", generation_, in_.now));
    conditions.push_back(
        Condition(old, "Complete", false, "InvalidSpec", "", generation_, in_.now));
    conditions.push_back(Condition(old, "Failed", true, "InvalidSpec", why, generation_, in_.now));
    status["conditions"] = std::move(conditions);
    plan_.status_urgent = true;
    bool newly = true;
    for (const auto& c : old) {
      if (c.value("type", "") == "Accepted" && c.value("status", "") == "False" &&
          c.value("message", "") == Truncate(why, kMaxMessage)) {
        newly = false;
      }
    }
    if (newly) Event(true, "InvalidSpec", why);
    plan_.status = std::move(status);
    pipeline_phase_ = "Failed";
    // TTL still applies to a rejected pipeline (it has finished), when the spec says so.
    if (parsed != nullptr) {
      spec_ = parsed;
      Ttl();
      spec_ = nullptr;
    }
    return std::move(plan_);
  }

  void RecordPlace(json& e, const StagePod& pod) {
    if (!pod.node.empty()) e["node"] = pod.node;
    if (!pod.site.empty()) e["site"] = pod.site;
    if (pod.placement.is_object()) e["placement"] = pod.placement;
  }

  static std::string Where(const StagePod& pod) {
    if (pod.node.empty()) return "";
    return " on " + pod.node + (pod.site.empty() ? "" : " at " + pod.site);
  }

  static std::string NameList(const std::vector<std::string>& names) {
    std::string out;
    size_t shown = std::min<size_t>(names.size(), 3);
    for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + names[i];
    if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
    return out;
  }

  void Remove(const std::string& pod, const std::string& reason) {
    for (const auto& r : plan_.remove) {
      if (r.name == pod) return;
    }
    plan_.remove.push_back({pod, reason});
  }

  void Event(bool warning, std::string reason, std::string message) {
    plan_.events.push_back({warning, std::move(reason), Truncate(std::move(message), kMaxMessage)});
  }

  void Wake(WallTime t) {
    if (!plan_.wake_at || t < *plan_.wake_at) plan_.wake_at = t;
  }

  const PlanInput& in_;
  const json& meta_;
  const json old_status_;
  const int64_t generation_;
  const std::string name_;
  const PipelineSpec* spec_ = nullptr;
  const Dag* dag_ = nullptr;
  std::map<std::string, std::map<int, const StagePod*>> pods_;
  std::map<std::string, StageState> stages_;
  std::string pipeline_phase_;
  Plan plan_;
};

}  // namespace

Plan PlanPipeline(const PlanInput& input) { return Planner(input).Run(); }

std::optional<StagePod> ReadStagePod(const json& pod, const std::string& node_site) {
  const json& meta = pod.value("metadata", json::object());
  const json labels = meta.value("labels", json::object());
  if (!labels.contains(kStageLabel) || !labels.contains(kAttemptLabel)) return std::nullopt;
  StagePod out;
  out.name = meta.value("name", "");
  out.stage = labels.value(kStageLabel, "");
  try {
    out.attempt = std::stoi(labels.value(kAttemptLabel, "0"));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (out.attempt < 1) return std::nullopt;
  const json status = pod.value("status", json::object());
  out.phase = status.value("phase", "Pending");
  out.node = pod.value("spec", json::object()).value("nodeName", "");
  ParseRfc3339(meta.value("creationTimestamp", ""), &out.created);
  if (auto started = ParseTime(status, "startTime")) out.started = started;
  if (out.phase == "Running" && !out.started) out.started = out.created;
  out.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  const json annotations = meta.value("annotations", json::object());
  if (auto it = annotations.find(kPlacementAnnotation);
      it != annotations.end() && it->is_string()) {
    json placement = json::parse(it->get<std::string>(), nullptr, false);
    if (placement.is_object()) out.placement = std::move(placement);
  }
  out.site = out.placement.is_object() ? out.placement.value("site", "") : "";
  if (out.site.empty()) out.site = node_site;
  if (out.phase == "Failed") {
    std::string why;
    for (const auto& cs : status.value("containerStatuses", json::array())) {
      const json terminated = cs.value("state", json::object()).value("terminated", json());
      if (!terminated.is_object()) continue;
      why = "exit code " + std::to_string(terminated.value("exitCode", 0));
      std::string reason = terminated.value("reason", "");
      if (!reason.empty()) why += " (" + reason + ")";
      std::string message = terminated.value("message", "");
      if (!message.empty()) why += ": " + message;
      break;
    }
    if (why.empty()) {
      why = status.value("reason", "");
      std::string message = status.value("message", "");
      if (!message.empty()) why += (why.empty() ? "" : ": ") + message;
    }
    out.failure = Truncate(why, 400);
  }
  return out;
}

std::vector<std::string> InFlightPodNames(const json& status) {
  std::vector<std::string> names;
  if (!status.is_object() || !status.contains("stages") || !status["stages"].is_array()) {
    return names;
  }
  for (const auto& e : status["stages"]) {
    std::string phase = e.value("phase", "Pending");
    if ((phase == "Pending" || phase == "Running") && e.value("attempts", 0) > 0 &&
        !e.contains("retryAt") && !e.value("podName", "").empty()) {
      names.push_back(e["podName"].get<std::string>());
    }
  }
  return names;
}

}  // namespace aidi::op
