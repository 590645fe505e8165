#include "costmodel/site_directory.h"

#include <algorithm>
#include <utility>

namespace aidi::costmodel {

SiteDirectory::SiteDirectory(std::vector<Site> sites) : sites_(std::move(sites)) {
  std::stable_sort(sites_.begin(), sites_.end(),
                   [](const Site& a, const Site& b) { return a.name < b.name; });
  auto dup = std::unique(sites_.begin(), sites_.end(),
                         [](const Site& a, const Site& b) { return a.name == b.name; });
  sites_.erase(dup, sites_.end());
}

const Site* SiteDirectory::Find(std::string_view name) const {
  auto it = std::lower_bound(sites_.begin(), sites_.end(), name,
                             [](const Site& s, std::string_view n) { return s.name < n; });
  if (it != sites_.end() && it->name == name) return &*it;
  return nullptr;
}

const Site* SiteDirectory::Find(std::string_view name, int hint) const {
  if (hint >= 0 && static_cast<size_t>(hint) < sites_.size() && sites_[hint].name == name) {
    return &sites_[hint];
  }
  return Find(name);
}

int SiteDirectory::IndexOf(std::string_view name) const {
  const Site* site = Find(name);
  return site == nullptr ? -1 : static_cast<int>(site - sites_.data());
}

}  // namespace aidi::costmodel
