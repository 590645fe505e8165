// Database and Connection: RAII owners of DuckDB's C API handles, the CPU engine and file I/O
// layer of aidi-worker.
//
// A Database is one DuckDB instance (in memory unless a path is given) with its thread pool; a
// Connection runs SQL on it and returns Status with DuckDB's own error message on failure, or a
// materialized Result (result.h). Both are move-only; the moved-from object owns nothing.
//
// Thread safety: Database::Connect may be called from several threads at once (DuckDB
// synchronises its instance). A Connection, and every Result it returns, is used by one thread at
// a time; open one Connection per thread for parallel queries. Lifetimes: every Connection and
// Result must be destroyed before the Database they came from.
#pragma once

#include <duckdb.h>

#include <string>
#include <string_view>

#include "base/status.h"
#include "cuda-workers/duckdb/result.h"

namespace aidi::worker::duckdb {

struct DatabaseOptions {
  // Worker threads DuckDB may use for one query (its `threads` setting); 0 keeps DuckDB's default,
  // one per core. aidi-worker passes --threads here.
  int threads = 0;
  // A database file; empty opens an in-memory database, which is what aidi-worker uses: its
  // inputs and outputs are CSV and Parquet files read and written with SQL.
  std::string path;
};

class Connection;

class Database {
 public:
  // Opens the database; InvalidArgument for a negative thread count, DuckDB's message otherwise.
  [[nodiscard]] static StatusOr<Database> Open(const DatabaseOptions& options = {});

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  [[nodiscard]] StatusOr<Connection> Connect();

  // The C handle, for C API calls this wrapper does not cover; still owned by this object.
  duckdb_database raw() const { return db_; }

 private:
  explicit Database(duckdb_database db) : db_(db) {}
  duckdb_database db_ = nullptr;
};

class Connection {
 public:
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs `sql` (one statement or several separated by ';') and drops any rows it returns. On
  // failure the Status carries DuckDB's message verbatim; error.h says how codes are chosen.
  [[nodiscard]] Status Execute(std::string_view sql);

  // Runs `sql` and returns its rows, materialized (the last statement's, if there are several).
  [[nodiscard]] StatusOr<Result> Query(std::string_view sql);

  // The C handle, for C API calls this wrapper does not cover; still owned by this object.
  duckdb_connection raw() const { return conn_; }

 private:
  friend class Database;
  explicit Connection(duckdb_connection conn) : conn_(conn) {}
  duckdb_connection conn_ = nullptr;
};

}  // namespace aidi::worker::duckdb
