// SiteDirectory: the EdgeSites the model knows, found by name without hashing or allocating.
//
// Built once per change of the EdgeSite set (not per request); the scheduler extender keeps one
// and swaps it when an EdgeSite changes. Sites are kept sorted by name; when two share a name
// the first given wins. A name it does not know (a node labelled for a deleted EdgeSite, an
// inputSite nobody described) gets no Site: the model then uses an empty Link (no latency, no
// bandwidth limit, free egress), no prices and no maintenance. Thread safety: immutable after
// construction; share it freely between threads.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "costmodel/types.h"

namespace aidi::costmodel {

class SiteDirectory {
 public:
  SiteDirectory() = default;
  explicit SiteDirectory(std::vector<Site> sites);

  // The site called `name`, or nullptr. Binary search; allocates nothing.
  const Site* Find(std::string_view name) const;
  // The same, trying sites()[hint] first: a caller that remembers where a name was found
  // (IndexOf) pays one comparison instead of a search. Any hint is safe; a stale one costs the
  // search.
  const Site* Find(std::string_view name, int hint) const;
  // The index of `name` in sites(), or -1.
  int IndexOf(std::string_view name) const;

  // Sorted by name.
  std::span<const Site> sites() const { return sites_; }
  size_t size() const { return sites_.size(); }

 private:
  std::vector<Site> sites_;
};

}  // namespace aidi::costmodel
