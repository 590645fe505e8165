#include "devcluster/agents/pod_exec.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace aidi::devcluster {

using nlohmann::json;

json PodExecSpecToJson(const PodExecSpec& spec) {
  json mounts = json::array();
  for (const auto& m : spec.mounts) {
    mounts.push_back({{"source", m.source}, {"target", m.target}, {"readOnly", m.read_only}});
  }
  json j = {{"argv", spec.argv},
            {"env", spec.env},
            {"path", spec.path},
            {"workingDir", spec.working_dir},
            {"groups", spec.groups},
            {"mounts", std::move(mounts)},
            {"devDir", spec.dev_dir},
            {"nodeSoftware", spec.node_software},
            {"terminationLog", spec.termination_log},
            {"startErrorFile", spec.start_error_file},
            {"readOnlyRoot", spec.read_only_root},
            {"noNewPrivs", spec.no_new_privs}};
  if (spec.uid) j["uid"] = *spec.uid;
  if (spec.gid) j["gid"] = *spec.gid;
  return j;
}

StatusOr<PodExecSpec> PodExecSpecFromJson(const json& j) {
  try {
    PodExecSpec s;
    s.argv = j.at("argv").get<std::vector<std::string>>();
    s.env = j.at("env").get<std::vector<std::string>>();
    s.path = j.at("path").get<std::string>();
    s.working_dir = j.at("workingDir").get<std::string>();
    s.groups = j.at("groups").get<std::vector<unsigned>>();
    for (const json& m : j.at("mounts")) {
      s.mounts.push_back({m.at("source").get<std::string>(), m.at("target").get<std::string>(),
                          m.at("readOnly").get<bool>()});
    }
    s.dev_dir = j.at("devDir").get<std::string>();
    s.node_software = j.value("nodeSoftware", "");
    s.termination_log = j.at("terminationLog").get<std::string>();
    s.start_error_file = j.at("startErrorFile").get<std::string>();
    s.read_only_root = j.at("readOnlyRoot").get<bool>();
    s.no_new_privs = j.at("noNewPrivs").get<bool>();
    if (j.contains("uid")) s.uid = j["uid"].get<unsigned>();
    if (j.contains("gid")) s.gid = j["gid"].get<unsigned>();
    if (s.argv.empty()) return Status::InvalidArgument("pod exec spec: argv is empty");
    return s;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("pod exec spec: ") + e.what());
  }
}

namespace {

// Everything below runs in the single-threaded helper, between its start and exec.

struct StartError {
  std::string message;
};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

void Check(bool ok, const std::string& what) {
  if (!ok) throw StartError{Errno(what)};
}

void WriteFileOrThrow(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  Check(fd >= 0, "open " + path);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  Check(ok, "write " + path);
}

// `shown` names the source in errors when `source` is a /proc/self/fd path.
void BindMount(const std::string& source, const std::string& target, bool read_only,
               const std::string& shown = "") {
  Check(::mount(source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) == 0,
        "bind " + (shown.empty() ? source : shown) + " at " + target);
  if (read_only) {
    Check(::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) == 0,
          "make " + target + " read-only");
  }
}

// Creates `target` (a directory, or an empty file when `file`) if it does not exist.
void EnsureMountPoint(const std::string& target, bool file) {
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) return;
  if (file) {
    std::filesystem::create_directories(std::filesystem::path(target).parent_path(), ec);
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    Check(fd >= 0, "create mount point " + target);
    ::close(fd);
    return;
  }
  std::filesystem::create_directories(target, ec);
  if (ec) throw StartError{"create mount point " + target + ": " + ec.message()};
}

void EnterMountNamespace() {
  if (::geteuid() == 0) {
    Check(::unshare(CLONE_NEWNS) == 0, "unshare a mount namespace");
  } else {
    // Not root: a user namespace in which we are root owns the new mount namespace.
    const uid_t uid = ::geteuid();
    const gid_t gid = ::getegid();
    Check(::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0,
          "unshare a user and mount namespace (devcluster runs pods as root or with "
          "unprivileged user namespaces)");
    WriteFileOrThrow("/proc/self/setgroups", "deny");
    WriteFileOrThrow("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1");
    WriteFileOrThrow("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
  }
  Check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0, "make mounts private");
}

// Builds a container's /dev in spec.dev_dir, then binds it over /dev.
void SetUpDev(const PodExecSpec& spec) {
  const std::string& dev = spec.dev_dir;
  Check(::mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k") == 0,
        "mount a tmpfs for /dev");
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    const std::string host = std::string("/dev/") + node;
    struct stat st {};
    if (::stat(host.c_str(), &st) != 0) continue;
    const std::string inside = dev + "/" + node;
    EnsureMountPoint(inside, true);
    BindMount(host, inside, false);
  }
  for (auto [name, target] : {std::pair{"fd", "/proc/self/fd"},
                              {"stdin", "/proc/self/fd/0"},
                              {"stdout", "/proc/self/fd/1"},
                              {"stderr", "/proc/self/fd/2"}}) {
    Check(::symlink(target, (dev + "/" + name).c_str()) == 0, std::string("link /dev/") + name);
  }
  const std::string shm = dev + "/shm";
  Check(::mkdir(shm.c_str(), 01777) == 0, "create /dev/shm");
  Check(::mount("shm", shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k") == 0,
        "mount /dev/shm");
  const std::string log = dev + "/termination-log";
  EnsureMountPoint(log, true);
  BindMount(spec.termination_log, log, false);
  BindMount(dev, "/dev", false);
}

