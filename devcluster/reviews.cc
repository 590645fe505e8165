// Access and identity reviews: authorization.k8s.io/v1 SelfSubjectAccessReview and
// SelfSubjectRulesReview, authentication.k8s.io/v1 SelfSubjectReview — the create-only,
// never-stored kinds behind `kubectl auth can-i` and `kubectl auth whoami`. devcluster has one
// identity (the bearer token), which may do everything, so every review allows.
#include "devcluster/api_server.h"
#include "devcluster/api_server_internal.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

const char* kUser = "aidi-devcluster-admin";

ResourceTypePtr ReviewType(const std::string& group, const std::string& kind,
                           const std::string& plural) {
  auto t = std::make_shared<ResourceType>();
  t->group = group;
  t->version = "v1";
  t->kind = kind;
  t->list_kind = kind + "List";
  t->plural = plural;
  t->singular = "";
  t->namespaced = false;
  t->create_only = true;
  return t;
}

}  // namespace

std::vector<ResourceTypePtr> ReviewResourceTypes() {
  return {ReviewType("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
          ReviewType("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
          ReviewType("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews")};
}

void ApiServer::HandleReview(Ctx& c) {
  if (c.info.verb != "create" || !c.info.name.empty())
    return SendError(c, kube::NewMethodNotAllowed());
  json review = json::object();
  // kubectl sends reviews as protobuf, whose spec the protobuf decoder does not know; the answer
  // does not depend on it (everything is allowed), so only JSON/YAML specs are echoed back.
  if (ParseMediaType(c.req.Header("content-type")).type != "application/vnd.kubernetes.protobuf") {
    auto decoded = DecodeBody(c);
    if (auto* e = std::get_if<kube::ApiError>(&decoded)) return SendError(c, *e);
    review = std::get<json>(std::move(decoded));
  }
  review["apiVersion"] = c.rt->api_version();
  review["kind"] = c.rt->kind;
  if (!review.contains("metadata") || !review["metadata"].is_object())
    review["metadata"] = json::object();
  review["metadata"]["creationTimestamp"] = nullptr;
  json user = {{"username", kUser}, {"groups", {"system:masters", "system:authenticated"}}};
  if (c.rt->kind == "SelfSubjectAccessReview") {
    review["status"] = {{"allowed", true},
                        {"reason", "aidi-devcluster grants its one identity every permission"}};
  } else if (c.rt->kind == "SelfSubjectRulesReview") {
    review["status"] = {
        {"resourceRules", {{{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}}}},
        {"nonResourceRules", {{{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}}}},
        {"incomplete", false}};
  } else {
    review["status"] = {{"userInfo", user}};
  }
  SendJson(c, 201, review);
}

}  // namespace aidi::devcluster
