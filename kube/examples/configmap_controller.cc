// kube-example-configmap-controller: a tiny but complete controller, to teach the runtime.
//
// For every ConfigMap labelled `example.aidi.dev/hash=true` it keeps the annotation
// `example.aidi.dev/data-hash` equal to a hash of the ConfigMap's data, and records an Event
// when it changes it. It shows the pieces a real controller uses: a Controller with a
// projection (the cache keeps only data and metadata), a reconciler that returns an Action,
// patches with a resourceVersion precondition, the event recorder, /healthz, /readyz and
// /metrics, and a clean exit on SIGTERM.
//
//   kube-example-configmap-controller --kubeconfig ~/.kube/config --health-addr 127.0.0.1:8081

#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/termination.h"
#include "kube/client/api.h"
#include "kube/client/client.h"
#include "kube/runtime/controller.h"
#include "kube/runtime/events.h"
#include "kube/runtime/health_server.h"
#include "kube/runtime/metrics.h"

namespace {

constexpr char kLabel[] = "example.aidi.dev/hash";
constexpr char kAnnotation[] = "example.aidi.dev/data-hash";

// FNV-1a over the data's canonical JSON: stable across runs and machines.
std::string DataHash(const nlohmann::json& data) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : data.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aidi;
  CLI::App app{
      "kube-example-configmap-controller: keeps the annotation example.aidi.dev/data-hash of "
      "every ConfigMap labelled example.aidi.dev/hash=true equal to a hash of its data."};
  std::string kubeconfig;
  std::string ns;
  std::string health_addr = "127.0.0.1:8081";
  std::string level = "info";
  int workers = 2;
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, in-cluster, then ~/.kube/config)");
  app.add_option("--namespace,-n", ns, "only this namespace (default: all)");
  app.add_option("--health-addr", health_addr, "HOST:PORT for /healthz, /readyz and /metrics");
  app.add_option("--workers", workers, "concurrent reconciles")->check(CLI::Range(1, 64));
  app.add_option("--log-level", level, "debug, info, warn or error");
  CLI11_PARSE(app, argc, argv);
  log::SetComponent("configmap-controller");
  log::Level parsed;
  if (!log::ParseLevel(level, &parsed)) {
    std::fprintf(stderr, "--log-level: \"%s\" is not debug, info, warn or error\n", level.c_str());
    return 2;
  }
  log::SetLevel(parsed);

  BlockTerminationSignals();

  auto client = kube::Client::FromDefault(kubeconfig);
  if (!client.ok()) {
    log::Error("cannot connect", {{"error", client.status().ToString()}});
    return 1;
  }

  kube::Metrics metrics;
  kube::ControllerOptions options;
  options.name = "configmap-hash";
  options.watch.ns = ns;
  options.watch.label_selector = std::string(kLabel) + "=true";
  options.watch.projection = kube::Projection::Parse({"data", "metadata.annotations"}).value();
  options.concurrency = workers;
  options.metrics = &metrics;
  kube::Controller controller(*client, kube::resources::kConfigMaps, options);
  kube::EventRecorderOptions event_options;
  event_options.component = "configmap-controller";
  kube::EventRecorder events(*client, event_options);

  kube::HealthServer health(&metrics);
  health.AddReadinessCheck("caches synced", [&] { return controller.synced(); });
  if (Status s = health.Start(health_addr); !s.ok()) {
    log::Error("cannot serve health endpoints", {{"error", s.ToString()}});
    return 1;
  }

  auto reconcile = [&](const kube::ObjectKey& key,
                       const std::optional<nlohmann::json>& cm) -> StatusOr<kube::Action> {
    if (!cm) return kube::Action::AwaitChange();  // deleted: nothing of ours to clean up
    std::string want = DataHash(cm->value("data", nlohmann::json::object()));
    const auto& meta = (*cm)["metadata"];
    std::string have;
    if (meta.contains("annotations")) have = meta["annotations"].value(kAnnotation, "");
    if (have == want) return kube::Action::AwaitChange();
    // The precondition makes a stale cache harmless: the server answers 409 and we retry.
    nlohmann::json patch = {{"metadata",
                             {{"resourceVersion", meta.value("resourceVersion", "")},
                              {"annotations", {{kAnnotation, want}}}}}};
    kube::Api api(*client, kube::resources::kConfigMaps, key.ns);
    AIDI_RETURN_IF_ERROR(api.Patch(key.name, kube::PatchType::kMerge, patch).status());
    events.Record(*cm, kube::EventType::kNormal, "HashUpdated", "data hash is now " + want);
    log::Info("hash updated", {{"configmap", key.String()}, {"hash", want}});
    return kube::Action::AwaitChange();
  };

  std::thread run([&] { controller.Run(reconcile); });
  log::Info("stopping", {{"signal", WaitForTermination()}});
  controller.Stop();
  run.join();
  events.Flush();
  health.Stop();
  return 0;
}
