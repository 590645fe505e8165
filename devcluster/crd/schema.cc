// Mirrors, in order of use:
//  - pruning: k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning/algorithm.go
//  - defaulting: .../schema/defaulting/prunenulls.go and algorithm.go
//  - validation: k8s.io/kube-openapi/pkg/validation/validate (schema.go, type.go,
//    object_validator.go, slice_validator.go, schema_props.go, validator.go, values.go) with its
//    errors turned into field.Errors by apiextensions' kubeOpenAPIResultToFieldErrors
//    (pkg/apiserver/validation/validation.go), then .../schema/objectmeta/validation.go for
//    embedded resources and .../schema/listtype/validation.go for list-type sets and maps.
// Message texts come from kube-openapi's pkg/validation/errors/schema.go and apimachinery's
// pkg/util/validation/field/errors.go (1.32: "Too long: may not be more than N bytes").
#include "devcluster/crd/schema.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "devcluster/crd/formats.h"
#include "devcluster/crd/gofmt.h"
#include "devcluster/crd/regex.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace crd_internal {

struct SchemaNode {
  std::vector<std::string> types;  // empty: untyped; {"integer","string"} for int-or-string
  std::string format;              // after the apiserver drops unsupported formats
  bool nullable = false;
  bool preserve_unknown = false;
  bool embedded = false;
  std::map<std::string, std::unique_ptr<SchemaNode>> properties;
  std::unique_ptr<SchemaNode> items;
  bool has_additional = false;             // additionalProperties present (bool or schema)
  bool additional_allows = true;           // false for additionalProperties: false
  std::unique_ptr<SchemaNode> additional;  // additionalProperties as a schema
  std::vector<std::string> required;
  std::optional<json> default_value;
  std::optional<std::vector<json>> enum_values;
  std::optional<double> minimum, maximum, multiple_of;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::optional<int64_t> min_length, max_length, min_items, max_items;
  std::optional<int64_t> min_properties, max_properties;
  std::string pattern;
  std::optional<Regex> regex;
  std::vector<std::unique_ptr<SchemaNode>> all_of, any_of, one_of;
  std::unique_ptr<SchemaNode> not_;
  std::string list_type;
  std::vector<std::string> list_map_keys;

  bool HasType(std::string_view t) const {
    return std::find(types.begin(), types.end(), t) != types.end();
  }
  // The schema unknown keys of an object are checked against; null when there is none (then
  // pruning clears such values, as upstream's prune(v, nil) does).
  const SchemaNode* AdditionalSchema() const { return additional.get(); }
};

}  // namespace crd_internal

namespace {

using crd_internal::SchemaNode;
constexpr int kMaxDepth = StructuralSchema::kMaxDepth;
const std::set<std::string> kMetaFields = {"apiVersion", "kind", "metadata"};

// ---------------------------------------------------------------------------------------------
// Depth checks without recursion: inputs may nest far deeper than the stack allows.

bool DepthExceeds(const json& root, int limit, std::size_t* nodes = nullptr) {
  std::vector<std::pair<const json*, int>> stack{{&root, 1}};
  std::size_t count = 0;
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    ++count;
    if (!v->is_structured()) continue;
    if (d > limit) return true;
    for (const json& child : *v) stack.push_back({&child, d + 1});
  }
  if (nodes) *nodes = count;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Parsing.

class SchemaParser {
 public:
  Status Parse(const json& s, const std::string& path, int depth, SchemaNode* out) {
    if (depth > kMaxDepth)
      return Fail(path, "schema nests deeper than " + std::to_string(kMaxDepth) + " levels");
    if (s.is_null()) return Status::Ok();
    if (!s.is_object()) return Fail(path, "must be an object");
    AIDI_RETURN_IF_ERROR(ParseType(s, path, out));
    AIDI_RETURN_IF_ERROR(ParseFlags(s, path, out));
    AIDI_RETURN_IF_ERROR(ParseChildren(s, path, depth, out));
    AIDI_RETURN_IF_ERROR(ParseValueValidations(s, path, out));
    AIDI_RETURN_IF_ERROR(ParseComposition(s, path, depth, out));
    return ParseListType(s, path, out);
  }

 private:
  static Status Fail(const std::string& path, const std::string& what) {
    return Status::InvalidArgument(path + ": " + what);
  }

  static Status ParseType(const json& s, const std::string& path, SchemaNode* out) {
    std::string type;
    if (s.contains("type")) {
      if (!s["type"].is_string()) return Fail(path + ".type", "must be a string");
      type = s["type"].get<std::string>();
      static const std::set<std::string> kTypes = {"array",  "boolean", "integer",
                                                   "number", "object",  "string"};
      if (!type.empty() && !kTypes.count(type)) {
        return Fail(path + ".type", "Unsupported value: " + gofmt::Quote(type) +
                                        ": supported values: \"array\", \"boolean\", "
                                        "\"integer\", \"number\", \"object\", \"string\"");
      }
      if (!type.empty()) out->types = {type};
    }
    if (s.contains("format")) {
      if (!s["format"].is_string()) return Fail(path + ".format", "must be a string");
      out->format = formats::Effective(type, s["format"].get<std::string>());
    }
    return Status::Ok();
  }

  static Status Bool(const json& s, const char* key, const std::string& path, bool* out) {
    if (!s.contains(key)) return Status::Ok();
    if (!s[key].is_boolean()) return Fail(path + "." + key, "must be a boolean");
    *out = s[key].get<bool>();
    return Status::Ok();
  }

