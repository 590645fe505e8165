// DevclusterProcess: starts the real aidi-devcluster binary for a C++ integration test and
// hands out clients for it; the process is killed when the object goes away.
//
//   DevclusterProcess dc;                       // --enable-faults, TLS, a free port
//   ASSERT_TRUE(dc.Start().ok());
//   auto client = dc.NewClient();                // from the kubeconfig it wrote
//   dc.Fault("drop-watches");                    // POST /devcluster/faults/drop-watches
//
// The binary is $AIDI_DEVCLUSTER, else the path compiled in as AIDI_DEVCLUSTER_BIN.
// Thread safety: use from the test's thread; clients it returns are thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "kube/client/client.h"
#include "kube/client/config.h"
#include "kube/client/testing/temp_dir.h"

namespace aidi::kube::testing {

class DevclusterProcess {
 public:
  DevclusterProcess();
  ~DevclusterProcess();  // SIGKILL + wait; the temp dir goes with dir_
  DevclusterProcess(const DevclusterProcess&) = delete;
  DevclusterProcess& operator=(const DevclusterProcess&) = delete;

  // Starts the server and waits (up to 30 s) until its kubeconfig appears.
  Status Start(std::vector<std::string> extra_args = {});
  void Kill();

  const std::string& kubeconfig_path() const { return kubeconfig_; }
  const std::string& dir() const { return dir_.path(); }
  StatusOr<ClientConfig> Config() const;
  StatusOr<std::shared_ptr<Client>> NewClient() const;

  // POST /devcluster/faults/<name> with an optional JSON body; returns the answer.
  StatusOr<nlohmann::json> Fault(const std::string& name, const nlohmann::json& body = nullptr);
  // GET /devcluster/requests: {"total":N,"counts":{"list pods":3,...}}.
  StatusOr<nlohmann::json> Requests();

 private:
  TempDir dir_;
  std::string kubeconfig_;
  pid_t pid_ = -1;
  std::shared_ptr<Client> admin_;
};

}  // namespace aidi::kube::testing
