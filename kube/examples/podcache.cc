// kube-example-podcache: the smallest complete use of the runtime, and its end-to-end proof.
//
// It caches every pod (or those matching --selector) with a Watcher feeding a Store, prints
//   {"event":"synced","count":N}    once the initial list is in, then
//   {"event":"changed","count":N}   at most every 100 ms while the cache changes,
// one JSON object per line on stdout, and exits 0 on SIGTERM or SIGINT. Logs go to stderr.
//
//   kube-example-podcache --kubeconfig ~/.kube/config --selector app=web

#include <atomic>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/termination.h"
#include "kube/client/api.h"
#include "kube/client/client.h"
#include "kube/runtime/store.h"
#include "kube/runtime/watcher.h"

namespace {

void PrintEvent(const char* event, std::size_t count) {
  nlohmann::json line = {{"event", event}, {"count", count}};
  std::printf("%s\n", line.dump().c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aidi;
  CLI::App app{
      "kube-example-podcache: caches pods with the aidi runtime and prints one JSON line when "
      "the cache has synced, then one at most every 100 ms while it changes."};
  std::string kubeconfig;
  std::string selector;
  std::string ns;
  std::string level = "info";
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, in-cluster, then ~/.kube/config)");
  app.add_option("--selector,-l", selector, "label selector, e.g. app=web,tier!=db");
  app.add_option("--namespace,-n", ns, "only this namespace (default: all)");
  app.add_option("--log-level", level, "debug, info, warn or error");
  CLI11_PARSE(app, argc, argv);

  log::SetComponent("podcache");
  log::Level parsed;
  if (!log::ParseLevel(level, &parsed)) {
    std::fprintf(stderr, "--log-level: \"%s\" is not debug, info, warn or error\n", level.c_str());
    return 2;
  }
  log::SetLevel(parsed);

  // Signals go to the main loop only (sigtimedwait below), never to a worker thread.
  BlockTerminationSignals();

  auto client = kube::Client::FromDefault(kubeconfig);
  if (!client.ok()) {
    log::Error("cannot connect", {{"error", client.status().ToString()}});
    return 1;
  }

  // A pod costs little in the cache when we keep only what we read (here: nothing beyond the
  // always-kept metadata, plus where it runs and its phase).
  auto projection = kube::Projection::Parse({"spec.nodeName", "status.phase"});
  kube::StoreOptions store_options;
  store_options.projection = std::move(projection).value();
  kube::Store store(std::move(store_options));
  std::atomic<bool> changed{false};
  store.Subscribe([&](const kube::StoreChange&) { changed = true; });

  kube::WatcherOptions watcher_options;
  watcher_options.label_selector = selector;
  kube::Watcher watcher(kube::Api(*client, kube::resources::kPods, ns), watcher_options);
  std::thread watch_thread(
      [&] { watcher.Run([&](kube::WatcherEvent&& e) { store.Apply(std::move(e)); }); });

  bool announced_sync = false;
  for (;;) {
    if (auto sig = WaitForTermination(std::chrono::milliseconds(100))) {
      log::Info("stopping", {{"signal", *sig}});
      break;
    }
    if (!store.synced()) continue;
    if (!announced_sync) {
      changed = false;
      PrintEvent("synced", store.size());
      announced_sync = true;
    } else if (changed.exchange(false)) {
      PrintEvent("changed", store.size());
    }
  }
  watcher.Stop();
  watch_thread.join();
  return 0;
}
