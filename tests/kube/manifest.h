// Manifests for integration tests: YAML files (crds/, examples/) read as the API server reads
// them, so a test installs the project's real CRDs instead of a copy.
//
//   auto crd = LoadManifest(std::string(AIDI_SOURCE_DIR) + "/crds/edgesites.aidi.dev.yaml");
//   Api(client, resources::kCustomResourceDefinitions, "").Create(*crd);
//
// Pure functions; safe from any thread.
#pragma once

#include <string>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube::testing {

// YAML to JSON as the API server reads a manifest: quoted scalars stay strings; plain ones
// become null, booleans, integers or floats where they spell one.
nlohmann::json YamlToJson(const YAML::Node& node);

// The first document of a YAML file, as JSON. NotFound or InvalidArgument, naming the file.
StatusOr<nlohmann::json> LoadManifest(const std::string& path);

}  // namespace aidi::kube::testing