  static Status ParseFlags(const json& s, const std::string& path, SchemaNode* out) {
    bool int_or_string = false;
    AIDI_RETURN_IF_ERROR(Bool(s, "nullable", path, &out->nullable));
    AIDI_RETURN_IF_ERROR(
        Bool(s, "x-kubernetes-preserve-unknown-fields", path, &out->preserve_unknown));
    AIDI_RETURN_IF_ERROR(Bool(s, "x-kubernetes-embedded-resource", path, &out->embedded));
    AIDI_RETURN_IF_ERROR(Bool(s, "x-kubernetes-int-or-string", path, &int_or_string));
    bool unique_items = false;
    AIDI_RETURN_IF_ERROR(Bool(s, "uniqueItems", path, &unique_items));
    if (unique_items) {
      return Fail(path + ".uniqueItems",
                  "Forbidden: uniqueItems cannot be set to true since the runtime complexity "
                  "becomes quadratic");
    }
    if (int_or_string) out->types = {"integer", "string"};
    if (s.contains("default")) out->default_value = s["default"];
    return Status::Ok();
  }

  Status ParseChildren(const json& s, const std::string& path, int depth, SchemaNode* out) {
    if (s.contains("properties")) {
      const json& props = s["properties"];
      if (!props.is_object()) return Fail(path + ".properties", "must be an object");
      for (auto it = props.begin(); it != props.end(); ++it) {
        auto child = std::make_unique<SchemaNode>();
        std::string p = path + ".properties[" + it.key() + "]";
        if (!it.value().is_object()) return Fail(p, "must be an object");
        AIDI_RETURN_IF_ERROR(Parse(it.value(), p, depth + 1, child.get()));
        out->properties[it.key()] = std::move(child);
      }
    }
    if (s.contains("items")) {
      if (!s["items"].is_object()) {
        return Fail(path + ".items", "must be a schema object and not an array");
      }
      out->items = std::make_unique<SchemaNode>();
      AIDI_RETURN_IF_ERROR(Parse(s["items"], path + ".items", depth + 1, out->items.get()));
    }
    if (s.contains("additionalProperties")) {
      const json& ap = s["additionalProperties"];
      out->has_additional = true;
      if (ap.is_boolean()) {
        out->additional_allows = ap.get<bool>();
      } else if (ap.is_object()) {
        out->additional = std::make_unique<SchemaNode>();
        AIDI_RETURN_IF_ERROR(
            Parse(ap, path + ".additionalProperties", depth + 1, out->additional.get()));
      } else {
        return Fail(path + ".additionalProperties", "must be a boolean or an object");
      }
    }
    if (s.contains("required")) {
      const json& req = s["required"];
      if (!req.is_array()) return Fail(path + ".required", "must be an array of strings");
      for (const json& r : req) {
        if (!r.is_string()) return Fail(path + ".required", "must be an array of strings");
        out->required.push_back(r.get<std::string>());
      }
    }
    return Status::Ok();
  }

  static Status Number(const json& s, const char* key, const std::string& path,
                       std::optional<double>* out) {
    if (!s.contains(key)) return Status::Ok();
    if (!s[key].is_number()) return Fail(path + "." + key, "must be a number");
    *out = gofmt::AsFloat64(s[key]);
    return Status::Ok();
  }

  static Status Count(const json& s, const char* key, const std::string& path,
                      std::optional<int64_t>* out) {
    if (!s.contains(key)) return Status::Ok();
    int64_t v;
    if (!gofmt::AsGoInt64(s[key], &v) || v < 0) {
      return Fail(path + "." + key, "must be a non-negative integer");
    }
    *out = v;
    return Status::Ok();
  }

  static Status ParseValueValidations(const json& s, const std::string& path, SchemaNode* out) {
    AIDI_RETURN_IF_ERROR(Number(s, "minimum", path, &out->minimum));
    AIDI_RETURN_IF_ERROR(Number(s, "maximum", path, &out->maximum));
    AIDI_RETURN_IF_ERROR(Number(s, "multipleOf", path, &out->multiple_of));
    if (out->multiple_of && !(*out->multiple_of > 0)) {
      return Fail(path + ".multipleOf", "must be greater than zero");
    }
    AIDI_RETURN_IF_ERROR(Bool(s, "exclusiveMinimum", path, &out->exclusive_minimum));
    AIDI_RETURN_IF_ERROR(Bool(s, "exclusiveMaximum", path, &out->exclusive_maximum));
    AIDI_RETURN_IF_ERROR(Count(s, "minLength", path, &out->min_length));
    AIDI_RETURN_IF_ERROR(Count(s, "maxLength", path, &out->max_length));
    AIDI_RETURN_IF_ERROR(Count(s, "minItems", path, &out->min_items));
    AIDI_RETURN_IF_ERROR(Count(s, "maxItems", path, &out->max_items));
    AIDI_RETURN_IF_ERROR(Count(s, "minProperties", path, &out->min_properties));
    AIDI_RETURN_IF_ERROR(Count(s, "maxProperties", path, &out->max_properties));
    if (s.contains("enum")) {
      if (!s["enum"].is_array()) return Fail(path + ".enum", "must be an array");
      out->enum_values = std::vector<json>(s["enum"].begin(), s["enum"].end());
    }
    if (s.contains("pattern")) {
      if (!s["pattern"].is_string()) return Fail(path + ".pattern", "must be a string");
      out->pattern = s["pattern"].get<std::string>();
      auto re = Regex::Compile(out->pattern);
      if (!re.ok()) {
        return Fail(path + ".pattern",
                    "must be a valid regular expression, but isn't: " + re.status().message());
      }
      out->regex = std::move(re).value();
    }
    return Status::Ok();
  }

