#include "devcluster/registry.h"

#include <mutex>

namespace aidi::devcluster {

void Registry::Add(ResourceTypePtr type) {
  std::unique_lock lock(mu_);
  types_[{type->group, type->version, type->plural}] = std::move(type);
  ++generation_;
}

void Registry::RemoveCrd(const std::string& crd_name) { ReplaceCrd(crd_name, {}); }

void Registry::ReplaceCrd(const std::string& crd_name, const std::vector<ResourceTypePtr>& types) {
  std::unique_lock lock(mu_);
  for (auto it = types_.begin(); it != types_.end();) {
    it = it->second->crd_name == crd_name ? types_.erase(it) : std::next(it);
  }
  for (const auto& t : types) types_[{t->group, t->version, t->plural}] = t;
  ++generation_;
}

ResourceTypePtr Registry::Find(const std::string& group, const std::string& version,
                               const std::string& plural) const {
  std::shared_lock lock(mu_);
  auto it = types_.find({group, version, plural});
  return it == types_.end() ? nullptr : it->second;
}

ResourceTypePtr Registry::FindByStorageKey(const std::string& storage_key) const {
  std::shared_lock lock(mu_);
  ResourceTypePtr any;
  for (const auto& [k, t] : types_) {
    if (t->storage_key() != storage_key) continue;
    if (t->stored) return t;
    any = t;
  }
  return any;
}

ResourceTypePtr Registry::FindByKind(const std::string& group, const std::string& kind) const {
  std::shared_lock lock(mu_);
  ResourceTypePtr any;
  for (const auto& [k, t] : types_) {
    if (t->group != group || t->kind != kind) continue;
    if (t->stored) return t;
    any = t;
  }
  return any;
}

std::vector<ResourceTypePtr> Registry::All() const {
  std::shared_lock lock(mu_);
  std::vector<ResourceTypePtr> out;
  out.reserve(types_.size());
  for (const auto& [k, t] : types_) out.push_back(t);
  return out;
}

}  // namespace aidi::devcluster
