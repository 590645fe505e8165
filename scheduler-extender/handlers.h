// Handlers: the extender's three verbs over the NodeCache, the GpuLedger and the cost model.
//
//   Filter      For each candidate: the pod's demand (demand.h) against the node's offer, with
//               free GPUs = allocatable − used by bound pods − this extender's reservations.
//               Nodes that fit pass; "needs 2 GPUs, 1 free" goes to FailedNodes (preemption or
//               time may help); permanent misfits (GPU model, too few GPUs in all, memory,
//               site not allowed, link latency, maintenance of the site or a cordoned node)
//               go to FailedAndUnresolvableNodes, with costmodel's message. A candidate the
//               cache does not know yet is in FailedNodes ("not in the extender's node cache
//               yet"). A malformed aidi.dev/demand puts every candidate in
//               FailedAndUnresolvableNodes with the annotation's error, so it appears in the
//               pod's FailedScheduling event (Error would only reach the scheduler's log).
//               Both request forms: NodeNames reads nodes from the cache; Nodes reads labels
//               and allocatable from the request's objects, and usage and sites from the cache.
//   Prioritize  The cost model's 0..10 score per candidate (infeasible or unknown: 0).
//   Bind        GET the pod (its demand and GPU request; a UID that differs from the request's
//               is an error: the pod was recreated), evaluate it over every cached node for the
//               placement, reserve its GPUs in the ledger (Conflict when they are gone: a burst
//               never over-allocates), merge-patch the annotation aidi.dev/placement onto the
//               pod (with its UID as precondition), then POST its binding (v1 Binding with the
//               UID). Any failure after the reservation releases it. A pod already bound to the
//               node is success (a retried bind); bound elsewhere is an error.
//
// aidi.dev/placement is {"node","site","score","estSeconds","estCost","transferSeconds",
// "reason"}: the chosen node's estimates, and costmodel's ExplainChoice over every cached node.
// When kube-scheduler chose another node than the model's best (its own plugins weigh in too),
// the reason says so: "scheduler's choice (model score 6/10); the model preferred n2: ...".
//
// Requests never decode cached JSON: candidates are looked up in the cache's snapshot under its
// shared lock, copied into per-thread scratch vectors (reused across requests), and evaluated
// outside the lock. Thread safety: Filter and Prioritize may run concurrently on any threads;
// Bind too (the ledger serialises reservations). The cache, ledger and PodClient must outlive
// the Handlers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "costmodel/throughput.h"
#include "costmodel/types.h"
#include "kube/client/client.h"
#include "scheduler-extender/gpu_ledger.h"
#include "scheduler-extender/node_cache.h"
#include "scheduler-extender/wire.h"

namespace aidi::extender {

// The API calls Bind makes, behind an interface so unit tests run without a server.
class PodClient {
 public:
  virtual ~PodClient() = default;
  virtual StatusOr<nlohmann::json> GetPod(const std::string& ns, const std::string& name) = 0;
  // Merge-patches metadata.annotations; `uid` (if not empty) is a precondition.
  virtual Status Annotate(const std::string& ns, const std::string& name, const std::string& uid,
                          const nlohmann::json& annotations) = 0;
  // POST pods/<name>/binding with target Node `node`; `uid` (if not empty) a precondition.
  virtual Status Bind(const std::string& ns, const std::string& name, const std::string& uid,
                      const std::string& node) = 0;
};

// The PodClient of a real API server.
std::unique_ptr<PodClient> NewKubePodClient(std::shared_ptr<kube::Client> client);

// What the aidi.dev/placement annotation says.
struct Placement {
  std::string node;
  std::string site;
  int score = 0;
  double est_seconds = 0;
  double est_cost = 0;
  double transfer_seconds = 0;
  std::string reason;

  nlohmann::json ToJson() const;
};

class Handlers {
 public:
  // `pods` may be null (Bind then fails); all must outlive the Handlers.
  Handlers(NodeCache* cache, GpuLedger* ledger, PodClient* pods,
           const costmodel::ThroughputTable& throughput = costmodel::ThroughputTable::BuiltIn());

  ExtenderFilterResult Filter(const ExtenderArgs& args) const;
  HostPriorityList Prioritize(const ExtenderArgs& args) const;
  // "" on success, else why the bind failed (ExtenderBindingResult.Error).
  std::string Bind(const ExtenderBindingArgs& args);

  // The placement of a pod with `demand` on `node`, evaluated over every cached node.
  Placement PlacementFor(const costmodel::Demand& demand, const std::string& node) const;

 private:
  NodeCache* cache_;
  GpuLedger* ledger_;
  PodClient* pods_;
  const costmodel::ThroughputTable& throughput_;
};

}  // namespace aidi::extender
