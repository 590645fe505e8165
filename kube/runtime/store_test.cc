#include "kube/runtime/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace aidi::kube {
namespace {

using nlohmann::json;
using Type = WatcherEvent::Type;
using namespace std::chrono_literals;

json Pod(const std::string& name, const std::string& rv, const std::string& app = "web",
         const std::string& owner_uid = "rs-1") {
  json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"namespace", "shop"},
        {"uid", "uid-" + name},
        {"resourceVersion", rv},
        {"labels", {{"app", app}}},
        {"annotations",
         {{"kubectl.kubernetes.io/last-applied-configuration", std::string(500, 'x')}}},
        {"managedFields", json::array({{{"manager", "kubectl"}, {"operation", "Update"}}})}}},
      {"spec", {{"nodeName", "node-1"}, {"containers", json::array({{{"name", "app"}}})}}},
      {"status", {{"phase", "Running"}}}};
  if (!owner_uid.empty()) {
    pod["metadata"]["ownerReferences"] =
        json::array({{{"kind", "ReplicaSet"}, {"name", "rs"}, {"uid", owner_uid}}});
  }
  return pod;
}

WatcherEvent Event(Type type, json object = nullptr) { return {type, std::move(object)}; }

ObjectKey Key(const std::string& name) { return {"shop", name}; }

StoreOptions IndexedOptions() {
  StoreOptions options;
  options.projection = *Projection::Parse({"spec.nodeName", "status.phase"});
  options.indexers.emplace(std::string(kIndexOwnerUid), IndexByOwnerUid());
  options.indexers.emplace(LabelIndexName("app"), IndexByLabel("app"));
  return options;
}

void Relist(Store& store, const std::vector<json>& objects) {
  store.Apply(Event(Type::kInit));
  for (const json& object : objects) store.Apply(Event(Type::kInitApply, object));
  store.Apply(Event(Type::kInitDone));
}

// The string at `pointer`, or "" when there is none.
std::string Field(const json& object, const char* pointer) {
  return object.value(json::json_pointer(pointer), std::string());
}

std::vector<std::string> Names(const std::vector<ObjectKey>& keys) {
  std::vector<std::string> names;
  for (const ObjectKey& key : keys) names.push_back(key.name);
  return names;
}

std::vector<std::string> Names(const std::vector<json>& objects) {
  std::vector<std::string> names;
  for (const json& object : objects) names.push_back(object["metadata"]["name"]);
  return names;
}

// Records every change the store announces.
struct Recorder {
  explicit Recorder(Store& store) {
    store.Subscribe([this](const StoreChange& change) { changes.push_back(change); });
  }
  std::vector<StoreChange> changes;
};

