#include "cuda-workers/ops/params.h"

#include <cmath>
#include <set>

namespace aidi::worker {
namespace {

const Json& Null() {
  static const Json null;
  return null;
}

const char* TypeOf(const Json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  return "null";
}

}  // namespace

StatusOr<Json> ParseParamsJson(std::string_view text) {
  if (text.empty()) return Json::object();
  try {
    Json parsed = Json::parse(text);
    if (!parsed.is_object() && !parsed.is_null()) {
      return Status::InvalidArgument(std::string("params: must be a JSON object, got ") +
                                     TypeOf(parsed));
    }
    return parsed.is_null() ? Json::object() : parsed;
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidArgument("params: invalid JSON at byte " + std::to_string(e.byte) + ": " +
                                   e.what());
  }
}

Params Params::At(std::string_view key) const {
  std::string path = path_ + "." + std::string(key);
  if (!value_->is_object()) return Params(Null(), std::move(path));
  auto it = value_->find(key);
  return Params(it == value_->end() ? Null() : *it, std::move(path));
}

Params Params::Index(size_t i) const {
  std::string path = path_ + "[" + std::to_string(i) + "]";
  if (!value_->is_array() || i >= value_->size()) return Params(Null(), std::move(path));
  return Params((*value_)[i], std::move(path));
}

Status Params::Error(std::string_view message) const {
  return Status::InvalidArgument(path_ + ": " + std::string(message));
}

Status Params::ExpectKeys(std::initializer_list<std::string_view> known) const {
  if (value_->is_null()) return Status::Ok();
  if (!value_->is_object()) return Error(std::string("must be an object, got ") + TypeOf(*value_));
  for (const auto& [key, unused] : value_->items()) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return At(key).Error("unknown parameter (known: " + list + ")");
    }
  }
  return Status::Ok();
}

StatusOr<std::string> Params::String(std::optional<std::string> fallback) const {
  if (value_->is_null()) {
    if (fallback) return *fallback;
    return Error("required");
  }
  if (!value_->is_string()) return Error(std::string("must be a string, got ") + TypeOf(*value_));
  return value_->get<std::string>();
}

StatusOr<double> Params::Number(std::optional<double> fallback) const {
  if (value_->is_null()) {
    if (fallback) return *fallback;
    return Error("required");
  }
  if (!value_->is_number()) return Error(std::string("must be a number, got ") + TypeOf(*value_));
  double v = value_->get<double>();
  if (!std::isfinite(v)) return Error("must be a finite number");
  return v;
}

StatusOr<int64_t> Params::Integer(std::optional<int64_t> fallback) const {
  if (value_->is_null()) {
    if (fallback) return *fallback;
    return Error("required");
  }
  if (value_->is_number_integer()) return value_->get<int64_t>();
  if (value_->is_number_float()) {
    double v = value_->get<double>();
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) {
      return static_cast<int64_t>(v);
    }
  }
  return Error(std::string("must be an integer, got ") +
               (value_->is_number() ? value_->dump() : TypeOf(*value_)));
}

StatusOr<bool> Params::Bool(std::optional<bool> fallback) const {
  if (value_->is_null()) {
    if (fallback) return *fallback;
    return Error("required");
  }
  if (!value_->is_boolean())
    return Error(std::string("must be true or false, got ") + TypeOf(*value_));
  return value_->get<bool>();
}

StatusOr<std::vector<std::string>> Params::Strings(bool required) const {
  std::vector<std::string> out;
  if (value_->is_null()) {
    if (required) return Error("required");
    return out;
  }
  if (!value_->is_array()) {
    return Error(std::string("must be an array of column names, got ") + TypeOf(*value_));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < value_->size(); ++i) {
    auto s = Index(i).String();
    if (!s.ok()) return s.status();
    if (s->empty()) return Index(i).Error("must not be empty");
    if (!seen.insert(*s).second) return Index(i).Error("'" + *s + "' is listed twice");
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace aidi::worker
