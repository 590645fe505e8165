// Identity: the bearer token and TLS certificates devcluster serves with, kept in the state
// directory so that a restart on the same directory is the same server to its clients, as a real
// API server's certificates and tokens outlive its process. Without a state directory they are
// fresh per run.
//
// Files under STATE/identity/ (0600): token, ca.crt, server.crt, server.key, hosts (the names
// the certificate was issued for; certificates are re-issued when the hosts change, the token is
// kept). A token given on the command line wins and is not stored.
// Thread safety: plain functions, called once at start.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "http/tls_certs.h"

namespace aidi::devcluster {

struct Identity {
  std::string token;
  http::GeneratedCerts certs;  // empty when TLS is off
};

// `state_dir` "" keeps nothing. `token` "" means: the stored one, else a new random one.
StatusOr<Identity> LoadOrCreateIdentity(const std::string& state_dir, const std::string& token,
                                        bool tls, const std::vector<std::string>& hosts);

}  // namespace aidi::devcluster