TEST(StoreTest, ApplyThenGetListAndKeys) {
  Store store(IndexedOptions());
  store.Apply(Event(Type::kApply, Pod("b", "1")));
  store.Apply(Event(Type::kApply, Pod("a", "2")));
  EXPECT_EQ(store.size(), 2u);
  EXPECT_TRUE(store.Contains(Key("a")));
  EXPECT_FALSE(store.Contains(Key("c")));
  EXPECT_FALSE(store.Get(Key("c")).has_value());
  EXPECT_FALSE(store.Get({"other", "a"}).has_value());

  std::optional<json> a = store.Get(Key("a"));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, store.projection().Apply(Pod("a", "2")));
  EXPECT_EQ((*a)["spec"], json({{"nodeName", "node-1"}}));  // projected: no containers
  EXPECT_FALSE((*a)["metadata"].contains("managedFields"));
  EXPECT_FALSE((*a)["metadata"].contains("annotations"));

  EXPECT_EQ(Names(store.List()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(store.Keys(), (std::vector<ObjectKey>{Key("a"), Key("b")}));
}

TEST(StoreTest, EncodingRoundTripsEveryJsonType) {
  Store store;  // whole objects
  json object = Pod("types", "1");
  object["data"] = {{"negative", -42},
                    {"minimum", std::numeric_limits<std::int64_t>::min()},
                    {"signed", 7},
                    {"unsigned", std::numeric_limits<std::uint64_t>::max()},
                    {"fourteen", 14u},
                    {"fifteen", 15u},
                    {"double", 2.5},
                    {"true", true},
                    {"false", false},
                    {"null", nullptr},
                    {"empty", ""},
                    {"unicode", "h\xc3\xa9llo \xe2\x9c\x93"},
                    {"long", std::string(300, 'z')},
                    {"emptyObject", json::object()},
                    {"emptyArray", json::array()},
                    {std::string(100, 'k'), "a field name too long for the dictionary"},
                    {"nested", json::array({json::array({1, "two", json::object({{"x", 3}})})})}};
  object["data"]["many"] = json::array();
  for (int i = 0; i < 40; ++i) object["data"]["many"].push_back(i);
  store.Apply(Event(Type::kApply, object));
  std::optional<json> got = store.Get(Key("types"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, Projection().Apply(object));
  EXPECT_EQ(got->dump(), Projection().Apply(object).dump());
  // The number kinds survive exactly, not just their values.
  EXPECT_TRUE((*got)["data"]["signed"].is_number_integer());
  EXPECT_TRUE((*got)["data"]["fourteen"].is_number_unsigned());
  EXPECT_TRUE((*got)["data"]["double"].is_number_float());
}

TEST(StoreTest, FieldNamesBeyondTheDictionaryAreSpelledOut) {
  Store store;
  json config = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", "big"}, {"namespace", "shop"}}},
                 {"data", json::object()}};
  for (int i = 0; i < 70000; ++i) config["data"]["key-" + std::to_string(i)] = i;
  store.Apply(Event(Type::kApply, config));
  std::optional<json> got = store.Get(Key("big"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, config);
}

TEST(StoreTest, DeleteRemovesAndTellsSubscribersWithTheCachedObject) {
  Store store(IndexedOptions());
  store.Apply(Event(Type::kApply, Pod("a", "1")));
  Recorder recorder(store);
  store.Apply(Event(Type::kDelete, Pod("a", "2")));
  EXPECT_FALSE(store.Get(Key("a")).has_value());
  EXPECT_EQ(store.size(), 0u);
  ASSERT_EQ(recorder.changes.size(), 1u);
  const StoreChange& change = recorder.changes[0];
  EXPECT_EQ(change.type, StoreChange::Type::kDeleted);
  EXPECT_EQ(change.key, Key("a"));
  EXPECT_FALSE(change.synthesized);
  EXPECT_EQ(change.object["metadata"]["resourceVersion"], "2");  // the event's final state
  ASSERT_TRUE(change.old_object.has_value());
  EXPECT_EQ((*change.old_object)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ((*change.old_object)["metadata"]["ownerReferences"][0]["uid"], "rs-1");

  // A delete of an object never cached is still announced, with no old object.
  store.Apply(Event(Type::kDelete, Pod("ghost", "3")));
  ASSERT_EQ(recorder.changes.size(), 2u);
  EXPECT_FALSE(recorder.changes[1].old_object.has_value());
}

TEST(StoreTest, SubscriberGetsOldAndNewProjectedObjects) {
  Store store(IndexedOptions());
  Recorder recorder(store);
  store.Apply(Event(Type::kApply, Pod("a", "1")));
  store.Apply(Event(Type::kApply, Pod("a", "2", "web", "rs-2")));
  ASSERT_EQ(recorder.changes.size(), 2u);
  EXPECT_EQ(recorder.changes[0].type, StoreChange::Type::kApplied);
  EXPECT_FALSE(recorder.changes[0].old_object.has_value());
  const StoreChange& update = recorder.changes[1];
  EXPECT_EQ(update.key, Key("a"));
  EXPECT_EQ(update.object, store.projection().Apply(Pod("a", "2", "web", "rs-2")));
  ASSERT_TRUE(update.old_object.has_value());
  EXPECT_EQ(*update.old_object, store.projection().Apply(Pod("a", "1")));
  EXPECT_FALSE(update.object["metadata"].contains("managedFields"));
}

TEST(StoreTest, UnchangedObjectIsNotAnnounced) {
  Store store;
  Recorder recorder(store);
  store.Apply(Event(Type::kApply, Pod("a", "1")));
  json same = Pod("a", "1");
  same["metadata"]["managedFields"].push_back({{"manager", "other"}});  // stripped anyway
  store.Apply(Event(Type::kApply, same));
  EXPECT_EQ(recorder.changes.size(), 1u);
}

TEST(StoreTest, ListenerRunsAfterTheChangeAndMayReadTheStore) {
  Store store;
  std::vector<std::string> seen;
  store.Subscribe([&](const StoreChange& change) {
    std::optional<json> now = store.Get(change.key);  // would deadlock if called under the lock
    seen.push_back(now ? now->at("metadata").at("resourceVersion").get<std::string>() : "gone");
  });
  store.Apply(Event(Type::kApply, Pod("a", "1")));
  store.Apply(Event(Type::kApply, Pod("a", "2")));
  store.Apply(Event(Type::kDelete, Pod("a", "3")));
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "gone"}));
}

