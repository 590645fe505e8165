// aidi-scheduler-extender against the real aidi-devcluster: the EdgeSite CRD from crds/, nodes,
// sites and pods created through the API; the extender's caches fed by real watches; its verbs
// called over HTTP as kube-scheduler calls them; binds that write aidi.dev/placement and
// spec.nodeName; a bind that loses a race releases its reservation; malformed bodies get 400;
// and the binary itself (flags, /readyz, /metrics checked by promtool, SIGTERM).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/client/api.h"
#include "scheduler-extender/demand.h"
#include "scheduler-extender/gpu_ledger.h"
#include "scheduler-extender/handlers.h"
#include "scheduler-extender/node_cache.h"
#include "scheduler-extender/server.h"
#include "scheduler-extender/test_util.h"
#include "tests/kube/devcluster_test.h"
#include "tests/kube/manifest.h"

namespace aidi::extender {
namespace {

using kube::testing::Eventually;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 request over a fresh plain connection (Connection: close); status 0 when the
// connection failed.
HttpAnswer Http(int port, const std::string& method, const std::string& path,
                const std::string& body = "") {
  HttpAnswer answer;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return answer;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return answer;
  }
  std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n" +
      "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  for (std::size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, n);
  ::close(fd);
  if (response.rfind("HTTP/1.1 ", 0) != 0) return answer;
  answer.status = std::atoi(response.c_str() + 9);
  auto end = response.find("\r\n\r\n");
  if (end != std::string::npos) answer.body = response.substr(end + 4);
  return answer;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Starts the aidi-scheduler-extender binary serving on 127.0.0.1:`port` with `kubeconfig`; returns
// its pid.
pid_t SpawnExtenderBinary(int port, const std::string& kubeconfig, const std::string& log_level) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  std::vector<std::string> args = {
      AIDI_EXTENDER_BIN, "--listen", "127.0.0.1:" + std::to_string(port),
      "--kubeconfig",    kubeconfig, "--log-level",
      log_level};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  std::_Exit(127);
}

constexpr char kL4[] = "NVIDIA-L4";
constexpr char kH100[] = "NVIDIA-H100-80GB-HBM3";
constexpr char kGravity[] =
    R"({"workGpuSeconds":3600,"inputBytes":400000000000,"inputSite":"edge-munich"})";

// A PodClient that loses the race for one pod: another binder binds it to `node` first.
class RacingPods final : public PodClient {
 public:
  RacingPods(PodClient* real, kube::Api pods) : real_(real), pods_(std::move(pods)) {}
  StatusOr<json> GetPod(const std::string& ns, const std::string& name) override {
    return real_->GetPod(ns, name);
  }
  Status Annotate(const std::string& ns, const std::string& name, const std::string& uid,
                  const json& annotations) override {
    return real_->Annotate(ns, name, uid, annotations);
  }
  Status Bind(const std::string& ns, const std::string& name, const std::string& uid,
              const std::string& node) override {
    if (name == race_pod) {
      Status first = real_->Bind(ns, name, uid, race_node);
      if (!first.ok()) return first;
    }
    return real_->Bind(ns, name, uid, node);
  }
  std::string race_pod;
  std::string race_node;

 private:
  PodClient* real_;
  kube::Api pods_;
};

class ExtenderIT : public kube::testing::DevclusterTest {
 protected:
  void SetUp() override {
    DevclusterTest::SetUp();
    if (HasFatalFailure()) return;
    auto crd =
        kube::testing::LoadManifest(std::string(AIDI_SOURCE_DIR) + "/crds/edgesites.aidi.dev.yaml");
    ASSERT_TRUE(crd.ok()) << crd.status().ToString();
    auto created = kube::Api(client_, kube::resources::kCustomResourceDefinitions, "").Create(*crd);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ASSERT_TRUE(Eventually([&] { return Sites().List().ok(); }, std::chrono::seconds(10)));

    CreateSite("cloud-fra", testing::SiteObject("cloud-fra", "Cloud", 5, 10000, 0.09,
                                                {{kH100, 8.0}, {kL4, 0.9}}));
    CreateSite("edge-munich",
               testing::SiteObject("edge-munich", "Edge", 20, 200, 0.05, {{kL4, 0.6}}));
    CreateSite("edge-down",
               testing::SiteObject("edge-down", "Edge", 10, 100, 0.05, {{kL4, 0.5}}, true));
    CreateNode(testing::NodeObject("cloud-1", "cloud-fra", kH100, 8, 81559));
    CreateNode(testing::NodeObject("munich-1", "edge-munich", kL4, 2, 23034));
    CreateNode(testing::NodeObject("down-1", "edge-down", kL4, 2, 23034));
  }

  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    handlers_.reset();
    ledger_.reset();
    if (cache_) cache_->Stop();
    cache_.reset();
  }

