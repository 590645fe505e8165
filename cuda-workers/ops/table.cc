#include "cuda-workers/ops/table.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "cuda-workers/duckdb/sql_quote.h"
#include "cuda-workers/ops/sql_util.h"

namespace aidi::worker {
namespace {

namespace fs = std::filesystem;
using duckdb::QuoteIdentifier;
using duckdb::QuoteString;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsTsv(std::string_view path) { return EndsWith(Lower(path), ".tsv"); }

std::string SqlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += QuoteString(items[i]);
  }
  return out + "]";
}

std::optional<expr::Type> ExprType(std::string_view sql_type) {
  static constexpr std::string_view kInts[] = {"BIGINT",   "INTEGER",   "SMALLINT", "TINYINT",
                                               "UINTEGER", "USMALLINT", "UTINYINT"};
  for (std::string_view t : kInts) {
    if (sql_type == t) return expr::Type::kInt64;
  }
  if (sql_type == "DOUBLE" || sql_type == "FLOAT" || sql_type.starts_with("DECIMAL")) {
    return expr::Type::kDouble;
  }
  if (sql_type == "BOOLEAN") return expr::Type::kBool;
  if (sql_type == "VARCHAR") return expr::Type::kString;
  return std::nullopt;
}

// Operator profiling with only what WriteRows reads: which operator, and its output rows.
constexpr char kProfileCardinalities[] =
    "PRAGMA enable_profiling = 'no_output'; SET custom_profiling_settings = "
    "'{\"OPERATOR_NAME\": \"true\", \"OPERATOR_CARDINALITY\": \"true\"}'";

// The rows DuckDB's CSV scans produced in the last query of `db`, from its operator profile;
// `*found` becomes true when the plan had a CSV scan at all.
int64_t CsvRowsScanned(duckdb_profiling_info node, bool* found) {
  int64_t rows = 0;
  if (node == nullptr) return rows;
  duckdb_value name = duckdb_profiling_info_get_value(node, "OPERATOR_NAME");
  if (name != nullptr) {
    char* text = duckdb_get_varchar(name);
    const bool csv_scan = std::string_view(text).starts_with("READ_CSV");
    duckdb_free(text);
    duckdb_destroy_value(&name);
    if (csv_scan) {
      *found = true;
      duckdb_value count = duckdb_profiling_info_get_value(node, "OPERATOR_CARDINALITY");
      if (count != nullptr) {
        rows += duckdb_get_int64(count);
        duckdb_destroy_value(&count);
      }
    }
  }
  const idx_t children = duckdb_profiling_info_get_child_count(node);
  for (idx_t i = 0; i < children; ++i) {
    rows += CsvRowsScanned(duckdb_profiling_info_get_child(node, i), found);
  }
  return rows;
}

// A file beside the target that becomes the target only by Commit(); removed otherwise.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target) {
    static std::atomic<int> counter{0};
    fs::path p(target);
    path_ = (p.parent_path() / ("." + p.filename().string() + ".tmp-" + std::to_string(::getpid()) +
                                "-" + std::to_string(counter++)))
                .string();
  }
  ~TempFile() {
    if (!committed_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }
  Status Commit() {
    if (std::rename(path_.c_str(), target_.c_str()) != 0) {
      return Status::Internal("--output " + target_ + ": cannot rename " + path_ +
                              " into place: " + std::strerror(errno));
    }
    committed_ = true;
    return Status::Ok();
  }

 private:
  std::string target_;
  std::string path_;
  bool committed_ = false;
};

