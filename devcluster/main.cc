// aidi-devcluster: a single-process Kubernetes API server for tests and the one-machine demo.
// See devcluster/README.md for what it serves and how faithfully.
#include <CLI/CLI.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/log.h"
#include "devcluster/agents/node_agent.h"
#include "devcluster/agents/nodes.h"
#include "devcluster/agents/pod_exec.h"
#include "devcluster/agents/scheduler.h"
#include "devcluster/api_server.h"
#include "devcluster/identity.h"
#include "devcluster/kubeconfig.h"
#include "devcluster/store.h"
#include "devcluster/wal.h"
#include "http/http_server.h"
#include "http/tls_certs.h"
#include "kube/client/client.h"
#include "kube/client/credentials.h"

namespace {

std::atomic<int> g_signal{0};

void OnSignal(int sig) { g_signal = sig; }

bool SplitHostPort(const std::string& hp, std::string* host, int* port) {
  auto colon = hp.rfind(':');
  if (colon == std::string::npos) return false;
  *host = hp.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  try {
    std::size_t used = 0;
    *port = std::stoi(hp.substr(colon + 1), &used);
    return used == hp.size() - colon - 1 && *port >= 0 && *port <= 65535 && !host->empty();
  } catch (...) {
    return false;
  }
}

// The in-process agents' credentials: whatever token the server accepts now (the expire-token
// fault rotates it).
class ServerToken : public aidi::kube::CredentialSource {
 public:
  explicit ServerToken(aidi::devcluster::ApiServer& api) : api_(api) {}
  aidi::StatusOr<aidi::kube::Credentials> Get() override {
    return aidi::kube::Credentials{api_.token(), "", ""};
  }
  void Invalidate() override {}
  std::string Describe() const override { return "devcluster's own token"; }

