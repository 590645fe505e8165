#include "kube/runtime/finalizer.h"

#include <utility>

#include "base/log.h"

namespace aidi::kube {
namespace {

const nlohmann::json* Metadata(const nlohmann::json& object) {
  if (!object.is_object()) return nullptr;
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? &*it : nullptr;
}

// metadata.finalizers when it is an array; null when absent (or null).
const nlohmann::json* Finalizers(const nlohmann::json& object) {
  const nlohmann::json* meta = Metadata(object);
  if (!meta) return nullptr;
  auto it = meta->find("finalizers");
  return it != meta->end() && it->is_array() ? &*it : nullptr;
}

std::string MetaString(const nlohmann::json& object, const char* key) {
  const nlohmann::json* meta = Metadata(object);
  if (!meta) return "";
  auto it = meta->find(key);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

// The index of `name` in metadata.finalizers, or -1.
long IndexOf(const nlohmann::json& object, const std::string& name) {
  const nlohmann::json* list = Finalizers(object);
  if (!list) return -1;
  for (std::size_t i = 0; i < list->size(); ++i) {
    if ((*list)[i].is_string() && (*list)[i].get<std::string>() == name) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

// A failed `test` op is answered 422 Invalid (kube-apiserver and aidi-devcluster alike): for our
// precondition patches that means the object changed since it was read, which is a Conflict.
Status PreconditionStatus(const Status& status, const std::string& what) {
  if (status.IsInvalid()) {
    return Status::Conflict(what + ": the object changed since it was read (" + status.message() +
                            ")");
  }
  return status.WithContext(what);
}

}  // namespace

bool HasFinalizer(const nlohmann::json& object, const std::string& finalizer_name) {
  return IndexOf(object, finalizer_name) >= 0;
}

bool IsBeingDeleted(const nlohmann::json& object) {
  const nlohmann::json* meta = Metadata(object);
  if (!meta) return false;
  auto it = meta->find("deletionTimestamp");
  return it != meta->end() && !it->is_null();
}

std::optional<nlohmann::json> AddFinalizerPatch(const nlohmann::json& object,
                                                const std::string& finalizer_name) {
  if (HasFinalizer(object, finalizer_name)) return std::nullopt;
  if (const nlohmann::json* list = Finalizers(object)) {
    // Finalizers are not deduplicated by the server: test the whole list so a concurrent
    // writer (who may have added ours too) makes this fail rather than add a second copy.
    return nlohmann::json::array(
        {{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", *list}},
         {{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", finalizer_name}}});
  }
  std::string rv = MetaString(object, "resourceVersion");
  nlohmann::json precondition =
      rv.empty()
          // No version to compare (a hand-built object): kube-rs's form, which kube-apiserver
          // accepts but strict RFC 6902 servers reject.
          ? nlohmann::json{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", nullptr}}
          : nlohmann::json{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", rv}};
  return nlohmann::json::array({precondition,
                                {{"op", "add"},
                                 {"path", "/metadata/finalizers"},
                                 {"value", nlohmann::json::array({finalizer_name})}}});
}

std::optional<nlohmann::json> RemoveFinalizerPatch(const nlohmann::json& object,
                                                   const std::string& finalizer_name) {
  long index = IndexOf(object, finalizer_name);
  if (index < 0) return std::nullopt;
  // Finalizers are removed by index, and others may remove theirs at the same time: the test
  // makes sure the index still names ours.
  std::string path = "/metadata/finalizers/" + std::to_string(index);
  return nlohmann::json::array({{{"op", "test"}, {"path", path}, {"value", finalizer_name}},
                                {{"op", "remove"}, {"path", path}}});
}

StatusOr<nlohmann::json> AddFinalizer(const Api& api, const std::string& finalizer_name,
                                      const nlohmann::json& object) {
  if (finalizer_name.empty()) return Status::InvalidArgument("finalizer name is empty");
  std::string name = MetaString(object, "name");
  if (name.empty()) return Status::InvalidArgument("finalizer: the object has no name");
  std::optional<nlohmann::json> patch = AddFinalizerPatch(object, finalizer_name);
  if (!patch) return object;
  auto patched = api.Patch(name, PatchType::kJson, *patch);
  if (!patched.ok()) {
    return PreconditionStatus(patched.status(), "adding finalizer " + finalizer_name);
  }
  log::Debug("finalizer added",
             {{"finalizer", finalizer_name}, {"object", ObjectKey::Of(object).String()}});
  return std::move(patched).value();
}

StatusOr<nlohmann::json> RemoveFinalizer(const Api& api, const std::string& finalizer_name,
                                         const nlohmann::json& object) {
  if (finalizer_name.empty()) return Status::InvalidArgument("finalizer name is empty");
  std::string name = MetaString(object, "name");
  if (name.empty()) return Status::InvalidArgument("finalizer: the object has no name");
  std::optional<nlohmann::json> patch = RemoveFinalizerPatch(object, finalizer_name);
  if (!patch) return object;
  auto patched = api.Patch(name, PatchType::kJson, *patch);
  if (!patched.ok()) {
    if (patched.status().IsNotFound()) return nlohmann::json();  // gone already
    return PreconditionStatus(patched.status(), "removing finalizer " + finalizer_name);
  }
  log::Debug("finalizer removed",
             {{"finalizer", finalizer_name}, {"object", ObjectKey::Of(object).String()}});
  return std::move(patched).value();
}

StatusOr<Action> Finalize(const Api& api, const std::string& finalizer_name,
                          const nlohmann::json& object, const FinalizerFn& apply,
                          const FinalizerFn& cleanup) {
  const bool present = HasFinalizer(object, finalizer_name);
  const std::string context = "finalizer " + finalizer_name;
  if (!IsBeingDeleted(object)) {
    if (!present) {
      // The entry must be in place before apply may start; the write triggers the next
      // reconcile, which applies.
      auto added = AddFinalizer(api, finalizer_name, object);
      if (!added.ok() && !added.status().IsNotFound()) return added.status();
      return Action::AwaitChange();
    }
    auto action = apply(object);
    if (!action.ok()) return action.status().WithContext(context + ": apply");
    return action;
  }
  if (!present) return Action::AwaitChange();  // not ours to hold, or done already
  auto action = cleanup(object);
  // On failure the entry stays, so the deletion waits for a cleanup that succeeds.
  if (!action.ok()) return action.status().WithContext(context + ": cleanup");
  AIDI_RETURN_IF_ERROR(RemoveFinalizer(api, finalizer_name, object).status());
  return action;
}

}  // namespace aidi::kube