Status CheckOutputDirectory(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  // A pipeline stage writes into its own folder (/workspace/PIPELINE/STAGE/): make it.
  if (!fs::is_directory(parent, ec) && (!fs::create_directories(parent, ec) || ec)) {
    return Status::InvalidArgument("--output " + path + ": cannot create directory " +
                                   parent.string() + ": " + ec.message());
  }
  if (fs::is_directory(path, ec)) {
    return Status::InvalidArgument("--output " + path + ": is a directory");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<FileFormat> FormatOf(std::string_view path) {
  std::string lower = Lower(path);
  if (EndsWith(lower, ".csv") || EndsWith(lower, ".tsv")) return FileFormat::kCsv;
  if (EndsWith(lower, ".parquet") || EndsWith(lower, ".pq")) return FileFormat::kParquet;
  if (EndsWith(lower, ".json")) return FileFormat::kJson;
  return Status::InvalidArgument(std::string(path) +
                                 ": unknown format (name it .csv, .tsv, .parquet or .json)");
}

StatusOr<InputTable> InputTable::Open(duckdb::Connection& db, const std::vector<std::string>& paths,
                                      const CsvReadOptions& csv) {
  if (paths.empty()) return Status::InvalidArgument("--input: no data file given");
  InputTable table;
  table.skip_bad_rows_ = csv.skip_bad_rows;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto format = FormatOf(paths[i]);
    if (!format.ok()) return Status::InvalidArgument("--input " + format.status().message());
    if (*format == FileFormat::kJson) {
      return Status::InvalidArgument("--input " + paths[i] +
                                     ": a data file must be .csv, .tsv or .parquet");
    }
    if (i == 0) table.format_ = *format;
    if (*format != table.format_) {
      return Status::InvalidArgument("--input: " + paths[0] + " and " + paths[i] +
                                     " are of different formats; give one format per run");
    }
    std::error_code ec;
    if (!fs::is_regular_file(paths[i], ec)) {
      return Status::InvalidArgument("--input " + paths[i] + ": no such file");
    }
  }

  std::string source;
  if (table.format_ == FileFormat::kParquet) {
    source =
        "read_parquet(" + SqlList(paths) + (paths.size() > 1 ? ", union_by_name = true" : "") + ")";
    table.parquet_scan_ = source;
  } else {
    // One scan per file, put together by column name: DuckDB's own union_by_name cannot keep
    // rejected rows (REJECTS_TABLE is refused with it).
    for (size_t f = 0; f < paths.size(); ++f) {
      CsvFile& file = table.csv_files_.emplace_back();
      file.path = paths[f];
      file.options = kCsvRejectOptions;
      std::optional<std::string> delimiter = csv.delimiter;
      if (!delimiter && IsTsv(paths[f])) delimiter = "\t";
      if (delimiter) file.options += ", delim = " + QuoteString(*delimiter);
      if (csv.header) file.options += std::string(", header = ") + (*csv.header ? "true" : "false");
      if (!csv.null_values.empty()) file.null_option = ", nullstr = " + SqlList(csv.null_values);
      file.options += file.null_option;
      if (!csv.types.empty()) {
        file.options += ", types = {";
        for (size_t i = 0; i < csv.types.size(); ++i) {
          if (i > 0) file.options += ", ";
          file.options += QuoteString(csv.types[i].first) + ": " + QuoteString(csv.types[i].second);
        }
        file.options += "}";
      }
      source += (f == 0 ? "" : " UNION ALL BY NAME SELECT * FROM ") + file.Scan();
    }
  }

  const std::string relation = QuoteIdentifier(kRelation);
  if (Status s = db.Execute("CREATE TEMP VIEW " + relation + " AS SELECT * FROM " + source);
      !s.ok()) {
    return Status::InvalidArgument("--input " + paths[0] +
                                   (paths.size() > 1 ? " (and others)" : "") + ": " + s.message());
  }
  if (table.format_ == FileFormat::kCsv) {
    if (Status s = db.Execute(kProfileCardinalities); !s.ok()) return s;
  }
  if (table.format_ == FileFormat::kParquet) {
    auto counted = StringRows(
        db, "SELECT CAST(coalesce(sum(num_rows), 0) AS VARCHAR) FROM parquet_file_metadata(" +
                SqlList(paths) + ")");
    if (!counted.ok()) return counted.status();
    if (!counted->empty()) table.rows_ = std::stoll((*counted)[0][0]);
  }

  auto described =
      StringRows(db, "SELECT column_name, column_type FROM (DESCRIBE " + relation + ")");
  if (!described.ok()) return described.status();
  for (const auto& row : *described) {
    table.columns_.push_back({row[0], row[1], ExprType(row[1])});
  }
  return table;
}

expr::Schema InputTable::schema() const {
  expr::Schema schema;
  for (const InputColumn& c : columns_) {
    if (c.type) schema.push_back({c.name, *c.type});
  }
  return schema;
}

StatusOr<std::string> InputTable::Numbered(duckdb::Connection& db, std::string_view ordinal) {
  const std::string name = QuoteIdentifier(ordinal);
  if (format_ == FileFormat::kParquet) {
    // A file's own column called file_index or file_row_number hides DuckDB's virtual one.
    const bool virtual_columns_visible = std::none_of(
        columns_.begin(), columns_.end(),
        [](const InputColumn& c) { return c.name == "file_index" || c.name == "file_row_number"; });
    if (virtual_columns_visible) {
      // 2^48 rows per file and 2^15 files before a BIGINT overflows: far beyond any input here.
      return "(SELECT *, CAST(file_index AS BIGINT) * 281474976710656 + file_row_number AS " +
             name + " FROM " + parquet_scan_ + ")";
    }
  } else if (format_ == FileFormat::kCsv) {
    auto threads = StringRows(db, "SELECT current_setting('threads')::VARCHAR");
    if (!threads.ok()) return threads.status();
    CsvPieceOptions options;
    options.pieces_per_file = static_cast<size_t>(std::max(1LL, std::stoll((*threads)[0][0])));
    if (const char* min = std::getenv("AIDI_WORKER_MIN_PIECE_BYTES"); min != nullptr && *min) {
      options.min_piece_bytes = std::max(1ULL, std::strtoull(min, nullptr, 10));
    }
    auto pieces = CsvPieces::Open(db, csv_files_, options);
    if (!pieces.ok()) return pieces.status();
    if (*pieces) {
      pieces_ = std::move(*pieces);
      return pieces_->Numbered(ordinal);
    }
  }
  return "(SELECT *, row_number() OVER () AS " + name + " FROM " + QuoteIdentifier(kRelation) + ")";
}

StatusOr<int64_t> InputTable::CountRows(duckdb::Connection& db) const {
  if (rows_) return *rows_;
  auto n = StringRows(db, "SELECT CAST(count(*) AS VARCHAR) FROM " + QuoteIdentifier(kRelation));
  if (!n.ok()) return n.status();
  return std::stoll((*n)[0][0]);
}

StatusOr<const InputColumn*> InputTable::Find(std::string_view name, std::string_view what) const {
  for (const InputColumn& c : columns_) {
    if (c.name == name) return &c;
  }
  std::string list;
  for (const InputColumn& c : columns_) list += (list.empty() ? "" : ", ") + c.name;
  return Status::InvalidArgument(std::string(what) + ": unknown column '" + std::string(name) +
                                 "' (columns: " + list + ")");
}

StatusOr<int64_t> InputTable::BadRows(duckdb::Connection& db) const {
  if (format_ != FileFormat::kCsv) return 0;
  if (pieces_) {
    if (Status s = pieces_->status(); !s.ok()) return s;
  }
  if (skip_bad_rows_) {
    auto n = StringRows(db, "SELECT CAST(count(*) AS VARCHAR) FROM aidi_rejects");
    if (!n.ok()) return n.status();
    return std::stoll((*n)[0][0]);
  }
  // The first bad row of each scan; of those, the first in input order.
  auto firsts = StringRows(
      db,
      "SELECT s.file_path, CAST(e.line AS VARCHAR), coalesce(e.column_name, ''), "
      "e.error_message, coalesce(e.csv_line, '') FROM aidi_rejects e JOIN aidi_reject_scans s "
      "ON e.scan_id = s.scan_id AND e.file_id = s.file_id QUALIFY row_number() OVER ("
      "PARTITION BY e.scan_id, e.file_id ORDER BY e.line, e.column_idx) = 1");
  if (!firsts.ok()) return firsts.status();
  if (firsts->empty()) return 0;
  std::optional<std::pair<size_t, int64_t>> earliest;  // (file, line)
  std::vector<std::string> first;
  for (std::vector<std::string>& row : *firsts) {
    int64_t line = std::strtoll(row[1].c_str(), nullptr, 10);
    size_t file = 0;
    if (pieces_) {
      auto place = pieces_->Locate(row[0], line);
      if (!place.ok()) return place.status();
      if (*place) {
        file = (*place)->file;
        line = (*place)->line;
        row[0] = (*place)->path;
        row[1] = std::to_string(line);
      }
    } else {
      for (size_t f = 0; f < csv_files_.size(); ++f) {
        if (csv_files_[f].path == row[0]) {
          file = f;
          break;
        }
      }
    }
    if (!earliest || std::make_pair(file, line) < *earliest) {
      earliest = std::make_pair(file, line);
      first = std::move(row);
    }
  }
  const auto& r = first;
  std::string message = r[0] + ": line " + r[1];
  if (!r[2].empty()) message += ", column '" + r[2] + "'";
  std::string detail = r[3];
  std::replace(detail.begin(), detail.end(), '\n', ' ');
  message += ": " + detail;
  // The row as read, on one line: DuckDB keeps the line break before it in some files (\r\n).
  std::string row = r[4];
  std::replace(row.begin(), row.end(), '\n', ' ');
  std::replace(row.begin(), row.end(), '\r', ' ');
  row.erase(0, row.find_first_not_of(' '));
  row.erase(row.find_last_not_of(' ') + 1);
  if (!row.empty()) message += " (the row: " + row + ")";
  return Status::InvalidArgument(
      message + " (a convert stage with params.csv.onBadRow \"skip\" leaves such rows out)");
}

StatusOr<Written> WriteRows(duckdb::Connection& db, const InputTable& source,
                            std::string_view select_sql, const std::string& path) {
  auto format = FormatOf(path);
  if (!format.ok()) return Status::InvalidArgument("--output " + format.status().message());
  std::string options;
  switch (*format) {
    case FileFormat::kCsv:
      options = IsTsv(path) ? "FORMAT csv, HEADER true, DELIMITER '\t'" : "FORMAT csv, HEADER true";
      break;
    case FileFormat::kParquet:
      options = "FORMAT parquet";
      break;
    case FileFormat::kJson:
      return Status::InvalidArgument("--output " + path +
                                     ": this op writes a table; name it .csv, .tsv or .parquet");
  }
  if (Status s = CheckOutputDirectory(path); !s.ok()) return s;
  TempFile temp(path);
  auto copied = db.Query("COPY (" + std::string(select_sql) + ") TO " + QuoteString(temp.path()) +
                         " (" + options + ")");
  if (!copied.ok()) return copied.status();
  Written written;
  written.rows = static_cast<int64_t>(copied->rows_changed());
  // The profile is the last query's: read it before asking about bad rows.
  bool scan_ran = source.format() != FileFormat::kCsv;
  int64_t scanned = source.format() == FileFormat::kCsv
                        ? CsvRowsScanned(duckdb_get_profiling_info(db.raw()), &scan_ran)
                        : source.rows().value_or(0);
  if (!scan_ran) {
    // DuckDB proved the result empty without reading the CSV (a condition that is never true,
    // LIMIT 0): read it once now, so that rowsIn counts its rows and a bad row still fails the
    // run (the rejects tables exist only once a scan ran).
    auto counted = source.CountRows(db);
    if (!counted.ok()) return counted.status();
    scanned = *counted;
  }
  auto bad = source.BadRows(db);
  if (!bad.ok()) return bad.status();
  written.bad_rows = *bad;
  written.rows_read = scanned + *bad;
  if (Status s = temp.Commit(); !s.ok()) return s;
  return written;
}

Status WriteTextFile(const std::string& path, std::string_view text) {
  if (Status s = CheckOutputDirectory(path); !s.ok()) return s;
  TempFile temp(path);
  {
    std::ofstream out(temp.path(), std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      return Status::Internal("--output " + path + ": cannot write " + temp.path() + ": " +
                              std::strerror(errno));
    }
  }
  return temp.Commit();
}

std::string SqlDouble(double v) {
  if (std::isnan(v)) return "CAST('nan' AS DOUBLE)";
  if (std::isinf(v)) return v > 0 ? "CAST('inf' AS DOUBLE)" : "CAST('-inf' AS DOUBLE)";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string text = buf;
  if (text.find_first_of("eEn") == std::string::npos) text += "e0";  // a DOUBLE, not a DECIMAL
  return "(" + text + ")";
}

}  // namespace aidi::worker
