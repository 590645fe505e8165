// Fuzz target: a Parquet input file as `aidi-worker run --op convert` reads it. The input is
// the file; each run converts it to CSV on one DuckDB thread (RunConvert on a fresh connection,
// as RunOp calls it): the footer's row count, the schema, then every page. A corrupt file (bad
// magic, footer, schema, pages) must fail with a Status: never crash, hang or leak, and a failed
// run leaves no output.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "cuda-workers/ops/op.h"

namespace {

namespace fs = std::filesystem;

// One DuckDB instance (one thread) for the whole process: opening one costs more than a run
// on a tiny file. Each run gets its own connection, as RunOp does, so the input view starts
// fresh.
struct Fixture {
  fs::path dir;
  aidi::worker::duckdb::Database db;
  Fixture() : db(OpenDatabase()) {
    dir = fs::temp_directory_path() / ("aidi-parquet-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
  }
  static aidi::worker::duckdb::Database OpenDatabase() {
    aidi::worker::duckdb::DatabaseOptions options;
    options.threads = 1;
    auto db = aidi::worker::duckdb::Database::Open(options);
    if (!db.ok()) __builtin_trap();  // an in-memory database always opens
    return std::move(*db);
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const fs::path input = fixture.dir / "in.parquet";
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  aidi::worker::RunRequest request;
  request.op = "convert";
  request.inputs = {input.string()};
  request.output = (fixture.dir / "out.csv").string();
  request.device = aidi::worker::Device::kCpu;
  request.threads = 1;
  auto conn = fixture.db.Connect();
  if (!conn.ok()) __builtin_trap();  // connecting to an open in-memory database cannot fail
  aidi::worker::OpContext ctx(request, *conn);
  auto outcome = aidi::worker::RunConvert(ctx);
  std::error_code ec;
  if (!outcome.ok() && fs::exists(request.output, ec)) {
    __builtin_trap();  // a failed run must leave no output
  }
  fs::remove(request.output, ec);
  return 0;
}
