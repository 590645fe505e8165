// groupby: one row per distinct combination of `keys` (a null key is a group of its own, as in
// SQL), with `aggs` computed over each group's rows; rows ordered by the keys (nulls last).
//   sum(c)   BIGINT for integer columns (an overflow fails the run), DOUBLE otherwise; null when
//            the group has no value
//   mean(c)  DOUBLE; min(c), max(c) of the column's type; count() rows; count(c) values
// Aggregates skip nulls. Without keys, one row over the whole input.
#include <regex>
#include <set>

#include "cuda-workers/ops/gpu_ops.h"
#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {

StatusOr<AggSpec> ParseAgg(const std::string& out, const Params& p, const InputTable& input) {
  auto text = p.String();
  if (!text.ok()) return text.status();
  static const std::regex kAgg(R"(^\s*(sum|mean|avg|min|max|count)\s*\(\s*([^()]*?)\s*\)\s*$)",
                               std::regex::icase);
  std::smatch m;
  if (!std::regex_match(*text, m, kAgg)) {
    return p.Error("\"" + *text +
                   "\" is not one of sum(c), mean(c), min(c), max(c), count(), count(c)");
  }
  AggSpec agg;
  agg.out = out;
  std::string fn = m[1].str();
  for (char& c : fn) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string column = m[2].str();
  if (column.size() >= 2 && column.front() == '"' && column.back() == '"') {
    column = column.substr(1, column.size() - 2);
  }
  agg.column = column;
  if (fn == "count") {
    agg.fn = column.empty() ? AggFn::kCountRows : AggFn::kCount;
  } else if (column.empty()) {
    return p.Error(fn + "() needs a column: " + fn + "(c)");
  } else if (fn == "sum") {
    agg.fn = AggFn::kSum;
  } else if (fn == "mean" || fn == "avg") {
    agg.fn = AggFn::kMean;
  } else if (fn == "min") {
    agg.fn = AggFn::kMin;
  } else {
    agg.fn = AggFn::kMax;
  }
  if (!column.empty()) {
    auto c = input.Find(column, p.path());
    if (!c.ok()) return c.status();
    const bool numeric = (*c)->type == expr::Type::kInt64 || (*c)->type == expr::Type::kDouble;
    if ((agg.fn == AggFn::kSum || agg.fn == AggFn::kMean) && !numeric) {
      return p.Error(fn + "(" + column + "): column '" + column + "' is " + (*c)->sql_type +
                     ", not a number");
    }
    if ((*c)->type) agg.type = *(*c)->type;
    agg.host_typed = (*c)->type.has_value();
    agg.sql_type = (*c)->sql_type;
  }
  return agg;
}

StatusOr<OpOutcome> RunGroupBy(OpContext& ctx) {
  Params params = ctx.params();
  if (Status s = params.ExpectKeys({"keys", "aggs"}); !s.ok()) return s;
  auto input = ctx.OpenInput();
  if (!input.ok()) return input.status();
  auto keys = params.At("keys").Strings();
  if (!keys.ok()) return keys.status();
  for (size_t i = 0; i < keys->size(); ++i) {
    auto c = input->Find((*keys)[i], params.At("keys").Index(i).path());
    if (!c.ok()) return c.status();
  }
  Params aggs_p = params.At("aggs");
  if (!aggs_p.json().is_object() || aggs_p.json().empty()) {
    return aggs_p.Error("must be an object of output column: \"fn(column)\"");
  }
  std::vector<AggSpec> aggs;
  std::set<std::string> names(keys->begin(), keys->end());
  for (const auto& [out, unused] : aggs_p.json().items()) {
    if (out.empty()) return aggs_p.Error("an output column needs a name");
    if (!names.insert(out).second) {
      return aggs_p.At(out).Error("output column '" + out + "' is also a key or another output");
    }
    auto agg = ParseAgg(out, aggs_p.At(out), *input);
    if (!agg.ok()) return agg.status();
    aggs.push_back(std::move(*agg));
  }
  auto gpu = ctx.UseGpu(GpuGroupByPossible(*input, *keys, aggs), input->rows());
  if (!gpu.ok()) return gpu.status();
  if (*gpu) {
    auto rows_in = input->CountRows(ctx.db());
    if (!rows_in.ok()) return rows_in.status();
    auto on_gpu = GpuGroupBy(ctx, *input, *keys, aggs, *rows_in);
    if (!ctx.FallBackToCpu(on_gpu)) return on_gpu;
  }

  std::string select;
  for (const std::string& k : *keys) select += (select.empty() ? "" : ", ") + QuoteIdentifier(k);
  for (const AggSpec& a : aggs) {
    const std::string c = QuoteIdentifier(a.column);
    std::string e;
    switch (a.fn) {
      case AggFn::kSum:
        e = a.type == expr::Type::kInt64 ? "CAST(sum(" + c + ") AS BIGINT)"
                                         : "CAST(sum(" + c + ") AS DOUBLE)";
        break;
      case AggFn::kMean:
        e = "avg(CAST(" + c + " AS DOUBLE))";
        break;
      case AggFn::kMin:
        e = "min(" + c + ")";
        break;
      case AggFn::kMax:
        e = "max(" + c + ")";
        break;
      case AggFn::kCount:
        e = "count(" + c + ")";
        break;
      case AggFn::kCountRows:
        e = "count(*)";
        break;
    }
    select += (select.empty() ? "" : ", ") + e + " AS " + QuoteIdentifier(a.out);
  }
  std::string sql = "SELECT " + select + " FROM " + Input();
  if (!keys->empty()) {
    sql += " GROUP BY " + IdentifierList(*keys) + " ORDER BY ";
    for (size_t i = 0; i < keys->size(); ++i) {
      sql += (i > 0 ? ", " : "") + QuoteIdentifier((*keys)[i]) + " ASC NULLS LAST";
    }
  }
  return ctx.WriteOutput(*input, sql);
}

}  // namespace aidi::worker
