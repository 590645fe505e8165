// sort: rows ordered by `by` (each ascending unless desc; nulls last either way), and with
// `limit` only the first N (a top-k, which DuckDB runs without sorting everything). `by` entries
// are {column, desc} objects or plain column names. Rows equal on every key keep no particular
// order.
#include "cuda-workers/ops/gpu_ops.h"
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<OpOutcome> RunSort(OpContext& ctx) {
  Params params = ctx.params();
  if (Status s = params.ExpectKeys({"by", "limit"}); !s.ok()) return s;
  auto input = ctx.OpenInput();
  if (!input.ok()) return input.status();
  Params by = params.At("by");
  if (!by.json().is_array() || by.json().empty()) {
    return by.Error("must be a non-empty list of {\"column\": c, \"desc\": false}");
  }
  std::vector<SortKey> keys;
  for (size_t i = 0; i < by.json().size(); ++i) {
    Params entry = by.Index(i);
    SortKey key;
    if (entry.json().is_string()) {
      key.column = entry.json().get<std::string>();
    } else {
      if (!entry.json().is_object()) return entry.Error("must be {\"column\": c, \"desc\": false}");
      if (Status s = entry.ExpectKeys({"column", "desc"}); !s.ok()) return s;
      auto column = entry.At("column").String();
      if (!column.ok()) return column.status();
      auto desc = entry.At("desc").Bool(false);
      if (!desc.ok()) return desc.status();
      key.column = *column;
      key.desc = *desc;
    }
    auto c = input->Find(key.column, entry.path());
    if (!c.ok()) return c.status();
    keys.push_back(key);
  }
  std::optional<int64_t> limit;
  if (!params.At("limit").is_null()) {
    auto l = params.At("limit").Integer();
    if (!l.ok()) return l.status();
    if (*l < 0) return params.At("limit").Error("must be >= 0");
    limit = *l;
  }
  auto gpu = ctx.UseGpu(GpuSortPossible(*input, keys), input->rows());
  if (!gpu.ok()) return gpu.status();
  if (*gpu) {
    auto rows_in = input->CountRows(ctx.db());
    if (!rows_in.ok()) return rows_in.status();
    auto on_gpu = GpuSort(ctx, *input, keys, limit, *rows_in);
    if (!ctx.FallBackToCpu(on_gpu)) return on_gpu;
  }

  std::string sql = "SELECT * FROM " + Input() + " ORDER BY ";
  for (size_t i = 0; i < keys.size(); ++i) {
    sql += (i > 0 ? ", " : "") + QuoteIdentifier(keys[i].column) +
           (keys[i].desc ? " DESC NULLS LAST" : " ASC NULLS LAST");
  }
  if (limit) sql += " LIMIT " + std::to_string(*limit);
  return ctx.WriteOutput(*input, sql);
}

}  // namespace aidi::worker
