// HealthServer: the HTTP endpoints a controller's pod exposes to the kubelet and Prometheus.
//
//   GET /healthz  200 "ok" while every liveness check passes (503 naming the failing one)
//   GET /readyz   200 "ok" once every readiness check passes, e.g. "caches synced"
//   GET /metrics  Metrics::Render(), text/plain; version=0.0.4
// Anything else is 404. Served with cpprestsdk's listener (its headers stay in the .cc).
//
// Thread safety: add checks before Start(); checks run on the server's threads and must be
// thread-safe. Start/Stop from one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "kube/runtime/metrics.h"

namespace aidi::kube {

class HealthServer {
 public:
  // `metrics` (may be null: no /metrics) must outlive the server.
  explicit HealthServer(Metrics* metrics);
  ~HealthServer();  // stops
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  void AddLivenessCheck(std::string name, std::function<bool()> check);
  void AddReadinessCheck(std::string name, std::function<bool()> check);

  // Serves on "HOST:PORT" (e.g. "0.0.0.0:8081"). Fails with a message naming the address.
  Status Start(const std::string& address);
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aidi::kube
