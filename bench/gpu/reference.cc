#include "bench/gpu/reference.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <unordered_map>
#include <utility>

namespace aidi::bench::gpu {
namespace {

std::string Fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// DuckDB's order on doubles for min/max: NaN above everything.
bool DLess(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

double Value(const Column& c, size_t row) {
  return c.type == ColumnType::kInt64 ? static_cast<double>(c.int64s[row]) : c.doubles[row];
}

void Append(Column& out, const Column& in, size_t row) {
  switch (in.type) {
    case ColumnType::kInt64:
      out.int64s.push_back(in.int64s[row]);
      break;
    case ColumnType::kDouble:
      out.doubles.push_back(in.doubles[row]);
      break;
    case ColumnType::kBool:
      out.bools.push_back(in.bools[row]);
      break;
    case ColumnType::kVarchar: {
      const std::string_view s = in.Varchar(row);
      out.chars.insert(out.chars.end(), s.begin(), s.end());
      out.offsets.push_back(out.chars.size());
      break;
    }
  }
  out.validity.push_back(in.validity[row]);
}

Column EmptyLike(const Column& in) {
  Column out;
  out.name = in.name;
  out.type = in.type;
  if (in.type == ColumnType::kVarchar) out.offsets.push_back(0);
  return out;
}

}  // namespace

bool Close(double want, double got, double rel_tol) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  if (want == got) return true;
  return std::fabs(want - got) <= rel_tol * std::max(std::fabs(want), std::fabs(got));
}

std::string CompareColumns(const Column& want, const Column& got, double rel_tol) {
  if (want.type != got.type) return "type differs";
  if (want.size() != got.size()) {
    return "rows: want " + std::to_string(want.size()) + ", got " + std::to_string(got.size());
  }
  for (size_t r = 0; r < want.size(); ++r) {
    const std::string at = "'" + want.name + "' row " + std::to_string(r) + ": ";
    if (want.validity[r] != got.validity[r]) {
      return at + (want.validity[r] ? "want a value, got NULL" : "want NULL, got a value");
    }
    if (!want.validity[r]) continue;
    switch (want.type) {
      case ColumnType::kInt64:
        if (want.int64s[r] != got.int64s[r]) {
          return at + "want " + std::to_string(want.int64s[r]) + ", got " +
                 std::to_string(got.int64s[r]);
        }
        break;
      case ColumnType::kDouble:
        if (!Close(want.doubles[r], got.doubles[r], rel_tol)) {
          return at + "want " + Fmt(want.doubles[r]) + ", got " + Fmt(got.doubles[r]);
        }
        break;
      case ColumnType::kBool:
        if ((want.bools[r] != 0) != (got.bools[r] != 0)) {
          return at + "want " + std::to_string(want.bools[r]) + ", got " +
                 std::to_string(got.bools[r]);
        }
        break;
      case ColumnType::kVarchar:
        if (want.Varchar(r) != got.Varchar(r)) {
          return at + "want '" + std::string(want.Varchar(r)) + "', got '" +
                 std::string(got.Varchar(r)) + "'";
        }
        break;
    }
  }
  return "";
}

Column RefFilter(const Column& mask, const Column& column) {
  Column out = EmptyLike(column);
  for (size_t r = 0; r < mask.size(); ++r) {
    if (mask.validity[r] && mask.bools[r]) Append(out, column, r);
  }
  return out;
}

Column RefGather(const Column& column, std::span<const int64_t> indices) {
  Column out = EmptyLike(column);
  for (const int64_t i : indices) Append(out, column, static_cast<size_t>(i));
  return out;
}

wg::ColumnStats RefStats(const Column& c) {
  wg::ColumnStats s;
  long double sum = 0;
  double mn = std::numeric_limits<double>::quiet_NaN(),
         mx = -std::numeric_limits<double>::infinity();
  int64_t imin = std::numeric_limits<int64_t>::max(), imax = std::numeric_limits<int64_t>::min();
  for (size_t r = 0; r < c.size(); ++r) {
    if (!c.validity[r]) continue;
    const double x = Value(c, r);
    ++s.count;
    sum += x;
    if (!std::isnan(x) && (std::isnan(mn) || x < mn)) mn = x;  // NaN only when all are NaN
    if (DLess(mx, x)) mx = x;
    if (c.type == ColumnType::kInt64) {
      imin = std::min(imin, c.int64s[r]);
      imax = std::max(imax, c.int64s[r]);
    }
  }
  if (s.count == 0) {
    s.min = s.max = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  const long double mean = sum / s.count;
  long double m2 = 0;
  for (size_t r = 0; r < c.size(); ++r) {
    if (!c.validity[r]) continue;
    const long double d = Value(c, r) - mean;
    m2 += d * d;
  }
  s.sum = static_cast<double>(sum);
  s.mean = static_cast<double>(mean);
  s.m2 = static_cast<double>(m2);
  s.min = mn;
  s.max = mx;
  if (c.type == ColumnType::kInt64) {
    s.int_min = imin;
    s.int_max = imax;
  }
  return s;
}

std::string CompareStats(const wg::ColumnStats& want, const wg::ColumnStats& got, bool is_int,
                         double rel_tol) {
  if (want.count != got.count) {
    return "count: want " + std::to_string(want.count) + ", got " + std::to_string(got.count);
  }
  const std::pair<const char*, std::pair<double, double>> fields[] = {
      {"sum", {want.sum, got.sum}},
      {"mean", {want.mean, got.mean}},
      {"m2", {want.m2, got.m2}},
      {"min", {want.min, got.min}},
      {"max", {want.max, got.max}}};
  for (const auto& [name, v] : fields) {
    if (!Close(v.first, v.second, rel_tol)) {
      return std::string(name) + ": want " + Fmt(v.first) + ", got " + Fmt(v.second);
    }
  }
  if (is_int && want.count > 0 && (want.int_min != got.int_min || want.int_max != got.int_max)) {
    return "int min/max: want " + std::to_string(want.int_min) + "/" +
           std::to_string(want.int_max) + ", got " + std::to_string(got.int_min) + "/" +
           std::to_string(got.int_max);
  }
  return "";
}

Column RefNormalize(const Column& column, wg::NormalizeMethod method, const wg::ColumnStats& stats,
                    wg::ZeroRange on_zero_range) {
  const double center = method == wg::NormalizeMethod::kZScore ? stats.mean : stats.min;
  const double scale =
      method == wg::NormalizeMethod::kZScore ? stats.StdPop() : stats.max - stats.min;
  const bool zero = stats.count == 0 || scale == 0;
  Column out;
  out.name = column.name;
  out.type = ColumnType::kDouble;
  out.doubles.assign(column.size(), 0.0);
  out.validity = column.validity;
  for (size_t r = 0; r < column.size(); ++r) {
    if (!column.validity[r]) continue;
    if (!zero) {
      out.doubles[r] = (Value(column, r) - center) / scale;
    } else if (on_zero_range == wg::ZeroRange::kNull) {
      out.validity[r] = 0;
    } else if (on_zero_range == wg::ZeroRange::kNaN) {
      out.doubles[r] = std::numeric_limits<double>::quiet_NaN();
    }
  }
  return out;
}

wg::HistogramResult RefHistogram(const Column& column, int64_t bins, double min, double max) {
  if (min == max) {
    min -= 0.5;
    max += 0.5;
  }
  wg::HistogramResult h;
  const double step = (max - min) / static_cast<double>(bins);
  for (int64_t i = 0; i < bins; ++i) h.edges.push_back(static_cast<double>(i) * step + min);
  h.edges.push_back(max);
  h.counts.assign(static_cast<size_t>(bins), 0);
  for (size_t r = 0; r < column.size(); ++r) {
    if (!column.validity[r]) continue;
    const double x = Value(column, r);
    if (!(x >= min && x <= max)) continue;
    auto it = std::upper_bound(h.edges.begin(), h.edges.end(), x);
    int64_t bin = (it - h.edges.begin()) - 1;
    if (bin >= bins) bin = bins - 1;
    ++h.counts[static_cast<size_t>(bin)];
  }
  return h;
}

std::string CompareHistograms(const wg::HistogramResult& want, const wg::HistogramResult& got) {
  if (want.edges.size() != got.edges.size() || want.counts.size() != got.counts.size()) {
    return "bins differ";
  }
  for (size_t i = 0; i < want.edges.size(); ++i) {
    if (want.edges[i] != got.edges[i]) {
      return "edge " + std::to_string(i) + ": want " + Fmt(want.edges[i]) + ", got " +
             Fmt(got.edges[i]);
    }
  }
  for (size_t i = 0; i < want.counts.size(); ++i) {
    if (want.counts[i] != got.counts[i]) {
      return "bin " + std::to_string(i) + ": want " + std::to_string(want.counts[i]) + ", got " +
             std::to_string(got.counts[i]);
    }
  }
  return "";
}

namespace {

// A group key: per key column (is NULL, value); NULL sorts after every value.
using Key = std::vector<std::pair<int, int64_t>>;

struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h = 1469598103934665603ull;
    for (const auto& [n, v] : k) h = (h ^ (static_cast<size_t>(v) * 31 + n)) * 1099511628211ull;
    return h;
  }
};

__extension__ typedef __int128 Int128;

struct Acc {
  Int128 isum = 0;
  long double dsum = 0;
  double dmin = 0, dmax = 0;
  int64_t imin = 0, imax = 0;
  int64_t count = 0;
};

}  // namespace

