// The built-in ops of aidi-worker, as a Pipeline stage's `op` names them.
//
// The operator rejects a stage whose op is not here (condition Accepted=False) instead of
// letting its pod fail at run time. This list is aidi-worker's (issue 6, `aidi-worker ops`);
// the two must change together. `noop` copies its input to its output (for tests and demos).
// Immutable data: safe from any thread.
#pragma once

#include <array>
#include <string_view>

namespace aidi::op {

inline constexpr std::array<std::string_view, 11> kWorkerOps = {
    "clean",   "convert", "filter", "groupby", "histogram", "normalize",
    "predict", "select",  "sort",   "train",   "noop"};

inline bool IsWorkerOp(std::string_view op) {
  for (std::string_view known : kWorkerOps) {
    if (known == op) return true;
  }
  return false;
}

}  // namespace aidi::op