  Status ParseList(const json& s, const char* key, const std::string& path, int depth,
                   std::vector<std::unique_ptr<SchemaNode>>* out) {
    if (!s.contains(key)) return Status::Ok();
    if (!s[key].is_array()) return Fail(path + "." + key, "must be an array");
    for (std::size_t i = 0; i < s[key].size(); ++i) {
      auto child = std::make_unique<SchemaNode>();
      std::string p = path + "." + key + "[" + std::to_string(i) + "]";
      if (!s[key][i].is_object()) return Fail(p, "must be an object");
      AIDI_RETURN_IF_ERROR(Parse(s[key][i], p, depth + 1, child.get()));
      out->push_back(std::move(child));
    }
    return Status::Ok();
  }

  Status ParseComposition(const json& s, const std::string& path, int depth, SchemaNode* out) {
    AIDI_RETURN_IF_ERROR(ParseList(s, "allOf", path, depth, &out->all_of));
    AIDI_RETURN_IF_ERROR(ParseList(s, "anyOf", path, depth, &out->any_of));
    AIDI_RETURN_IF_ERROR(ParseList(s, "oneOf", path, depth, &out->one_of));
    if (s.contains("not")) {
      if (!s["not"].is_object()) return Fail(path + ".not", "must be an object");
      out->not_ = std::make_unique<SchemaNode>();
      AIDI_RETURN_IF_ERROR(Parse(s["not"], path + ".not", depth + 1, out->not_.get()));
    }
    return Status::Ok();
  }

