#include "devcluster/identity.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace aidi::devcluster {

namespace fs = std::filesystem;

namespace {

std::string RandomToken() {
  std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  std::string t;
  for (int i = 0; i < 48; ++i) t += kHex[rd() % 16];
  return t;
}

std::string ReadOrEmpty(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return "";
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes through a temporary file and a rename, so a crash never leaves half a key.
Status WritePrivate(const fs::path& p, const std::string& text) {
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Internal("cannot write " + tmp.string());
    out << text;
    if (!out.flush()) return Status::Internal("cannot write " + tmp.string());
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) return Status::Internal("cannot rename " + tmp.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

StatusOr<Identity> LoadOrCreateIdentity(const std::string& state_dir, const std::string& token,
                                        bool tls, const std::vector<std::string>& hosts) {
  Identity id;
  id.token = token;
  fs::path dir;
  if (!state_dir.empty()) {
    dir = fs::path(state_dir) / "identity";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::Internal("cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  if (id.token.empty() && !dir.empty()) id.token = ReadOrEmpty(dir / "token");
  if (id.token.empty()) {
    id.token = RandomToken();
    if (!dir.empty()) {
      if (Status s = WritePrivate(dir / "token", id.token); !s.ok()) return s;
    }
  }
  if (!tls) return id;

  std::string wanted_hosts;
  for (const auto& h : hosts) wanted_hosts += h + "\n";
  if (!dir.empty() && ReadOrEmpty(dir / "hosts") == wanted_hosts) {
    id.certs.ca_cert_pem = ReadOrEmpty(dir / "ca.crt");
    id.certs.server_cert_pem = ReadOrEmpty(dir / "server.crt");
    id.certs.server_key_pem = ReadOrEmpty(dir / "server.key");
    if (!id.certs.ca_cert_pem.empty() && !id.certs.server_cert_pem.empty() &&
        !id.certs.server_key_pem.empty()) {
      return id;
    }
  }
  auto certs = http::GenerateCerts(hosts);
  if (!certs.ok()) return certs.status();
  id.certs = *certs;
  if (!dir.empty()) {
    for (auto [name, text] : {std::pair{"ca.crt", &id.certs.ca_cert_pem},
                              {"server.crt", &id.certs.server_cert_pem},
                              {"server.key", &id.certs.server_key_pem},
                              {"hosts", &wanted_hosts}}) {
      if (Status s = WritePrivate(dir / name, *text); !s.ok()) return s;
    }
  }
  return id;
}

}  // namespace aidi::devcluster
