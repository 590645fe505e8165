// aidi::worker::gpu: the CUDA path's primitives on host columns. Each call uploads its inputs,
// runs kernels designed to stream at close to the GPU's memory bandwidth, and downloads the
// result, so op code (cuda-workers/ops) can swap a CPU step for a GPU step column for column.
//
// The header is plain C++ (no CUDA types): g++-only code includes it. Where the build has no
// CUDA (AIDI_WORKER_CUDA OFF), the same functions exist and return Unavailable, and Available()
// is false. Every call returns Unavailable when the GPU cannot do the work (no device, out of
// memory, an expression with strings, too many rows, an int64 sum that overflows): the caller
// then runs its CPU path, which is the reference. InvalidArgument means the request is wrong on
// any device (type mismatch, ragged columns). Device-resident variants for callers that chain
// steps (and for bench/gpu) are in device.h.
//
// Thread safety: calls may come from several threads; each thread's work runs on its own CUDA
// stream (cudaStreamPerThread) and calls block until their result is on the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/expr/program.h"

namespace aidi::worker::gpu {

using duckdb::Column;
using duckdb::ColumnType;

// Whether a CUDA device is usable (cudaGetDeviceCount > 0); computed once, any error is false.
bool Available();
// "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB" or why there is none.
std::string DeviceDescription();

// Row-wise evaluation of a compiled expression, exactly as expr::Evaluate (eval.h) does it:
// `columns` is indexed by schema column index (the whole table may be passed; only the
// program's columns are uploaded). Result: Int64, Double or Bool with validity; named "".
// Programs with strings, or beyond the kernel's limits (216 instructions, 16 columns, stack
// depth 32), are declined with Unavailable.
[[nodiscard]] StatusOr<Column> Evaluate(const expr::Program& program,
                                        std::span<const Column> columns, size_t rows);

// The rows of `columns` where `mask` (Bool) is true and not NULL, in their original order.
[[nodiscard]] StatusOr<std::vector<Column>> Filter(const Column& mask,
                                                   std::span<const Column> columns);

// One pass over an Int64 or Double column (Int64 values are widened to double for sum, mean
// and m2). NULLs are skipped. NaN follows DuckDB's order (NaN above +inf): max is NaN when any
// value is NaN, min ignores NaN unless every value is NaN; sum, mean and m2 become NaN.
struct ColumnStats {
  int64_t count = 0;    // non-NULL values
  double sum = 0;       // plain double sum (tree order)
  double mean = 0;      // Chan/Welford mean; 0 when count == 0
  double m2 = 0;        // sum of squared deviations from the mean
  double min = 0;       // NaN when count == 0
  double max = 0;       // NaN when count == 0
  int64_t int_min = 0;  // Int64 columns: the exact extremes (0 when count == 0)
  int64_t int_max = 0;
  double VariancePop() const;  // m2 / count (NaN when count == 0)
  double StdPop() const;       // sqrt(VariancePop())
};
[[nodiscard]] StatusOr<ColumnStats> Stats(const Column& column);

enum class NormalizeMethod { kZScore, kMinMax };
// What Normalize writes for non-NULL rows when the scale is 0 (zscore: population std 0;
// minmax: max == min) or when the column has no values. The op (cuda-workers/ops) picks the one
// its CPU path uses; kNull is what `(x - mean) / NULLIF(std, 0)` gives in SQL.
enum class ZeroRange { kNull, kZero, kNaN };
// Double column: zscore (x - mean) / std_pop, minmax (x - min) / (max - min), computed with
// exactly these two IEEE operations (no FMA), from `stats` (usually Stats(column)). NULLs stay.
[[nodiscard]] StatusOr<Column> Normalize(const Column& column, NormalizeMethod method,
                                         const ColumnStats& stats, ZeroRange on_zero_range);

// numpy.histogram(values, bins, range=(min, max)): `bins` equal-width bins whose edges are
// numpy's linspace(min, max, bins + 1); each bin is [lo, hi) except the last, [lo, hi]; values
// outside [min, max], NaN and NULL are not counted. min == max widens to [min-0.5, max+0.5]
// like numpy; min > max or a non-finite bound is InvalidArgument. Int64 or Double input.
struct HistogramResult {
  std::vector<double> edges;    // bins + 1: bin i is [edges[i], edges[i + 1])
  std::vector<int64_t> counts;  // bins
};
[[nodiscard]] StatusOr<HistogramResult> Histogram(const Column& column, int64_t bins, double min,
                                                  double max);

// GROUP BY keys (Int64 or Bool columns; a NULL key is a group of its own) with aggregates over
// `values`. Aggregates skip NULLs; sum/mean/min/max of no values are NULL; counts are never NULL.
// Result: the key columns (same names and types), then one column per aggregate named `name`
// (sum: the input's type; mean: Double; min/max: the input's type; counts: Int64), one row per
// group sorted by the keys ascending with NULLs last (SQL promises no order; this one is
// deterministic). An Int64 sum that does not fit int64 is Unavailable (DuckDB's is HUGEINT).
enum class AggregateKind { kSum, kMean, kMin, kMax, kCount, kCountColumn };
struct Aggregate {
  AggregateKind kind = AggregateKind::kCount;
  int column = -1;   // index into `values`; ignored by kCount
  std::string name;  // the output column's name
};
[[nodiscard]] StatusOr<std::vector<Column>> GroupBy(std::span<const Column> keys,
                                                    std::span<const Column> values,
                                                    std::span<const Aggregate> aggregates);

// The row order that sorts `keys` (Int64, Double or Bool; the first key most significant),
// each ascending or descending, NULLs last either way, ties in row order (stable). Doubles use
// DuckDB's order: -0.0 ties with 0.0, NaN sorts above +inf. With `limit`, only the first
// min(limit, rows) indices (top-k).
enum class SortDirection { kAscending, kDescending };
[[nodiscard]] StatusOr<std::vector<int64_t>> SortIndices(std::span<const Column> keys,
                                                         std::span<const SortDirection> directions,
                                                         std::optional<size_t> limit);

// Row indices[i] of each column, for i in order (indices may repeat; each must be < rows).
[[nodiscard]] StatusOr<std::vector<Column>> Gather(std::span<const Column> columns,
                                                   std::span<const int64_t> indices);

}  // namespace aidi::worker::gpu
