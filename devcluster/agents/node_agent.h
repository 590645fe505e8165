// NodeAgent: devcluster's kubelet. It runs every pod bound to one of its nodes as local
// processes, one per container, and reports pod status through the API as a kubelet does.
//
// Per pod (keyed by uid), driven by a kube::Controller over all pods:
//   - bound to one of our nodes and not yet started: volumes are prepared (emptyDir and the
//     configMap/secret files under the pod's folder; a PVC's folder under
//     STATE/volumes/pvc/NS/CLAIM, the claim marked Bound as a provisioner would; hostPath as is),
//     env resolved (value, fieldRef, configMapKeyRef, secretKeyRef, envFrom; $(VAR) expanded in
//     command and args), and each container started through pod_exec.h with the agent's binary
//     folder first on PATH; then status Running (conditions, containerStatuses, startTime);
//   - a container exits: once all have, phase Succeeded (all exit 0) or Failed, each container
//     terminated with exitCode, reason (Completed, Error, StartError) and message (the
//     termination-log file, or the log's tail under FallbackToLogsOnError);
//   - deleted: its processes get SIGTERM, SIGKILL after the grace period, and its folder goes;
//   - found Running with no process (the agent restarted), or Pending with the exec spec an
//     earlier agent writes just before it starts a container (that agent died before the
//     status said Running): Failed, since its process was lost, and what it left in its session
//     (named by the containerID, or the pid file written after the start) is killed. Never
//     started again, so a container runs at most once per pod.
// A pod that cannot start yet (a missing PVC, ConfigMap or Secret) waits in ContainerCreating
// with the reason in the container's waiting message and is retried.
// restartPolicy is treated as Never: a container that exits is not restarted, and
// initContainers are refused with a clear message.
//
// Logs() serves `kubectl logs` from STATE/pods/NS_NAME_UID/CONTAINER.log.
// Thread safety: Run() blocks its thread; Stop() and Logs() may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube {
class Client;
}

namespace aidi::devcluster {

struct NodeAgentOptions {
  std::vector<std::string> nodes;      // the node names this agent is kubelet for
  std::string state_dir;               // pods/ and volumes/ are made here
  std::string bin_dir;                 // put first on every container's PATH
  std::string self_exe;                // this binary, started as `SELF __pod-exec SPEC`
  std::chrono::seconds max_grace{30};  // caps terminationGracePeriodSeconds on deletion
  // false: every container runs as devcluster's own user, whatever runAsUser says (for a
  // checkout other users cannot read; see `--run-pods-as-self`).
  bool honour_run_as_user = true;
};

class NodeAgent {
 public:
  NodeAgent(std::shared_ptr<kube::Client> client, NodeAgentOptions options);
  ~NodeAgent();  // stops, killing every container
  NodeAgent(const NodeAgent&) = delete;
  NodeAgent& operator=(const NodeAgent&) = delete;

  void Run();   // blocks until Stop()
  void Stop();  // idempotent; kills every running container

  // A container's log, with `options` as the API's log query (tailLines, limitBytes,
  // previous); NotFound / InvalidArgument carry the message `kubectl logs` shows.
  StatusOr<std::string> Logs(const std::string& ns, const std::string& pod,
                             const std::string& container, const nlohmann::json& options) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// $(VAR) references in a command or argument, as the kubelet expands them: known names are
// replaced, unknown ones stay as written, and $$ escapes a dollar.
std::string ExpandEnvReferences(const std::string& text,
                                const std::vector<std::pair<std::string, std::string>>& env);

// "NAME=value" strings for execve, one per name, in the order names first appear, with the last
// definition's value (later env entries override the defaults and earlier ones, as the kubelet
// has it; execve's environment would otherwise hand getenv the first).
std::vector<std::string> EnvironmentStrings(
    const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace aidi::devcluster
