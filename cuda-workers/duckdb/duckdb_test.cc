// Tests for the DuckDB wrapper, against the real libduckdb that scripts/bootstrap fetched.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/duckdb/database.h"
#include "cuda-workers/duckdb/result.h"
#include "cuda-workers/duckdb/sql_quote.h"
#include "cuda-workers/duckdb/table_appender.h"

namespace aidi::worker::duckdb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Opens an in-memory database and one connection, failing the test if either fails.
struct Db {
  explicit Db(int threads = 0)
      : db(Database::Open({.threads = threads}).value()), conn(db.Connect().value()) {}
  Database db;
  Connection conn;
};

std::vector<Column> FetchAll(Connection& conn, const std::string& sql) {
  auto result = conn.Query(sql);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  auto columns = result->FetchColumns();
  EXPECT_TRUE(columns.ok()) << columns.status().ToString();
  return std::move(columns).value();
}

std::vector<std::string> Strings(const Column& c) {
  std::vector<std::string> out;
  for (size_t i = 0; i < c.size(); ++i) out.emplace_back(c.IsNull(i) ? "<null>" : c.Varchar(i));
  return out;
}

// A directory removed with its contents when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "aidi-duckdb-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST(DatabaseTest, OpensRunsSqlAndReportsShape) {
  Db d;
  ASSERT_TRUE(d.conn.Execute("CREATE TABLE t (a INTEGER, b VARCHAR)").ok());
  auto inserted = d.conn.Query("INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, NULL)");
  ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
  EXPECT_EQ(inserted->rows_changed(), 3u);

  auto result = d.conn.Query("SELECT a, b, a * 2.5 AS c FROM t ORDER BY a");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->column_count(), 3u);
  EXPECT_EQ(result->row_count(), 3u);
  EXPECT_EQ(result->column_name(0), "a");
  EXPECT_EQ(result->column_name(2), "c");
  EXPECT_EQ(result->column_type(0), DUCKDB_TYPE_INTEGER);
  EXPECT_EQ(result->column_type(1), DUCKDB_TYPE_VARCHAR);
  // A DECIMAL literal makes the product DECIMAL, which is not a host type: the message says so.
  EXPECT_EQ(result->column_type(2), DUCKDB_TYPE_DECIMAL);
  auto host = result->HostType(2);
  ASSERT_FALSE(host.ok());
  EXPECT_TRUE(host.status().code() == StatusCode::kInvalidArgument);
  EXPECT_THAT(host.status().message(), HasSubstr("column \"c\" has DuckDB type DECIMAL"));
  EXPECT_FALSE(result->FetchColumns().ok());
}

