// The controller loop against the real aidi-devcluster: reconciles after sync and on change,
// owned objects map to their owner, one key never runs twice at once, errors back off,
// RequeueAfter comes back, deletes arrive as nullopt, Stop() is graceful, and /metrics parses.
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "kube/client/api.h"
#include "kube/runtime/controller.h"
#include "kube/runtime/metrics.h"
#include "tests/kube/devcluster_test.h"

namespace aidi::kube {
namespace {

using testing::Eventually;

nlohmann::json ConfigMap(const std::string& name, const std::string& value = "1") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}}},
          {"data", {{"k", value}}}};
}

// Counts reconciles per key, remembers what each saw, and checks no key runs twice at once.
class Recorder {
 public:
  StatusOr<Action> Reconcile(const ObjectKey& key, const std::optional<nlohmann::json>& obj) {
    {
      std::lock_guard lock(mu_);
      if (!in_flight_.insert(key.String()).second) overlapped_ = true;
      counts_[key.String()]++;
      last_[key.String()] = obj;
    }
    if (hook_) {
      auto result = hook_(key, obj);
      Leave(key);
      return result;
    }
    Leave(key);
    return Action::AwaitChange();
  }
  int Count(const std::string& key) {
    std::lock_guard lock(mu_);
    return counts_[key];
  }
  std::optional<nlohmann::json> Last(const std::string& key) {
    std::lock_guard lock(mu_);
    return last_[key];
  }
  bool Saw(const std::string& key) {
    std::lock_guard lock(mu_);
    return last_.count(key) > 0;
  }
  bool overlapped() {
    std::lock_guard lock(mu_);
    return overlapped_;
  }
  std::function<StatusOr<Action>(const ObjectKey&, const std::optional<nlohmann::json>&)> hook_;

 private:
  void Leave(const ObjectKey& key) {
    std::lock_guard lock(mu_);
    in_flight_.erase(key.String());
  }
  std::mutex mu_;
  std::set<std::string> in_flight_;
  std::map<std::string, int> counts_;
  std::map<std::string, std::optional<nlohmann::json>> last_;
  bool overlapped_ = false;
};

class ControllerIT : public testing::DevclusterTest {
 protected:
  void TearDown() override {
    if (controller_) controller_->Stop();
    if (run_.joinable()) run_.join();
  }
  Api ConfigMaps() { return Api(client_, resources::kConfigMaps, "default"); }
  void Start(ControllerOptions options = {}, std::function<void(Controller&)> configure = {}) {
    options.watch.ns = "default";
    if (options.name == "controller") options.name = "it";
    controller_ = std::make_unique<Controller>(client_, resources::kConfigMaps, options);
    if (configure) configure(*controller_);
    run_ = std::thread([this] {
      controller_->Run([this](const ObjectKey& k, const std::optional<nlohmann::json>& o) {
        return recorder_.Reconcile(k, o);
      });
    });
    ASSERT_TRUE(Eventually([&] { return controller_->synced(); }));
  }

  Recorder recorder_;
  Metrics metrics_;  // outlives the controller's Run()
  std::unique_ptr<Controller> controller_;
  std::thread run_;
};

TEST_F(ControllerIT, ReconcilesExistingObjectsOnceSyncedAndAgainOnChange) {
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("a")).ok());
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("b")).ok());
  Start();
  ASSERT_TRUE(Eventually([&] { return recorder_.Count("default/a") == 1; }));
  ASSERT_TRUE(Eventually([&] { return recorder_.Count("default/b") == 1; }));
  ASSERT_TRUE(ConfigMaps().Patch("a", PatchType::kMerge, {{"data", {{"k", "2"}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return recorder_.Count("default/a") == 2; }));
  EXPECT_EQ((*recorder_.Last("default/a"))["data"]["k"], "2");
  EXPECT_EQ(recorder_.Count("default/b"), 1);
}

TEST_F(ControllerIT, DeletedObjectsReachTheReconcilerAsNullopt) {
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("gone")).ok());
  Start();
  ASSERT_TRUE(Eventually([&] { return recorder_.Count("default/gone") == 1; }));
  ASSERT_TRUE(ConfigMaps().Delete("gone").ok());
  ASSERT_TRUE(Eventually([&] { return recorder_.Count("default/gone") == 2; }));
  EXPECT_FALSE(recorder_.Last("default/gone").has_value());
}

TEST_F(ControllerIT, OwnedObjectChangesReconcileTheirControllerOwner) {
  auto owner = ConfigMaps().Create(ConfigMap("owner"));
  ASSERT_TRUE(owner.ok());
  Start({}, [](Controller& c) {
    WatchOptions secrets;
    secrets.ns = "default";
    c.Owns(resources::kSecrets, secrets);
  });
  ASSERT_TRUE(Eventually([&] { return recorder_.Count("default/owner") == 1; }));
  nlohmann::json secret = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata",
                            {{"name", "child"},
                             {"ownerReferences",
                              {{{"apiVersion", "v1"},
                                {"kind", "ConfigMap"},
                                {"name", "owner"},
                                {"uid", (*owner)["metadata"]["uid"]},
                                {"controller", true}}}}}},
                           {"stringData", {{"x", "y"}}}};
  ASSERT_TRUE(Api(client_, resources::kSecrets, "default").Create(secret).ok());
  EXPECT_TRUE(Eventually([&] { return recorder_.Count("default/owner") == 2; }));
  EXPECT_FALSE(recorder_.Saw("default/child"));  // owned objects are not primary keys
}

