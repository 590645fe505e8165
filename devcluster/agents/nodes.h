// Nodes: the v1 Node objects devcluster plays kubelet for (`--nodes FILE`).
//
// LoadNodesFile reads a YAML stream of standard v1 Nodes (labels, taints, capacity, allocatable,
// conditions) and checks what a kubelet would need: kind Node, apiVersion v1, a valid name,
// capacity quantities. NodeHeartbeat registers them through the API as a kubelet does on start
// (create, or bring an existing one from an earlier run up to date), then keeps them Ready: every
// `interval` it renews each node's Lease in kube-node-lease and refreshes the conditions'
// lastHeartbeatTime. Conditions given in the file win over the defaults (Ready=True and the three
// pressure conditions False), so a test can declare a NotReady node.
//
// Thread safety: Run() blocks its thread; Stop() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube {
class Client;
}

namespace aidi::devcluster {

// Errors name the file and the document: `nodes.yaml: document 2 (node "gpu-1"): ...`.
StatusOr<std::vector<nlohmann::json>> ParseNodes(const std::string& text,
                                                 const std::string& source);
StatusOr<std::vector<nlohmann::json>> LoadNodesFile(const std::string& path);

class NodeHeartbeat {
 public:
  NodeHeartbeat(std::shared_ptr<kube::Client> client, std::vector<nlohmann::json> nodes,
                std::chrono::milliseconds interval = std::chrono::seconds(10));
  // Creates or updates every node and its status once; errors name the node.
  Status Register();
  void Run();   // heartbeats until Stop()
  void Stop();  // idempotent

  std::vector<std::string> names() const;

 private:
  Status Beat(const nlohmann::json& node, bool full);

  std::shared_ptr<kube::Client> client_;
  std::vector<nlohmann::json> nodes_;
  std::chrono::milliseconds interval_;
  std::string since_;  // when this agent started: the conditions' lastTransitionTime
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace aidi::devcluster
