#include "scheduler-extender/server.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "scheduler-extender/test_util.h"

namespace aidi::extender {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using testing::NodeObject;
using testing::PodObject;
using testing::SiteObject;

http::Request Post(const std::string& path, std::string body) {
  http::Request r;
  r.method = "POST";
  r.path = path;
  r.body = std::move(body);
  return r;
}

http::Request Get(const std::string& path) {
  http::Request r;
  r.method = "GET";
  r.path = path;
  return r;
}

// ExtenderArgs as kube-scheduler marshals them (nodeCacheCapable: NodeNames, Nodes null).
std::string FilterBody(const std::string& demand, const std::vector<std::string>& names,
                       int gpus = 1) {
  json pod = PodObject("default", "p", "uid-p", "", gpus, "Pending", demand);
  return json{{"Pod", pod}, {"Nodes", nullptr}, {"NodeNames", names}}.dump();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_.ApplySite(SiteObject("edge-a", "Edge", 10, 1000, 0.05, {{"NVIDIA-L4", 0.6}}));
    cache_.ApplyNode(NodeObject("n1", "edge-a", "NVIDIA-L4", 2));
    cache_.ApplyNode(NodeObject("n2", "", "NVIDIA-L4", 1));
  }

  NodeCache cache_;
  GpuLedger ledger_{&cache_};
  Handlers handlers_{&cache_, &ledger_, nullptr};
  kube::Metrics metrics_;
  ExtenderServer server_{&handlers_, &cache_, &ledger_, &metrics_};
};

TEST_F(ServerTest, FilterAndPrioritizeAnswerInTheWireFormat) {
  auto r = server_.Serve(Post("/filter", FilterBody("{}", {"n1", "n2", "n3"}, 2)));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"Nodes":null,"NodeNames":["n1"],"FailedNodes":{"n3":"node is not in the aidi )"
            R"(extender's node cache yet"},"FailedAndUnresolvableNodes":{"n2":"needs 2 GPUs, )"
            R"(node has 1"},"Error":""})");
  r = server_.Serve(Post("/prioritize/", FilterBody("{}", {"n1", "n2"})));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"([{"Host":"n1","Score":10},{"Host":"n2","Score":10}])");
}

TEST_F(ServerTest, MalformedRequestsGet400WithAJsonError) {
  for (const char* path : {"/filter", "/prioritize", "/bind"}) {
    for (const char* body : {"", "{", "[]", R"({"Pod":null,"NodeNames":[]})", "\xff\xfe",
                             R"({"PodName":3})", "null"}) {
      auto r = server_.Serve(Post(path, body));
      EXPECT_EQ(r.status, 400) << path << " " << body;
      json error = json::parse(r.body, nullptr, false);
      ASSERT_TRUE(error.is_object()) << r.body;
      EXPECT_FALSE(error.value("Error", "").empty()) << r.body;
    }
  }
  http::Request big = Post("/filter", "");
  big.body_too_large = true;
  EXPECT_EQ(server_.Serve(big).status, 413);
}

TEST_F(ServerTest, WrongPathsAndMethods) {
  EXPECT_EQ(server_.Serve(Get("/nope")).status, 404);
  auto r = server_.Serve(Get("/filter"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "POST");
  EXPECT_EQ(server_.Serve(Post("/healthz", "")).status, 405);
}

TEST_F(ServerTest, HealthReadinessAndMetrics) {
  EXPECT_EQ(server_.Serve(Get("/healthz")).status, 200);
  auto r = server_.Serve(Get("/readyz"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "caches not synced");
  cache_.MarkSynced();
  EXPECT_EQ(server_.Serve(Get("/readyz")).status, 200);
  server_.Serve(Post("/filter", FilterBody("{}", {"n1"})));
  server_.Serve(Post("/filter", "{"));
  server_.Serve(Post("/bind", R"({"PodName":"p","PodNamespace":"default","PodUID":"u",)"
                              R"("Node":"n1"})"));  // fails: no API client
  std::string text = server_.Serve(Get("/metrics")).body;
  EXPECT_THAT(text, HasSubstr(R"(aidi_extender_requests_total{code="200",verb="filter"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(aidi_extender_requests_total{code="400",verb="filter"} 1)"));
  EXPECT_THAT(text, HasSubstr("aidi_extender_bind_failures_total 1"));
  EXPECT_THAT(text, HasSubstr(R"(aidi_extender_filter_nodes_total{result="passed"} 1)"));
  EXPECT_THAT(text, HasSubstr("aidi_extender_request_duration_seconds_bucket"));
  EXPECT_THAT(text, HasSubstr("aidi_extender_ledger_reservations 0"));
  EXPECT_THAT(text, HasSubstr("aidi_extender_cache_nodes 2"));
}

// Informal timing of filter + prioritize through Serve (decode, cache look-ups, cost model,
// encode) at 100, 1,000 and 5,000 NodeNames over 50 sites; the bound is loose (shared
// machines, sanitizer builds): README.md records the figures.
}  // namespace
}  // namespace aidi::extender
