// Estimator: for one stage and each node, whether the stage fits (and if not, why) and what it
// would cost there: seconds to move the input, seconds to run, money.
//
// Filters, in this order; the first that fails is the node's reason (README.md, "Filter"):
//   kMaintenance        the node or its site is in maintenance
//   kSiteNotAllowed     the node's site is not in Demand::allowed_sites
//   kLatencyTooHigh     the site's link latency exceeds Demand::max_latency_ms
//   kGpuModelMismatch   the node's nvidia.com/gpu.product differs from Demand::gpu_model
//   kTooFewGpus         the node has fewer GPUs in total than the stage needs
//   kGpuMemoryTooSmall  the node's per-GPU memory is below the demand (7% slack, see below)
//   kGpusBusy           enough GPUs in total, too few free now
// All but kGpusBusy are unresolvable for this pod (IsUnresolvable): preempting pods on the node
// would not help, so the extender reports them as FailedAndUnresolvableNodes; kGpusBusy goes to
// FailedNodes. GPU checks apply only when the stage asks for GPUs.
//
// Estimates (every node gets them, feasible or not; units in the field names):
//   transfer  the input's bytes over the narrower link of the path plus the path's latency; 0
//             on the input's own site (PlanTransfer)
//   compute   work_gpu_seconds / (throughput × gpus): work splits evenly over the GPUs
//             (linear scaling, optimistic); a CPU-only stage's work is taken as wall seconds
//   run       queued_seconds + compute;   finish = transfer + run (no overlap assumed)
//   money     (gpus × price_per_gpu_hour + cpu_cores × cpuCoreHour) × compute hours + egress
// Bad numbers (NaN, negative, infinite) in the inputs count as 0 and results are clamped to
// [0, 1e18], so nothing divides by zero and every estimate is finite.
//
// Thread safety: an Estimator is immutable; its methods may run concurrently. The directory and
// table it references must outlive it. EstimateAll allocates nothing per node: one small buffer
// per call (one entry per site) plus the caller's output vector, whose capacity it reuses.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "costmodel/site_directory.h"
#include "costmodel/throughput.h"
#include "costmodel/types.h"

namespace aidi::costmodel {

enum class FilterReason {
  kFeasible = 0,
  kMaintenance,
  kSiteNotAllowed,
  kLatencyTooHigh,
  kGpuModelMismatch,
  kTooFewGpus,
  kGpuMemoryTooSmall,
  kGpusBusy,
};

// CamelCase name, e.g. "GpusBusy" (for logs, metrics labels and Events).
std::string_view FilterReasonName(FilterReason reason);

// True when the node can never take this pod as the cluster stands (everything but kFeasible
// and kGpusBusy): kube-scheduler's FailedAndUnresolvableNodes.
bool IsUnresolvable(FilterReason reason);

// A node's memory passes when it has at least this fraction of the demanded GiB: products are
// sold by a rounded size (a "24 GB" L4 reports 22.5 GiB, an "80 GB" H100 79.6 GiB).
inline constexpr double kGpuMemorySlack = 0.93;

// Every value the model computes for one node and one stage.
struct NodeEstimate {
  FilterReason reason = FilterReason::kFeasible;
  bool feasible() const { return reason == FilterReason::kFeasible; }

  double throughput = 0;          // per GPU, relative to the reference GPU (used)
  double price_per_gpu_hour = 0;  // used
  double latency_ms = 0;          // of the node's site link (0 without a site)
  double transfer_seconds = 0;
  double compute_seconds = 0;
  double run_seconds = 0;     // queued + compute
  double finish_seconds = 0;  // transfer + run
  double compute_money = 0;   // GPU and CPU time
  double egress_money = 0;
  double money = 0;  // compute + egress

  // Filled by Score (score.h): the combined normalised cost in [0, 1] and the 0..10 score.
  // Infeasible nodes keep cost = +infinity and score = 0.
  double cost = std::numeric_limits<double>::infinity();
  int score = 0;
};

// Moving the input between two sites. Sites hang off the cloud hub by their links, so the data
// crosses the source's link (unless it is in the hub) and the destination's link (unless the
// node is in the hub).
struct Transfer {
  double seconds = 0;       // bytes × 8 / (narrowest bandwidth × 1e6) + latencies / 1000
  double egress_money = 0;  // bytes / 1e9 × the sum of the links' egress prices
};

// `from`/`to`: the links of the input's and the node's site; nullptr for the hub (no site or an
// unknown one). The caller handles "same site" (no transfer). A link's bandwidth <= 0 does not
// limit; no limiting link at all means the bytes move instantly and only latency counts.
Transfer PlanTransfer(double bytes, const Link* from, const Link* to);

// A candidate as a caller's cache holds it (the scheduler extender's node cache): the offer
// stays where it is, so estimating thousands of nodes per request copies no strings.
// `free_gpus` stands in for offer->free_gpus (the caller subtracts its reservations per
// request); `site_hint` is offer->site's SiteDirectory::IndexOf as the caller last saw it (any
// value is safe: a wrong hint costs a search).
struct OfferRef {
  const NodeOffer* offer = nullptr;  // never null
  int free_gpus = 0;
  int site_hint = -1;
};

class Estimator {
 public:
  // `sites` and `throughput` must outlive the Estimator.
  Estimator(const SiteDirectory& sites, const ThroughputTable& throughput)
      : sites_(sites), throughput_(throughput) {}
  // Temporaries would dangle.
  Estimator(SiteDirectory&&, const ThroughputTable&) = delete;
  Estimator(const SiteDirectory&, ThroughputTable&&) = delete;

  // out->at(i) estimates nodes[i]; out is resized to nodes.size() (its capacity is reused).
  void EstimateAll(const Demand& demand, std::span<const NodeOffer> nodes,
                   std::vector<NodeEstimate>* out) const;
  // The same over offers kept elsewhere; equal results for equal offers.
  void EstimateAll(const Demand& demand, std::span<const OfferRef> nodes,
                   std::vector<NodeEstimate>* out) const;

  // One node (convenient for tests and the explain path; EstimateAll is the fast path).
  NodeEstimate EstimateOne(const Demand& demand, const NodeOffer& node) const;

 private:
  const SiteDirectory& sites_;
  const ThroughputTable& throughput_;
};

// Why a node was filtered, for people: "needs 2 GPUs, 1 free", "GPU model NVIDIA-L4 is not
// NVIDIA-H100-80GB-HBM3", "site edge-x is not allowed (allowed: a, b)", "link latency 80 ms
// exceeds maxLatencyMs 50", "site edge-x is in maintenance". "" for a feasible node.
std::string FilterMessage(const NodeEstimate& estimate, const NodeOffer& node,
                          const Demand& demand);

// Whether FilterMessage says the same for nodes a and b, both filtered for `reason` under one
// demand: it compares only the fields that reason's message reads (the site, the link latency,
// the GPU model, total, free GPUs or memory), so a caller can build each distinct message once
// per request. `free_a`/`free_b` stand in for the offers' free_gpus (as OfferRef does).
bool SameFilterMessage(FilterReason reason, const NodeOffer& a, int free_a, double latency_a,
                       const NodeOffer& b, int free_b, double latency_b);

}  // namespace aidi::costmodel
