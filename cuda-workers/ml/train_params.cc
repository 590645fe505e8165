#include "cuda-workers/ml/train_params.h"

#include <cmath>
#include <limits>
#include <set>

namespace aidi::worker::ml {
namespace {

constexpr std::string_view kKnown[] = {"model",        "features", "label",    "l2",
                                       "learningRate", "epochs",   "tolerance"};

Status FieldError(std::string_view field, std::string_view message) {
  return Status::InvalidArgument("params." + std::string(field) + ": " + std::string(message));
}

// The member `key`, or nullptr when it is absent or null (both mean "use the default").
const nlohmann::json* Member(const nlohmann::json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return nullptr;
  return &*it;
}

StatusOr<double> Number(const nlohmann::json& params, const char* key, double fallback,
                        bool allow_zero, std::string_view message) {
  const nlohmann::json* v = Member(params, key);
  if (v == nullptr) return fallback;
  if (!v->is_number()) return FieldError(key, message);
  double d = v->get<double>();
  if (!std::isfinite(d) || d < 0 || (d == 0 && !allow_zero)) return FieldError(key, message);
  return d;
}

}  // namespace

std::string_view ModelKindName(ModelKind kind) {
  return kind == ModelKind::kLogistic ? "logistic" : "linear";
}

nlohmann::json TrainParams::ToJson() const {
  return {{"model", ModelKindName(model)},
          {"features", features},
          {"label", label},
          {"l2", l2},
          {"epochs", epochs},
          {"learningRate", learning_rate},
          {"tolerance", tolerance}};
}

StatusOr<TrainParams> ParseTrainParams(const nlohmann::json& params) {
  if (!params.is_object()) return Status::InvalidArgument("params: must be an object");
  for (const auto& [key, unused] : params.items()) {
    bool known = false;
    for (std::string_view k : kKnown) known = known || k == key;
    if (!known) {
      std::string list;
      for (std::string_view k : kKnown) list += (list.empty() ? "" : ", ") + std::string(k);
      return FieldError(key, "unknown parameter (known: " + list + ")");
    }
  }
  TrainParams p;

  const nlohmann::json* model = Member(params, "model");
  if (model == nullptr) return FieldError("model", "required (\"logistic\" or \"linear\")");
  if (*model == "logistic") {
    p.model = ModelKind::kLogistic;
  } else if (*model == "linear") {
    p.model = ModelKind::kLinear;
  } else {
    return FieldError("model", "must be \"logistic\" or \"linear\"");
  }

  const nlohmann::json* features = Member(params, "features");
  if (features == nullptr) return FieldError("features", "required");
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
    const std::string& name = f.get_ref<const std::string&>();
    if (!seen.insert(name).second) return FieldError(field, "'" + name + "' appears twice");
    p.features.push_back(name);
  }

  const nlohmann::json* label = Member(params, "label");
  if (label == nullptr) return FieldError("label", "required");
  if (!label->is_string() || label->get_ref<const std::string&>().empty()) {
    return FieldError("label", "must be a non-empty string");
  }
  p.label = label->get<std::string>();
  if (seen.contains(p.label)) {
    return FieldError("label", "'" + p.label + "' is also one of params.features");
  }

  AIDI_ASSIGN_OR_RETURN(p.l2, Number(params, "l2", 0.0, true, "must be a number >= 0"));
  AIDI_ASSIGN_OR_RETURN(p.learning_rate,
                        Number(params, "learningRate", 1.0, false, "must be a number > 0"));
  AIDI_ASSIGN_OR_RETURN(p.tolerance,
                        Number(params, "tolerance", 1e-8, false, "must be a number > 0"));

  if (const nlohmann::json* epochs = Member(params, "epochs")) {
    constexpr std::string_view kMessage = "must be an integer between 1 and 1000000";
    if (!epochs->is_number()) return FieldError("epochs", kMessage);
    double e = epochs->get<double>();
    if (!(e >= 1 && e <= 1e6) || e != std::floor(e)) return FieldError("epochs", kMessage);
    p.epochs = static_cast<int>(e);
  }
  return p;
}

StatusOr<TrainParams> ParseTrainParams(const nlohmann::ordered_json& params) {
  // Member order does not matter here; the plain json type is the one the parser reads.
  return ParseTrainParams(nlohmann::json::parse(params.dump()));
}

}  // namespace aidi::worker::ml
