// Fuzz target: a CSV input file as `aidi-worker run --op convert` reads it (RunConvert on a
// fresh connection, as RunOp calls it). The first byte picks the reading options (bit 0:
// onBadRow skip, else fail; bits 1-2: delimiter unset, ',', ';' or '|'; bits 3-4: header unset,
// true or false; bit 5: nullValues ["NA", ""]; bit 6: a schema typing columns a and b; bit 7:
// Parquet output, else CSV), the rest is the file. Each run uses one DuckDB thread. It must
// succeed or fail with a Status (a bad row, a bad file): never crash, hang or leak, and a failed
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
// on a tiny file. Each run gets its own connection, as RunOp does, so the input view, the
// rejects tables and the profiling settings (all connection-local) start fresh.
struct Fixture {
  fs::path dir;
  aidi::worker::duckdb::Database db;
  Fixture() : db(OpenDatabase()) {
    dir = fs::temp_directory_path() / ("aidi-csv-fuzz-" + std::to_string(::getpid()));
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

aidi::worker::Json CsvParams(uint8_t flags) {
  using aidi::worker::Json;
  Json csv = Json::object();
  csv["onBadRow"] = (flags & 1) != 0 ? "skip" : "fail";
  static constexpr const char* kDelimiters[] = {nullptr, ",", ";", "|"};
  if (const char* d = kDelimiters[(flags >> 1) & 3]) csv["delimiter"] = d;
  if (((flags >> 3) & 3) == 1) csv["header"] = true;
  if (((flags >> 3) & 3) == 2) csv["header"] = false;
  if ((flags & 32) != 0) csv["nullValues"] = Json::array({"NA", ""});
  Json params = {{"csv", csv}};
  if ((flags & 64) != 0) params["schema"] = {{"a", "int64"}, {"b", "double"}};
  return params;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const fs::path input = fixture.dir / "in.csv";
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  aidi::worker::RunRequest request;
  request.op = "convert";
  request.params = CsvParams(flags);
  request.inputs = {input.string()};
  request.output = (fixture.dir / ((flags & 128) != 0 ? "out.parquet" : "out.csv")).string();
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
