// Schemas of the built-in kinds devcluster serves (Pod, Deployment, ConfigMap, ...), generated
// by generate.mjs from the `kubernetes-models` npm package into builtin_schemas.json and
// embedded into the binary at build time.
//
// Two views of the same data:
// - BuiltinSchemas(): the document as generated, {"source", "kinds": [{group, version, kind,
//   definition}], "definitions": {name: schema}}, definitions named as kube-apiserver names them
//   (io.k8s.api.core.v1.Pod) and referring to each other with {"$ref": "<name>", <siblings>}
//   (siblings such as description and the x-kubernetes-patch-* extensions describe the referring
//   field). For publishing OpenAPI.
// - BuiltinSchemaFor(): one kind's structural schema (an openAPIV3Schema StructuralSchema::Parse
//   accepts), references expanded in place, descriptions dropped. A definition that refers back
//   to itself (JSONSchemaProps inside a CRD's openAPIV3Schema) becomes
//   x-kubernetes-preserve-unknown-fields below its first level.
//
// Root `metadata` is an ObjectMeta in these schemas, but StructuralSchema::Prune keeps a root's
// metadata untouched (as for custom resources); BuiltinObjectMetaSchema() is ObjectMeta's
// structural schema for pruning it separately (see PruneBuiltinMetadata in builtin_types.h).
//
// Everything is built on first use and immutable afterwards: safe from any thread.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace aidi::devcluster {

const nlohmann::json& BuiltinSchemas();

// The structural schema of a built-in kind, or nullptr when there is none.
const nlohmann::json* BuiltinSchemaFor(const std::string& group, const std::string& version,
                                       const std::string& kind);

// ObjectMeta (io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta) as a structural schema.
const nlohmann::json& BuiltinObjectMetaSchema();

}  // namespace aidi::devcluster
