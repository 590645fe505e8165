#include "kube/client/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/log.h"

extern char** environ;

namespace aidi::kube {
namespace {

using json = nlohmann::json;

std::string ErrnoText(int e) { return std::generic_category().message(e); }

// Reads a small file whole; on failure returns false with the errno text in `error`.
bool ReadWholeFile(const std::string& path, std::string* out, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = ErrnoText(errno);
    return false;
  }
  std::string text;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  bool failed = std::ferror(f) != 0;
  int saved = errno;
  std::fclose(f);
  if (failed) {
    *error = ErrnoText(saved);
    return false;
  }
  *out = std::move(text);
  return true;
}

std::string TrimSpace(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  std::size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// ---------------------------------------------------------------------------------------------

class StaticToken final : public CredentialSource {
 public:
  explicit StaticToken(std::string token) : token_(std::move(token)) {}
  StatusOr<Credentials> Get() override { return Credentials{token_, "", ""}; }
  void Invalidate() override {}  // nothing to refresh: the next request fails the same way
  std::string Describe() const override { return "static token"; }

 private:
  const std::string token_;
};

// ---------------------------------------------------------------------------------------------

class TokenFile final : public CredentialSource {
 public:
  TokenFile(std::string path, const Clock& clock, std::chrono::seconds reread_every)
      : path_(std::move(path)), clock_(clock), reread_every_(reread_every) {}

  StatusOr<Credentials> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    Clock::MonoTime now = clock_.Monotonic();
    bool due = !token_ || stale_ || now - last_read_ >= reread_every_;
    if (due) {
      std::string text, error;
      if (ReadWholeFile(path_, &text, &error)) {
        text = TrimSpace(text);
        if (text.empty()) error = "the file is empty";
      }
      if (error.empty()) {
        token_ = std::move(text);
        last_read_ = now;
        stale_ = false;
        warned_ = false;
      } else if (!token_) {
        return Status::Unavailable("token file " + path_ + " cannot be read: " + error);
      } else if (!warned_) {
        // The kubelet replaces the file by rename: a failed read is most likely transient.
        // last_read_ stays put, so the next Get() tries again.
        log::Warn("token file cannot be re-read; keeping the last token",
                  {{"path", path_}, {"error", error}});
        warned_ = true;
      }
    }
    return Credentials{*token_, "", ""};
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    stale_ = true;
  }

  std::string Describe() const override { return "token file " + path_; }

 private:
  const std::string path_;
  const Clock& clock_;
  const std::chrono::seconds reread_every_;
  std::mutex mu_;
  std::optional<std::string> token_;  // guarded by mu_
  Clock::MonoTime last_read_{};       // guarded by mu_
  bool stale_ = false;                // guarded by mu_: Invalidate() was called
  bool warned_ = false;               // guarded by mu_: one warning per failure streak
};

// ---------------------------------------------------------------------------------------------

constexpr std::size_t kMaxPluginOutput = 4 << 20;

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The command as kubectl finds it: a name with a '/' is a path (relative ones against the
// kubeconfig's directory); a bare name is searched in our own $PATH.
StatusOr<std::string> ResolveCommand(const ExecConfig& config) {
  const std::string& command = config.command;
  auto missing = [&](const std::string& detail) {
    std::string m = "exec plugin: executable \"" + command + "\" " + detail;
    if (!config.install_hint.empty()) m += "; " + config.install_hint;
    return Status::NotFound(std::move(m));
  };
  if (command.empty()) return Status::InvalidArgument("exec plugin: no command is set");
  if (command.find('/') != std::string::npos) {
    std::string path = command;
    if (command[0] != '/') {
      std::string dir = config.base_dir.empty() ? "." : config.base_dir;
      path = dir + "/" + command;
    }
    if (!IsExecutableFile(path)) {
      return missing(::access(path.c_str(), F_OK) == 0 ? "is not an executable file"
                                                       : "not found at " + path);
    }
    return path;
  }
  const char* env_path = std::getenv("PATH");
  std::string search = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= search.size()) {
    std::size_t end = search.find(':', start);
    if (end == std::string::npos) end = search.size();
    std::string dir = search.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + command;
    if (IsExecutableFile(candidate)) return candidate;
    start = end + 1;
  }
  return missing("not found in $PATH");
}

// What KUBERNETES_EXEC_INFO carries: the request half of an ExecCredential.
std::string ExecInfo(const ExecConfig& config) {
  json spec = {{"interactive", false}};
  if (config.provide_cluster_info) {
    json cluster = {{"server", config.cluster_server}};
    if (!config.cluster_tls_server_name.empty()) {
      cluster["tls-server-name"] = config.cluster_tls_server_name;
    }
    if (config.cluster_insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!config.cluster_ca_pem.empty()) {
      cluster["certificate-authority-data"] = Base64Encode(config.cluster_ca_pem);
    }
    spec["cluster"] = std::move(cluster);
  }
  json info = {{"apiVersion", config.api_version}, {"kind", "ExecCredential"}, {"spec", spec}};
  return info.dump();
}

// Our environment with `additions` laid over it (same name: the addition wins).
std::vector<std::string> PluginEnvironment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [k, v] : additions) overridden = overridden || k == name;
    if (!overridden) env.push_back(std::move(entry));
  }
  for (const auto& [k, v] : additions) env.push_back(k + "=" + v);
  return env;
}