  kube::Api Sites() { return kube::Api(client_, kEdgeSites, ""); }
  kube::Api Nodes() { return kube::Api(client_, kube::resources::kNodes, ""); }
  kube::Api Pods() { return kube::Api(client_, kube::resources::kPods, "default"); }

  void CreateSite(const std::string& name, const json& site) {
    auto created = Sites().Create(site);
    ASSERT_TRUE(created.ok()) << name << ": " << created.status().ToString();
  }
  void CreateNode(const json& node) {
    auto created = Nodes().Create(node);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  // A pending stage pod; returns its uid.
  std::string CreatePod(const std::string& name, int gpus, const std::string& demand) {
    json pod = testing::PodObject("default", name, "", "", gpus, "Pending", demand);
    pod["metadata"].erase("uid");
    pod.erase("status");
    auto created = Pods().Create(pod);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? (*created)["metadata"]["uid"].get<std::string>() : "";
  }

  // The extender in-process, on a free port, with caches fed by real watches.
  void StartExtender(bool racing = false) {
    cache_ = std::make_unique<NodeCache>();
    ledger_ = std::make_unique<GpuLedger>(cache_.get());
    real_pods_ = NewKubePodClient(client_);
    racing_ = std::make_unique<RacingPods>(real_pods_.get(), Pods());
    handlers_ = std::make_unique<Handlers>(cache_.get(), ledger_.get(),
                                           racing ? racing_.get() : real_pods_.get());
    server_ =
        std::make_unique<ExtenderServer>(handlers_.get(), cache_.get(), ledger_.get(), &metrics_);
    ASSERT_TRUE(server_->Start(http::ServerOptions{}).ok());
    cache_->Start(client_);
    ASSERT_TRUE(Eventually([&] { return Http(server_->port(), "GET", "/readyz").status == 200; }));
    // Synced means listed; the sites' prices are on the nodes.
    ASSERT_TRUE(Eventually([&] { return cache_->node_count() == 3; }));
  }

  std::string Args(const std::string& pod_name, const std::vector<std::string>& names) {
    auto pod = Pods().Get(pod_name);
    EXPECT_TRUE(pod.ok());
    return json{{"Pod", *pod}, {"Nodes", nullptr}, {"NodeNames", names}}.dump();
  }

  kube::Metrics metrics_;
  std::unique_ptr<NodeCache> cache_;
  std::unique_ptr<GpuLedger> ledger_;
  std::unique_ptr<PodClient> real_pods_;
  std::unique_ptr<RacingPods> racing_;
  std::unique_ptr<Handlers> handlers_;
  std::unique_ptr<ExtenderServer> server_;
};

TEST_F(ExtenderIT, FiltersPrioritizesAndBindsWithAPlacement) {
  StartExtender();
  const int port = server_->port();
  std::string uid = CreatePod("stage-a", 1, kGravity);
  std::string args = Args("stage-a", {"cloud-1", "munich-1", "down-1", "ghost"});

  HttpAnswer filter = Http(port, "POST", "/filter", args);
  ASSERT_EQ(filter.status, 200) << filter.body;
  json f = json::parse(filter.body);
  EXPECT_EQ(f["NodeNames"], json::array({"cloud-1", "munich-1"}));
  EXPECT_EQ(f["FailedAndUnresolvableNodes"]["down-1"], "site edge-down is in maintenance");
  EXPECT_TRUE(f["FailedNodes"].contains("ghost"));
  EXPECT_EQ(f["Error"], "");

  HttpAnswer prioritize = Http(port, "POST", "/prioritize", args);
  ASSERT_EQ(prioritize.status, 200);
  json p = json::parse(prioritize.body);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[1], (json{{"Host", "munich-1"}, {"Score", 10}}));
  EXPECT_LT(p[0]["Score"].get<int>(), 5);
  EXPECT_EQ(p[2]["Score"], 0);

