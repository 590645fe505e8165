// kube_sync_bench: how long the runtime takes to sync a cache of N pods from a live API server,
// and what the cache then costs. Not a Google Benchmark: it needs a server (bench/kube/run.sh
// starts aidi-devcluster over HTTPS and runs kubectl, the anchor, against the same pods).
//
//   kube_sync_bench --kubeconfig FILE [--pods 10000] [--page-size 500] [--rounds 3]
//
// Creates the pods in namespace "sync-bench" when they are not there yet (realistic ~4.5 KB
// pods, 8 writers), then, each round, starts a fresh Watcher + Store (the podcache example's
// projection) and times from start to synced. Prints one JSON object:
//   {"pods":N,"page_size":P,"sync_seconds":[...],"median_sync_seconds":S,
//    "store_bytes_per_pod":B,"rss_bytes_per_pod":R}
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "bench/kube/realistic_pod.h"
#include "kube/client/api.h"
#include "kube/client/config.h"
#include "kube/runtime/store.h"
#include "kube/runtime/watcher.h"

namespace {

using namespace aidi;
using namespace aidi::kube;

constexpr char kNamespace[] = "sync-bench";

long RssBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

Status EnsurePods(const std::shared_ptr<Client>& client, int count) {
  Api namespaces(client, resources::kNamespaces, "");
  nlohmann::json ns = {
      {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kNamespace}}}};
  auto created_ns = namespaces.Create(ns);
  if (!created_ns.ok() && !created_ns.status().IsAlreadyExists()) return created_ns.status();
  Api pods(client, resources::kPods, kNamespace);
  ListParams probe;
  probe.limit = 1;
  AIDI_ASSIGN_OR_RETURN(auto first, pods.List(probe));
  long have = first["metadata"].value("remainingItemCount", 0L) + first["items"].size();
  if (have >= count) return Status::Ok();
  std::atomic<int> next{static_cast<int>(have)};
  std::atomic<bool> failed{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&] {
      for (int i = next++; i < count && !failed; i = next++) {
        nlohmann::json pod = bench::RealisticPod(i);
        pod["metadata"]["namespace"] = kNamespace;
        pod["metadata"]["name"] = "pod-" + std::to_string(i);
        pod["metadata"].erase("managedFields");  // the server keeps its own
        pod["metadata"].erase("uid");
        pod["metadata"].erase("resourceVersion");
        pod["metadata"].erase("creationTimestamp");
        // Its owner (a ReplicaSet) does not exist here: the garbage collector would delete it.
        pod["metadata"].erase("ownerReferences");
        auto created = pods.Create(pod);
        if (!created.ok() && !created.status().IsAlreadyExists()) {
          std::fprintf(stderr, "create pod-%d: %s\n", i, created.status().ToString().c_str());
          failed = true;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  return failed ? Status::Internal("creating pods failed") : Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kube_sync_bench: times the runtime's initial sync of N pods from an API server."};
  std::string kubeconfig;
  int pods = 10000;
  int page_size = 500;
  int rounds = 3;
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig of the server")->required();
  app.add_option("--pods", pods, "pods to sync")->check(CLI::Range(1, 1000000));
  app.add_option("--page-size", page_size, "list page size")->check(CLI::Range(1, 100000));
  app.add_option("--rounds", rounds, "syncs to time")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  log::SetComponent("sync-bench");
  log::SetLevel(log::Level::kWarn);

  KubeconfigOptions options;
  options.paths = {kubeconfig};
  auto config = LoadKubeconfig(options);
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 1;
  }
  config->qps = 0;
  auto client = Client::Create(*config);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  if (Status s = EnsurePods(*client, pods); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }

  nlohmann::json out = {{"pods", pods}, {"page_size", page_size}};
  std::vector<double> seconds;
  double store_bytes = 0;
  double rss_bytes = 0;
  for (int round = 0; round < rounds; ++round) {
    long rss_before = RssBytes();
    StoreOptions store_options;
    store_options.projection = Projection::Parse({"spec.nodeName", "status.phase"}).value();
    auto store = std::make_unique<Store>(std::move(store_options));
    WatcherOptions watcher_options;
    watcher_options.page_size = page_size;
    auto watcher =
        std::make_unique<Watcher>(Api(*client, resources::kPods, kNamespace), watcher_options);
    auto started = std::chrono::steady_clock::now();
    std::thread run([&] { watcher->Run([&](WatcherEvent&& e) { store->Apply(std::move(e)); }); });
    store->WaitSynced(std::chrono::minutes(10));
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    seconds.push_back(took);
    if (store->size() < static_cast<std::size_t>(pods)) {
      std::fprintf(stderr, "synced %zu pods, expected %d\n", store->size(), pods);
      return 1;
    }
    store_bytes = static_cast<double>(store->ApproxBytes()) / store->size();
    rss_bytes = static_cast<double>(RssBytes() - rss_before) / store->size();
    watcher->Stop();
    run.join();
  }
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  out["sync_seconds"] = seconds;
  out["median_sync_seconds"] = sorted[sorted.size() / 2];
  out["store_bytes_per_pod"] = static_cast<long>(store_bytes);
  out["rss_bytes_per_pod_first_round"] = static_cast<long>(rss_bytes);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
