// Tests of the scheduler's building blocks: configuration parsing, quantities and durations, the
// fit check and upstream's summary message, and the extender protocol against a real HTTP server.
#include "devcluster/agents/scheduler.h"

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include <gtest/gtest.h>

#include "http/http_server.h"

namespace aidi::devcluster {
namespace {

using json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ---- Configuration. ----

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_path_ = ::testing::TempDir() + "/scheduler_test_ca.crt";
    std::ofstream(ca_path_) << "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n";
  }
  void TearDown() override { std::remove(ca_path_.c_str()); }

  // The repository's configuration with its caFile pointing at a file that exists here.
  std::string RepoConfig() const {
    std::string text = ReadFile(AIDI_SCHEDULER_CONFIG);
    const std::string ca = "/etc/aidi/extender-ca/ca.crt";
    auto at = text.find(ca);
    EXPECT_NE(at, std::string::npos);
    return text.replace(at, ca.size(), ca_path_);
  }

  std::string ca_path_;
};

TEST_F(ConfigTest, ParsesTheRepositoryConfig) {
  auto config = ParseSchedulerConfig(RepoConfig(), "scheduler-config.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->profiles, std::vector<std::string>{"aidi-scheduler"});
  ASSERT_EQ(config->extenders.size(), 1u);
  const ExtenderConfig& e = config->extenders[0];
  EXPECT_EQ(e.url_prefix, "https://aidi-scheduler-extender.aidi-system.svc:8443");
  EXPECT_EQ(e.filter_verb, "filter");
  EXPECT_EQ(e.prioritize_verb, "prioritize");
  EXPECT_EQ(e.bind_verb, "bind");
  EXPECT_EQ(e.weight, 5);
  EXPECT_TRUE(e.enable_https);
  EXPECT_NE(e.ca_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(e.http_timeout, std::chrono::milliseconds(5000));
  EXPECT_TRUE(e.node_cache_capable);
  EXPECT_EQ(e.managed_resources, std::vector<std::string>{"nvidia.com/gpu"});
  EXPECT_TRUE(e.ignored_resources.empty());
  EXPECT_FALSE(e.ignorable);
}

TEST_F(ConfigTest, LoadsFromAFileAndNamesAnUnreadableCaFile) {
  auto config = LoadSchedulerConfig(AIDI_SCHEDULER_CONFIG);
  ASSERT_FALSE(config.ok());  // /etc/aidi/extender-ca/ca.crt does not exist here
  EXPECT_NE(config.status().message().find("extenders[0].tlsConfig.caFile: cannot read"),
            std::string::npos)
      << config.status().message();
  EXPECT_TRUE(LoadSchedulerConfig("/nonexistent/config.yaml").status().IsNotFound());
}

TEST_F(ConfigTest, AcceptsEveryUpstreamField) {
  const char* text = R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
parallelism: 16
percentageOfNodesToScore: 50
podInitialBackoffSeconds: 1
podMaxBackoffSeconds: 10
enableProfiling: false
enableContentionProfiling: false
delayCacheUntilActive: true
clientConnection: {kubeconfig: /k, qps: 50.5, burst: 100, contentType: application/json}
leaderElection: {leaderElect: false, leaseDuration: 15s, renewDeadline: 10s, retryPeriod: 2s,
                 resourceLock: leases, resourceName: x, resourceNamespace: y}
profiles:
- schedulerName: a
  percentageOfNodesToScore: 0
  plugins:
    score:
      disabled: [{name: '*'}]
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
- schedulerName: b
extenders:
- urlPrefix: http://127.0.0.1:8888/x/
  filterVerb: filter
  preemptVerb: preempt
  nodeCacheCapable: false
  httpTimeout: 1m30s
  tlsConfig: {insecure: true, serverName: ext, caData: UEVN}
  managedResources:
  - {name: example.com/foo, ignoredByScheduler: true}
  ignorable: true
)";
  auto config = ParseSchedulerConfig(text, "c.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->profiles, (std::vector<std::string>{"a", "b"}));
  const ExtenderConfig& e = config->extenders.at(0);
  EXPECT_EQ(e.http_timeout, std::chrono::milliseconds(90000));
  EXPECT_EQ(e.ca_pem, "PEM");
  EXPECT_TRUE(e.insecure);
  EXPECT_EQ(e.tls_server_name, "ext");
  EXPECT_EQ(e.ignored_resources, std::vector<std::string>{"example.com/foo"});
  EXPECT_TRUE(e.ignorable);
  EXPECT_EQ(e.preempt_verb, "preempt");
}

TEST_F(ConfigTest, DefaultsALoneProfileAndAcceptsJson) {
  auto config = ParseSchedulerConfig(
      R"({"apiVersion":"kubescheduler.config.k8s.io/v1","kind":"KubeSchedulerConfiguration"})",
      "c.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->profiles, std::vector<std::string>{"default-scheduler"});
  EXPECT_TRUE(config->extenders.empty());
}

TEST_F(ConfigTest, ErrorsNameTheFileAndField) {
  const std::string head =
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
  struct Case {
    std::string body;
    std::string error;
  };
  std::vector<Case> cases = {
      {"foo: 1\n", "c.yaml: foo: unknown field"},
      {"leaderElection: {leaderElect: true, bogus: 1}\n",
       "c.yaml: leaderElection.bogus: unknown field"},
      {"profiles: [{schedulerName: a, extra: 1}]\n", "c.yaml: profiles[0].extra: unknown field"},
      {"profiles: [{schedulerName: a}, {schedulerName: a}]\n",
       "c.yaml: profiles[1].schedulerName: duplicate \"a\""},
      {"profiles: [{schedulerName: a}, {}]\n",
       "c.yaml: profiles[1].schedulerName: must not be empty"},
      {"extenders: [{urlPrefix: 'http://x', bogus: 1}]\n",
       "c.yaml: extenders[0].bogus: unknown field"},
      {"extenders: [{urlPrefix: 'http://x', prioritizeVerb: p, weight: 0}]\n",
       "c.yaml: extenders[0].weight: must be positive when prioritizeVerb is set"},
      {"extenders: [{urlPrefix: 'http://x', prioritizeVerb: p}]\n",
       "c.yaml: extenders[0].weight: must be positive when prioritizeVerb is set"},
      {"extenders: [{urlPrefix: 'http://x', bindVerb: b}, {urlPrefix: 'http://y', bindVerb: b}]\n",
       "c.yaml: extenders[1].bindVerb: only one extender can implement bind"},
      {"extenders: [{urlPrefix: 'http://x', httpTimeout: 5 seconds}]\n",
       "c.yaml: extenders[0].httpTimeout: invalid duration"},
      {"extenders: [{urlPrefix: 'http://x', weight: 'five'}]\n",
       "c.yaml: extenders[0].weight: must be an integer"},
      {"extenders: [{urlPrefix: 'x:80'}]\n", "c.yaml: extenders[0].urlPrefix: must be an http"},
      {"extenders: [{urlPrefix: 'http://x', tlsConfig: {caData: 'not base64!'}}]\n",
       "c.yaml: extenders[0].tlsConfig.caData: must be base64"},
      {"extenders: [{urlPrefix: 'http://x', tlsConfig: {ca: x}}]\n",
       "c.yaml: extenders[0].tlsConfig.ca: unknown field"},
      {"extenders: [{urlPrefix: 'http://x', managedResources: [{name: a}, {name: a}]}]\n",
       "c.yaml: extenders[0].managedResources[1].name: duplicate \"a\""},
  };
  for (const auto& c : cases) {
    auto config = ParseSchedulerConfig(head + c.body, "c.yaml");
    ASSERT_FALSE(config.ok()) << c.body;
    EXPECT_EQ(config.status().message().rfind(c.error, 0), 0u)
        << c.body << " -> " << config.status().message();
  }
  EXPECT_EQ(ParseSchedulerConfig("apiVersion: kubescheduler.config.k8s.io/v1beta3\n"
                                 "kind: KubeSchedulerConfiguration\n",
                                 "c.yaml")
                .status()
                .message(),
            "c.yaml: apiVersion: must be kubescheduler.config.k8s.io/v1");
  EXPECT_FALSE(ParseSchedulerConfig("a: [", "c.yaml").ok());
}

// ---- Durations (quantities: kube/core/quantity_test.cc). ----

TEST(DurationTest, ParsesGoDurations) {
  EXPECT_EQ(*ParseGoDuration("5s"), std::chrono::milliseconds(5000));
  EXPECT_EQ(*ParseGoDuration("1m30s"), std::chrono::milliseconds(90000));
  EXPECT_EQ(*ParseGoDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*ParseGoDuration("1.5h"), std::chrono::milliseconds(5400000));
  EXPECT_EQ(*ParseGoDuration("0"), std::chrono::milliseconds(0));
  EXPECT_EQ(*ParseGoDuration("1us"), std::chrono::milliseconds(1));  // rounded up
  EXPECT_EQ(*ParseGoDuration("-2s"), std::chrono::milliseconds(-2000));
  for (const char* bad : {"", "5", "s", "5 s", "5x", "1..5s"}) {
    EXPECT_FALSE(ParseGoDuration(bad).ok()) << bad;
  }
}

// ---- Fit. ----

json Node(const std::string& name, json allocatable, json extra = json::object()) {
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
               {"spec", json::object()},
               {"status",
                {{"allocatable", std::move(allocatable)},
                 {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  node.merge_patch(extra);
  return node;
}

json Pod(const std::string& name, json requests, json extra = json::object()) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
              {"spec",
               {{"schedulerName", "aidi-scheduler"},
                {"containers", {{{"name", "main"}, {"resources", {{"requests", requests}}}}}}}}};
  pod.merge_patch(extra);
  return pod;
}

TEST(PodRequestsTest, SumsContainersAndTakesTheLargestInitContainer) {
  json pod = {{"spec",
               {{"containers",
                 {{{"resources", {{"requests", {{"cpu", "500m"}, {"memory", "1Gi"}}}}}},
                  {{"resources", {{"limits", {{"nvidia.com/gpu", "1"}, {"cpu", "250m"}}}}}}}},
                {"initContainers",
                 {{{"resources", {{"requests", {{"cpu", "2"}}}}}},
                  {{"resources", {{"requests", {{"memory", "512Mi"}}}}}}}},
                {"overhead", {{"cpu", "10m"}}}}}};
  ResourceMilli r = PodRequests(pod);
  EXPECT_EQ(r["cpu"], 2010);  // max(750, 2000) + 10 overhead
  EXPECT_EQ(r["memory"], 1073741824000LL);
  EXPECT_EQ(r["nvidia.com/gpu"], 1000);  // request defaults to the limit
}

TEST(PodRequestsTest, SidecarsAddToTheContainersAndLaterInitContainers) {
  json pod = {{"spec",
               {{"containers", {{{"resources", {{"requests", {{"cpu", "1"}}}}}}}},
                {"initContainers",
                 {{{"restartPolicy", "Always"}, {"resources", {{"requests", {{"cpu", "1"}}}}}},
                  {{"resources", {{"requests", {{"cpu", "3"}}}}}}}}}}};
  EXPECT_EQ(PodRequests(pod)["cpu"], 4000);  // max(1 + 1, 3 + 1)
}

TEST(NodeFitTest, ReasonsFollowUpstreamFilters) {
  json gpu_pod = Pod("p", {{"cpu", "1"}, {"nvidia.com/gpu", "1"}});
  ResourceMilli req = PodRequests(gpu_pod);
  req["pods"] = 1000;
  json alloc = {{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "2"}, {"nvidia.com/gpu", "1"}};

  EXPECT_TRUE(NodeFitReasons(gpu_pod, req, Node("n", alloc), {}).empty());
  // One GPU already used.
  EXPECT_EQ(NodeFitReasons(gpu_pod, req, Node("n", alloc), {{{"nvidia.com/gpu", 1000}}}),
            std::vector<std::string>{"Insufficient nvidia.com/gpu"});
  // ... unless an extender manages it with ignoredByScheduler.
  EXPECT_TRUE(NodeFitReasons(gpu_pod, req, Node("n", alloc), {{{"nvidia.com/gpu", 1000}}},
                             {"nvidia.com/gpu"})
                  .empty());
  // Every short resource, and the pod count.
  EXPECT_EQ(NodeFitReasons(gpu_pod, req, Node("n", alloc),
                           {{{"cpu", 3500}, {"nvidia.com/gpu", 1000}}, {}}),
            (std::vector<std::string>{"Too many pods", "Insufficient cpu",
                                      "Insufficient nvidia.com/gpu"}));
  // No GPUs at all.
  EXPECT_EQ(NodeFitReasons(gpu_pod, req, Node("n", {{"cpu", "4"}}), {}),
            std::vector<std::string>{"Insufficient nvidia.com/gpu"});
  // Cordoned.
  EXPECT_EQ(
      NodeFitReasons(gpu_pod, req, Node("n", alloc, {{"spec", {{"unschedulable", true}}}}), {}),
      std::vector<std::string>{"node(s) were unschedulable"});
  // Tainted; tolerated.
  json tainted = Node(
      "n", alloc,
      {{"spec", {{"taints", {{{"key", "gpu"}, {"value", "a100"}, {"effect", "NoSchedule"}}}}}}});
  EXPECT_EQ(NodeFitReasons(gpu_pod, req, tainted, {}),
            std::vector<std::string>{"node(s) had untolerated taint {gpu: a100}"});
  json tolerant = gpu_pod;
  tolerant["spec"]["tolerations"] = {{{"key", "gpu"}, {"operator", "Exists"}}};
  EXPECT_TRUE(NodeFitReasons(tolerant, req, tainted, {}).empty());
  // PreferNoSchedule does not filter.
  json soft =
      Node("n", alloc, {{"spec", {{"taints", {{{"key", "x"}, {"effect", "PreferNoSchedule"}}}}}}});
  EXPECT_TRUE(NodeFitReasons(gpu_pod, req, soft, {}).empty());
  // Not Ready.
  json not_ready = Node("n", alloc);
  not_ready["status"]["conditions"][0]["status"] = "False";
  EXPECT_EQ(
      NodeFitReasons(gpu_pod, req, not_ready, {}),
      std::vector<std::string>{"node(s) had untolerated taint {node.kubernetes.io/not-ready: }"});
  // nodeSelector and required node affinity.
  json selective = gpu_pod;
  selective["spec"]["nodeSelector"] = {{"zone", "a"}};
  EXPECT_EQ(NodeFitReasons(selective, req, Node("n", alloc), {}),
            std::vector<std::string>{"node(s) didn't match Pod's node affinity/selector"});
  EXPECT_TRUE(NodeFitReasons(selective, req,
                             Node("n", alloc, {{"metadata", {{"labels", {{"zone", "a"}}}}}}), {})
                  .empty());
  json affine = gpu_pod;
  affine["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {"nodeSelectorTerms",
       {{{"matchExpressions", {{{"key", "zone"}, {"operator", "In"}, {"values", {"b", "c"}}}}}},
        {{"matchFields",
          {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {"special"}}}}}}}}};
  EXPECT_FALSE(NodeFitReasons(affine, req,
                              Node("n", alloc, {{"metadata", {{"labels", {{"zone", "a"}}}}}}), {})
                   .empty());
  EXPECT_TRUE(NodeFitReasons(affine, req,
                             Node("n", alloc, {{"metadata", {{"labels", {{"zone", "c"}}}}}}), {})
                  .empty());
  EXPECT_TRUE(NodeFitReasons(affine, req, Node("special", alloc), {}).empty());
}

TEST(FitErrorMessageTest, CountsAndSortsReasonsAsUpstream) {
  EXPECT_EQ(FitErrorMessage(3, {{"a", {"Insufficient nvidia.com/gpu"}},
                                {"b", {"node(s) didn't match Pod's node affinity/selector"}},
                                {"c", {"node(s) didn't match Pod's node affinity/selector"}}}),
            "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) didn't match "
            "Pod's node affinity/selector.");
  // Sorted as strings: "1 ..." before "10 ..." before "2 ...".
  std::map<std::string, std::vector<std::string>> reasons;
  for (int i = 0; i < 10; ++i) reasons["z" + std::to_string(i)] = {"Too many pods"};
  reasons["a"] = {"Insufficient cpu", "Insufficient memory"};
  reasons["b"] = {"Insufficient cpu"};
  EXPECT_EQ(FitErrorMessage(12, reasons),
            "0/12 nodes are available: 1 Insufficient memory, 10 Too many pods, 2 Insufficient "
            "cpu.");
  EXPECT_EQ(FitErrorMessage(0, {}), "no nodes available to schedule pods");
}

TEST(ScoreTest, LeastAllocatedPrefersEmptierNodes) {
  json node = Node("n", {{"cpu", "4"}, {"memory", "4Gi"}});
  ResourceMilli pod = {{"cpu", 1000}, {"memory", 1073741824000LL}};
  EXPECT_EQ(LeastAllocatedScore(pod, node, {}), 75);
  EXPECT_EQ(LeastAllocatedScore(pod, node, {{{"cpu", 2000}}}), 50);  // (25 + 75) / 2
}

TEST(BindingTest, IsAV1Binding) {
  EXPECT_EQ(BindingFor(Pod("p", json::object()), "n1"),
            json::parse(R"({"apiVersion":"v1","kind":"Binding",
              "metadata":{"name":"p","namespace":"default","uid":"uid-p"},
              "target":{"apiVersion":"v1","kind":"Node","name":"n1"}})"));
}

// ---- Extenders over HTTP. ----

// An extender on a real HTTP server: records each call and answers what the test set.
class FakeExtender {
 public:
  FakeExtender()
      : server_([this](const http::Request& r, http::ResponseWriter& w) {
          std::lock_guard lock(mu_);
          calls_.push_back({r.path, json::parse(r.body, nullptr, false)});
          auto it = answers_.find(r.path);
          if (it == answers_.end()) {
            w.Send(404, {}, "");
            return;
          }
          w.Send(it->second.first, {{"Content-Type", "application/json"}},
                 it->second.second.dump());
        }) {
    EXPECT_TRUE(server_.Start({}).ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/ext/"; }
  void Answer(const std::string& path, json body, int status = 200) {
    std::lock_guard lock(mu_);
    answers_[path] = {status, std::move(body)};
  }
  std::vector<std::pair<std::string, json>> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::pair<int, json>> answers_;
  std::vector<std::pair<std::string, json>> calls_;
  http::HttpServer server_;  // last: stopped first, while the maps still live
};

ExtenderConfig Config(const FakeExtender& fake) {
  ExtenderConfig c;
  c.url_prefix = fake.url();
  c.filter_verb = "filter";
  c.prioritize_verb = "prioritize";
  c.bind_verb = "bind";
  c.weight = 5;
  c.node_cache_capable = true;
  c.managed_resources = {"nvidia.com/gpu"};
  c.http_timeout = std::chrono::milliseconds(2000);
  return c;
}

class ExtenderTest : public ::testing::Test {
 protected:
  json gpu_pod_ = Pod("train", {{"cpu", "1"}, {"nvidia.com/gpu", "1"}});
  std::vector<json> nodes_ = {
      Node("n1", {{"cpu", "4"}, {"memory", "8Gi"}, {"nvidia.com/gpu", "2"}}),
      Node("n2", {{"cpu", "4"}, {"memory", "8Gi"}, {"nvidia.com/gpu", "2"}})};
  // n1 is busier, so our own score prefers n2.
  std::map<std::string, std::vector<ResourceMilli>> pods_ = {{"n1", {{{"cpu", 2000}}}}};
  FakeExtender fake_;
};

TEST_F(ExtenderTest, FiltersPrioritizesWithWeightAndPicksTheBest) {
  fake_.Answer("/ext/filter",
               {{"NodeNames", {"n1", "n2"}}, {"FailedNodes", json::object()}, {"Error", ""}});
  fake_.Answer("/ext/prioritize",
               {{{"Host", "n1"}, {"Score", 10}}, {{"Host", "n2"}, {"Score", 0}}});
  HttpExtender ext(Config(fake_));
  auto decision = DecidePlacement(gpu_pod_, nodes_, pods_, {&ext});
  ASSERT_TRUE(decision.ok()) << decision.status().ToString();
  // Ours: n1 (25 + 100) / 2 = 62, n2 (75 + 100) / 2 = 87; the extender adds 10 x 5 x 10 to n1.
  EXPECT_EQ(decision->scores, (std::map<std::string, std::int64_t>{{"n1", 562}, {"n2", 87}}));
  EXPECT_EQ(decision->node, "n1");
  EXPECT_EQ(decision->binder, &ext);

  auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].first, "/ext/filter");
  EXPECT_EQ(calls[1].first, "/ext/prioritize");
  for (const auto& [path, args] : calls) {
    EXPECT_EQ(args["NodeNames"], json({"n1", "n2"})) << path;
    EXPECT_TRUE(args["Nodes"].is_null()) << path;
    EXPECT_EQ(args["Pod"]["metadata"]["name"], "train") << path;
  }
}

TEST_F(ExtenderTest, SendsFullNodesWhenNotNodeCacheCapable) {
  fake_.Answer("/ext/filter", {{"Nodes", {{"items", {nodes_[1]}}}},
                               {"NodeNames", nullptr},
                               {"FailedNodes", {{"n1", "no GPU left"}}},
                               {"Error", ""}});
  ExtenderConfig config = Config(fake_);
  config.node_cache_capable = false;
  HttpExtender ext(config);
  auto decision = DecidePlacement(gpu_pod_, nodes_, pods_, {&ext});
  ASSERT_TRUE(decision.ok()) << decision.status().ToString();
  EXPECT_EQ(decision->node, "n2");
  auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 1u);  // a lone feasible node is not scored
  EXPECT_TRUE(calls[0].second["NodeNames"].is_null());
  ASSERT_EQ(calls[0].second["Nodes"]["items"].size(), 2u);
  EXPECT_EQ(calls[0].second["Nodes"]["items"][0]["metadata"]["name"], "n1");
}

