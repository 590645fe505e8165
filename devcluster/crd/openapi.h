// OpenAPI documents that devcluster serves, so `kubectl apply` (its default validation and
// its check for server-side `fieldValidation` support) and `kubectl explain` work as against a
// real cluster.
//
// - /openapi/v3 lists one document per group-version ({"paths": {"apis/aidi.dev/v1alpha1":
//   {"serverRelativeURL": "/openapi/v3/apis/aidi.dev/v1alpha1?hash=..."}}}).
// - Each document is OpenAPI 3.0 with `paths` (the resource's operations, including the
//   `fieldValidation` query parameter on PATCH/PUT/POST) and `components.schemas` named as
//   upstream does (`dev.aidi.v1alpha1.Pipeline`, `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`)
//   with `x-kubernetes-group-version-kind`. CRD schemas are published as the apiserver
//   publishes them (metadata referenced to ObjectMeta, apiVersion/kind described).
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aidi::devcluster {

struct OpenApiResource {
  std::string group;    // "" for core
  std::string version;  // "v1"
  std::string kind;     // "Pod"
  std::string plural;   // "pods"
  bool namespaced = true;
  bool has_status = false;
  // openAPIV3Schema for custom resources; null for built-in kinds, which are published with
  // their schemas from devcluster/builtin_schemas (upstream's definition names, patch
  // extensions and x-kubernetes-group-version-kind, so kubectl explains them and computes
  // strategic merge patches from them), or, for a kind without one, as a permissive untagged
  // object schema (see the note at the top of openapi.cc).
  nlohmann::json schema;
};

// The OpenAPI v3 document for one group-version (`group` "" for the core "api/v1" document).
// Only resources of that group-version are included. Serve it for every group-version the
// server has, built-ins included: kubectl checks fieldValidation support per GVK.
nlohmann::json BuildOpenApiV3Document(const std::string& group, const std::string& version,
                                      const std::vector<OpenApiResource>& resources);

// A stable content hash for the `?hash=` of serverRelativeURL (hex, upper case like upstream).
std::string OpenApiDocumentHash(const nlohmann::json& document);

// The OpenAPI v2 (swagger) document covering every resource (served at /openapi/v2 as JSON;
// kubectl asks for protobuf there and silently falls back when it gets JSON or a 404/406).
nlohmann::json BuildOpenApiV2Document(const std::vector<OpenApiResource>& resources);

}  // namespace aidi::devcluster
