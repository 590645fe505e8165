// Fuzzes the whole expression pipeline: Parse, the canonical ToString round trip, Bind against
// a fixed schema, ToSql, Compile and Evaluate on a few rows with nulls and edge values. Beyond
// "never crash", the canonical form must parse back to the same tree.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "cuda-workers/expr/eval.h"
#include "cuda-workers/expr/parser.h"
#include "cuda-workers/expr/sql.h"

namespace {

using namespace aidi::worker::expr;  // NOLINT: a fuzz driver

const Schema& FixedSchema() {
  static const Schema schema = {{"a", Type::kInt64},      {"b", Type::kInt64}, {"x", Type::kDouble},
                                {"y", Type::kDouble},     {"f", Type::kBool},  {"s", Type::kString},
                                {"my col", Type::kString}};
  return schema;
}

constexpr size_t kRows = 6;
const int64_t kInts[kRows] = {
    0, -7, 3, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 1};
const double kDoubles[kRows] = {0.0,
                                -0.0,
                                2.5,
                                std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::quiet_NaN(),
                                -1e300};
const uint8_t kBools[kRows] = {0, 1, 1, 0, 1, 0};
const std::string_view kStrings[kRows] = {"", "a", "it's", "Z", "\xc3\xa9", "a"};
const uint8_t kValid[kRows] = {1, 1, 0, 1, 1, 1};
const uint8_t kValid2[kRows] = {1, 0, 1, 1, 1, 1};

bool IsLimitError(const aidi::Status& s) {
  const std::string& m = s.message();
  return m.find("levels deep") != std::string::npos ||
         m.find("operators deep") != std::string::npos || m.find("bytes long") != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = Parse(text);
  if (!parsed.ok()) return 0;
  // The canonical form must round-trip. It parenthesises every operator, so it may nest deeper
  // than the input did (`a+a+a...`, `---a`): then only a limit error is acceptable.
  auto again = Parse(ToString(*parsed));
  if (again.ok() ? !SameTree(*parsed, *again) : !IsLimitError(again.status())) std::abort();
  auto bound = Bind(*parsed, FixedSchema());
  if (!bound.ok()) return 0;
  const std::string sql = ToSql(*bound);
  if (sql.find("--") != std::string::npos && sql.find('\'') == std::string::npos &&
      sql.find('"') == std::string::npos) {
    std::abort();  // with no quoted text at all, `--` (a comment) must not appear
  }
  const Program program = Compile(*bound);
  const std::vector<ColumnView> columns = {
      {Type::kInt64, kInts, nullptr, nullptr, nullptr, kValid},
      {Type::kInt64, kInts + 0, nullptr, nullptr, nullptr, kValid2},
      {Type::kDouble, nullptr, kDoubles, nullptr, nullptr, kValid},
      {Type::kDouble, nullptr, kDoubles, nullptr, nullptr, nullptr},
      {Type::kBool, nullptr, nullptr, kBools, nullptr, kValid2},
      {Type::kString, nullptr, nullptr, nullptr, kStrings, kValid},
      {Type::kString, nullptr, nullptr, nullptr, kStrings, nullptr},
  };
  auto result = Evaluate(program, columns, kRows);
  if (!result.ok() || result->type != bound->type) std::abort();  // inputs match the schema
  return 0;
}