TEST_F(ControllerIT, MappedWatchesReconcileWhatTheMapperNames) {
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("target")).ok());
  Start({}, [](Controller& c) {
    c.Watches(resources::kNamespaces, [](const nlohmann::json&) {
      return std::vector<ObjectKey>{{"default", "target"}};
    });
  });
  ASSERT_TRUE(Eventually([&] { return recorder_.Count("default/target") >= 1; }));
  int before = recorder_.Count("default/target");
  nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "m"}}}};
  ASSERT_TRUE(Api(client_, resources::kNamespaces, "").Create(ns).ok());
  EXPECT_TRUE(Eventually([&] { return recorder_.Count("default/target") > before; }));
}

TEST_F(ControllerIT, OneKeyIsNeverReconciledConcurrently) {
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(ConfigMaps().Create(ConfigMap("c" + std::to_string(i))).ok());
  recorder_.hook_ = [](const ObjectKey&, const std::optional<nlohmann::json>&) -> StatusOr<Action> {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return Action::AwaitChange();
  };
  ControllerOptions options;
  options.concurrency = 4;
  Start(options);
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(ConfigMaps()
                      .Patch("c" + std::to_string(i), PatchType::kMerge,
                             {{"data", {{"k", std::to_string(round)}}}})
                      .ok());
    }
  }
  // Every key ends up reconciled with its last state, never two at once.
  for (int i = 0; i < 4; ++i) {
    std::string key = "default/c" + std::to_string(i);
    ASSERT_TRUE(Eventually([&] {
      auto last = recorder_.Last(key);
      return last && (*last)["data"]["k"] == "9";
    })) << key;
  }
  EXPECT_FALSE(recorder_.overlapped());
}

TEST_F(ControllerIT, ErrorsAreRetriedWithBackoffUntilTheySucceed) {
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("flaky")).ok());
  std::atomic<int> calls{0};
  recorder_.hook_ = [&](const ObjectKey&,
                        const std::optional<nlohmann::json>&) -> StatusOr<Action> {
    if (++calls < 4) return Status::Unavailable("not yet");
    return Action::AwaitChange();
  };
  ControllerOptions options;
  options.metrics = &metrics_;
  Start(options);
  ASSERT_TRUE(Eventually([&] { return calls.load() == 4; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(calls.load(), 4);  // success ends the retries
  std::string text = metrics_.Render();
  EXPECT_NE(text.find("aidi_controller_reconcile_errors_total{controller=\"it\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("aidi_workqueue_retries_total{name=\"it\"} 3"), std::string::npos) << text;
}

TEST_F(ControllerIT, RequeueAfterBringsTheKeyBack) {
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("periodic")).ok());
  recorder_.hook_ = [](const ObjectKey&, const std::optional<nlohmann::json>&) -> StatusOr<Action> {
    return Action::RequeueAfter(std::chrono::milliseconds(100));
  };
  Start();
  EXPECT_TRUE(Eventually([&] { return recorder_.Count("default/periodic") >= 3; }));
}

TEST_F(ControllerIT, ErrorPolicyDecidesTheRetry) {
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("policy")).ok());
  std::atomic<int> calls{0};
  std::atomic<int> policy_calls{0};
  controller_ = std::make_unique<Controller>(client_, resources::kConfigMaps,
                                             ControllerOptions{.name = "policy"});
  run_ = std::thread([&] {
    controller_->Run(
        [&](const ObjectKey&, const std::optional<nlohmann::json>&) -> StatusOr<Action> {
          calls++;
          return Status::Invalid("spec is wrong");
        },
        [&](const ObjectKey&, const Status& error) {
          policy_calls++;
          // A validation error will not fix itself: wait for the user to change the object.
          return error.IsInvalid() ? Action::AwaitChange()
                                   : Action::RequeueAfter(std::chrono::seconds(1));
        });
  });
  ASSERT_TRUE(Eventually([&] { return calls.load() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(policy_calls.load(), 1);
  ASSERT_TRUE(ConfigMaps().Patch("policy", PatchType::kMerge, {{"data", {{"k", "fixed"}}}}).ok());
  EXPECT_TRUE(Eventually([&] { return calls.load() == 2; }));
}

TEST_F(ControllerIT, StopWaitsForTheReconcileInFlight) {
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("slow")).ok());
  std::atomic<bool> entered{false};
  std::atomic<bool> finished{false};
  recorder_.hook_ = [&](const ObjectKey&,
                        const std::optional<nlohmann::json>&) -> StatusOr<Action> {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    finished = true;
    return Action::AwaitChange();
  };
  Start();
  ASSERT_TRUE(Eventually([&] { return entered.load(); }));
  controller_->Stop();
  run_.join();
  EXPECT_TRUE(finished.load());
}

TEST_F(ControllerIT, MetricsAreValidPrometheusText) {
  ControllerOptions options;
  options.metrics = &metrics_;
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("m")).ok());
  Start(options);
  ASSERT_TRUE(Eventually([&] { return recorder_.Count("default/m") == 1; }));
  std::string text = metrics_.Render();
  for (const char* name :
       {"aidi_controller_reconcile_total", "aidi_controller_reconcile_duration_seconds",
        "aidi_workqueue_depth", "aidi_watch_starts_total", "aidi_watch_expired_total",
        "aidi_cache_objects"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name << " missing from\n" << text;
  }
  // Real Prometheus tooling is the judge of the format, where it is installed.
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "no promtool";
  std::string path = dc_.dir() + "/metrics.txt";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  std::string cmd = "promtool check metrics < " + path + " > " + path + ".out 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), 0) << "promtool rejected:\n" << text;
}

}  // namespace
}  // namespace aidi::kube