// Runs `program` with stdout captured, stdin from /dev/null and stderr passed through. The
// child gets its own process group so a timeout kills whatever it started too.
Status RunPlugin(const std::string& name, const std::string& program, std::vector<std::string> argv,
                 std::vector<std::string> env, std::chrono::seconds timeout, std::string* out) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return Status::Internal("exec plugin " + name + ": pipe: " + ErrnoText(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);

  std::vector<char*> c_argv, c_env;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  for (std::string& e : env) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Status::Unavailable("exec plugin " + name + ": cannot start " + program + ": " +
                               ErrnoText(rc));
  }

  // The timeout is real time: the plugin runs on the real clock whatever clock we were given.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
  };
  auto kill_and_reap = [&] {
    ::kill(-pid, SIGKILL);
    int ignored;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
  };

  std::string output;
  bool timed_out = false;
  bool too_big = false;
  for (;;) {
    int left = remaining_ms();
    if (left == 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, left);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;  // the loop checks the deadline
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF (or a broken pipe): the plugin closed its stdout
    output.append(buf, static_cast<std::size_t>(n));
    if (output.size() > kMaxPluginOutput) {
      too_big = true;
      break;
    }
  }
  ::close(fds[0]);
  if (timed_out || too_big) {
    kill_and_reap();
    if (too_big) {
      return Status::InvalidArgument("exec plugin " + name + ": output exceeds " +
                                     std::to_string(kMaxPluginOutput) + " bytes");
    }
    return Status::Timeout("exec plugin " + name + ": no answer within " +
                           std::to_string(timeout.count()) + "s; killed");
  }

  // Stdout is closed; the plugin is normally exiting now, but it still gets only the deadline.
  int wstatus = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &wstatus, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) {
      return Status::Internal("exec plugin " + name + ": waitpid: " + ErrnoText(errno));
    }
    if (remaining_ms() == 0) {
      kill_and_reap();
      return Status::Timeout("exec plugin " + name + ": did not exit within " +
                             std::to_string(timeout.count()) + "s; killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (WIFSIGNALED(wstatus)) {
    return Status::Unavailable("exec plugin " + name + " was killed by signal " +
                               std::to_string(WTERMSIG(wstatus)));
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0) {
    return Status::Unavailable("exec plugin " + name + " failed with exit code " +
                               std::to_string(WEXITSTATUS(wstatus)));
  }
  *out = std::move(output);
  return Status::Ok();
}

struct ParsedCredential {
  Credentials credentials;
  std::optional<Clock::WallTime> expiry;
};

