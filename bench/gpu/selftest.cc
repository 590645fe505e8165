#include "bench/gpu/selftest.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/gpu/reference.h"
#include "cuda-workers/expr/bind.h"
#include "cuda-workers/expr/eval.h"
#include "cuda-workers/expr/program.h"
#include "cuda-workers/gpu/device.h"
#include "cuda-workers/gpu/gpu.h"

namespace aidi::bench::gpu {
namespace {

namespace expr = worker::expr;
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// Edge values; std::nullopt is NULL.
const std::vector<std::optional<int64_t>> kInts = {
    0, 1, -1, 7, -7, 3, -3, kMax, kMin, 2, 1000000007, std::nullopt, 4611686018427387904};
const std::vector<std::optional<double>> kDoubles = {
    0.0, -0.0, 1.5, -7.5, 2.0, kNaN, kInf, -kInf, 1e308, 5.0, 0.1, std::nullopt, -2.0, 1e-310};

Column IntColumn(std::string name, size_t n,
                 const std::function<std::optional<int64_t>(size_t)>& f) {
  std::vector<int64_t> v(n);
  std::vector<uint8_t> ok(n);
  for (size_t r = 0; r < n; ++r) {
    const auto x = f(r);
    v[r] = x.value_or(0);
    ok[r] = x.has_value();
  }
  return Column::Int64(std::move(name), std::move(v), std::move(ok));
}

Column DoubleColumn(std::string name, size_t n,
                    const std::function<std::optional<double>(size_t)>& f) {
  std::vector<double> v(n);
  std::vector<uint8_t> ok(n);
  for (size_t r = 0; r < n; ++r) {
    const auto x = f(r);
    v[r] = x.value_or(0.0);
    ok[r] = x.has_value();
  }
  return Column::Double(std::move(name), std::move(v), std::move(ok));
}

Column BoolColumn(std::string name, size_t n, const std::function<std::optional<bool>(size_t)>& f) {
  std::vector<uint8_t> v(n), ok(n);
  for (size_t r = 0; r < n; ++r) {
    const auto x = f(r);
    v[r] = x.value_or(false) ? 1 : 0;
    ok[r] = x.has_value();
  }
  return Column::Bool(std::move(name), std::move(v), std::move(ok));
}

Column ToColumn(const expr::ResultColumn& r) {
  Column c;
  c.validity = r.valid;
  switch (r.type) {
    case expr::Type::kInt64:
      c.type = ColumnType::kInt64;
      c.int64s = r.ints;
      break;
    case expr::Type::kDouble:
      c.type = ColumnType::kDouble;
      c.doubles = r.doubles;
      break;
    default:
      c.type = ColumnType::kBool;
      c.bools = r.bools;
      break;
  }
  return c;
}

struct Checks {
  std::vector<CheckResult> results;
  void Add(std::string name, std::string detail) {
    results.push_back({std::move(name), detail.empty(), std::move(detail)});
  }
  template <typename T>
  bool Ok(const std::string& name, const StatusOr<T>& s) {
    if (s.ok()) return true;
    Add(name, "GPU call failed: " + s.status().ToString());
    return false;
  }
};

// The five-column table the expression checks run on.
std::vector<Column> ExprTable(size_t n) {
  std::vector<Column> t;
  t.push_back(IntColumn("i", n, [](size_t r) { return kInts[r % kInts.size()]; }));
  t.push_back(IntColumn("j", n, [](size_t r) { return kInts[(r / kInts.size()) % kInts.size()]; }));
  t.push_back(DoubleColumn("x", n, [](size_t r) { return kDoubles[r % kDoubles.size()]; }));
  t.push_back(DoubleColumn(
      "y", n, [](size_t r) { return kDoubles[(r / kDoubles.size()) % kDoubles.size()]; }));
  t.push_back(BoolColumn("b", n, [](size_t r) -> std::optional<bool> {
    if (r % 3 == 2) return std::nullopt;
    return r % 3 == 0;
  }));
  return t;
}

void CheckEvaluate(Checks& checks) {
  const size_t n = 4099;  // not a multiple of 4: exercises the tail
  const std::vector<Column> table = ExprTable(n);
  expr::Schema schema = {{"i", expr::Type::kInt64},
                         {"j", expr::Type::kInt64},
                         {"x", expr::Type::kDouble},
                         {"y", expr::Type::kDouble},
                         {"b", expr::Type::kBool}};
  std::vector<expr::ColumnView> views;
  for (const Column& c : table) {
    expr::ColumnView v;
    v.valid = c.validity.data();
    switch (c.type) {
      case ColumnType::kInt64:
        v.type = expr::Type::kInt64;
        v.ints = c.int64s.data();
        break;
      case ColumnType::kDouble:
        v.type = expr::Type::kDouble;
        v.doubles = c.doubles.data();
        break;
      default:
        v.type = expr::Type::kBool;
        v.bools = c.bools.data();
        break;
    }
    views.push_back(v);
  }
  const char* programs[] = {
      "i + j",
      "i - j",
      "i * j",
      "i % j",
      "i / j",
      "-i",
      "abs(i)",
      "x + y",
      "x - y",
      "x * y",
      "x / y",
      "x % y",
      "-x",
      "abs(x)",
      "log(x)",
      "sqrt(x)",
      "exp(x)",
      "log(i)",
      "sqrt(i)",
      "exp(y) * 0.5",
      "x < y",
      "x <= y",
      "x = y",
      "x != y",
      "x > y",
      "x >= y",
      "i < x",
      "i = j",
      "i <> j",
      "b = true",
      "b != (x > 0)",
      "b and x > 1",
      "b or x > 1",
      "not b",
      "is_null(i) or is_null(x)",
      "is_null(b)",
      "i + 1 > j * 2 and not (x <= y or b)",
      "(i + j) * (i - j) % 7",
      "null",
      "x + null",
      "i * 2.5 + y",
      "x / 0",
      "i % 0",
      "i / 0",
      "1.0 / (x - x)",
      "i + (j + (i + (j + (i + (j + (i * 3))))))",
      "(x + 1) * ((y + 2) * ((x + 3) * ((y + 4) * (x + 5)))) > 0 or (b and not is_null(i))",
      "abs(i - j) % 1000 + 2 * i",
      "-(-i)",
      "x * 1e308 > 1e308",
      "i * j + i * j - j * i",
      "2.0 * x + 3.0",
      "x * y + 1.0"};
  for (const char* text : programs) {
    const std::string name = std::string("evaluate `") + text + "`";
    auto bound = expr::ParseAndBind(text, schema);
    if (!bound.ok()) {
      checks.Add(name, "does not parse: " + bound.status().ToString());
      continue;
    }
    const expr::Program program = expr::Compile(*bound);
    auto want = expr::Evaluate(program, views, n);
    if (!want.ok()) {
      checks.Add(name, "CPU evaluate failed: " + want.status().ToString());
      continue;
    }
    auto got = wg::Evaluate(program, table, n);
    if (!checks.Ok(name, got)) continue;
    // 1e-12: CUDA's log and exp may differ from glibc's in the last bit (both within 1 ulp).
    checks.Add(name, CompareColumns(ToColumn(*want), *got, 1e-12));
  }
  // Empty input.
  auto bound = expr::ParseAndBind("i + 1", schema);
  if (bound.ok()) {
    std::vector<Column> empty = {Column::Int64("i", {})};
    auto got = wg::Evaluate(expr::Compile(*bound), empty, 0);
    if (checks.Ok("evaluate empty", got)) {
      checks.Add("evaluate empty", got->size() == 0 ? "" : "want 0 rows");
    }
  }
}

void CheckFilter(Checks& checks) {
  for (const size_t n : {size_t{0}, size_t{1}, size_t{5000}, size_t{70001}}) {
    const std::string name = "filter " + std::to_string(n) + " rows";
    Column mask = BoolColumn("m", n, [](size_t r) -> std::optional<bool> {
      if (r % 11 == 3) return std::nullopt;
      return (r * 2654435761u) % 5 < 2;
    });
    std::vector<Column> cols;
    cols.push_back(IntColumn("i", n, [](size_t r) -> std::optional<int64_t> {
      if (r % 7 == 1) return std::nullopt;
      return static_cast<int64_t>(r) - 3;
    }));
    cols.push_back(Column::Double("d", std::vector<double>(n, 0.5)));
    cols.push_back(BoolColumn("b", n, [](size_t r) { return r % 2 == 0; }));
    std::vector<std::string> strings(n);
    std::vector<uint8_t> ok(n, 1);
    for (size_t r = 0; r < n; ++r) {
      strings[r] = r % 5 == 0 ? "" : "s" + std::to_string(r) + std::string(r % 40, 'x');
      if (r % 13 == 4) ok[r] = 0;
    }
    cols.push_back(Column::Varchar("s", strings, ok));
    auto got = wg::Filter(mask, cols);
    if (!checks.Ok(name, got)) continue;
    std::string detail;
    for (size_t c = 0; c < cols.size() && detail.empty(); ++c) {
      detail = CompareColumns(RefFilter(mask, cols[c]), (*got)[c], 0);
    }
    checks.Add(name, detail);
  }
}

void CheckStatsNormalizeHistogram(Checks& checks) {
  const size_t n = 10007;
  std::vector<Column> cols;
  cols.push_back(DoubleColumn("d", n, [](size_t r) -> std::optional<double> {
    if (r % 17 == 0) return std::nullopt;
    return std::sin(static_cast<double>(r)) * 100.0 + 1e6;  // large mean, small spread
  }));
  cols.push_back(IntColumn("i", n, [](size_t r) -> std::optional<int64_t> {
    if (r % 19 == 0) return std::nullopt;
    return static_cast<int64_t>(r * r % 1000) - 500;
  }));
  cols.push_back(DoubleColumn("nan", 5, [](size_t r) -> std::optional<double> {
    const std::optional<double> v[] = {1.0, kNaN, -3.0, std::nullopt, 2.0};
    return v[r];
  }));
  cols.push_back(DoubleColumn("allnull", 3, [](size_t) { return std::nullopt; }));
  cols.push_back(IntColumn("const", 9, [](size_t) { return 42; }));
  cols.push_back(Column::Double("empty", {}));
  for (const Column& c : cols) {
    const std::string name = "stats '" + c.name + "'";
    auto got = wg::Stats(c);
    if (!checks.Ok(name, got)) continue;
    checks.Add(name, CompareStats(RefStats(c), *got, c.type == ColumnType::kInt64, 1e-9));
    for (const auto method : {wg::NormalizeMethod::kZScore, wg::NormalizeMethod::kMinMax}) {
      for (const auto zero : {wg::ZeroRange::kNull, wg::ZeroRange::kZero, wg::ZeroRange::kNaN}) {
        const std::string nname = "normalize '" + c.name + "' " +
                                  (method == wg::NormalizeMethod::kZScore ? "zscore" : "minmax") +
                                  " zero=" + std::to_string(static_cast<int>(zero));
        auto norm = wg::Normalize(c, method, *got, zero);
        if (!checks.Ok(nname, norm)) continue;
        checks.Add(nname, CompareColumns(RefNormalize(c, method, *got, zero), *norm, 0));
      }
    }
  }
  // Histogram: values on edges, the last edge, outside, NaN, NULL.
  Column edges = DoubleColumn("h", 12, [](size_t r) -> std::optional<double> {
    const std::optional<double> v[] = {0.0,
                                       1.0,
                                       0.1,
                                       0.2,
                                       0.3,
                                       0.7,
                                       0.9999999999999999,
                                       1.0000000000000002,
                                       -0.0,
                                       kNaN,
                                       std::nullopt,
                                       0.30000000000000004};
    return v[r];
  });
  struct Case {
    const Column* column;
    int64_t bins;
    double lo, hi;
  };
  const Case cases[] = {
      {&edges, 10, 0.0, 1.0},   {&edges, 3, 0.0, 1.0},       {&cols[0], 100, 999900, 1000100},
      {&cols[1], 7, -500, 499}, {&cols[1], 5000, -300, 300}, {&cols[4], 4, 42, 42},
      {&cols[0], 1, 0, 2e6},    {&cols[5], 3, 0, 1}};
  for (const Case& c : cases) {
    const std::string name = "histogram '" + c.column->name + "' bins=" + std::to_string(c.bins);
    auto got = wg::Histogram(*c.column, c.bins, c.lo, c.hi);
    if (!checks.Ok(name, got)) continue;
    checks.Add(name, CompareHistograms(RefHistogram(*c.column, c.bins, c.lo, c.hi), *got));
  }
}

void CheckGroupBy(Checks& checks) {
  const size_t n = 30011;
  std::vector<Column> keys, values;
  keys.push_back(IntColumn("k", n, [](size_t r) -> std::optional<int64_t> {
    if (r % 23 == 0) return std::nullopt;
    return static_cast<int64_t>(r % 9) - 4;
  }));
  keys.push_back(BoolColumn("kb", n, [](size_t r) -> std::optional<bool> {
    if (r % 31 == 0) return std::nullopt;
    return r % 4 == 0;
  }));
  values.push_back(IntColumn("v", n, [](size_t r) -> std::optional<int64_t> {
    if (r % 9 == 4) return std::nullopt;  // key 0 (r % 9 == 4) only has NULL values
    return r % 2 ? static_cast<int64_t>(r) * 1000003 : -static_cast<int64_t>(r) * 999983;
  }));
  values.push_back(DoubleColumn("w", n, [](size_t r) -> std::optional<double> {
    if (r % 5 == 1) return std::nullopt;
    return static_cast<double>(r % 1000) * 0.25 + 1.0;
  }));
  using K = wg::AggregateKind;
  const std::vector<wg::Aggregate> aggs = {
      {K::kSum, 0, "sum_v"}, {K::kMean, 0, "mean_v"}, {K::kMin, 0, "min_v"}, {K::kMax, 0, "max_v"},
      {K::kSum, 1, "sum_w"}, {K::kMean, 1, "mean_w"}, {K::kMin, 1, "min_w"}, {K::kMax, 1, "max_w"}};
  const std::vector<wg::Aggregate> counts = {
      {K::kCount, -1, "n"}, {K::kCountColumn, 0, "n_v"}, {K::kCountColumn, 1, "n_w"}};
  auto run = [&](const std::string& name, std::span<const Column> k,
                 const std::vector<wg::Aggregate>& a, const char* strategy) {
    auto got = wg::GroupBy(k, values, a);
    if (!checks.Ok(name, got)) return;
    auto want = RefGroupBy(k, values, a);
    if (!want) {
      checks.Add(name, "reference: sum overflows");
      return;
    }
    std::string detail;
    if (got->size() != want->size()) detail = "column count differs";
    for (size_t c = 0; c < want->size() && detail.empty(); ++c) {
      detail = CompareColumns((*want)[c], (*got)[c], 1e-9);
    }
    const std::string used = wg::device::LastGroupByStrategy();
    if (detail.empty() && used != strategy) detail = "strategy " + used + ", want " + strategy;
    checks.Add(name, detail);
  };
  run("groupby k, all aggregates", std::span<const Column>(keys).first(1), aggs, "shared");
  run("groupby k, kb counts", keys, counts, "shared");
  run("groupby kb sums", std::span<const Column>(keys).subspan(1), aggs, "shared");
  // Many groups: every row its own key (past the per-block shared tables).
  std::vector<Column> many;
  many.push_back(IntColumn("u", n, [](size_t r) { return static_cast<int64_t>(r * 7919 % n); }));
  run("groupby many groups", many, aggs, "global");
  // An int64 sum that overflows is declined.
  std::vector<Column> one = {Column::Int64("k", {1, 1})};
  std::vector<Column> big = {Column::Int64("v", {kMax, 1})};
  const std::vector<wg::Aggregate> sum = {{K::kSum, 0, "s"}};
  auto overflow = wg::GroupBy(one, big, sum);
  checks.Add("groupby int64 sum overflow is Unavailable",
             !overflow.ok() && overflow.status().code() == StatusCode::kUnavailable
                 ? ""
                 : "want Unavailable");
  std::vector<Column> empty_k = {Column::Int64("k", {})};
  std::vector<Column> empty_v = {Column::Int64("v", {})};
  auto empty = wg::GroupBy(empty_k, empty_v, sum);
  if (checks.Ok("groupby empty", empty)) {
    checks.Add("groupby empty", (*empty)[0].size() == 0 ? "" : "want 0 groups");
  }
}

void CheckSortGather(Checks& checks) {
  const size_t n = 5003;
  std::vector<Column> cols;
  cols.push_back(
      DoubleColumn("d", n, [](size_t r) { return kDoubles[(r * 7) % kDoubles.size()]; }));
  cols.push_back(IntColumn("i", n, [](size_t r) { return kInts[(r * 5) % kInts.size()]; }));
  cols.push_back(BoolColumn("b", n, [](size_t r) -> std::optional<bool> {
    if (r % 7 == 0) return std::nullopt;
    return r % 3 == 0;
  }));
  using D = wg::SortDirection;
  struct Case {
    std::vector<size_t> keys;
    std::vector<D> dirs;
    std::optional<size_t> limit;
  };
  const Case cases[] = {{{0}, {D::kAscending}, std::nullopt},
                        {{0}, {D::kDescending}, std::nullopt},
                        {{1}, {D::kAscending}, std::nullopt},
                        {{1}, {D::kDescending}, 17},
                        {{2, 1}, {D::kAscending, D::kDescending}, std::nullopt},
                        {{2, 0, 1}, {D::kDescending, D::kAscending, D::kAscending}, 100},
                        {{0}, {D::kAscending}, 0}};
  for (const Case& c : cases) {
    std::string name = "sort";
    std::vector<Column> keys;
    for (size_t i = 0; i < c.keys.size(); ++i) {
      keys.push_back(cols[c.keys[i]]);
      name += " " + cols[c.keys[i]].name + (c.dirs[i] == D::kDescending ? " desc" : "");
    }
    if (c.limit) name += " limit " + std::to_string(*c.limit);
    auto got = wg::SortIndices(keys, c.dirs, c.limit);
    if (!checks.Ok(name, got)) continue;
    const std::vector<int64_t> want = RefSortIndices(keys, c.dirs, c.limit);
    std::string detail = *got == want ? "" : CheckSortOrder(keys, c.dirs, *got, c.limit);
    if (detail.empty() && *got != want) detail = "differs from std::stable_sort";
    checks.Add(name, detail);
  }
  // Gather, strings and repeated indices included.
  std::vector<std::string> s(n);
  std::vector<uint8_t> ok(n, 1);
  for (size_t r = 0; r < n; ++r) {
    s[r] = std::string(r % 50, static_cast<char>('a' + r % 26));
    if (r % 9 == 0) ok[r] = 0;
  }
  cols.push_back(Column::Varchar("s", s, ok));
  std::vector<int64_t> idx;
  for (size_t k = 0; k < 3 * n; ++k) idx.push_back(static_cast<int64_t>((k * 31) % n));
  auto got = wg::Gather(cols, idx);
  if (checks.Ok("gather", got)) {
    std::string detail;
    for (size_t c = 0; c < cols.size() && detail.empty(); ++c) {
      detail = CompareColumns(RefGather(cols[c], idx), (*got)[c], 0);
    }
    checks.Add("gather", detail);
  }
  const std::vector<int64_t> bad = {static_cast<int64_t>(n)};
  auto oob = wg::Gather(cols, bad);
  checks.Add("gather out of range is InvalidArgument",
             !oob.ok() && oob.status().code() == StatusCode::kInvalidArgument
                 ? ""
                 : "want InvalidArgument");
}

}  // namespace

std::vector<CheckResult> RunSelfTest() {
  Checks checks;
  CheckEvaluate(checks);
  CheckFilter(checks);
  CheckStatsNormalizeHistogram(checks);
  CheckGroupBy(checks);
  CheckSortGather(checks);
  return std::move(checks.results);
}

}  // namespace aidi::bench::gpu