  static Status ParseListType(const json& s, const std::string& path, SchemaNode* out) {
    if (s.contains("x-kubernetes-list-type")) {
      const json& lt = s["x-kubernetes-list-type"];
      if (!lt.is_string() || (lt != "atomic" && lt != "set" && lt != "map")) {
        return Fail(path + ".x-kubernetes-list-type",
                    "Unsupported value: " + gofmt::ValueV(lt) +
                        ": supported values: \"atomic\", \"set\", \"map\"");
      }
      out->list_type = lt.get<std::string>();
    }
    if (s.contains("x-kubernetes-list-map-keys")) {
      const json& keys = s["x-kubernetes-list-map-keys"];
      if (!keys.is_array()) {
        return Fail(path + ".x-kubernetes-list-map-keys", "must be an array of strings");
      }
      for (const json& k : keys) {
        if (!k.is_string()) {
          return Fail(path + ".x-kubernetes-list-map-keys", "must be an array of strings");
        }
        out->list_map_keys.push_back(k.get<std::string>());
      }
    }
    if (out->list_type == "map" && out->list_map_keys.empty()) {
      return Fail(path + ".x-kubernetes-list-map-keys",
                  "Required value: must not be empty if x-kubernetes-list-type is map");
    }
    return Status::Ok();
  }
};

// ---------------------------------------------------------------------------------------------
// Go value semantics on unstructured JSON.

enum class GoKind { kNull, kBool, kString, kInt, kFloat, kArray, kObject };

GoKind KindOf(const json& v) {
  int64_t i;
  switch (v.type()) {
    case json::value_t::null:
      return GoKind::kNull;
    case json::value_t::boolean:
      return GoKind::kBool;
    case json::value_t::string:
      return GoKind::kString;
    case json::value_t::array:
      return GoKind::kArray;
    case json::value_t::object:
      return GoKind::kObject;
    default:
      return gofmt::AsGoInt64(v, &i) ? GoKind::kInt : GoKind::kFloat;
  }
}

// Go's int64(f) on amd64: out-of-range and NaN values become math.MinInt64.
int64_t GoInt64(double f) {
  if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(f);
}

// reflect.DeepEqual on values decoded by Go: int64 and float64 never compare equal.
bool DeepEqual(const json& a, const json& b, int depth = 0) {
  if (depth > kMaxDepth + 2) return false;
  GoKind ka = KindOf(a), kb = KindOf(b);
  if (ka != kb) return false;
  int64_t ia, ib;
  switch (ka) {
    case GoKind::kInt:
      gofmt::AsGoInt64(a, &ia);
      gofmt::AsGoInt64(b, &ib);
      return ia == ib;
    case GoKind::kFloat:
      return gofmt::AsFloat64(a) == gofmt::AsFloat64(b);
    case GoKind::kArray:
      if (a.size() != b.size()) return false;
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!DeepEqual(a[i], b[i], depth + 1)) return false;
      }
      return true;
    case GoKind::kObject: {
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        auto jt = b.find(it.key());
        if (jt == b.end() || !DeepEqual(it.value(), *jt, depth + 1)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

// kube-openapi's enum check: the value is converted to each enum value's Go type first
// (reflect Convert), so 1.5 matches an enum of 1 and 65 matches "A", as upstream.
bool EnumMatches(const json& data, const json& enum_value) {
  GoKind kd = KindOf(data), ke = KindOf(enum_value);
  if (kd == GoKind::kNull || ke == GoKind::kNull) return false;
  int64_t i;
  if (ke == GoKind::kFloat && kd == GoKind::kInt) {
    gofmt::AsGoInt64(data, &i);
    return static_cast<double>(i) == gofmt::AsFloat64(enum_value);
  }
  if (ke == GoKind::kInt && kd == GoKind::kFloat) {
    double f = gofmt::AsFloat64(data);
    int64_t e;
    gofmt::AsGoInt64(enum_value, &e);
    return GoInt64(f) == e;
  }
  if (ke == GoKind::kString && kd == GoKind::kInt) {  // string(rune(i))
    gofmt::AsGoInt64(data, &i);
    char32_t r = (i < 0 || i > 0x10FFFF || (i >= 0xD800 && i <= 0xDFFF)) ? char32_t{0xFFFD}
                                                                         : static_cast<char32_t>(i);
    std::string s;
    gofmt::AppendUtf8(r, &s);
    return s == enum_value.get_ref<const std::string&>();
  }
  return DeepEqual(data, enum_value);
}

// swag.IsFloat64AJSONInteger.
bool IsJsonInteger(double f) {
  constexpr double kMaxJsonFloat = 9007199254740991.0;  // 1<<53 - 1
  if (!std::isfinite(f) || f < -kMaxJsonFloat || f > kMaxJsonFloat) return false;
  double g = std::trunc(f);
  if (f == g) return true;
  double diff = std::fabs(f - g);
  if (g == 0) return diff < 1e-9 * std::numeric_limits<double>::denorm_min();
  return diff / std::min(std::fabs(f) + std::fabs(g), std::numeric_limits<double>::max()) < 1e-9;
}

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation (kube-openapi's SchemaValidator), reporting as kubeOpenAPIResultToFieldErrors.

class Validator {
 public:
  // `budget` counts the values left to visit; shared with the validators of sub-schemas.
  explicit Validator(int64_t* budget) : budget_(budget) {}

  std::vector<FieldError> errors;

  void Value(const SchemaNode& s, const json& x, const std::string& path) {
    if (--*budget_ < 0) return;  // Validate reports the exhausted budget once
    if (x.is_null()) {           // upstream runs only the type and enum validators on null
      CheckType(s, x, path);
      CheckEnum(s, x, path);
      return;
    }
    CheckType(s, x, path);
    CheckComposition(s, x, path);
    if (x.is_string()) {
      CheckString(s, x.get_ref<const std::string&>(), path);
      CheckFormat(s, x.get_ref<const std::string&>(), path);
    }
    if (x.is_number()) CheckNumber(s, x, path);
    if (x.is_array()) CheckArray(s, x, path);
    CheckEnum(s, x, path);
    if (x.is_object()) CheckObject(s, x, path);
  }

 private:
  int64_t* budget_;

  // kube-openapi names fields "spec.a", "spec.list[0]"; apiextensions trims a leading dot.
  static std::string Field(const std::string& path) {
    if (path.empty() || path == ".") return "";
    return path[0] == '.' ? path.substr(1) : path;
  }
  void Add(const char* reason, const std::string& path, std::string message) {
    errors.push_back(FieldError{reason, Field(path), std::move(message)});
  }
  void Invalid(const std::string& path, const json& value, const std::string& detail) {
    Add("FieldValueInvalid", path, "Invalid value: " + gofmt::ValueV(value) + ": " + detail);
  }
  void TypeInvalid(const std::string& path, const std::string& type, const std::string& got) {
    Add("FieldValueTypeInvalid", path,
        "Invalid value: " + gofmt::Quote(got) + ": " + path + " in body must be of type " + type +
            ": " + gofmt::Quote(got));
  }
  // Errors kube-openapi creates with errors.New are not *Validation errors: they land on the
  // nil field path with an empty value.
  void Composite(const std::string& message) {
    errors.push_back(FieldError{"FieldValueInvalid", "", "Invalid value: \"\": " + message});
  }

  void CheckType(const SchemaNode& s, const json& x, const std::string& path) {
    if (s.types.empty() && s.format.empty()) return;
    std::string types = Join(s.types, ",");
    if (x.is_null()) {
      if (!s.types.empty() && !s.nullable) TypeInvalid(path, types, "null");
      return;
    }
    std::string sch_type, data_format;
    switch (KindOf(x)) {
      case GoKind::kBool:
        sch_type = "boolean";
        break;
      case GoKind::kString:
        sch_type = "string";
        break;
      case GoKind::kInt:
        sch_type = "integer";
        data_format = "int64";
        break;
      case GoKind::kFloat:
        sch_type = "number";
        data_format = "float64";
        break;
      case GoKind::kArray:
        sch_type = "array";
        break;
      default:
        sch_type = "object";
        break;
    }
    bool string_or_slice = x.is_string() || x.is_array();
    bool float_int =
        sch_type == "number" && IsJsonInteger(gofmt::AsFloat64(x)) && s.HasType("integer");
    bool int_float = sch_type == "integer" && s.HasType("number");
    if (!string_or_slice && !s.format.empty() &&
        !(s.HasType(sch_type) || data_format == s.format || float_int || int_float)) {
      TypeInvalid(path, s.format, data_format);
      return;
    }
    if (!(s.HasType("number") || s.HasType("integer")) && !s.format.empty() && string_or_slice) {
      return;
    }
    if (!(s.HasType(sch_type) || float_int || int_float)) TypeInvalid(path, types, sch_type);
  }

  void CheckComposition(const SchemaNode& s, const json& x, const std::string& path) {
    if (!s.any_of.empty()) {
      std::optional<std::vector<FieldError>> best;
      bool ok = false;
      for (const auto& sub : s.any_of) {
        Validator v(budget_);
        v.Value(*sub, x, path);
        if (v.errors.empty()) {
          ok = true;
          break;
        }
        // Upstream keeps the alternative with the most passing checks; fewest errors is close.
        if (!best || v.errors.size() < best->size()) best = std::move(v.errors);
      }
      if (!ok) {
        Composite(gofmt::Quote(path) + " must validate at least one schema (anyOf)");
        errors.insert(errors.end(), best->begin(), best->end());
      }
    }
    if (!s.one_of.empty()) {
      std::optional<std::vector<FieldError>> best;
      int valid = 0;
      for (const auto& sub : s.one_of) {
        Validator v(budget_);
        v.Value(*sub, x, path);
        if (v.errors.empty()) {
          ++valid;
          best.reset();
        } else if (valid == 0 && (!best || v.errors.size() < best->size())) {
          best = std::move(v.errors);
        }
      }
      if (valid != 1) {
        std::string more = valid == 0 ? "Found none valid"
                                      : "Found " + std::to_string(valid) + " valid alternatives";
        Composite(gofmt::Quote(path) + " must validate one and only one schema (oneOf). " + more);
        if (best) errors.insert(errors.end(), best->begin(), best->end());
      }
    }
    if (!s.all_of.empty()) {
      std::size_t valid = 0;
      for (const auto& sub : s.all_of) {
        Validator v(budget_);
        v.Value(*sub, x, path);
        if (v.errors.empty()) ++valid;
        errors.insert(errors.end(), v.errors.begin(), v.errors.end());
      }
      if (valid != s.all_of.size()) {
        Composite(gofmt::Quote(path) + " must validate all the schemas (allOf)" +
                  (valid == 0 ? ". None validated" : ""));
      }
    }
    if (s.not_) {
      Validator v(budget_);
      v.Value(*s.not_, x, path);
      if (v.errors.empty()) Composite(gofmt::Quote(path) + " must not validate the schema (not)");
    }
  }

  // Upstream stops at the first failing string check.
  void CheckString(const SchemaNode& s, const std::string& v, const std::string& path) {
    int64_t runes = static_cast<int64_t>(gofmt::RuneCount(v));
    if (s.max_length && runes > *s.max_length) {
      std::string unit = *s.max_length == 1 ? "byte" : "bytes";
      Add("FieldValueTooLong", path,
          "Too long: may not be more than " + std::to_string(*s.max_length) + " " + unit);
      return;
    }
    if (s.min_length && runes < *s.min_length) {
      Invalid(
          path, v,
          path + " in body should be at least " + std::to_string(*s.min_length) + " chars long");
      return;
    }
    if (s.regex && !s.regex->Search(v)) {
      Invalid(path, v, path + " in body should match '" + s.pattern + "'");
    }
  }

  void CheckFormat(const SchemaNode& s, const std::string& v, const std::string& path) {
    if (s.format.empty() || !formats::IsKnownStringFormat(s.format)) return;
    if (formats::Validate(s.format, v)) return;
    Add("FieldValueTypeInvalid", path,
        "Invalid value: " + gofmt::Quote(v) + ": " + path + " in body must be of type " + s.format +
            ": " + gofmt::Quote(v));
  }

  void CheckNumber(const SchemaNode& s, const json& x, const std::string& path) {
    int64_t i = 0;
    bool is_int = gofmt::AsGoInt64(x, &i);
    double f = gofmt::AsFloat64(x);
    // Integers compare against the boundary converted to int64, as MinimumNativeType does.
    auto bound = [&](double b) { return is_int ? std::to_string(GoInt64(b)) : gofmt::FloatV(b); };
    auto less = [&](double b) { return is_int ? i < GoInt64(b) : f < b; };
    auto greater = [&](double b) { return is_int ? i > GoInt64(b) : f > b; };
    if (s.multiple_of) {
      double m = *s.multiple_of;
      bool ok;
      std::string shown;
      // Integers use MultipleOfInt with the factor truncated to int64 (a factor below 1 would
      // divide by zero upstream; the float check stands in).
      int64_t mi = GoInt64(m);
      if (is_int && mi > 0) {
        ok = i % mi == 0;
        shown = std::to_string(mi);
      } else {
        ok = IsJsonInteger(m < 1 ? 1 / m * f : f / m);
        shown = gofmt::FloatV(m);
      }
      if (!ok) Invalid(path, x, path + " in body should be a multiple of " + shown);
    }
    if (s.minimum) {
      double b = *s.minimum;
      bool fail = s.exclusive_minimum ? !greater(b) : less(b);
      if (fail) {
        Invalid(path, x,
                path + " in body should be greater than " +
                    std::string(s.exclusive_minimum ? "" : "or equal to ") + bound(b));
      }
    }
    if (s.maximum) {
      double b = *s.maximum;
      bool fail = s.exclusive_maximum ? !less(b) : greater(b);
      if (fail) {
        Invalid(path, x,
                path + " in body should be less than " +
                    std::string(s.exclusive_maximum ? "" : "or equal to ") + bound(b));
      }
    }
  }

  void CheckArray(const SchemaNode& s, const json& x, const std::string& path) {
    if (s.items) {
      for (std::size_t i = 0; i < x.size(); ++i) {
        Value(*s.items, x[i], path + "[" + std::to_string(i) + "]");
      }
    }
    int64_t size = static_cast<int64_t>(x.size());
    if (s.min_items && size < *s.min_items) {
      Invalid(path, json(size),
              path + " in body should have at least " + std::to_string(*s.min_items) + " items");
    }
    if (s.max_items && size > *s.max_items) {
      Add("FieldValueTooMany", path,
          "Too many: " + std::to_string(size) + ": must have at most " +
              std::to_string(*s.max_items) + " items");
    }
  }

  void CheckEnum(const SchemaNode& s, const json& x, const std::string& path) {
    if (!s.enum_values || s.enum_values->empty()) return;
    for (const json& e : *s.enum_values) {
      if (EnumMatches(x, e)) return;
    }
    std::string msg = "Unsupported value: " + gofmt::ValueV(x) + ": supported values: ";
    bool first = true;
    for (const json& e : *s.enum_values) {
      if (!first) msg += ", ";
      first = false;
      msg += gofmt::Quote(e.is_string() ? e.get<std::string>() : gofmt::JsonMarshal(e));
    }
    Add("FieldValueNotSupported", path, msg);
  }

  void CheckObject(const SchemaNode& s, const json& x, const std::string& path) {
    int64_t n = static_cast<int64_t>(x.size());
    if (s.min_properties && n < *s.min_properties) {
      Invalid(path, json(n),
              path + " in body should have at least " + std::to_string(*s.min_properties) +
                  " properties");
      return;  // upstream returns before looking at any property
    }
    if (s.max_properties && n > *s.max_properties) {
      Add("FieldValueTooMany", path,
          "Too many: " + std::to_string(n) + ": must have at most " +
              std::to_string(*s.max_properties) + " items");
      return;
    }
    for (auto it = x.begin(); it != x.end(); ++it) {
      if (s.properties.count(it.key())) continue;
      if (s.has_additional && !s.additional_allows) {
        Invalid(path, json(it.key()), path + "." + it.key() + " in body is a forbidden property");
      } else if (s.additional) {
        Value(*s.additional, it.value(), path + "." + it.key());
      }
    }
    for (const auto& [name, prop] : s.properties) {
      auto it = x.find(name);
      if (it != x.end()) Value(*prop, *it, path.empty() ? name : path + "." + name);
    }
    for (const std::string& r : s.required) {
      if (!x.contains(r)) Add("FieldValueRequired", path + "." + r, "Required value");
    }
  }
};

// ---------------------------------------------------------------------------------------------
// field.Path rendering for the objectmeta and listtype passes: Child "a.b", Index "[0]",
// Key "[k]".

std::string Child(const std::string& p, const std::string& name) {
  return p.empty() ? name : p + "." + name;
}
std::string Index(const std::string& p, std::size_t i) { return p + "[" + std::to_string(i) + "]"; }
std::string Key(const std::string& p, const std::string& k) { return p + "[" + k + "]"; }

// utilvalidation.IsDNS1035Label on the lower-cased kind.
std::string Dns1035Errors(const std::string& kind) {
  std::string v = kind;
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back("must be no more than 63 characters");
  bool ok = !v.empty() && std::isalpha(static_cast<unsigned char>(v[0])) &&
            std::isalnum(static_cast<unsigned char>(v.back()));
  for (char c : v) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      ok = false;
    }
  }
  if (!ok) {
    errs.push_back(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')");
  }
  return Join(errs, ",");
}

void ValidateEmbedded(const std::string& path, const json& x, std::vector<FieldError>* errs) {
  auto invalid = [&](const std::string& field, const json& v, const std::string& detail) {
    errs->push_back(
        {"FieldValueInvalid", field, "Invalid value: " + gofmt::ValueV(v) + ": " + detail});
  };
  if (!x.contains("apiVersion")) {
    errs->push_back({"FieldValueRequired", Child(path, "apiVersion"), "Required value"});
  }
  if (!x.contains("kind")) {
    errs->push_back({"FieldValueRequired", Child(path, "kind"), "Required value"});
  }
  if (x.contains("apiVersion")) {
    const json& v = x["apiVersion"];
    std::string f = Child(path, "apiVersion");
    if (!v.is_string()) {
      invalid(f, v, "must be a string");
    } else if (v.get_ref<const std::string&>().empty()) {
      invalid(f, v, "must not be empty");
    } else if (std::count(v.get_ref<const std::string&>().begin(),
                          v.get_ref<const std::string&>().end(), '/') > 1) {
      invalid(f, v, "unexpected GroupVersion string: " + v.get<std::string>());
    }
  }
  if (x.contains("kind")) {
    const json& v = x["kind"];
    std::string f = Child(path, "kind");
    if (!v.is_string()) {
      invalid(f, v, "must be a string");
    } else if (v.get_ref<const std::string&>().empty()) {
      invalid(f, v, "must not be empty");
    } else if (std::string e = Dns1035Errors(v.get<std::string>()); !e.empty()) {
      invalid(f, v, "may have mixed case, but should otherwise match: " + e);
    }
  }
}

void ValidateEmbeddedTree(const SchemaNode* s, const json& x, const std::string& path, bool root,
                          std::vector<FieldError>* errs) {
  if (!s) return;
  if (x.is_object()) {
    if (s->embedded && !root) ValidateEmbedded(path, x, errs);
    for (auto it = x.begin(); it != x.end(); ++it) {
      auto p = s->properties.find(it.key());
      if (p != s->properties.end()) {
        ValidateEmbeddedTree(p->second.get(), it.value(), Child(path, it.key()), false, errs);
      } else if (s->has_additional) {
        ValidateEmbeddedTree(s->AdditionalSchema(), it.value(), Key(path, it.key()), false, errs);
      }
    }
  } else if (x.is_array()) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      ValidateEmbeddedTree(s->items.get(), x[i], Index(path, i), false, errs);
    }
  }
}

// listtype.validateListSet: indexes of the first repeat of each value. Scalars compare by Go
// value (1 and 1.0 differ), compounds by their JSON encoding.
std::vector<std::size_t> NonUnique(const std::vector<json>& items) {
  std::map<std::string, int> seen;
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const json& x = items[i];
    std::string key;
    if (x.is_discarded()) {
      if (++seen["u"] == 2) out.push_back(i);
      continue;
    }
    switch (KindOf(x)) {
      case GoKind::kObject:
      case GoKind::kArray:
        key = "c" + gofmt::JsonMarshal(x);
        break;
      case GoKind::kInt:
        key = "i" + gofmt::JsonMarshal(x);
        break;
      case GoKind::kFloat:
        key = "f" + gofmt::JsonMarshal(x);
        break;
      case GoKind::kString:
        key = "s" + x.get<std::string>();
        break;
      case GoKind::kBool:
        key = x.get<bool>() ? "bt" : "bf";
        break;
      case GoKind::kNull:
        key = "n";
        break;
    }
    if (++seen[key] == 2) out.push_back(i);
  }
  return out;
}

