// Builders shared by the costmodel tests: terse sites, nodes and demands. Test-only.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "costmodel/types.h"

namespace aidi::costmodel::testing {

inline constexpr const char* kA100 = "NVIDIA-A100-SXM4-80GB";
inline constexpr const char* kH100 = "NVIDIA-H100-80GB-HBM3";
inline constexpr const char* kL4 = "NVIDIA-L4";
inline constexpr const char* kT4 = "Tesla-T4";

inline Site MakeSite(std::string name, SiteType type, double latency_ms, double bandwidth_mbps,
                     double egress_per_gb, std::vector<GpuPrice> prices = {}) {
  Site s;
  s.name = std::move(name);
  s.type = type;
  s.link = {
      .latency_ms = latency_ms, .bandwidth_mbps = bandwidth_mbps, .egress_per_gb = egress_per_gb};
  s.gpu_hour = std::move(prices);
  return s;
}

inline NodeOffer MakeNode(std::string name, std::string site, std::string model, int total,
                          int free, double memory_gib = 80) {
  NodeOffer n;
  n.name = std::move(name);
  n.site = std::move(site);
  n.gpu_model = std::move(model);
  n.total_gpus = total;
  n.free_gpus = free;
  n.gpu_memory_gib = memory_gib;
  return n;
}

inline Demand GpuDemand(int gpus, double work_gpu_seconds, Objective objective) {
  Demand d;
  d.gpus = gpus;
  d.work_gpu_seconds = work_gpu_seconds;
  d.objective = objective;
  return d;
}

}  // namespace aidi::costmodel::testing