TEST(DatabaseTest, ErrorsCarryDuckDbsMessage) {
  Db d;
  Status missing = d.conn.Execute("SELECT * FROM no_such_table");
  EXPECT_TRUE(missing.IsNotFound()) << missing.ToString();
  EXPECT_THAT(missing.message(),
              HasSubstr("Catalog Error: Table with name no_such_table does not exist"));

  Status syntax = d.conn.Execute("SELEC 1");
  EXPECT_EQ(syntax.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(syntax.message(), HasSubstr("Parser Error"));
  EXPECT_THAT(syntax.message(), HasSubstr("SELEC"));

  Status column = d.conn.Execute("SELECT nope FROM range(3)");
  EXPECT_EQ(column.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(column.message(), HasSubstr("Binder Error"));
  EXPECT_THAT(column.message(), HasSubstr("nope"));

  Status cast = d.conn.Execute("SELECT CAST('abc' AS INTEGER)");
  EXPECT_EQ(cast.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(cast.message(), HasSubstr("Conversion Error"));

  Status file = d.conn.Execute("SELECT * FROM read_csv('/nonexistent/aidi/x.csv')");
  EXPECT_EQ(file.code(), StatusCode::kUnavailable) << file.ToString();
  EXPECT_THAT(file.message(), HasSubstr("IO Error"));

  ASSERT_TRUE(d.conn.Execute("CREATE TABLE k (id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(d.conn.Execute("INSERT INTO k VALUES (1)").ok());
  Status dup = d.conn.Execute("INSERT INTO k VALUES (1)");
  EXPECT_TRUE(dup.IsConflict()) << dup.ToString();
  EXPECT_THAT(dup.message(), HasSubstr("Constraint Error"));

  // The connection still works after errors.
  EXPECT_TRUE(d.conn.Execute("SELECT 1").ok());
}

TEST(DatabaseTest, ThreadsSettingIsHonoured) {
  for (int threads : {1, 3}) {
    Db d(threads);
    auto cols = FetchAll(d.conn, "SELECT current_setting('threads')::BIGINT AS t");
    ASSERT_EQ(cols.size(), 1u);
    EXPECT_THAT(cols[0].int64s, ElementsAre(threads));
    // Every connection sees the database-wide setting.
    Connection second = d.db.Connect().value();
    EXPECT_THAT(FetchAll(second, "SELECT current_setting('threads')::BIGINT")[0].int64s,
                ElementsAre(threads));
  }
  auto bad = Database::Open({.threads = -1});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, FetchesEachTypeWithNulls) {
  Db d;
  auto cols = FetchAll(d.conn, R"sql(
      SELECT * FROM (VALUES
        (1::BIGINT, 1.5::DOUBLE, true,  'short',                         1::TINYINT, 0.25::FLOAT),
        (NULL,      NULL,        NULL,  NULL,                            NULL,       NULL),
        ((-9223372036854775808)::BIGINT, '-0.0'::DOUBLE, false, 'a string longer than 12 bytes', (-128)::TINYINT, (-2)::FLOAT),
        (9223372036854775807, 1e300, true, '',                           127::TINYINT, NULL)
      ) AS t(i, d, b, s, tiny, f))sql");
  ASSERT_EQ(cols.size(), 6u);
  const std::vector<uint8_t> mask = {1, 0, 1, 1};

  EXPECT_EQ(cols[0].name, "i");
  EXPECT_EQ(cols[0].type, ColumnType::kInt64);
  EXPECT_THAT(cols[0].int64s, ElementsAre(1, 0, std::numeric_limits<int64_t>::min(),
                                          std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(cols[0].validity, mask);

  EXPECT_EQ(cols[1].type, ColumnType::kDouble);
  EXPECT_THAT(cols[1].doubles, ElementsAre(1.5, 0.0, -0.0, 1e300));
  EXPECT_TRUE(std::signbit(cols[1].doubles[2]));
  EXPECT_EQ(cols[1].validity, mask);

  EXPECT_EQ(cols[2].type, ColumnType::kBool);
  EXPECT_THAT(cols[2].bools, ElementsAre(1, 0, 0, 1));
  EXPECT_EQ(cols[2].validity, mask);

  EXPECT_EQ(cols[3].type, ColumnType::kVarchar);
  EXPECT_THAT(Strings(cols[3]),
              ElementsAre("short", "<null>", "a string longer than 12 bytes", ""));
  EXPECT_THAT(cols[3].offsets, ElementsAre(0, 5, 5, 34, 34));
  EXPECT_EQ(cols[3].validity, mask);
  EXPECT_EQ(cols[3].NullCount(), 1u);

  EXPECT_EQ(cols[4].type, ColumnType::kInt64);  // TINYINT widens
  EXPECT_THAT(cols[4].int64s, ElementsAre(1, 0, -128, 127));

  EXPECT_EQ(cols[5].type, ColumnType::kDouble);  // FLOAT widens
  EXPECT_THAT(cols[5].doubles, ElementsAre(0.25, 0.0, -2.0, 0.0));
  EXPECT_THAT(cols[5].validity, ElementsAre(1, 0, 1, 0));
}

TEST(ResultTest, FetchesManyChunksExactly) {
  Db d;
  // 5000 rows span three 2048-row chunks; every 7th row is NULL, strings alternate long and short.
  auto cols = FetchAll(d.conn, R"sql(
      SELECT CASE WHEN i % 7 = 0 THEN NULL ELSE i END AS i,
             CASE WHEN i % 7 = 0 THEN NULL ELSE i / 4 END AS d,
             CASE WHEN i % 7 = 0 THEN NULL ELSE i % 2 = 0 END AS b,
             CASE WHEN i % 7 = 0 THEN NULL
                  WHEN i % 2 = 0 THEN 'row number ' || i ELSE i::VARCHAR END AS s
      FROM range(5000) r(i) ORDER BY r.i)sql");
  ASSERT_EQ(cols.size(), 4u);
  ASSERT_EQ(cols[0].size(), 5000u);
  size_t nulls = 0;
  for (int64_t i = 0; i < 5000; ++i) {
    const bool null = i % 7 == 0;
    nulls += null;
    for (const Column& c : cols) ASSERT_EQ(c.IsNull(i), null) << c.name << " row " << i;
    if (null) {
      EXPECT_EQ(cols[0].int64s[i], 0);
      EXPECT_EQ(cols[3].Varchar(i), "");
      continue;
    }
    ASSERT_EQ(cols[0].int64s[i], i);
    ASSERT_EQ(cols[1].doubles[i], static_cast<double>(i) / 4);
    ASSERT_EQ(cols[2].bools[i], i % 2 == 0 ? 1 : 0);
    ASSERT_EQ(cols[3].Varchar(i),
              i % 2 == 0 ? "row number " + std::to_string(i) : std::to_string(i));
  }
  EXPECT_EQ(cols[0].NullCount(), nulls);
}

TEST(ResultTest, EmptyResultGivesEmptyColumnsAndSecondFetchIsEmpty) {
  Db d;
  auto result = d.conn.Query("SELECT 1::BIGINT AS a, 'x' AS s FROM range(0)");
  ASSERT_TRUE(result.ok());
  auto cols = result->FetchColumns();
  ASSERT_TRUE(cols.ok());
  ASSERT_EQ(cols->size(), 2u);
  EXPECT_EQ((*cols)[0].size(), 0u);
  EXPECT_THAT((*cols)[1].offsets, ElementsAre(0));

  auto twice = d.conn.Query("SELECT 42::BIGINT AS a");
  ASSERT_TRUE(twice.ok());
  EXPECT_THAT(twice->FetchColumns()->at(0).int64s, ElementsAre(42));
  EXPECT_EQ(twice->FetchColumns()->at(0).size(), 0u);
}

TEST(TableAppenderTest, AppendsColumnsAndReadsThemBack) {
  Db d;
  // 4100 rows: two full chunks and a partial one; nulls land in each.
  const size_t n = 4100;
  std::vector<int64_t> ints(n);
  std::vector<double> doubles(n);
  std::vector<uint8_t> bools(n), valid(n);
  std::vector<std::string> strings(n);
  for (size_t i = 0; i < n; ++i) {
    ints[i] = static_cast<int64_t>(i) * 1000003 - 7;
    doubles[i] = static_cast<double>(i) / 3;
    bools[i] = i % 3 == 0;
    valid[i] = i % 11 != 5;
    strings[i] = i % 2 ? "s" + std::to_string(i) : "a much longer string, row " + std::to_string(i);
  }
  // After the first chunk the mask has no NULLs for a while: stale bits must not survive.
  for (size_t i = 2048; i < 4096; ++i) valid[i] = 1;
  const std::vector<Column> in = {
      Column::Int64("id", ints, valid), Column::Double("score", doubles, valid),
      Column::Bool("flag", bools, valid), Column::Varchar("name", strings, valid),
      Column::Int64("all valid", ints)};
  ASSERT_TRUE(WriteTable(d.conn, "out", in).ok());

  auto out = FetchAll(d.conn, "SELECT * FROM out");  // insertion order is kept for a plain scan
  ASSERT_EQ(out.size(), in.size());
  for (size_t c = 0; c < in.size(); ++c) {
    EXPECT_EQ(out[c].name, in[c].name);
    EXPECT_EQ(out[c].type, in[c].type);
    EXPECT_EQ(out[c].validity, in[c].validity) << in[c].name;
  }
  std::vector<int64_t> want_ints = ints;
  std::vector<double> want_doubles = doubles;
  std::vector<uint8_t> want_bools = bools;
  for (size_t i = 0; i < n; ++i) {
    if (!valid[i]) want_ints[i] = 0, want_doubles[i] = 0, want_bools[i] = 0;
  }
  EXPECT_EQ(out[0].int64s, want_ints);
  EXPECT_EQ(out[1].doubles, want_doubles);
  EXPECT_EQ(out[2].bools, want_bools);
  EXPECT_EQ(out[3].chars, in[3].chars);
  EXPECT_EQ(out[3].offsets, in[3].offsets);
  EXPECT_EQ(out[4].int64s, ints);

  // Appending to an existing table adds rows; a second appender batch goes through too.
  auto appender = TableAppender::Open(d.conn, "out");
  ASSERT_TRUE(appender.ok()) << appender.status().ToString();
  ASSERT_TRUE(appender->Append(in).ok());
  ASSERT_TRUE(appender->Close().ok());
  EXPECT_THAT(FetchAll(d.conn, "SELECT count(*)::BIGINT FROM out")[0].int64s, ElementsAre(2 * n));
}

TEST(TableAppenderTest, RejectsBadInput) {
  Db d;
  auto missing = TableAppender::Open(d.conn, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nope"));

  ASSERT_TRUE(d.conn.Execute("CREATE TABLE t (a BIGINT, b BIGINT)").ok());
  auto appender = TableAppender::Open(d.conn, "t");
  ASSERT_TRUE(appender.ok());
  const std::vector<Column> one = {Column::Int64("a", {1, 2})};
  EXPECT_THAT(appender->Append(one).message(), HasSubstr("the table has 2 columns, got 1"));
  const std::vector<Column> ragged = {Column::Int64("a", {1, 2}), Column::Int64("b", {1})};
  EXPECT_THAT(appender->Append(ragged).message(), HasSubstr("column \"b\" has 1 rows"));
  Column broken = Column::Int64("b", {1, 2});
  broken.int64s.pop_back();
  EXPECT_THAT(appender->Append(std::vector<Column>{Column::Int64("a", {1, 2}), broken}).message(),
              HasSubstr("int64s has 1 entries, validity has 2"));
  // DuckDB casts a column whose type differs from the table's; one that does not cast fails with
  // DuckDB's "type mismatch" message rather than the cast's own.
  Status cast =
      appender->Append(std::vector<Column>{Column::Int64("a", {1}), Column::Varchar("b", {"x"})});
  EXPECT_FALSE(cast.ok());
  EXPECT_THAT(cast.message(),
              HasSubstr("type mismatch in AppendDataChunk, expected BIGINT, got VARCHAR"));
}

TEST(TableAppenderTest, CastsToTheTablesTypes) {
  Db d;
  ASSERT_TRUE(d.conn.Execute("CREATE TABLE t (a DOUBLE, b INTEGER)").ok());
  auto appender = TableAppender::Open(d.conn, "t");
  ASSERT_TRUE(appender.ok());
  ASSERT_TRUE(appender
                  ->Append(std::vector<Column>{Column::Int64("a", {1, 2}),
                                               Column::Varchar("b", {"40", ""}, {1, 0})})
                  .ok());
  ASSERT_TRUE(appender->Close().ok());
  EXPECT_FALSE(appender->Append(std::vector<Column>{}).ok());  // closed
  auto cols = FetchAll(d.conn, "SELECT a, b FROM t");
  EXPECT_THAT(cols[0].doubles, ElementsAre(1.0, 2.0));
  EXPECT_THAT(cols[1].int64s, ElementsAre(40, 0));
  EXPECT_THAT(cols[1].validity, ElementsAre(1, 0));
}

TEST(TableAppenderTest, WritesCsvAndParquetWithCopy) {
  Db d;
  TempDir dir;
  const std::vector<Column> in = {
      Column::Int64("id", {1, 2, 3}, {1, 0, 1}), Column::Double("x", {0.5, -1.25, 3.0}),
      Column::Bool("ok", {1, 0, 1}, {1, 1, 0}),
      Column::Varchar("name", {"alpha", "b,c \"quoted\"", "ignored"}, {1, 1, 0})};
  ASSERT_TRUE(WriteTable(d.conn, "result", in).ok());
  for (const std::string format : {"csv", "parquet"}) {
    const std::string path = dir.File("out it's." + format);
    Status copy =
        d.conn.Execute("COPY result TO " + QuoteString(path) + " (FORMAT " + format + ")");
    ASSERT_TRUE(copy.ok()) << copy.ToString();
    ASSERT_TRUE(std::filesystem::exists(path));
    const std::string reader = format == "csv" ? "read_csv" : "read_parquet";
    auto cols = FetchAll(d.conn, "SELECT * FROM " + reader + "(" + QuoteString(path) + ")");
    ASSERT_EQ(cols.size(), 4u) << format;
    EXPECT_THAT(cols[0].int64s, ElementsAre(1, 0, 3)) << format;
    EXPECT_THAT(cols[0].validity, ElementsAre(1, 0, 1)) << format;
    EXPECT_THAT(cols[1].doubles, ElementsAre(0.5, -1.25, 3.0)) << format;
    EXPECT_THAT(cols[2].bools, ElementsAre(1, 0, 0)) << format;
    EXPECT_THAT(cols[2].validity, ElementsAre(1, 1, 0)) << format;
    EXPECT_THAT(Strings(cols[3]), ElementsAre("alpha", "b,c \"quoted\"", "<null>")) << format;
  }
}

TEST(SqlQuoteTest, DoublesQuoteCharacters) {
  EXPECT_EQ(QuoteIdentifier("my \"col\""), "\"my \"\"col\"\"\"");
  EXPECT_EQ(QuoteString("it's"), "'it''s'");
  EXPECT_EQ(QuoteString(""), "''");
  Db d;
  auto cols =
      FetchAll(d.conn, "SELECT " + QuoteString("a'b") + " AS " + QuoteIdentifier("we\"ird"));
  EXPECT_EQ(cols[0].name, "we\"ird");
  EXPECT_EQ(cols[0].Varchar(0), "a'b");
}

}  // namespace
}  // namespace aidi::worker::duckdb
