// Builders for the extender's tests: Node, Pod and EdgeSite objects as the API server serves
// them, and ExtenderArgs for a pending pod. Test-only; plain functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scheduler-extender/wire.h"

namespace aidi::extender::testing {

using nlohmann::json;

inline json NodeObject(const std::string& name, const std::string& site, const std::string& model,
                       int gpus, int memory_mib = 0, bool cordoned = false) {
  json labels = json::object();
  if (!site.empty()) labels["aidi.dev/site"] = site;
  if (!model.empty()) labels["nvidia.com/gpu.product"] = model;
  if (memory_mib > 0) labels["nvidia.com/gpu.memory"] = std::to_string(memory_mib);
  json allocatable = {{"cpu", "16"}, {"memory", "64Gi"}, {"pods", "110"}};
  if (gpus > 0) allocatable["nvidia.com/gpu"] = std::to_string(gpus);
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", name}, {"labels", labels}}},
               {"spec", json::object()},
               {"status",
                {{"capacity", allocatable},
                 {"allocatable", allocatable},
                 {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  if (cordoned) node["spec"]["unschedulable"] = true;
  return node;
}

inline json PodObject(const std::string& ns, const std::string& name, const std::string& uid,
                      const std::string& node, int gpus, const std::string& phase = "Running",
                      const std::optional<std::string>& demand = std::nullopt) {
  json resources = json::object();
  if (gpus > 0) {
    resources = {{"requests", {{"nvidia.com/gpu", std::to_string(gpus)}}},
                 {"limits", {{"nvidia.com/gpu", std::to_string(gpus)}}}};
  }
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"uid", uid}}},
              {"spec",
               {{"schedulerName", "aidi-scheduler"},
                {"containers",
                 {{{"name", "main"}, {"image", "aidi-worker:dev"}, {"resources", resources}}}}}},
              {"status", {{"phase", phase}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  if (demand) pod["metadata"]["annotations"] = {{"aidi.dev/demand", *demand}};
  return pod;
}

struct SitePrice {
  std::string model;
  double per_hour;
};

inline json SiteObject(const std::string& name, const std::string& type, double latency_ms,
                       double bandwidth_mbps, double egress_per_gb,
                       const std::vector<SitePrice>& prices, bool maintenance = false) {
  json gpu_hour = json::object();
  for (const auto& p : prices) gpu_hour[p.model] = p.per_hour;
  json link = {{"latencyMs", latency_ms}};
  if (bandwidth_mbps > 0) link["bandwidthMbps"] = bandwidth_mbps;
  if (egress_per_gb > 0) link["egressCostPerGB"] = egress_per_gb;
  return {{"apiVersion", "aidi.dev/v1alpha1"},
          {"kind", "EdgeSite"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"type", type},
            {"link", link},
            {"cost", {{"gpuHour", gpu_hour}, {"currency", "USD"}}},
            {"maintenance", maintenance}}}};
}

// A pending pod as ExtenderArgs carries it.
inline ExtenderPod PendingPod(const std::string& name, int gpus,
                              const std::optional<std::string>& demand = std::nullopt) {
  ExtenderPod pod;
  pod.name = name;
  pod.namespace_ = "default";
  pod.uid = "uid-" + name;
  pod.scheduler_name = "aidi-scheduler";
  ExtenderContainer c;
  c.name = "main";
  if (gpus > 0) {
    c.requests["nvidia.com/gpu"] = std::to_string(gpus);
    c.limits["nvidia.com/gpu"] = std::to_string(gpus);
  }
  pod.containers.push_back(c);
  if (demand) pod.annotations["aidi.dev/demand"] = *demand;
  return pod;
}

inline ExtenderArgs NamesArgs(ExtenderPod pod, std::vector<std::string> names) {
  ExtenderArgs args;
  args.pod = std::move(pod);
  args.node_names = std::move(names);
  return args;
}

}  // namespace aidi::extender::testing
