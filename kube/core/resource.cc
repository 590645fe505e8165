#include "kube/core/resource.h"

#include <functional>

#include <nlohmann/json.hpp>

namespace aidi::kube {

std::string ResourceRef::GroupVersionPath() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

ObjectKey ObjectKey::Parse(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

ObjectKey ObjectKey::Of(const nlohmann::json& object) {
  ObjectKey key;
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return key;
  if (auto it = meta->find("namespace"); it != meta->end() && it->is_string()) {
    key.ns = it->get<std::string>();
  }
  if (auto it = meta->find("name"); it != meta->end() && it->is_string()) {
    key.name = it->get<std::string>();
  }
  return key;
}

std::size_t ObjectKeyHash::operator()(const ObjectKey& k) const {
  std::size_t h = std::hash<std::string>{}(k.ns);
  return h ^ (std::hash<std::string>{}(k.name) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

namespace resources {
const ResourceRef kPods{"", "v1", "pods", "Pod", true};
const ResourceRef kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceRef kSecrets{"", "v1", "secrets", "Secret", true};
const ResourceRef kEvents{"", "v1", "events", "Event", true};
const ResourceRef kNamespaces{"", "v1", "namespaces", "Namespace", false};
const ResourceRef kNodes{"", "v1", "nodes", "Node", false};
const ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const ResourceRef kCustomResourceDefinitions{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};
}  // namespace resources

}  // namespace aidi::kube
