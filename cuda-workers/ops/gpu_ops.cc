#include "cuda-workers/ops/gpu_ops.h"

#include <utility>

#include "cuda-workers/duckdb/table_appender.h"
#include "cuda-workers/expr/program.h"
#include "cuda-workers/gpu/gpu.h"
#include "cuda-workers/ml/gpu_train.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {
namespace {

using duckdb::Column;

constexpr char kGpuTable[] = "aidi_gpu";  // where a GPU result waits to be written

const char* SqlTypeOf(expr::Type t) {
  switch (t) {
    case expr::Type::kInt64:
      return "BIGINT";
    case expr::Type::kDouble:
      return "DOUBLE";
    case expr::Type::kBool:
      return "BOOLEAN";
    case expr::Type::kString:
      return "VARCHAR";
  }
  return "VARCHAR";  // unreachable: the switch covers every type
}

// Whether every input column has a host type, so whole rows can live on the GPU.
bool AllColumnsHostTyped(const InputTable& input) {
  for (const InputColumn& c : input.columns()) {
    if (!c.type) return false;
  }
  return true;
}

// The named columns, read as whole host columns in the host type of each (narrower integers
// and DECIMAL widen through a CAST).
StatusOr<std::vector<Column>> Fetch(OpContext& ctx, const InputTable& input,
                                    const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& n : names) {
    auto c = input.Find(n, "column");
    if (!c.ok()) return c.status();
    if (!(*c)->type) {
      return Status::Unavailable("column '" + n + "' is " + (*c)->sql_type +
                                 ", which the CUDA path does not hold");
    }
    list += (list.empty() ? "" : ", ") + ("CAST(" + QuoteIdentifier(n) + " AS " +
                                          SqlTypeOf(*(*c)->type) + ") AS " + QuoteIdentifier(n));
  }
  auto result = ctx.db().Query("SELECT " + list + " FROM " + Input());
  if (!result.ok()) return result.status();
  return result->FetchColumns();
}

std::vector<std::string> AllNames(const InputTable& input) {
  std::vector<std::string> names;
  for (const InputColumn& c : input.columns()) names.push_back(c.name);
  return names;
}

// The columns an expression's program reads, placed at their schema index as gpu::Evaluate
// wants them (the others stay empty).
StatusOr<std::vector<Column>> FetchForProgram(OpContext& ctx, const InputTable& input,
                                              const expr::Program& program) {
  const expr::Schema schema = input.schema();
  std::vector<std::string> names;
  for (int32_t index : program.columns) names.push_back(schema[index].name);
  auto fetched = Fetch(ctx, input, names);
  if (!fetched.ok()) return fetched.status();
  std::vector<Column> by_index(schema.size());
  for (size_t i = 0; i < schema.size(); ++i) {
    by_index[i].name = schema[i].name;
  }
  for (size_t k = 0; k < program.columns.size(); ++k) {
    by_index[program.columns[k]] = std::move((*fetched)[k]);
  }
  return by_index;
}

// Writes `columns` to the GPU result table, then the rows of `select_sql` (which reads it) to
// the output.
StatusOr<OpOutcome> Publish(OpContext& ctx, const InputTable& input, std::vector<Column> columns,
                            const std::string& select_sql, int64_t rows_in) {
  if (Status s = duckdb::WriteTable(ctx.db(), kGpuTable, columns); !s.ok()) return s;
  auto written = WriteRows(ctx.db(), input, select_sql, ctx.request().output);
  if (!written.ok()) return written.status();
  OpOutcome out;
  out.rows_in = rows_in;
  out.rows_out = written->rows;
  out.device = "cuda";
  return out;
}

std::string GpuTable() { return QuoteIdentifier(kGpuTable); }

bool KeyTypeOk(const InputTable& input, const std::string& name, bool allow_double) {
  auto c = input.Find(name, "column");
  if (!c.ok() || !(*c)->type) return false;
  return *(*c)->type == expr::Type::kInt64 || *(*c)->type == expr::Type::kBool ||
         (allow_double && *(*c)->type == expr::Type::kDouble);
}

}  // namespace

