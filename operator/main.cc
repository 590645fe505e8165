// aidi-operator: runs Pipelines as stage pods in DAG order and rolls up EdgeSites.
//
//   aidi-operator [--kubeconfig FILE] [--namespace NS] [--scheduler-name aidi-scheduler]
//                 [--worker-image IMAGE] [--leader-elect] [--metrics-addr ADDR]
//                 [--health-addr ADDR]
//
// Without --kubeconfig it uses $KUBECONFIG, the in-cluster config, then ~/.kube/config. With
// --leader-elect, only the holder of the Lease <leader-election-namespace>/<leader-election-id>
// runs the controllers; the others wait, and a leader that loses its lease exits (its
// replacement takes over with fresh caches). SIGTERM and SIGINT stop it cleanly.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "base/log.h"
#include "base/termination.h"
#include "kube/client/client.h"
#include "kube/client/config.h"
#include "kube/runtime/events.h"
#include "kube/runtime/health_server.h"
#include "kube/runtime/leader_election.h"
#include "kube/runtime/metrics.h"
#include "operator/controller/edgesite_controller.h"
#include "operator/controller/pipeline_controller.h"

namespace {

using namespace aidi;

// The two controllers, started when this replica may act.
class Controllers {
 public:
  Controllers(std::shared_ptr<kube::Client> client, kube::EventRecorder* events,
              op::PipelineControllerOptions pipeline_options, kube::Metrics* metrics)
      : client_(client),
        pipelines_(client, events, std::move(pipeline_options)),
        sites_(client, events, op::EdgeSiteControllerOptions{.workers = 2, .metrics = metrics}) {}

  void Start() {
    if (started_.exchange(true)) return;
    log::Info("starting controllers");
    {
      std::lock_guard lock(mu_);
      running_ = 2;
    }
    pipeline_thread_ = std::thread([this] { RunToEnd(pipelines_); });
    site_thread_ = std::thread([this] { RunToEnd(sites_); });
  }
  // Workers finish the key in hand. What still waits on the API server after `grace` (list
  // retries against an unreachable server take ~20 s) is cut short by shutting the client
  // down; the leader elector and the event recorder have clients of their own.
  void Stop(std::chrono::seconds grace) {
    pipelines_.Stop();
    sites_.Stop();
    {
      std::unique_lock lock(mu_);
      if (!done_.wait_for(lock, grace, [this] { return running_ == 0; })) {
        log::Warn("the API server is slow to answer: cutting its requests short",
                  {{"grace_s", static_cast<long long>(grace.count())}});
        client_->Shutdown();
      }
    }
    if (pipeline_thread_.joinable()) pipeline_thread_.join();
    if (site_thread_.joinable()) site_thread_.join();
  }
  bool started() const { return started_; }
  bool synced() const { return pipelines_.synced() && sites_.synced(); }

 private:
  template <typename C>
  void RunToEnd(C& controller) {
    controller.Run();
    {
      std::lock_guard lock(mu_);
      --running_;
    }
    done_.notify_all();
  }

