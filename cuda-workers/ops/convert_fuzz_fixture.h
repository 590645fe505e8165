// The shared part of the worker's file-format fuzz targets (csv_fuzz.cc, parquet_fuzz.cc): one
// DuckDB instance (one thread) for the whole process, since opening one costs more than a run on
// a tiny file, and a convert of one input file per run on a fresh connection, as RunOp does, so
// the input view, the rejects tables and the profiling settings (all connection-local) start
// fresh. A run must succeed or fail with a Status, and a failed run must leave no output.
// Thread safety: libFuzzer calls a target from one thread.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "cuda-workers/ops/op.h"

namespace aidi::worker::fuzz {

class ConvertFixture {
 public:
  explicit ConvertFixture(const std::string& name) : db_(OpenDatabase()) {
    dir_ = std::filesystem::temp_directory_path() /
           ("aidi-" + name + "-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  ~ConvertFixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Writes `bytes` as the input file `input_name`, converts it to `output_name` with `params`.
  void Run(const uint8_t* bytes, size_t size, const std::string& input_name,
           const std::string& output_name, Json params) {
    const std::filesystem::path input = dir_ / input_name;
    {
      std::ofstream out(input, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes), static_cast<std::streamsize>(size));
    }
    RunRequest request;
    request.op = "convert";
    request.params = std::move(params);
    request.inputs = {input.string()};
    request.output = (dir_ / output_name).string();
    request.device = Device::kCpu;
    request.threads = 1;
    auto conn = db_.Connect();
    if (!conn.ok()) __builtin_trap();  // connecting to an open in-memory database cannot fail
    OpContext ctx(request, *conn);
    auto outcome = RunConvert(ctx);
    std::error_code ec;
    if (!outcome.ok() && std::filesystem::exists(request.output, ec)) {
      __builtin_trap();  // a failed run must leave no output
    }
    std::filesystem::remove(request.output, ec);
  }

 private:
  static duckdb::Database OpenDatabase() {
    duckdb::DatabaseOptions options;
    options.threads = 1;
    auto db = duckdb::Database::Open(options);
    if (!db.ok()) __builtin_trap();  // an in-memory database always opens
    return std::move(*db);
  }

  std::filesystem::path dir_;
  duckdb::Database db_;
};

}  // namespace aidi::worker::fuzz
