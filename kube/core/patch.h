// Patch application, shared by the API server (devcluster) and the client so both agree on
// the same semantics. Pure functions; no I/O; safe from any thread.
//
// - ApplyMergePatch: RFC 7386 JSON merge patch (application/merge-patch+json).
// - ApplyJsonPatch: RFC 6902 JSON patch (application/json-patch+json) with all six ops,
//   including `test`; RFC 6901 pointers with ~0/~1 escapes and "-" for append.
// - ApplyStrategicMergePatch: the subset of Kubernetes' strategic merge patch
//   (application/strategic-merge-patch+json) that `kubectl apply`, `kubectl patch` and
//   client-go send for built-in kinds: lists of objects merged by their patch merge key
//   (containers/initContainers/ephemeralContainers/volumes/env/imagePullSecrets by `name`,
//   container `ports` by `containerPort`, service `ports` by `port`, volumeMounts by `mountPath`,
//   ownerReferences by `uid`, status conditions by `type`, node addresses by `type`), primitive
//   lists with merge semantics (finalizers), and the directives `$patch` (replace|delete; upstream
//   rejects `merge`), `$retainKeys`, `$deleteFromPrimitiveList/<f>` and `$setElementOrder/<f>`.
//   Lists without a merge key are replaced, as upstream does; that includes node taints, which
//   are atomic upstream (kubectl taint relies on it). Unknown kinds merge the well-known lists
//   (containers, env, volumes, conditions, ...) by field name.
//
// Errors: a malformed patch document is InvalidArgument (400); a JSON patch op that cannot be
// applied (missing path, failed `test`) is Invalid (422) — both name the op index and path.
#pragma once

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube {

StatusOr<nlohmann::json> ApplyMergePatch(const nlohmann::json& target, const nlohmann::json& patch);

StatusOr<nlohmann::json> ApplyJsonPatch(const nlohmann::json& target, const nlohmann::json& ops);

// `kind` is the object's kind ("Pod", "Deployment", "Service", "Node", ...); it selects merge
// keys where a field name means different things in different kinds (e.g. `ports`).
StatusOr<nlohmann::json> ApplyStrategicMergePatch(const nlohmann::json& original,
                                                  const nlohmann::json& patch,
                                                  std::string_view kind);

// Computes the RFC 7386 merge patch that turns `from` into `to` (for clients and tests).
nlohmann::json CreateMergePatch(const nlohmann::json& from, const nlohmann::json& to);

}  // namespace aidi::kube
