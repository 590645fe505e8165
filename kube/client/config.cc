#include "kube/client/config.h"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "base/base64.h"

namespace aidi::kube {
namespace {

std::string ErrnoText(int e) { return std::generic_category().message(e); }

// Reads a small file whole; on failure returns false with errno and its text.
bool ReadWholeFile(const std::string& path, std::string* out, std::string* error,
                   int* error_number = nullptr) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  int saved = errno;
  if (f != nullptr) {
    std::string text;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    bool failed = std::ferror(f) != 0;
    saved = errno;
    std::fclose(f);
    if (!failed) {
      *out = std::move(text);
      return true;
    }
  }
  *error = ErrnoText(saved);
  if (error_number != nullptr) *error_number = saved;
  return false;
}

std::string TrimSpace(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  std::size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string DirOf(const std::string& file) {
  std::string dir = std::filesystem::path(file).parent_path().string();
  return dir.empty() ? "." : dir;
}

// A path from a kubeconfig, made relative to the file that holds it (kubectl's rule).
std::string ResolvePath(const std::string& file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return DirOf(file) + "/" + path;
}

std::string HomeDir() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return home;
  passwd pw{};
  passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    return found->pw_dir;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Field readers. All take const nodes: yaml-cpp's non-const operator[] inserts missing keys.
// `where` names the entry for errors: `user "u" in /path/config`.

Status OptString(const YAML::Node& map, const char* key, const std::string& where,
                 std::string* out) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return Status::Ok();
  if (!n.IsScalar()) return Status::InvalidArgument(where + ": " + key + " must be a string");
  *out = n.Scalar();
  return Status::Ok();
}

Status OptBool(const YAML::Node& map, const char* key, const std::string& where, bool* out) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return Status::Ok();
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, *out)) {
    return Status::InvalidArgument(where + ": " + key + " must be true or false");
  }
  return Status::Ok();
}

bool Has(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  return n && !n.IsNull();
}

