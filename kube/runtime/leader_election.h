// LeaderElector: lets one of several replicas of a controller do the work, by holding a
// coordination.k8s.io/v1 Lease, as client-go's leaderelection package does.
//
// Protocol (client-go's, with a Lease lock):
//   - Acquire: every retry_period, stretched by a random factor in [1, 2.2) (client-go's
//     JitterUntil with factor 1.2), read the Lease. Absent: create it with us as holder. Held by
//     someone else: it counts as expired only when the record has not CHANGED for the holder's
//     leaseDurationSeconds, measured on our own monotonic clock from the moment we first saw the
//     current record (never from the server's renewTime, so clock skew between machines does
//     not matter). Expired, or released (holderIdentity empty): take it over with a Replace
//     carrying the resourceVersion we read, incrementing leaseTransitions; a Conflict means
//     another candidate won the race, and we try again later.
//   - Lead: on_started_leading, then renew (Replace with a new renewTime) every retry_period.
//     When no renewal has succeeded for renew_deadline, or a renewal finds another holder, the
//     leadership is lost: on_stopped_leading is called and Run() returns. The caller decides
//     what that means (exit the process, or step down and maybe Run() a new elector).
//   - Stop(): Run() returns; if we lead, on_stopped_leading is called first, then, with
//     release_on_stop, the Lease is released (holderIdentity cleared, leaseDurationSeconds 1)
//     so another candidate takes over at its next try instead of after lease_duration.
//
// Safety: lease_duration must exceed renew_deadline, so a leader that cannot renew gives up
// (renew_deadline after its last successful renewal started) before any other candidate may
// take over (lease_duration after it observed that renewal). IsLeader() enforces the deadline
// itself, so it turns false on time even while a request hangs; the elector talks through a
// copy of the client with no retries and a request timeout of at most renew_deadline / 2, so
// Run() itself stays responsive.
//
//   auto elector = LeaderElector::Create(client, {.lease_namespace = "aidi-system",
//                                                 .lease_name = "aidi-controller"},
//                                        {.on_started_leading = [&] { controller.Start(); },
//                                         .on_stopped_leading = [&] { std::exit(1); }});
//   (*elector)->Run();
//
// Thread safety: Run() is called by one thread, once; the callbacks run on that thread and must
// not block for long (start long work on another thread); Stop(), IsLeader() and
// ObservedLeader() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "kube/client/api.h"
#include "kube/client/client.h"

namespace aidi::kube {

struct LeaderElectionOptions {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per candidate; "" means DefaultLeaderIdentity()
  // How long others wait, after they last saw the lease change, before taking it over. Sent
  // to the server in whole seconds (at least 1).
  std::chrono::milliseconds lease_duration{15000};
  // How long the leader keeps retrying a failed renewal before giving up.
  std::chrono::milliseconds renew_deadline{10000};
  // Wait between tries (acquire: jittered; renew: exact).
  std::chrono::milliseconds retry_period{2000};
  // Release the lease on Stop() if we hold it (only safe when the work has stopped too).
  bool release_on_stop = false;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  // Called once when leadership ends for any reason (lost, or Stop()), never if it never began.
  std::function<void()> on_stopped_leading;
  // Called when the lease holder we observe changes to a non-empty identity (ours included).
  std::function<void(const std::string& identity)> on_new_leader;
};

// "<hostname>_<32 random hex digits>", like client-go's hostname + "_" + UUID.
std::string DefaultLeaderIdentity();

class LeaderElector {
 public:
  // Checks the options (names set, durations positive, lease_duration > renew_deadline >
  // 1.2 * retry_period, as client-go requires). `clock` must outlive the elector.
  static StatusOr<std::unique_ptr<LeaderElector>> Create(std::shared_ptr<Client> client,
                                                         LeaderElectionOptions options,
                                                         LeaderCallbacks callbacks,
                                                         const Clock& clock = Clock::Real());
  // Calls Stop(); destroy the elector only after Run() has returned.
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Blocks: acquires the lease, leads until the lease is lost or Stop(), then returns (see the
  // protocol above). Returns at once if Stop() came first. Call once.
  void Run();
  // Ends Run(): at once when it is waiting, else when the request in flight returns (bounded by
  // the client's request_timeout). Idempotent; safe before, during and after Run().
  void Stop();
  // True while we hold the lease and the last successful renewal began less than
  // renew_deadline ago.
  bool IsLeader() const;
  // The holder we last observed ("" before the first read, or when released).
  std::string ObservedLeader() const;
  const std::string& identity() const { return options_.identity; }

 private:
  LeaderElector(std::shared_ptr<Client> client, LeaderElectionOptions options,
                LeaderCallbacks callbacks, const Clock& clock);

  // What one acquire-or-renew attempt found.
  enum class Attempt {
    kHeld,         // we hold the lease now
    kHeldByOther,  // another candidate holds a valid lease, or wrote over ours
    kFailed,       // the request failed (network, 5xx, conflict): try again later
  };
  Attempt TryAcquireOrRenew();
  // Builds our Lease spec; keeps acquireTime and leaseTransitions when renewing.
  nlohmann::json DesiredSpec(bool renewing) const;
  // Records what the server holds; restarts the observed-time clock when the spec changed.
  void Observe(const nlohmann::json& lease);
  // The observed record is still valid (not expired) at monotonic time `now`.
  bool ObservedValid(Clock::MonoTime now) const;
  void ReportLeaderChange();
  void Release();
  // Waits `delay` unless Stop() comes first; false if stopping.
  bool Wait(std::chrono::nanoseconds delay);
  bool Stopping();
  std::chrono::nanoseconds Jittered(std::chrono::nanoseconds period);
  bool Leading() const { return leading_.load(); }

  Api leases_;
  LeaderElectionOptions options_;
  LeaderCallbacks callbacks_;
  const Clock& clock_;
  std::mt19937_64 rng_;

  // Owned by Run()'s thread.
  std::optional<nlohmann::json> lease_;  // the Lease as last read or written
  nlohmann::json observed_spec_;         // its spec
  Clock::MonoTime observed_at_{};        // when observed_spec_ last changed (monotonic)
  std::string reported_leader_;          // last identity given to on_new_leader

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;        // guarded by mu_
  std::string observed_holder_;  // guarded by mu_
  std::atomic<bool> leading_{false};
  std::atomic<Clock::MonoTime::rep> renewed_at_{0};  // start of the last successful renewal
};

}  // namespace aidi::kube
