// Faults: test-only fault injection for `aidi-devcluster --enable-faults`, and the request log
// (counts by verb and resource, overall and per client) that fault and RBAC tests read back.
//
// Admin endpoints (bearer token required, only with --enable-faults):
//   POST   /devcluster/faults/drop-watches            close every open watch now
//   POST   /devcluster/faults/compact                 forget watch history: resumes get 410
//   POST   /devcluster/faults/errors   {"verb":"list","resource":"pods","code":500,
//                                       "probability":0.05,"count":-1,"retryAfterSeconds":1}
//   POST   /devcluster/faults/latency  {"verb":"*","resource":"*","milliseconds":200}
//   POST   /devcluster/faults/expire-token           the current token stops working; a new one
//                                                    is returned and written to the kubeconfig
//   DELETE /devcluster/faults                        clear error and latency rules
//   GET    /devcluster/requests                       {"total":N,"counts":{"list pods":3,...},
//                                                     "byAgent":{"aidi-operator":{"list pods":3,
//                                                     "create pods/binding":1,...},...}}
//   DELETE /devcluster/requests                       reset the counts
// "verb" and "resource" accept "*". A resource is "pods", "pods/binding", "pipelines/status"...;
// a non-resource request counts as its method and path ("GET /version"). The agent is the
// User-Agent's product (the text before the first '/', as managedFields names a manager: "kubectl",
// "aidi-operator"), "unknown" when the header is absent. Codes 409, 429, 500, 503 and 504 get their
// upstream Status bodies; 429/503/504 carry Retry-After.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "kube/core/api_status.h"

namespace aidi::devcluster {

class Faults {
 public:
  struct ErrorRule {
    std::string verb = "*";
    std::string resource = "*";
    int code = 500;
    double probability = 1.0;
    int count = -1;  // how many times to fire; -1 is unlimited
    int retry_after_seconds = 1;
  };
  struct LatencyRule {
    std::string verb = "*";
    std::string resource = "*";
    std::chrono::milliseconds delay{0};
  };

  static StatusOr<ErrorRule> ParseErrorRule(const nlohmann::json& body);
  static StatusOr<LatencyRule> ParseLatencyRule(const nlohmann::json& body);

  void AddErrorRule(ErrorRule rule);
  void AddLatencyRule(LatencyRule rule);
  void Clear();

  // The error to answer instead of serving `verb` on `resource`, if a rule fires.
  std::optional<kube::ApiError> MaybeFail(const std::string& verb, const std::string& resource);
  std::chrono::milliseconds Delay(const std::string& verb, const std::string& resource) const;

  void RecordRequest(const std::string& verb, const std::string& resource,
                     const std::string& agent = "unknown");
  nlohmann::json RequestCounts() const;
  void ResetRequestCounts();
  std::size_t injected() const;

 private:
  mutable std::mutex mu_;
  std::vector<ErrorRule> errors_;
  std::vector<LatencyRule> latencies_;
  std::map<std::string, std::uint64_t> counts_;
  std::map<std::string, std::map<std::string, std::uint64_t>> by_agent_;
  std::uint64_t total_ = 0;
  std::size_t injected_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace aidi::devcluster
