#include "kube/runtime/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "kube/runtime/testing/fake_api_server.h"

namespace aidi::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using testing::FakeApiServer;

const char kLeasePath[] = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/lock";

// Polls `done` every millisecond for up to `limit`.
bool WaitFor(const std::function<bool()>& done, milliseconds limit = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return done();
}

bool IsMicroTime(const nlohmann::json& v) {
  static const std::regex kMicro(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  return v.is_string() && std::regex_match(v.get<std::string>(), kMicro);
}

// Runs one elector on its own thread and records its callbacks.
class ElectorHarness {
 public:
  ElectorHarness(std::shared_ptr<FakeApiServer> server, LeaderElectionOptions options,
                 const Clock& clock = Clock::Real())
      : client_(FakeApiServer::NewClient(server, clock)) {
    LeaderCallbacks callbacks;
    callbacks.on_started_leading = [this] {
      std::lock_guard lock(mu_);
      ++started_;
    };
    callbacks.on_stopped_leading = [this] {
      std::lock_guard lock(mu_);
      ++stopped_;
      if (on_stopped_) on_stopped_();
    };
    callbacks.on_new_leader = [this](const std::string& id) {
      std::lock_guard lock(mu_);
      leaders_.push_back(id);
    };
    auto made = LeaderElector::Create(client_, std::move(options), std::move(callbacks), clock);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    elector_ = std::move(made).value();
  }
  ~ElectorHarness() {
    elector_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  void Start() {
    thread_ = std::thread([this] {
      elector_->Run();
      returned_ = true;
    });
  }
  void StopAndJoin() {
    elector_->Stop();
    thread_.join();
  }
  LeaderElector& elector() { return *elector_; }
  bool returned() const { return returned_; }
  int started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  int stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }
  std::vector<std::string> leaders() {
    std::lock_guard lock(mu_);
    return leaders_;
  }
  void OnStopped(std::function<void()> f) {
    std::lock_guard lock(mu_);
    on_stopped_ = std::move(f);
  }

 private:
  std::shared_ptr<Client> client_;
  std::unique_ptr<LeaderElector> elector_;
  std::thread thread_;
  std::atomic<bool> returned_{false};
  std::mutex mu_;
  int started_ = 0;
  int stopped_ = 0;
  std::vector<std::string> leaders_;
  std::function<void()> on_stopped_;
};

LeaderElectionOptions FastOptions(std::string identity) {
  LeaderElectionOptions o;
  o.lease_namespace = "kube-system";
  o.lease_name = "lock";
  o.identity = std::move(identity);
  o.lease_duration = milliseconds(15000);
  o.renew_deadline = milliseconds(10000);
  o.retry_period = milliseconds(5);
  return o;
}

nlohmann::json LeaseHeldBy(const std::string& holder, long long transitions = 3) {
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", {{"name", "lock"}, {"namespace", "kube-system"}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", 15},
            {"acquireTime", "2026-01-01T00:00:00.000000Z"},
            {"renewTime", "2026-01-01T00:00:00.000000Z"},
            {"leaseTransitions", transitions}}}};
}

Clock::WallTime Jan2026() {
  Clock::WallTime t;
  EXPECT_TRUE(ParseRfc3339("2026-01-01T00:00:00Z", &t));
  return t;
}

