// Watcher unit tests: no sockets. A scripted transport answers lists and watch streams, and the
// requests the watcher sends are checked as values (resourceVersion, continue, bookmarks).
#include "kube/runtime/watcher.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

namespace aidi::kube {
namespace {

// A stream of scripted lines, then either a clean end, an error, or (when `hang`) a wait for
// Cancel(), as an idle watch does.
class ScriptedStream final : public ResponseStream {
 public:
  ScriptedStream(std::vector<std::string> lines, Status end, bool hang)
      : lines_(lines.begin(), lines.end()), end_(std::move(end)), hang_(hang) {}
  StatusOr<std::optional<std::string>> ReadLine() override {
    std::unique_lock lock(mu_);
    if (!lines_.empty()) {
      std::string line = lines_.front();
      lines_.pop_front();
      return std::optional<std::string>(line);
    }
    if (hang_) {
      cv_.wait(lock, [&] { return cancelled_; });
      return Status::Cancelled("cancelled");
    }
    if (!end_.ok()) return end_;
    return std::optional<std::string>();
  }
  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;
  Status end_;
  bool hang_;
  bool cancelled_ = false;
};

struct ScriptedWatch {
  int status = 200;
  std::string error_body;
  std::vector<std::string> lines;
  Status end;  // OK: the server ends the stream cleanly
};

// Answers lists and watches from scripts, in order; records every request. When the watch
// scripts run out, a watch hangs until cancelled.
class ScriptedTransport final : public Transport {
 public:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<HttpResponse> lists;
    std::deque<ScriptedWatch> watches;
    std::vector<HttpRequest> requests;
  };
  explicit ScriptedTransport(std::shared_ptr<Shared> shared) : s_(std::move(shared)) {}
  StatusOr<HttpResponse> Send(const HttpRequest& r, const HeaderList&,
                              std::chrono::milliseconds) override {
    std::lock_guard lock(s_->mu);
    s_->requests.push_back(r);
    s_->cv.notify_all();
    if (s_->lists.empty()) return HttpResponse{500, {}, R"({"kind":"Status","code":500})"};
    HttpResponse out = s_->lists.front();
    s_->lists.pop_front();
    return out;
  }
  StatusOr<StreamingResponse> Open(const HttpRequest& r, const HeaderList&,
                                   std::chrono::milliseconds) override {
    std::lock_guard lock(s_->mu);
    s_->requests.push_back(r);
    s_->cv.notify_all();
    StreamingResponse out;
    if (s_->watches.empty()) {
      out.status = 200;
      out.body = std::make_unique<ScriptedStream>(std::vector<std::string>{}, Status::Ok(), true);
      return out;
    }
    ScriptedWatch w = s_->watches.front();
    s_->watches.pop_front();
    out.status = w.status;
    if (w.status != 200) {
      out.error_body = w.error_body;
      return out;
    }
    out.body = std::make_unique<ScriptedStream>(w.lines, w.end, false);
    return out;
  }

