#include "kube/client/api.h"

namespace aidi::kube {

Api::Api(std::shared_ptr<Client> client, ResourceRef resource, std::string ns)
    : client_(std::move(client)), builder_(std::move(resource), std::move(ns)) {}

StatusOr<nlohmann::json> Api::Get(const std::string& name) const {
  return client_->Send(builder_.Get(name));
}

StatusOr<std::optional<nlohmann::json>> Api::GetIfExists(const std::string& name) const {
  auto got = Get(name);
  if (got.ok()) return std::optional<nlohmann::json>(std::move(got).value());
  if (got.status().IsNotFound()) return std::optional<nlohmann::json>();
  return got.status();
}

StatusOr<nlohmann::json> Api::List(const ListParams& params) const {
  return client_->Send(builder_.List(params));
}

StatusOr<std::unique_ptr<WatchStream>> Api::Watch(const WatchParams& params) const {
  return client_->Watch(builder_.Watch(params));
}

StatusOr<nlohmann::json> Api::Create(const nlohmann::json& object, const PostParams& params) const {
  return client_->Send(builder_.Create(object.dump(), params));
}

StatusOr<nlohmann::json> Api::Replace(const std::string& name, const nlohmann::json& object,
                                      const PostParams& params) const {
  return client_->Send(builder_.Replace(name, object.dump(), params));
}

StatusOr<nlohmann::json> Api::Patch(const std::string& name, PatchType type,
                                    const nlohmann::json& patch, const PatchParams& params) const {
  return client_->Send(builder_.Patch(name, type, patch.dump(), params));
}

StatusOr<nlohmann::json> Api::Delete(const std::string& name, const DeleteParams& params) const {
  return client_->Send(builder_.Delete(name, params));
}

StatusOr<nlohmann::json> Api::GetStatus(const std::string& name) const {
  return client_->Send(builder_.GetSubresource(name, "status"));
}

StatusOr<nlohmann::json> Api::ReplaceStatus(const std::string& name, const nlohmann::json& object,
                                            const PostParams& params) const {
  return client_->Send(builder_.ReplaceSubresource(name, "status", object.dump(), params));
}

StatusOr<nlohmann::json> Api::PatchStatus(const std::string& name, PatchType type,
                                          const nlohmann::json& patch,
                                          const PatchParams& params) const {
  return client_->Send(builder_.PatchSubresource(name, "status", type, patch.dump(), params));
}

}  // namespace aidi::kube
