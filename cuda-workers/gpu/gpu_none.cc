// gpu.h where the build has no CUDA (AIDI_WORKER_CUDA OFF): nothing is available and every
// primitive says so, so callers compile and fall back to their CPU path.
#include <cmath>
#include <limits>

#include "cuda-workers/gpu/gpu.h"

namespace aidi::worker::gpu {
namespace {

Status None() { return Status::Unavailable("built without CUDA"); }

}  // namespace

bool Available() { return false; }
std::string DeviceDescription() { return "built without CUDA"; }

double ColumnStats::VariancePop() const {
  return count == 0 ? std::numeric_limits<double>::quiet_NaN() : m2 / static_cast<double>(count);
}
double ColumnStats::StdPop() const { return std::sqrt(VariancePop()); }

StatusOr<Column> Evaluate(const expr::Program&, std::span<const Column>, size_t) { return None(); }
StatusOr<std::vector<Column>> Filter(const Column&, std::span<const Column>) { return None(); }
StatusOr<ColumnStats> Stats(const Column&) { return None(); }
StatusOr<Column> Normalize(const Column&, NormalizeMethod, const ColumnStats&, ZeroRange) {
  return None();
}
StatusOr<HistogramResult> Histogram(const Column&, int64_t, double, double) { return None(); }
StatusOr<std::vector<Column>> GroupBy(std::span<const Column>, std::span<const Column>,
                                      std::span<const Aggregate>) {
  return None();
}
StatusOr<std::vector<int64_t>> SortIndices(std::span<const Column>, std::span<const SortDirection>,
                                           std::optional<size_t>) {
  return None();
}
StatusOr<std::vector<Column>> Gather(std::span<const Column>, std::span<const int64_t>) {
  return None();
}

}  // namespace aidi::worker::gpu