TEST_F(ExtenderTest, NoNodeLeftGivesUpstreamsMessage) {
  fake_.Answer("/ext/filter", {{"NodeNames", json::array()},
                               {"FailedNodes", {{"n1", "GPU model mismatch"}}},
                               {"FailedAndUnresolvableNodes", {{"n2", "site not allowed"}}},
                               {"Error", ""}});
  HttpExtender ext(Config(fake_));
  std::vector<json> nodes = nodes_;
  nodes.push_back(Node("n3", {{"cpu", "4"}}));  // no GPU: our own fit rejects it
  auto decision = DecidePlacement(gpu_pod_, nodes, pods_, {&ext});
  ASSERT_TRUE(decision.ok()) << decision.status().ToString();
  EXPECT_EQ(decision->node, "");
  EXPECT_EQ(decision->message,
            "0/3 nodes are available: 1 GPU model mismatch, 1 Insufficient nvidia.com/gpu, 1 site "
            "not allowed.");
}

TEST_F(ExtenderTest, FailedFilterFailsTheAttemptUnlessIgnorable) {
  fake_.Answer("/ext/filter", json::object(), 500);
  HttpExtender strict(Config(fake_));
  auto failed = DecidePlacement(gpu_pod_, nodes_, pods_, {&strict});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("failed filter with extender at URL"), std::string::npos)
      << failed.status().message();

  ExtenderConfig config = Config(fake_);
  config.ignorable = true;
  fake_.Answer("/ext/prioritize", json::array());
  HttpExtender lenient(config);
  auto decision = DecidePlacement(gpu_pod_, nodes_, pods_, {&lenient});
  ASSERT_TRUE(decision.ok()) << decision.status().ToString();
  EXPECT_EQ(decision->node, "n2");  // our own score decides

  // An Error in the answer fails the call too.
  fake_.Answer("/ext/filter", {{"Error", "cost model unavailable"}});
  auto errored = DecidePlacement(gpu_pod_, nodes_, pods_, {&strict});
  ASSERT_FALSE(errored.ok());
  EXPECT_EQ(errored.status().message(), "cost model unavailable");
}

