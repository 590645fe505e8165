// Registry: the resource types devcluster serves right now, by group/version/plural. Built-in
// types are added at start; the CRD handler adds and removes custom types as CRDs come and go,
// so discovery and routing see a new CRD as soon as it is established.
//
// Thread safety: all methods may be called from any thread (a shared mutex guards the map).
// generation() increases on every change so that derived documents (discovery, OpenAPI) can be
// cached and rebuilt only when needed.
#pragma once

#include <atomic>
#include <map>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <vector>

#include "devcluster/resource_type.h"

namespace aidi::devcluster {

class Registry {
 public:
  void Add(ResourceTypePtr type);
  // Removes every version served for the CRD named `crd_name`.
  void RemoveCrd(const std::string& crd_name);
  // Replaces every version of `crd_name` with `types` in one step.
  void ReplaceCrd(const std::string& crd_name, const std::vector<ResourceTypePtr>& types);

  ResourceTypePtr Find(const std::string& group, const std::string& version,
                       const std::string& plural) const;
  // The storage version's type for a storage key ("group/plural").
  ResourceTypePtr FindByStorageKey(const std::string& storage_key) const;
  // Any version of the group/kind, preferring the storage version.
  ResourceTypePtr FindByKind(const std::string& group, const std::string& kind) const;
  std::vector<ResourceTypePtr> All() const;
  std::uint64_t generation() const { return generation_.load(); }

 private:
  mutable std::shared_mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, ResourceTypePtr> types_;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace aidi::devcluster