TEST(StoreTest, UnsubscribedListenerIsNotCalled) {
  Store store;
  int calls = 0;
  Store::SubscriptionId id = store.Subscribe([&](const StoreChange&) { ++calls; });
  store.Apply(Event(Type::kApply, Pod("a", "1")));
  store.Unsubscribe(id);
  store.Apply(Event(Type::kApply, Pod("a", "2")));
  EXPECT_EQ(calls, 1);
}

TEST(StoreTest, RelistSwapsAtomicallyAndSynthesizesDeletes) {
  Store store(IndexedOptions());
  Relist(store, {Pod("a", "1"), Pod("b", "1"), Pod("same", "1")});
  Recorder recorder(store);

  store.Apply(Event(Type::kInit));
  store.Apply(Event(Type::kInitApply, Pod("b", "2")));
  store.Apply(Event(Type::kInitApply, Pod("c", "1")));
  store.Apply(Event(Type::kInitApply, Pod("same", "1")));
  // Mid-relist, readers still see the old contents in full.
  EXPECT_EQ(Names(store.Keys()), (std::vector<std::string>{"a", "b", "same"}));
  EXPECT_EQ((*store.Get(Key("b")))["metadata"]["resourceVersion"], "1");
  EXPECT_FALSE(store.Get(Key("c")).has_value());
  EXPECT_TRUE(recorder.changes.empty());

  store.Apply(Event(Type::kInitDone));
  EXPECT_EQ(Names(store.Keys()), (std::vector<std::string>{"b", "c", "same"}));
  EXPECT_EQ((*store.Get(Key("b")))["metadata"]["resourceVersion"], "2");

  int applied = 0;
  int deleted = 0;
  for (const StoreChange& change : recorder.changes) {
    if (change.type == StoreChange::Type::kDeleted) {
      ++deleted;
      EXPECT_EQ(change.key, Key("a"));
      EXPECT_TRUE(change.synthesized);
      EXPECT_EQ(change.object["metadata"]["uid"], "uid-a");
      EXPECT_EQ(change.object["metadata"]["ownerReferences"][0]["uid"], "rs-1");
    } else {
      ++applied;
      EXPECT_NE(change.key, Key("same")) << "an unchanged object was announced";
      if (change.key == Key("b")) {
        ASSERT_TRUE(change.old_object.has_value());
        EXPECT_EQ((*change.old_object)["metadata"]["resourceVersion"], "1");
      } else {
        EXPECT_EQ(change.key, Key("c"));
        EXPECT_FALSE(change.old_object.has_value());
      }
    }
  }
  EXPECT_EQ(applied, 2);
  EXPECT_EQ(deleted, 1);
}

TEST(StoreTest, EmptyRelistEmptiesTheStore) {
  Store store;
  Relist(store, {Pod("a", "1")});
  Relist(store, {});
  EXPECT_EQ(store.size(), 0u);
}

TEST(StoreTest, InitDoneWithoutInitIsIgnoredAndInitApplyStartsABuffer) {
  Store store;
  store.Apply(Event(Type::kApply, Pod("a", "1")));
  store.Apply(Event(Type::kInitDone));
  EXPECT_FALSE(store.synced());
  EXPECT_EQ(store.size(), 1u);

  store.Apply(Event(Type::kInitApply, Pod("b", "1")));
  EXPECT_EQ(store.size(), 1u);
  store.Apply(Event(Type::kInitDone));
  EXPECT_TRUE(store.synced());
  EXPECT_EQ(Names(store.Keys()), (std::vector<std::string>{"b"}));
}

TEST(StoreTest, ObjectsWithoutANameAreDropped) {
  Store store;
  store.Apply(Event(Type::kApply, json{{"metadata", {{"namespace", "shop"}}}}));
  store.Apply(Event(Type::kApply, json("not an object")));
  store.Apply(Event(Type::kDelete, json::object()));
  EXPECT_EQ(store.size(), 0u);
}

