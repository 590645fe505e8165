// extender_server_time: filter + prioritize server time inside one process, no sockets. Feeds a
// NodeCache by hand with 50 EdgeSites and 5,000 GPU nodes (a quarter of them with a GPU pod
// bound), then serves the same NodeNames request to /filter and /prioritize for N = 100, 1,000
// and 5,000 candidates and prints p50/p99 of the pair. The profiling harness for the
// extender's request path (perf record it); bench/extender/run.sh measures over loopback.
//
//   build/bench/extender_server_time [--iterations K]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scheduler-extender/gpu_ledger.h"
#include "scheduler-extender/handlers.h"
#include "scheduler-extender/node_cache.h"
#include "scheduler-extender/server.h"
#include "scheduler-extender/test_util.h"

namespace aidi::extender {
namespace {

using nlohmann::json;
using testing::NodeObject;
using testing::PodObject;
using testing::SiteObject;

http::Request Post(const std::string& path, const std::string& body) {
  http::Request r;
  r.method = "POST";
  r.path = path;
  r.body = body;
  return r;
}

int Run(int iterations) {
  TuneAllocatorForRequests();  // as aidi-scheduler-extender's main does
  NodeCache cache;
  const char* models[] = {"NVIDIA-L4", "NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3"};
  for (int s = 0; s < 50; ++s) {
    cache.ApplySite(SiteObject(
        "site-" + std::to_string(s), s % 5 == 0 ? "Cloud" : "Edge", 5 + s, 100 + 100 * s,
        0.01 * (s % 7),
        {{models[0], 0.5 + 0.01 * s}, {models[1], 2.0 + 0.02 * s}, {models[2], 4.0 + 0.03 * s}},
        s == 49));
  }
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i) {
    names.push_back("node-" + std::to_string(i));
    cache.ApplyNode(NodeObject(names.back(), "site-" + std::to_string(i % 50), models[i % 3],
                               1 + i % 8, 23034 + 30000 * (i % 3)));
    if (i % 4 == 0) {
      cache.ApplyPod(
          PodObject("default", "p" + std::to_string(i), "u" + std::to_string(i), names.back(), 1));
    }
  }
  GpuLedger ledger(&cache);
  Handlers handlers(&cache, &ledger, nullptr);
  ExtenderServer server(&handlers, &cache, &ledger, nullptr);
  const std::string demand =
      R"({"gpus":1,"gpuMemoryGiB":20,"workGpuSeconds":3600,"inputBytes":50000000000,)"
      R"("inputSite":"site-3","objective":"Balanced","maxLatencyMs":50})";
  std::printf("| N | pairs | filter+prioritize p50 (µs) | p99 (µs) |\n|---|---|---|---|\n");
  for (int n : {100, 1000, 5000}) {
    std::vector<std::string> subset(names.begin(), names.begin() + n);
    json pod = PodObject("default", "p", "uid-p", "", 1, "Pending", demand);
    const std::string body = json{{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", subset}}.dump();
    std::vector<double> micros;
    for (int i = 0; i < iterations; ++i) {
      auto start = std::chrono::steady_clock::now();
      auto f = server.Serve(Post("/filter", body));
      auto p = server.Serve(Post("/prioritize", body));
      micros.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count());
      if (f.status != 200 || p.status != 200) {
        std::fprintf(stderr, "extender_server_time: answers %d and %d\n", f.status, p.status);
        return 1;
      }
    }
    std::sort(micros.begin(), micros.end());
    std::printf("| %d | %d | %.0f | %.0f |\n", n, iterations, micros[micros.size() / 2],
                micros[micros.size() * 99 / 100]);
  }
  return 0;
}

}  // namespace
}  // namespace aidi::extender

int main(int argc, char** argv) {
  int iterations = 400;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: extender_server_time [--iterations K]\n");
      return 2;
    }
  }
  return aidi::extender::Run(iterations);
}
