// ResourceType: everything devcluster knows about one kind it serves — names for discovery,
// scope, subresources, which fields field selectors may use, and the strategy hooks that say
// what create, update and status writes may change.
//
// Built-in types are registered at start (builtin_types.cc); a CustomResourceDefinition adds
// one ResourceType per served version (crd_types.cc). A ResourceType is immutable once
// registered and shared through std::shared_ptr<const ResourceType>: safe to read from any
// thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "devcluster/crd/schema.h"
#include "kube/core/api_status.h"

namespace aidi::devcluster {

// "group/resource" ("/pods", "aidi.dev/pipelines"): the key objects are stored under. All
// versions of one CRD share it, as they share storage in kube-apiserver.
using StorageKey = std::string;

struct FieldErrorList {
  std::vector<kube::StatusCause> causes;
  bool empty() const { return causes.empty(); }
  void Add(std::string reason, std::string field, std::string message) {
    causes.push_back({std::move(reason), std::move(message), std::move(field)});
  }
  void Required(const std::string& field, const std::string& detail = "") {
    Add("FieldValueRequired", field,
        detail.empty() ? "Required value" : "Required value: " + detail);
  }
  void Invalid(const std::string& field, const nlohmann::json& value, const std::string& detail) {
    Add("FieldValueInvalid", field, "Invalid value: " + value.dump() + ": " + detail);
  }
  void Forbidden(const std::string& field, const std::string& detail) {
    Add("FieldValueForbidden", field, "Forbidden: " + detail);
  }
  void NotSupported(const std::string& field, const nlohmann::json& value,
                    const std::vector<std::string>& supported);
};

// Per-kind behaviour; every hook is optional. `obj` is the full object being written.
struct Strategy {
  // Defaults and server-set fields on create (after metadata is filled in).
  std::function<void(nlohmann::json& obj)> prepare_for_create;
  // Called on update with the old object; may copy back fields the main endpoint may not change.
  std::function<void(nlohmann::json& obj, const nlohmann::json& old)> prepare_for_update;
  std::function<void(const nlohmann::json& obj, FieldErrorList& errs)> validate;
  std::function<void(const nlohmann::json& obj, const nlohmann::json& old, FieldErrorList& errs)>
      validate_update;
  // Table rows for `kubectl get`: column definitions and one row's cells.
  std::function<nlohmann::json()> table_columns;
  std::function<nlohmann::json(const nlohmann::json& obj, Clock::WallTime now)> table_cells;
};

struct ResourceType {
  std::string group;      // "" for core
  std::string version;    // "v1"
  std::string kind;       // "Pod"
  std::string list_kind;  // "PodList"
  std::string plural;     // "pods"
  std::string singular;   // "pod"
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool namespaced = true;
  bool has_status = false;   // status subresource: main endpoint ignores status
  bool has_binding = false;  // pods/binding
  bool has_log = false;      // pods/log
  // The scale subresource (autoscaling/v1 Scale): where replicas live in the object. An empty
  // spec_replicas_path means there is no scale subresource.
  std::string spec_replicas_path;      // ".spec.replicas"
  std::string status_replicas_path;    // ".status.replicas"
  std::string label_selector_path;     // ".status.selector" (a string selector); may be empty
  bool has_generation = false;         // metadata.generation bumped on spec changes
  bool return_deleted_object = false;  // DELETE answers with the object (else a Status)
  bool name_is_dns_label = false;      // namespaces, services
  bool create_only = false;            // reviews: POST answers, nothing is stored (reviews.cc)
  bool stored = true;                  // false: a served-but-not-storage CRD version
  // Fields (besides metadata.name and metadata.namespace) that field selectors may use.
  std::vector<std::string> selectable_fields;
  Strategy strategy;
  // Custom resources: the schema for this version, printer columns and the CRD's uid.
  std::optional<StructuralSchema> schema;
  nlohmann::json crd_version;  // the CRD's spec.versions[] entry (custom resources only)
  std::string crd_name;

  StorageKey storage_key() const { return group + "/" + plural; }
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  kube::GroupResource group_resource() const { return {group, plural}; }
  bool is_custom() const { return !crd_name.empty(); }
};

using ResourceTypePtr = std::shared_ptr<const ResourceType>;

// The value a field selector compares for `field` on `obj`, or nullopt when unsupported.
std::optional<std::string> SelectableFieldValue(const nlohmann::json& obj,
                                                const std::string& field);

}  // namespace aidi::devcluster
