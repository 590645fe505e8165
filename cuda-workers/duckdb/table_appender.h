// TableAppender: host columns (column.h) back into a DuckDB table, so that a result computed on
// the GPU or by the ML stages can be written to CSV or Parquet with `COPY table TO 'path'`.
//
// It wraps DuckDB's Appender and hands it whole data chunks of duckdb_vector_size() rows (2048):
// fixed-width values and validity are copied a chunk at a time; strings are copied one by one
// into DuckDB's string heap, the only way the C API offers. Rows become visible to queries on
// Close (and on the appender's own flushes); a failed Append or Close invalidates everything not
// yet flushed, as DuckDB's Appender does.
//
// Thread safety: one thread at a time, like the Connection it came from. Lifetime: the Connection
// must outlive the appender.
#pragma once

#include <duckdb.h>

#include <span>
#include <string_view>

#include "base/status.h"
#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/duckdb/database.h"

namespace aidi::worker::duckdb {

class TableAppender {
 public:
  // Appends to the existing table `table` (a plain name in the default schema, not quoted).
  [[nodiscard]] static StatusOr<TableAppender> Open(Connection& connection, std::string_view table);

  TableAppender(TableAppender&& other) noexcept;
  TableAppender& operator=(TableAppender&& other) noexcept;
  TableAppender(const TableAppender&) = delete;
  TableAppender& operator=(const TableAppender&) = delete;
  // Flushes what Close has not, dropping any error: call Close to learn whether the rows landed.
  ~TableAppender();

  // Appends the rows of `columns`: one column per table column, in table order, all the same
  // length. A column whose type differs from the table's is cast by DuckDB; a value that does
  // not cast fails the whole Append with DuckDB's "type mismatch in AppendDataChunk, expected
  // BIGINT, got VARCHAR for column 1" (not the cast's own message). InvalidArgument for
  // inconsistent columns; DuckDB's message for its failures.
  [[nodiscard]] Status Append(std::span<const Column> columns);

  // Flushes the remaining rows and closes the appender; later Appends fail.
  [[nodiscard]] Status Close();

 private:
  explicit TableAppender(duckdb_appender appender) : appender_(appender) {}
  Status AppenderError() const;

  duckdb_appender appender_ = nullptr;
  bool closed_ = false;
};

// Creates table `table` (replacing one of that name) with one column per Column, same names,
// typed BIGINT, DOUBLE, BOOLEAN or VARCHAR, and appends all rows. The usual way to publish a
// host-computed result: WriteTable(conn, "out", cols), then `COPY out TO 'x.parquet'`.
[[nodiscard]] Status WriteTable(Connection& connection, std::string_view table,
                                std::span<const Column> columns);

}  // namespace aidi::worker::duckdb