void ValidateListMap(const SchemaNode& s, const json& x, const std::string& path,
                     std::vector<FieldError>* errs) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!x[i].is_null() && !x[i].is_object()) {
      errs->push_back({"FieldValueInvalid", Index(path, i),
                       "Invalid value: " + gofmt::ValueV(x[i]) +
                           ": must be an object for an array of list-type map"});
      return;
    }
  }
  if (x.size() <= 1) return;
  // An absent key (or a null element) is a value of its own: json's "discarded" stands in for
  // upstream's unspecifiedKeyValue.
  std::vector<json> keys;
  for (const json& e : x) {
    if (s.list_map_keys.size() == 1) {
      const std::string& k = s.list_map_keys[0];
      keys.push_back(e.is_object() && e.contains(k) ? e[k] : json(json::value_t::discarded));
    } else {
      json key = json::object();
      if (e.is_object()) {
        for (const std::string& k : s.list_map_keys) {
          if (e.contains(k)) key[k] = e[k];
        }
      }
      keys.push_back(key);
    }
  }
  for (std::size_t i : NonUnique(keys)) {
    json shown = json::object();
    if (s.list_map_keys.size() > 1) {
      shown = keys[i];
    } else if (!keys[i].is_discarded()) {
      shown[s.list_map_keys[0]] = keys[i];
    }
    errs->push_back(
        {"FieldValueDuplicate", Index(path, i), "Duplicate value: " + gofmt::ValueV(shown)});
  }
}

