// StructuralSchema: validation, pruning and defaulting of custom resources against a CRD's
// `openAPIV3Schema`, with the same field paths and messages as kube-apiserver.
//
// Supported: type (object, array, string, integer, number, boolean), properties, required,
// items, additionalProperties (bool or schema), enum, minimum/maximum (+exclusive), minLength/
// maxLength, pattern (ECMAScript), minItems/maxItems, uniqueItems, minProperties/maxProperties,
// nullable, default, format (int32/int64/date-time, others accepted), allOf/anyOf/oneOf/not
// (validation only), x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string,
// x-kubernetes-embedded-resource, x-kubernetes-list-type (set/map uniqueness),
// x-kubernetes-list-map-keys.
//
// Immutable after Parse: safe to share between threads.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::devcluster {

// One problem with one field, as k8s.io/apimachinery/pkg/util/validation/field.Error.
struct FieldError {
  // "FieldValueRequired", "FieldValueInvalid", "FieldValueNotSupported", "FieldValueTooLong",
  // "FieldValueTooMany", "FieldValueTypeInvalid", "FieldValueDuplicate", "FieldValueForbidden".
  std::string reason;
  std::string field;    // "spec.stages[0].name"
  std::string message;  // field.Error.ErrorBody(): `Invalid value: "x": spec.a in body should ...`
  // field.Error.Error(): "<field>: <message>"
  std::string ToString() const { return field + ": " + message; }
};

class StructuralSchema {
 public:
  // Accepts an `openAPIV3Schema` object; InvalidArgument naming the path when it is not usable
  // (e.g. a property that is not an object, an unknown type).
  static StatusOr<StructuralSchema> Parse(const nlohmann::json& openapi_v3_schema);

  // Every violation in `object` (a whole custom resource: apiVersion, kind, metadata, spec, ...),
  // in document order. Empty when valid.
  std::vector<FieldError> Validate(const nlohmann::json& object) const;

  // Removes fields the schema does not declare (except under preserve-unknown-fields and the
  // root apiVersion/kind/metadata). Returns the removed paths (".spec.foo"), for the
  // strict/warn field validation modes.
  std::vector<std::string> Prune(nlohmann::json& object) const;

  // Fills `default`s for absent fields, recursively (as the apiserver does on read and write).
  void ApplyDefaults(nlohmann::json& object) const;

  const nlohmann::json& raw() const { return raw_; }

 private:
  nlohmann::json raw_;
};

}  // namespace aidi::devcluster
