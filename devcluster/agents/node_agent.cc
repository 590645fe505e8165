#include "devcluster/agents/node_agent.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "base/base64.h"
#include "base/clock.h"
#include "base/log.h"
#include "devcluster/agents/pod_exec.h"
#include "kube/client/api.h"
#include "kube/client/client.h"
#include "kube/runtime/controller.h"

extern char** environ;

namespace aidi::devcluster {

using nlohmann::json;
namespace fs = std::filesystem;

std::string ExpandEnvReferences(const std::string& text,
                                const std::vector<std::pair<std::string, std::string>>& env) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '$') {  // $$ is a literal dollar
      out += '$';
      ++i;
      continue;
    }
    std::size_t close = text[i + 1] == '(' ? text.find(')', i + 2) : std::string::npos;
    if (close == std::string::npos) {
      out += text[i];
      continue;
    }
    const std::string name = text.substr(i + 2, close - i - 2);
    auto it =
        std::find_if(env.rbegin(), env.rend(), [&](const auto& e) { return e.first == name; });
    out += it != env.rend() ? it->second : text.substr(i, close - i + 1);
    i = close;
  }
  return out;
}

std::vector<std::string> EnvironmentStrings(
    const std::vector<std::pair<std::string, std::string>>& env) {
  std::vector<std::string> names;
  std::map<std::string, std::string> last;
  for (const auto& [k, v] : env) {
    if (last.find(k) == last.end()) names.push_back(k);
    last[k] = v;
  }
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(n + "=" + last[n]);
  return out;
}

namespace {

const kube::ResourceRef kPvcs{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};

constexpr std::size_t kMaxTerminationMessage = 4096;  // the kubelet's limit

// What a container needs to be retried later rather than failed (a missing claim or ConfigMap).
struct NotReadyYet {
  std::string message;
};

struct ContainerRun {
  std::string name;
  std::string image;
  pid_t pid = -1;
  std::string started_at;
  bool finished = false;
  int exit_code = 0;
  int signal = 0;
  std::string finished_at;
  std::string log_path;
  std::string termination_log;
  std::string start_error_file;
  std::string message_policy;  // terminationMessagePolicy
};

struct PodRun {
  kube::ObjectKey key;
  std::string uid;
  std::string dir;
  std::string started_at;
  std::vector<ContainerRun> containers;
  bool reported_final = false;
  bool killing = false;
  std::chrono::steady_clock::time_point kill_deadline;
};

std::string Now() { return FormatRfc3339(Clock::Real().Now()); }

std::string ReadFileLimited(const std::string& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string s(limit, '\0');
  in.read(s.data(), static_cast<std::streamsize>(limit));
  s.resize(static_cast<std::size_t>(in.gcount()));
  return s;
}

// The last `lines` lines and at most `bytes` bytes of a file.
std::string Tail(const std::string& text, std::size_t lines, std::size_t bytes) {
  std::size_t start = text.size();
  std::size_t seen = 0;
  std::size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  for (std::size_t i = end; i > 0; --i) {
    if (text[i - 1] == '\n' && ++seen == lines) {
      start = i;
      break;
    }
    start = i - 1;
  }
  std::string tail = text.substr(start);
  if (tail.size() > bytes) tail = tail.substr(tail.size() - bytes);
  return tail;
}

std::string FieldPathValue(const json& pod, const std::string& path) {
  auto str = [&](const json::json_pointer& p) {
    return pod.contains(p) && pod[p].is_string() ? pod[p].get<std::string>() : std::string();
  };
  if (path == "metadata.name") return str("/metadata/name"_json_pointer);
  if (path == "metadata.namespace") return str("/metadata/namespace"_json_pointer);
  if (path == "metadata.uid") return str("/metadata/uid"_json_pointer);
  if (path == "spec.nodeName") return str("/spec/nodeName"_json_pointer);
  if (path == "spec.serviceAccountName") return str("/spec/serviceAccountName"_json_pointer);
  if (path == "status.hostIP" || path == "status.podIP") return "127.0.0.1";
  for (const char* field : {"labels", "annotations"}) {
    std::string prefix = std::string("metadata.") + field + "['";
    if (path.rfind(prefix, 0) == 0 && path.size() > prefix.size() + 2) {
      std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      const json& map = pod["metadata"].value(field, json::object());
      return map.contains(key) && map[key].is_string() ? map[key].get<std::string>() : "";
    }
  }
  throw NotReadyYet{"fieldRef " + path + " is not supported by devcluster's node agent"};
}

std::optional<unsigned> OptUint(const json& sc, const char* key) {
  if (sc.is_object() && sc.contains(key) && sc[key].is_number_integer() &&
      sc[key].get<long long>() >= 0) {
    return sc[key].get<unsigned>();
  }
  return std::nullopt;
}

}  // namespace