void ValidateListTypes(const SchemaNode* s, const json& x, const std::string& path,
                       std::vector<FieldError>* errs) {
  if (!s) return;
  if (x.is_object()) {
    for (auto it = x.begin(); it != x.end(); ++it) {
      if (s->additional)
        ValidateListTypes(s->additional.get(), it.value(), Key(path, it.key()), errs);
    }
    for (auto it = x.begin(); it != x.end(); ++it) {
      auto p = s->properties.find(it.key());
      if (p != s->properties.end()) {
        ValidateListTypes(p->second.get(), it.value(), Child(path, it.key()), errs);
      }
    }
  } else if (x.is_array()) {
    if (s->list_type == "set") {
      std::vector<json> items(x.begin(), x.end());
      for (std::size_t i : NonUnique(items)) {
        errs->push_back(
            {"FieldValueDuplicate", Index(path, i), "Duplicate value: " + gofmt::ValueV(x[i])});
      }
    } else if (s->list_type == "map") {
      ValidateListMap(*s, x, path, errs);
    }
    for (std::size_t i = 0; i < x.size(); ++i) {
      ValidateListTypes(s->items.get(), x[i], Index(path, i), errs);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Pruning.

class Pruner {
 public:
  std::vector<std::string> pruned;

  void Prune(json& x, const SchemaNode* s, bool embedded, const std::string& path, int depth) {
    if (depth > kMaxDepth) return;
    if (s && s->preserve_unknown) {
      SkipPrune(x, s, embedded, path, depth);
      return;
    }
    if (x.is_object()) {
      if (!s) {
        for (auto it = x.begin(); it != x.end(); ++it) pruned.push_back(Child(path, it.key()));
        x = json::object();
        return;
      }
      std::vector<std::string> drop;
      for (auto it = x.begin(); it != x.end(); ++it) {
        const std::string& k = it.key();
        if (embedded && kMetaFields.count(k)) continue;
        auto p = s->properties.find(k);
        if (p != s->properties.end()) {
          Prune(it.value(), p->second.get(), p->second->embedded, Child(path, k), depth + 1);
        } else if (s->has_additional) {
          const SchemaNode* a = s->AdditionalSchema();
          Prune(it.value(), a, a && a->embedded, Child(path, k), depth + 1);
        } else {
          if (!kMetaFields.count(k) || !path.empty()) pruned.push_back(Child(path, k));
          drop.push_back(k);
        }
      }
      for (const std::string& k : drop) x.erase(k);
    } else if (x.is_array()) {
      const SchemaNode* items = s ? s->items.get() : nullptr;
      for (std::size_t i = 0; i < x.size(); ++i) {
        Prune(x[i], items, items && items->embedded, Index(path, i), depth + 1);
      }
    }
  }

 private:
  void SkipPrune(json& x, const SchemaNode* s, bool embedded, const std::string& path, int depth) {
    if (!s || depth > kMaxDepth) return;
    if (x.is_object()) {
      for (auto it = x.begin(); it != x.end(); ++it) {
        const std::string& k = it.key();
        if (embedded && kMetaFields.count(k)) continue;
        auto p = s->properties.find(k);
        if (p != s->properties.end()) {
          Prune(it.value(), p->second.get(), p->second->embedded, Child(path, k), depth + 1);
        } else if (s->has_additional) {
          const SchemaNode* a = s->AdditionalSchema();
          Prune(it.value(), a, a && a->embedded, Child(path, k), depth + 1);
        }
      }
    } else if (x.is_array()) {
      const SchemaNode* items = s->items.get();
      for (std::size_t i = 0; i < x.size(); ++i) {
        SkipPrune(x[i], items, items && items->embedded, Index(path, i), depth + 1);
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Defaulting.

const SchemaNode* SchemaForField(const SchemaNode* s, const std::string& field) {
  if (!s) return nullptr;
  auto p = s->properties.find(field);
  if (p != s->properties.end()) return p->second.get();
  return s->AdditionalSchema();
}

void PruneNonNullableNulls(json& x, const SchemaNode* s, int depth) {
  if (depth > kMaxDepth) return;
  if (x.is_object()) {
    std::vector<std::string> drop;
    for (auto it = x.begin(); it != x.end(); ++it) {
      const SchemaNode* f = SchemaForField(s, it.key());
      if (it.value().is_null() && f && !f->nullable && !f->default_value) {
        drop.push_back(it.key());
      } else {
        PruneNonNullableNulls(it.value(), f, depth + 1);
      }
    }
    for (const std::string& k : drop) x.erase(k);
  } else if (x.is_array()) {
    const SchemaNode* items = s ? s->items.get() : nullptr;
    for (json& e : x) PruneNonNullableNulls(e, items, depth + 1);
  }
}

bool IsNonNullableNull(const json& x, const SchemaNode* s) {
  return x.is_null() && s && !s->nullable;
}

void Default(json& x, const SchemaNode* s, int depth) {
  if (!s || depth > kMaxDepth) return;
  if (x.is_object()) {
    for (const auto& [name, prop] : s->properties) {
      if (!prop->default_value) continue;
      auto it = x.find(name);
      if (it == x.end() || IsNonNullableNull(*it, prop.get())) x[name] = *prop->default_value;
    }
    for (auto it = x.begin(); it != x.end(); ++it) {
      auto p = s->properties.find(it.key());
      if (p != s->properties.end()) {
        Default(it.value(), p->second.get(), depth + 1);
      } else if (s->has_additional) {
        const SchemaNode* a = s->AdditionalSchema();
        if (IsNonNullableNull(it.value(), a) && a->default_value) it.value() = *a->default_value;
        Default(it.value(), a, depth + 1);
      }
    }
  } else if (x.is_array()) {
    const SchemaNode* items = s->items.get();
    for (json& e : x) {
      if (IsNonNullableNull(e, items) && items->default_value) e = *items->default_value;
      Default(e, items, depth + 1);
    }
  }
}

}  // namespace

StatusOr<StructuralSchema> StructuralSchema::Parse(const json& openapi_v3_schema) {
  // Checked before anything recurses over (or copies) the document.
  if (DepthExceeds(openapi_v3_schema, 4 * kMaxDepth)) {
    return Status::InvalidArgument("openAPIV3Schema: nests deeper than " +
                                   std::to_string(4 * kMaxDepth) + " levels");
  }
  auto root = std::make_shared<SchemaNode>();
  SchemaParser parser;
  AIDI_RETURN_IF_ERROR(parser.Parse(openapi_v3_schema, "openAPIV3Schema", 0, root.get()));
  StructuralSchema out;
  out.raw_ = openapi_v3_schema.is_null() ? json::object() : openapi_v3_schema;
  out.root_ = std::move(root);
  return out;
}

std::vector<FieldError> StructuralSchema::Validate(const json& object) const {
  std::size_t nodes = 0;
  if (DepthExceeds(object, kMaxDepth, &nodes)) {
    return {FieldError{
        "FieldValueInvalid", "",
        "Invalid value: \"\": object nests deeper than " + std::to_string(kMaxDepth) + " levels"}};
  }
  if (!root_) return {};
  // Plenty for any real object (composition re-checks a value once per branch), but bounded:
  // nested anyOf/oneOf would otherwise cost 2^depth, which upstream does not guard against.
  int64_t budget = 1000000 + 64 * static_cast<int64_t>(nodes);
  Validator v(&budget);
  v.Value(*root_, object, "");
  if (budget < 0) {
    return {FieldError{"FieldValueInvalid", "",
                       "Invalid value: \"\": validation exceeded its work budget (too many "
                       "nested anyOf/oneOf/allOf/not branches)"}};
  }
  std::vector<FieldError> errs = std::move(v.errors);
  ValidateEmbeddedTree(root_.get(), object, "", true, &errs);
  ValidateListTypes(root_.get(), object, "", &errs);
  return errs;
}

std::vector<std::string> StructuralSchema::Prune(json& object) const {
  static const SchemaNode kEmpty;
  Pruner p;
  // The root is treated as an embedded resource: apiVersion, kind and metadata stay.
  p.Prune(object, root_ ? root_.get() : &kEmpty, true, "", 0);
  std::sort(p.pruned.begin(), p.pruned.end());
  return p.pruned;
}

void StructuralSchema::ApplyDefaults(json& object) const {
  if (!root_) return;
  PruneNonNullableNulls(object, root_.get(), 0);
  Default(object, root_.get(), 0);
}

}  // namespace aidi::devcluster
