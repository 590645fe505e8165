// Plain value types the cost model reads: what a node offers, what a site's link and prices
// are, and what a stage demands.
//
// They mirror the contracts in DESIGN.md without any kube type: NodeOffer is what the scheduler
// extender knows of a node (GPU Feature Discovery labels, the aidi.dev/site label, its GPU
// ledger), Site is an EdgeSite's spec, Demand is a pod's aidi.dev/demand annotation. Units are
// in the field names or comments: seconds, milliseconds, megabits per second, bytes, GiB, and
// prices in the sites' currency (one currency for all sites is assumed). The model is defensive
// about bad values (NaN, negative numbers become 0, see README.md), and Validate* reports them
// for callers that want to reject such input instead. Plain values: copy freely; not
// synchronised, share between threads only read-only or behind your own lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace aidi::costmodel {

// What a stage optimises (spec.objective of a Pipeline).
enum class Objective { kMinCost, kMinTime, kBalanced };
std::string_view ObjectiveName(Objective objective);  // "MinCost", "MinTime", "Balanced"
[[nodiscard]] StatusOr<Objective> ParseObjective(std::string_view name);

// EdgeSite spec.type.
enum class SiteType { kCloud, kEdge, kOnPrem };
std::string_view SiteTypeName(SiteType type);  // "Cloud", "Edge", "OnPrem"
[[nodiscard]] StatusOr<SiteType> ParseSiteType(std::string_view name);

// Relative importance of money, finish time and link latency (placement.weights). Only their
// ratios matter; negative or non-finite weights count as 0.
struct Weights {
  double cost = 0;
  double time = 0;
  double latency = 0;
};

// One entry of EdgeSite spec.cost.gpuHour.
struct GpuPrice {
  std::string model;  // nvidia.com/gpu.product spelling
  double per_hour = 0;
};

// EdgeSite spec.link: the link between the site and the cloud hub (where datasets without a
// site live).
struct Link {
  double latency_ms = 0;      // round trip
  double bandwidth_mbps = 0;  // usable; <= 0 or non-finite: not a bottleneck (the CRD's unset)
  double egress_per_gb = 0;   // price of moving 1 GB (1e9 bytes) over the link; unset: free
};

// An EdgeSite's spec, as the model needs it.
struct Site {
  std::string name;  // the EdgeSite name = the aidi.dev/site node label value
  SiteType type = SiteType::kCloud;
  Link link;
  std::vector<GpuPrice> gpu_hour;  // cost.gpuHour; a model not listed costs 0 per hour
  double cpu_core_hour = 0;        // cost.cpuCoreHour
  bool maintenance = false;        // spec.maintenance: no new stage is placed here

  // cost.gpuHour[model], or nullopt when the site lists no price for the model (a linear scan:
  // sites list a handful of models).
  std::optional<double> GpuHourPrice(std::string_view model) const;
};

// What one node offers now. The extender builds it from the node's labels and its GPU ledger.
struct NodeOffer {
  std::string name;
  std::string site;           // aidi.dev/site label; empty: the cloud hub itself (no link)
  std::string gpu_model;      // nvidia.com/gpu.product; empty: unknown or no GPU
  int total_gpus = 0;         // nvidia.com/gpu allocatable
  int free_gpus = 0;          // of those, not held by any pod
  double gpu_memory_gib = 0;  // per GPU (nvidia.com/gpu.memory MiB / 1024); <= 0: unknown
  // Price of one GPU-hour here. Unset: the site's cost.gpuHour[gpu_model], else 0 (free).
  // Filling it once per node update keeps the per-request path free of string look-ups.
  std::optional<double> price_per_gpu_hour;
  // Throughput of one GPU relative to the reference GPU. Unset or <= 0: the ThroughputTable's
  // value for gpu_model. Fill it once per node update for the same reason as the price.
  std::optional<double> throughput;
  double queued_seconds = 0;  // work already waiting for this node's GPUs, in seconds here
  bool maintenance = false;   // the node itself is being drained for maintenance
};

// What one stage needs and wants: the aidi.dev/demand annotation.
struct Demand {
  int gpus = 0;                 // 0: a CPU-only stage
  std::string gpu_model;        // exact nvidia.com/gpu.product; empty: any model
  double gpu_memory_gib = 0;    // minimum per GPU; 0: any
  double cpu_cores = 0;         // priced at the site's cpuCoreHour while the stage computes
  double work_gpu_seconds = 0;  // the stage's work in seconds on one reference GPU
  int64_t input_bytes = 0;
  std::string input_site;  // where the input lives; empty: the cloud hub
  Objective objective = Objective::kBalanced;
  // Replaces the objective's weights when set and not all zero; keys absent in the annotation
  // are 0.
  std::optional<Weights> weights;
  // Sites the stage may run on. Unset: any site (and nodes without a site). Set and empty:
  // none (the operator writes [] for placement mode Cloud/Edge when no such site exists).
  std::optional<std::vector<std::string>> allowed_sites;
  std::optional<double> max_latency_ms;  // of the node's site link
};

// Report values the model would silently repair (negative, NaN, infinite). OK when the value
// is usable as is; InvalidArgument naming the field otherwise.
[[nodiscard]] Status ValidateDemand(const Demand& demand);
[[nodiscard]] Status ValidateNodeOffer(const NodeOffer& node);
[[nodiscard]] Status ValidateSite(const Site& site);

}  // namespace aidi::costmodel
