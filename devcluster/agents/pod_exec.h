// Pod exec: how devcluster's node agent starts one container as a local process with the paths
// a container would see.
//
// The agent writes a PodExecSpec to a file and starts `aidi-devcluster __pod-exec FILE` (its own
// binary, so no second program ships), with stdout and stderr already on the container's log
// file and a new session. That helper is single-threaded, so it may set up the process freely
// before exec:
//   1. a private mount namespace (as root; otherwise inside a new user namespace where the caller
//      maps to root), propagation private so nothing leaks to the host;
//   2. a fresh /dev (tmpfs with null, zero, full, random, urandom, tty bound from the host, the
//      usual symlinks, /dev/shm) and /dev/termination-log bound to the host file the agent reads;
//   3. with readOnlyRootFilesystem, "/" remounted read-only in that namespace;
//   4. each volume bound at its mountPath (mount points that do not exist are created as empty
//      directories on the host, as a runtime would create them in the image), read-only ones
//      remounted read-only;
//   5. working directory, groups, gid and uid (only as root), no_new_privs when privilege
//      escalation is off, and a parent-death signal so a pod never outlives its agent;
//   6. the command found on the spec's PATH (the agent's own binary folder first) and exec'd.
// A failure before exec writes one line naming the step to the start-error file and to stderr
// (so to `kubectl logs`) and exits 128; the agent then reports the container as StartError.
//
// Thread safety: PodExecMain runs in the helper process only. The spec (de)serialisers are pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::devcluster {

// argv[1] of the helper invocation.
inline constexpr char kPodExecArg[] = "__pod-exec";
// The exit code of a container that could not start.
inline constexpr int kStartErrorExitCode = 128;

struct PodExecSpec {
  struct Mount {
    std::string source;  // host path
    std::string target;  // path inside the pod
    bool read_only = false;
  };
  std::vector<std::string> argv;  // command + args; argv[0] is looked up on `path`
  std::vector<std::string> env;   // "NAME=value"
  std::string path;               // the PATH used to find argv[0]
  std::string working_dir = "/";
  std::optional<unsigned> uid;  // honoured only when the helper runs as root
  std::optional<unsigned> gid;
  std::vector<unsigned> groups;  // supplemental groups (fsGroup, supplementalGroups)
  std::vector<Mount> mounts;
  std::string dev_dir;  // an empty host directory to build /dev in
  // The node's own software (the agent's binary folder): if a volume's mountPath is above it
  // (an emptyDir at /tmp with the checkout under /tmp), the folder just below that mountPath on
  // the way to it is bound back read-only, so PATH and the binaries' libraries still resolve.
  std::string node_software;
  std::string termination_log;   // host file bound at /dev/termination-log
  std::string start_error_file;  // where a start failure is described
  bool read_only_root = false;
  bool no_new_privs = true;
};

nlohmann::json PodExecSpecToJson(const PodExecSpec& spec);
StatusOr<PodExecSpec> PodExecSpecFromJson(const nlohmann::json& j);

// The helper's main: sets up and execs, or returns kStartErrorExitCode after describing why.
int PodExecMain(const std::string& spec_file);

}  // namespace aidi::devcluster
