#include "kube/runtime/events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <regex>
#include <string>

#include "base/clock.h"
#include "kube/core/request.h"
#include "kube/runtime/testing/fake_api_server.h"

namespace aidi::kube {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeApiServer;

const char kEvents[] = "/api/v1/namespaces/shop/events";

nlohmann::json Pod(const std::string& name = "web-0") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"uid", "uid-" + name},
            {"resourceVersion", "42"},
            {"labels", {{"app", "web"}}}}},
          {"spec", {{"containers", nlohmann::json::array()}}}};
}

Clock::WallTime Jan2026() {
  Clock::WallTime t;
  EXPECT_TRUE(ParseRfc3339("2026-01-01T00:00:00Z", &t));
  return t;
}

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() : clock_(Jan2026()) {}
  std::unique_ptr<EventRecorder> NewRecorder(EventRecorderOptions options = {}) {
    if (options.component == "aidi") options.component = "shop-controller";
    if (options.instance.empty()) options.instance = "node-1";
    return std::make_unique<EventRecorder>(FakeApiServer::NewClient(server_, clock_), options,
                                           clock_);
  }
  nlohmann::json Body(const HttpRequest& r) { return nlohmann::json::parse(r.body); }

  std::shared_ptr<FakeApiServer> server_ = std::make_shared<FakeApiServer>();
  FakeClock clock_;
};

