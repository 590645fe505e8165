// histogram: counts of a numeric column's values in `bins` equal-width bins over [min, max],
// exactly as numpy.histogram(values, bins, range=(min, max)) counts them:
//   edges   e_k = first + k * (last - first) / bins for k < bins, e_bins = last (np.linspace)
//   index   i = floor((x - first) * bins / (last - first)), then x == last goes to the last bin,
//           and numpy's two corrections: i - 1 when x < e_i, i + 1 when x >= e_(i+1) (not last)
// Values outside [first, last], nulls and NaN are not counted. Without min/max the range is the
// column's own (finite values only; one value v gives [v - 0.5, v + 0.5], as numpy does).
// Output: bin_lo, bin_hi (DOUBLE), count (BIGINT), one row per bin in order, empty bins too.
#include <cmath>

#include "cuda-workers/ops/gpu_ops.h"
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<OpOutcome> RunHistogram(OpContext& ctx) {
  Params params = ctx.params();
  if (Status s = params.ExpectKeys({"column", "bins", "min", "max"}); !s.ok()) return s;
  auto input = ctx.OpenInput();
  if (!input.ok()) return input.status();
  auto column = params.At("column").String();
  if (!column.ok()) return column.status();
  auto c = input->Find(*column, params.At("column").path());
  if (!c.ok()) return c.status();
  if ((*c)->type != expr::Type::kInt64 && (*c)->type != expr::Type::kDouble) {
    return params.At("column").Error("column '" + *column + "' is " + (*c)->sql_type +
                                     ", not a number");
  }
  auto bins = params.At("bins").Integer(10);
  if (!bins.ok()) return bins.status();
  if (*bins < 1 || *bins > 1'000'000) return params.At("bins").Error("must be in 1..1000000");
  std::optional<double> lo;
  std::optional<double> hi;
  for (auto [name, slot] : {std::pair{"min", &lo}, std::pair{"max", &hi}}) {
    if (!params.At(name).is_null()) {
      auto v = params.At(name).Number();
      if (!v.ok()) return v.status();
      *slot = *v;
    }
  }
  if (lo && hi && !(*lo < *hi)) return params.At("max").Error("must be greater than params.min");

  const std::string x = "CAST(" + QuoteIdentifier(*column) + " AS DOUBLE)";
  if (!lo || !hi) {
    auto range = ctx.db().Query("SELECT min(" + x + "), max(" + x + ") FROM " + Input() +
                                " WHERE isfinite(" + x + ")");
    if (!range.ok()) return range.status();
    auto values = range->FetchColumns();
    if (!values.ok()) return values.status();
    double data_lo = (*values)[0].IsNull(0) ? 0 : (*values)[0].doubles[0];
    double data_hi = (*values)[1].IsNull(0) ? 1 : (*values)[1].doubles[0];
    if (!lo) lo = data_lo;
    if (!hi) hi = data_hi;
    if (*lo == *hi) {  // numpy widens an empty range
      *lo -= 0.5;
      *hi += 0.5;
    }
    if (!(*lo < *hi)) {
      return params.Error("min " + std::to_string(*lo) + " is not below max " +
                          std::to_string(*hi) + " (give both, or neither)");
    }
  }
  auto gpu = ctx.UseGpu(true, input->rows());
  if (!gpu.ok()) return gpu.status();
  if (*gpu) {
    auto rows_in = input->CountRows(ctx.db());
    if (!rows_in.ok()) return rows_in.status();
    auto on_gpu = GpuHistogram(ctx, *input, *column, *bins, *lo, *hi, *rows_in);
    if (!ctx.FallBackToCpu(on_gpu)) return on_gpu;
  }

  const std::string n = std::to_string(*bins);
  const std::string first = SqlDouble(*lo);
  const std::string last = SqlDouble(*hi);
  const std::string step = SqlDouble((*hi - *lo) / static_cast<double>(*bins));
  const std::string norm = SqlDouble(static_cast<double>(*bins) / (*hi - *lo));
  // e(k): numpy's edge k.
  auto edge = [&](const std::string& k) {
    return "(CASE WHEN " + k + " = " + n + " THEN " + last + " ELSE CAST(" + k + " AS DOUBLE) * " +
           step + " + " + first + " END)";
  };
  const std::string sql =
      "WITH v AS (SELECT " + x + " AS x FROM " + Input() + " WHERE " + x + " >= " + first +
      " AND " + x + " <= " + last + "), i0 AS (SELECT x, least(CAST(floor((x - " + first + ") * " +
      norm + ") AS BIGINT), " + n + " - 1) AS i FROM v), i1 AS (SELECT x, CASE WHEN x < " +
      edge("i") + " THEN i - 1 ELSE i END AS i FROM i0), i2 AS (SELECT CASE WHEN i <> " + n +
      " - 1 AND x >= " + edge("i + 1") +
      " THEN i + 1 ELSE i END AS i FROM i1), counts AS (SELECT i, count(*) AS c FROM i2 GROUP BY "
      "i) SELECT " +
      edge("b.range") + " AS bin_lo, " + edge("b.range + 1") +
      " AS bin_hi, CAST(coalesce(counts.c, 0) AS BIGINT) AS count FROM range(" + n +
      ") b LEFT JOIN counts ON counts.i = b.range ORDER BY b.range";
  return ctx.WriteOutput(*input, sql);
}

}  // namespace aidi::worker
