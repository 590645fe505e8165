// aidi-scheduler-extender: kube-scheduler's HTTP extender for aidi's GPU stage pods.
//
//   aidi-scheduler-extender --listen HOST:PORT [--kubeconfig FILE] [--tls-cert F --tls-key F]
//                           [--log-level info] [--kube-api-qps 50] [--kube-api-burst 100]
//
// Serves POST /filter, /prioritize, /bind and GET /healthz, /readyz (200 once the node, pod
// and EdgeSite caches synced), /metrics on one address, over TLS when given a certificate and
// key (PEM files), else plain HTTP. Without --kubeconfig it uses $KUBECONFIG, the in-cluster
// config, then ~/.kube/config. SIGTERM and SIGINT stop it cleanly.

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "base/log.h"
#include "base/termination.h"
#include "kube/client/client.h"
#include "kube/client/config.h"
#include "kube/runtime/metrics.h"
#include "scheduler-extender/gpu_ledger.h"
#include "scheduler-extender/handlers.h"
#include "scheduler-extender/node_cache.h"
#include "scheduler-extender/server.h"

namespace {

using namespace aidi;

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return in.good() || in.eof();
}

// "HOST:PORT" or "[v6]:PORT"; false when malformed.
bool SplitHostPort(const std::string& addr, std::string* host, int* port) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos || colon + 1 >= addr.size()) return false;
  std::string h = addr.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) h = "0.0.0.0";
  long p = 0;
  for (char c : addr.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + (c - '0');
    if (p > 65535) return false;
  }
  *host = h;
  *port = static_cast<int>(p);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "aidi-scheduler-extender: kube-scheduler's HTTP extender for aidi's stage pods. Filters "
      "nodes by free GPUs, GPU model and memory, allowed sites, link latency and maintenance; "
      "scores them with the cost model (price, data transfer, finish time); binds pods with an "
      "aidi.dev/placement annotation that says why."};
  std::string listen;
  std::string kubeconfig;
  std::string tls_cert;
  std::string tls_key;
  std::string level = "info";
  double qps = 50;
  int burst = 100;
  app.add_option("--listen", listen, "HOST:PORT to serve the extender verbs, health and metrics")
      ->required();
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, in-cluster, then ~/.kube/config)");
  auto* cert = app.add_option("--tls-cert", tls_cert, "server certificate chain (PEM file)");
  auto* key = app.add_option("--tls-key", tls_key, "server private key (PEM file)");
  cert->needs(key);
  key->needs(cert);
  app.add_option("--kube-api-qps", qps, "requests per second to the API server")
      ->check(CLI::Range(1.0, 10000.0))
      ->capture_default_str();
  app.add_option("--kube-api-burst", burst, "request burst above --kube-api-qps")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--log-level", level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  log::SetComponent("aidi-scheduler-extender");
  log::Level parsed;
  if (!log::ParseLevel(level, &parsed)) {
    std::fprintf(stderr, "--log-level: \"%s\" is not debug, info, warn or error\n", level.c_str());
    return 2;
  }
  log::SetLevel(parsed);

  http::ServerOptions http_options;
  if (!SplitHostPort(listen, &http_options.host, &http_options.port)) {
    std::fprintf(stderr, "--listen: \"%s\" is not HOST:PORT\n", listen.c_str());
    return 2;
  }
  if (!tls_cert.empty()) {
    http::TlsConfig tls;
    if (!ReadFile(tls_cert, &tls.cert_pem) || tls.cert_pem.empty()) {
      std::fprintf(stderr, "--tls-cert: cannot read \"%s\"\n", tls_cert.c_str());
      return 2;
    }
    if (!ReadFile(tls_key, &tls.key_pem) || tls.key_pem.empty()) {
      std::fprintf(stderr, "--tls-key: cannot read \"%s\"\n", tls_key.c_str());
      return 2;
    }
    http_options.tls = std::move(tls);
  }

  BlockTerminationSignals();
  extender::TuneAllocatorForRequests();

  auto config = kube::LoadDefault(kubeconfig);
  if (!config.ok()) {
    log::Error("cannot load a Kubernetes client configuration",
               {{"error", config.status().ToString()}});
    return 1;
  }
  config->qps = qps;
  config->burst = burst;
  config->user_agent = "aidi-scheduler-extender";
  // Watches and binds get clients of their own, so a slow watch never delays a bind.
  auto watch_client = kube::Client::Create(*config);
  auto bind_client = watch_client.ok() ? kube::Client::Create(*config) : watch_client;
  if (!watch_client.ok() || !bind_client.ok()) {
    log::Error("cannot create a Kubernetes client",
               {{"error", (watch_client.ok() ? bind_client : watch_client).status().ToString()}});
    return 1;
  }

  kube::Metrics metrics;
  extender::NodeCache cache;
  extender::GpuLedger ledger(&cache);
  auto pods = extender::NewKubePodClient(*bind_client);
  extender::Handlers handlers(&cache, &ledger, pods.get());
  extender::ExtenderServer server(&handlers, &cache, &ledger, &metrics);

  cache.Start(*watch_client);
  if (Status s = server.Start(http_options); !s.ok()) {
    log::Error("cannot serve", {{"listen", listen}, {"error", s.ToString()}});
    cache.Stop();
    return 1;
  }
  log::Info("serving", {{"listen", http_options.host + ":" + std::to_string(server.port())},
                        {"tls", http_options.tls.has_value()},
                        {"server", (*watch_client)->config().server}});

  log::Info("stopping", {{"signal", WaitForTermination()}});
  // The watchers may be waiting out retries against an unreachable API server: end those at
  // once. Binds in flight finish first (server.Stop waits for them) on their own client.
  (*watch_client)->Shutdown();
  server.Stop();
  cache.Stop();
  return 0;
}
