// ResourceRef: which API resource a request is about (group, version, plural, kind, scope), and
// ObjectKey: which object inside it. Plain values, no I/O.
//
// The constants below cover what the runtime itself talks to (pods, configmaps, events, leases,
// ...); anything else, custom resources included, is one ResourceRef literal away:
//   const ResourceRef kPipelines{"aidi.dev", "v1alpha1", "pipelines", "Pipeline", true};
#pragma once

#include <compare>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace aidi::kube {

struct ResourceRef {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "pods"
  std::string kind;      // "Pod"
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1" or "/apis/aidi.dev/v1alpha1".
  std::string GroupVersionPath() const;
  // "pods" or "pipelines.aidi.dev", as API errors name it.
  std::string GroupResource() const { return group.empty() ? resource : resource + "." + group; }
};

// Where an object lives: namespace ("" for cluster-scoped) and name. Orders and hashes by both.
struct ObjectKey {
  std::string ns;
  std::string name;
  // "ns/name", or "name" for cluster-scoped objects (client-go's MetaNamespaceKeyFunc).
  std::string String() const { return ns.empty() ? name : ns + "/" + name; }
  static ObjectKey Parse(const std::string& key);     // inverse of String()
  static ObjectKey Of(const nlohmann::json& object);  // from metadata.namespace / metadata.name
  auto operator<=>(const ObjectKey&) const = default;
};

struct ObjectKeyHash {
  std::size_t operator()(const ObjectKey& k) const;
};

namespace resources {
extern const ResourceRef kPods;
extern const ResourceRef kConfigMaps;
extern const ResourceRef kSecrets;
extern const ResourceRef kEvents;
extern const ResourceRef kNamespaces;
extern const ResourceRef kNodes;
extern const ResourceRef kLeases;
extern const ResourceRef kCustomResourceDefinitions;
}  // namespace resources

}  // namespace aidi::kube
