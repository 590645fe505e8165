// Reading optional members of API objects held as JSON: a missing member, a member of an
// object that is not an object, and (for StringField) a member of another type all read as
// empty, the way controllers treat absent optional fields. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace aidi::kube {

// object[key], or a null value.
inline const nlohmann::json& Field(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// object[key] when it is a string, else "".
inline std::string StringField(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json& v = Field(object, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace aidi::kube