std::optional<std::vector<Column>> RefGroupBy(std::span<const Column> keys,
                                              std::span<const Column> values,
                                              std::span<const wg::Aggregate> aggregates) {
  const size_t n = keys.empty() ? 0 : keys[0].size();
  std::unordered_map<Key, std::vector<Acc>, KeyHash> groups;
  Key key(keys.size());
  for (size_t r = 0; r < n; ++r) {
    for (size_t k = 0; k < keys.size(); ++k) {
      const Column& c = keys[k];
      const bool ok = c.validity[r] != 0;
      key[k] = {ok ? 0 : 1, !ok ? 0 : (c.type == ColumnType::kBool ? c.bools[r] : c.int64s[r])};
    }
    auto [it, fresh] = groups.try_emplace(key);
    std::vector<Acc>& accs = it->second;
    if (fresh) accs.resize(aggregates.size());
    for (size_t a = 0; a < aggregates.size(); ++a) {
      const wg::Aggregate& agg = aggregates[a];
      Acc& acc = accs[a];
      if (agg.kind == wg::AggregateKind::kCount) {
        ++acc.count;
        continue;
      }
      const Column& c = values[static_cast<size_t>(agg.column)];
      if (!c.validity[r]) continue;
      if (c.type == ColumnType::kInt64) {
        const int64_t x = c.int64s[r];
        acc.isum += x;
        acc.imin = acc.count == 0 ? x : std::min(acc.imin, x);
        acc.imax = acc.count == 0 ? x : std::max(acc.imax, x);
      } else if (c.type == ColumnType::kDouble) {
        const double x = c.doubles[r];
        acc.dsum += x;
        acc.dmin = acc.count == 0 || DLess(x, acc.dmin) ? x : acc.dmin;
        acc.dmax = acc.count == 0 || DLess(acc.dmax, x) ? x : acc.dmax;
      }
      ++acc.count;
    }
  }
  std::vector<const Key*> order;
  for (const auto& [k, v] : groups) order.push_back(&k);
  std::sort(order.begin(), order.end(), [](const Key* a, const Key* b) { return *a < *b; });
  std::vector<Column> out;
  for (size_t k = 0; k < keys.size(); ++k) {
    Column c;
    c.name = keys[k].name;
    c.type = keys[k].type;
    for (const Key* g : order) {
      const auto& [is_null, v] = (*g)[k];
      if (c.type == ColumnType::kBool) {
        c.bools.push_back(static_cast<uint8_t>(v));
      } else {
        c.int64s.push_back(v);
      }
      c.validity.push_back(is_null ? 0 : 1);
    }
    out.push_back(std::move(c));
  }
  for (size_t a = 0; a < aggregates.size(); ++a) {
    const wg::Aggregate& agg = aggregates[a];
    Column c;
    c.name = agg.name;
    const Column* in = agg.column >= 0 && static_cast<size_t>(agg.column) < values.size()
                           ? &values[static_cast<size_t>(agg.column)]
                           : nullptr;
    const bool is_int = in != nullptr && in->type == ColumnType::kInt64;
    switch (agg.kind) {
      case wg::AggregateKind::kCount:
      case wg::AggregateKind::kCountColumn:
        c.type = ColumnType::kInt64;
        break;
      case wg::AggregateKind::kMean:
        c.type = ColumnType::kDouble;
        break;
      default:
        c.type = in->type;
        break;
    }
    for (const Key* g : order) {
      const Acc& acc = groups.at(*g)[a];
      bool valid = acc.count != 0;
      int64_t iv = 0;
      double dv = 0;
      switch (agg.kind) {
        case wg::AggregateKind::kCount:
        case wg::AggregateKind::kCountColumn:
          iv = acc.count;
          valid = true;
          break;
        case wg::AggregateKind::kSum:
          if (is_int) {
            if (acc.isum > std::numeric_limits<int64_t>::max() ||
                acc.isum < std::numeric_limits<int64_t>::min()) {
              return std::nullopt;
            }
            iv = static_cast<int64_t>(acc.isum);
          } else {
            dv = static_cast<double>(acc.dsum);
          }
          break;
        case wg::AggregateKind::kMean:
          if (valid) {
            dv = is_int ? static_cast<double>(static_cast<long double>(acc.isum) / acc.count)
                        : static_cast<double>(acc.dsum / acc.count);
          }
          break;
        case wg::AggregateKind::kMin:
          iv = acc.imin;
          dv = acc.dmin;
          break;
        case wg::AggregateKind::kMax:
          iv = acc.imax;
          dv = acc.dmax;
          break;
      }
      if (!valid) {
        iv = 0;
        dv = 0;
      }
      if (c.type == ColumnType::kInt64) {
        c.int64s.push_back(iv);
      } else {
        c.doubles.push_back(dv);
      }
      c.validity.push_back(valid ? 1 : 0);
    }
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

// <0, 0, >0 for row a before, tied with, after row b under the sort's order.
int CompareRows(std::span<const Column> keys, std::span<const wg::SortDirection> dirs, size_t a,
                size_t b) {
  for (size_t k = 0; k < keys.size(); ++k) {
    const Column& c = keys[k];
    const bool an = !c.validity[a], bn = !c.validity[b];
    if (an || bn) {
      if (an && bn) continue;
      return an ? 1 : -1;  // NULLs last either way
    }
    int cmp = 0;
    switch (c.type) {
      case ColumnType::kInt64:
        cmp = c.int64s[a] < c.int64s[b] ? -1 : c.int64s[a] > c.int64s[b] ? 1 : 0;
        break;
      case ColumnType::kBool:
        cmp = c.bools[a] < c.bools[b] ? -1 : c.bools[a] > c.bools[b] ? 1 : 0;
        break;
      default: {
        const double x = c.doubles[a], y = c.doubles[b];
        cmp = DLess(x, y) ? -1 : DLess(y, x) ? 1 : 0;  // NaN = NaN, -0.0 = 0.0
        break;
      }
    }
    if (dirs[k] == wg::SortDirection::kDescending) cmp = -cmp;
    if (cmp != 0) return cmp;
  }
  return 0;
}

}  // namespace

std::string CheckSortOrder(std::span<const Column> keys,
                           std::span<const wg::SortDirection> directions,
                           std::span<const int64_t> order, std::optional<size_t> limit) {
  const size_t n = keys[0].size();
  const size_t want = limit ? std::min(*limit, n) : n;
  if (order.size() != want) {
    return "length: want " + std::to_string(want) + ", got " + std::to_string(order.size());
  }
  std::vector<uint8_t> seen(n, 0);
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t r = order[i];
    if (r < 0 || static_cast<size_t>(r) >= n || seen[static_cast<size_t>(r)]) {
      return "position " + std::to_string(i) + ": row " + std::to_string(r) +
             " out of range or repeated";
    }
    seen[static_cast<size_t>(r)] = 1;
    if (i == 0) continue;
    const size_t p = static_cast<size_t>(order[i - 1]), q = static_cast<size_t>(r);
    const int c = CompareRows(keys, directions, p, q);
    if (c > 0 || (c == 0 && p > q)) {
      return "positions " + std::to_string(i - 1) + ", " + std::to_string(i) + " (rows " +
             std::to_string(p) + ", " + std::to_string(q) + ") out of order";
    }
  }
  if (!order.empty() && order.size() < n) {  // top-k: nothing left out may precede the last
    const size_t last = static_cast<size_t>(order.back());
    for (size_t r = 0; r < n; ++r) {
      if (seen[r]) continue;
      const int c = CompareRows(keys, directions, r, last);
      if (c < 0 || (c == 0 && r < last)) {
        return "row " + std::to_string(r) + " belongs in the top " + std::to_string(want);
      }
    }
  }
  return "";
}

std::vector<int64_t> RefSortIndices(std::span<const Column> keys,
                                    std::span<const wg::SortDirection> directions,
                                    std::optional<size_t> limit) {
  const size_t n = keys[0].size();
  std::vector<int64_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int64_t>(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return CompareRows(keys, directions, static_cast<size_t>(a), static_cast<size_t>(b)) < 0;
  });
  if (limit && *limit < n) order.resize(*limit);
  return order;
}

}  // namespace aidi::bench::gpu
