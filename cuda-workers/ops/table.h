// Table I/O of one aidi-worker run: the input files as one DuckDB relation, and outputs that
// appear atomically.
//
// Inputs are CSV or Parquet, chosen by extension; several files are read as one table with
// columns matched by name, a view that each query reads as it runs (nothing is loaded first).
// CSV is read with DuckDB's reader with `store_rejects`, so a ragged or unparsable row is known
// by file, line and column: by default it fails the run, and with `skip_bad_rows` it is left
// out and counted. Rows read are counted without another pass: a Parquet file's footer has its
// count, and for CSV DuckDB's operator profile of the writing query says how many rows its
// CSV scan produced.
//
// Outputs are written by COPY into a temporary file beside the target and renamed over it only
// once complete: a failed run leaves no output and never a partial one.
//
// Thread safety: one thread at a time, like the Connection used.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/database.h"
#include "cuda-workers/expr/bind.h"
#include "cuda-workers/ops/csv_pieces.h"

namespace aidi::worker {

enum class FileFormat { kCsv, kParquet, kJson };

// By extension, case-insensitively: .csv (and .tsv, tab-delimited), .parquet (.pq), .json.
[[nodiscard]] StatusOr<FileFormat> FormatOf(std::string_view path);

struct CsvReadOptions {
  std::optional<std::string> delimiter;  // unset: detected (a .tsv file: a tab)
  std::optional<bool> header;            // unset: detected
  std::vector<std::string> null_values;  // empty: DuckDB's default (an empty field)
  bool skip_bad_rows = false;            // onBadRow: skip
  // Column -> SQL type, overriding what is detected (convert's `schema`).
  std::vector<std::pair<std::string, std::string>> types;
};

// A column of the input as DuckDB types it.
struct InputColumn {
  std::string name;
  std::string sql_type;            // e.g. BIGINT, DOUBLE, VARCHAR, DATE
  std::optional<expr::Type> type;  // the expression type; unset: expressions cannot use it
};

class InputTable {
 public:
  // The name queries use for the input rows.
  static constexpr std::string_view kRelation = "input";

  // Makes kRelation name the rows of `paths` (all of one format). For CSV it turns on DuckDB's
  // operator profiling for `db` (cardinalities only), which WriteRows reads.
  [[nodiscard]] static StatusOr<InputTable> Open(duckdb::Connection& db,
                                                 const std::vector<std::string>& paths,
                                                 const CsvReadOptions& csv);

  FileFormat format() const { return format_; }
  const std::vector<InputColumn>& columns() const { return columns_; }
  // The columns expressions can use (numbers, booleans, strings), in table order.
  expr::Schema schema() const;
  // A relation (a parenthesised query) of the input rows plus a BIGINT column `ordinal` that
  // grows with input order: file by file in --input order, row by row within a file. `ordinal`
  // must not name an input column. Parquet rows are numbered from the files' own metadata
  // (file_index, file_row_number), which DuckDB reads in parallel. CSV has no such column: a
  // streaming row_number() numbers each file, and DuckDB scans it on one thread, so big files
  // are cut into pieces numbered one by one (csv_pieces.h; pieces are at least
  // $AIDI_WORKER_MIN_PIECE_BYTES, 16 MiB unless set). Such a relation can be read by one query
  // only.
  [[nodiscard]] StatusOr<std::string> Numbered(duckdb::Connection& db, std::string_view ordinal);
  // Rows in the input when known without a pass over it (Parquet); unset for CSV.
  std::optional<int64_t> rows() const { return rows_; }
  // Rows the input holds: rows(), or a count (a pass over a CSV input).
  [[nodiscard]] StatusOr<int64_t> CountRows(duckdb::Connection& db) const;
  // The column called `name`, or an error naming the columns there are; `what` says who asks,
  // e.g. "params.columns[1]".
  [[nodiscard]] StatusOr<const InputColumn*> Find(std::string_view name,
                                                  std::string_view what) const;

  // After the queries that read a CSV input: with skip_bad_rows, the number of rows left out;
  // otherwise an error naming the first bad row ("in.csv: line 3, column 'c': Expected Number of
  // Columns: 3 Found: 2 (the row: 2,y)"). 0 for Parquet.
  [[nodiscard]] StatusOr<int64_t> BadRows(duckdb::Connection& db) const;

 private:
  FileFormat format_ = FileFormat::kCsv;
  bool skip_bad_rows_ = false;
  std::vector<InputColumn> columns_;
  std::optional<int64_t> rows_;
  std::string parquet_scan_;  // read_parquet(...) of the inputs; empty for CSV
  std::vector<CsvFile> csv_files_;
  std::shared_ptr<CsvPieces> pieces_;  // what Numbered cut the CSV input into, if it did
};

struct Written {
  int64_t rows = 0;       // rows in the output
  int64_t bad_rows = 0;   // input rows left out as unparsable (onBadRow: skip)
  int64_t rows_read = 0;  // input rows the query read, bad ones included (rowsIn)
};

// Writes the rows of `select_sql` (a query over `source`) to `path` in the format its extension
// names (CSV with a header, or Parquet); atomic as described above. The output is published
// only if `source` had no bad row, or skips them.
[[nodiscard]] StatusOr<Written> WriteRows(duckdb::Connection& db, const InputTable& source,
                                          std::string_view select_sql, const std::string& path);

// Writes `text` to `path` atomically (the JSON model of train).
[[nodiscard]] Status WriteTextFile(const std::string& path, std::string_view text);

// The SQL literal of a double that DuckDB reads back as the same DOUBLE.
std::string SqlDouble(double v);

}  // namespace aidi::worker