struct NodeAgent::Impl {
  Impl(std::shared_ptr<kube::Client> c, NodeAgentOptions o)
      : client(std::move(c)),
        options(std::move(o)),
        controller(client, kube::resources::kPods, {.name = "node-agent", .concurrency = 2}) {
    nodes.insert(options.nodes.begin(), options.nodes.end());
  }

  std::shared_ptr<kube::Client> client;
  NodeAgentOptions options;
  std::set<std::string> nodes;
  kube::Controller controller;

  mutable std::mutex mu;
  std::map<std::string, PodRun> runs;  // by pod uid
  // One thread per running container (Reap); each sets its flag last, and finished ones are
  // joined whenever a pod starts, so a long-lived agent does not keep a thread per pod ever run.
  struct Reaper {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Reaper> reapers;
  bool stopping = false;
  // Pods whose containers an earlier agent began to start (it wrote their exec specs), read
  // from the state folder before the first reconcile: that agent may have died before their
  // status said Running, and their processes died with it. They are lost like Running ones,
  // never started again: a pipeline's stage attempt must not run twice.
  std::set<std::string> started_before;  // pod uids

  void JoinFinishedReapersLocked() {
    std::erase_if(reapers, [](Reaper& r) {
      if (!r.done->load()) return false;
      r.thread.join();
      return true;
    });
  }

  std::string PodDir(const std::string& ns, const std::string& name, const std::string& uid) const {
    return options.state_dir + "/pods/" + ns + "_" + name + "_" + uid;
  }

  StatusOr<kube::Action> Reconcile(const kube::ObjectKey& key, const std::optional<json>& pod);
  void KillLocked(PodRun& run, std::chrono::seconds grace);
  void Forget(const kube::ObjectKey& key);
  json PrepareVolumes(const json& pod, const std::string& dir, std::optional<unsigned> fs_group);
  std::vector<std::pair<std::string, std::string>> ResolveEnv(const json& pod,
                                                              const json& container);
  StatusOr<json> GetObject(const kube::ResourceRef& rt, const std::string& ns,
                           const std::string& name, const std::string& what);
  std::optional<json> KeyValues(bool secret, const std::string& ns, const std::string& name,
                                bool optional, bool binary_data);
  Status Start(const json& pod, PodRun& run);
  void Reap(std::string uid, std::size_t index, pid_t pid, std::shared_ptr<std::atomic<bool>> done);
  Status WriteStatus(const PodRun& run);
  Status WriteWaiting(const json& pod, const std::string& reason, const std::string& message);
  Status WriteLost(const json& pod);
};

NodeAgent::NodeAgent(std::shared_ptr<kube::Client> client, NodeAgentOptions options)
    : impl_(std::make_unique<Impl>(std::move(client), std::move(options))) {}

NodeAgent::~NodeAgent() { Stop(); }

void NodeAgent::Run() {
  const fs::path pods = impl_->options.state_dir + "/pods";
  fs::create_directories(pods);
  std::error_code ec;
  for (const auto& dir : fs::directory_iterator(pods, ec)) {  // PodDir: <ns>_<name>_<uid>
    const std::string name = dir.path().filename().string();
    std::error_code files_ec;
    for (const auto& file : fs::directory_iterator(dir.path(), files_ec)) {
      if (file.path().filename().string().ends_with(".exec.json")) {
        impl_->started_before.insert(name.substr(name.rfind('_') + 1));
        break;
      }
    }
  }
  impl_->controller.Run([this](const kube::ObjectKey& key, const std::optional<json>& pod) {
    return impl_->Reconcile(key, pod);
  });
}

void NodeAgent::Stop() {
  impl_->controller.Stop();
  std::vector<Impl::Reaper> reapers;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping && impl_->reapers.empty()) return;
    impl_->stopping = true;
    for (auto& [uid, run] : impl_->runs) impl_->KillLocked(run, std::chrono::seconds(2));
    reapers.swap(impl_->reapers);
  }
  for (auto& r : reapers) r.thread.join();
}

void NodeAgent::Impl::KillLocked(PodRun& run, std::chrono::seconds grace) {
  if (run.killing) return;
  run.killing = true;
  run.kill_deadline = std::chrono::steady_clock::now() + grace;
  for (auto& c : run.containers) {
    if (!c.finished && c.pid > 0) ::kill(-c.pid, SIGTERM);  // its session: the whole tree
  }
}