TEST(LeaderElectionTest, CreateChecksOptions) {
  auto server = std::make_shared<FakeApiServer>();
  auto client = FakeApiServer::NewClient(server);
  auto make = [&](LeaderElectionOptions o) {
    return LeaderElector::Create(client, std::move(o), {}).status();
  };
  LeaderElectionOptions good = FastOptions("a");
  EXPECT_TRUE(make(good).ok());
  LeaderElectionOptions o = good;
  o.lease_name = "";
  EXPECT_EQ(make(o).code(), StatusCode::kInvalidArgument);
  o = good;
  o.renew_deadline = o.lease_duration;  // must be strictly shorter
  EXPECT_EQ(make(o).code(), StatusCode::kInvalidArgument);
  o = good;
  o.retry_period = milliseconds(9000);  // 1.2 * 9 s > 10 s renew deadline
  EXPECT_EQ(make(o).code(), StatusCode::kInvalidArgument);
  o = good;
  o.retry_period = milliseconds(0);
  EXPECT_EQ(make(o).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LeaderElector::Create(nullptr, good, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(LeaderElectionTest, DefaultIdentityIsHostnameAndRandomSuffix) {
  std::string a = DefaultLeaderIdentity(), b = DefaultLeaderIdentity();
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex(R"(.+_[0-9a-f]{32})"))) << a;
  auto server = std::make_shared<FakeApiServer>();
  LeaderElectionOptions o = FastOptions("");
  auto elector = LeaderElector::Create(FakeApiServer::NewClient(server), o, {});
  ASSERT_TRUE(elector.ok());
  EXPECT_TRUE(std::regex_match((*elector)->identity(), std::regex(R"(.+_[0-9a-f]{32})")));
}

TEST(LeaderElectionTest, CreatesTheLeaseWhenAbsentAndLeads) {
  auto server = std::make_shared<FakeApiServer>();
  FakeClock clock(Jan2026());
  ElectorHarness h(server, FastOptions("me"), clock);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  auto posts = server->Requests("POST", "/leases");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].path, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases");
  nlohmann::json body = nlohmann::json::parse(posts[0].body);
  EXPECT_EQ(body["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(body["kind"], "Lease");
  EXPECT_EQ(body["metadata"]["name"], "lock");
  EXPECT_EQ(body["metadata"]["namespace"], "kube-system");
  const nlohmann::json& spec = body["spec"];
  EXPECT_EQ(spec["holderIdentity"], "me");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["acquireTime"], "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(spec["renewTime"], spec["acquireTime"]);
  EXPECT_TRUE(IsMicroTime(spec["renewTime"]));
  // on_started_leading runs just after IsLeader() turns true.
  EXPECT_TRUE(WaitFor([&] { return h.started() == 1; }));
  EXPECT_THAT(h.leaders(), ElementsAre("me"));
  EXPECT_EQ(h.elector().ObservedLeader(), "me");
  h.StopAndJoin();
  EXPECT_EQ(h.stopped(), 1);
  EXPECT_FALSE(h.elector().IsLeader());
}

TEST(LeaderElectionTest, RenewsWithTheLastResourceVersionKeepingAcquireTime) {
  auto server = std::make_shared<FakeApiServer>();
  FakeClock clock(Jan2026());
  ElectorHarness h(server, FastOptions("me"), clock);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  clock.Advance(seconds(1));
  ASSERT_TRUE(WaitFor([&] { return server->Requests("PUT", "/leases/lock").size() >= 3; }));
  h.StopAndJoin();
  auto puts = server->Requests("PUT", "/leases/lock");
  std::string previous_rv = "101";  // the create's
  for (const auto& put : puts) {
    nlohmann::json body = nlohmann::json::parse(put.body);
    EXPECT_EQ(body["metadata"]["resourceVersion"], previous_rv);  // optimistic concurrency
    EXPECT_EQ(body["spec"]["holderIdentity"], "me");
    EXPECT_EQ(body["spec"]["acquireTime"], "2026-01-01T00:00:00.000000Z");
    EXPECT_EQ(body["spec"]["leaseTransitions"], 0);
    EXPECT_EQ(body["spec"]["leaseDurationSeconds"], 15);
    previous_rv = std::to_string(std::stoll(previous_rv) + 1);
  }
  // renewTime moves with the clock (renewals before the Advance carry 00:00:00).
  EXPECT_EQ(nlohmann::json::parse(puts.back().body)["spec"]["renewTime"],
            "2026-01-01T00:00:01.000000Z");
  // The fast path writes without reading first.
  EXPECT_EQ(server->Requests("GET", "/leases/lock").size(), 1u);
  EXPECT_EQ(h.stopped(), 1);
  EXPECT_EQ(server->Object(kLeasePath).value()["spec"]["holderIdentity"], "me");  // no release
}

TEST(LeaderElectionTest, WaitsOutAValidLeaseThenTakesItOver) {
  auto server = std::make_shared<FakeApiServer>();
  server->Put(kLeasePath, LeaseHeldBy("other"));
  FakeClock clock(Jan2026());
  ElectorHarness h(server, FastOptions("me"), clock);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return server->Requests("GET", "/leases/lock").size() >= 5; }));
  EXPECT_FALSE(h.elector().IsLeader());
  EXPECT_EQ(h.elector().ObservedLeader(), "other");
  EXPECT_TRUE(server->Requests("PUT", "/leases/lock").empty());
  EXPECT_THAT(h.leaders(), ElementsAre("other"));

  clock.Advance(seconds(14));  // not yet: 15 s since we first saw the record
  ASSERT_TRUE(WaitFor([&] { return server->Requests("GET", "/leases/lock").size() >= 10; }));
  EXPECT_TRUE(server->Requests("PUT", "/leases/lock").empty());

  clock.Advance(seconds(2));
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  auto puts = server->Requests("PUT", "/leases/lock");
  ASSERT_FALSE(puts.empty());
  nlohmann::json body = nlohmann::json::parse(puts[0].body);
  EXPECT_EQ(body["metadata"]["resourceVersion"], "101");  // the version read
  EXPECT_EQ(body["spec"]["holderIdentity"], "me");
  EXPECT_EQ(body["spec"]["leaseTransitions"], 4);
  EXPECT_EQ(body["spec"]["acquireTime"], "2026-01-01T00:00:16.000000Z");
  EXPECT_THAT(h.leaders(), ElementsAre("other", "me"));
  // on_started_leading runs just after IsLeader() turns true.
  EXPECT_TRUE(WaitFor([&] { return h.started() == 1; }));
}

