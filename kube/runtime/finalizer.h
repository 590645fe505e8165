// Finalizer helper: runs cleanup that must happen before an object may disappear, by holding a
// metadata.finalizers entry on it (kube-rs kube-runtime/src/finalizer.rs is the model). Meant
// to be the whole body of a reconciler:
//
//   controller.Run([&](const ObjectKey&, const std::optional<nlohmann::json>& cm)
//                      -> StatusOr<Action> {
//     if (!cm) return Action::AwaitChange();
//     return Finalize(configmaps, "aidi.dev/cleanup", *cm, apply, cleanup);
//   });
//
// Thread safety: the functions are stateless; call them from any thread.
//
// # Flow
//
//   1. A user creates the object; the reconciler sees it.
//   2. Finalize adds `finalizer_name` to metadata.finalizers and returns AwaitChange() without
//      calling `apply`: the write itself triggers the next reconcile.
//   3. The reconciler sees the updated object; Finalize calls `apply(object)` and returns its
//      Action. The same happens after every later change.
//   4. A user deletes the object: the server only sets metadata.deletionTimestamp, because a
//      finalizer is pending. The reconciler sees it; Finalize calls `cleanup(object)`.
//   5. When cleanup succeeds, Finalize removes its entry; once no finalizer is left the server
//      deletes the object. Finalize returns cleanup's Action.
//   An object being deleted that does not carry our entry (never added, or already removed)
//   gets AwaitChange() and no calls.
//
// # Guarantees
//
// If `apply` ever started, `cleanup` succeeds before the object's deletion completes: the entry
// is added before the first apply, and removed only after a successful cleanup.
// Every write carries JSON-patch `test` preconditions, so a concurrent change to the finalizers
// (another controller adding or removing its own entry) makes the write fail instead of
// overwriting someone else's entry or removing the wrong index:
//   add, finalizers present: [test /metadata/finalizers == <the list we read>,
//                             add  /metadata/finalizers/- <name>]
//   add, finalizers absent:  [test /metadata/resourceVersion == <the version we read>,
//                             add  /metadata/finalizers [<name>]]
//   remove (at index i):     [test /metadata/finalizers/i == <name>,
//                             remove /metadata/finalizers/i]
// (kube-rs tests `/metadata/finalizers == null` for the absent case. kube-apiserver's JSON
// patch library lets null match a missing member, but RFC 6902, and aidi-devcluster with it,
// fail a `test` on a missing path; a resourceVersion test works on both and is as safe, only
// stricter: any concurrent write makes it retry.)
//
// # Assumptions
//
// `finalizer_name` is unique among the controllers that touch the object (a qualified name
// such as "aidi.dev/cleanup"). `apply` and `cleanup` are idempotent and tolerate running
// several times, even after an earlier run failed half-way. `cleanup` tolerates `apply` never
// having run, or never having succeeded.
//
// # Caveats
//
// Deleting the object hangs while the controller is not running or while cleanup keeps
// failing (remove the entry by hand to force it). The object passed in may come from a cache
// that lags the server; a precondition then fails and the next reconcile, with a fresher
// object, succeeds.
//
// # Errors
//
// Errors from `apply` and `cleanup` are returned as they are, with "finalizer <name>: apply" or
// "...: cleanup" as context and the code kept; after a failed cleanup the entry stays. A failed
// `test` precondition comes back from the server as 422 Invalid (kube-apiserver and
// aidi-devcluster alike); the helpers map it to Conflict, so callers and error policies treat
// it as what it is, a stale read to retry. Other failures of the finalizer writes (network,
// Forbidden, ...) are returned with their own codes. NotFound while adding means the object is
// gone before apply ever ran (AwaitChange()); NotFound while removing means it is gone already
// (success).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "kube/client/api.h"
#include "kube/runtime/controller.h"

namespace aidi::kube {

// `apply` or `cleanup`: gets the object Finalize was given.
using FinalizerFn = std::function<StatusOr<Action>(const nlohmann::json& object)>;

// Runs one reconcile of `object` through the flow above. `api` is the object's resource,
// scoped to its namespace.
StatusOr<Action> Finalize(const Api& api, const std::string& finalizer_name,
                          const nlohmann::json& object, const FinalizerFn& apply,
                          const FinalizerFn& cleanup);

// Adds `finalizer_name` (no request if it is there already) with the preconditions above.
// Returns the object as the server answered (or `object` itself when nothing was sent).
StatusOr<nlohmann::json> AddFinalizer(const Api& api, const std::string& finalizer_name,
                                      const nlohmann::json& object);
// Removes `finalizer_name` (no request if it is absent) with the precondition above. Returns
// the object as the server answered (the server deletes it right after when this was the last
// finalizer of an object being deleted), `object` itself when nothing was sent, and null when
// the object was gone already.
StatusOr<nlohmann::json> RemoveFinalizer(const Api& api, const std::string& finalizer_name,
                                         const nlohmann::json& object);

// The pieces, for tests and for callers with their own write path.
bool HasFinalizer(const nlohmann::json& object, const std::string& finalizer_name);
bool IsBeingDeleted(const nlohmann::json& object);  // metadata.deletionTimestamp is set
// The JSON patch that adds `finalizer_name` (see Guarantees); nullopt if it is present.
std::optional<nlohmann::json> AddFinalizerPatch(const nlohmann::json& object,
                                                const std::string& finalizer_name);
// The JSON patch that removes `finalizer_name`; nullopt if it is absent.
std::optional<nlohmann::json> RemoveFinalizerPatch(const nlohmann::json& object,
                                                   const std::string& finalizer_name);

}  // namespace aidi::kube
