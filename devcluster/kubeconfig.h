// Writes the kubeconfig that points kubectl and client libraries at a running devcluster:
// one cluster (server URL, and the CA when serving TLS), one user (the bearer token), one
// context (namespace "default") made current. Written atomically (temporary file, fsync,
// rename) with mode 0600, since it holds a credential.
#pragma once

#include <string>

#include "base/status.h"

namespace aidi::devcluster {

struct KubeconfigData {
  std::string server;  // "https://127.0.0.1:6443"
  std::string token;
  std::string ca_pem;  // empty without TLS
  std::string name = "aidi-devcluster";
};

std::string RenderKubeconfig(const KubeconfigData& data);
Status WriteKubeconfig(const std::string& path, const KubeconfigData& data);

}  // namespace aidi::devcluster