TEST(LeaderElectionTest, ExpiryFollowsObservedChangesNotTheServersRenewTime) {
  auto server = std::make_shared<FakeApiServer>();
  nlohmann::json lease = LeaseHeldBy("other");
  lease["spec"]["renewTime"] = "2001-01-01T00:00:00.000000Z";  // a skewed clock, long ago
  server->Put(kLeasePath, lease);
  FakeClock clock(Jan2026());
  ElectorHarness h(server, FastOptions("me"), clock);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return server->Requests("GET", "/leases/lock").size() >= 3; }));
  EXPECT_FALSE(h.elector().IsLeader());  // an old renewTime is not an expired lease

  clock.Advance(seconds(10));
  lease["spec"]["renewTime"] = "2001-01-01T00:00:10.000000Z";  // the holder renews
  server->Put(kLeasePath, lease);
  std::size_t gets = server->Requests("GET", "/leases/lock").size();
  ASSERT_TRUE(WaitFor([&] { return server->Requests("GET", "/leases/lock").size() >= gets + 3; }));
  clock.Advance(seconds(10));  // 20 s since first seen, 10 s since the change: still valid
  gets = server->Requests("GET", "/leases/lock").size();
  ASSERT_TRUE(WaitFor([&] { return server->Requests("GET", "/leases/lock").size() >= gets + 3; }));
  EXPECT_FALSE(h.elector().IsLeader());
  EXPECT_TRUE(server->Requests("PUT", "/leases/lock").empty());

  clock.Advance(seconds(6));
  EXPECT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
}

TEST(LeaderElectionTest, ReleasedLeaseIsTakenAtOnce) {
  auto server = std::make_shared<FakeApiServer>();
  nlohmann::json lease = LeaseHeldBy("");
  lease["spec"]["leaseDurationSeconds"] = 1;
  server->Put(kLeasePath, lease);
  FakeClock clock(Jan2026());
  ElectorHarness h(server, FastOptions("me"), clock);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  nlohmann::json body = nlohmann::json::parse(server->Requests("PUT", "/leases/lock")[0].body);
  EXPECT_EQ(body["spec"]["leaseTransitions"], 4);
  EXPECT_EQ(body["spec"]["leaseDurationSeconds"], 15);
}

TEST(LeaderElectionTest, ConflictOnTakeoverIsRetriedLater) {
  auto server = std::make_shared<FakeApiServer>();
  server->Put(kLeasePath, LeaseHeldBy(""));
  std::atomic<int> conflicts{0};
  server->SetInterceptor([&](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (r.method == "PUT" && conflicts++ < 2) {
      return FakeApiServer::Error(
          NewResourceVersionConflict({"coordination.k8s.io", "leases"}, "lock"));
    }
    return std::nullopt;
  });
  ElectorHarness h(server, FastOptions("me"));
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  EXPECT_GE(conflicts.load(), 3);  // two refused takeovers, then one that won
  // on_started_leading runs just after IsLeader() turns true.
  EXPECT_TRUE(WaitFor([&] { return h.started() == 1; }));
}

