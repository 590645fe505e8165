// Fuzzes the extender's request path past decoding: the input is a filter/prioritize body;
// once it decodes, Handlers::Filter and Prioritize run over a fixed synthetic cache (sites with
// prices, links and maintenance; nodes of several models, one cordoned, some GPUs in use; one
// reservation), and ExtenderServer::Serve answers it as /filter, /prioritize and /bind. Any
// crash, sanitizer report or exception is a bug. Beyond that it checks: every candidate is
// answered exactly once (passed, failed or unresolvable), scores are 0..10 and one per
// candidate in order, and every answer is JSON.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "scheduler-extender/gpu_ledger.h"
#include "scheduler-extender/handlers.h"
#include "scheduler-extender/node_cache.h"
#include "scheduler-extender/server.h"
#include "scheduler-extender/test_util.h"
#include "scheduler-extender/wire.h"

namespace {

using namespace aidi::extender;  // NOLINT: a fuzz driver

void Check(bool condition) {
  if (!condition) std::abort();
}

struct World {
  World() {
    using testing::NodeObject;
    using testing::SiteObject;
    cache.ApplySite(SiteObject("cloud", "Cloud", 5, 10000, 0.09,
                               {{"NVIDIA-H100-80GB-HBM3", 8}, {"NVIDIA-L4", 0.9}}));
    cache.ApplySite(SiteObject("edge", "Edge", 20, 200, 0.05, {{"NVIDIA-L4", 0.6}}));
    cache.ApplySite(SiteObject("down", "Edge", 10, 100, 0.05, {}, true));
    cache.ApplyNode(NodeObject("n1", "cloud", "NVIDIA-H100-80GB-HBM3", 8, 81559));
    cache.ApplyNode(NodeObject("n2", "edge", "NVIDIA-L4", 2, 23034));
    cache.ApplyNode(NodeObject("n3", "down", "NVIDIA-L4", 2, 23034));
    cache.ApplyNode(NodeObject("n4", "cloud", "NVIDIA-L4", 4, 23034, true));
    cache.ApplyNode(NodeObject("n5", "", "", 0));
    cache.ApplyPod(testing::PodObject("default", "busy", "u-busy", "n2", 1));
    if (!ledger.Reserve("u-reserved", "n1", 3).ok()) std::abort();
    cache.MarkSynced();
  }
  NodeCache cache;
  GpuLedger ledger{&cache};
  Handlers handlers{&cache, &ledger, nullptr};
  ExtenderServer server{&handlers, &cache, &ledger, nullptr};
};

bool IsJson(const std::string& s) { return nlohmann::json::accept(s); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();  // lives for the process, as libFuzzer expects
  std::string body(reinterpret_cast<const char*>(data), size);
  auto args = DecodeExtenderArgs(body);
  if (args.ok()) {
    const auto names = args->CandidateNames();
    ExtenderFilterResult r = world->handlers.Filter(*args);
    std::multiset<std::string> answered(r.passed.begin(), r.passed.end());
    for (const auto& [n, why] : r.failed_nodes) answered.insert(n);
    for (const auto& [n, why] : r.failed_and_unresolvable_nodes) answered.insert(n);
    // Duplicate candidate names collapse in the maps; compare as sets then.
    Check(std::set<std::string>(answered.begin(), answered.end()) ==
          std::set<std::string>(names.begin(), names.end()));
    HostPriorityList scores = world->handlers.Prioritize(*args);
    Check(scores.size() == names.size());
    for (std::size_t i = 0; i < scores.size(); ++i) {
      Check(scores[i].host == names[i]);
      Check(scores[i].score >= kMinExtenderPriority && scores[i].score <= kMaxExtenderPriority);
    }
  }
  for (const char* path : {"/filter", "/prioritize", "/bind"}) {
    aidi::http::Request request;
    request.method = "POST";
    request.path = path;
    request.body = body;
    ExtenderServer::Response response = world->server.Serve(request);
    Check(response.status == 200 || response.status == 400);
    Check(IsJson(response.body));
  }
  return 0;
}
