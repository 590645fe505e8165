#include "scheduler-extender/demand.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "base/json_nesting.h"
#include "kube/core/json_fields.h"
#include "kube/core/quantity.h"

namespace aidi::extender {
namespace {

using kube::Field;
using nlohmann::json;

// One container's GPU request: requests, else limits.
template <typename Get>
std::int64_t ContainerGpus(const Get& get) {
  if (auto v = get(true)) return *v;
  if (auto v = get(false)) return *v;
  return 0;
}

// kube-scheduler's effective request (k8s.io/component-helpers/resource PodRequests): app
// containers plus sidecars, or the largest init container plus the sidecars started before it.
struct RequestSum {
  std::int64_t app = 0;
  std::int64_t sidecars = 0;
  std::int64_t init = 0;
  void AddApp(std::int64_t gpus) { app += gpus; }
  void AddInit(std::int64_t gpus, bool sidecar) {
    if (sidecar) {
      app += gpus;
      sidecars += gpus;
      init = std::max(init, sidecars);
    } else {
      init = std::max(init, gpus + sidecars);
    }
  }
  std::int64_t Total() const { return std::max(app, init); }
};

std::optional<std::int64_t> FromList(const ResourceList& list) {
  auto it = list.find(kGpuResource);
  if (it == list.end()) return std::nullopt;
  return GpuQuantity(it->second);
}

std::optional<std::int64_t> FromJsonList(const json& list) {
  const json& q = Field(list, kGpuResource);
  if (q.is_null()) return std::nullopt;
  return kube::WholeCount(q).value_or(0);
}

std::int64_t JsonContainerGpus(const json& c) {
  const json& resources = Field(c, "resources");
  return ContainerGpus([&](bool requests) {
    return FromJsonList(Field(resources, requests ? "requests" : "limits"));
  });
}

Status Bad(std::string_view key, std::string_view what) {
  return Status::InvalidArgument(std::string(kDemandAnnotation) + ": " + std::string(key) + ": " +
                                 std::string(what));
}

// A finite number >= 0.
StatusOr<double> NonNegative(std::string_view key, const json& v) {
  if (!v.is_number()) return Bad(key, "must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < 0) return Bad(key, "must be a finite number >= 0");
  return d;
}

// A whole number >= 0 that fits `max` (5 and 5.0 both count; 5.5 does not).
StatusOr<std::int64_t> WholeNumber(std::string_view key, const json& v, double max) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (static_cast<double>(u) > max) return Bad(key, "is too large");
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) {
    auto i = v.get<std::int64_t>();
    if (i < 0) return Bad(key, "must be a whole number >= 0");
    if (static_cast<double>(i) > max) return Bad(key, "is too large");
    return i;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || std::floor(d) != d) {
      return Bad(key, "must be a whole number >= 0");
    }
    if (d > max) return Bad(key, "is too large");
    return static_cast<std::int64_t>(d);
  }
  return Bad(key, "must be a whole number");
}

StatusOr<std::string> String(std::string_view key, const json& v) {
  if (!v.is_string()) return Bad(key, "must be a string");
  return v.get<std::string>();
}

}  // namespace

std::int64_t GpuQuantity(std::string_view text) { return kube::WholeCount(text).value_or(0); }

std::int64_t PodGpuRequest(const ExtenderPod& pod) {
  RequestSum sum;
  for (const ExtenderContainer& c : pod.containers) {
    sum.AddApp(
        ContainerGpus([&](bool requests) { return FromList(requests ? c.requests : c.limits); }));
  }
  for (const ExtenderContainer& c : pod.init_containers) {
    sum.AddInit(
        ContainerGpus([&](bool requests) { return FromList(requests ? c.requests : c.limits); }),
        c.restart_policy == "Always");
  }
  return sum.Total();
}

std::int64_t PodGpuRequest(const json& pod) {
  const json& spec = Field(pod, "spec");
  RequestSum sum;
  if (const json& cs = Field(spec, "containers"); cs.is_array()) {
    for (const json& c : cs) sum.AddApp(JsonContainerGpus(c));
  }
  if (const json& cs = Field(spec, "initContainers"); cs.is_array()) {
    for (const json& c : cs) {
      const json& policy = Field(c, "restartPolicy");
      sum.AddInit(JsonContainerGpus(c), policy.is_string() && policy == "Always");
    }
  }
  return sum.Total();
}

