// Kubernetes resource quantities ("500m", "2Gi", "1.5", "1e3"), the values of resource requests,
// limits, capacity and allocatable. One parser for every aidi component that reads them: the
// devcluster scheduler's fit check, the operator's GPU inventory and the extender's demand.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube {

// The quantity in thousandths, rounded up as Quantity.MilliValue() does ("2Gi" ->
// 2147483648000, "0.5" -> 500); saturates at the int64 range. InvalidArgument naming the text
// for anything that is not a quantity.
[[nodiscard]] StatusOr<std::int64_t> ParseQuantityMilli(std::string_view text);
// The same for a JSON string or number (clients may send `nvidia.com/gpu: 1` unquoted).
[[nodiscard]] StatusOr<std::int64_t> QuantityMilli(const nlohmann::json& quantity);

// A count of a whole-unit resource such as nvidia.com/gpu, which Kubernetes requires to be a
// whole number: "8", "2k" (2000), "1e1" (10). nullopt for a fraction, a negative, a count above
// 2^31 - 1, or anything that is not a quantity.
std::optional<std::int64_t> WholeCount(std::string_view text);
std::optional<std::int64_t> WholeCount(const nlohmann::json& quantity);
inline std::optional<std::int64_t> WholeCount(const char* text) {  // a literal is text, not JSON
  return WholeCount(std::string_view(text));
}

}  // namespace aidi::kube
