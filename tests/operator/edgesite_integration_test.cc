// EdgeSiteController against the real aidi-devcluster: the EdgeSite CRD from crds/, nodes and
// GPU pods created through the API, and the controller's roll-up (ready nodes, free GPUs by
// model, summaries, conditions, maintenance), its node labelling as selectors change, its
// Events, and its silence once everything is up to date.
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "kube/client/api.h"
#include "kube/runtime/events.h"
#include "kube/runtime/metrics.h"
#include "operator/controller/edgesite_controller.h"
#include "operator/controller/edgesite_rollup.h"
#include "operator/controller/resources.h"
#include "tests/kube/devcluster_test.h"
#include "tests/kube/manifest.h"

namespace aidi::op {
namespace {

using kube::testing::Eventually;
using nlohmann::json;

json Labels(std::initializer_list<std::pair<const std::string, std::string>> labels) {
  json out = json::object();
  for (const auto& [k, v] : labels) out[k] = v;
  return out;
}

json NodeConditions(bool ready) {
  return json::array({{{"type", "Ready"},
                       {"status", ready ? "True" : "False"},
                       {"reason", ready ? "KubeletReady" : "KubeletNotReady"},
                       {"message", ready ? "kubelet is posting ready status" : "kubelet stopped"},
                       {"lastHeartbeatTime", "2026-01-01T00:00:00Z"},
                       {"lastTransitionTime", "2026-01-01T00:00:00Z"}}});
}

class EdgeSiteIT : public kube::testing::DevclusterTest {
 protected:
  void SetUp() override {
    DevclusterTest::SetUp();
    if (HasFatalFailure()) return;
    InstallCrd();
  }

  void TearDown() override {
    if (controller_) controller_->Stop();
    if (run_.joinable()) run_.join();
    controller_.reset();
    events_.reset();
  }

  void InstallCrd() {
    auto crd =
        kube::testing::LoadManifest(std::string(AIDI_SOURCE_DIR) + "/crds/edgesites.aidi.dev.yaml");
    ASSERT_TRUE(crd.ok()) << crd.status().ToString();
    auto created = kube::Api(client_, kube::resources::kCustomResourceDefinitions, "").Create(*crd);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    // Served once established; the first list that answers proves it.
    ASSERT_TRUE(Eventually([&] { return Sites().List().ok(); }, std::chrono::seconds(10)));
  }

  void StartController() {
    events_ = std::make_unique<kube::EventRecorder>(
        client_, kube::EventRecorderOptions{.component = "edgesite-controller"});
    controller_ = std::make_unique<EdgeSiteController>(
        client_, events_.get(), EdgeSiteControllerOptions{.metrics = &metrics_});
    run_ = std::thread([this] { controller_->Run(); });
    ASSERT_TRUE(Eventually([&] { return controller_->synced(); }));
  }

  kube::Api Sites() { return kube::Api(client_, kEdgeSites, ""); }
  kube::Api Nodes() { return kube::Api(client_, kube::resources::kNodes, ""); }
  kube::Api Pods() { return kube::Api(client_, kube::resources::kPods, "default"); }

