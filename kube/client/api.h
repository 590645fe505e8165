// Api: the verbs for one resource, scoped to one namespace or to all (kube-rs's Api<K>).
//
//   auto pods = Api(client, resources::kPods, "default");
//   AIDI_ASSIGN_OR_RETURN(auto pod, pods.Get("web-0"));
//   auto maybe = pods.GetIfExists("web-1");          // nullopt on 404
//   pods.Patch("web-0", PatchType::kMerge, {{"metadata", {{"labels", {{"a", "b"}}}}}});
//
// Objects are nlohmann::json values. Errors are named Status codes (IsNotFound(), IsConflict(),
// ...). Thread safety: an Api is immutable; call it from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/client/client.h"
#include "kube/core/request.h"
#include "kube/core/resource.h"

namespace aidi::kube {

class Api {
 public:
  // `ns` "" means all namespaces (lists and watches) for a namespaced resource.
  Api(std::shared_ptr<Client> client, ResourceRef resource, std::string ns);

  const ResourceRef& resource() const { return builder_.resource(); }
  const std::string& ns() const { return builder_.ns(); }
  Client& client() const { return *client_; }
  const RequestBuilder& requests() const { return builder_; }

  StatusOr<nlohmann::json> Get(const std::string& name) const;
  StatusOr<std::optional<nlohmann::json>> GetIfExists(const std::string& name) const;
  // One page; follow metadata.continue for more.
  StatusOr<nlohmann::json> List(const ListParams& params = {}) const;
  StatusOr<std::unique_ptr<WatchStream>> Watch(const WatchParams& params) const;
  StatusOr<nlohmann::json> Create(const nlohmann::json& object,
                                  const PostParams& params = {}) const;
  StatusOr<nlohmann::json> Replace(const std::string& name, const nlohmann::json& object,
                                   const PostParams& params = {}) const;
  // `patch` is the patch document: an object (merge, strategic, apply) or an array (JSON patch).
  StatusOr<nlohmann::json> Patch(const std::string& name, PatchType type,
                                 const nlohmann::json& patch, const PatchParams& params = {}) const;
  // Returns the object as the server answered: the deleted object, or it with a deletion
  // timestamp while finalizers hold it (a metav1.Status for some resources).
  StatusOr<nlohmann::json> Delete(const std::string& name, const DeleteParams& params = {}) const;

  StatusOr<nlohmann::json> GetStatus(const std::string& name) const;
  StatusOr<nlohmann::json> ReplaceStatus(const std::string& name, const nlohmann::json& object,
                                         const PostParams& params = {}) const;
  StatusOr<nlohmann::json> PatchStatus(const std::string& name, PatchType type,
                                       const nlohmann::json& patch,
                                       const PatchParams& params = {}) const;

 private:
  std::shared_ptr<Client> client_;
  RequestBuilder builder_;
};

}  // namespace aidi::kube
