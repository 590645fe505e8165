// The runtime's Watcher + Store against the real aidi-devcluster: paged lists, watch events,
// resuming after dropped connections without a relist, relisting after 410, backoff.
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "kube/client/api.h"
#include "kube/runtime/store.h"
#include "kube/runtime/watcher.h"
#include "tests/kube/devcluster_test.h"

namespace aidi::kube {
namespace {

using testing::Eventually;

nlohmann::json ConfigMap(const std::string& name, const std::string& value = "1",
                         nlohmann::json labels = nlohmann::json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"data", {{"k", value}}}};
}

// A watcher feeding a store on its own thread, stopped and joined on destruction.
class Reflector {
 public:
  Reflector(Api api, WatcherOptions options, StoreOptions store_options = {})
      : store_(std::move(store_options)), watcher_(std::move(api), std::move(options)) {
    thread_ = std::thread(
        [this] { watcher_.Run([this](WatcherEvent&& e) { store_.Apply(std::move(e)); }); });
  }
  ~Reflector() {
    watcher_.Stop();
    thread_.join();
  }
  Store& store() { return store_; }
  const WatcherStats& stats() { return watcher_.stats(); }

 private:
  Store store_;
  Watcher watcher_;
  std::thread thread_;
};

WatcherOptions FastOptions() {
  WatcherOptions o;
  o.backoff.initial = std::chrono::milliseconds(50);
  o.backoff.max = std::chrono::milliseconds(400);
  return o;
}

class WatcherIT : public testing::DevclusterTest {
 protected:
  Api ConfigMaps() { return Api(client_, resources::kConfigMaps, "default"); }
  std::string DataOf(Store& store, const std::string& name) {
    auto cm = store.Get({"default", name});
    return cm ? (*cm)["data"].value("k", "") : "";
  }
  long Lists(const std::string& resource) {
    auto requests = dc_.Requests();
    if (!requests.ok()) return -1;
    return (*requests)["counts"].value("list " + resource, 0L);
  }
};

TEST_F(WatcherIT, PagedInitialListFillsTheStoreBeforeSynced) {
  for (int i = 0; i < 25; ++i)
    ASSERT_TRUE(ConfigMaps().Create(ConfigMap("cm" + std::to_string(i))).ok());
  WatcherOptions options = FastOptions();
  options.page_size = 10;
  Reflector r(ConfigMaps(), options);
  ASSERT_TRUE(r.store().WaitSynced(std::chrono::seconds(15)));
  EXPECT_EQ(r.store().size(), 25u);
  EXPECT_EQ(r.stats().lists.load(), 1u);
  EXPECT_EQ(Lists("configmaps"), 3);  // 10 + 10 + 5, one consistent snapshot
}

TEST_F(WatcherIT, AddsChangesAndDeletesReachTheStore) {
  Reflector r(ConfigMaps(), FastOptions());
  ASSERT_TRUE(r.store().WaitSynced(std::chrono::seconds(15)));
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("a", "1")).ok());
  ASSERT_TRUE(Eventually([&] { return DataOf(r.store(), "a") == "1"; }));
  ASSERT_TRUE(ConfigMaps().Patch("a", PatchType::kMerge, {{"data", {{"k", "2"}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return DataOf(r.store(), "a") == "2"; }));
  ASSERT_TRUE(ConfigMaps().Delete("a").ok());
  EXPECT_TRUE(Eventually([&] { return !r.store().Contains({"default", "a"}); }));
}

TEST_F(WatcherIT, LabelSelectorLimitsTheCache) {
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("web", "1", {{"app", "web"}})).ok());
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("db", "1", {{"app", "db"}})).ok());
  WatcherOptions options = FastOptions();
  options.label_selector = "app=web";
  Reflector r(ConfigMaps(), options);
  ASSERT_TRUE(r.store().WaitSynced(std::chrono::seconds(15)));
  EXPECT_TRUE(r.store().Contains({"default", "web"}));
  EXPECT_FALSE(r.store().Contains({"default", "db"}));
  // Relabelling into the selector is an add; out of it, a delete.
  ASSERT_TRUE(ConfigMaps()
                  .Patch("db", PatchType::kMerge, {{"metadata", {{"labels", {{"app", "web"}}}}}})
                  .ok());
  EXPECT_TRUE(Eventually([&] { return r.store().Contains({"default", "db"}); }));
  ASSERT_TRUE(ConfigMaps()
                  .Patch("web", PatchType::kMerge, {{"metadata", {{"labels", {{"app", "x"}}}}}})
                  .ok());
  EXPECT_TRUE(Eventually([&] { return !r.store().Contains({"default", "web"}); }));
}

