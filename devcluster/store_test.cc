#include "devcluster/store.h"

#include <gtest/gtest.h>

#include <thread>

namespace aidi::devcluster {
namespace {

using nlohmann::json;

MutateFn Put(json obj) {
  return [obj](const ObjectPtr&) -> std::variant<kube::ApiError, Mutation> {
    Mutation m;
    m.kind = Mutation::Kind::kPut;
    m.object = obj;
    return m;
  };
}

MutateFn Del() {
  return [](const ObjectPtr&) -> std::variant<kube::ApiError, Mutation> {
    Mutation m;
    m.kind = Mutation::Kind::kDelete;
    return m;
  };
}

json Cm(const std::string& name, const std::string& v, json labels = json::object()) {
  return {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "u-" + name}, {"labels", labels}}},
      {"data", {{"k", v}}}};
}

ObjectPtr Must(std::variant<kube::ApiError, ObjectPtr> r) {
  EXPECT_TRUE(std::holds_alternative<ObjectPtr>(r));
  return std::get<ObjectPtr>(r);
}

TEST(Store, ResourceVersionsIncreaseAndNoopWritesKeepThem) {
  Store store(100);
  ObjectPtr a = Must(store.Mutate("/configmaps", "ns", "a", Put(Cm("a", "1"))));
  ObjectPtr b = Must(store.Mutate("/configmaps", "ns", "b", Put(Cm("b", "1"))));
  EXPECT_LT(a->rv, b->rv);
  EXPECT_EQ(json::parse(a->json)["metadata"]["resourceVersion"], std::to_string(a->rv));
  ObjectPtr same = Must(store.Mutate("/configmaps", "ns", "a", Put(Cm("a", "1"))));
  EXPECT_EQ(same->rv, a->rv) << "an identical write must not bump the resourceVersion";
  EXPECT_EQ(store.CurrentRv(), b->rv);
  ObjectPtr changed = Must(store.Mutate("/configmaps", "ns", "a", Put(Cm("a", "2"))));
  EXPECT_GT(changed->rv, b->rv);
}

TEST(Store, ListIsSortedAndScopedByNamespace) {
  Store store(100);
  for (const char* n : {"c", "a", "b"}) (void)store.Mutate("/configmaps", "ns", n, Put(Cm(n, "1")));
  json other = Cm("z", "1");
  other["metadata"]["namespace"] = "other";
  (void)store.Mutate("/configmaps", "other", "z", Put(other));
  auto l = store.List("/configmaps", "ns");
  ASSERT_EQ(l.items.size(), 3u);
  EXPECT_EQ(l.items[0]->name, "a");
  EXPECT_EQ(l.items[2]->name, "c");
  EXPECT_EQ(store.List("/configmaps", "").items.size(), 4u);
}

TEST(Store, WatchReplaysHistoryAndExpiresBeyondIt) {
  Store store(3);
  ObjectPtr first = Must(store.Mutate("/configmaps", "ns", "a", Put(Cm("a", "0"))));
  for (int i = 1; i <= 5; ++i)
    (void)store.Mutate("/configmaps", "ns", "a", Put(Cm("a", std::to_string(i))));
  // Only the last 3 events are kept: a watch from the first version is too old.
  auto expired = store.Watch("/configmaps", first->rv, false);
  ASSERT_TRUE(std::holds_alternative<kube::ApiError>(expired));
  EXPECT_EQ(std::get<kube::ApiError>(expired).code, 410);
  EXPECT_EQ(std::get<kube::ApiError>(expired).body["reason"], "Expired");

  std::uint64_t rv = store.CurrentRv();
  auto w = std::get<WatcherPtr>(store.Watch("/configmaps", rv - 2, false));
  auto events = w->Wait(std::chrono::milliseconds(10));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].rv, rv - 1);
  EXPECT_EQ(events[1].type, EventType::kModified);

  (void)store.Mutate("/configmaps", "ns", "a", Del());
  events = w->Wait(std::chrono::milliseconds(100));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kDeleted);
  EXPECT_EQ(events[0].object->rv, rv + 1) << "DELETED carries the deletion's resourceVersion";
}

TEST(Store, WatchFromNowSendsCurrentObjectsFirst) {
  Store store(10);
  (void)store.Mutate("/configmaps", "ns", "a", Put(Cm("a", "1")));
  auto w = std::get<WatcherPtr>(store.Watch("/configmaps", 0, true));
  auto events = w->Wait(std::chrono::milliseconds(10));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kAdded);
}

TEST(Store, CompactionForcesExpiredAndDropsWatchers) {
  Store store(1000);
  ObjectPtr a = Must(store.Mutate("/configmaps", "ns", "a", Put(Cm("a", "1"))));
  auto w = std::get<WatcherPtr>(store.Watch("/configmaps", a->rv, false));
  store.CompactHistory();
  store.DropAllWatchers();
  EXPECT_TRUE(w->Closed());
  EXPECT_TRUE(std::holds_alternative<kube::ApiError>(store.Watch("/configmaps", a->rv, false)));
  // Watching from the compaction point works again (what a relist returns).
  EXPECT_TRUE(
      std::holds_alternative<WatcherPtr>(store.Watch("/configmaps", store.CurrentRv(), false)));
}

TEST(Store, DecisionErrorsLeaveNothingBehind) {
  Store store(10);
  auto r = store.Mutate("/configmaps", "ns", "a",
                        [](const ObjectPtr&) -> std::variant<kube::ApiError, Mutation> {
                          return kube::NewAlreadyExists({"", "configmaps"}, "a");
                        });
  ASSERT_TRUE(std::holds_alternative<kube::ApiError>(r));
  EXPECT_EQ(store.Count(), 0u);
  EXPECT_EQ(store.CurrentRv(), 1u);
}

TEST(Store, IndexesOwners) {
  Store store(10);
  json child = Cm("child", "1");
  child["metadata"]["ownerReferences"] = json::array(
      {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "parent"}, {"uid", "u-parent"}}});
  (void)store.Mutate("/configmaps", "ns", "child", Put(child));
  ASSERT_EQ(store.Dependents("u-parent").size(), 1u);
  (void)store.Mutate("/configmaps", "ns", "child", Del());
  EXPECT_TRUE(store.Dependents("u-parent").empty());
}

TEST(Store, ConcurrentWritersGetDistinctVersions) {
  Store store(100000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 200; ++i) {
        std::string n = "t" + std::to_string(t) + "-" + std::to_string(i);
        (void)store.Mutate("/configmaps", "ns", n, Put(Cm(n, "x")));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store.Count(), 800u);
  EXPECT_EQ(store.CurrentRv(), 801u);
}

}  // namespace
}  // namespace aidi::devcluster
