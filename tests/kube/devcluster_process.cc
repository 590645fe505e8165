#include "tests/kube/devcluster_process.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace aidi::kube::testing {

DevclusterProcess::DevclusterProcess() : kubeconfig_(dir_.Path("kubeconfig")) {}

DevclusterProcess::~DevclusterProcess() { Kill(); }

void DevclusterProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Status DevclusterProcess::Start(std::vector<std::string> extra_args) {
  const char* env = std::getenv("AIDI_DEVCLUSTER");
  std::string binary = env && *env ? env : AIDI_DEVCLUSTER_BIN;
  std::vector<std::string> args = {
      binary,      "--listen",        "127.0.0.1:0", "--kubeconfig-out",
      kubeconfig_, "--enable-faults", "--log-level", "warn"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::string log_path = dir_.Path("devcluster.log");
  pid_ = ::fork();
  if (pid_ < 0) return Status::Internal("fork failed");
  if (pid_ == 0) {
    FILE* log = std::freopen(log_path.c_str(), "w", stderr);
    (void)log;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    struct stat st;
    if (::stat(kubeconfig_.c_str(), &st) == 0 && st.st_size > 0) {
      auto client = NewClient();
      if (!client.ok()) return client.status();
      admin_ = *client;
      return Status::Ok();
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable("aidi-devcluster (" + binary + ") exited at start; see " +
                                 log_path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Timeout("aidi-devcluster wrote no kubeconfig within 30 s");
}

StatusOr<ClientConfig> DevclusterProcess::Config() const {
  KubeconfigOptions options;
  options.paths = {kubeconfig_};
  return LoadKubeconfig(options);
}

StatusOr<std::shared_ptr<Client>> DevclusterProcess::NewClient() const {
  AIDI_ASSIGN_OR_RETURN(ClientConfig config, Config());
  config.qps = 0;  // tests are not rate limited
  return Client::Create(std::move(config));
}

StatusOr<nlohmann::json> DevclusterProcess::Fault(const std::string& name,
                                                  const nlohmann::json& body) {
  HttpRequest request;
  request.method = "POST";
  request.path = "/devcluster/faults/" + name;
  if (!body.is_null()) {
    request.body = body.dump();
    request.content_type = "application/json";
  }
  return admin_->Send(request);
}

StatusOr<nlohmann::json> DevclusterProcess::Requests() {
  HttpRequest request;
  request.path = "/devcluster/requests";
  return admin_->Send(request);
}

}  // namespace aidi::kube::testing