  json bind = {
      {"PodName", "stage-a"}, {"PodNamespace", "default"}, {"PodUID", uid}, {"Node", "munich-1"}};
  HttpAnswer bound = Http(port, "POST", "/bind", bind.dump());
  ASSERT_EQ(bound.status, 200);
  EXPECT_EQ(bound.body, R"({"Error":""})");
  auto pod = Pods().Get("stage-a");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["spec"]["nodeName"], "munich-1");
  json placement =
      json::parse((*pod)["metadata"]["annotations"][kPlacementAnnotation].get<std::string>());
  EXPECT_EQ(placement["node"], "munich-1");
  EXPECT_EQ(placement["site"], "edge-munich");
  EXPECT_EQ(placement["score"], 10);
  EXPECT_THAT(
      placement["reason"].get<std::string>(),
      StartsWith("data gravity: 400 GB at edge-munich; moving it to cloud-fra takes 4.4 h"));
  // The watch shows the binding: the cache counts the GPU and the reservation is gone.
  EXPECT_TRUE(Eventually([&] {
    auto usage = cache_->UsageOf("munich-1");
    return usage && usage->used == 1 && ledger_->size() == 0;
  }));
}

TEST_F(ExtenderIT, ABurstOfBindsNeverOverAllocatesAndAFailedBindReleases) {
  StartExtender(/*racing=*/true);
  const int port = server_->port();
  std::vector<std::string> uids;
  for (int i = 0; i < 4; ++i) uids.push_back(CreatePod("burst-" + std::to_string(i), 1, "{}"));
  // Four binds to munich-1 (2 GPUs) at once: two win, two are refused by the ledger.
  std::vector<HttpAnswer> answers(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      json bind = {{"PodName", "burst-" + std::to_string(i)},
                   {"PodNamespace", "default"},
                   {"PodUID", uids[i]},
                   {"Node", "munich-1"}};
      answers[i] = Http(port, "POST", "/bind", bind.dump());
    });
  }
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const auto& a : answers) {
    ASSERT_EQ(a.status, 200);
    json r = json::parse(a.body);
    if (r["Error"] == "") {
      ++ok;
    } else {
      EXPECT_THAT(r["Error"].get<std::string>(), HasSubstr("cannot reserve GPUs: node munich-1"));
    }
  }
  EXPECT_EQ(ok, 2);
  int bound = 0;
  for (int i = 0; i < 4; ++i) {
    auto pod = Pods().Get("burst-" + std::to_string(i));
    ASSERT_TRUE(pod.ok());
    bound += (*pod)["spec"].value("nodeName", "") == "munich-1" ? 1 : 0;
  }
  EXPECT_EQ(bound, 2);

  // Another binder wins the race for this pod: the bind fails and releases its reservation.
  std::string uid = CreatePod("raced", 2, "{}");
  racing_->race_pod = "raced";
  racing_->race_node = "down-1";
  json bind = {
      {"PodName", "raced"}, {"PodNamespace", "default"}, {"PodUID", uid}, {"Node", "cloud-1"}};
  HttpAnswer failed = Http(port, "POST", "/bind", bind.dump());
  ASSERT_EQ(failed.status, 200);
  EXPECT_THAT(json::parse(failed.body)["Error"].get<std::string>(),
              HasSubstr("cannot bind pod default/raced to cloud-1"));
  EXPECT_EQ(ledger_->ReservedOn("cloud-1"), 0);
  EXPECT_EQ(*ledger_->Free("cloud-1"), 8);
}

