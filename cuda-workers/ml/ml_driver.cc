// worker_ml_driver: a test driver for cuda-workers/ml until aidi-worker's CLI exists. Not
// installed. It reads CSV files of numbers (a header line, then comma-separated doubles; an empty
// field or NULL is NULL), so tests/worker/ml_reference_test.py can compare with scikit-learn:
//
//   worker_ml_driver train --params JSON --input train.csv --model model.json [--threads N]
//   worker_ml_driver predict --model model.json --input test.csv --output scores.csv [--threads N]
//   worker_ml_driver bench [--rows N] [--features K] [--threads N] [--model logistic|linear]
//
// `bench` times training on synthetic data and prints one JSON line (a measurement, not a test).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/ml/gpu_train.h"
#include "cuda-workers/ml/model.h"
#include "cuda-workers/ml/predict.h"
#include "cuda-workers/ml/train.h"
#include "cuda-workers/ml/train_params.h"

namespace {

using aidi::Status;
using aidi::StatusOr;
using aidi::worker::duckdb::Column;
namespace ml = aidi::worker::ml;

int Fail(const std::string& message) {
  std::cerr << "worker_ml_driver: " << message << "\n";
  return 1;
}

std::vector<std::string> Split(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

StatusOr<std::vector<Column>> ReadCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot open");
  std::string line;
  if (!std::getline(in, line)) return Status::InvalidArgument(path + ": no header line");
  std::vector<Column> cols;
  for (const std::string& name : Split(line)) {
    cols.push_back(Column::Double(name, {}));
  }
  for (size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    std::vector<std::string> fields = Split(line);
    if (fields.size() != cols.size()) {
      return Status::InvalidArgument(path + ":" + std::to_string(number) + ": " +
                                     std::to_string(fields.size()) + " fields, header has " +
                                     std::to_string(cols.size()));
    }
    for (size_t j = 0; j < cols.size(); ++j) {
      const bool null = fields[j].empty() || fields[j] == "NULL";
      char* end = nullptr;
      const double v = null ? 0.0 : std::strtod(fields[j].c_str(), &end);
      if (!null && (end == fields[j].c_str() || *end != '\0')) {
        return Status::InvalidArgument(path + ":" + std::to_string(number) + ": column '" +
                                       cols[j].name + "': not a number: " + fields[j]);
      }
      cols[j].doubles.push_back(v);
      cols[j].validity.push_back(null ? 0 : 1);
    }
  }
  return cols;
}

std::map<std::string, std::string> Flags(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 2; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  return flags;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

int RunTrain(std::map<std::string, std::string>& flags) {
  StatusOr<ml::TrainParams> params = Status::InvalidArgument("--params: required");
  try {
    params = ml::ParseTrainParams(nlohmann::json::parse(flags["--params"]));
  } catch (const nlohmann::json::exception& e) {
    return Fail(std::string("--params: ") + e.what());
  }
  if (!params.ok()) return Fail(params.status().message());
  StatusOr<std::vector<Column>> cols = ReadCsv(flags["--input"]);
  if (!cols.ok()) return Fail(cols.status().message());
  const int threads = flags.contains("--threads") ? std::stoi(flags["--threads"]) : 1;
  const auto start = std::chrono::steady_clock::now();
  StatusOr<ml::Model> model = ml::Train(*params, *cols, threads);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!model.ok()) return Fail(model.status().message());
  std::ofstream(flags["--model"]) << model->ToJson().dump(2) << "\n";
  nlohmann::json summary = {{"op", "train"},
                            {"rowsIn", cols->empty() ? 0 : (*cols)[0].size()},
                            {"rowsRejected", model->metrics.rows_skipped},
                            {"seconds", seconds},
                            {"metrics", model->metrics.ToJson(model->kind)}};
  std::cout << summary.dump() << "\n";
  return 0;
}

int RunPredict(std::map<std::string, std::string>& flags) {
  std::ifstream in(flags["--model"]);
  if (!in) return Fail(flags["--model"] + ": cannot open");
  StatusOr<ml::Model> model = Status::InvalidArgument("model: unreadable");
  try {
    model = ml::Model::FromJson(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    return Fail(flags["--model"] + ": " + e.what());
  }
  if (!model.ok()) return Fail(model.status().message());
  StatusOr<std::vector<Column>> cols = ReadCsv(flags["--input"]);
  if (!cols.ok()) return Fail(cols.status().message());
  const int threads = flags.contains("--threads") ? std::stoi(flags["--threads"]) : 1;
  StatusOr<ml::PredictOutput> out = ml::Predict(*model, *cols, threads);
  if (!out.ok()) return Fail(out.status().message());
  std::ofstream os(flags["--output"]);
  os << (out->label ? "score,label\n" : "score\n");
  char buf[64];
  for (size_t i = 0; i < out->score.size(); ++i) {
    if (out->score.IsNull(i)) {
      os << (out->label ? ",\n" : "\n");
      continue;
    }
    std::snprintf(buf, sizeof(buf), "%.17g", out->score.doubles[i]);
    os << buf;
    if (out->label) os << "," << out->label->int64s[i];
    os << "\n";
  }
  return 0;
}

// Synthetic data: features N(0, 1) shifted and scaled per column, known weights.
int RunBench(std::map<std::string, std::string>& flags) {
  const size_t rows = flags.contains("--rows") ? std::stoul(flags["--rows"]) : 1000000;
  const size_t k = flags.contains("--features") ? std::stoul(flags["--features"]) : 30;
  const int threads = flags.contains("--threads") ? std::stoi(flags["--threads"]) : 2;
  const std::string kind = flags.contains("--model") ? flags["--model"] : "logistic";
  const bool gpu = flags.contains("--device") && flags["--device"] == "cuda";
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> u;
  std::vector<Column> cols;
  std::vector<double> score(rows, 0.2);
  std::vector<std::string> names;
  for (size_t j = 0; j < k; ++j) {
    std::vector<double> x(rows);
    const double w = 0.3 * (static_cast<double>(j % 7) - 3.0) / 3.0;
    for (size_t i = 0; i < rows; ++i) {
      x[i] = normal(rng);
      score[i] += w * x[i];
    }
    names.push_back("x" + std::to_string(j));
    cols.push_back(Column::Double(names.back(), std::move(x)));
  }
  std::vector<double> y(rows);
  for (size_t i = 0; i < rows; ++i) {
    y[i] =
        kind == "logistic" ? (u(rng) < ml::Sigmoid(score[i]) ? 1.0 : 0.0) : score[i] + normal(rng);
  }
  cols.push_back(Column::Double("y", std::move(y)));
  ml::TrainParams params;
  params.model = kind == "logistic" ? ml::ModelKind::kLogistic : ml::ModelKind::kLinear;
  params.features = names;
  params.label = "y";
  params.l2 = 1e-4;

  const double cpu0 = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  StatusOr<ml::Model> model =
      gpu ? ml::TrainOnGpu(params, cols, threads) : ml::Train(params, cols, threads);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu0;
  if (!model.ok()) return Fail(model.status().message());

  const auto pstart = std::chrono::steady_clock::now();
  StatusOr<ml::PredictOutput> out =
      gpu ? ml::PredictOnGpu(*model, cols, threads) : ml::Predict(*model, cols, threads);
  const double predict_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - pstart).count();
  if (!out.ok()) return Fail(out.status().message());
  nlohmann::json summary = {{"model", kind},
                            {"device", gpu ? "cuda" : "cpu"},
                            {"rows", rows},
                            {"features", k},
                            {"threads", threads},
                            {"trainSeconds", seconds},
                            {"trainCpuSeconds", cpu},
                            {"predictSeconds", predict_seconds},
                            {"metrics", model->metrics.ToJson(model->kind)}};
  std::cout << summary.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage =
      "usage: worker_ml_driver train --params JSON --input CSV --model JSON [--threads N]\n"
      "       worker_ml_driver predict --model JSON --input CSV --output CSV [--threads N]\n"
      "       worker_ml_driver bench [--rows N] [--features K] [--threads N] "
      "[--model logistic|linear] [--device cpu|cuda]\n";
  if (argc < 2 || argc % 2 != 0) {
    std::cerr << usage;
    return 2;
  }
  const std::string command = argv[1];
  std::map<std::string, std::string> flags = Flags(argc, argv);
  if (command == "train") return RunTrain(flags);
  if (command == "predict") return RunPredict(flags);
  if (command == "bench") return RunBench(flags);
  std::cerr << usage;
  return 2;
}