StatusOr<ParsedCredential> ParseExecCredential(const std::string& name,
                                               const std::string& api_version,
                                               const std::string& text) {
  std::string where = "exec plugin " + name + ": ";
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::InvalidArgument(where + "output is not an ExecCredential JSON object");
  }
  auto string_field = [](const json& obj, const char* key, std::string* out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  std::string got_version, kind;
  if (!string_field(doc, "apiVersion", &got_version) || !string_field(doc, "kind", &kind)) {
    return Status::InvalidArgument(where + "apiVersion and kind must be strings");
  }
  if (got_version != api_version) {
    return Status::InvalidArgument(where + "answered apiVersion \"" + got_version +
                                   "\", expected \"" + api_version + "\"");
  }
  if (kind != "ExecCredential") {
    return Status::InvalidArgument(where + "answered kind \"" + kind +
                                   "\", expected \"ExecCredential\"");
  }
  auto status = doc.find("status");
  if (status == doc.end() || !status->is_object()) {
    return Status::InvalidArgument(where + "output has no status");
  }
  ParsedCredential parsed;
  Credentials& c = parsed.credentials;
  std::string expiry;
  if (!string_field(*status, "token", &c.bearer_token) ||
      !string_field(*status, "clientCertificateData", &c.client_cert_pem) ||
      !string_field(*status, "clientKeyData", &c.client_key_pem) ||
      !string_field(*status, "expirationTimestamp", &expiry)) {
    return Status::InvalidArgument(where +
                                   "status.token, clientCertificateData, clientKeyData and "
                                   "expirationTimestamp must be strings");
  }
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return Status::InvalidArgument(
        where + "status.clientCertificateData and status.clientKeyData must come together");
  }
  if (c.bearer_token.empty() && c.client_cert_pem.empty()) {
    return Status::InvalidArgument(where + "status has neither a token nor a client certificate");
  }
  if (!expiry.empty()) {
    Clock::WallTime t;
    if (!ParseRfc3339(expiry, &t)) {
      return Status::InvalidArgument(where + "status.expirationTimestamp \"" + expiry +
                                     "\" is not RFC 3339");
    }
    parsed.expiry = t;
  }
  return parsed;
}

class ExecPlugin final : public CredentialSource {
 public:
  ExecPlugin(ExecConfig config, const Clock& clock, std::chrono::seconds timeout)
      : config_(std::move(config)), clock_(clock), timeout_(timeout) {}

  StatusOr<Credentials> Get() override {
    // One run at a time: concurrent callers wait for it and share its result.
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ && (!expiry_ || clock_.Now() < *expiry_)) return *cached_;
    AIDI_ASSIGN_OR_RETURN(ParsedCredential parsed, Run());
    cached_ = parsed.credentials;
    expiry_ = parsed.expiry;
    return *cached_;
  }

  void Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    cached_.reset();
    expiry_.reset();
  }

  std::string Describe() const override { return "exec plugin " + config_.command; }

 private:
  StatusOr<ParsedCredential> Run() {
    const std::string& name = config_.command;
    if (config_.api_version != "client.authentication.k8s.io/v1" &&
        config_.api_version != "client.authentication.k8s.io/v1beta1") {
      return Status::InvalidArgument("exec plugin " + name + ": apiVersion \"" +
                                     config_.api_version +
                                     "\" is not supported (client.authentication.k8s.io/v1 "
                                     "or v1beta1)");
    }
    if (config_.interactive_mode == "Always") {
      return Status::InvalidArgument("exec plugin " + name +
                                     ": interactiveMode is Always, but there is no terminal");
    }
    AIDI_ASSIGN_OR_RETURN(std::string program, ResolveCommand(config_));
    std::vector<std::string> argv{program};
    argv.insert(argv.end(), config_.args.begin(), config_.args.end());
    auto additions = config_.env;
    additions.emplace_back("KUBERNETES_EXEC_INFO", ExecInfo(config_));
    std::string output;
    AIDI_RETURN_IF_ERROR(
        RunPlugin(name, program, std::move(argv), PluginEnvironment(additions), timeout_, &output));
    return ParseExecCredential(name, config_.api_version, output);
  }

  const ExecConfig config_;
  const Clock& clock_;
  const std::chrono::seconds timeout_;
  std::mutex mu_;
  std::optional<Credentials> cached_;      // guarded by mu_
  std::optional<Clock::WallTime> expiry_;  // guarded by mu_; none: until Invalidate()
};

}  // namespace

std::shared_ptr<CredentialSource> NewStaticToken(std::string token) {
  return std::make_shared<StaticToken>(std::move(token));
}

std::shared_ptr<CredentialSource> NewTokenFile(std::string path, const Clock& clock,
                                               std::chrono::seconds reread_every) {
  return std::make_shared<TokenFile>(std::move(path), clock, reread_every);
}

std::shared_ptr<CredentialSource> NewExecPlugin(ExecConfig config, const Clock& clock,
                                                std::chrono::seconds timeout) {
  return std::make_shared<ExecPlugin>(std::move(config), clock, timeout);
}

}  // namespace aidi::kube