TEST_F(EventRecorderTest, CreatesAnEventAboutTheObject) {
  auto recorder = NewRecorder();
  recorder->Record(Pod(), EventType::kWarning, "BackOff", "restarting failed container");
  recorder->Flush();
  auto posts = server_->Requests("POST", "/events");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].path, kEvents);
  nlohmann::json e = Body(posts[0]);
  EXPECT_EQ(e["apiVersion"], "v1");
  EXPECT_EQ(e["kind"], "Event");
  EXPECT_TRUE(std::regex_match(e["metadata"]["name"].get<std::string>(),
                               std::regex(R"(web-0\.[0-9a-f]{16})")))
      << e["metadata"]["name"];
  // The name's hex is the time in nanoseconds, as client-go writes it.
  EXPECT_EQ(e["metadata"]["name"], "web-0.18867251edfa0000");
  EXPECT_EQ(e["metadata"]["namespace"], "shop");
  EXPECT_EQ(e["involvedObject"], (nlohmann::json{{"apiVersion", "v1"},
                                                 {"kind", "Pod"},
                                                 {"name", "web-0"},
                                                 {"namespace", "shop"},
                                                 {"uid", "uid-web-0"},
                                                 {"resourceVersion", "42"}}));
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "BackOff");
  EXPECT_EQ(e["message"], "restarting failed container");
  EXPECT_EQ(e["source"], (nlohmann::json{{"component", "shop-controller"}, {"host", "node-1"}}));
  EXPECT_EQ(e["reportingComponent"], "shop-controller");
  EXPECT_EQ(e["reportingInstance"], "node-1");
  EXPECT_EQ(e["firstTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(e["lastTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(recorder->stats().created, 1u);
}

TEST_F(EventRecorderTest, IdenticalEventsArePatchedNotCreated) {
  auto recorder = NewRecorder();
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  clock_.Advance(seconds(30));
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  clock_.Advance(seconds(30));
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  recorder->Flush();
  ASSERT_EQ(server_->Requests("POST", "/events").size(), 1u);
  std::string name = Body(server_->Requests("POST", "/events")[0])["metadata"]["name"];
  auto patches = server_->Requests("PATCH", "/events");
  ASSERT_EQ(patches.size(), 2u);
  EXPECT_EQ(patches[0].path, std::string(kEvents) + "/" + name);
  EXPECT_EQ(patches[0].content_type, "application/merge-patch+json");
  EXPECT_EQ(Body(patches[0]),
            (nlohmann::json{{"count", 2}, {"lastTimestamp", "2026-01-01T00:00:30Z"}}));
  EXPECT_EQ(Body(patches[1]),
            (nlohmann::json{{"count", 3}, {"lastTimestamp", "2026-01-01T00:01:00Z"}}));
  auto stored = server_->List(kEvents);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0]["count"], 3);
  EXPECT_EQ(stored[0]["firstTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(recorder->stats().aggregated, 2u);
}

TEST_F(EventRecorderTest, DifferentEventsAreSeparateObjects) {
  auto recorder = NewRecorder();
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  recorder->Record(Pod(), EventType::kNormal, "Scaled", "synced");         // reason
  recorder->Record(Pod(), EventType::kWarning, "Synced", "synced");        // type
  recorder->Record(Pod(), EventType::kNormal, "Synced", "again");          // message
  recorder->Record(Pod("web-1"), EventType::kNormal, "Synced", "synced");  // object
  recorder->Flush();
  EXPECT_EQ(server_->Requests("POST", "/events").size(), 5u);
  EXPECT_TRUE(server_->Requests("PATCH", "/events").empty());
  // Same object and time: names still differ.
  EXPECT_EQ(server_->List(kEvents).size(), 5u);
}

TEST_F(EventRecorderTest, AnEventOutsideTheWindowStartsANewObject) {
  auto recorder = NewRecorder();
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  clock_.Advance(minutes(9));
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");  // patched
  clock_.Advance(minutes(11));  // 11 minutes after the previous occurrence
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  recorder->Flush();
  EXPECT_EQ(server_->Requests("POST", "/events").size(), 2u);
  EXPECT_EQ(server_->Requests("PATCH", "/events").size(), 1u);
}

TEST_F(EventRecorderTest, AnExpiredEventIsCreatedAgain) {
  auto recorder = NewRecorder();
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  recorder->Flush();
  std::string first = Body(server_->Requests("POST", "/events")[0])["metadata"]["name"];
  server_->Erase(std::string(kEvents) + "/" + first);  // the server's TTL removed it
  clock_.Advance(seconds(1));
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  recorder->Flush();
  EXPECT_EQ(server_->Requests("PATCH", "/events").size(), 1u);  // got 404
  auto posts = server_->Requests("POST", "/events");
  ASSERT_EQ(posts.size(), 2u);
  nlohmann::json second = Body(posts[1]);
  EXPECT_NE(second["metadata"]["name"], first);
  EXPECT_EQ(second["count"], 1);
  EXPECT_EQ(second["firstTimestamp"], "2026-01-01T00:00:01Z");
  // And the new one is what later occurrences bump.
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  recorder->Flush();
  auto patches = server_->Requests("PATCH", "/events");
  ASSERT_EQ(patches.size(), 2u);
  EXPECT_EQ(patches[1].path,
            std::string(kEvents) + "/" + second["metadata"]["name"].get<std::string>());
  EXPECT_EQ(Body(patches[1])["count"], 2);
}

TEST_F(EventRecorderTest, ClusterScopedObjectsGetEventsInDefault) {
  auto recorder = NewRecorder();
  nlohmann::json node = {
      {"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}, {"uid", "u-n1"}}}};
  recorder->Record(node, EventType::kNormal, "Ready", "node is ready");
  recorder->Flush();
  auto posts = server_->Requests("POST", "/events");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].path, "/api/v1/namespaces/default/events");
  nlohmann::json e = Body(posts[0]);
  EXPECT_EQ(e["metadata"]["namespace"], "default");
  EXPECT_EQ(
      e["involvedObject"],
      (nlohmann::json{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n1"}, {"uid", "u-n1"}}));
}

TEST_F(EventRecorderTest, LongMessagesAreCutAtACharacterBoundary) {
  auto recorder = NewRecorder();
  std::string message(1023, 'a');
  message += "\xC3\xA9 and more";  // é straddles byte 1024
  recorder->Record(Pod(), EventType::kNormal, "Long", message);
  recorder->Flush();
  std::string sent = Body(server_->Requests("POST", "/events")[0])["message"];
  EXPECT_EQ(sent, std::string(1023, 'a'));
  recorder->Record(Pod(), EventType::kNormal, "Long", std::string(5000, 'b'));
  recorder->Flush();
  sent = Body(server_->Requests("POST", "/events")[1])["message"];
  EXPECT_EQ(sent.size(), 1024u);
}

TEST_F(EventRecorderTest, AFullQueueDropsInsteadOfBlocking) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> in_flight{0};
  server_->SetInterceptor([&](const HttpRequest&) -> std::optional<HttpResponse> {
    ++in_flight;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return std::nullopt;
  });
  auto recorder = NewRecorder({.queue_capacity = 2});
  recorder->Record(Pod("a"), EventType::kNormal, "R", "m");
  while (in_flight.load() == 0) std::this_thread::yield();  // the writer holds "a"
  auto started = std::chrono::steady_clock::now();
  recorder->Record(Pod("b"), EventType::kNormal, "R", "m");
  recorder->Record(Pod("c"), EventType::kNormal, "R", "m");
  recorder->Record(Pod("d"), EventType::kNormal, "R", "m");  // the queue holds b and c
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(1));
  EXPECT_EQ(recorder->stats().dropped, 1u);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  recorder->Flush();
  EXPECT_EQ(recorder->stats().created, 3u);
  EXPECT_EQ(server_->List(kEvents).size(), 3u);
}

TEST_F(EventRecorderTest, FailedWritesAreCountedAndLaterEventsStillGo) {
  std::atomic<bool> forbid{true};
  server_->SetInterceptor([&](const HttpRequest&) -> std::optional<HttpResponse> {
    if (forbid) {
      return FakeApiServer::Error(NewForbidden({"", "events"}, "", "no RBAC for events"));
    }
    return std::nullopt;
  });
  auto recorder = NewRecorder();
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  recorder->Flush();
  EXPECT_EQ(recorder->stats().failed, 1u);
  forbid = false;
  recorder->Record(Pod(), EventType::kNormal, "Synced", "synced");
  recorder->Flush();
  // The failed one was never remembered, so this is a create, not a patch.
  EXPECT_EQ(server_->Requests("POST", "/events").size(), 2u);
  EXPECT_EQ(recorder->stats().created, 1u);
}

TEST_F(EventRecorderTest, TheCacheForgetsTheLeastRecentlyUsedEvent) {
  auto recorder = NewRecorder({.cache_size = 2});
  recorder->Record(Pod("a"), EventType::kNormal, "R", "m");
  recorder->Record(Pod("b"), EventType::kNormal, "R", "m");
  recorder->Record(Pod("a"), EventType::kNormal, "R", "m");  // patch; a is most recent
  recorder->Record(Pod("c"), EventType::kNormal, "R", "m");  // evicts b
  recorder->Record(Pod("a"), EventType::kNormal, "R", "m");  // patch
  recorder->Record(Pod("b"), EventType::kNormal, "R", "m");  // forgotten: create
  recorder->Flush();
  EXPECT_EQ(server_->Requests("POST", "/events").size(), 4u);
  EXPECT_EQ(server_->Requests("PATCH", "/events").size(), 2u);
}

TEST_F(EventRecorderTest, ObjectsWithoutANameAreDropped) {
  auto recorder = NewRecorder();
  recorder->Record({{"kind", "Pod"}}, EventType::kNormal, "R", "m");
  recorder->Flush();
  EXPECT_TRUE(server_->Requests().empty());
  EXPECT_EQ(recorder->stats().dropped, 1u);
}

TEST_F(EventRecorderTest, DestructionDoesNotWaitForQueuedEvents) {
  std::atomic<bool> slow{true};
  server_->SetInterceptor([&](const HttpRequest&) -> std::optional<HttpResponse> {
    while (slow) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return std::nullopt;
  });
  auto recorder = NewRecorder();
  for (int i = 0; i < 10; ++i) recorder->Record(Pod(), EventType::kNormal, "R", std::to_string(i));
  std::thread unblock([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    slow = false;
  });
  recorder.reset();  // finishes the write in progress, drops the rest
  unblock.join();
  EXPECT_LE(server_->Requests().size(), 1u);
}

}  // namespace
}  // namespace aidi::kube
