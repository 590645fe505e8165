// Demand: what a stage pod asks of the placement, read from the pod itself.
//
// The pod's `aidi.dev/demand` annotation (shared/DESIGN.md, "Contracts between the parts") is a
// JSON object whose keys are all optional: gpus, gpuModel, gpuMemoryGiB, workGpuSeconds,
// inputBytes, inputSite, objective (MinCost|MinTime|Balanced, default Balanced), weights {cost,
// time, latency}, sites (allowed site names; [] allows none), maxLatencyMs. `gpus` defaults to
// the pod's nvidia.com/gpu request, computed with kube-scheduler's rule: the larger of the sum
// over its containers (plus sidecar init containers) and the largest ordinary init container,
// where a container's request is requests["nvidia.com/gpu"], else limits["nvidia.com/gpu"]
// (extended resources default their request to their limit). A pod without the annotation is
// placed on GPUs and price alone.
//
// Strictness: a value of the wrong JSON type, a negative or non-finite number, a non-integral
// gpus/inputBytes or an unknown objective is an InvalidArgument naming the key
// ("aidi.dev/demand: gpus: must be a whole number"); the filter reports it on every candidate
// (FailedAndUnresolvableNodes), so it shows in the pod's FailedScheduling event (see
// handlers.h). Unknown keys are ignored, as Kubernetes ignores unknown fields: the operator
// writes this annotation, and a newer operator may add keys this extender does not know yet.
//
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "costmodel/types.h"
#include "scheduler-extender/wire.h"

namespace aidi::extender {

inline constexpr char kDemandAnnotation[] = "aidi.dev/demand";
inline constexpr char kPlacementAnnotation[] = "aidi.dev/placement";
inline constexpr char kGpuResource[] = "nvidia.com/gpu";

// A whole number of GPUs from a quantity's text ("2", "1e1"; kube::WholeCount); 0 for anything
// else ("", "1.5", "-1", above 2^31 - 1). The API server rejects fractional extended
// resources, so 0 only ever meets malformed input.
std::int64_t GpuQuantity(std::string_view text);

// The pod's effective nvidia.com/gpu request (see the header comment).
std::int64_t PodGpuRequest(const ExtenderPod& pod);
// The same for a pod as the API server serves it (spec.containers[].resources, ...).
std::int64_t PodGpuRequest(const nlohmann::json& pod);

// Parses the annotation's value. `annotation` nullptr: the pod has none (the default demand).
// `pod_gpus` is the pod's request (PodGpuRequest), used when the annotation has no `gpus`.
[[nodiscard]] StatusOr<costmodel::Demand> ParseDemand(const std::string* annotation,
                                                      std::int64_t pod_gpus);

// The demand of a pod from ExtenderArgs, or of a pod object read from the API server.
[[nodiscard]] StatusOr<costmodel::Demand> DemandOf(const ExtenderPod& pod);
[[nodiscard]] StatusOr<costmodel::Demand> DemandOf(const nlohmann::json& pod);

}  // namespace aidi::extender
