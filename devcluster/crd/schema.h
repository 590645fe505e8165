// StructuralSchema: validation, pruning and defaulting of custom resources against a CRD's
// `openAPIV3Schema`, with the same field paths and messages as kube-apiserver.
//
// Supported: type (object, array, string, integer, number, boolean), properties, required,
// items, additionalProperties (bool or schema), enum, minimum/maximum (+exclusive), multipleOf,
// minLength/maxLength (in runes), pattern (RE2 syntax, as Go's regexp: see regex.h),
// minItems/maxItems, uniqueItems (true is rejected, as the apiserver's CRD validation does),
// minProperties/maxProperties, nullable, default, format (the apiserver's supported list: see
// formats.h; others are dropped as upstream does), allOf/anyOf/oneOf/not (validation only),
// x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string,
// x-kubernetes-embedded-resource (apiVersion/kind checks), x-kubernetes-list-type (set/map
// uniqueness), x-kubernetes-list-map-keys.
// Not done here: CEL rules (x-kubernetes-validations), ratcheting, embedded ObjectMeta checks,
// and the CRD-creation checks that defaults validate and schemas are structural.
//
// Order of use (as the apiserver does): Prune, then ApplyDefaults, then Validate. Errors come in
// a fixed order (upstream's Go map iteration is random): per value type, composition
// (anyOf/oneOf/allOf/not), string, format, number, array (items first), enum, object
// (properties in sorted key order, then required); then embedded-resource checks, then
// list-type (set/map) uniqueness. Input is untrusted: objects nested deeper than kMaxDepth are
// rejected by Validate and left alone below that depth by Prune and ApplyDefaults, and
// Validate stops with one error when a schema makes it visit more than ~64 schema nodes per
// JSON value (a bound upstream lacks). Parse rejects schemas nested deeper than kMaxDepth.
//
// Immutable after Parse: safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::devcluster {

namespace crd_internal {
struct SchemaNode;
}  // namespace crd_internal

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
  // in the order described above. Empty when valid.
  std::vector<FieldError> Validate(const nlohmann::json& object) const;

  // Removes fields the schema does not declare (except under preserve-unknown-fields, the
  // root apiVersion/kind/metadata and embedded resources' apiVersion/kind/metadata). Returns the
  // removed paths, sorted, as upstream's pruning reports them ("spec.foo", "spec.items[0].bar"),
  // for the strict/warn field validation modes (`unknown field "spec.foo"`).
  std::vector<std::string> Prune(nlohmann::json& object) const;

  // Fills `default`s for absent fields, recursively (as the apiserver does on read and write):
  // first drops nulls of non-nullable fields that have no default, then sets defaults for
  // absent fields and for nulls of non-nullable fields.
  void ApplyDefaults(nlohmann::json& object) const;

  const nlohmann::json& raw() const { return raw_; }

  // Deepest nesting of objects/arrays accepted (schemas and objects).
  static constexpr int kMaxDepth = 200;

 private:
  nlohmann::json raw_;
  std::shared_ptr<const crd_internal::SchemaNode> root_;
};

}  // namespace aidi::devcluster
