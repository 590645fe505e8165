// The benchmark's objects: ConfigMaps of about 1 KiB with the labels, annotations and data an
// aidi operator would put on a stage's configuration (app.kubernetes.io labels, aidi.dev
// pipeline/stage labels, a demand annotation, a config hash, params/env/retry data).
// Deterministic: the same index always gives the same bytes, so runs are comparable.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aidi::bench {

// The ConfigMap `name` in namespace `ns` as JSON for a POST (no resourceVersion). `revision`
// changes the data, for updates (PUT) of the same object.
std::string ConfigMapJson(std::string_view ns, std::string_view name, std::uint64_t index,
                          std::uint64_t revision = 0);

// "cm-<prefix>-000042".
std::string ConfigMapName(std::string_view prefix, std::uint64_t index);

// The collection path for ConfigMaps in `ns`: "/api/v1/namespaces/<ns>/configmaps".
std::string ConfigMapsPath(std::string_view ns);

// A Namespace object for a POST to /api/v1/namespaces.
std::string NamespaceJson(std::string_view name);

// The value of the first `"<field>":"..."` in `json` (no unescaping), or "". Enough for
// metadata.resourceVersion and metadata.continue, whose values never hold escapes, in bodies
// whose data does not contain those keys (ours).
std::string_view FindStringField(std::string_view json, std::string_view field);

}  // namespace aidi::bench