TEST_F(WatcherIT, DroppedConnectionsResumeWithoutARelist) {
  Reflector r(ConfigMaps(), FastOptions());
  ASSERT_TRUE(r.store().WaitSynced(std::chrono::seconds(15)));
  // A counted start means the server has registered the watch: only then can a drop hit it.
  ASSERT_TRUE(Eventually([&] { return r.stats().watch_starts.load() >= 1; }));
  for (int round = 0; round < 3; ++round) {
    auto starts = r.stats().watch_starts.load();
    ASSERT_TRUE(dc_.Fault("drop-watches").ok());
    std::string name = "during-drop-" + std::to_string(round);
    ASSERT_TRUE(ConfigMaps().Create(ConfigMap(name)).ok());
    ASSERT_TRUE(Eventually([&] { return r.store().Contains({"default", name}); })) << name;
    ASSERT_TRUE(Eventually([&] { return r.stats().watch_starts.load() > starts; }));
  }
  EXPECT_EQ(r.stats().lists.load(), 1u);
  EXPECT_GE(r.stats().resumes.load(), 3u);
  EXPECT_EQ(r.stats().expired.load(), 0u);
  EXPECT_EQ(Lists("configmaps"), 1);
}

TEST_F(WatcherIT, ExpiredResourceVersionForcesARelistThatSynthesizesDeletes) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(ConfigMaps().Create(ConfigMap("keep" + std::to_string(i))).ok());
  Reflector r(ConfigMaps(), FastOptions());
  ASSERT_TRUE(r.store().WaitSynced(std::chrono::seconds(15)));
  std::atomic<int> synthesized{0};
  r.store().Subscribe([&](const StoreChange& c) {
    if (c.type == StoreChange::Type::kDeleted && c.synthesized) synthesized++;
  });
  // Slow the watch down so the delete lands while no watch is open, then make the history
  // unusable: the resume gets 410 and only a relist can tell the watcher "keep0" is gone.
  ASSERT_TRUE(
      dc_.Fault("latency", {{"verb", "watch"}, {"resource", "configmaps"}, {"milliseconds", 500}})
          .ok());
  ASSERT_TRUE(dc_.Fault("drop-watches").ok());
  ASSERT_TRUE(ConfigMaps().Delete("keep0").ok());
  ASSERT_TRUE(dc_.Fault("compact").ok());
  EXPECT_TRUE(Eventually([&] { return !r.store().Contains({"default", "keep0"}); }));
  EXPECT_TRUE(r.store().Contains({"default", "keep1"}));
  EXPECT_GE(r.stats().lists.load() + r.stats().resumes.load(), 2u);
  if (r.stats().expired.load() > 0) {
    EXPECT_GE(r.stats().lists.load(), 2u);
    EXPECT_EQ(synthesized.load(), 1);
  }
}

TEST_F(WatcherIT, ExpiredHistoryAlwaysRelists) {
  Reflector r(ConfigMaps(), FastOptions());
  ASSERT_TRUE(r.store().WaitSynced(std::chrono::seconds(15)));
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("x")).ok());
  ASSERT_TRUE(Eventually([&] { return r.store().Contains({"default", "x"}); }));
  // Hold watches back so the resume happens after the compaction, from a forgotten version.
  ASSERT_TRUE(
      dc_.Fault("latency", {{"verb", "watch"}, {"resource", "configmaps"}, {"milliseconds", 300}})
          .ok());
  ASSERT_TRUE(dc_.Fault("drop-watches").ok());
  ASSERT_TRUE(dc_.Fault("compact").ok());
  ASSERT_TRUE(Eventually([&] { return r.stats().expired.load() >= 1; }));
  ASSERT_TRUE(Eventually([&] { return r.stats().lists.load() >= 2; }));
  ASSERT_TRUE(ConfigMaps().Create(ConfigMap("after")).ok());
  EXPECT_TRUE(Eventually([&] { return r.store().Contains({"default", "after"}); }));
  EXPECT_EQ(r.store().size(), 2u);
}

TEST_F(WatcherIT, FailingListsBackOffAndRecover) {
  auto config = dc_.Config();
  ASSERT_TRUE(config.ok());
  config->max_retries = 0;  // let the watcher, not the client, see every failure
  auto client = Client::Create(*config);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(dc_.Fault("errors",
                        {{"verb", "list"}, {"resource", "configmaps"}, {"code", 500}, {"count", 3}})
                  .ok());
  WatcherOptions options;
  options.backoff.initial = std::chrono::milliseconds(100);
  options.backoff.max = std::chrono::seconds(2);
  auto started = std::chrono::steady_clock::now();
  Reflector r(Api(*client, resources::kConfigMaps, "default"), options);
  ASSERT_TRUE(r.store().WaitSynced(std::chrono::seconds(20)));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.stats().errors.load(), 3u);
  // 100 + 200 + 400 ms, each shortened by at most 20% jitter: the waits really grew.
  EXPECT_GE(took, std::chrono::milliseconds(560));
}

TEST_F(WatcherIT, StopEndsRunPromptlyEvenMidWatch) {
  auto r = std::make_unique<Reflector>(ConfigMaps(), FastOptions());
  ASSERT_TRUE(r->store().WaitSynced(std::chrono::seconds(15)));
  auto started = std::chrono::steady_clock::now();
  r.reset();  // Stop + join while a watch is open
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace aidi::kube
