// normalize: rescale numeric columns in place, as DOUBLE.
//   zscore: (x - mean) / std, std the population standard deviation (numpy's default ddof=0)
//   minmax: (x - min) / (max - min)
// A column whose std (or range) is 0 becomes 0.0 where it has a value; nulls stay null.
// Two passes: one aggregate query for the statistics of every column at once, then the rows
// with the statistics as constants.
#include <cmath>

#include "cuda-workers/ops/gpu_ops.h"
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<OpOutcome> RunNormalize(OpContext& ctx) {
  Params params = ctx.params();
  if (Status s = params.ExpectKeys({"columns", "method"}); !s.ok()) return s;
  auto method_text = params.At("method").String("zscore");
  if (!method_text.ok()) return method_text.status();
  NormalizeMethod method;
  if (*method_text == "zscore") {
    method = NormalizeMethod::kZScore;
  } else if (*method_text == "minmax") {
    method = NormalizeMethod::kMinMax;
  } else {
    return params.At("method").Error("must be \"zscore\" or \"minmax\", got \"" + *method_text +
                                     "\"");
  }
  auto input = ctx.OpenInput();
  if (!input.ok()) return input.status();
  auto columns = params.At("columns").Strings(/*required=*/true);
  if (!columns.ok()) return columns.status();
  if (columns->empty()) return params.At("columns").Error("names no column");
  for (size_t i = 0; i < columns->size(); ++i) {
    auto c = input->Find((*columns)[i], params.At("columns").Index(i).path());
    if (!c.ok()) return c.status();
    if ((*c)->type != expr::Type::kInt64 && (*c)->type != expr::Type::kDouble) {
      return params.At("columns").Index(i).Error("column '" + (*c)->name + "' is " +
                                                 (*c)->sql_type + ", not a number");
    }
  }
  auto gpu = ctx.UseGpu(true, input->rows());
  if (!gpu.ok()) return gpu.status();
  if (*gpu) {
    auto rows_in = input->CountRows(ctx.db());
    if (!rows_in.ok()) return rows_in.status();
    auto on_gpu = GpuNormalize(ctx, *input, *columns, method, *rows_in);
    if (!ctx.FallBackToCpu(on_gpu)) return on_gpu;
  }

  // Pass 1: the statistics of every column, in one scan.
  std::string stats = "SELECT ";
  for (size_t i = 0; i < columns->size(); ++i) {
    const std::string x = "CAST(" + QuoteIdentifier((*columns)[i]) + " AS DOUBLE)";
    if (i > 0) stats += ", ";
    if (method == NormalizeMethod::kZScore) {
      stats += "avg(" + x + "), stddev_pop(" + x + ")";
    } else {
      stats += "min(" + x + "), max(" + x + ")";
    }
  }
  auto result = ctx.db().Query(stats + " FROM " + Input());
  if (!result.ok()) return result.status();
  auto values = result->FetchColumns();
  if (!values.ok()) return values.status();

  std::string sql = "SELECT * REPLACE (";
  for (size_t i = 0; i < columns->size(); ++i) {
    const duckdb::Column& a = (*values)[2 * i];
    const duckdb::Column& b = (*values)[2 * i + 1];
    const std::string col = QuoteIdentifier((*columns)[i]);
    const std::string x = "CAST(" + col + " AS DOUBLE)";
    std::string expr;
    if (a.IsNull(0) || b.IsNull(0)) {
      expr = "CAST(NULL AS DOUBLE)";  // no values at all
    } else {
      const double first = a.doubles[0];
      const double second = b.doubles[0];
      if (method == NormalizeMethod::kZScore) {
        expr = second == 0 ? "CASE WHEN " + col + " IS NULL THEN NULL ELSE 0.0e0 END"
                           : "(" + x + " - " + SqlDouble(first) + ") / " + SqlDouble(second);
      } else {
        const double range = second - first;
        expr = range == 0 || !std::isfinite(range)
                   ? "CASE WHEN " + col + " IS NULL THEN NULL ELSE 0.0e0 END"
                   : "(" + x + " - " + SqlDouble(first) + ") / " + SqlDouble(range);
      }
    }
    sql += (i > 0 ? ", " : "") + expr + " AS " + col;
  }
  sql += ") FROM " + Input();
  return ctx.WriteOutput(*input, sql);
}

}  // namespace aidi::worker
