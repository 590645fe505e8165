// The review kinds behind `kubectl auth can-i` and `kubectl auth whoami` (see reviews.cc).
#pragma once

#include <vector>

#include "devcluster/resource_type.h"

namespace aidi::devcluster {

std::vector<ResourceTypePtr> ReviewResourceTypes();

}  // namespace aidi::devcluster