TEST_F(ExtenderIT, MalformedBodiesGet400AndReadinessWaitsForTheCaches) {
  cache_ = std::make_unique<NodeCache>();
  ledger_ = std::make_unique<GpuLedger>(cache_.get());
  handlers_ = std::make_unique<Handlers>(cache_.get(), ledger_.get(), nullptr);
  server_ =
      std::make_unique<ExtenderServer>(handlers_.get(), cache_.get(), ledger_.get(), &metrics_);
  ASSERT_TRUE(server_->Start(http::ServerOptions{}).ok());
  const int port = server_->port();
  EXPECT_EQ(Http(port, "GET", "/readyz").status, 503);  // not watching yet
  EXPECT_EQ(Http(port, "GET", "/healthz").status, 200);
  for (const char* body :
       {"", "{", R"({"Pod":{"metadata":{"name":1}},"NodeNames":[]})", R"({"NodeNames":"n"})"}) {
    HttpAnswer a = Http(port, "POST", "/filter", body);
    EXPECT_EQ(a.status, 400) << body;
    EXPECT_FALSE(json::parse(a.body, nullptr, false).value("Error", "").empty()) << a.body;
  }
  EXPECT_EQ(Http(port, "POST", "/bind", R"({"PodName":"x"})").status, 400);
  EXPECT_EQ(Http(port, "GET", "/filter").status, 405);
  EXPECT_EQ(Http(port, "GET", "/other").status, 404);
  cache_->Start(client_);
  EXPECT_TRUE(Eventually([&] { return Http(port, "GET", "/readyz").status == 200; }));
}

// The binary: flags, readiness against devcluster, metrics that promtool accepts, SIGTERM.
TEST_F(ExtenderIT, TheBinaryServesAndStopsOnSigterm) {
  const int port = FreePort();
  pid_t pid = SpawnExtenderBinary(port, dc_.kubeconfig_path(), "warn");
  ASSERT_GE(pid, 0);
  bool ready = Eventually([&] { return Http(port, "GET", "/readyz").status == 200; },
                          std::chrono::seconds(30));
  std::string metrics = Http(port, "GET", "/metrics").body;
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(ready);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_THAT(metrics, HasSubstr("aidi_extender_cache_nodes 3"));
  if (std::filesystem::exists("/usr/bin/promtool")) {
    FILE* check = ::popen("/usr/bin/promtool check metrics >/dev/null 2>&1", "w");
    ASSERT_NE(check, nullptr);
    std::fwrite(metrics.data(), 1, metrics.size(), check);
    EXPECT_EQ(::pclose(check), 0) << metrics;
  }
}

// With the API server unreachable, the watchers sit in list retries (~20 s of backoff in all);
// SIGTERM must end those at once rather than wait them out (it took 23 s before).
TEST_F(ExtenderIT, StopsPromptlyWhileTheApiServerIsUnreachable) {
  const int port = FreePort();
  const std::string kubeconfig = ::testing::TempDir() + "/unreachable-kubeconfig";
  {
    std::ofstream out(kubeconfig);
    out << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        << "    server: https://127.0.0.1:" << FreePort() << "\n"  // nothing listens there
        << "    insecure-skip-tls-verify: true\n"
        << "users:\n- name: u\n  user: {token: t}\n"
        << "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
  }
  pid_t pid = SpawnExtenderBinary(port, kubeconfig, "error");
  ASSERT_GE(pid, 0);
  bool serving = Eventually([&] { return Http(port, "GET", "/healthz").status == 200; },
                            std::chrono::seconds(30));
  // Let the first lists fail, so that each watcher is in a retry wait.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ::kill(pid, SIGTERM);
  int status = 0;
  bool exited =
      Eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, std::chrono::seconds(10));
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(serving);
  EXPECT_TRUE(exited) << "still waiting out its retries 10 s after SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace aidi::extender
