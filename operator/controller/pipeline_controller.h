// PipelineController: runs Pipelines, one pod per stage attempt (docs/design.md, "aidi-operator").
//
// It watches Pipelines (all namespaces or one), the pods they own and, for the site of each
// node, Nodes' labels. Each reconcile reads the cached Pipeline and its pods, GETs any pod the
// status says is in flight but the cache lacks, asks PlanPipeline (pipeline_plan.h) what to do,
// and does it: create pods (AlreadyExists means adopted), replace `/status` when it changed, then
// delete pods and record Events. A finalizer stops every stage pod before a Pipeline goes.
//
// Thread safety: Run() blocks its thread until Stop(); Stop() and synced() may be called from
// any thread. `events` (optional) must outlive the controller.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "kube/client/client.h"
#include "kube/runtime/events.h"
#include "kube/runtime/metrics.h"
#include "operator/pod_builder.h"

namespace aidi::kube {
class Controller;
}

namespace aidi::op {

// The finalizer that stops a Pipeline's pods before the Pipeline goes.
inline constexpr char kPipelineFinalizer[] = "aidi.dev/stop-pods";

struct PipelineControllerOptions {
  std::string ns;  // "" = every namespace
  PodBuilderOptions pods;
  int workers = 4;
  // How long a status change that records no outcome (a pod created or running) may wait to be
  // written together with the next change. Outcomes are written at once.
  std::chrono::milliseconds coalesce{1000};
  kube::Metrics* metrics = nullptr;  // optional; must outlive the controller
};

class PipelineController {
 public:
  PipelineController(std::shared_ptr<kube::Client> client, kube::EventRecorder* events,
                     PipelineControllerOptions options, const Clock& clock = Clock::Real());
  ~PipelineController();
  PipelineController(const PipelineController&) = delete;
  PipelineController& operator=(const PipelineController&) = delete;

  void Run();
  void Stop();
  bool synced() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aidi::op
