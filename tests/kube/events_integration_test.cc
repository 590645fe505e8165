// EventRecorder against the real aidi-devcluster: aggregation and the Event objects it writes.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "kube/client/api.h"
#include "kube/core/resource.h"
#include "kube/runtime/events.h"
#include "tests/kube/devcluster_test.h"

namespace aidi::kube {
namespace {

class EventsIT : public testing::DevclusterTest {
 protected:
  void SetUp() override {
    DevclusterTest::SetUp();
    if (HasFatalFailure()) return;
    recorder_ = std::make_unique<EventRecorder>(
        client_, EventRecorderOptions{.component = "events-it", .instance = "it-host"});
  }

  nlohmann::json CreateConfigMap(const std::string& name) {
    auto created = Api(client_, resources::kConfigMaps, "default")
                       .Create({{"apiVersion", "v1"},
                                {"kind", "ConfigMap"},
                                {"metadata", {{"name", name}}},
                                {"data", {{"k", "v"}}}});
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : nlohmann::json();
  }
  // Events in `ns` about the object named `name`.
  nlohmann::json EventsAbout(const std::string& ns, const std::string& name) {
    auto list = Api(client_, resources::kEvents, ns)
                    .List({.field_selector = "involvedObject.name=" + name});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? (*list)["items"] : nlohmann::json::array();
  }

  std::unique_ptr<EventRecorder> recorder_;
};

TEST_F(EventsIT, IdenticalEventsBecomeOneEventWithACount) {
  nlohmann::json cm = CreateConfigMap("agg");
  recorder_->Record(cm, EventType::kNormal, "Synced", "configmap synced");
  recorder_->Record(cm, EventType::kNormal, "Synced", "configmap synced");
  recorder_->Flush();
  nlohmann::json items = EventsAbout("default", "agg");
  ASSERT_EQ(items.size(), 1u) << items.dump();
  const nlohmann::json& e = items[0];
  EXPECT_EQ(e["count"], 2);
  EXPECT_EQ(e["reason"], "Synced");
  EXPECT_EQ(e["message"], "configmap synced");
  EXPECT_EQ(e["type"], "Normal");
  EXPECT_EQ(e["source"]["component"], "events-it");
  EXPECT_EQ(e["reportingComponent"], "events-it");
  EXPECT_EQ(e["reportingInstance"], "it-host");
  const nlohmann::json& ref = e["involvedObject"];
  EXPECT_EQ(ref["apiVersion"], "v1");
  EXPECT_EQ(ref["kind"], "ConfigMap");
  EXPECT_EQ(ref["name"], "agg");
  EXPECT_EQ(ref["namespace"], "default");
  EXPECT_EQ(ref["uid"], cm["metadata"]["uid"]);
  EXPECT_EQ(ref["resourceVersion"], cm["metadata"]["resourceVersion"]);
  EXPECT_TRUE(e["firstTimestamp"].is_string());
  EXPECT_TRUE(e["lastTimestamp"].is_string());
  EXPECT_EQ(recorder_->stats().created, 1u);
  EXPECT_EQ(recorder_->stats().aggregated, 1u);
}

TEST_F(EventsIT, DifferentReasonsAreDifferentEvents) {
  nlohmann::json cm = CreateConfigMap("two");
  recorder_->Record(cm, EventType::kNormal, "Created", "made it");
  recorder_->Record(cm, EventType::kWarning, "Failed", "broke it");
  recorder_->Flush();
  nlohmann::json items = EventsAbout("default", "two");
  ASSERT_EQ(items.size(), 2u) << items.dump();
  std::set<std::string> reasons;
  for (const auto& e : items) {
    reasons.insert(e["reason"].get<std::string>());
    EXPECT_EQ(e["count"], 1);
    EXPECT_EQ(e["involvedObject"]["uid"], cm["metadata"]["uid"]);
  }
  EXPECT_EQ(reasons, (std::set<std::string>{"Created", "Failed"}));
  // Listing by reason, as `kubectl get events --field-selector reason=Failed` does.
  auto failed =
      Api(client_, resources::kEvents, "default").List({.field_selector = "reason=Failed"});
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ((*failed)["items"].size(), 1u);
  EXPECT_EQ((*failed)["items"][0]["type"], "Warning");
}

TEST_F(EventsIT, ADeletedEventIsCreatedAgain) {
  nlohmann::json cm = CreateConfigMap("gone");
  recorder_->Record(cm, EventType::kNormal, "Synced", "synced");
  recorder_->Flush();
  nlohmann::json items = EventsAbout("default", "gone");
  ASSERT_EQ(items.size(), 1u);
  std::string first = items[0]["metadata"]["name"];
  ASSERT_TRUE(Api(client_, resources::kEvents, "default").Delete(first).ok());  // as if expired
  recorder_->Record(cm, EventType::kNormal, "Synced", "synced");
  recorder_->Flush();
  items = EventsAbout("default", "gone");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_NE(items[0]["metadata"]["name"], first);
  EXPECT_EQ(items[0]["count"], 1);
  EXPECT_EQ(recorder_->stats().failed, 0u);
}

TEST_F(EventsIT, ClusterScopedObjectsGetEventsInDefault) {
  auto ns =
      Api(client_, resources::kNamespaces, "")
          .Create(
              {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team-x"}}}});
  ASSERT_TRUE(ns.ok()) << ns.status().ToString();
  recorder_->Record(*ns, EventType::kNormal, "Provisioned", "namespace ready");
  recorder_->Flush();
  nlohmann::json items = EventsAbout("default", "team-x");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["involvedObject"]["kind"], "Namespace");
  EXPECT_FALSE(items[0]["involvedObject"].contains("namespace"));
  EXPECT_EQ(recorder_->stats().failed, 0u);
}

}  // namespace
}  // namespace aidi::kube
