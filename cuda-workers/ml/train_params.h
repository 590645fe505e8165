// TrainParams: the `params` of a `train` stage, exactly as a Pipeline writes them, decoded and
// checked: `{model: logistic|linear, features: [...], label: col, l2, epochs, learningRate,
// tolerance}`. README.md gives the objective each field feeds.
//
// ParseTrainParams() turns the JSON into this struct with errors that name the field
// (`params.l2: must be a number >= 0`); ToJson() writes it back with every default filled in, so a
// model records what it was trained with. A plain value: copy it freely; not synchronised.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::worker::ml {

enum class ModelKind { kLogistic, kLinear };

std::string_view ModelKindName(ModelKind kind);  // "logistic", "linear"

struct TrainParams {
  ModelKind model = ModelKind::kLogistic;
  std::vector<std::string> features;  // column names, non-empty, no duplicates
  std::string label;                  // column name, not one of `features`
  double l2 = 0.0;                    // >= 0; penalty (l2/2)·||w||², bias not penalised
  int epochs = 100;                   // >= 1; at most this many Newton iterations (logistic)
  double learning_rate = 1.0;         // > 0; first step tried by the line search
  double tolerance = 1e-8;            // > 0; stop when max |gradient| (standardised) <= this

  nlohmann::json ToJson() const;
};

// Decodes a train stage's params; InvalidArgument naming the field when one is missing, has the
// wrong type or is out of range, and for unknown fields (a misspelt key is not silently ignored).
[[nodiscard]] StatusOr<TrainParams> ParseTrainParams(const nlohmann::json& params);
[[nodiscard]] StatusOr<TrainParams> ParseTrainParams(const nlohmann::ordered_json& params);

}  // namespace aidi::worker::ml
