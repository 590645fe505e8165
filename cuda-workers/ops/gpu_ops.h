// The CUDA paths of the ops: each reads the columns it needs from DuckDB into host memory,
// computes with the gpu/ primitives, and writes the result through DuckDB (so output formats and
// atomic publishing are the CPU path's). Results equal the CPU path's (exact for integers, to
// 1e-9 relative for doubles), which bench/gpu/run.sh checks on a machine with a GPU.
//
// Gpu*Possible says whether an op's params fall inside what the CUDA path covers (e.g. no string
// columns in expressions); an op asks it before OpContext::UseGpu. Where the build has no CUDA,
// the paths exist and fail with Unavailable; UseGpu never chooses them there.
//
// Thread safety: as OpContext (one run, one thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cuda-workers/expr/bind.h"
#include "cuda-workers/ml/model.h"
#include "cuda-workers/ops/op.h"

namespace aidi::worker {

struct DerivedColumn {
  std::string name;
  expr::BoundExpr expr;
};

enum class NormalizeMethod { kZScore, kMinMax };

enum class AggFn { kSum, kMean, kMin, kMax, kCount, kCountRows };

struct AggSpec {
  std::string out;  // output column
  AggFn fn = AggFn::kCountRows;
  std::string column;                    // empty for count()
  expr::Type type = expr::Type::kInt64;  // the column's (when host_typed)
  bool host_typed = true;                // false: a type only DuckDB computes on (DATE, ...)
  std::string sql_type;
};

struct SortKey {
  std::string column;
  bool desc = false;
};

bool GpuFilterPossible(const expr::BoundExpr& where);
StatusOr<OpOutcome> GpuFilter(OpContext& ctx, const InputTable& input, const expr::BoundExpr& where,
                              int64_t rows_in);

bool GpuSelectPossible(const std::vector<DerivedColumn>& derived);
StatusOr<OpOutcome> GpuSelect(OpContext& ctx, const InputTable& input,
                              const std::optional<std::vector<std::string>>& columns,
                              const std::vector<DerivedColumn>& derived, int64_t rows_in);

StatusOr<OpOutcome> GpuNormalize(OpContext& ctx, const InputTable& input,
                                 const std::vector<std::string>& columns, NormalizeMethod method,
                                 int64_t rows_in);

bool GpuGroupByPossible(const InputTable& input, const std::vector<std::string>& keys,
                        const std::vector<AggSpec>& aggs);
StatusOr<OpOutcome> GpuGroupBy(OpContext& ctx, const InputTable& input,
                               const std::vector<std::string>& keys,
                               const std::vector<AggSpec>& aggs, int64_t rows_in);

bool GpuSortPossible(const InputTable& input, const std::vector<SortKey>& keys);
StatusOr<OpOutcome> GpuSort(OpContext& ctx, const InputTable& input,
                            const std::vector<SortKey>& keys, std::optional<int64_t> limit,
                            int64_t rows_in);

StatusOr<OpOutcome> GpuHistogram(OpContext& ctx, const InputTable& input, const std::string& column,
                                 int64_t bins, double lo, double hi, int64_t rows_in);

StatusOr<OpOutcome> GpuPredict(OpContext& ctx, const InputTable& input, const ml::Model& model);

}  // namespace aidi::worker
