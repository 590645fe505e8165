// convert: CSV or Parquet in, CSV or Parquet out, with CSV reading options and column types.
// CPU only: it is I/O and parsing, which DuckDB's reader and writer already do at full speed.
#include <utility>

#include "cuda-workers/ops/op.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {
namespace {

// The type names a Pipeline may write in `schema`, and the SQL type each means.
constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
    {"int64", "BIGINT"},   {"int", "BIGINT"},          {"integer", "BIGINT"},
    {"bigint", "BIGINT"},  {"double", "DOUBLE"},       {"float", "DOUBLE"},
    {"float64", "DOUBLE"}, {"bool", "BOOLEAN"},        {"boolean", "BOOLEAN"},
    {"string", "VARCHAR"}, {"varchar", "VARCHAR"},     {"text", "VARCHAR"},
    {"date", "DATE"},      {"timestamp", "TIMESTAMP"}, {"datetime", "TIMESTAMP"}};

StatusOr<CsvReadOptions> ParseCsv(const Params& csv) {
  CsvReadOptions out;
  if (Status s = csv.ExpectKeys({"delimiter", "header", "nullValues", "onBadRow"}); !s.ok()) {
    return s;
  }
  if (!csv.At("delimiter").is_null()) {
    auto d = csv.At("delimiter").String();
    if (!d.ok()) return d.status();
    if (d->size() != 1) return csv.At("delimiter").Error("must be one character");
    out.delimiter = *d;
  }
  if (!csv.At("header").is_null()) {
    auto h = csv.At("header").Bool();
    if (!h.ok()) return h.status();
    out.header = *h;
  }
  Params nulls = csv.At("nullValues");
  if (!nulls.is_null()) {
    if (!nulls.json().is_array()) return nulls.Error("must be an array of strings");
    for (size_t i = 0; i < nulls.json().size(); ++i) {
      auto v = nulls.Index(i).String();
      if (!v.ok()) return v.status();
      out.null_values.push_back(*v);
    }
  }
  auto on_bad = csv.At("onBadRow").String("fail");
  if (!on_bad.ok()) return on_bad.status();
  if (*on_bad != "fail" && *on_bad != "skip") {
    return csv.At("onBadRow").Error("must be \"fail\" or \"skip\", got \"" + *on_bad + "\"");
  }
  out.skip_bad_rows = *on_bad == "skip";
  return out;
}

}  // namespace

StatusOr<OpOutcome> RunConvert(OpContext& ctx) {
  Params params = ctx.params();
  if (Status s = params.ExpectKeys({"csv", "schema"}); !s.ok()) return s;
  if (auto gpu = ctx.UseGpu(false, std::nullopt); !gpu.ok()) return gpu.status();
  auto csv = ParseCsv(params.At("csv"));
  if (!csv.ok()) return csv.status();

  Params schema = params.At("schema");
  if (!schema.is_null() && !schema.json().is_object()) {
    return schema.Error("must be an object of column: type");
  }
  std::vector<std::pair<std::string, std::string>> types;  // column -> SQL type
  if (schema.json().is_object()) {
    for (const auto& [column, unused] : schema.json().items()) {
      auto name = schema.At(column).String();
      if (!name.ok()) return name.status();
      std::string lower;
      for (char c : *name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string_view sql;
      for (const auto& [alias, type] : kTypes) {
        if (alias == lower) sql = type;
      }
      if (sql.empty()) {
        return schema.At(column).Error("unknown type '" + *name +
                                       "' (types: int64, double, bool, string, date, timestamp)");
      }
      types.emplace_back(column, std::string(sql));
    }
  }
  // CSV columns are typed as they are read (a value that does not parse is a bad row, with its
  // line); Parquet columns are cast.
  const auto inputs = ctx.DataInputs();
  const bool csv_input =
      !inputs.empty() && FormatOf(inputs[0]).ok() && *FormatOf(inputs[0]) == FileFormat::kCsv;
  if (csv_input) csv->types = types;
  auto input = ctx.OpenInput(*csv);
  if (!input.ok()) return input.status();
  for (const auto& [column, type] : types) {
    if (auto c = input->Find(column, schema.At(column).path()); !c.ok()) return c.status();
  }
  std::string select = "SELECT *";
  if (!csv_input && !types.empty()) {
    select += " REPLACE (";
    for (size_t i = 0; i < types.size(); ++i) {
      if (i > 0) select += ", ";
      select += "CAST(" + QuoteIdentifier(types[i].first) + " AS " + types[i].second + ") AS " +
                QuoteIdentifier(types[i].first);
    }
    select += ")";
  }
  return ctx.WriteOutput(*input, select + " FROM " + Input());
}

}  // namespace aidi::worker
