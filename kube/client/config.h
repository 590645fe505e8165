// ClientConfig: everything needed to talk to one API server, and the loaders that build it
// from kubeconfig files (merged as kubectl merges them) or from inside a pod.
//
// Loading order of LoadDefault, as controller-runtime's GetConfig: an explicit kubeconfig
// path; else $KUBECONFIG (a ':'-separated list, merged); else in-cluster (when
// KUBERNETES_SERVICE_HOST is set); else ~/.kube/config. TLS is verified by default: only an
// explicit `insecure-skip-tls-verify: true` turns it off.
//
// Plain values (the credential source is shared and thread-safe).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "kube/client/credentials.h"

namespace aidi::kube {

struct ClientConfig {
  std::string server;  // "https://10.0.0.1:443"
  std::string ca_pem;  // trusted CA bundle; "" means the system roots
  std::string client_cert_pem;
  std::string client_key_pem;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // overrides the name checked against the certificate (and SNI)
  std::string ns = "default";   // the context's namespace (or the pod's, in-cluster)
  std::shared_ptr<CredentialSource> credentials;  // null: no bearer token
  std::string user_agent = "aidi/0.1";

  // Client-side flow control (client-go defaults are 5/10; controllers raise them).
  double qps = 50;
  int burst = 100;
  // Whole-request timeout for non-watch calls; watches use their timeoutSeconds plus a margin.
  std::chrono::milliseconds request_timeout{30000};
  // 429 and 5xx are retried at most this many times, honouring Retry-After (capped).
  int max_retries = 5;
  std::chrono::seconds max_retry_after{10};
};

struct KubeconfigOptions {
  // Files to merge, first wins per key (kubectl's rule). Empty: $KUBECONFIG, else ~/.kube/config.
  std::vector<std::string> paths;
  std::string context;  // overrides current-context
  std::string ns;       // overrides the context's namespace
};

// Reads and merges kubeconfig files. Errors name the file and the missing or bad entry
// (`context "x" not found in /path/config`). Relative paths in a file (certificate-authority,
// client-certificate, client-key, tokenFile, an exec command with a '/') are relative to that
// file. $KUBECONFIG entries that do not exist are skipped (an error if none exists);
// explicit `paths` must all exist. Unsupported auth (username/password, auth-provider,
// impersonation) is an error, never silently dropped. `clock` must outlive the credentials.
StatusOr<ClientConfig> LoadKubeconfig(const KubeconfigOptions& options,
                                      const Clock& clock = Clock::Real());

struct InClusterOptions {
  // Overridable for tests; defaults are the kubelet's mount points.
  std::string token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT plus the service-account files.
StatusOr<ClientConfig> LoadInCluster(const InClusterOptions& options = {},
                                     const Clock& clock = Clock::Real());

// `kubeconfig_path` from a --kubeconfig flag ("" if not given); see the order above. The error
// when nothing is found names every place tried. `in_cluster` is overridable for tests.
StatusOr<ClientConfig> LoadDefault(const std::string& kubeconfig_path,
                                   const Clock& clock = Clock::Real(),
                                   const InClusterOptions& in_cluster = {});

}  // namespace aidi::kube
