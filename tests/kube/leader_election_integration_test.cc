// LeaderElector against the real aidi-devcluster: two candidates on one Lease with short
// timings (lease 2 s, renew deadline 1.5 s, retry 0.2 s).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "kube/client/api.h"
#include "kube/core/resource.h"
#include "kube/runtime/leader_election.h"
#include "tests/kube/devcluster_process.h"

namespace aidi::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr milliseconds kLeaseDuration{2000};

bool WaitFor(const std::function<bool()>& done, milliseconds limit) {
  auto deadline = steady_clock::now() + limit;
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

// One candidate: an elector running on its own thread, with its callbacks recorded.
class Candidate {
 public:
  Candidate(std::shared_ptr<Client> client, std::string identity, bool release_on_stop) {
    LeaderElectionOptions o;
    o.lease_namespace = "default";
    o.lease_name = "it-lock";
    o.identity = std::move(identity);
    o.lease_duration = kLeaseDuration;
    o.renew_deadline = milliseconds(1500);
    o.retry_period = milliseconds(200);
    o.release_on_stop = release_on_stop;
    LeaderCallbacks callbacks;
    callbacks.on_started_leading = [this] { ++started_; };
    callbacks.on_stopped_leading = [this] {
      std::lock_guard lock(mu_);
      stopped_at_ = steady_clock::now();
      ++stopped_;
    };
    auto made = LeaderElector::Create(std::move(client), o, std::move(callbacks));
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    elector_ = std::move(made).value();
    thread_ = std::thread([this] {
      elector_->Run();
      returned_ = true;
    });
  }
  ~Candidate() { StopAndJoin(); }

  void StopAndJoin() {
    elector_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  bool IsLeader() const { return elector_->IsLeader(); }
  const std::string& identity() const { return elector_->identity(); }
  int started() const { return started_; }
  int stopped() const { return stopped_; }
  bool returned() const { return returned_; }
  steady_clock::time_point stopped_at() {
    std::lock_guard lock(mu_);
    return stopped_at_;
  }

 private:
  std::unique_ptr<LeaderElector> elector_;
  std::thread thread_;
  std::atomic<int> started_{0};
  std::atomic<int> stopped_{0};
  std::atomic<bool> returned_{false};
  std::mutex mu_;
  steady_clock::time_point stopped_at_{};
};

class LeaderElectionIT : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dc_.Start().ok()); }

  // Electors want requests that fail fast rather than retry past the renew deadline.
  std::shared_ptr<Client> ElectorClient() {
    auto config = dc_.Config();
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    config->qps = 0;
    config->max_retries = 0;
    config->request_timeout = seconds(1);
    auto client = Client::Create(*config);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return *client;
  }
  nlohmann::json Lease() {
    auto client = dc_.NewClient();
    EXPECT_TRUE(client.ok());
    auto lease = Api(*client, resources::kLeases, "default").Get("it-lock");
    EXPECT_TRUE(lease.ok()) << lease.status().ToString();
    return lease.ok() ? *lease : nlohmann::json();
  }
  void ClearFaults() {
    auto client = dc_.NewClient();
    ASSERT_TRUE(client.ok());
    HttpRequest request;
    request.method = "DELETE";
    request.path = "/devcluster/faults";
    ASSERT_TRUE((*client)->Send(request).ok());
  }

  testing::DevclusterProcess dc_;
};

TEST_F(LeaderElectionIT, ExactlyOneCandidateLeadsAndHoldsTheLease) {
  Candidate a(ElectorClient(), "candidate-a", false);
  Candidate b(ElectorClient(), "candidate-b", false);
  ASSERT_TRUE(WaitFor([&] { return a.IsLeader() || b.IsLeader(); }, seconds(5)));
  int samples = 0, exactly_one = 0;
  for (; samples < 100; ++samples) {
    int leaders = int{a.IsLeader()} + int{b.IsLeader()};
    ASSERT_LE(leaders, 1) << "two leaders at sample " << samples;
    exactly_one += leaders == 1;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(exactly_one, samples);  // renewals every 200 ms keep the leader well inside 1.5 s
  Candidate& leader = a.IsLeader() ? a : b;
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], leader.identity());
  EXPECT_EQ(Lease()["spec"]["leaseDurationSeconds"], 2);
  EXPECT_EQ(a.started() + b.started(), 1);
}