bool GpuFilterPossible(const expr::BoundExpr& where) { return !expr::Compile(where).uses_strings; }

StatusOr<OpOutcome> GpuFilter(OpContext& ctx, const InputTable& input, const expr::BoundExpr& where,
                              int64_t rows_in) {
  const expr::Program program = expr::Compile(where);
  auto inputs = FetchForProgram(ctx, input, program);
  if (!inputs.ok()) return inputs.status();
  auto mask = gpu::Evaluate(program, *inputs, static_cast<size_t>(rows_in));
  if (!mask.ok()) return mask.status();
  if (AllColumnsHostTyped(input)) {
    // Whole rows through the GPU's stream compaction.
    auto all = Fetch(ctx, input, AllNames(input));
    if (!all.ok()) return all.status();
    auto kept = gpu::Filter(*mask, *all);
    if (!kept.ok()) return kept.status();
    return Publish(ctx, input, std::move(*kept), "SELECT * FROM " + GpuTable(), rows_in);
  }
  // Columns the GPU cannot hold stay in DuckDB: the mask joins the rows by position.
  mask->name = "aidi_keep";
  std::vector<Column> columns;
  columns.push_back(std::move(*mask));
  return Publish(ctx, input, std::move(columns),
                 "SELECT i.* FROM " + Input() + " AS i POSITIONAL JOIN " + GpuTable() +
                     " AS g WHERE g.aidi_keep",
                 rows_in);
}

bool GpuSelectPossible(const std::vector<DerivedColumn>& derived) {
  if (derived.empty()) return false;  // nothing to compute
  for (const DerivedColumn& d : derived) {
    if (expr::Compile(d.expr).uses_strings) return false;
  }
  return true;
}

StatusOr<OpOutcome> GpuSelect(OpContext& ctx, const InputTable& input,
                              const std::optional<std::vector<std::string>>& columns,
                              const std::vector<DerivedColumn>& derived, int64_t rows_in) {
  std::vector<Column> results;
  for (const DerivedColumn& d : derived) {
    const expr::Program program = expr::Compile(d.expr);
    auto inputs = FetchForProgram(ctx, input, program);
    if (!inputs.ok()) return inputs.status();
    auto value = gpu::Evaluate(program, *inputs, static_cast<size_t>(rows_in));
    if (!value.ok()) return value.status();
    value->name = d.name;
    results.push_back(std::move(*value));
  }
  std::string list;
  auto add = [&](const std::string& item) { list += (list.empty() ? "" : ", ") + item; };
  std::vector<bool> used(derived.size(), false);
  auto derived_at = [&](const std::string& name) -> int {
    for (size_t k = 0; k < derived.size(); ++k) {
      if (derived[k].name == name) return static_cast<int>(k);
    }
    return -1;
  };
  if (!columns) {
    for (const InputColumn& c : input.columns()) {
      const int k = derived_at(c.name);
      if (k >= 0) {
        add("g." + QuoteIdentifier(c.name) + " AS " + QuoteIdentifier(c.name));
        used[k] = true;
      } else {
        add("i." + QuoteIdentifier(c.name));
      }
    }
  } else {
    for (const std::string& c : *columns) add("i." + QuoteIdentifier(c));
  }
  for (size_t k = 0; k < derived.size(); ++k) {
    if (!used[k]) add("g." + QuoteIdentifier(derived[k].name));
  }
  return Publish(
      ctx, input, std::move(results),
      "SELECT " + list + " FROM " + Input() + " AS i POSITIONAL JOIN " + GpuTable() + " AS g",
      rows_in);
}

