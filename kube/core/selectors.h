// Label and field selectors: parsing (the full Kubernetes grammar) and matching. No I/O.
//
// LabelSelector follows k8s.io/apimachinery/pkg/labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
// `a notin (x,y)`, `a` (exists), `!a` (does not exist), `a>3`, `a<3` (integer compare),
// requirements joined by commas (AND). It is also built from a metav1.LabelSelector object
// (matchLabels + matchExpressions with In/NotIn/Exists/DoesNotExist). Keys and values are
// validated as Kubernetes label keys/values; errors name the offending token and its position.
//
// FieldSelector follows k8s.io/apimachinery/pkg/fields: `f=v`, `f==v`, `f!=v` joined by commas,
// with `\,`, `\=` and `\\` escapes in values. Which fields are supported is the caller's
// business (the API server answers 400 for others).
//
// Both are immutable values after construction: safe to share between threads.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace aidi::kube {

using Labels = std::map<std::string, std::string, std::less<>>;

class LabelSelector {
 public:
  enum class Op {
    kEquals,
    kNotEquals,
    kIn,
    kNotIn,
    kExists,
    kDoesNotExist,
    kGreaterThan,
    kLessThan
  };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted, deduplicated
  };

  LabelSelector() = default;  // matches everything

  // Parses the string form. "" matches everything.
  static StatusOr<LabelSelector> Parse(std::string_view text);
  // From a metav1.LabelSelector JSON object; null or {} matches everything.
  static StatusOr<LabelSelector> FromJson(const nlohmann::json& selector);

  bool Matches(const Labels& labels) const;
  // `labels` is a JSON object of string values (metadata.labels) or null.
  bool MatchesJson(const nlohmann::json& labels) const;

  bool Empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // Canonical string form, requirements sorted by key (as labels.Selector.String()).
  std::string ToString() const;

 private:
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  struct Requirement {
    std::string field;
    bool equals;  // false for !=
    std::string value;
  };

  FieldSelector() = default;  // matches everything

  static StatusOr<FieldSelector> Parse(std::string_view text);

  // `get(field)` returns the object's value for a field, or nullopt when the field is absent
  // (an absent field compares as "").
  bool Matches(const std::function<std::optional<std::string>(std::string_view field)>& get) const;

  bool Empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }
  std::string ToString() const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace aidi::kube