 private:
  aidi::devcluster::ApiServer& api_;
};

// The folder this binary is in (first on every pod's PATH) and its own path (the pod-exec helper).
std::string SelfExe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aidi;
  using namespace aidi::devcluster;
  // The node agent starts each container through this binary (pod_exec.h).
  if (argc == 3 && std::string(argv[1]) == kPodExecArg) return PodExecMain(argv[2]);
  CLI::App app{
      "aidi-devcluster: a single-process Kubernetes API server (discovery, CRDs, watch, "
      "patches, tables, OpenAPI, garbage collection) that kubectl and client libraries drive "
      "as they would a real cluster."};
  std::string listen = "127.0.0.1:6443";
  std::string kubeconfig_out;
  std::string state_dir;
  std::size_t watch_history = 1000;
  bool tls = true;
  bool plain_http = false;
  bool enable_faults = false;
  std::string token;
  std::string log_level = "info";
  int bookmark_seconds = 5;
  app.add_option("--listen", listen, "HOST:PORT to serve on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--kubeconfig-out", kubeconfig_out,
                 "write a kubeconfig for this server here once it is serving")
      ->required();
  app.add_option("--state-dir", state_dir,
                 "keep every acknowledged write here (WAL + snapshot) and recover it on start; "
                 "without it, state lives in memory only");
  app.add_option("--watch-history", watch_history,
                 "watch events kept per resource; older resourceVersions get 410 Expired")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_flag("--tls", tls,
               "serve HTTPS with a generated CA whose certificate goes in the kubeconfig (the "
               "default)");
  app.add_flag("--plain-http", plain_http,
               "serve plain HTTP instead of HTTPS. The token is still required, but client-go "
               "(kubectl) sends credentials only over TLS, so kubectl gets 401: use it for curl "
               "or scripts only");
  app.add_flag("--enable-faults", enable_faults,
               "serve the test-only fault injection endpoints under /devcluster/");
  app.add_option(
      "--token", token,
      "bearer token to require (default: the one kept in --state-dir, else a random one)");
  app.add_option("--bookmark-interval", bookmark_seconds,
                 "seconds between BOOKMARK events on idle watches that allow them")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  std::string nodes_file;
  bool run_pods = false;
  std::string scheduler_config_file;
  bool run_pods_as_self = false;
  int heartbeat_seconds = 10;
  app.add_option("--nodes", nodes_file,
                 "a YAML stream of v1 Node objects to create at start and keep Ready with "
                 "heartbeats (as their kubelet would)")
      ->check(CLI::ExistingFile);
  app.add_option("--node-heartbeat", heartbeat_seconds,
                 "seconds between the --nodes nodes' heartbeats (Lease renewals and condition "
                 "lastHeartbeatTime), as the kubelet's node-status-update-frequency")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_flag("--run-pods", run_pods,
               "run pods bound to the --nodes nodes as local processes, one per container "
               "(a node agent; needs --nodes and --state-dir, which holds pod folders and "
               "volumes)");
  app.add_flag("--run-pods-as-self", run_pods_as_self,
               "run containers as devcluster's own user instead of their runAsUser (when "
               "devcluster runs as root from a folder that other users cannot read)");
  app.add_option("--scheduler-config", scheduler_config_file,
                 "a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): pods whose "
                 "schedulerName matches one of its profiles are scheduled here, calling its "
                 "extenders")
      ->check(CLI::ExistingFile);
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (run_pods && (nodes_file.empty() || state_dir.empty())) {
    std::fprintf(stderr, "aidi-devcluster: --run-pods needs --nodes FILE and --state-dir DIR\n");
    return 2;
  }
  std::vector<nlohmann::json> node_objects;
  if (!nodes_file.empty()) {
    auto loaded = LoadNodesFile(nodes_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "aidi-devcluster: %s\n", loaded.status().message().c_str());
      return 2;
    }
    node_objects = std::move(loaded).value();
  }
  std::optional<SchedulerConfig> scheduler_config;
  if (!scheduler_config_file.empty()) {
    auto loaded = LoadSchedulerConfig(scheduler_config_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "aidi-devcluster: --scheduler-config %s\n",
                   loaded.status().message().c_str());
      return 2;
    }
    scheduler_config = std::move(loaded).value();
  }

  log::SetComponent("devcluster");
  log::Level level;
  if (!log::ParseLevel(log_level, &level)) {
    std::fprintf(stderr, "aidi-devcluster: --log-level must be debug, info, warn or error\n");
    return 2;
  }
  log::SetLevel(level);
  std::string host;
  int port = 0;
  if (!SplitHostPort(listen, &host, &port)) {
    std::fprintf(stderr, "aidi-devcluster: --listen %s: expected HOST:PORT, e.g. 127.0.0.1:0\n",
                 listen.c_str());
    return 2;
  }
  if (plain_http) tls = false;

  Store store(watch_history);
  std::unique_ptr<Wal> wal;
  if (!state_dir.empty()) {
    Wal::Recovered recovered;
    auto opened = Wal::Open(state_dir, &recovered);
    if (!opened.ok()) {
      log::Error("cannot open state directory",
                 {{"dir", state_dir}, {"error", opened.status().message()}});
      return 1;
    }
    wal = std::move(opened).value();
    for (auto& o : recovered.objects) store.Restore(o);
    store.FinishRestore(recovered.max_rv);
    store.AttachWal(wal.get());
    log::Info("recovered state", {{"dir", state_dir},
                                  {"objects", recovered.objects.size()},
                                  {"resourceVersion", recovered.max_rv},
                                  {"walRecords", recovered.records_replayed},
                                  {"droppedTornRecord", recovered.dropped_torn_record}});
  }

  // The token and certificates: kept in the state directory, so a restart on it is the same
  // server to its clients (their kubeconfig stays valid).
  std::vector<std::string> cert_hosts;
  if (host != "0.0.0.0" && host != "::") cert_hosts.push_back(host);
  auto identity = LoadOrCreateIdentity(state_dir, token, tls, cert_hosts);
  if (!identity.ok()) {
    log::Error("cannot set up the server's token and certificates",
               {{"error", identity.status().message()}});
    return 1;
  }
  token = identity->token;

  ApiServerOptions opts;
  opts.token = token;
  opts.enable_faults = enable_faults;
  opts.bookmark_interval = std::chrono::seconds(bookmark_seconds);
  ApiServer api(opts, store);

  http::ServerOptions server_opts;
  server_opts.host = host;
  server_opts.port = port;
  std::string ca_pem;
  if (tls) {
    server_opts.tls =
        http::TlsConfig{identity->certs.server_cert_pem, identity->certs.server_key_pem};
    ca_pem = identity->certs.ca_cert_pem;
  }
  http::HttpServer server(
      [&api](const http::Request& req, http::ResponseWriter& w) { api.Handle(req, w); });
  Status started = server.Start(server_opts);
  if (!started.ok()) {
    log::Error("cannot listen", {{"listen", listen}, {"error", started.message()}});
    return 1;
  }
  std::string url_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (host == "0.0.0.0") url_host = "127.0.0.1";
  if (host == "::") url_host = "[::1]";
  const std::string address = url_host + ":" + std::to_string(server.port());
  // The address is only known after binding; discovery reports it.
  api.SetServerAddress(address);
  Status init = api.Init();
  if (!init.ok()) {
    log::Error("cannot initialise the API server", {{"error", init.message()}});
    return 1;
  }
  KubeconfigData kc{std::string(tls ? "https://" : "http://") + address, token, ca_pem};

  // Agents act through the API like the components they stand in for. Nodes are registered
  // before the kubeconfig appears, so a client that sees it also sees the nodes.
  kube::ClientConfig agent_config;
  agent_config.server = kc.server;
  agent_config.ca_pem = ca_pem;
  agent_config.credentials = std::make_shared<ServerToken>(api);
  agent_config.user_agent = "aidi-devcluster-agents";
  agent_config.qps = 200;
  agent_config.burst = 400;
  std::shared_ptr<kube::Client> agent_client;
  if (!node_objects.empty() || scheduler_config) {
    auto created = kube::Client::Create(agent_config);
    if (!created.ok()) {
      log::Error("cannot create the agents' client", {{"error", created.status().message()}});
      return 1;
    }
    agent_client = *created;
  }
  std::vector<std::thread> agent_threads;
  std::unique_ptr<NodeHeartbeat> heartbeat;
  std::unique_ptr<NodeAgent> node_agent;
  std::unique_ptr<Scheduler> scheduler;
  if (!node_objects.empty()) {
    heartbeat = std::make_unique<NodeHeartbeat>(agent_client, node_objects,
                                                std::chrono::seconds(heartbeat_seconds));
    if (Status s = heartbeat->Register(); !s.ok()) {
      log::Error("cannot register nodes", {{"file", nodes_file}, {"error", s.message()}});
      return 1;
    }
    agent_threads.emplace_back([&] { heartbeat->Run(); });
  }
  if (run_pods) {
    NodeAgentOptions agent_options;
    agent_options.nodes = heartbeat->names();
    agent_options.state_dir = std::filesystem::absolute(state_dir).string();
    agent_options.self_exe = SelfExe();
    agent_options.bin_dir = std::filesystem::path(agent_options.self_exe).parent_path().string();
    agent_options.honour_run_as_user = !run_pods_as_self;
    node_agent = std::make_unique<NodeAgent>(agent_client, agent_options);
    api.SetPodLogSource(
        [&node_agent](const std::string& ns, const std::string& pod, const std::string& container,
                      const nlohmann::json& o) { return node_agent->Logs(ns, pod, container, o); });
    agent_threads.emplace_back([&] { node_agent->Run(); });
    log::Info("running pods",
              {{"nodes", agent_options.nodes.size()}, {"binDir", agent_options.bin_dir}});
  }
  if (scheduler_config) {
    scheduler = std::make_unique<Scheduler>(agent_client, *scheduler_config);
    agent_threads.emplace_back([&] { scheduler->Run(); });
    log::Info("scheduling", {{"config", scheduler_config_file},
                             {"profiles", scheduler_config->profiles.size()},
                             {"extenders", scheduler_config->extenders.size()}});
  }
  api.SetTokenRotatedCallback([&kubeconfig_out, kc](const std::string& fresh) mutable {
    kc.token = fresh;
    Status s = WriteKubeconfig(kubeconfig_out, kc);
    if (!s.ok()) log::Error("cannot rewrite kubeconfig", {{"error", s.message()}});
  });
  // The kubeconfig appears only once requests are served: its presence means "ready".
  Status wrote = WriteKubeconfig(kubeconfig_out, kc);
  if (!wrote.ok()) {
    log::Error("cannot write kubeconfig", {{"path", kubeconfig_out}, {"error", wrote.message()}});
    return 1;
  }
  log::Info("serving", {{"server", kc.server},
                        {"kubeconfig", kubeconfig_out},
                        {"tls", tls},
                        {"stateDir", state_dir.empty() ? "(memory)" : state_dir},
                        {"watchHistory", watch_history},
                        {"faults", enable_faults},
                        {"token", log::Redact(token)}});

  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  while (g_signal == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log::Info("shutting down", {{"signal", g_signal.load()}});
  if (scheduler) scheduler->Stop();
  if (node_agent) node_agent->Stop();  // kills every pod's processes
  if (heartbeat) heartbeat->Stop();
  for (auto& t : agent_threads) t.join();
  api.Stop();
  server.Stop();
  log::Info("stopped");
  return 0;
}
