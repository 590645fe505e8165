// CredentialSource: where the client gets the bearer token (or client certificate) it sends.
//
// Sources: a fixed token; a token file (the in-cluster service-account token, rotated by the
// kubelet) re-read at least every minute and at once after a 401; an exec credential plugin
// (client.authentication.k8s.io/v1 ExecCredential) whose result is cached until its
// expirationTimestamp and re-run after a 401. The client calls Invalidate() when the server
// answers 401, then Get() once more and retries the request a single time.
//
// Secrets never reach a log line: Describe() names the source, never its content.
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace aidi::kube {

struct Credentials {
  std::string bearer_token;     // "" when the source gives none
  std::string client_cert_pem;  // exec plugins may return a client certificate instead
  std::string client_key_pem;
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The credentials to use now (cached where the source allows).
  virtual StatusOr<Credentials> Get() = 0;
  // The server rejected the last credentials: drop any cache so the next Get() refreshes.
  virtual void Invalidate() = 0;
  // "token file /var/run/secrets/...", "exec plugin aws": never the secret itself.
  virtual std::string Describe() const = 0;
};

std::shared_ptr<CredentialSource> NewStaticToken(std::string token);

// Re-reads `path` when `reread_every` has passed since the last read, or after Invalidate().
// A read failure keeps the last good token if there is one (the kubelet rewrites the file by
// rename, so a failed read is transient) and is an error only when no token was ever read.
// Surrounding whitespace is trimmed; an empty file counts as a failed read. `clock` (its
// Monotonic()) must outlive the source.
std::shared_ptr<CredentialSource> NewTokenFile(
    std::string path, const Clock& clock,
    std::chrono::seconds reread_every = std::chrono::seconds(60));

// A kubeconfig `users[].user.exec` stanza.
struct ExecConfig {
  std::string api_version = "client.authentication.k8s.io/v1";
  std::string command;  // resolved through PATH, or relative to the kubeconfig's directory
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the process environment
  std::string install_hint;                              // shown when the command is missing
  bool provide_cluster_info = false;
  std::string interactive_mode = "IfAvailable";  // we never have a terminal: Never semantics
  std::string base_dir;                          // the kubeconfig's directory
  // When provide_cluster_info: spec.cluster as KUBERNETES_EXEC_INFO carries it.
  std::string cluster_server;
  std::string cluster_ca_pem;
  std::string cluster_tls_server_name;
  bool cluster_insecure_skip_tls_verify = false;
};

// Runs the plugin (stdout: ExecCredential JSON; stdin /dev/null; stderr passed through), with
// KUBERNETES_EXEC_INFO set, and kills it (and its process group) when it runs past `timeout`;
// caches the credential until status.expirationTimestamp by `clock`'s Now() (until
// Invalidate() if absent). Concurrent Get() calls share one run. `clock` must outlive the source.
std::shared_ptr<CredentialSource> NewExecPlugin(
    ExecConfig config, const Clock& clock, std::chrono::seconds timeout = std::chrono::seconds(60));

}  // namespace aidi::kube
