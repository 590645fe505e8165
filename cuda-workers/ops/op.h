// The ops of aidi-worker: what each is called, what it takes, and how one run of it is set up.
//
// An op reads the run's inputs through its OpContext (one DuckDB connection, the input table,
// the params as a Params view) and returns an OpOutcome; RunOp wraps that in the summary line
// the worker prints. Each op lives in its own file (ops/<name>.cc): its params, its CPU path as
// SQL on DuckDB and, where it has one, its call into the CUDA path (gpu/).
//
// Thread safety: an OpContext belongs to one run on one thread. The op table is immutable.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/database.h"
#include "cuda-workers/expr/bind.h"
#include "cuda-workers/ops/params.h"
#include "cuda-workers/ops/table.h"

namespace aidi::worker {

enum class Device { kAuto, kCpu, kCuda };

// One `aidi-worker run`.
struct RunRequest {
  std::string op;
  Json params = Json::object();
  std::vector<std::string> inputs;
  std::string output;
  Device device = Device::kAuto;
  int threads = 0;  // 0: one per core
};

// What an op did, for the summary line.
struct OpOutcome {
  int64_t rows_in = 0;
  int64_t rows_out = 0;
  int64_t rows_rejected = 0;
  std::string device = "cpu";
  Json metrics;  // train: its metrics; null otherwise
};

class OpContext {
 public:
  OpContext(const RunRequest& request, duckdb::Connection& db) : request_(request), db_(db) {}

  const RunRequest& request() const { return request_; }
  Params params() const { return Params(request_.params, "params"); }
  duckdb::Connection& db() { return db_; }

  // The inputs that are data (.csv, .tsv, .parquet) and those that are models (.json).
  std::vector<std::string> DataInputs() const;
  std::vector<std::string> ModelInputs() const;

  // The data inputs as InputTable::kRelation; see InputTable::Open.
  [[nodiscard]] StatusOr<InputTable> OpenInput(const CsvReadOptions& csv = {});

  // The expression in string param `p` bound to the input's columns; errors start with p's path.
  [[nodiscard]] StatusOr<expr::BoundExpr> BindExpression(const InputTable& input, const Params& p);

  // Whether this run computes on the GPU: `--device cuda` demands it (an error where there is no
  // usable GPU or the op has no CUDA path), `auto` takes it when there is a GPU, the op has a
  // CUDA path and the input is known to be big enough to repay the copies: a Parquet input of
  // at least a million rows (`rows` unknown, as for CSV, whose parsing on the CPU dominates
  // anyway: the CPU path).
  [[nodiscard]] StatusOr<bool> UseGpu(bool op_has_gpu_path, std::optional<int64_t> rows) const;

  // Writes the rows of `select_sql` (a query over `input`) to --output (WriteRows) and returns
  // the outcome most ops report: rows read, rows written, bad rows skipped.
  [[nodiscard]] StatusOr<OpOutcome> WriteOutput(const InputTable& input,
                                                std::string_view select_sql);

  // After a CUDA path ran: true when it declined the work (Unavailable: out of memory, a case
  // it does not cover) and `--device auto` lets the CPU path do it instead (logged).
  bool FallBackToCpu(const StatusOr<OpOutcome>& gpu_result) const;

 private:
  const RunRequest& request_;
  duckdb::Connection& db_;
};

struct OpInfo {
  std::string_view name;
  std::string_view summary;      // one line
  std::string_view params_help;  // the params it takes, as a JSON-ish sketch
  StatusOr<OpOutcome> (*run)(OpContext& ctx);
};

// Every op, by name.
std::span<const OpInfo> AllOps();
const OpInfo* FindOp(std::string_view name);

// Runs one op and returns the summary: {"op","rowsIn","rowsOut","rowsRejected","seconds",
// "device"} plus "metrics" for train.
[[nodiscard]] StatusOr<Json> RunOp(const RunRequest& request);

// The ops (one file each).
StatusOr<OpOutcome> RunConvert(OpContext& ctx);
StatusOr<OpOutcome> RunFilter(OpContext& ctx);
StatusOr<OpOutcome> RunSelect(OpContext& ctx);
StatusOr<OpOutcome> RunClean(OpContext& ctx);
StatusOr<OpOutcome> RunNormalize(OpContext& ctx);
StatusOr<OpOutcome> RunGroupBy(OpContext& ctx);
StatusOr<OpOutcome> RunSort(OpContext& ctx);
StatusOr<OpOutcome> RunHistogram(OpContext& ctx);
StatusOr<OpOutcome> RunTrain(OpContext& ctx);
StatusOr<OpOutcome> RunPredict(OpContext& ctx);
StatusOr<OpOutcome> RunNoop(OpContext& ctx);

}  // namespace aidi::worker