TEST_F(ExtenderTest, PrioritizeFailuresAreIgnored) {
  fake_.Answer("/ext/filter", {{"NodeNames", {"n1", "n2"}}});
  fake_.Answer("/ext/prioritize", json::object(), 503);
  HttpExtender ext(Config(fake_));
  auto decision = DecidePlacement(gpu_pod_, nodes_, pods_, {&ext});
  ASSERT_TRUE(decision.ok()) << decision.status().ToString();
  EXPECT_EQ(decision->node, "n2");
  EXPECT_EQ(decision->scores, (std::map<std::string, std::int64_t>{{"n1", 62}, {"n2", 87}}));
}

TEST_F(ExtenderTest, ClaimingAnUnknownNodeFailsTheFilter) {
  fake_.Answer("/ext/filter", {{"NodeNames", {"n9"}}});
  HttpExtender ext(Config(fake_));
  auto decision = DecidePlacement(gpu_pod_, nodes_, pods_, {&ext});
  ASSERT_FALSE(decision.ok());
  EXPECT_NE(decision.status().message().find("\"n9\""), std::string::npos);
}

TEST_F(ExtenderTest, UninterestedExtenderIsNotCalled) {
  HttpExtender ext(Config(fake_));
  json cpu_pod = Pod("web", {{"cpu", "1"}});
  EXPECT_FALSE(ext.IsInterested(cpu_pod));
  EXPECT_TRUE(ext.IsInterested(gpu_pod_));
  auto decision = DecidePlacement(cpu_pod, nodes_, pods_, {&ext});
  ASSERT_TRUE(decision.ok());
  EXPECT_EQ(decision->node, "n2");
  EXPECT_EQ(decision->binder, nullptr);  // bound through the API
  EXPECT_TRUE(fake_.calls().empty());
}

TEST_F(ExtenderTest, BindSendsBindingArgs) {
  HttpExtender ext(Config(fake_));
  fake_.Answer("/ext/bind", {{"Error", ""}});
  EXPECT_TRUE(ext.Bind(gpu_pod_, "n2").ok());
  auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].second, json({{"PodName", "train"},
                                   {"PodNamespace", "default"},
                                   {"PodUID", "uid-train"},
                                   {"Node", "n2"}}));
  fake_.Answer("/ext/bind", {{"Error", "node n2 is full"}});
  Status failed = ext.Bind(gpu_pod_, "n2");
  EXPECT_EQ(failed.message(), "node n2 is full");
}

TEST_F(ExtenderTest, UnreachableExtenderIsAnError) {
  ExtenderConfig config = Config(fake_);
  config.url_prefix = "http://127.0.0.1:1";
  HttpExtender ext(config);
  EXPECT_FALSE(ext.Filter(gpu_pod_, {&nodes_[0]}).ok());
}

}  // namespace
}  // namespace aidi::devcluster