  void CreateSite(const std::string& name, json spec) {
    spec["type"] = "Edge";
    json site = {{"apiVersion", "aidi.dev/v1alpha1"},
                 {"kind", "EdgeSite"},
                 {"metadata", {{"name", name}}},
                 {"spec", spec}};
    auto created = Sites().Create(site);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void CreateNode(const std::string& name, json labels, int gpus, bool ready,
                  const std::string& model = "") {
    if (!model.empty()) labels[kGpuProductLabel] = model;
    json allocatable = {{"cpu", "16"}, {"memory", "64Gi"}, {"pods", "110"}};
    if (gpus > 0) allocatable[kGpuResource] = std::to_string(gpus);
    json node = {{"apiVersion", "v1"},
                 {"kind", "Node"},
                 {"metadata", {{"name", name}, {"labels", labels}}},
                 {"status",
                  {{"capacity", allocatable},
                   {"allocatable", allocatable},
                   {"conditions", NodeConditions(ready)}}}};
    auto created = Nodes().Create(node);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    // A kubelet registers its node with status; the API server keeps it on create.
    ASSERT_EQ((*created)["status"]["allocatable"], allocatable);
  }

  void SetNodeReady(const std::string& name, bool ready) {
    auto patched = Nodes().PatchStatus(name, kube::PatchType::kMerge,
                                       {{"status", {{"conditions", NodeConditions(ready)}}}});
    ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  }

  void CreateGpuPod(const std::string& name, const std::string& node, int gpus) {
    std::string count = std::to_string(gpus);
    json pod = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"nodeName", node},
          {"containers",
           {{{"name", "train"},
             {"image", "aidi-worker:dev"},
             {"resources",
              {{"requests", {{kGpuResource, count}}}, {"limits", {{kGpuResource, count}}}}}}}}}}};
    auto created = Pods().Create(pod);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    SetPodPhase(name, "Running");
  }

  void SetPodPhase(const std::string& name, const std::string& phase) {
    auto patched =
        Pods().PatchStatus(name, kube::PatchType::kMerge, {{"status", {{"phase", phase}}}});
    ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  }

  json SiteStatus(const std::string& site) {
    auto got = Sites().Get(site);
    return got.ok() ? got->value("status", json()) : json();
  }

  // Waits until the site's status has `field` == `want`; on failure, says what it had.
  ::testing::AssertionResult StatusReaches(const std::string& site, const std::string& pointer,
                                           const json& want) {
    json::json_pointer p(pointer);
    if (Eventually([&] {
          json s = SiteStatus(site);
          return s.contains(p) && s.at(p) == want;
        })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << site << " status" << pointer << " never became "
                                         << want.dump() << "; status: " << SiteStatus(site).dump();
  }

  std::string SiteLabel(const std::string& node) {
    auto got = Nodes().Get(node);
    if (!got.ok()) return "<error>";
    json labels = got->value("/metadata/labels"_json_pointer, json::object());
    return labels.value(kSiteLabel, "<none>");
  }

  ::testing::AssertionResult LabelReaches(const std::string& node, const std::string& want) {
    if (Eventually([&] { return SiteLabel(node) == want; })) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "node " << node << " label " << kSiteLabel << " is "
                                         << SiteLabel(node) << ", never " << want;
  }

  json Condition(const std::string& site, const std::string& type) {
    for (const json& c : SiteStatus(site).value("conditions", json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return json();
  }

  // aidi_controller_reconcile_total{controller="edgesite",result="success"}.
  double SuccessfulReconciles() {
    std::istringstream lines(metrics_.Render());
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("aidi_controller_reconcile_total{", 0) == 0 &&
          line.find("controller=\"edgesite\"") != std::string::npos &&
          line.find("result=\"success\"") != std::string::npos) {
        return std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return 0;
  }

  // Writes to EdgeSites and Nodes the server has answered, by "verb resource[/subresource]".
  std::map<std::string, int> Writes() {
    std::map<std::string, int> out;
    auto requests = dc_.Requests();
    if (!requests.ok()) {
      ADD_FAILURE() << requests.status().ToString();
      return out;
    }
    for (const auto& [request, count] : (*requests)["counts"].items()) {
      std::string verb = request.substr(0, request.find(' '));
      std::string resource = request.substr(request.find(' ') + 1);
      bool write = verb == "create" || verb == "update" || verb == "patch" || verb == "delete";
      if (write && (resource.rfind("edgesites", 0) == 0 || resource.rfind("nodes", 0) == 0)) {
        out[request] = count.get<int>();
      }
    }
    return out;
  }

  kube::Metrics metrics_;  // outlives the controller
  std::unique_ptr<kube::EventRecorder> events_;
  std::unique_ptr<EdgeSiteController> controller_;
  std::thread run_;
};

TEST_F(EdgeSiteIT, RollsUpReadyNodesAndFreeGpusAsNodesAndPodsChange) {
  json edge = Labels({{"topology.kubernetes.io/zone", "edge-1"}});
  CreateNode("e1", edge, 4, true, "NVIDIA-H100-80GB-HBM3");
  CreateNode("e2", edge, 4, true, "NVIDIA-L4");
  CreateNode("e3", edge, 4, false, "NVIDIA-L4");
  CreateNode("cloud-1", Labels({{"topology.kubernetes.io/zone", "eu-1a"}}), 8, true);
  CreateSite("edge", {{"nodeSelector", {{"matchLabels", edge}}}});
  StartController();

  EXPECT_TRUE(StatusReaches("edge", "/readySummary", "2/3"));
  json status = SiteStatus("edge");
  EXPECT_EQ(status["phase"], "Ready");
  EXPECT_EQ(status["totalNodes"], 3);
  EXPECT_EQ(status["readyNodes"], 2);
  EXPECT_EQ(status["gpuSummary"], "8/8 free");
  EXPECT_EQ(status["gpus"]["byModel"],
            json::parse(R"({"NVIDIA-H100-80GB-HBM3": {"total": 4, "free": 4},
                            "NVIDIA-L4": {"total": 4, "free": 4}})"));
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ(Condition("edge", "Ready")["status"], "True");
  EXPECT_EQ(Condition("edge", "CapacityAvailable")["reason"], "GpusFree");
  // Members carry the site label; the cloud node does not.
  EXPECT_TRUE(LabelReaches("e1", "edge"));
  EXPECT_TRUE(LabelReaches("e2", "edge"));
  EXPECT_TRUE(LabelReaches("e3", "edge"));
  EXPECT_EQ(SiteLabel("cloud-1"), "<none>");

  // A node coming up and another going down.
  SetNodeReady("e3", true);
  EXPECT_TRUE(StatusReaches("edge", "/gpuSummary", "12/12 free"));
  EXPECT_EQ(SiteStatus("edge")["readySummary"], "3/3");
  SetNodeReady("e1", false);
  EXPECT_TRUE(StatusReaches("edge", "/readySummary", "2/3"));
  EXPECT_EQ(SiteStatus("edge")["gpuSummary"], "8/8 free");

  // A GPU pod bound to e2 holds its GPUs until it completes; pods elsewhere do not count.
  CreateGpuPod("train-1", "e2", 3);
  CreateGpuPod("cloud-train", "cloud-1", 8);
  EXPECT_TRUE(StatusReaches("edge", "/gpuSummary", "5/8 free"));
  EXPECT_EQ(SiteStatus("edge")["gpus"]["byModel"]["NVIDIA-L4"],
            json::parse(R"({"total": 8, "free": 5})"));
  SetPodPhase("train-1", "Succeeded");
  EXPECT_TRUE(StatusReaches("edge", "/gpuSummary", "8/8 free"));
  // A deleted pod gives its GPUs back too.
  CreateGpuPod("train-2", "e3", 2);
  EXPECT_TRUE(StatusReaches("edge", "/gpuSummary", "6/8 free"));
  ASSERT_TRUE(Pods().Delete("train-2", {.grace_period_seconds = 0}).ok());
  EXPECT_TRUE(StatusReaches("edge", "/gpuSummary", "8/8 free"));

  // Every node down: NotReady, with a Warning Event next to the Normal one of the start.
  SetNodeReady("e2", false);
  SetNodeReady("e3", false);
  EXPECT_TRUE(StatusReaches("edge", "/phase", "NotReady"));
  EXPECT_EQ(Condition("edge", "Ready")["reason"], "NoReadyNodes");
  EXPECT_EQ(Condition("edge", "CapacityAvailable")["status"], "False");
  events_->Flush();
  EXPECT_TRUE(Eventually([&] {
    auto list = kube::Api(client_, kube::resources::kEvents, "default").List();
    if (!list.ok()) return false;
    bool ready = false;
    bool not_ready = false;
    for (const json& e : (*list)["items"]) {
      if (e["involvedObject"].value("name", "") != "edge") continue;
      if (e.value("reason", "") == "SiteReady" && e.value("type", "") == "Normal") ready = true;
      if (e.value("reason", "") == "SiteNotReady" && e.value("type", "") == "Warning")
        not_ready = true;
    }
    return ready && not_ready;
  }));
}

TEST_F(EdgeSiteIT, KeepsTheSiteLabelOnMembersAsSelectorsChange) {
  CreateNode("n1", Labels({{"rack", "r1"}}), 0, true);
  CreateNode("n2", Labels({{"rack", "r2"}}), 0, true);
  // Labelled by the administrator for a site that uses the default selector.
  CreateNode("n3", Labels({{kSiteLabel, "factory"}}), 2, true);
  // Labelled for a site that does not exist: left alone.
  CreateNode("n4", Labels({{kSiteLabel, "later"}}), 0, true);
  CreateSite("racks", {{"nodeSelector", {{"matchLabels", {{"rack", "r1"}}}}}});
  CreateSite("factory", json::object());
  StartController();

  EXPECT_TRUE(LabelReaches("n1", "racks"));
  EXPECT_TRUE(StatusReaches("racks", "/readySummary", "1/1"));
  EXPECT_EQ(Condition("racks", "CapacityAvailable")["reason"], "NoGpusNodesReady");
  EXPECT_TRUE(StatusReaches("factory", "/gpuSummary", "2/2 free"));
  EXPECT_EQ(SiteLabel("n3"), "factory");

  // The selector moves to rack r2: n2 gains the label, n1 loses it.
  auto patched = Sites().Patch("racks", kube::PatchType::kMerge,
                               {{"spec", {{"nodeSelector", {{"matchLabels", {{"rack", "r2"}}}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_TRUE(LabelReaches("n2", "racks"));
  EXPECT_TRUE(LabelReaches("n1", "<none>"));
  EXPECT_TRUE(StatusReaches("racks", "/observedGeneration", 2));
  EXPECT_EQ(SiteStatus("racks")["totalNodes"], 1);
  EXPECT_EQ(SiteLabel("n4"), "later");
  EXPECT_EQ(SiteLabel("n3"), "factory");

  // A second site whose selector also takes r2 but sorts first wins the node.
  CreateSite("assembly", {{"nodeSelector", {{"matchLabels", {{"rack", "r2"}}}}}});
  EXPECT_TRUE(LabelReaches("n2", "assembly"));
  EXPECT_TRUE(StatusReaches("racks", "/totalNodes", 0));
  EXPECT_NE(Condition("racks", "Ready")["message"].get<std::string>().find("n2 (site assembly)"),
            std::string::npos)
      << Condition("racks", "Ready").dump();
  EXPECT_TRUE(StatusReaches("assembly", "/readySummary", "1/1"));

  // Once the winner goes, the node goes back.
  ASSERT_TRUE(Sites().Delete("assembly").ok());
  EXPECT_TRUE(LabelReaches("n2", "racks"));
  EXPECT_TRUE(StatusReaches("racks", "/totalNodes", 1));
}

TEST_F(EdgeSiteIT, MaintenanceMarksTheSiteAndNothingIsWrittenOnceUpToDate) {
  CreateNode("m1", Labels({{kSiteLabel, "depot"}}), 2, true, "NVIDIA-T4");
  CreateSite("depot", {{"maintenance", true}});
  StartController();

  EXPECT_TRUE(StatusReaches("depot", "/phase", "Maintenance"));
  EXPECT_EQ(Condition("depot", "Ready")["reason"], "Maintenance");
  EXPECT_EQ(Condition("depot", "CapacityAvailable")["status"], "False");
  EXPECT_EQ(SiteStatus("depot")["gpuSummary"], "2/2 free");

  ASSERT_TRUE(
      Sites().Patch("depot", kube::PatchType::kMerge, {{"spec", {{"maintenance", false}}}}).ok());
  EXPECT_TRUE(StatusReaches("depot", "/phase", "Ready"));
  EXPECT_EQ(Condition("depot", "Ready")["status"], "True");
  EXPECT_EQ(Condition("depot", "CapacityAvailable")["reason"], "GpusFree");

  // Up to date: changes that reach the controller but alter nothing it computes (a site
  // annotation, an unrelated node label) are reconciled without a single write.
  std::map<std::string, int> writes_before = Writes();
  double reconciles_before = SuccessfulReconciles();
  ASSERT_TRUE(Sites()
                  .Patch("depot", kube::PatchType::kMerge,
                         {{"metadata", {{"annotations", {{"note", "quiet"}}}}}})
                  .ok());
  ASSERT_TRUE(
      Nodes()
          .Patch("m1", kube::PatchType::kMerge, {{"metadata", {{"labels", {{"owner", "team-a"}}}}}})
          .ok());
  EXPECT_TRUE(Eventually([&] { return SuccessfulReconciles() >= reconciles_before + 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::map<std::string, int> writes = Writes();
  for (const auto& [request, count] : writes_before) writes[request] -= count;
  std::erase_if(writes, [](const auto& entry) { return entry.second == 0; });
  EXPECT_EQ(writes, (std::map<std::string, int>{{"patch edgesites", 1}, {"patch nodes", 1}}));
}

}  // namespace
}  // namespace aidi::op
