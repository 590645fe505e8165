// Fuzz target: a Parquet input file as `aidi-worker run --op convert` reads it. The input is
// the file; each run converts it to CSV on one DuckDB thread (RunConvert on a fresh connection,
// as RunOp calls it): the footer's row count, the schema, then every page. A corrupt file (bad
// magic, footer, schema, pages) must fail with a Status: never crash, hang or leak, and a failed
// run leaves no output.
#include <cstddef>
#include <cstdint>

#include "cuda-workers/ops/convert_fuzz_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static aidi::worker::fuzz::ConvertFixture fixture("parquet");
  fixture.Run(data, size, "in.parquet", "out.csv", aidi::worker::Json::object());
  return 0;
}
