// Predict: the `predict` stage's computation. Scores every row of a table with a Model:
// score = bias + Σ weights[j]·x[j], through the logistic sigmoid for logistic models, and for
// logistic models a 0/1 label (score >= 0.5).
//
// The model's features are looked up by name among the input columns; a row with a NULL or
// non-finite feature gets a NULL score (and label). Stateless: safe to call from several threads.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/ml/model.h"

namespace aidi::worker::ml {

struct PredictOutput {
  duckdb::Column score;                 // DOUBLE "score": probability (logistic) or value (linear)
  std::optional<duckdb::Column> label;  // BIGINT "label", logistic models only
  size_t null_rows = 0;                 // rows whose score is NULL
};

// Fails when a model feature is missing (`model feature 'x' is not a column of the input
// (columns: a, b)`) or not numeric, or the feature columns differ in length.
[[nodiscard]] StatusOr<PredictOutput> Predict(const Model& model,
                                              std::span<const duckdb::Column> columns,
                                              int threads = 1);

// The pieces Predict and PredictOnGpu share. ResolveModelFeatures looks the model's features up
// (checking names, types and lengths); FinishPredict turns raw scores and row validity into the
// output columns (a NULL row's score slot is reset to 0.0).
[[nodiscard]] StatusOr<std::vector<const duckdb::Column*>> ResolveModelFeatures(
    const Model& model, std::span<const duckdb::Column> columns);
PredictOutput FinishPredict(ModelKind kind, std::vector<double> score, std::vector<uint8_t> valid);

// The logistic sigmoid, 1 / (1 + e^-s), evaluated without overflow for any s.
double Sigmoid(double s);

}  // namespace aidi::worker::ml