StatusOr<costmodel::Demand> ParseDemand(const std::string* annotation, std::int64_t pod_gpus) {
  costmodel::Demand demand;
  demand.gpus = static_cast<int>(std::clamp<std::int64_t>(pod_gpus, 0, 1 << 20));
  if (annotation == nullptr) return demand;
  // The annotation is small; nlohmann's parser is plenty once the nesting is bounded (it
  // recurses).
  if (JsonNestingDepth(*annotation) > 32) {
    return Status::InvalidArgument(std::string(kDemandAnnotation) + ": nests too deeply");
  }
  json doc = json::parse(*annotation, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::InvalidArgument(std::string(kDemandAnnotation) + ": not valid JSON");
  }
  if (!doc.is_object()) {
    return Status::InvalidArgument(std::string(kDemandAnnotation) + ": must be a JSON object");
  }
  for (const auto& [key, v] : doc.items()) {
    if (key == "gpus") {
      AIDI_ASSIGN_OR_RETURN(std::int64_t g, WholeNumber(key, v, 1 << 20));
      demand.gpus = static_cast<int>(g);
    } else if (key == "gpuModel") {
      AIDI_ASSIGN_OR_RETURN(demand.gpu_model, String(key, v));
    } else if (key == "gpuMemoryGiB") {
      AIDI_ASSIGN_OR_RETURN(demand.gpu_memory_gib, NonNegative(key, v));
    } else if (key == "workGpuSeconds") {
      AIDI_ASSIGN_OR_RETURN(demand.work_gpu_seconds, NonNegative(key, v));
    } else if (key == "inputBytes") {
      AIDI_ASSIGN_OR_RETURN(demand.input_bytes, WholeNumber(key, v, 9.0e18));
    } else if (key == "inputSite") {
      AIDI_ASSIGN_OR_RETURN(demand.input_site, String(key, v));
    } else if (key == "objective") {
      AIDI_ASSIGN_OR_RETURN(std::string name, String(key, v));
      auto objective = costmodel::ParseObjective(name);
      if (!objective.ok()) return Bad(key, "must be MinCost, MinTime or Balanced");
      demand.objective = *objective;
    } else if (key == "weights") {
      if (!v.is_object()) return Bad(key, "must be an object");
      costmodel::Weights w;
      for (const auto& [wk, wv] : v.items()) {
        std::string path = "weights." + wk;
        double* slot = wk == "cost"      ? &w.cost
                       : wk == "time"    ? &w.time
                       : wk == "latency" ? &w.latency
                                         : nullptr;
        if (slot == nullptr) continue;  // a newer operator's key: ignored, as Kubernetes does
        AIDI_ASSIGN_OR_RETURN(*slot, NonNegative(path, wv));
      }
      demand.weights = w;
    } else if (key == "sites") {
      if (!v.is_array()) return Bad(key, "must be a list of site names");
      std::vector<std::string> sites;
      for (const json& s : v) {
        if (!s.is_string()) return Bad(key, "must be a list of site names");
        sites.push_back(s.get<std::string>());
      }
      demand.allowed_sites = std::move(sites);
    } else if (key == "maxLatencyMs") {
      AIDI_ASSIGN_OR_RETURN(double ms, NonNegative(key, v));
      demand.max_latency_ms = ms;
    }
    // Other keys are ignored: the operator writes this annotation, and a newer operator may add
    // keys before this extender knows them (Kubernetes ignores unknown fields the same way).
  }
  return demand;
}

StatusOr<costmodel::Demand> DemandOf(const ExtenderPod& pod) {
  auto it = pod.annotations.find(kDemandAnnotation);
  return ParseDemand(it == pod.annotations.end() ? nullptr : &it->second, PodGpuRequest(pod));
}

StatusOr<costmodel::Demand> DemandOf(const json& pod) {
  const json& annotation = Field(Field(Field(pod, "metadata"), "annotations"), kDemandAnnotation);
  std::string text;
  if (annotation.is_string()) text = annotation.get<std::string>();
  return ParseDemand(annotation.is_string() ? &text : nullptr, PodGpuRequest(pod));
}

}  // namespace aidi::extender
