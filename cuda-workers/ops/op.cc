#include "cuda-workers/ops/op.h"

#include <chrono>
#include <cmath>

#include "base/log.h"
#include "cuda-workers/expr/parser.h"
#include "cuda-workers/gpu/gpu.h"

namespace aidi::worker {
namespace {

constexpr OpInfo kOps[] = {
    {"clean", "drop rows with nulls, fill nulls, drop duplicate rows (in that order)",
     R"J({"dropNull": ["col", ...] | "any", "fillNull": {"col": value}, "dedupe": ["col", ...] | true})J",
     RunClean},
    {"convert", "read CSV or Parquet, write CSV or Parquet, with CSV options and column types",
     R"J({"csv": {"delimiter": ",", "header": true, "nullValues": ["NA"], "onBadRow": "fail|skip"}, "schema": {"col": "int64|double|bool|string|date|timestamp"}})J",
     RunConvert},
    {"filter", "keep the rows where a condition is true (null counts as false)",
     R"J({"where": "EXPR"})J", RunFilter},
    {"groupby", "group rows by key columns and aggregate (keys null form their own group)",
     R"J({"keys": ["col", ...], "aggs": {"out": "sum(c)|mean(c)|min(c)|max(c)|count()|count(c)"}})J",
     RunGroupBy},
    {"histogram", "count values of a column in equal-width bins (numpy's rule)",
     R"J({"column": "col", "bins": 10, "min": number, "max": number})J", RunHistogram},
    {"noop", "copy the input to the output", "{}", RunNoop},
    {"normalize", "rescale numeric columns: zscore (population std) or minmax",
     R"J({"columns": ["col", ...], "method": "zscore|minmax"})J", RunNormalize},
    {"predict", "score rows with a model from train (inputs: data files and the .json model)", "{}",
     RunPredict},
    {"select", "keep some columns and derive new ones from expressions",
     R"J({"columns": ["col", ...], "derive": {"name": "EXPR"}})J", RunSelect},
    {"sort", "order rows by columns (nulls last either way), optionally only the first N",
     R"J({"by": [{"column": "col", "desc": false}], "limit": N})J", RunSort},
    {"train", "fit a logistic or linear model; writes it as .json",
     R"J({"model": "logistic|linear", "features": ["col", ...], "label": "col", "l2": 0.0, "epochs": 100, "learningRate": 1.0})J",
     RunTrain},
};

// Below this many rows, copying columns to and from a GPU costs more than it saves.
constexpr int64_t kGpuMinRows = 1'000'000;

}  // namespace

std::span<const OpInfo> AllOps() { return kOps; }

const OpInfo* FindOp(std::string_view name) {
  for (const OpInfo& op : kOps) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

std::vector<std::string> OpContext::DataInputs() const {
  std::vector<std::string> out;
  for (const std::string& p : request_.inputs) {
    auto f = FormatOf(p);
    if (!f.ok() || *f != FileFormat::kJson) out.push_back(p);
  }
  return out;
}

std::vector<std::string> OpContext::ModelInputs() const {
  std::vector<std::string> out;
  for (const std::string& p : request_.inputs) {
    auto f = FormatOf(p);
    if (f.ok() && *f == FileFormat::kJson) out.push_back(p);
  }
  return out;
}

StatusOr<InputTable> OpContext::OpenInput(const CsvReadOptions& csv) {
  return InputTable::Open(db_, DataInputs(), csv);
}

StatusOr<expr::BoundExpr> OpContext::BindExpression(const InputTable& input, const Params& p) {
  auto text = p.String();
  if (!text.ok()) return text.status();
  auto parsed = expr::Parse(*text);
  if (!parsed.ok()) return p.Error(parsed.status().message());
  auto bound = expr::Bind(*parsed, input.schema());
  if (!bound.ok()) {
    // A column that exists but has a type expressions do not take deserves its own words.
    for (const InputColumn& c : input.columns()) {
      if (!c.type && bound.status().message().find("'" + c.name + "'") != std::string::npos) {
        return p.Error("column '" + c.name + "' is " + c.sql_type +
                       "; expressions take numbers, booleans and strings");
      }
    }
    return p.Error(bound.status().message());
  }
  return bound;
}

StatusOr<bool> OpContext::UseGpu(bool op_has_gpu_path, std::optional<int64_t> rows) const {
  switch (request_.device) {
    case Device::kCpu:
      return false;
    case Device::kCuda:
      if (!op_has_gpu_path) {
        return Status::InvalidArgument("--device cuda: op " + request_.op +
                                       " has no CUDA path for these params; use auto or cpu");
      }
      if (!gpu::Available()) {
        return Status::Unavailable("--device cuda: no usable CUDA device (" +
                                   gpu::DeviceDescription() + ")");
      }
      return true;
    case Device::kAuto:
      return op_has_gpu_path && rows.value_or(0) >= kGpuMinRows && gpu::Available();
  }
  return false;
}

StatusOr<OpOutcome> OpContext::WriteOutput(const InputTable& input, std::string_view select_sql) {
  auto written = WriteRows(db_, input, select_sql, request_.output);
  if (!written.ok()) return written.status();
  OpOutcome out;
  out.rows_in = written->rows_read;
  out.rows_out = written->rows;
  out.rows_rejected = written->bad_rows;
  return out;
}

bool OpContext::FallBackToCpu(const StatusOr<OpOutcome>& gpu_result) const {
  if (gpu_result.ok() || request_.device != Device::kAuto ||
      gpu_result.status().code() != StatusCode::kUnavailable) {
    return false;
  }
  log::Info("the CUDA path declined; running on the CPU",
            {{"op", request_.op}, {"reason", gpu_result.status().message()}});
  return true;
}

namespace {

// Stage inputs are URIs (the Pipeline schema asks for a scheme): file:// names a local path;
// other schemes are for custom stages that fetch data, not for the worker.
StatusOr<std::string> LocalPath(const std::string& flag, const std::string& uri) {
  constexpr std::string_view kFile = "file://";
  if (uri.rfind(kFile, 0) == 0) {
    std::string path = uri.substr(kFile.size());
    if (path.empty() || path[0] != '/') {
      return Status::InvalidArgument(flag + " " + uri +
                                     ": a file URI needs an absolute path (file:///data/x.csv)");
    }
    return path;
  }
  auto scheme_end = uri.find("://");
  if (scheme_end != std::string::npos && scheme_end > 0 && uri.find('/') > scheme_end) {
    return Status::InvalidArgument(
        flag + " " + uri + ": the worker reads local files and file:// URIs only; fetch " +
        uri.substr(0, scheme_end) + ":// data into the workspace with a custom stage first");
  }
  return uri;
}

}  // namespace

StatusOr<Json> RunOp(const RunRequest& original) {
  RunRequest request = original;
  for (std::string& input : request.inputs) {
    auto path = LocalPath("--input", input);
    if (!path.ok()) return path.status();
    input = *path;
  }
  auto output = LocalPath("--output", request.output);
  if (!output.ok()) return output.status();
  request.output = *output;
  const OpInfo* op = FindOp(request.op);
  if (op == nullptr) {
    std::string names;
    for (const OpInfo& o : kOps) names += (names.empty() ? "" : ", ") + std::string(o.name);
    return Status::InvalidArgument("--op " + request.op + ": unknown op (ops: " + names + ")");
  }
  if (request.output.empty()) return Status::InvalidArgument("--output: required");
  const auto start = std::chrono::steady_clock::now();
  duckdb::DatabaseOptions options;
  options.threads = request.threads;
  auto db = duckdb::Database::Open(options);
  if (!db.ok()) return db.status();
  auto conn = db->Connect();
  if (!conn.ok()) return conn.status();
  OpContext ctx(request, *conn);
  auto outcome = op->run(ctx);
  if (!outcome.ok()) return outcome.status();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Json summary = {{"op", request.op},
                  {"rowsIn", outcome->rows_in},
                  {"rowsOut", outcome->rows_out},
                  {"rowsRejected", outcome->rows_rejected},
                  {"seconds", std::round(seconds * 1e6) / 1e6},
                  {"device", outcome->device}};
  if (!outcome->metrics.is_null()) summary["metrics"] = outcome->metrics;
  return summary;
}

}  // namespace aidi::worker
