// Column: one whole column of a table in host memory, the hand-off format between DuckDB (which
// decodes CSV and Parquet and runs SQL), the CUDA kernels and the ML stages.
//
// Values sit in one contiguous array per type, so a kernel can copy `int64s.data()` to the device
// as is; strings use the Arrow layout (one character buffer plus n + 1 offsets). `validity` holds
// one byte per row, 1 for a value and 0 for NULL; a NULL row's slot holds 0, 0.0, false or "" so
// that kernels never read garbage. Only the vector named by `type` is filled; the others stay
// empty. A Column is a plain value: copy or move it freely; it is not synchronised, so share one
// between threads only for reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aidi::worker::duckdb {

// The four host types aidi-worker computes on. Narrower DuckDB integers widen to kInt64 and FLOAT
// widens to kDouble when read; they are written back as BIGINT, DOUBLE, BOOLEAN and VARCHAR.
enum class ColumnType { kBool, kInt64, kDouble, kVarchar };

std::string_view ColumnTypeName(ColumnType type);  // "BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR"

struct Column {
  std::string name;
  ColumnType type = ColumnType::kInt64;

  std::vector<int64_t> int64s;    // kInt64
  std::vector<double> doubles;    // kDouble
  std::vector<uint8_t> bools;     // kBool: 0 or 1 (not std::vector<bool>: that one is bit-packed)
  std::vector<char> chars;        // kVarchar: row i is chars[offsets[i], offsets[i + 1])
  std::vector<uint64_t> offsets;  // kVarchar: size() + 1 entries, offsets[0] == 0
  std::vector<uint8_t> validity;  // every type: 1 = value, 0 = NULL; size() entries

  // Builders for values made on the host (tests, GPU results). `valid` empty means no NULLs;
  // otherwise it must have one entry per value. A NULL string's entry in `values` is ignored.
  static Column Int64(std::string name, std::vector<int64_t> values,
                      std::vector<uint8_t> valid = {});
  static Column Double(std::string name, std::vector<double> values,
                       std::vector<uint8_t> valid = {});
  static Column Bool(std::string name, std::vector<uint8_t> values,
                     std::vector<uint8_t> valid = {});
  static Column Varchar(std::string name, const std::vector<std::string>& values,
                        std::vector<uint8_t> valid = {});

  size_t size() const { return validity.size(); }
  bool IsNull(size_t row) const { return validity[row] == 0; }
  size_t NullCount() const;
  // Row `row` of a kVarchar column; a view into `chars`, valid until the column changes.
  std::string_view Varchar(size_t row) const {
    return {chars.data() + offsets[row], static_cast<size_t>(offsets[row + 1] - offsets[row])};
  }

  // Whether the vectors agree with `type` and with each other (sizes, offsets); a message saying
  // what is wrong otherwise. Writers check this before handing the column to DuckDB.
  std::optional<std::string> Inconsistency() const;
};

}  // namespace aidi::worker::duckdb
