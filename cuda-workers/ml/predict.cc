#include "cuda-workers/ml/predict.h"

#include <cmath>

#include "cuda-workers/ml/design_matrix.h"
#include "cuda-workers/ml/parallel.h"

namespace aidi::worker::ml {
namespace {

constexpr size_t kRowsPerThread = 16384;  // below this, another thread costs more than it saves

}  // namespace

using duckdb::Column;
using duckdb::ColumnType;

double Sigmoid(double s) {
  if (s >= 0) return 1.0 / (1.0 + std::exp(-s));
  const double e = std::exp(s);
  return e / (1.0 + e);
}

StatusOr<std::vector<const Column*>> ResolveModelFeatures(const Model& model,
                                                          std::span<const Column> columns) {
  if (model.weights.size() != model.features.size()) {
    return Status::InvalidArgument("model: " + std::to_string(model.weights.size()) +
                                   " weights for " + std::to_string(model.features.size()) +
                                   " features");
  }
  std::vector<const Column*> features(model.features.size());
  for (size_t f = 0; f < features.size(); ++f) {
    AIDI_ASSIGN_OR_RETURN(features[f], FindColumn(columns, model.features[f], "model feature"));
    AIDI_RETURN_IF_ERROR(CheckNumeric(*features[f], "model feature"));
    if (features[f]->size() != features[0]->size()) {
      return Status::InvalidArgument(
          "model feature '" + features[f]->name + "' has " + std::to_string(features[f]->size()) +
          " rows but '" + features[0]->name + "' has " + std::to_string(features[0]->size()));
    }
  }
  return features;
}

PredictOutput FinishPredict(ModelKind kind, std::vector<double> score, std::vector<uint8_t> valid) {
  PredictOutput out;
  const size_t n = score.size();
  for (size_t i = 0; i < n; ++i) {
    if (valid[i] == 0) {
      score[i] = 0.0;
      ++out.null_rows;
    }
  }
  if (kind == ModelKind::kLogistic) {
    std::vector<int64_t> labels(n);
    for (size_t i = 0; i < n; ++i) labels[i] = valid[i] != 0 && score[i] >= 0.5 ? 1 : 0;
    out.label = Column::Int64("label", std::move(labels), valid);
  }
  out.score = Column::Double("score", std::move(score), std::move(valid));
  return out;
}

StatusOr<PredictOutput> Predict(const Model& model, std::span<const Column> columns, int threads) {
  AIDI_ASSIGN_OR_RETURN(std::vector<const Column*> features, ResolveModelFeatures(model, columns));
  const size_t n = features.empty() ? 0 : features[0]->size();
  std::vector<double> score(n, model.bias);
  std::vector<uint8_t> valid(n, 1);
  ParallelFor(
      n, threads,
      [&](int, size_t begin, size_t end) {
        double* s = score.data();
        uint8_t* ok = valid.data();
        // Feature by feature: each inner loop is a contiguous multiply-add the compiler vectorises.
        for (size_t f = 0; f < features.size(); ++f) {
          const Column& c = *features[f];
          const double w = model.weights[f];
          switch (c.type) {
            case ColumnType::kDouble:
              for (size_t i = begin; i < end; ++i) s[i] += w * c.doubles[i];
              for (size_t i = begin; i < end; ++i) ok[i] &= std::isfinite(c.doubles[i]) ? 1 : 0;
              break;
            case ColumnType::kInt64:
              for (size_t i = begin; i < end; ++i) s[i] += w * static_cast<double>(c.int64s[i]);
              break;
            case ColumnType::kBool:
              for (size_t i = begin; i < end; ++i) s[i] += c.bools[i] != 0 ? w : 0.0;
              break;
            case ColumnType::kVarchar:
              break;  // unreachable: ResolveModelFeatures() rejected it
          }
          for (size_t i = begin; i < end; ++i) ok[i] &= c.validity[i];
        }
        if (model.kind == ModelKind::kLogistic) {
          for (size_t i = begin; i < end; ++i) s[i] = Sigmoid(s[i]);
        }
      },
      kRowsPerThread);
  return FinishPredict(model.kind, std::move(score), std::move(valid));
}

}  // namespace aidi::worker::ml