// Waits for one container process; escalates to SIGKILL once a kill's grace period is over.
void NodeAgent::Impl::Reap(std::string uid, std::size_t index, pid_t pid,
                           std::shared_ptr<std::atomic<bool>> done) {
  // Set however this returns, after everything else: the thread may then be joined at once.
  struct MarkDone {
    std::shared_ptr<std::atomic<bool>> done;
    ~MarkDone() { done->store(true); }
  } mark_done{std::move(done)};
  int status = 0;
  bool killed = false;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) {
      // What the container left behind in its session goes with it, as a runtime stops the
      // container's cgroup when its main process ends.
      ::kill(-pid, SIGKILL);
      break;
    }
    {
      std::lock_guard lock(mu);
      auto it = runs.find(uid);
      if (it != runs.end() && it->second.killing && !killed &&
          std::chrono::steady_clock::now() >= it->second.kill_deadline) {
        ::kill(-pid, SIGKILL);
        killed = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  kube::ObjectKey key;
  {
    std::lock_guard lock(mu);
    auto it = runs.find(uid);
    if (it == runs.end()) return;
    ContainerRun& c = it->second.containers[index];
    c.finished = true;
    c.finished_at = Now();
    if (WIFEXITED(status)) {
      c.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      c.signal = WTERMSIG(status);
      c.exit_code = 128 + c.signal;
    }
    key = it->second.key;
    log::Info("container exited",
              {{"pod", key.String()}, {"container", c.name}, {"exitCode", c.exit_code}});
  }
  controller.Enqueue(key);
}

StatusOr<json> NodeAgent::Impl::GetObject(const kube::ResourceRef& rt, const std::string& ns,
                                          const std::string& name, const std::string& what) {
  auto got = kube::Api(client, rt, ns).GetIfExists(name);
  if (!got.ok()) return got.status();
  if (!got->has_value()) return Status::NotFound(what + " \"" + name + "\" not found");
  return std::move(**got);
}

// The keys of a ConfigMap (`data`, plus `binaryData` when asked) or a Secret, values decoded;
// nullopt when it is missing and `optional`. Missing otherwise: the pod waits (NotReadyYet).
std::optional<json> NodeAgent::Impl::KeyValues(bool secret, const std::string& ns,
                                               const std::string& name, bool optional,
                                               bool binary_data) {
  auto got = secret ? GetObject(kube::resources::kSecrets, ns, name, "secret")
                    : GetObject(kube::resources::kConfigMaps, ns, name, "configmap");
  if (!got.ok()) {
    if (optional && got.status().IsNotFound()) return std::nullopt;
    throw NotReadyYet{got.status().message()};
  }
  json out = json::object();
  for (const char* field : {"data", "binaryData"}) {
    const bool encoded = secret || std::string_view(field) == "binaryData";
    if (!secret && encoded && !binary_data) continue;
    const json entries = got->value(field, json::object());
    for (const auto& [k, v] : entries.items()) {
      std::string value = v.is_string() ? v.get<std::string>() : "";
      out[k] = encoded ? Base64Decode(value).value_or("") : value;
    }
  }
  return out;
}

json NodeAgent::Impl::PrepareVolumes(const json& pod, const std::string& dir,
                                     std::optional<unsigned> fs_group) {
  const std::string ns = pod["metadata"].value("namespace", "default");
  json paths = json::object();  // volume name -> {path, readOnly}
  auto own = [&](const std::string& path) {
    if (::geteuid() != 0 || !fs_group) return;
    // fsGroup: the volume's group, setgid so new files keep it, group-writable.
    if (::chown(path.c_str(), static_cast<uid_t>(-1), *fs_group) == 0) ::chmod(path.c_str(), 02775);
  };
  for (const json& v : pod["spec"].value("volumes", json::array())) {
    const std::string name = v.value("name", "");
    std::string path;
    bool read_only = false;
    if (v.contains("emptyDir")) {
      path = dir + "/volumes/" + name;
      fs::create_directories(path);
      own(path);
    } else if (v.contains("persistentVolumeClaim")) {
      const json& src = v["persistentVolumeClaim"];
      const std::string claim = src.value("claimName", "");
      auto pvc = GetObject(kPvcs, ns, claim, "persistentvolumeclaim");
      if (!pvc.ok()) throw NotReadyYet{pvc.status().message()};
      path = options.state_dir + "/volumes/pvc/" + ns + "/" + claim;
      if (!fs::exists(path)) {
        fs::create_directories(path);
        own(path);
      }
      read_only = src.value("readOnly", false);
      if ((*pvc).value("status", json::object()).value("phase", "") != "Bound") {
        // No provisioner runs here: the agent's folder is the claim's volume.
        json spec = (*pvc).value("spec", json::object());
        json status = {{"phase", "Bound"},
                       {"accessModes", spec.value("accessModes", json::array({"ReadWriteOnce"}))}};
        json storage = spec.value("resources", json::object()).value("requests", json::object());
        if (storage.contains("storage")) status["capacity"] = {{"storage", storage["storage"]}};
        auto bound = kube::Api(client, kPvcs, ns)
                         .PatchStatus(claim, kube::PatchType::kMerge, {{"status", status}});
        if (!bound.ok()) {
          log::Warn("cannot mark the claim Bound",
                    {{"claim", ns + "/" + claim}, {"error", bound.status().message()}});
        }
      }
    } else if (v.contains("hostPath")) {
      path = v["hostPath"].value("path", "");
      const std::string type = v["hostPath"].value("type", "");
      if (type == "DirectoryOrCreate") fs::create_directories(path);
      if (!fs::exists(path)) throw NotReadyYet{"hostPath " + path + " does not exist"};
    } else if (v.contains("configMap") || v.contains("secret")) {
      const bool secret = v.contains("secret");
      const json& src = secret ? v["secret"] : v["configMap"];
      const std::string object = src.value(secret ? "secretName" : "name", "");
      path = dir + "/volumes/" + name;
      read_only = true;
      const json data = KeyValues(secret, ns, object, src.value("optional", false),
                                  /*binary_data=*/true)
                            .value_or(json::object());
      fs::create_directories(path);
      json items = src.value("items", json::array());
      for (const auto& [k, content] : data.items()) {
        const std::string key = k;  // a lambda may not capture a structured binding (C++20)
        std::string file = key;
        if (!items.empty()) {
          auto it = std::find_if(items.begin(), items.end(),
                                 [&](const json& i) { return i.value("key", "") == key; });
          if (it == items.end()) continue;
          file = it->value("path", key);
        }
        fs::create_directories(fs::path(path + "/" + file).parent_path());
        std::ofstream(path + "/" + file, std::ios::binary) << content.get<std::string>();
      }
      own(path);
    } else {
      std::string kinds;
      for (const auto& [k, _] : v.items()) kinds += k == "name" ? "" : k;
      throw NotReadyYet{"volume \"" + name + "\": " + kinds +
                        " volumes are not supported by devcluster's node agent"};
    }
    paths[name] = {{"path", path}, {"readOnly", read_only}};
  }
  return paths;
}

std::vector<std::pair<std::string, std::string>> NodeAgent::Impl::ResolveEnv(
    const json& pod, const json& container) {
  const std::string ns = pod["metadata"].value("namespace", "default");
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOSTNAME", pod["metadata"].value("name", "")},
      {"HOME", "/"}};
  auto key_of = [&](const json& ref, bool secret) -> std::optional<std::string> {
    const bool optional = ref.value("optional", false);
    auto data = KeyValues(secret, ns, ref.value("name", ""), optional, /*binary_data=*/false);
    if (!data) return std::nullopt;
    const std::string key = ref.value("key", "");
    if (!data->contains(key)) {
      if (optional) return std::nullopt;
      throw NotReadyYet{"key \"" + key + "\" not found in " + (secret ? "secret " : "configmap ") +
                        ref.value("name", "")};
    }
    return (*data)[key].get<std::string>();
  };
  for (const json& from : container.value("envFrom", json::array())) {
    const bool secret = from.contains("secretRef");
    const json& ref = secret ? from["secretRef"] : from.value("configMapRef", json::object());
    auto data = KeyValues(secret, ns, ref.value("name", ""), ref.value("optional", false),
                          /*binary_data=*/false);
    if (!data) continue;
    for (const auto& [k, v] : data->items()) {
      env.emplace_back(from.value("prefix", "") + k, v.get<std::string>());
    }
  }
  for (const json& e : container.value("env", json::array())) {
    const std::string name = e.value("name", "");
    if (e.contains("valueFrom")) {
      const json& from = e["valueFrom"];
      std::optional<std::string> value;
      if (from.contains("fieldRef"))
        value = FieldPathValue(pod, from["fieldRef"].value("fieldPath", ""));
      else if (from.contains("configMapKeyRef"))
        value = key_of(from["configMapKeyRef"], false);
      else if (from.contains("secretKeyRef"))
        value = key_of(from["secretKeyRef"], true);
      else
        throw NotReadyYet{"env " + name + ": this valueFrom is not supported by devcluster"};
      if (value) env.emplace_back(name, *value);
    } else {
      env.emplace_back(name, ExpandEnvReferences(e.value("value", ""), env));
    }
  }
  return env;
}

