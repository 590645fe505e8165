// Result: the rows of one query, materialized by DuckDB, and the way they reach host memory as
// whole columns (column.h) for the CUDA kernels and the ML stages.
//
// FetchColumns walks DuckDB's data chunks (duckdb_fetch_chunk, 2048 rows each) and copies each
// vector with one tight loop per chunk and column: no per-value calls, capacity reserved from the
// row count. It reads the rows not yet read, so a second call returns empty columns.
//
// Why materialized only: DuckDB 1.4 marks every streaming entry point of its C API deprecated
// (duckdb_execute_prepared_streaming, duckdb_pending_prepared_streaming,
// duckdb_stream_fetch_chunk).
//
// Thread safety: one thread at a time. Lifetime: destroy it before the Database it came from.
#pragma once

#include <duckdb.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/column.h"

namespace aidi::worker::duckdb {

class Result {
 public:
  Result(Result&&) noexcept = default;
  Result& operator=(Result&&) noexcept = default;
  ~Result() = default;

  size_t column_count() const;
  std::string column_name(size_t column) const;
  duckdb_type column_type(size_t column) const;
  // Rows in the result (all of them, read or not).
  uint64_t row_count() const;
  // Rows an INSERT, UPDATE or DELETE changed; 0 for other statements.
  uint64_t rows_changed() const;

  // The host type a column is read as: BOOLEAN -> kBool; TINYINT..BIGINT and UTINYINT..UINTEGER
  // -> kInt64; FLOAT, DOUBLE -> kDouble; VARCHAR -> kVarchar. InvalidArgument for anything else
  // (HUGEINT from sum(), DECIMAL literals, dates, ...), naming the column and saying to CAST it.
  [[nodiscard]] StatusOr<ColumnType> HostType(size_t column) const;

  // Reads every remaining row into one Column per result column, names as in the result.
  [[nodiscard]] StatusOr<std::vector<Column>> FetchColumns();

 private:
  friend class Connection;
  struct Destroy {
    void operator()(duckdb_result* r) const;
  };
  explicit Result(std::unique_ptr<duckdb_result> result) : result_(result.release()) {}

  // Heap-held: the C API hands out pointers into the struct, so it must not move.
  std::unique_ptr<duckdb_result, Destroy> result_;
};

}  // namespace aidi::worker::duckdb
