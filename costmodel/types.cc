#include "costmodel/types.h"

#include <cmath>
#include <string>

namespace aidi::costmodel {
namespace {

// A non-negative finite number: the only kind the model uses unrepaired.
bool Usable(double v) { return std::isfinite(v) && v >= 0; }

Status CheckUsable(double v, std::string_view what) {
  if (Usable(v)) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " must be a finite number >= 0, got " +
                                 std::to_string(v));
}

}  // namespace

std::string_view ObjectiveName(Objective objective) {
  switch (objective) {
    case Objective::kMinCost:
      return "MinCost";
    case Objective::kMinTime:
      return "MinTime";
    case Objective::kBalanced:
      return "Balanced";
  }
  return "Balanced";  // unreachable: the switch covers every enumerator
}

StatusOr<Objective> ParseObjective(std::string_view name) {
  if (name == "MinCost") return Objective::kMinCost;
  if (name == "MinTime") return Objective::kMinTime;
  if (name == "Balanced") return Objective::kBalanced;
  return Status::InvalidArgument("objective must be MinCost, MinTime or Balanced, got \"" +
                                 std::string(name) + "\"");
}

std::string_view SiteTypeName(SiteType type) {
  switch (type) {
    case SiteType::kCloud:
      return "Cloud";
    case SiteType::kEdge:
      return "Edge";
    case SiteType::kOnPrem:
      return "OnPrem";
  }
  return "Cloud";  // unreachable: the switch covers every enumerator
}

StatusOr<SiteType> ParseSiteType(std::string_view name) {
  if (name == "Cloud") return SiteType::kCloud;
  if (name == "Edge") return SiteType::kEdge;
  if (name == "OnPrem") return SiteType::kOnPrem;
  return Status::InvalidArgument("site type must be Edge, Cloud or OnPrem, got \"" +
                                 std::string(name) + "\"");
}

std::optional<double> Site::GpuHourPrice(std::string_view model) const {
  for (const GpuPrice& p : gpu_hour) {
    if (p.model == model) return p.per_hour;
  }
  return std::nullopt;
}

Status ValidateDemand(const Demand& d) {
  if (d.gpus < 0)
    return Status::InvalidArgument("gpus must be >= 0, got " + std::to_string(d.gpus));
  AIDI_RETURN_IF_ERROR(CheckUsable(d.gpu_memory_gib, "gpuMemoryGiB"));
  AIDI_RETURN_IF_ERROR(CheckUsable(d.cpu_cores, "cpuCores"));
  AIDI_RETURN_IF_ERROR(CheckUsable(d.work_gpu_seconds, "workGpuSeconds"));
  if (d.input_bytes < 0) {
    return Status::InvalidArgument("inputBytes must be >= 0, got " + std::to_string(d.input_bytes));
  }
  if (d.weights) {
    AIDI_RETURN_IF_ERROR(CheckUsable(d.weights->cost, "weights.cost"));
    AIDI_RETURN_IF_ERROR(CheckUsable(d.weights->time, "weights.time"));
    AIDI_RETURN_IF_ERROR(CheckUsable(d.weights->latency, "weights.latency"));
  }
  if (d.max_latency_ms) AIDI_RETURN_IF_ERROR(CheckUsable(*d.max_latency_ms, "maxLatencyMs"));
  return Status::Ok();
}

Status ValidateNodeOffer(const NodeOffer& n) {
  const std::string at = "node " + n.name + ": ";
  if (n.total_gpus < 0 || n.free_gpus < 0 || n.free_gpus > n.total_gpus) {
    return Status::InvalidArgument(at + "needs 0 <= free GPUs <= total GPUs, got " +
                                   std::to_string(n.free_gpus) + " of " +
                                   std::to_string(n.total_gpus));
  }
  AIDI_RETURN_IF_ERROR(CheckUsable(n.gpu_memory_gib, at + "GPU memory"));
  if (n.price_per_gpu_hour) {
    AIDI_RETURN_IF_ERROR(CheckUsable(*n.price_per_gpu_hour, at + "price per GPU-hour"));
  }
  if (n.throughput && !(std::isfinite(*n.throughput) && *n.throughput > 0)) {
    return Status::InvalidArgument(at + "throughput must be a finite number > 0");
  }
  AIDI_RETURN_IF_ERROR(CheckUsable(n.queued_seconds, at + "queued seconds"));
  return Status::Ok();
}

Status ValidateSite(const Site& s) {
  const std::string at = "site " + s.name + ": ";
  AIDI_RETURN_IF_ERROR(CheckUsable(s.link.latency_ms, at + "link.latencyMs"));
  AIDI_RETURN_IF_ERROR(CheckUsable(s.link.bandwidth_mbps, at + "link.bandwidthMbps (0: unset)"));
  AIDI_RETURN_IF_ERROR(CheckUsable(s.link.egress_per_gb, at + "link.egressCostPerGB"));
  for (const GpuPrice& p : s.gpu_hour) {
    AIDI_RETURN_IF_ERROR(CheckUsable(p.per_hour, at + "cost.gpuHour[" + p.model + "]"));
  }
  AIDI_RETURN_IF_ERROR(CheckUsable(s.cpu_core_hour, at + "cost.cpuCoreHour"));
  return Status::Ok();
}

}  // namespace aidi::costmodel
