#include "cuda-workers/duckdb/table_appender.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "cuda-workers/duckdb/error.h"
#include "cuda-workers/duckdb/sql_quote.h"

namespace aidi::worker::duckdb {
namespace {

duckdb_type DuckDbType(ColumnType type) {
  switch (type) {
    case ColumnType::kBool:
      return DUCKDB_TYPE_BOOLEAN;
    case ColumnType::kInt64:
      return DUCKDB_TYPE_BIGINT;
    case ColumnType::kDouble:
      return DUCKDB_TYPE_DOUBLE;
    case ColumnType::kVarchar:
      return DUCKDB_TYPE_VARCHAR;
  }
  return DUCKDB_TYPE_INVALID;  // unreachable: the switch covers every enumerator
}

// A data chunk with the columns' types, destroyed with its logical types at scope end.
class ChunkBuffer {
 public:
  explicit ChunkBuffer(std::span<const Column> columns) {
    types_.reserve(columns.size());
    for (const Column& c : columns)
      types_.push_back(duckdb_create_logical_type(DuckDbType(c.type)));
    chunk_ = duckdb_create_data_chunk(types_.data(), types_.size());
  }
  ~ChunkBuffer() {
    duckdb_destroy_data_chunk(&chunk_);
    for (duckdb_logical_type& t : types_) duckdb_destroy_logical_type(&t);
  }
  ChunkBuffer(const ChunkBuffer&) = delete;
  ChunkBuffer& operator=(const ChunkBuffer&) = delete;
  duckdb_data_chunk get() const { return chunk_; }

 private:
  std::vector<duckdb_logical_type> types_;
  duckdb_data_chunk chunk_ = nullptr;
};

// Copies rows [begin, begin + n) of `col` into `vector` (n <= duckdb_vector_size()).
void FillVector(const Column& col, size_t begin, size_t n, duckdb_vector vector) {
  const uint8_t* valid = col.validity.data() + begin;
  const bool any_null = std::find(valid, valid + n, uint8_t{0}) != valid + n;
  uint64_t* words = duckdb_vector_get_validity(vector);
  if (any_null && words == nullptr) {
    duckdb_vector_ensure_validity_writable(vector);
    words = duckdb_vector_get_validity(vector);
  }
  // Writes every word in range whenever a mask exists, so no bit survives from a previous chunk.
  if (words != nullptr) {
    for (size_t w = 0; w * 64 < n; ++w) {
      uint64_t word = ~uint64_t{0};
      const size_t end = std::min(n, w * 64 + 64);
      for (size_t i = w * 64; i < end; ++i) {
        if (!valid[i]) word &= ~(uint64_t{1} << (i % 64));
      }
      words[w] = word;
    }
  }
  void* data = duckdb_vector_get_data(vector);
  switch (col.type) {
    case ColumnType::kBool:
      std::memcpy(data, col.bools.data() + begin, n);
      break;
    case ColumnType::kInt64:
      std::memcpy(data, col.int64s.data() + begin, n * sizeof(int64_t));
      break;
    case ColumnType::kDouble:
      std::memcpy(data, col.doubles.data() + begin, n * sizeof(double));
      break;
    case ColumnType::kVarchar:
      for (size_t i = 0; i < n; ++i) {
        if (!valid[i]) continue;
        const uint64_t from = col.offsets[begin + i];
        duckdb_vector_assign_string_element_len(vector, i, col.chars.data() + from,
                                                col.offsets[begin + i + 1] - from);
      }
      break;
  }
}

}  // namespace

StatusOr<TableAppender> TableAppender::Open(Connection& connection, std::string_view table) {
  const std::string name(table);
  duckdb_appender appender = nullptr;
  const duckdb_state state =
      duckdb_appender_create(connection.raw(), nullptr, name.c_str(), &appender);
  TableAppender owner(appender);  // destroyed on failure too: it holds the error
  if (state == DuckDBError) return owner.AppenderError();
  return owner;
}

TableAppender::TableAppender(TableAppender&& other) noexcept
    : appender_(std::exchange(other.appender_, nullptr)), closed_(other.closed_) {}

TableAppender& TableAppender::operator=(TableAppender&& other) noexcept {
  if (this != &other) {
    if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
    appender_ = std::exchange(other.appender_, nullptr);
    closed_ = other.closed_;
  }
  return *this;
}

TableAppender::~TableAppender() {
  if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
}

Status TableAppender::AppenderError() const {
  duckdb_error_data error = duckdb_appender_error_data(appender_);
  Status status =
      StatusFromDuckDb(duckdb_error_data_error_type(error), duckdb_error_data_message(error));
  duckdb_destroy_error_data(&error);
  return status;
}

Status TableAppender::Append(std::span<const Column> columns) {
  if (appender_ == nullptr || closed_) return Status::InvalidArgument("Append after Close");
  const size_t want = duckdb_appender_column_count(appender_);
  if (columns.size() != want) {
    return Status::InvalidArgument("the table has " + std::to_string(want) + " columns, got " +
                                   std::to_string(columns.size()));
  }
  if (columns.empty()) return Status::Ok();
  const size_t rows = columns[0].size();
  for (const Column& c : columns) {
    if (auto problem = c.Inconsistency()) return Status::InvalidArgument(*problem);
    if (c.size() != rows) {
      return Status::InvalidArgument("column \"" + c.name + "\" has " + std::to_string(c.size()) +
                                     " rows, column \"" + columns[0].name + "\" has " +
                                     std::to_string(rows));
    }
  }
  ChunkBuffer chunk(columns);
  const size_t step = duckdb_vector_size();
  for (size_t begin = 0; begin < rows; begin += step) {
    const size_t n = std::min(step, rows - begin);
    // Reset before refilling: it invalidates data and validity pointers, so fetch them after.
    duckdb_data_chunk_reset(chunk.get());
    for (size_t c = 0; c < columns.size(); ++c) {
      FillVector(columns[c], begin, n, duckdb_data_chunk_get_vector(chunk.get(), c));
    }
    duckdb_data_chunk_set_size(chunk.get(), n);
    if (duckdb_append_data_chunk(appender_, chunk.get()) == DuckDBError) return AppenderError();
  }
  return Status::Ok();
}

Status TableAppender::Close() {
  if (appender_ == nullptr || closed_) return Status::Ok();
  closed_ = true;
  if (duckdb_appender_close(appender_) == DuckDBError) return AppenderError();
  return Status::Ok();
}

Status WriteTable(Connection& connection, std::string_view table, std::span<const Column> columns) {
  if (columns.empty()) return Status::InvalidArgument("a table needs at least one column");
  std::string sql = "CREATE OR REPLACE TABLE " + QuoteIdentifier(table) + " (";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += QuoteIdentifier(columns[i].name);
    sql += ' ';
    sql += ColumnTypeName(columns[i].type);
  }
  sql += ")";
  AIDI_RETURN_IF_ERROR(connection.Execute(sql));
  AIDI_ASSIGN_OR_RETURN(TableAppender appender, TableAppender::Open(connection, table));
  AIDI_RETURN_IF_ERROR(appender.Append(columns));
  return appender.Close();
}

}  // namespace aidi::worker::duckdb
