// Self-signed certificate authority and server certificate for `aidi-devcluster --tls`.
//
// Generates, with OpenSSL, an EC P-256 CA ("aidi-devcluster-ca") and a server certificate it
// signs, valid for one year, with subjectAltNames for every host given (DNS names and IP
// addresses; "localhost", "127.0.0.1" and "::1" are always included). Pure computation; safe to
// call from any thread.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace aidi::http {

struct GeneratedCerts {
  std::string ca_cert_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

StatusOr<GeneratedCerts> GenerateCerts(const std::vector<std::string>& hosts);

}  // namespace aidi::http