StatusOr<OpOutcome> GpuNormalize(OpContext& ctx, const InputTable& input,
                                 const std::vector<std::string>& columns, NormalizeMethod method,
                                 int64_t rows_in) {
  auto values = Fetch(ctx, input, columns);
  if (!values.ok()) return values.status();
  std::vector<Column> results;
  for (Column& c : *values) {
    if (c.type == duckdb::ColumnType::kInt64) {  // normalize writes DOUBLE, as the CPU path
      std::vector<double> d(c.int64s.begin(), c.int64s.end());
      c = Column::Double(c.name, std::move(d), std::move(c.validity));
    }
    auto stats = gpu::Stats(c);
    if (!stats.ok()) return stats.status();
    auto scaled = gpu::Normalize(c,
                                 method == NormalizeMethod::kZScore ? gpu::NormalizeMethod::kZScore
                                                                    : gpu::NormalizeMethod::kMinMax,
                                 *stats, gpu::ZeroRange::kZero);
    if (!scaled.ok()) return scaled.status();
    scaled->name = c.name;
    results.push_back(std::move(*scaled));
  }
  std::string list;
  for (const InputColumn& c : input.columns()) {
    bool scaled = false;
    for (const std::string& n : columns) scaled = scaled || n == c.name;
    list += (list.empty() ? "" : ", ") +
            (scaled ? "g." + QuoteIdentifier(c.name) + " AS " + QuoteIdentifier(c.name)
                    : "i." + QuoteIdentifier(c.name));
  }
  return Publish(
      ctx, input, std::move(results),
      "SELECT " + list + " FROM " + Input() + " AS i POSITIONAL JOIN " + GpuTable() + " AS g",
      rows_in);
}

bool GpuGroupByPossible(const InputTable& input, const std::vector<std::string>& keys,
                        const std::vector<AggSpec>& aggs) {
  if (keys.empty()) return false;
  for (const std::string& k : keys) {
    if (!KeyTypeOk(input, k, /*allow_double=*/false)) return false;
  }
  for (const AggSpec& a : aggs) {
    if (a.fn != AggFn::kCountRows &&
        (!a.host_typed || (a.type != expr::Type::kInt64 && a.type != expr::Type::kDouble))) {
      return false;
    }
  }
  return true;
}

StatusOr<OpOutcome> GpuGroupBy(OpContext& ctx, const InputTable& input,
                               const std::vector<std::string>& keys,
                               const std::vector<AggSpec>& aggs, int64_t rows_in) {
  auto key_columns = Fetch(ctx, input, keys);
  if (!key_columns.ok()) return key_columns.status();
  std::vector<std::string> value_names;
  std::vector<gpu::Aggregate> plan;
  for (const AggSpec& a : aggs) {
    gpu::Aggregate g;
    g.name = a.out;
    switch (a.fn) {
      case AggFn::kSum:
        g.kind = gpu::AggregateKind::kSum;
        break;
      case AggFn::kMean:
        g.kind = gpu::AggregateKind::kMean;
        break;
      case AggFn::kMin:
        g.kind = gpu::AggregateKind::kMin;
        break;
      case AggFn::kMax:
        g.kind = gpu::AggregateKind::kMax;
        break;
      case AggFn::kCount:
        g.kind = gpu::AggregateKind::kCountColumn;
        break;
      case AggFn::kCountRows:
        g.kind = gpu::AggregateKind::kCount;
        break;
    }
    if (a.fn != AggFn::kCountRows) {
      int index = -1;
      for (size_t v = 0; v < value_names.size(); ++v) {
        if (value_names[v] == a.column) index = static_cast<int>(v);
      }
      if (index < 0) {
        index = static_cast<int>(value_names.size());
        value_names.push_back(a.column);
      }
      g.column = index;
    }
    plan.push_back(std::move(g));
  }
  std::vector<Column> values;
  if (!value_names.empty()) {
    auto fetched = Fetch(ctx, input, value_names);
    if (!fetched.ok()) return fetched.status();
    values = std::move(*fetched);
  }
  auto grouped = gpu::GroupBy(*key_columns, values, plan);
  if (!grouped.ok()) return grouped.status();
  return Publish(ctx, input, std::move(*grouped), "SELECT * FROM " + GpuTable(), rows_in);
}

