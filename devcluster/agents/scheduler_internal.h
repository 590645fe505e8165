// What the scheduler's source files (scheduler*.cc, quantity.cc) share and nothing else needs.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace aidi::devcluster::scheduler_internal {

inline constexpr char kComponent[] = "aidi-devcluster-scheduler";
inline constexpr std::int64_t kMaxNodeScore = 100;
inline constexpr std::int64_t kMaxExtenderPriority = 10;
inline constexpr std::int64_t kDefaultMaxPods = 110;
inline constexpr std::int64_t kMilli = 1000;

__extension__ typedef __int128 Int128;  // NOLINT: exact intermediate products

// Whether the pod has finished: status.phase Succeeded or Failed.
bool IsTerminal(const nlohmann::json& pod);
// The node's metadata.name.
std::string NodeName(const nlohmann::json& node);

}  // namespace aidi::devcluster::scheduler_internal
