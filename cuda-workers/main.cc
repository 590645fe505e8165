// aidi-worker: runs one built-in pipeline stage (an op) over CSV/Parquet files, on DuckDB (CPU)
// or CUDA, and prints a one-line JSON summary as the last line of stdout.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/log.h"
#include "cuda-workers/gpu/gpu.h"
#include "cuda-workers/ops/op.h"

namespace {

using aidi::worker::Json;

constexpr char kDefaultTerminationLog[] = "/dev/termination-log";

// Kubernetes shows this file's text as the container's termination message (the operator copies
// it into the stage's status); written only where it exists, as the kubelet provides it.
void WriteTerminationLog(const std::string& path, const std::string& text) {
  if (path.empty()) return;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// The error as one line: DuckDB's messages run over several lines and end with an excerpt of
// the generated SQL ("LINE 1: COPY (SELECT ...", then a caret line), which names nothing the
// user wrote; it is cut, and the remaining lines are joined with spaces.
std::string OneLine(std::string message) {
  if (size_t excerpt = message.find("\nLINE "); excerpt != std::string::npos) {
    message.resize(excerpt);
  }
  std::string out;
  bool space = false;
  for (char c : message) {
    if (c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space && c != ' ') out += ' ';
    space = false;
    out += c;
  }
  return out;
}

int ListOps(bool as_json) {
  if (as_json) {
    Json ops = Json::array();
    for (const auto& op : aidi::worker::AllOps()) {
      ops.push_back({{"op", op.name}, {"summary", op.summary}, {"params", op.params_help}});
    }
    std::cout << ops.dump(2) << "\n";
    return 0;
  }
  for (const auto& op : aidi::worker::AllOps()) {
    std::cout << op.name << "\n    " << op.summary << "\n    params: " << op.params_help << "\n";
  }
  std::cout << "\nEXPR (filter.where, select.derive): columns, numbers, 'strings', + - * / %, "
               "= != < <= > >=, and or not, is_null(c), abs log exp sqrt; nulls follow SQL.\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "aidi-worker: runs a pipeline stage's op over CSV or Parquet files, on DuckDB (CPU) or a "
      "CUDA GPU. On success the last line of stdout is a JSON summary: "
      "{\"op\",\"rowsIn\",\"rowsOut\",\"rowsRejected\",\"seconds\",\"device\"}."};
  app.require_subcommand(1);
  app.fallthrough();  // --log-level may follow the subcommand too
  std::string level = "info";
  app.add_option("--log-level", level, "debug, info, warn or error")->capture_default_str();

  aidi::worker::RunRequest request;
  std::string params_text = "{}";
  std::string device = "auto";
  std::string termination_log = kDefaultTerminationLog;
  CLI::App* run = app.add_subcommand("run", "run one op");
  run->add_option("--op", request.op, "the op (see `aidi-worker ops`)")->required();
  run->add_option("--params", params_text, "the op's params as JSON, or @FILE to read them")
      ->capture_default_str();
  run->add_option("--input", request.inputs,
                  "input files: .csv, .tsv or .parquet data (several are one table), .json model")
      ->required()
      ->expected(1, -1);
  run->add_option("--output", request.output, "output file: .csv, .tsv, .parquet, or .json (train)")
      ->required();
  run->add_option("--device", device, "auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  run->add_option("--threads", request.threads, "CPU threads (0: one per core)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  run->add_option("--termination-log", termination_log,
                  "file for the termination message, written only if it exists")
      ->capture_default_str();

  bool ops_json = false;
  CLI::App* ops = app.add_subcommand("ops", "list the ops and their params");
  ops->add_flag("--json", ops_json, "as JSON");

  CLI11_PARSE(app, argc, argv);
  aidi::log::SetComponent("aidi-worker");
  aidi::log::Level parsed_level;
  if (!aidi::log::ParseLevel(level, &parsed_level)) {
    std::fprintf(stderr, "--log-level: \"%s\" is not debug, info, warn or error\n", level.c_str());
    return 2;
  }
  aidi::log::SetLevel(parsed_level);
  if (ops->parsed()) return ListOps(ops_json);

  request.device = device == "cpu"    ? aidi::worker::Device::kCpu
                   : device == "cuda" ? aidi::worker::Device::kCuda
                                      : aidi::worker::Device::kAuto;
  auto fail = [&](const std::string& error) {
    const std::string message = OneLine(error);
    aidi::log::Error("run failed", {{"op", request.op}, {"error", message}});
    std::fprintf(stderr, "aidi-worker: %s\n", message.c_str());
    WriteTerminationLog(termination_log, message);
    return 1;
  };
  if (!params_text.empty() && params_text[0] == '@') {
    std::ifstream in(params_text.substr(1));
    if (!in) return fail("--params " + params_text + ": cannot read the file");
    std::stringstream text;
    text << in.rdbuf();
    params_text = text.str();
  }
  auto params = aidi::worker::ParseParamsJson(params_text);
  if (!params.ok()) return fail(params.status().message());
  request.params = std::move(*params);

  std::string inputs;
  for (const std::string& i : request.inputs) inputs += (inputs.empty() ? "" : " ") + i;
  aidi::log::Info("run", {{"op", request.op},
                          {"inputs", inputs},
                          {"output", request.output},
                          {"device", device},
                          {"gpu", aidi::worker::gpu::DeviceDescription()}});
  auto summary = aidi::worker::RunOp(request);
  if (!summary.ok()) return fail(summary.status().message());
  const std::string line = summary->dump();
  aidi::log::Info("done", {{"op", request.op},
                           {"rowsIn", std::to_string((*summary)["rowsIn"].get<long long>())},
                           {"rowsOut", std::to_string((*summary)["rowsOut"].get<long long>())},
                           {"device", (*summary)["device"].get<std::string>()}});
  std::cout << line << std::endl;
  WriteTerminationLog(termination_log, line);
  return 0;
}