std::string FindOnPath(const std::string& command, const std::string& path) {
  if (command.find('/') != std::string::npos) return command;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + command;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw StartError{"exec: \"" + command + "\": executable file not found in $PATH (" + path + ")"};
}

[[noreturn]] void SetUpAndExec(const PodExecSpec& spec) {
  Check(::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0, "set the parent-death signal");
  if (::getppid() == 1) throw StartError{"the node agent exited before the container started"};
  EnterMountNamespace();
  SetUpDev(spec);
  // Every source is opened before anything is mounted: a volume mounted over a folder that holds
  // the state directory (an emptyDir at /tmp with --state-dir under /tmp) would otherwise hide the
  // sources of the volumes after it. Each mount point is made just before its mount, so one inside
  // an earlier volume (/tmp/config under an emptyDir at /tmp) is made in that volume.
  std::vector<int> sources;
  for (const auto& m : spec.mounts) {
    int fd = ::open(m.source.c_str(), O_PATH | O_CLOEXEC);
    Check(fd >= 0, "open volume source " + m.source);
    sources.push_back(fd);
  }
  // The node's software under a volume's mountPath: the folder just below the mountPath on the
  // way to it, opened now (host view) and bound back once the volume is mounted.
  std::vector<std::pair<std::string, int>> keep(spec.mounts.size(), {"", -1});
  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    std::string target = spec.mounts[i].target;
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    if (target == "/" || spec.node_software.rfind(target + "/", 0) != 0) continue;
    const std::string rest = spec.node_software.substr(target.size() + 1);
    const std::string below = target + "/" + rest.substr(0, rest.find('/'));
    int fd = ::open(below.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) keep[i] = {below, fd};
  }
  // Volumes first: a bind mount takes the flags of the mount its source is on, and the state
  // folder may well be on the root filesystem. Remounting "/" afterwards leaves them writable.
  for (std::size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    struct stat st {};
    Check(::fstat(sources[i], &st) == 0, "stat volume source " + m.source);
    EnsureMountPoint(m.target, !S_ISDIR(st.st_mode));
    BindMount("/proc/self/fd/" + std::to_string(sources[i]), m.target, m.read_only, m.source);
    ::close(sources[i]);
    if (const auto& [below, fd] = keep[i]; fd >= 0) {
      EnsureMountPoint(below, false);
      BindMount("/proc/self/fd/" + std::to_string(fd), below, /*read_only=*/true, below);
      ::close(fd);
    }
  }
  if (spec.read_only_root) {
    Check(::mount(nullptr, "/", nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) == 0,
          "make the root filesystem read-only");
  }
  Check(::chdir(spec.working_dir.c_str()) == 0, "change to workingDir " + spec.working_dir);
  if (::geteuid() == 0 && spec.uid) {
    std::vector<gid_t> groups(spec.groups.begin(), spec.groups.end());
    Check(::setgroups(groups.size(), groups.data()) == 0, "set supplemental groups");
    gid_t gid = spec.gid.value_or(*spec.uid);
    Check(::setgid(gid) == 0, "set gid " + std::to_string(gid));
    Check(::setuid(*spec.uid) == 0, "set uid " + std::to_string(*spec.uid));
    // Changing credentials clears the parent-death signal: set it again, and make sure the
    // agent did not exit in between.
    Check(::prctl(PR_SET_PDEATHSIG, SIGKILL) == 0, "set the parent-death signal");
    if (::getppid() == 1) throw StartError{"the node agent exited before the container started"};
  }
  if (spec.no_new_privs) {
    Check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "set no_new_privs");
  }
  std::string exe = FindOnPath(spec.argv[0], spec.path);
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  ::execve(exe.c_str(), argv.data(), envp.data());
  throw StartError{Errno("exec " + exe)};
}

}  // namespace

int PodExecMain(const std::string& spec_file) {
  std::ifstream in(spec_file);
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  auto spec = PodExecSpecFromJson(j);
  if (!spec.ok()) {
    std::fprintf(stderr, "aidi-devcluster %s: %s: %s\n", kPodExecArg, spec_file.c_str(),
                 spec.status().message().c_str());
    return kStartErrorExitCode;
  }
  // Opened now: after the uid changes the pod folder may no longer be writable. Close-on-exec, so
  // a started container never sees it.
  int error_fd =
      ::open(spec->start_error_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  try {
    SetUpAndExec(*spec);
  } catch (const StartError& e) {
    std::fprintf(stderr, "devcluster could not start the container: %s\n", e.message.c_str());
    if (error_fd >= 0) {
      std::string line = e.message + "\n";
      [[maybe_unused]] auto n = ::write(error_fd, line.data(), line.size());
    }
  }
  return kStartErrorExitCode;
}

}  // namespace aidi::devcluster