TEST_F(LeaderElectionIT, ACrashedLeaderIsReplacedAfterTheLeaseDuration) {
  Candidate a(ElectorClient(), "candidate-a", /*release_on_stop=*/false);
  Candidate b(ElectorClient(), "candidate-b", /*release_on_stop=*/false);
  ASSERT_TRUE(WaitFor([&] { return a.IsLeader() || b.IsLeader(); }, seconds(5)));
  Candidate& leader = a.IsLeader() ? a : b;
  Candidate& follower = a.IsLeader() ? b : a;
  auto crashed = steady_clock::now();
  leader.StopAndJoin();  // no release: the lease is left as a crash leaves it
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], leader.identity());
  ASSERT_TRUE(WaitFor([&] { return follower.IsLeader(); }, 4 * kLeaseDuration));
  auto took = steady_clock::now() - crashed;
  EXPECT_GT(took, kLeaseDuration / 2);  // it waited for the lease to expire
  EXPECT_LT(took, 2 * kLeaseDuration);
  nlohmann::json spec = Lease()["spec"];
  EXPECT_EQ(spec["holderIdentity"], follower.identity());
  EXPECT_EQ(spec["leaseTransitions"], 1);
}

TEST_F(LeaderElectionIT, ReleaseOnStopHandsOverAtOnce) {
  Candidate a(ElectorClient(), "candidate-a", /*release_on_stop=*/true);
  Candidate b(ElectorClient(), "candidate-b", /*release_on_stop=*/true);
  ASSERT_TRUE(WaitFor([&] { return a.IsLeader() || b.IsLeader(); }, seconds(5)));
  Candidate& leader = a.IsLeader() ? a : b;
  Candidate& follower = a.IsLeader() ? b : a;
  auto stopped = steady_clock::now();
  leader.StopAndJoin();
  ASSERT_TRUE(WaitFor([&] { return follower.IsLeader(); }, 4 * kLeaseDuration));
  // A crash takes at least ~1.8 s here (see above); a release takes one retry (0.2-0.44 s).
  EXPECT_LT(steady_clock::now() - stopped, milliseconds(1500));
  EXPECT_EQ(leader.stopped(), 1);
  EXPECT_EQ(Lease()["spec"]["holderIdentity"], follower.identity());
}

TEST_F(LeaderElectionIT, FailingRenewalsEndLeadership) {
  Candidate a(ElectorClient(), "candidate-a", false);
  ASSERT_TRUE(WaitFor([&] { return a.IsLeader(); }, seconds(5)));
  auto failing = steady_clock::now();
  ASSERT_TRUE(
      dc_.Fault("errors", {{"verb", "update"}, {"resource", "leases"}, {"code", 500}}).ok());
  ASSERT_TRUE(WaitFor([&] { return a.returned(); }, seconds(5)));
  EXPECT_EQ(a.stopped(), 1);
  EXPECT_FALSE(a.IsLeader());
  // Renewals failed for the renew deadline (1.5 s after the last one that worked began).
  EXPECT_GT(a.stopped_at() - failing, milliseconds(1000));
  ClearFaults();
}

TEST_F(LeaderElectionIT, AnUnreachableServerEndsLeadership) {
  Candidate a(ElectorClient(), "candidate-a", false);
  ASSERT_TRUE(WaitFor([&] { return a.IsLeader(); }, seconds(5)));
  dc_.Kill();
  ASSERT_TRUE(WaitFor([&] { return a.returned(); }, seconds(5)));
  EXPECT_EQ(a.stopped(), 1);
  EXPECT_FALSE(a.IsLeader());
}

}  // namespace
}  // namespace aidi::kube