  std::shared_ptr<kube::Client> client_;
  op::PipelineController pipelines_;
  op::EdgeSiteController sites_;
  std::atomic<bool> started_{false};
  std::thread pipeline_thread_;
  std::thread site_thread_;
  std::mutex mu_;  // guards running_ (controllers whose Run has not returned)
  std::condition_variable done_;
  int running_ = 0;
};

std::string PodNamespace() {
  FILE* f = std::fopen("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "r");
  if (f == nullptr) return "";
  char buf[256] = {};
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  return std::string(buf, n);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "aidi-operator: runs aidi.dev Pipelines as one pod per stage attempt in DAG order (retries, "
      "timeouts, suspend, TTL, pod GC, status for kubectl get and kubectl wait) and rolls up "
      "EdgeSites (nodes, GPUs, the aidi.dev/site node label)."};
  std::string kubeconfig;
  std::string ns;
  op::PodBuilderOptions pod_options;
  bool leader_elect = false;
  std::string lease_namespace;
  std::string lease_name = "aidi-operator";
  std::string metrics_addr = "0.0.0.0:8080";
  std::string health_addr = "0.0.0.0:8081";
  std::string level = "info";
  int workers = 4;
  double qps = 100;
  int burst = 200;
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, in-cluster, then ~/.kube/config)");
  app.add_option("--namespace,-n", ns, "only run Pipelines in this namespace (default: all)");
  app.add_option("--scheduler-name", pod_options.scheduler_name,
                 "schedulerName of stage pods (the kube-scheduler profile with the aidi extender)")
      ->capture_default_str();
  app.add_option("--worker-image", pod_options.worker_image,
                 "image that runs built-in op stages (aidi-worker)")
      ->capture_default_str();
  std::vector<std::string> host_access;
  app.add_option("--allow-host-access", host_access,
                 "what custom stages may ask of their node (stage hostAccess): any of "
                 "privileged, hostNetwork, hostPID, hostPath, comma-separated; default none, and "
                 "a pipeline asking for more is rejected")
      ->delimiter(',');
  app.add_flag("--leader-elect", leader_elect,
               "run the controllers only while holding the leader Lease (for several replicas)");
  app.add_option("--leader-election-namespace", lease_namespace,
                 "namespace of the Lease (default: the pod's namespace, else the kubeconfig's)");
  app.add_option("--leader-election-id", lease_name, "name of the Lease")->capture_default_str();
  app.add_option("--metrics-addr", metrics_addr, "HOST:PORT for /metrics; empty: off")
      ->capture_default_str();
  app.add_option("--health-addr", health_addr, "HOST:PORT for /healthz and /readyz; empty: off")
      ->capture_default_str();
  app.add_option("--workers", workers, "concurrent Pipeline reconciles")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--kube-api-qps", qps,
                 "requests per second to the API server (each of the controllers' and the "
                 "Events' clients)")
      ->check(CLI::Range(1.0, 10000.0))
      ->capture_default_str();
  app.add_option("--kube-api-burst", burst, "request burst above --kube-api-qps")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--log-level", level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  log::SetComponent("aidi-operator");
  log::Level parsed;
  if (!log::ParseLevel(level, &parsed)) {
    std::fprintf(stderr, "--log-level: \"%s\" is not debug, info, warn or error\n", level.c_str());
    return 2;
  }
  log::SetLevel(parsed);
  auto policy = op::HostAccessPolicy::FromNames(host_access);
  if (!policy.ok()) {
    std::fprintf(stderr, "--allow-host-access: %s\n", policy.status().message().c_str());
    return 2;
  }
  pod_options.host_access = *policy;

  BlockTerminationSignals();

  auto config = kube::LoadDefault(kubeconfig);
  if (!config.ok()) {
    log::Error("cannot load a Kubernetes client configuration",
               {{"error", config.status().ToString()}});
    return 1;
  }
  config->qps = qps;
  config->burst = burst;
  config->user_agent = "aidi-operator";
  auto client = kube::Client::Create(*config);
  // Events get a client of their own, so a burst of them never delays a reconcile's writes.
  auto event_client = client.ok() ? kube::Client::Create(*config) : client;
  if (!client.ok() || !event_client.ok()) {
    log::Error("cannot create a Kubernetes client",
               {{"error", (client.ok() ? event_client : client).status().ToString()}});
    return 1;
  }
  log::Info("starting", {{"server", (*client)->config().server},
                         {"namespace", ns.empty() ? "(all)" : ns},
                         {"scheduler", pod_options.scheduler_name},
                         {"workerImage", pod_options.worker_image},
                         {"allowHostAccess", host_access.empty() ? std::string("none") : [&] {
                            std::string list;
                            for (const auto& h : host_access) list += (list.empty() ? "" : ",") + h;
                            return list;
                          }()},
                         {"leaderElect", leader_elect ? "true" : "false"}});

  kube::Metrics metrics;
  kube::EventRecorderOptions event_options;
  event_options.component = "aidi-operator";
  kube::EventRecorder events(*event_client, event_options);
  op::PipelineControllerOptions pipeline_options;
  pipeline_options.ns = ns;
  pipeline_options.pods = pod_options;
  pipeline_options.workers = workers;
  pipeline_options.metrics = &metrics;
  Controllers controllers(*client, &events, pipeline_options, &metrics);

  std::unique_ptr<kube::LeaderElector> elector;
  if (leader_elect) {
    kube::LeaderElectionOptions options;
    options.lease_namespace = !lease_namespace.empty()  ? lease_namespace
                              : !PodNamespace().empty() ? PodNamespace()
                                                        : (*client)->config().ns;
    options.lease_name = lease_name;
    options.release_on_stop = true;
    kube::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [&] { controllers.Start(); };
    callbacks.on_stopped_leading = [&] {
      // Caches and in-flight work belong to the old term: exit and let a restart begin afresh.
      log::Error("lost the leader lease; exiting");
      std::_Exit(1);
    };
    callbacks.on_new_leader = [](const std::string& identity) {
      log::Info("leader observed", {{"identity", identity}});
    };
    auto created = kube::LeaderElector::Create(*client, options, callbacks);
    if (!created.ok()) {
      log::Error("bad leader election settings", {{"error", created.status().ToString()}});
      return 2;
    }
    elector = std::move(*created);
    log::Info("waiting for the leader lease",
              {{"lease", options.lease_namespace + "/" + options.lease_name},
               {"identity", elector->identity()}});
  }

  kube::HealthServer health(nullptr);
  kube::HealthServer metrics_server(&metrics);
  health.AddReadinessCheck("caches synced",
                           [&] { return !controllers.started() || controllers.synced(); });
  if (!health_addr.empty()) {
    if (Status s = health.Start(health_addr); !s.ok()) {
      log::Error("cannot serve /healthz and /readyz", {{"error", s.ToString()}});
      return 1;
    }
  }
  if (!metrics_addr.empty()) {
    if (Status s = metrics_server.Start(metrics_addr); !s.ok()) {
      log::Error("cannot serve /metrics", {{"error", s.ToString()}});
      return 1;
    }
  }

  std::thread election;
  if (elector) {
    election = std::thread([&] { elector->Run(); });
  } else {
    controllers.Start();
  }

  log::Info("stopping", {{"signal", WaitForTermination()}});
  controllers.Stop(std::chrono::seconds(5));
  events.Flush();
  if (elector) {
    elector->Stop();  // releases the lease so a standby takes over at once
    election.join();
  }
  health.Stop();
  metrics_server.Stop();
  return 0;
}