// `<key>-data` (base64) or `<key>` (a file, relative to the kubeconfig); data wins, as in
// kubectl. Sets *out to "" when neither is present.
Status ReadDataOrFile(const YAML::Node& map, const std::string& key, const std::string& file,
                      const std::string& where, std::string* out) {
  std::string data, path;
  std::string data_key = key + "-data";
  AIDI_RETURN_IF_ERROR(OptString(map, data_key.c_str(), where, &data));
  AIDI_RETURN_IF_ERROR(OptString(map, key.c_str(), where, &path));
  if (!data.empty()) {
    std::string compact;
    for (char c : data) {
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') compact += c;
    }
    std::optional<std::string> decoded = Base64Decode(compact);
    if (!decoded) return Status::InvalidArgument(where + ": " + data_key + " is not base64");
    *out = std::move(*decoded);
    return Status::Ok();
  }
  out->clear();
  if (path.empty()) return Status::Ok();
  std::string resolved = ResolvePath(file, path);
  std::string error;
  if (!ReadWholeFile(resolved, out, &error)) {
    return Status::InvalidArgument(where + ": " + key + " " + Quote(resolved) +
                                   " cannot be read: " + error);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Merging, as kubectl merges: for each named cluster, user and context the first file that
// defines the name wins; current-context comes from the first file that sets it.

struct Named {
  YAML::Node body;   // the `cluster:` / `user:` / `context:` mapping (may be null)
  std::string file;  // the file that defined it, for relative paths and errors
};

struct Merged {
  std::vector<std::string> files;
  std::map<std::string, Named> clusters, users, contexts;
  std::string current_context;
};

Status MergeSection(const YAML::Node& root, const char* list, const char* item,
                    const std::string& file, std::map<std::string, Named>* into) {
  const YAML::Node seq = root[list];
  if (!seq || seq.IsNull()) return Status::Ok();
  std::string where = "kubeconfig " + file;
  if (!seq.IsSequence()) return Status::InvalidArgument(where + ": " + list + " must be a list");
  for (const YAML::Node& entry : seq) {
    if (!entry.IsMap()) {
      return Status::InvalidArgument(where + ": each entry of " + list + " must be a mapping");
    }
    std::string name;
    AIDI_RETURN_IF_ERROR(OptString(entry, "name", where, &name));
    if (name.empty()) {
      return Status::InvalidArgument(where + ": an entry of " + list + " has no name");
    }
    const YAML::Node body = entry[item];
    if (body && !body.IsNull() && !body.IsMap()) {
      return Status::InvalidArgument(where + ": " + item + " " + Quote(name) +
                                     " must be a mapping");
    }
    into->try_emplace(name, Named{body && body.IsMap() ? body : YAML::Node(), file});
  }
  return Status::Ok();
}

Status MergeFile(const std::string& file, const std::string& text, Merged* merged) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("kubeconfig " + file + ": " + e.what());
  }
  merged->files.push_back(file);
  if (root.IsNull()) return Status::Ok();  // an empty file is an empty config, as in kubectl
  if (!root.IsMap()) return Status::InvalidArgument("kubeconfig " + file + ": not a mapping");
  const YAML::Node& croot = root;
  AIDI_RETURN_IF_ERROR(MergeSection(croot, "clusters", "cluster", file, &merged->clusters));
  AIDI_RETURN_IF_ERROR(MergeSection(croot, "users", "user", file, &merged->users));
  AIDI_RETURN_IF_ERROR(MergeSection(croot, "contexts", "context", file, &merged->contexts));
  if (merged->current_context.empty()) {
    AIDI_RETURN_IF_ERROR(
        OptString(croot, "current-context", "kubeconfig " + file, &merged->current_context));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Building the ClientConfig from the chosen context.

Status ApplyCluster(const std::string& name, const Named& cluster, ClientConfig* config) {
  std::string where = "cluster " + Quote(name) + " in " + cluster.file;
  const YAML::Node& c = cluster.body;
  if (!c.IsMap()) return Status::InvalidArgument(where + ": server is not set");
  AIDI_RETURN_IF_ERROR(OptString(c, "server", where, &config->server));
  while (!config->server.empty() && config->server.back() == '/') config->server.pop_back();
  if (config->server.empty()) return Status::InvalidArgument(where + ": server is not set");
  AIDI_RETURN_IF_ERROR(
      ReadDataOrFile(c, "certificate-authority", cluster.file, where, &config->ca_pem));
  AIDI_RETURN_IF_ERROR(
      OptBool(c, "insecure-skip-tls-verify", where, &config->insecure_skip_tls_verify));
  AIDI_RETURN_IF_ERROR(OptString(c, "tls-server-name", where, &config->tls_server_name));
  if (config->insecure_skip_tls_verify && !config->ca_pem.empty()) {
    // kubectl refuses this too: which of the two was meant is unknowable.
    return Status::InvalidArgument(
        where + ": certificate-authority and insecure-skip-tls-verify cannot both be set");
  }
  if (Has(c, "proxy-url")) {
    return Status::InvalidArgument(where + ": proxy-url is not supported");
  }
  return Status::Ok();
}

StatusOr<ExecConfig> ParseExec(const YAML::Node& e, const std::string& file,
                               const std::string& where, const ClientConfig& cluster) {
  std::string at = where + ": exec";
  if (!e.IsMap()) return Status::InvalidArgument(at + " must be a mapping");
  ExecConfig exec;
  exec.api_version.clear();
  AIDI_RETURN_IF_ERROR(OptString(e, "apiVersion", at, &exec.api_version));
  if (exec.api_version.empty()) {
    return Status::InvalidArgument(at + ": apiVersion is not set (e.g. " +
                                   "client.authentication.k8s.io/v1)");
  }
  AIDI_RETURN_IF_ERROR(OptString(e, "command", at, &exec.command));
  if (exec.command.empty()) return Status::InvalidArgument(at + ": command is not set");
  const YAML::Node args = e["args"];
  if (args && !args.IsNull()) {
    if (!args.IsSequence()) return Status::InvalidArgument(at + ": args must be a list");
    for (const YAML::Node& a : args) {
      if (!a.IsScalar()) return Status::InvalidArgument(at + ": args must be strings");
      exec.args.push_back(a.Scalar());
    }
  }
  const YAML::Node env = e["env"];
  if (env && !env.IsNull()) {
    if (!env.IsSequence()) return Status::InvalidArgument(at + ": env must be a list");
    for (const YAML::Node& var : env) {
      std::string name, value;
      if (!var.IsMap()) return Status::InvalidArgument(at + ": env entries must be mappings");
      AIDI_RETURN_IF_ERROR(OptString(var, "name", at + ".env", &name));
      AIDI_RETURN_IF_ERROR(OptString(var, "value", at + ".env", &value));
      if (name.empty()) return Status::InvalidArgument(at + ": an env entry has no name");
      exec.env.emplace_back(std::move(name), std::move(value));
    }
  }
  AIDI_RETURN_IF_ERROR(OptString(e, "installHint", at, &exec.install_hint));
  AIDI_RETURN_IF_ERROR(OptBool(e, "provideClusterInfo", at, &exec.provide_cluster_info));
  AIDI_RETURN_IF_ERROR(OptString(e, "interactiveMode", at, &exec.interactive_mode));
  if (exec.interactive_mode.empty()) exec.interactive_mode = "IfAvailable";
  exec.base_dir = DirOf(file);
  exec.cluster_server = cluster.server;
  exec.cluster_ca_pem = cluster.ca_pem;
  exec.cluster_tls_server_name = cluster.tls_server_name;
  exec.cluster_insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
  return exec;
}

Status ApplyUser(const std::string& name, const Named& user, const Clock& clock,
                 ClientConfig* config) {
  std::string where = "user " + Quote(name) + " in " + user.file;
  const YAML::Node& u = user.body;
  if (!u.IsMap()) return Status::Ok();  // `user: {}`: anonymous
  if (Has(u, "username") || Has(u, "password")) {
    return Status::InvalidArgument(where +
                                   ": username/password (basic) authentication is not "
                                   "supported; use a token, a client certificate or exec");
  }
  if (Has(u, "auth-provider")) {
    return Status::InvalidArgument(where +
                                   ": auth-provider is not supported; use an exec credential "
                                   "plugin (users[].user.exec)");
  }
  if (Has(u, "as") || Has(u, "as-uid") || Has(u, "as-groups") || Has(u, "as-user-extra")) {
    return Status::InvalidArgument(where + ": impersonation (as, as-groups) is not supported");
  }

  AIDI_RETURN_IF_ERROR(
      ReadDataOrFile(u, "client-certificate", user.file, where, &config->client_cert_pem));
  AIDI_RETURN_IF_ERROR(ReadDataOrFile(u, "client-key", user.file, where, &config->client_key_pem));
  if (config->client_cert_pem.empty() != config->client_key_pem.empty()) {
    return Status::InvalidArgument(where + ": client-certificate and client-key must be set " +
                                   "together");
  }

  std::string token, token_file;
  AIDI_RETURN_IF_ERROR(OptString(u, "token", where, &token));
  AIDI_RETURN_IF_ERROR(OptString(u, "tokenFile", where, &token_file));
  bool has_exec = Has(u, "exec");
  if (has_exec && (!token.empty() || !token_file.empty())) {
    return Status::InvalidArgument(where + ": exec and token/tokenFile cannot both be set");
  }
  if (!token_file.empty()) {
    // tokenFile wins over token, as in client-go; it is read now so a bad path fails early.
    std::string resolved = ResolvePath(user.file, token_file);
    auto source = NewTokenFile(resolved, clock);
    StatusOr<Credentials> first = source->Get();
    if (!first.ok()) {
      return Status::InvalidArgument(where + ": tokenFile " + Quote(resolved) +
                                     " cannot be read: " + first.status().message());
    }
    config->credentials = std::move(source);
  } else if (!token.empty()) {
    config->credentials = NewStaticToken(std::move(token));
  } else if (has_exec) {
    AIDI_ASSIGN_OR_RETURN(ExecConfig exec, ParseExec(u["exec"], user.file, where, *config));
    config->credentials = NewExecPlugin(std::move(exec), clock);
  }
  return Status::Ok();
}

StatusOr<ClientConfig> Build(const Merged& merged, const KubeconfigOptions& options,
                             const Clock& clock) {
  std::string all = Join(merged.files, ":");
  std::string context_name = options.context.empty() ? merged.current_context : options.context;
  if (context_name.empty()) {
    return Status::InvalidArgument("no context: current-context is not set in " + all +
                                   " and no context was given");
  }
  auto context = merged.contexts.find(context_name);
  if (context == merged.contexts.end()) {
    return Status::NotFound("context " + Quote(context_name) + " not found in " + all);
  }
  const Named& ctx = context->second;
  std::string where = "context " + Quote(context_name) + " in " + ctx.file;
  std::string cluster_name, user_name, ns;
  if (ctx.body.IsMap()) {
    AIDI_RETURN_IF_ERROR(OptString(ctx.body, "cluster", where, &cluster_name));
    AIDI_RETURN_IF_ERROR(OptString(ctx.body, "user", where, &user_name));
    AIDI_RETURN_IF_ERROR(OptString(ctx.body, "namespace", where, &ns));
  }
  if (cluster_name.empty()) return Status::InvalidArgument(where + ": cluster is not set");

  ClientConfig config;
  auto cluster = merged.clusters.find(cluster_name);
  if (cluster == merged.clusters.end()) {
    return Status::NotFound("cluster " + Quote(cluster_name) + " (of context " +
                            Quote(context_name) + ") not found in " + all);
  }
  AIDI_RETURN_IF_ERROR(ApplyCluster(cluster_name, cluster->second, &config));
  if (!user_name.empty()) {
    auto user = merged.users.find(user_name);
    if (user == merged.users.end()) {
      return Status::NotFound("user " + Quote(user_name) + " (of context " + Quote(context_name) +
                              ") not found in " + all);
    }
    AIDI_RETURN_IF_ERROR(ApplyUser(user_name, user->second, clock, &config));
  }
  config.ns = !options.ns.empty() ? options.ns : !ns.empty() ? ns : "default";
  return config;
}

}  // namespace

StatusOr<ClientConfig> LoadKubeconfig(const KubeconfigOptions& options, const Clock& clock) {
  Merged merged;
  auto merge = [&](const std::string& file, const std::string& text) {
    return MergeFile(file, text, &merged);
  };
  std::string text, error;
  if (!options.paths.empty()) {
    for (const std::string& path : options.paths) {
      if (!ReadWholeFile(path, &text, &error)) {
        return Status::NotFound("kubeconfig " + path + " cannot be read: " + error);
      }
      AIDI_RETURN_IF_ERROR(merge(path, text));
    }
    return Build(merged, options, clock);
  }
  const char* env = std::getenv("KUBECONFIG");
  if (env != nullptr && *env != '\0') {
    std::vector<std::string> listed;
    std::string list = env;
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      std::string path = list.substr(start, end - start);
      start = end + 1;
      if (path.empty()) continue;
      bool seen = false;
      for (const std::string& p : listed) seen = seen || p == path;
      if (seen) continue;  // kubectl reads each file once
      listed.push_back(path);
      int error_number = 0;
      if (!ReadWholeFile(path, &text, &error, &error_number)) {
        if (error_number == ENOENT) continue;  // kubectl skips files that do not exist
        return Status::InvalidArgument("kubeconfig " + path + " (from $KUBECONFIG) cannot be " +
                                       "read: " + error);
      }
      AIDI_RETURN_IF_ERROR(merge(path, text));
    }
    if (merged.files.empty()) {
      return Status::NotFound("none of the kubeconfig files in $KUBECONFIG exists: " + list);
    }
    return Build(merged, options, clock);
  }
  std::string home = HomeDir();
  if (home.empty()) {
    return Status::NotFound("no kubeconfig: $KUBECONFIG is not set and $HOME is unknown");
  }
  std::string path = home + "/.kube/config";
  if (!ReadWholeFile(path, &text, &error)) {
    return Status::NotFound("kubeconfig " + path + " cannot be read: " + error);
  }
  AIDI_RETURN_IF_ERROR(merge(path, text));
  return Build(merged, options, clock);
}

