// Fuzz target: a CSV input file as `aidi-worker run --op convert` reads it (RunConvert on a
// fresh connection, as RunOp calls it). The first byte picks the reading options (bit 0:
// onBadRow skip, else fail; bits 1-2: delimiter unset, ',', ';' or '|'; bits 3-4: header unset,
// true or false; bit 5: nullValues ["NA", ""]; bit 6: a schema typing columns a and b; bit 7:
// Parquet output, else CSV), the rest is the file. Each run uses one DuckDB thread. It must
// succeed or fail with a Status (a bad row, a bad file): never crash, hang or leak, and a failed
// run leaves no output.
#include <cstddef>
#include <cstdint>

#include "cuda-workers/ops/convert_fuzz_fixture.h"

namespace {

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
  static aidi::worker::fuzz::ConvertFixture fixture("csv");
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  fixture.Run(data + 1, size - 1, "in.csv", (flags & 128) != 0 ? "out.parquet" : "out.csv",
              CsvParams(flags));
  return 0;
}