 private:
  std::shared_ptr<Shared> s_;
};

std::string List(const std::vector<std::string>& names, const std::string& rv,
                 const std::string& cont = "") {
  nlohmann::json list = {{"kind", "ConfigMapList"},
                         {"apiVersion", "v1"},
                         {"metadata", {{"resourceVersion", rv}}},
                         {"items", nlohmann::json::array()}};
  if (!cont.empty()) list["metadata"]["continue"] = cont;
  for (const auto& n : names) {
    list["items"].push_back(
        {{"metadata", {{"name", n}, {"namespace", "ns"}, {"resourceVersion", rv}}}});
  }
  return list.dump();
}

std::string Event(const std::string& type, const std::string& name, const std::string& rv) {
  return nlohmann::json(
             {{"type", type},
              {"object",
               {{"kind", "ConfigMap"},
                {"apiVersion", "v1"},
                {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", rv}}}}}})
      .dump();
}

const char kExpiredStatus[] =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version","reason":"Expired","code":410})";

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shared_ = std::make_shared<ScriptedTransport::Shared>();
    ClientConfig config;
    config.server = "https://fake";
    config.qps = 0;
    config.max_retries = 0;
    auto shared = shared_;
    client_ = *Client::Create(
        config,
        [shared](const TransportConfig&) -> StatusOr<std::unique_ptr<Transport>> {
          return std::unique_ptr<Transport>(std::make_unique<ScriptedTransport>(shared));
        },
        Clock::Real(), [](std::chrono::nanoseconds) {});
  }
  void TearDown() override { Stop(); }

  void Start(WatcherOptions options = {}) {
    options.backoff.initial = std::chrono::milliseconds(1);
    options.backoff.max = std::chrono::milliseconds(2);
    watcher_ = std::make_unique<Watcher>(Api(client_, resources::kConfigMaps, "ns"), options);
    thread_ = std::thread([this] {
      watcher_->Run([this](WatcherEvent&& e) {
        std::lock_guard lock(mu_);
        events_.push_back(std::move(e));
      });
    });
  }
  void Stop() {
    if (watcher_) watcher_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  // Waits until the transport has seen `n` requests; returns them.
  std::vector<HttpRequest> WaitForRequests(std::size_t n) {
    std::unique_lock lock(shared_->mu);
    shared_->cv.wait_for(lock, std::chrono::seconds(10),
                         [&] { return shared_->requests.size() >= n; });
    return shared_->requests;
  }
  static void WaitUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  std::vector<WatcherEvent::Type> EventTypes() {
    std::lock_guard lock(mu_);
    std::vector<WatcherEvent::Type> types;
    for (const auto& e : events_) types.push_back(e.type);
    return types;
  }

  std::shared_ptr<ScriptedTransport::Shared> shared_;
  std::shared_ptr<Client> client_;
  std::unique_ptr<Watcher> watcher_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<WatcherEvent> events_;
};

using T = WatcherEvent::Type;

TEST_F(WatcherTest, ListsInPagesThenWatchesFromTheListsVersion) {
  shared_->lists = {{200, {}, List({"a", "b"}, "10", "tok")}, {200, {}, List({"c"}, "10")}};
  WatcherOptions options;
  options.page_size = 2;
  options.label_selector = "app=web";
  options.watch_timeout_seconds = 120;
  Start(options);
  auto requests = WaitForRequests(3);
  Stop();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].Target(),
            "/api/v1/namespaces/ns/configmaps?labelSelector=app%3Dweb&limit=2");
  EXPECT_EQ(requests[1].Query("continue"), "tok");
  EXPECT_FALSE(requests[1].Query("resourceVersion").has_value());
  EXPECT_TRUE(requests[2].watch);
  EXPECT_EQ(requests[2].Query("resourceVersion"), "10");
  EXPECT_EQ(requests[2].Query("allowWatchBookmarks"), "true");
  EXPECT_EQ(requests[2].Query("timeoutSeconds"), "120");
  EXPECT_EQ(requests[2].Query("labelSelector"), "app=web");
  EXPECT_EQ(EventTypes(),
            (std::vector<T>{T::kInit, T::kInitApply, T::kInitApply, T::kInitApply, T::kInitDone}));
  std::lock_guard lock(mu_);
  // List items come without type metadata; the watcher fills it in.
  EXPECT_EQ(events_[1].object["kind"], "ConfigMap");
  EXPECT_EQ(events_[1].object["apiVersion"], "v1");
}

TEST_F(WatcherTest, ResumesFromTheLastSeenVersionIncludingBookmarks) {
  shared_->lists = {{200, {}, List({"a"}, "10")}};
  shared_->watches = {
      {200, "", {Event("ADDED", "b", "11"), Event("BOOKMARK", "", "15")}, Status::Ok()}};
  Start();
  auto requests = WaitForRequests(3);
  WaitUntil([&] { return watcher_->stats().resumes.load() == 1; });
  Stop();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(requests[2].Query("resourceVersion"), "15");  // no relist: a second watch
  EXPECT_TRUE(requests[2].watch);
  EXPECT_EQ(watcher_->stats().lists.load(), 1u);
  EXPECT_EQ(watcher_->stats().resumes.load(), 1u);
  auto types = EventTypes();
  ASSERT_EQ(types.size(), 4u);  // init, initApply, initDone, apply(b); the bookmark is silent
  EXPECT_EQ(types[3], T::kApply);
}

TEST_F(WatcherTest, BrokenStreamResumesWithoutRelisting) {
  shared_->lists = {{200, {}, List({}, "10")}};
  shared_->watches = {
      {200, "", {Event("MODIFIED", "a", "12")}, Status::Unavailable("connection reset")},
      {200, "", {Event("DELETED", "a", "13")}, Status::Unavailable("connection reset")}};
  Start();
  auto requests = WaitForRequests(4);
  WaitUntil([&] { return watcher_->stats().errors.load() == 2 && EventTypes().size() == 4; });
  Stop();
  ASSERT_GE(requests.size(), 4u);
  EXPECT_EQ(requests[2].Query("resourceVersion"), "12");
  EXPECT_EQ(requests[3].Query("resourceVersion"), "13");
  EXPECT_EQ(watcher_->stats().lists.load(), 1u);
  EXPECT_EQ(watcher_->stats().errors.load(), 2u);
  auto types = EventTypes();
  EXPECT_EQ(types.back(), T::kDelete);
}

TEST_F(WatcherTest, ExpiredInStreamRelists) {
  shared_->lists = {{200, {}, List({"a"}, "10")}, {200, {}, List({"b"}, "20")}};
  shared_->watches = {
      {200,
       "",
       {nlohmann::json({{"type", "ERROR"}, {"object", nlohmann::json::parse(kExpiredStatus)}})
            .dump()},
       Status::Ok()}};
  Start();
  auto requests = WaitForRequests(4);
  Stop();
  ASSERT_GE(requests.size(), 4u);
  EXPECT_TRUE(requests[1].watch);
  EXPECT_FALSE(requests[2].watch);  // the relist, from scratch
  EXPECT_FALSE(requests[2].Query("resourceVersion").has_value());
  EXPECT_EQ(requests[3].Query("resourceVersion"), "20");
  EXPECT_EQ(watcher_->stats().expired.load(), 1u);
  EXPECT_EQ(watcher_->stats().lists.load(), 2u);
  auto types = EventTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(), T::kInit), 2);
}

TEST_F(WatcherTest, ExpiredWatchRequestRelists) {
  shared_->lists = {{200, {}, List({}, "10")}, {200, {}, List({}, "30")}};
  shared_->watches = {{410, kExpiredStatus, {}, Status::Ok()}};
  Start();
  auto requests = WaitForRequests(4);
  Stop();
  ASSERT_GE(requests.size(), 4u);
  EXPECT_FALSE(requests[2].watch);
  EXPECT_EQ(requests[3].Query("resourceVersion"), "30");  // watches from the new list
  EXPECT_EQ(watcher_->stats().expired.load(), 1u);
}

TEST_F(WatcherTest, FailedListsAreRetried) {
  shared_->lists = {{500, {}, R"({"kind":"Status","code":500,"reason":"InternalError"})"},
                    {200, {}, List({"a"}, "5")}};
  Start();
  auto requests = WaitForRequests(3);
  Stop();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_FALSE(requests[1].watch);
  EXPECT_EQ(requests[2].Query("resourceVersion"), "5");
  EXPECT_EQ(watcher_->stats().errors.load(), 1u);
}

TEST_F(WatcherTest, StopInterruptsAnIdleWatch) {
  shared_->lists = {{200, {}, List({}, "1")}};
  Start();
  WaitForRequests(2);
  auto started = std::chrono::steady_clock::now();
  Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

}  // namespace
}  // namespace aidi::kube