StatusOr<ClientConfig> LoadInCluster(const InClusterOptions& options, const Clock& clock) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0') {
    return Status::NotFound("not running in a cluster: KUBERNETES_SERVICE_HOST is not set");
  }
  if (port == nullptr || *port == '\0') {
    return Status::NotFound("not running in a cluster: KUBERNETES_SERVICE_PORT is not set");
  }
  ClientConfig config;
  std::string h = host;
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";  // IPv6
  config.server = "https://" + h + ":" + port;

  // The kubelet rotates the projected token; re-read it every minute and after a 401.
  auto token = NewTokenFile(options.token_path, clock, std::chrono::seconds(60));
  StatusOr<Credentials> first = token->Get();
  if (!first.ok()) return first.status().WithContext("in-cluster service-account token");
  config.credentials = std::move(token);

  std::string error;
  if (!ReadWholeFile(options.ca_path, &config.ca_pem, &error)) {
    // client-go only logs this and falls back to the system roots, which never trust a
    // cluster's own CA: failing here names the real problem.
    return Status::NotFound("in-cluster CA bundle " + options.ca_path +
                            " cannot be read: " + error);
  }
  std::string ns;
  if (ReadWholeFile(options.namespace_path, &ns, &error)) ns = TrimSpace(ns);
  config.ns = ns.empty() ? "default" : ns;
  return config;
}

StatusOr<ClientConfig> LoadDefault(const std::string& kubeconfig_path, const Clock& clock,
                                   const InClusterOptions& in_cluster) {
  if (!kubeconfig_path.empty()) {
    KubeconfigOptions options;
    options.paths.push_back(kubeconfig_path);
    return LoadKubeconfig(options, clock);
  }
  const char* env = std::getenv("KUBECONFIG");
  if (env != nullptr && *env != '\0') return LoadKubeconfig({}, clock);
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  if (host != nullptr && *host != '\0') return LoadInCluster(in_cluster, clock);
  std::string home = HomeDir();
  std::string path = home.empty() ? "~/.kube/config" : home + "/.kube/config";
  if (!home.empty() && ::access(path.c_str(), F_OK) == 0) {
    KubeconfigOptions options;
    options.paths.push_back(path);
    return LoadKubeconfig(options, clock);
  }
  return Status::NotFound(
      "no Kubernetes configuration found: tried --kubeconfig (not given), $KUBECONFIG (not "
      "set), in-cluster (KUBERNETES_SERVICE_HOST is not set) and " +
      path + " (does not exist)");
}

}  // namespace aidi::kube
