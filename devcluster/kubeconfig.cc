#include "devcluster/kubeconfig.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/base64.h"

namespace aidi::devcluster {

std::string RenderKubeconfig(const KubeconfigData& d) {
  std::string out;
  out += "apiVersion: v1\nkind: Config\n";
  out += "clusters:\n- name: " + d.name + "\n  cluster:\n    server: " + d.server + "\n";
  if (!d.ca_pem.empty()) out += "    certificate-authority-data: " + Base64Encode(d.ca_pem) + "\n";
  out += "users:\n- name: " + d.name + "\n  user:\n    token: " + d.token + "\n";
  out += "contexts:\n- name: " + d.name + "\n  context:\n    cluster: " + d.name +
         "\n    user: " + d.name + "\n    namespace: default\n";
  out += "current-context: " + d.name + "\npreferences: {}\n";
  return out;
}

Status WriteKubeconfig(const std::string& path, const KubeconfigData& data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("writing kubeconfig " + tmp + ": " + std::strerror(errno));
  std::string text = RenderKubeconfig(data);
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Status::Internal("writing kubeconfig " + tmp + ": " + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::Internal("renaming kubeconfig to " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace aidi::devcluster