bool GpuSortPossible(const InputTable& input, const std::vector<SortKey>& keys) {
  if (!AllColumnsHostTyped(input)) return false;
  for (const SortKey& k : keys) {
    if (!KeyTypeOk(input, k.column, /*allow_double=*/true)) return false;
  }
  return true;
}

StatusOr<OpOutcome> GpuSort(OpContext& ctx, const InputTable& input,
                            const std::vector<SortKey>& keys, std::optional<int64_t> limit,
                            int64_t rows_in) {
  std::vector<std::string> names;
  std::vector<gpu::SortDirection> directions;
  for (const SortKey& k : keys) {
    names.push_back(k.column);
    directions.push_back(k.desc ? gpu::SortDirection::kDescending : gpu::SortDirection::kAscending);
  }
  auto key_columns = Fetch(ctx, input, names);
  if (!key_columns.ok()) return key_columns.status();
  auto order =
      gpu::SortIndices(*key_columns, directions,
                       limit ? std::optional<size_t>(static_cast<size_t>(*limit)) : std::nullopt);
  if (!order.ok()) return order.status();
  auto all = Fetch(ctx, input, AllNames(input));
  if (!all.ok()) return all.status();
  auto sorted = gpu::Gather(*all, *order);
  if (!sorted.ok()) return sorted.status();
  // The table keeps the appended order, and COPY of a plain scan writes it as is.
  return Publish(ctx, input, std::move(*sorted), "SELECT * FROM " + GpuTable(), rows_in);
}

StatusOr<OpOutcome> GpuHistogram(OpContext& ctx, const InputTable& input, const std::string& column,
                                 int64_t bins, double lo, double hi, int64_t rows_in) {
  auto values = Fetch(ctx, input, {column});
  if (!values.ok()) return values.status();
  auto histogram = gpu::Histogram((*values)[0], bins, lo, hi);
  if (!histogram.ok()) return histogram.status();
  std::vector<double> bin_lo(histogram->edges.begin(), histogram->edges.end() - 1);
  std::vector<double> bin_hi(histogram->edges.begin() + 1, histogram->edges.end());
  std::vector<Column> columns;
  columns.push_back(Column::Double("bin_lo", std::move(bin_lo)));
  columns.push_back(Column::Double("bin_hi", std::move(bin_hi)));
  columns.push_back(Column::Int64("count", std::move(histogram->counts)));
  return Publish(ctx, input, std::move(columns), "SELECT * FROM " + GpuTable(), rows_in);
}

StatusOr<OpOutcome> GpuPredict(OpContext& ctx, const InputTable& input, const ml::Model& model) {
  auto features = Fetch(ctx, input, model.features);
  if (!features.ok()) return features.status();
  const int64_t rows = features->empty() ? 0 : static_cast<int64_t>((*features)[0].size());
  auto scored =
      ml::PredictOnGpu(model, *features, ctx.request().threads > 0 ? ctx.request().threads : 1);
  if (!scored.ok()) return scored.status();
  const bool logistic = scored->label.has_value();
  std::vector<Column> columns;
  scored->score.name = "score";
  columns.push_back(std::move(scored->score));
  if (logistic) {
    scored->label->name = "label";
    columns.push_back(std::move(*scored->label));
  }
  std::string list;
  for (const InputColumn& c : input.columns()) {
    if (c.name == "score" || (logistic && c.name == "label")) continue;  // replaced
    list += (list.empty() ? "" : ", ") + ("i." + QuoteIdentifier(c.name));
  }
  list += (list.empty() ? "" : ", ") + std::string("g.score");
  if (logistic) list += ", g.label";
  return Publish(
      ctx, input, std::move(columns),
      "SELECT " + list + " FROM " + Input() + " AS i POSITIONAL JOIN " + GpuTable() + " AS g",
      rows);
}

}  // namespace aidi::worker
