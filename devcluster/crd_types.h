// Turns a CustomResourceDefinition object into the ResourceTypes it serves (one per served
// version): names, scope, subresources, schema, printer columns, selectable fields. Also
// computes the CRD's status (acceptedNames and the NamesAccepted/Established conditions).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "devcluster/resource_type.h"

namespace aidi::devcluster {

StatusOr<std::vector<ResourceTypePtr>> ResourceTypesForCrd(const nlohmann::json& crd);

// The status a CRD should have once its names are accepted (`now` is RFC 3339).
nlohmann::json EstablishedCrdStatus(const nlohmann::json& crd, const std::string& now);

}  // namespace aidi::devcluster
