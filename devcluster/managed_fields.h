// Field ownership for server-side apply: metadata.managedFields in the FieldsV1 format, updated
// on every write, and the conflict check that makes `kubectl apply --server-side` refuse to take
// a field another manager set to a different value (unless forced).
//
// A field set is a FieldsV1 JSON object: {"f:spec": {"f:size": {}}}; an empty object marks a
// leaf. Lists are owned whole (atomic), as CRD lists are by default; maps and objects field by
// field. apiVersion, kind and the server-managed metadata are never owned.
// Pure functions of their inputs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aidi::devcluster {

// The field set of `obj` (every leaf it sets).
nlohmann::json FieldSetOf(const nlohmann::json& obj);

// Leaf paths of a field set, as upstream prints them: ".spec.size", ".metadata.labels.app".
std::vector<std::string> FieldPaths(const nlohmann::json& set);

struct ManagerWrite {
  std::string manager;      // e.g. "kubectl-client-side-apply", "kubectl-patch"
  std::string operation;    // "Apply" or "Update"
  std::string api_version;  // the object's apiVersion
  std::string time;         // RFC 3339
};

// Records a non-apply write: `w.manager` takes every field whose value differs between `old`
// (null on create) and `updated`; other managers lose those fields. Sets
// updated.metadata.managedFields.
void RecordUpdate(const nlohmann::json& old, nlohmann::json& updated, const ManagerWrite& w);

struct ApplyConflict {
  std::string manager;
  std::string api_version;
  std::string path;
};

// Server-side apply of `applied` by `w.manager` onto `live` (null when creating): returns the
// conflicts (fields other managers own with a different value) unless `force`; otherwise
// writes the merged object to `out`, removing fields this manager applied before but no longer
// applies (when nobody else owns them), and records ownership.
std::vector<ApplyConflict> Apply(const nlohmann::json& live, const nlohmann::json& applied,
                                 const ManagerWrite& w, bool force, nlohmann::json& out);

// "Apply failed with 1 conflict: conflict with \"m\" using v1: .spec.size" (upstream's wording).
std::string ConflictMessage(const std::vector<ApplyConflict>& conflicts);

}  // namespace aidi::devcluster
