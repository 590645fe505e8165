// Model: what a `train` stage writes and a `predict` stage reads, as JSON:
// `{"kind":"logistic","features":[...],"weights":[...],"bias":b,"metrics":{...},"params":{...}}`.
//
// Weights are in the original units of the feature columns, so a score is just
// bias + Σ weights[j]·x[j] (through the logistic sigmoid for `logistic`): predicting needs
// nothing but this object. `metrics` describes the training run and `params` echoes the train
// params with defaults filled in; neither is needed to predict. A plain value: copy it freely;
// not synchronised.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "cuda-workers/ml/train_params.h"

namespace aidi::worker::ml {

// What training measured on the rows it used (see README.md for the formulas).
struct TrainMetrics {
  int64_t rows = 0;          // rows used
  int64_t rows_skipped = 0;  // rows with a NULL or non-finite feature or label
  int iterations = 0;        // Newton iterations (1 for linear: one exact solve)
  bool converged = false;    // the gradient met the tolerance
  double gradient_norm = 0;  // max |gradient| of the objective at the end, standardised features
  double objective = 0;      // mean loss + (l2/2)·||w||²
  double log_loss = 0;       // logistic: mean log-loss
  double accuracy = 0;       // logistic: share of rows with (score >= 0.5) == label
  double mse = 0;            // linear: mean squared error
  double rmse = 0;           // linear: sqrt(mse)
  double r2 = 0;             // linear: 1 - SSE/SST

  // The fields that apply to `kind`, camelCase.
  nlohmann::json ToJson(ModelKind kind) const;
};

struct Model {
  ModelKind kind = ModelKind::kLogistic;
  std::vector<std::string> features;
  std::vector<double> weights;  // one per feature, original units
  double bias = 0;
  TrainMetrics metrics;
  nlohmann::json params = nlohmann::json::object();  // the train params, defaults filled in

  nlohmann::json ToJson() const;
  // Reads a model written by ToJson(). `metrics` and `params` are optional; unknown members are
  // ignored. A malformed model fails with InvalidArgument naming the field
  // (`model.weights[2]: must be a finite number`).
  [[nodiscard]] static StatusOr<Model> FromJson(const nlohmann::json& json);
};

}  // namespace aidi::worker::ml