TEST(LeaderElectionTest, FailingRenewalsLoseLeadershipAfterTheRenewDeadline) {
  auto server = std::make_shared<FakeApiServer>();
  FakeClock clock(Jan2026());
  ElectorHarness h(server, FastOptions("me"), clock);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  std::atomic<bool> failing{true};
  server->SetInterceptor([&](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (failing && r.path.find("/leases") != std::string::npos) {
      return FakeApiServer::Error(NewInternalError("etcd is sad"));
    }
    return std::nullopt;
  });
  std::size_t seen = server->Requests().size();
  ASSERT_TRUE(WaitFor([&] { return server->Requests().size() >= seen + 10; }));
  EXPECT_TRUE(h.elector().IsLeader());  // failures within the deadline are tolerated
  EXPECT_EQ(h.stopped(), 0);
  clock.Advance(seconds(9));
  seen = server->Requests().size();
  ASSERT_TRUE(WaitFor([&] { return server->Requests().size() >= seen + 5; }));
  EXPECT_EQ(h.stopped(), 0);
  clock.Advance(seconds(1));  // 10 s since the last successful renewal began
  ASSERT_TRUE(WaitFor([&] { return h.returned(); }));
  EXPECT_EQ(h.stopped(), 1);
  EXPECT_FALSE(h.elector().IsLeader());
  failing = false;
}

TEST(LeaderElectionTest, AnotherHolderMeansLeadershipIsLostAtOnce) {
  auto server = std::make_shared<FakeApiServer>();
  FakeClock clock(Jan2026());
  ElectorHarness h(server, FastOptions("me"), clock);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  server->Put(kLeasePath, LeaseHeldBy("usurper"));  // e.g. written over by hand
  ASSERT_TRUE(WaitFor([&] { return h.returned(); }));
  EXPECT_EQ(h.stopped(), 1);
  EXPECT_FALSE(h.elector().IsLeader());
  EXPECT_THAT(h.leaders(), ElementsAre("me", "usurper"));
  EXPECT_EQ(server->Object(kLeasePath).value()["spec"]["holderIdentity"], "usurper");
}

TEST(LeaderElectionTest, ReleaseOnStopClearsTheHolderAfterStoppedLeading) {
  auto server = std::make_shared<FakeApiServer>();
  LeaderElectionOptions o = FastOptions("me");
  o.release_on_stop = true;
  FakeClock clock(Jan2026());
  ElectorHarness h(server, o, clock);
  std::string holder_when_stopped;
  h.OnStopped([&] {
    holder_when_stopped =
        server->Object(kLeasePath).value()["spec"]["holderIdentity"].get<std::string>();
  });
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  h.StopAndJoin();
  EXPECT_EQ(holder_when_stopped, "me");  // the work stops before the lease is handed over
  nlohmann::json spec = server->Object(kLeasePath).value()["spec"];
  EXPECT_EQ(spec["holderIdentity"], "");
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_TRUE(IsMicroTime(spec["renewTime"]));
}

TEST(LeaderElectionTest, StopIsImmediateWhileWaiting) {
  auto server = std::make_shared<FakeApiServer>();
  server->Put(kLeasePath, LeaseHeldBy("other"));
  LeaderElectionOptions o = FastOptions("me");
  o.retry_period = milliseconds(60000);
  o.renew_deadline = milliseconds(100000);
  o.lease_duration = milliseconds(200000);
  ElectorHarness h(server, o);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return server->Requests("GET", "/leases/lock").size() == 1; }));
  auto started = std::chrono::steady_clock::now();
  h.StopAndJoin();
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
  EXPECT_EQ(h.started(), 0);
  EXPECT_EQ(h.stopped(), 0);  // never led, so never stopped leading
}

TEST(LeaderElectionTest, IsLeaderTurnsFalseAtTheDeadlineEvenWhileARequestHangs) {
  auto server = std::make_shared<FakeApiServer>();
  FakeClock clock(Jan2026());
  ElectorHarness h(server, FastOptions("me"), clock);
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return h.elector().IsLeader(); }));
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> hanging{false};
  server->SetInterceptor([&](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (r.method != "PUT") return std::nullopt;
    hanging = true;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return std::nullopt;
  });
  ASSERT_TRUE(WaitFor([&] { return hanging.load(); }));
  EXPECT_TRUE(h.elector().IsLeader());
  clock.Advance(seconds(10));
  EXPECT_FALSE(h.elector().IsLeader());  // no renewal began within renew_deadline
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  server->SetInterceptor(nullptr);
  ASSERT_TRUE(WaitFor([&] { return h.returned(); }));  // and Run() notices once it returns
  EXPECT_EQ(h.stopped(), 1);
}

}  // namespace
}  // namespace aidi::kube