Status NodeAgent::Impl::Start(const json& pod, PodRun& run) {
  const json& spec = pod["spec"];
  const json pod_sc = spec.value("securityContext", json::object());
  const std::optional<unsigned> fs_group = OptUint(pod_sc, "fsGroup");
  fs::create_directories(run.dir);
  json volumes = PrepareVolumes(pod, run.dir, fs_group);
  std::vector<unsigned> groups;
  if (fs_group) groups.push_back(*fs_group);
  for (const json& g : pod_sc.value("supplementalGroups", json::array())) {
    if (g.is_number_unsigned()) groups.push_back(g.get<unsigned>());
  }
  run.started_at = Now();
  for (const json& c : spec.value("containers", json::array())) {
    ContainerRun cr;
    cr.name = c.value("name", "");
    cr.image = c.value("image", "");
    cr.message_policy = c.value("terminationMessagePolicy", "File");
    cr.log_path = run.dir + "/" + cr.name + ".log";
    cr.termination_log = run.dir + "/" + cr.name + ".termination-log";
    cr.start_error_file = run.dir + "/" + cr.name + ".start-error";
    const json sc = c.value("securityContext", json::object());
    PodExecSpec exec;
    auto env = ResolveEnv(pod, c);
    for (const json& a : c.value("command", json::array()))
      exec.argv.push_back(ExpandEnvReferences(a, env));
    for (const json& a : c.value("args", json::array()))
      exec.argv.push_back(ExpandEnvReferences(a, env));
    if (c.value("command", json::array()).empty()) {
      throw NotReadyYet{"container \"" + cr.name +
                        "\": devcluster runs containers by their "
                        "command and cannot read image " +
                        cr.image + "'s entrypoint; set command"};
    }
    std::string path;  // the last PATH defined, with the agent's binary folder first
    for (const auto& [k, v] : env) {
      if (k == "PATH") path = v;
    }
    path = options.bin_dir + ":" + path;
    env.emplace_back("PATH", path);
    exec.env = EnvironmentStrings(env);
    exec.path = path;
    exec.working_dir = c.value("workingDir", "/");
    exec.uid = OptUint(sc, "runAsUser") ? OptUint(sc, "runAsUser") : OptUint(pod_sc, "runAsUser");
    exec.gid =
        OptUint(sc, "runAsGroup") ? OptUint(sc, "runAsGroup") : OptUint(pod_sc, "runAsGroup");
    const bool non_root = sc.value("runAsNonRoot", pod_sc.value("runAsNonRoot", false));
    if (non_root && !exec.uid) {
      // The image's USER is unknown here; aidi's images use 65532, so that stands in.
      exec.uid = 65532;
    }
    if (non_root && exec.uid && *exec.uid == 0) {
      throw NotReadyYet{"container \"" + cr.name + "\": runAsNonRoot is set but runAsUser is 0"};
    }
    if (!options.honour_run_as_user) {
      exec.uid.reset();
      exec.gid.reset();
    }
    exec.groups = groups;
    exec.read_only_root = sc.value("readOnlyRootFilesystem", false);
    exec.no_new_privs = !sc.value("allowPrivilegeEscalation", true);
    for (const json& m : c.value("volumeMounts", json::array())) {
      const std::string vname = m.value("name", "");
      if (!volumes.contains(vname)) {
        throw NotReadyYet{"container \"" + cr.name + "\": volumeMount " + vname +
                          " names no volume of the pod"};
      }
      std::string source = volumes[vname]["path"];
      if (m.contains("subPath") && !m["subPath"].get<std::string>().empty()) {
        source += "/" + m["subPath"].get<std::string>();
        fs::create_directories(source);
      }
      exec.mounts.push_back({source, m.value("mountPath", ""),
                             m.value("readOnly", false) || volumes[vname]["readOnly"].get<bool>()});
    }
    exec.node_software = options.bin_dir;
    exec.dev_dir = run.dir + "/" + cr.name + ".dev";
    fs::create_directories(exec.dev_dir);
    exec.termination_log = cr.termination_log;
    exec.start_error_file = cr.start_error_file;
    { std::ofstream(cr.termination_log, std::ios::trunc); }
    if (::geteuid() == 0 && exec.uid) {
      [[maybe_unused]] int r =
          ::chown(cr.termination_log.c_str(), *exec.uid, exec.gid.value_or(*exec.uid));
    }
    const std::string spec_file = run.dir + "/" + cr.name + ".exec.json";
    std::ofstream(spec_file) << PodExecSpecToJson(exec).dump();

    int log_fd = ::open(cr.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
      return Status::Internal("cannot open " + cr.log_path + ": " + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    std::string arg0 = options.self_exe;
    std::string arg1 = kPodExecArg;
    std::string arg2 = spec_file;
    char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, options.self_exe.c_str(), &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(log_fd);
    if (rc != 0)
      return Status::Internal("cannot start " + options.self_exe + ": " + std::strerror(rc));
    cr.pid = pid;
    cr.started_at = Now();
    // For the next agent, should this one die before the status says Running (WriteLost).
    std::ofstream(run.dir + "/" + cr.name + ".pid") << pid;
    log::Info("container started", {{"pod", run.key.String()},
                                    {"container", cr.name},
                                    {"pid", static_cast<long>(pid)},
                                    {"command", exec.argv[0]}});
    run.containers.push_back(std::move(cr));
  }
  return Status::Ok();
}

namespace {

json ContainerStatus(const ContainerRun& c) {
  json cs = {{"name", c.name},        {"image", c.image},
             {"imageID", ""},         {"containerID", "devcluster://" + std::to_string(c.pid)},
             {"restartCount", 0},     {"ready", !c.finished},
             {"started", !c.finished}};
  if (!c.finished) {
    cs["state"] = {{"running", {{"startedAt", c.started_at}}}};
    return cs;
  }
  std::string start_error = ReadFileLimited(c.start_error_file, kMaxTerminationMessage);
  std::string message = ReadFileLimited(c.termination_log, kMaxTerminationMessage);
  if (message.empty() && c.exit_code != 0 && c.message_policy == "FallbackToLogsOnError") {
    message = Tail(ReadFileLimited(c.log_path, 1 << 20), 80, 2048);
  }
  std::string reason = c.exit_code == 0 ? "Completed" : "Error";
  if (!start_error.empty()) {
    reason = "StartError";
    message = start_error;
  }
  json terminated = {{"exitCode", c.exit_code},
                     {"reason", reason},
                     {"startedAt", c.started_at},
                     {"finishedAt", c.finished_at},
                     {"containerID", "devcluster://" + std::to_string(c.pid)}};
  if (c.signal != 0) terminated["signal"] = c.signal;
  while (!message.empty() && message.back() == '\n') message.pop_back();
  if (!message.empty()) terminated["message"] = message;
  cs["state"] = {{"terminated", std::move(terminated)}};
  return cs;
}

json Condition(const std::string& type, bool status, const std::string& now,
               const std::string& reason = "") {
  json c = {{"type", type},
            {"status", status ? "True" : "False"},
            {"lastProbeTime", nullptr},
            {"lastTransitionTime", now}};
  if (!reason.empty()) c["reason"] = reason;
  return c;
}

}  // namespace

Status NodeAgent::Impl::WriteStatus(const PodRun& run) {
  const std::string now = Now();
  bool all_done = true, all_ok = true;
  json statuses = json::array();
  for (const auto& c : run.containers) {
    all_done = all_done && c.finished;
    all_ok = all_ok && c.finished && c.exit_code == 0;
    statuses.push_back(ContainerStatus(c));
  }
  const std::string phase = !all_done ? "Running" : all_ok ? "Succeeded" : "Failed";
  const bool ready = !all_done;
  json status = {
      {"phase", phase},
      {"hostIP", "127.0.0.1"},
      {"hostIPs", json::array({{{"ip", "127.0.0.1"}}})},
      {"podIP", "127.0.0.1"},
      {"podIPs", json::array({{{"ip", "127.0.0.1"}}})},
      {"startTime", run.started_at},
      {"qosClass", "Burstable"},
      {"containerStatuses", std::move(statuses)},
      {"conditions",
       json::array({Condition("PodReadyToStartContainers", true, run.started_at),
                    Condition("Initialized", true, run.started_at),
                    Condition("Ready", ready, now, ready ? "" : "PodCompleted"),
                    Condition("ContainersReady", ready, now, ready ? "" : "PodCompleted"),
                    Condition("PodScheduled", true, run.started_at)})}};
  kube::Api pods(client, kube::resources::kPods, run.key.ns);
  auto patched = pods.PatchStatus(run.key.name, kube::PatchType::kMerge, {{"status", status}});
  if (patched.ok() && all_done) {
    log::Info("pod finished", {{"pod", run.key.String()}, {"phase", phase}});
  }
  return patched.status();
}

namespace {

// A status entry per container of `pod`, none of them running, all in `state`.
json NotRunningStatuses(const json& pod, const json& state) {
  json statuses = json::array();
  for (const json& c : pod["spec"].value("containers", json::array())) {
    statuses.push_back({{"name", c.value("name", "")},
                        {"image", c.value("image", "")},
                        {"imageID", ""},
                        {"restartCount", 0},
                        {"ready", false},
                        {"started", false},
                        {"state", state}});
  }
  return statuses;
}

}  // namespace

Status NodeAgent::Impl::WriteWaiting(const json& pod, const std::string& reason,
                                     const std::string& message) {
  json statuses =
      NotRunningStatuses(pod, {{"waiting", {{"reason", reason}, {"message", message}}}});
  const json current =
      pod.value("status", json::object()).value("containerStatuses", json::array());
  if (current == statuses) return Status::Ok();  // already says so: no write
  json status = {{"phase", "Pending"}, {"hostIP", "127.0.0.1"}, {"containerStatuses", statuses}};
  kube::Api pods(client, kube::resources::kPods, pod["metadata"].value("namespace", "default"));
  log::Warn("pod cannot start yet",
            {{"pod", pod["metadata"].value("name", "")}, {"reason", message}});
  return pods
      .PatchStatus(pod["metadata"].value("name", ""), kube::PatchType::kMerge, {{"status", status}})
      .status();
}

Status NodeAgent::Impl::WriteLost(const json& pod) {
  // The last agent's containers: their helpers died with it (parent-death signal), but children
  // they started may still run in the session named by the containerID, or, where the status
  // never said Running, by the pid file written just after the start.
  std::set<long> sessions;
  for (const json& cs :
       pod.value("status", json::object()).value("containerStatuses", json::array())) {
    const std::string id = cs.value("containerID", "");
    constexpr std::string_view kPrefix = "devcluster://";
    if (id.rfind(kPrefix, 0) == 0)
      sessions.insert(std::strtol(id.c_str() + kPrefix.size(), nullptr, 10));
  }
  const json& meta = pod["metadata"];
  std::error_code ec;
  for (const auto& file :
       fs::directory_iterator(PodDir(meta.value("namespace", "default"), meta.value("name", ""),
                                     meta.value("uid", "")),
                              ec)) {
    if (file.path().extension() != ".pid") continue;
    long pid = 0;
    std::ifstream(file.path()) >> pid;
    sessions.insert(pid);
  }
  for (long pid : sessions) {
    if (pid > 1) ::kill(-static_cast<pid_t>(pid), SIGKILL);
  }
  json statuses =
      NotRunningStatuses(pod, {{"terminated",
                                {{"exitCode", 137},
                                 {"reason", "Error"},
                                 {"message",
                                  "devcluster's node agent restarted while the container ran; its "
                                  "process was lost"},
                                 {"finishedAt", Now()}}}});
  kube::Api pods(client, kube::resources::kPods, pod["metadata"].value("namespace", "default"));
  return pods
      .PatchStatus(pod["metadata"].value("name", ""), kube::PatchType::kMerge,
                   {{"status", {{"phase", "Failed"}, {"containerStatuses", statuses}}}})
      .status();
}

void NodeAgent::Impl::Forget(const kube::ObjectKey& key) {
  std::lock_guard lock(mu);
  for (auto it = runs.begin(); it != runs.end();) {
    PodRun& run = it->second;
    if (run.key != key) {
      ++it;
      continue;
    }
    bool running = std::any_of(run.containers.begin(), run.containers.end(),
                               [](const ContainerRun& c) { return !c.finished; });
    if (running) {
      KillLocked(run, options.max_grace);
      ++it;  // the reaper reports; the next reconcile (pod gone) removes it
      continue;
    }
    std::error_code ec;
    fs::remove_all(run.dir, ec);
    it = runs.erase(it);
  }
}

StatusOr<kube::Action> NodeAgent::Impl::Reconcile(const kube::ObjectKey& key,
                                                  const std::optional<json>& pod) {
  if (!pod) {
    Forget(key);
    return kube::Action::AwaitChange();
  }
  const json& p = *pod;
  const std::string node = p["spec"].value("nodeName", "");
  if (!nodes.contains(node)) return kube::Action::AwaitChange();
  const std::string uid = p["metadata"].value("uid", "");
  const std::string phase = p.value("status", json::object()).value("phase", "Pending");
  std::unique_lock lock(mu);
  if (stopping) return kube::Action::AwaitChange();
  // An earlier pod of the same name (deleted and recreated): stop and drop it.
  for (auto& [other_uid, run] : runs) {
    if (run.key == key && other_uid != uid) KillLocked(run, std::chrono::seconds(0));
  }
  auto it = runs.find(uid);
  if (p["metadata"].contains("deletionTimestamp")) {
    if (it != runs.end()) KillLocked(it->second, options.max_grace);
    return kube::Action::AwaitChange();
  }
  if (it == runs.end()) {
    if (phase == "Succeeded" || phase == "Failed") return kube::Action::AwaitChange();
    if (phase == "Running" || started_before.contains(uid)) {
      lock.unlock();
      AIDI_RETURN_IF_ERROR(WriteLost(p));
      return kube::Action::AwaitChange();
    }
    if (!p["spec"].value("initContainers", json::array()).empty()) {
      lock.unlock();
      AIDI_RETURN_IF_ERROR(WriteWaiting(p, "CreateContainerConfigError",
                                        "devcluster's node agent does not run initContainers"));
      return kube::Action::AwaitChange();
    }
    // Started without the lock: preparing volumes and env reads the API, and the reapers and
    // other pods must not wait on that. A key is never reconciled twice at once.
    lock.unlock();
    PodRun run;
    run.key = key;
    run.uid = uid;
    run.dir = PodDir(key.ns, key.name, uid);
    auto undo = [&run] {  // containers already started when a later one could not be
      for (auto& c : run.containers) {
        ::kill(-c.pid, SIGKILL);
        ::waitpid(c.pid, nullptr, 0);
      }
    };
    try {
      if (Status started = Start(p, run); !started.ok()) {
        undo();
        return started;
      }
    } catch (const NotReadyYet& e) {
      undo();
      AIDI_RETURN_IF_ERROR(WriteWaiting(p, "ContainerCreating", e.message));
      return kube::Action::RequeueAfter(std::chrono::seconds(2));
    } catch (const fs::filesystem_error& e) {
      undo();
      return Status::Internal(std::string("preparing the pod's folders: ") + e.what());
    }
    lock.lock();
    if (stopping) {  // Stop() ran meanwhile and could not see these containers
      undo();
      return kube::Action::AwaitChange();
    }
    it = runs.emplace(uid, std::move(run)).first;
    JoinFinishedReapersLocked();
    for (std::size_t i = 0; i < it->second.containers.size(); ++i) {
      auto done = std::make_shared<std::atomic<bool>>(false);
      reapers.push_back(
          {std::thread(&Impl::Reap, this, uid, i, it->second.containers[i].pid, done), done});
    }
    PodRun snapshot = it->second;
    lock.unlock();
    AIDI_RETURN_IF_ERROR(WriteStatus(snapshot));
    return kube::Action::AwaitChange();
  }
  PodRun& run = it->second;
  bool all_done = std::all_of(run.containers.begin(), run.containers.end(),
                              [](const ContainerRun& c) { return c.finished; });
  if (!all_done || run.reported_final) return kube::Action::AwaitChange();
  PodRun snapshot = run;
  lock.unlock();
  AIDI_RETURN_IF_ERROR(WriteStatus(snapshot));
  lock.lock();
  if (auto again = runs.find(uid); again != runs.end()) again->second.reported_final = true;
  return kube::Action::AwaitChange();
}

StatusOr<std::string> NodeAgent::Logs(const std::string& ns, const std::string& pod,
                                      const std::string& container, const json& options) const {
  auto object = impl_->controller.store().Get(kube::ObjectKey{ns, pod});
  if (!object) return Status::NotFound("pods \"" + pod + "\" not found");
  const std::string uid = (*object)["metadata"].value("uid", "");
  if (options.value("previous", "false") == "true") {
    return Status::InvalidArgument("previous terminated container \"" + container + "\" in pod \"" +
                                   pod + "\" not found");
  }
  const std::string path = impl_->PodDir(ns, pod, uid) + "/" + container + ".log";
  if (!fs::exists(path)) {
    return Status::InvalidArgument("container \"" + container + "\" in pod \"" + pod +
                                   "\" is waiting to start: ContainerCreating");
  }
  std::string text = ReadFileLimited(path, 64 << 20);
  if (options.contains("tailLines")) {
    long lines = std::strtol(options["tailLines"].get<std::string>().c_str(), nullptr, 10);
    text = lines <= 0 ? "" : Tail(text, static_cast<std::size_t>(lines), text.size());
  }
  if (options.contains("limitBytes")) {
    long bytes = std::strtol(options["limitBytes"].get<std::string>().c_str(), nullptr, 10);
    if (bytes > 0 && static_cast<std::size_t>(bytes) < text.size()) text.resize(bytes);
  }
  return text;
}

}  // namespace aidi::devcluster
