// gpu_bench's self-test: every gpu.h primitive on small tables full of edge cases (NULLs,
// INT64_MIN, NaN, -0.0, infinities, values on histogram edges, ties, empty inputs, many groups),
// compared with expr::Evaluate and reference.h. Reusable by the worker's end-to-end GPU checks.
#pragma once

#include <string>
#include <vector>

namespace aidi::bench::gpu {

struct CheckResult {
  std::string name;
  bool pass = false;
  std::string detail;  // why it failed ("" when it passed)
};

// Needs a GPU (gpu::Available()); each check is independent.
std::vector<CheckResult> RunSelfTest();

}  // namespace aidi::bench::gpu