TEST(StoreTest, ClusterScopedObjectsAreKeyedByName) {
  Store store;
  store.Apply(Event(Type::kApply, json{{"kind", "Node"}, {"metadata", {{"name", "node-1"}}}}));
  EXPECT_EQ(store.Keys(), (std::vector<ObjectKey>{{"", "node-1"}}));
  EXPECT_TRUE(store.Get({"", "node-1"}).has_value());
  EXPECT_FALSE(store.Get({"default", "node-1"}).has_value());
}

TEST(StoreTest, SyncedAndWaitSynced) {
  Store store;
  EXPECT_FALSE(store.synced());
  EXPECT_FALSE(store.WaitSynced(20ms));

  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(30ms);
    stop = true;
  });
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(store.WaitSynced(10s, [&] { return stop.load(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  stopper.join();

  store.Apply(Event(Type::kInit));
  store.Apply(Event(Type::kInitApply, Pod("a", "1")));
  EXPECT_FALSE(store.synced());  // not before the list is complete

  std::thread writer([&] {
    std::this_thread::sleep_for(30ms);
    store.Apply(Event(Type::kInitDone));
  });
  EXPECT_TRUE(store.WaitSynced(10s));
  EXPECT_EQ(store.size(), 1u);
  writer.join();

  Relist(store, {});  // a later relist leaves it synced
  EXPECT_TRUE(store.synced());
  EXPECT_TRUE(store.WaitSynced(0ms));
}

TEST(StoreTest, OwnerIndexFollowsUpdatesAndDeletes) {
  Store store(IndexedOptions());
  store.Apply(Event(Type::kApply, Pod("a", "1", "web", "rs-1")));
  store.Apply(Event(Type::kApply, Pod("b", "1", "web", "rs-1")));
  store.Apply(Event(Type::kApply, Pod("c", "1", "web", "rs-2")));
  store.Apply(Event(Type::kApply, Pod("orphan", "1", "web", "")));
  EXPECT_EQ(Names(store.KeysByIndex(kIndexOwnerUid, "rs-1")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Names(store.ByIndex(kIndexOwnerUid, "rs-2")), (std::vector<std::string>{"c"}));

  // b is adopted by rs-2: it moves. a changes otherwise: it stays, and reads its new version.
  store.Apply(Event(Type::kApply, Pod("b", "2", "web", "rs-2")));
  store.Apply(Event(Type::kApply, Pod("a", "2", "web", "rs-1")));
  std::vector<json> rs1 = store.ByIndex(kIndexOwnerUid, "rs-1");
  EXPECT_EQ(Names(rs1), (std::vector<std::string>{"a"}));
  EXPECT_EQ(rs1[0]["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(Names(store.KeysByIndex(kIndexOwnerUid, "rs-2")), (std::vector<std::string>{"b", "c"}));

  store.Apply(Event(Type::kDelete, Pod("c", "3", "web", "rs-2")));
  EXPECT_EQ(Names(store.KeysByIndex(kIndexOwnerUid, "rs-2")), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(store.KeysByIndex(kIndexOwnerUid, "rs-unknown").empty());
}

TEST(StoreTest, LabelChangeMovesTheObjectBetweenIndexValues) {
  Store store(IndexedOptions());
  const std::string app = LabelIndexName("app");
  store.Apply(Event(Type::kApply, Pod("a", "1", "web")));
  store.Apply(Event(Type::kApply, Pod("b", "1", "web")));
  EXPECT_EQ(Names(store.KeysByIndex(app, "web")), (std::vector<std::string>{"a", "b"}));

  store.Apply(Event(Type::kApply, Pod("a", "2", "db")));
  EXPECT_EQ(Names(store.KeysByIndex(app, "web")), (std::vector<std::string>{"b"}));
  EXPECT_EQ(Names(store.ByIndex(app, "db")), (std::vector<std::string>{"a"}));

  json unlabeled = Pod("b", "2");
  unlabeled["metadata"].erase("labels");
  store.Apply(Event(Type::kApply, unlabeled));
  EXPECT_TRUE(store.KeysByIndex(app, "web").empty());
  EXPECT_EQ(store.size(), 2u);
}

TEST(StoreTest, RelistRebuildsIndexes) {
  Store store(IndexedOptions());
  Relist(store, {Pod("a", "1", "web", "rs-1"), Pod("b", "1", "web", "rs-1")});
  store.Apply(Event(Type::kInit));
  store.Apply(Event(Type::kInitApply, Pod("b", "2", "db", "rs-2")));
  store.Apply(Event(Type::kInitApply, Pod("c", "1", "web", "rs-1")));
  // The old indexes still answer until the swap.
  EXPECT_EQ(Names(store.KeysByIndex(kIndexOwnerUid, "rs-1")), (std::vector<std::string>{"a", "b"}));
  store.Apply(Event(Type::kInitDone));
  EXPECT_EQ(Names(store.KeysByIndex(kIndexOwnerUid, "rs-1")), (std::vector<std::string>{"c"}));
  EXPECT_EQ(Names(store.KeysByIndex(kIndexOwnerUid, "rs-2")), (std::vector<std::string>{"b"}));
  EXPECT_EQ(Names(store.KeysByIndex(LabelIndexName("app"), "web")),
            (std::vector<std::string>{"c"}));
  EXPECT_EQ(Names(store.KeysByIndex(LabelIndexName("app"), "db")), (std::vector<std::string>{"b"}));

  // A list that names an object twice keeps the later copy, in the indexes too.
  Relist(store, {Pod("d", "1", "web", "rs-1"), Pod("d", "2", "web", "rs-3")});
  EXPECT_TRUE(store.KeysByIndex(kIndexOwnerUid, "rs-1").empty());
  EXPECT_EQ(Names(store.KeysByIndex(kIndexOwnerUid, "rs-3")), (std::vector<std::string>{"d"}));
}

TEST(StoreTest, ApproxBytesTracksContentsAndIsFarBelowTheJson) {
  Store store(IndexedOptions());
  EXPECT_EQ(store.ApproxBytes(), 0u);
  std::size_t json_bytes = 0;
  for (int i = 0; i < 100; ++i) {
    json pod = Pod("pod-" + std::to_string(i), "1");
    json_bytes += pod.dump().size();
    store.Apply(Event(Type::kApply, std::move(pod)));
  }
  std::size_t full = store.ApproxBytes();
  EXPECT_GT(full, 100u * 100);
  EXPECT_LT(full, json_bytes / 2);
  for (int i = 0; i < 50; ++i) {
    store.Apply(Event(Type::kDelete, Pod("pod-" + std::to_string(i), "2")));
  }
  EXPECT_LT(store.ApproxBytes(), full);
  Relist(store, {});
  EXPECT_EQ(store.ApproxBytes(), 0u);
}

// Readers on several threads while the writer applies, relists and deletes. Every object a
// reader decodes must be whole and consistent (its label matches the index value it was found
// under), and a relist must never show a reader a store missing the stable objects.
TEST(StoreTest, ConcurrentReadersWhileTheWriterApplies) {
  Store store(IndexedOptions());
  const std::string app = LabelIndexName("app");
  std::vector<json> stable;
  for (int i = 0; i < 20; ++i) stable.push_back(Pod("stable-" + std::to_string(i), "1", "stable"));
  Relist(store, stable);

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<long> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      while (!done.load()) {
        if (store.size() < stable.size()) ++failures;
        if (!store.Get(Key("stable-" + std::to_string(r))).has_value()) ++failures;
        for (const json& pod : store.ByIndex(app, "even")) {
          if (Field(pod, "/metadata/labels/app") != "even") ++failures;
        }
        std::vector<json> all = store.List();
        if (all.size() < stable.size()) ++failures;
        for (const json& pod : all) {
          if (Field(pod, "/metadata/name").empty() || Field(pod, "/spec/nodeName") != "node-1") {
            ++failures;
          }
        }
        ++reads;
      }
    });
  }

  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 40; ++i) {
      std::string name = "churn-" + std::to_string(i);
      std::string rv = std::to_string(round);
      json pod = Pod(name, rv, (i + round) % 2 ? "odd" : "even");
      // A field name new to the store each round: readers decode it through the dictionary
      // while the writer keeps adding to it.
      pod["metadata"]["labels"]["round-" + rv] = "yes";
      store.Apply(Event(Type::kApply, std::move(pod)));
    }
    for (int i = 0; i < 40; i += 3) {
      store.Apply(Event(Type::kDelete, Pod("churn-" + std::to_string(i), "x")));
    }
    if (round % 5 == 4) {
      store.Apply(Event(Type::kInit));
      for (const json& pod : stable) store.Apply(Event(Type::kInitApply, pod));
      store.Apply(Event(Type::kInitApply, Pod("churn-1", "relisted", "even")));
      store.Apply(Event(Type::kInitDone));
    }
  }
  while (reads.load() < 10) std::this_thread::yield();
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(store.size(), stable.size());
}

}  // namespace
}  // namespace aidi::kube
