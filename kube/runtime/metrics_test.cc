// Metrics rendering and the health endpoints (served for real, read back with kube::Client).
#include "kube/runtime/metrics.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include <gtest/gtest.h>

#include "kube/client/client.h"
#include "kube/runtime/health_server.h"

namespace aidi::kube {
namespace {

TEST(Metrics, ReconcilesAreCountedByResultWithDurations) {
  Metrics m;
  m.ObserveReconcile("pipelines", "success", 0.002);
  m.ObserveReconcile("pipelines", "error", 0.2);
  m.ObserveReconcile("pipelines", "error", 0.3);
  std::string text = m.Render();
  EXPECT_NE(
      text.find("aidi_controller_reconcile_total{controller=\"pipelines\",result=\"success\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("aidi_controller_reconcile_total{controller=\"pipelines\",result=\"error\"} 2"),
      std::string::npos);
  EXPECT_NE(text.find("aidi_controller_reconcile_errors_total{controller=\"pipelines\"} 2"),
            std::string::npos);
  EXPECT_NE(
      text.find("aidi_controller_reconcile_duration_seconds_count{controller=\"pipelines\"} 3"),
      std::string::npos);
  EXPECT_NE(text.find("# TYPE aidi_controller_reconcile_duration_seconds histogram"),
            std::string::npos);
}

TEST(Metrics, SamplersAreReadAtScrapeTimeUntilRemoved) {
  Metrics m;
  std::atomic<int> depth{3};
  int id = m.AddSampler([&](std::vector<Metrics::Sample>& out) {
    out.push_back({"aidi_workqueue_depth",
                   "Keys waiting.",
                   false,
                   {{"name", "q"}},
                   static_cast<double>(depth.load())});
  });
  EXPECT_NE(m.Render().find("aidi_workqueue_depth{name=\"q\"} 3"), std::string::npos);
  depth = 7;
  std::string text = m.Render();
  EXPECT_NE(text.find("aidi_workqueue_depth{name=\"q\"} 7"), std::string::npos);
  EXPECT_NE(text.find("# TYPE aidi_workqueue_depth gauge"), std::string::npos);
  m.RemoveSampler(id);
  EXPECT_EQ(m.Render().find("aidi_workqueue_depth"), std::string::npos);
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(HealthServer, ReadyzWaitsForItsChecksAndMetricsAreServed) {
  Metrics metrics;
  metrics.ObserveReconcile("c", "success", 0.01);
  HealthServer server(&metrics);
  std::atomic<bool> synced{false};
  server.AddReadinessCheck("caches synced", [&] { return synced.load(); });
  std::string addr = "127.0.0.1:" + std::to_string(FreePort());
  ASSERT_TRUE(server.Start(addr).ok());

  ClientConfig config;
  config.server = "http://" + addr;
  config.max_retries = 0;
  auto client = Client::Create(config);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  HttpRequest get;
  get.accept = "*/*";
  get.path = "/healthz";
  EXPECT_EQ((*client)->SendRaw(get).value(), "ok\n");
  get.path = "/readyz";
  auto not_ready = (*client)->SendRaw(get);
  ASSERT_FALSE(not_ready.ok());
  EXPECT_EQ(not_ready.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(not_ready.status().message().find("caches synced"), std::string::npos)
      << not_ready.status().message();
  synced = true;
  EXPECT_TRUE((*client)->SendRaw(get).ok());
  get.path = "/metrics";
  auto text = (*client)->SendRaw(get);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("aidi_controller_reconcile_total"), std::string::npos);
  get.path = "/nope";
  EXPECT_TRUE((*client)->SendRaw(get).status().IsNotFound());
}

TEST(HealthServer, BadAddressIsAClearError) {
  HealthServer server(nullptr);
  Status s = server.Start("no-port-here");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no-port-here"), std::string::npos);
}

}  // namespace
}  // namespace aidi::kube
