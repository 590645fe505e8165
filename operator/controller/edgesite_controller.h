// EdgeSiteController: rolls up each EdgeSite's nodes and GPUs into its status and keeps the
// label aidi.dev/site=<name> on its member nodes (docs/design.md, "aidi-operator").
//
// It watches EdgeSites, Nodes (labels, allocatable GPUs, Ready condition) and Pods (node and
// GPU requests of pods not yet finished). A node belongs to the EdgeSite whose spec.nodeSelector
// matches it; when several match, the one whose name sorts first. Status is replaced through
// /status only when it changed.
//
// Thread safety: Run() blocks its thread until Stop(); Stop() and synced() may be called from
// any thread. `events` (optional) must outlive the controller.
#pragma once

#include <memory>

#include "base/clock.h"
#include "kube/client/client.h"
#include "kube/runtime/events.h"
#include "kube/runtime/metrics.h"

namespace aidi::op {

struct EdgeSiteControllerOptions {
  int workers = 2;
  kube::Metrics* metrics = nullptr;  // optional; must outlive the controller
};

class EdgeSiteController {
 public:
  EdgeSiteController(std::shared_ptr<kube::Client> client, kube::EventRecorder* events,
                     EdgeSiteControllerOptions options, const Clock& clock = Clock::Real());
  ~EdgeSiteController();
  EdgeSiteController(const EdgeSiteController&) = delete;
  EdgeSiteController& operator=(const EdgeSiteController&) = delete;

  void Run();
  void Stop();
  bool synced() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aidi::op
