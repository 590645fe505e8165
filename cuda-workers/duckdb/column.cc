#include "cuda-workers/duckdb/column.h"

#include <algorithm>
#include <utility>

namespace aidi::worker::duckdb {
namespace {

std::vector<uint8_t> AllValidIfEmpty(std::vector<uint8_t> valid, size_t n) {
  if (valid.empty()) valid.assign(n, 1);
  return valid;
}

}  // namespace

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kBool:
      return "BOOLEAN";
    case ColumnType::kInt64:
      return "BIGINT";
    case ColumnType::kDouble:
      return "DOUBLE";
    case ColumnType::kVarchar:
      return "VARCHAR";
  }
  return "?";  // unreachable: the switch covers every enumerator
}

Column Column::Int64(std::string name, std::vector<int64_t> values, std::vector<uint8_t> valid) {
  Column c{.name = std::move(name), .type = ColumnType::kInt64};
  c.validity = AllValidIfEmpty(std::move(valid), values.size());
  c.int64s = std::move(values);
  return c;
}

Column Column::Double(std::string name, std::vector<double> values, std::vector<uint8_t> valid) {
  Column c{.name = std::move(name), .type = ColumnType::kDouble};
  c.validity = AllValidIfEmpty(std::move(valid), values.size());
  c.doubles = std::move(values);
  return c;
}

Column Column::Bool(std::string name, std::vector<uint8_t> values, std::vector<uint8_t> valid) {
  Column c{.name = std::move(name), .type = ColumnType::kBool};
  c.validity = AllValidIfEmpty(std::move(valid), values.size());
  c.bools = std::move(values);
  return c;
}

Column Column::Varchar(std::string name, const std::vector<std::string>& values,
                       std::vector<uint8_t> valid) {
  Column c{.name = std::move(name), .type = ColumnType::kVarchar};
  c.validity = AllValidIfEmpty(std::move(valid), values.size());
  c.offsets.reserve(values.size() + 1);
  c.offsets.push_back(0);
  for (size_t i = 0; i < values.size(); ++i) {
    if (i >= c.validity.size() || c.validity[i]) {
      c.chars.insert(c.chars.end(), values[i].begin(), values[i].end());
    }
    c.offsets.push_back(c.chars.size());
  }
  return c;
}

size_t Column::NullCount() const {
  return static_cast<size_t>(std::count(validity.begin(), validity.end(), uint8_t{0}));
}

std::optional<std::string> Column::Inconsistency() const {
  const size_t n = validity.size();
  auto wrong = [&](std::string_view what, size_t got) -> std::optional<std::string> {
    return "column \"" + name + "\" (" + std::string(ColumnTypeName(type)) +
           "): " + std::string(what) + " has " + std::to_string(got) + " entries, validity has " +
           std::to_string(n);
  };
  switch (type) {
    case ColumnType::kInt64:
      if (int64s.size() != n) return wrong("int64s", int64s.size());
      break;
    case ColumnType::kDouble:
      if (doubles.size() != n) return wrong("doubles", doubles.size());
      break;
    case ColumnType::kBool:
      if (bools.size() != n) return wrong("bools", bools.size());
      break;
    case ColumnType::kVarchar:
      if (offsets.size() != n + 1) return wrong("offsets (expected size() + 1)", offsets.size());
      if (offsets[0] != 0 || offsets[n] != chars.size() ||
          !std::is_sorted(offsets.begin(), offsets.end())) {
        return "column \"" + name + "\" (VARCHAR): offsets must rise from 0 to chars.size()";
      }
      break;
  }
  return std::nullopt;
}

}  // namespace aidi::worker::duckdb
