#include "cuda-workers/duckdb/database.h"

#include <memory>
#include <string>
#include <utility>

#include "cuda-workers/duckdb/error.h"

namespace aidi::worker::duckdb {

StatusOr<Database> Database::Open(const DatabaseOptions& options) {
  if (options.threads < 0) {
    return Status::InvalidArgument("threads must be 0 (DuckDB's default) or more, got " +
                                   std::to_string(options.threads));
  }
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) {
    return Status::Internal("duckdb_create_config failed");
  }
  // The `threads` setting is database-wide: the same as `SET threads = N` on any connection.
  if (options.threads > 0) {
    const std::string threads = std::to_string(options.threads);
    if (duckdb_set_config(config, "threads", threads.c_str()) == DuckDBError) {
      duckdb_destroy_config(&config);
      return Status::InvalidArgument("DuckDB rejected threads=" + threads);
    }
  }
  duckdb_database db = nullptr;
  char* error = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  const duckdb_state state = duckdb_open_ext(path, &db, config, &error);
  duckdb_destroy_config(&config);
  if (state == DuckDBError) {
    Status status =
        Status::InvalidArgument("opening DuckDB database " +
                                (options.path.empty() ? std::string(":memory:") : options.path) +
                                ": " + (error != nullptr ? error : "unknown error"));
    duckdb_free(error);
    return status;
  }
  return Database(db);
}

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) duckdb_close(&db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Database::~Database() {
  if (db_ != nullptr) duckdb_close(&db_);
}

StatusOr<Connection> Database::Connect() {
  duckdb_connection conn = nullptr;
  if (db_ == nullptr) return Status::Internal("Connect on a moved-from Database");
  if (duckdb_connect(db_, &conn) == DuckDBError) {
    return Status::Unavailable("duckdb_connect failed");
  }
  return Connection(conn);
}

Connection::Connection(Connection&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) duckdb_disconnect(&conn_);
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

Connection::~Connection() {
  if (conn_ != nullptr) duckdb_disconnect(&conn_);
}

Status Connection::Execute(std::string_view sql) { return Query(sql).status(); }

StatusOr<Result> Connection::Query(std::string_view sql) {
  // duckdb_query wants a NUL-terminated string; the copy is negligible next to running SQL.
  const std::string text(sql);
  auto result = std::make_unique<duckdb_result>();
  if (duckdb_query(conn_, text.c_str(), result.get()) == DuckDBError) {
    // The result must be destroyed even on failure: it owns the error message.
    Status status =
        StatusFromDuckDb(duckdb_result_error_type(result.get()), duckdb_result_error(result.get()));
    duckdb_destroy_result(result.get());
    return status;
  }
  return Result(std::move(result));
}

}  // namespace aidi::worker::duckdb
