#include "cuda-workers/ml/model.h"

#include <cmath>
#include <set>

namespace aidi::worker::ml {
namespace {

Status FieldError(std::string_view field, std::string_view message) {
  return Status::InvalidArgument("model." + std::string(field) + ": " + std::string(message));
}

Status ReadMetric(const nlohmann::json& metrics, const char* key, double* out) {
  auto it = metrics.find(key);
  if (it == metrics.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return FieldError(std::string("metrics.") + key, "must be a number");
  *out = it->get<double>();
  return Status::Ok();
}

}  // namespace

nlohmann::json TrainMetrics::ToJson(ModelKind kind) const {
  nlohmann::json j = {
      {"rows", rows},           {"rowsSkipped", rows_skipped},   {"iterations", iterations},
      {"converged", converged}, {"gradientNorm", gradient_norm}, {"objective", objective}};
  if (kind == ModelKind::kLogistic) {
    j["logLoss"] = log_loss;
    j["accuracy"] = accuracy;
  } else {
    j["mse"] = mse;
    j["rmse"] = rmse;
    j["r2"] = r2;
  }
  return j;
}

nlohmann::json Model::ToJson() const {
  return {{"kind", ModelKindName(kind)},
          {"features", features},
          {"weights", weights},
          {"bias", bias},
          {"metrics", metrics.ToJson(kind)},
          {"params", params}};
}

StatusOr<Model> Model::FromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Status::InvalidArgument("model: must be a JSON object");
  Model m;

  auto kind = json.find("kind");
  if (kind == json.end()) return FieldError("kind", "required (\"logistic\" or \"linear\")");
  if (*kind == "logistic") {
    m.kind = ModelKind::kLogistic;
  } else if (*kind == "linear") {
    m.kind = ModelKind::kLinear;
  } else {
    return FieldError("kind", "must be \"logistic\" or \"linear\"");
  }

  auto features = json.find("features");
  if (features == json.end()) return FieldError("features", "required");
  if (!features->is_array() || features->empty()) {
    return FieldError("features", "must be a non-empty array of column names");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < features->size(); ++i) {
    const nlohmann::json& f = (*features)[i];
    std::string field = "features[" + std::to_string(i) + "]";
    if (!f.is_string() || f.get_ref<const std::string&>().empty()) {
      return FieldError(field, "must be a non-empty string");
    }
    if (!seen.insert(f.get<std::string>()).second) {
      return FieldError(field, "'" + f.get<std::string>() + "' appears twice");
    }
    m.features.push_back(f.get<std::string>());
  }

  auto weights = json.find("weights");
  if (weights == json.end()) return FieldError("weights", "required");
  if (!weights->is_array() || weights->size() != m.features.size()) {
    return FieldError("weights", "must be an array of " + std::to_string(m.features.size()) +
                                     " numbers (one per feature)");
  }
  for (size_t i = 0; i < weights->size(); ++i) {
    const nlohmann::json& w = (*weights)[i];
    if (!w.is_number() || !std::isfinite(w.get<double>())) {
      return FieldError("weights[" + std::to_string(i) + "]", "must be a finite number");
    }
    m.weights.push_back(w.get<double>());
  }

  auto bias = json.find("bias");
  if (bias == json.end()) return FieldError("bias", "required");
  if (!bias->is_number() || !std::isfinite(bias->get<double>())) {
    return FieldError("bias", "must be a finite number");
  }
  m.bias = bias->get<double>();

  if (auto metrics = json.find("metrics"); metrics != json.end() && !metrics->is_null()) {
    if (!metrics->is_object()) return FieldError("metrics", "must be an object");
    double rows = 0, skipped = 0, iterations = 0;
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "rows", &rows));
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "rowsSkipped", &skipped));
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "iterations", &iterations));
    m.metrics.rows = static_cast<int64_t>(rows);
    m.metrics.rows_skipped = static_cast<int64_t>(skipped);
    m.metrics.iterations = static_cast<int>(iterations);
    if (auto c = metrics->find("converged"); c != metrics->end() && !c->is_null()) {
      if (!c->is_boolean()) return FieldError("metrics.converged", "must be a boolean");
      m.metrics.converged = c->get<bool>();
    }
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "gradientNorm", &m.metrics.gradient_norm));
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "objective", &m.metrics.objective));
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "logLoss", &m.metrics.log_loss));
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "accuracy", &m.metrics.accuracy));
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "mse", &m.metrics.mse));
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "rmse", &m.metrics.rmse));
    AIDI_RETURN_IF_ERROR(ReadMetric(*metrics, "r2", &m.metrics.r2));
  }

  if (auto params = json.find("params"); params != json.end() && !params->is_null()) {
    if (!params->is_object()) return FieldError("params", "must be an object");
    m.params = *params;
  }
  return m;
}

}  // namespace aidi::worker::ml
