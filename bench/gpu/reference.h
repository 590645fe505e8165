// Plain CPU computations of what each GPU primitive must produce, written for obviousness, not
// speed (maps, long double sums, binary search over histogram edges), and the comparisons
// gpu_bench and its self-test use: exact for integers, booleans, strings and validity; doubles
// equal, both NaN, or within a relative tolerance. Single-threaded; pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/gpu/gpu.h"

namespace aidi::bench::gpu {

using worker::duckdb::Column;
using worker::duckdb::ColumnType;
namespace wg = worker::gpu;

// "" when equal; otherwise the first difference ("row 17: want 3, got 4").
std::string CompareColumns(const Column& want, const Column& got, double rel_tol);
bool Close(double want, double got, double rel_tol);

Column RefFilter(const Column& mask, const Column& column);
Column RefGather(const Column& column, std::span<const int64_t> indices);

wg::ColumnStats RefStats(const Column& column);  // two passes in long double
std::string CompareStats(const wg::ColumnStats& want, const wg::ColumnStats& got, bool is_int,
                         double rel_tol);

// The same formula as the GPU's with the same `stats`, so the result must match exactly.
Column RefNormalize(const Column& column, wg::NormalizeMethod method, const wg::ColumnStats& stats,
                    wg::ZeroRange on_zero_range);

// numpy's definition: edges = linspace(min, max, bins + 1); a value's bin by binary search
// (searchsorted right - 1), the last bin closed.
wg::HistogramResult RefHistogram(const Column& column, int64_t bins, double min, double max);
std::string CompareHistograms(const wg::HistogramResult& want, const wg::HistogramResult& got);

// Same output layout and order as gpu::GroupBy. Returns nullopt when an int64 sum overflows.
std::optional<std::vector<Column>> RefGroupBy(std::span<const Column> keys,
                                              std::span<const Column> values,
                                              std::span<const wg::Aggregate> aggregates);

// Checks in O(rows) that `order` sorts `keys` (nulls last, stable; with `limit`, that the
// first `order.size()` rows are the smallest ones and no other row precedes the last of them).
std::string CheckSortOrder(std::span<const Column> keys,
                           std::span<const wg::SortDirection> directions,
                           std::span<const int64_t> order, std::optional<size_t> limit);
// The expected order by std::stable_sort (for small inputs).
std::vector<int64_t> RefSortIndices(std::span<const Column> keys,
                                    std::span<const wg::SortDirection> directions,
                                    std::optional<size_t> limit);

}  // namespace aidi::bench::gpu
