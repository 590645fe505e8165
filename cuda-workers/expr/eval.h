// Evaluate: the CPU reference evaluator. Interprets a compiled Program row by row over
// columnar input, with exactly the semantics README.md documents (and ToSql produces on DuckDB);
// the CUDA kernel is checked against it.
//
// Input columns are borrowed views: a typed value array plus an optional validity array of one
// byte per row (1 = present, 0 = null; nullptr = all present), the layout a kernel reads
// directly. The views must outlive the call. Evaluate is a pure function; concurrent calls are
// safe as long as the inputs are not written meanwhile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cuda-workers/expr/program.h"

namespace aidi::worker::expr {

struct ColumnView {
  Type type = Type::kInt64;
  const int64_t* ints = nullptr;              // Int64
  const double* doubles = nullptr;            // Double
  const uint8_t* bools = nullptr;             // Bool: 0 or 1
  const std::string_view* strings = nullptr;  // String
  const uint8_t* valid = nullptr;             // one byte per row; nullptr: no nulls
};

struct ResultColumn {
  Type type = Type::kBool;
  std::vector<int64_t> ints;         // Int64
  std::vector<double> doubles;       // Double
  std::vector<uint8_t> bools;        // Bool
  std::vector<std::string> strings;  // String
  std::vector<uint8_t> valid;        // one byte per row, 1 = present
};

// `columns` is indexed by schema column index (the whole table may be passed); only those the
// program references are read and each must have the type the program was bound with.
[[nodiscard]] StatusOr<ResultColumn> Evaluate(const Program& program,
                                              std::span<const ColumnView> columns, size_t rows);

}  // namespace aidi::worker::expr
