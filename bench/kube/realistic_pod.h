// RealisticPod: a pod that looks like a Deployment's pod in a real cluster (~4.5 KB of JSON):
// labels, annotations including kubectl's last-applied-configuration, an owner reference, three
// managedFields entries, two containers with env, resources, ports, volume mounts and probes,
// and a status with conditions, container statuses and pod IPs. Deterministic in `i`. Shared
// by the cache and sync benchmarks.
#pragma once

#include <nlohmann/json.hpp>

namespace aidi::kube::bench {

nlohmann::json RealisticPod(int i);

}  // namespace aidi::kube::bench
