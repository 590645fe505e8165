#include "kube/runtime/leader_election.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <utility>

#include "base/log.h"
#include "kube/core/resource.h"

namespace aidi::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// client-go's JitterUntil factor for the acquire loop.
constexpr double kJitterFactor = 1.2;

long long LeaseSeconds(milliseconds d) {
  long long s = (d.count() + 999) / 1000;  // round up: never announce less than we wait
  return s < 1 ? 1 : s;
}

std::string HolderOf(const nlohmann::json& spec) {
  if (!spec.is_object()) return "";
  auto it = spec.find("holderIdentity");
  return it != spec.end() && it->is_string() ? it->get<std::string>() : "";
}

long long TransitionsOf(const nlohmann::json& spec) {
  if (!spec.is_object()) return 0;
  auto it = spec.find("leaseTransitions");
  return it != spec.end() && it->is_number_integer() ? it->get<long long>() : 0;
}

}  // namespace

std::string DefaultLeaderIdentity() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "unknown");
  }
  std::random_device rd;
  std::string suffix;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(rd()));
    suffix += buf;
  }
  return std::string(host) + "_" + suffix;
}

StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(std::shared_ptr<Client> client,
                                                               LeaderElectionOptions options,
                                                               LeaderCallbacks callbacks,
                                                               const Clock& clock) {
  if (!client) return Status::InvalidArgument("leader election: no client");
  if (options.lease_namespace.empty() || options.lease_name.empty()) {
    return Status::InvalidArgument("leader election: lease namespace and name are required");
  }
  if (options.lease_duration.count() <= 0 || options.renew_deadline.count() <= 0 ||
      options.retry_period.count() <= 0) {
    return Status::InvalidArgument("leader election: durations must be positive");
  }
  if (options.lease_duration <= options.renew_deadline) {
    return Status::InvalidArgument(
        "leader election: lease_duration must be greater than renew_deadline");
  }
  if (static_cast<double>(options.renew_deadline.count()) <=
      kJitterFactor * static_cast<double>(options.retry_period.count())) {
    return Status::InvalidArgument(
        "leader election: renew_deadline must be greater than 1.2 * retry_period");
  }
  if (options.identity.empty()) options.identity = DefaultLeaderIdentity();
  // Renewals are retried by the elector every retry_period; the client must not retry on its
  // own (its waits could outlast the renew deadline), and a hung request must end well before it.
  auto timeout =
      std::min(client->config().request_timeout,
               std::chrono::duration_cast<std::chrono::milliseconds>(options.renew_deadline / 2));
  client = client->WithRetryPolicy(0, timeout);
  return std::unique_ptr<LeaderElector>(
      new LeaderElector(std::move(client), std::move(options), std::move(callbacks), clock));
}

LeaderElector::LeaderElector(std::shared_ptr<Client> client, LeaderElectionOptions options,
                             LeaderCallbacks callbacks, const Clock& clock)
    : leases_(std::move(client), resources::kLeases, options.lease_namespace),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      clock_(clock),
      rng_(std::random_device{}()) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

bool LeaderElector::Stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool LeaderElector::Wait(nanoseconds delay) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, delay, [this] { return stopping_; });
  return !stopping_;
}

nanoseconds LeaderElector::Jittered(nanoseconds period) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double extra = static_cast<double>(period.count()) * kJitterFactor * u(rng_);
  return period + nanoseconds(static_cast<nanoseconds::rep>(extra));
}

bool LeaderElector::IsLeader() const {
  if (!leading_.load()) return false;
  Clock::MonoTime renewed{Clock::MonoTime::duration{renewed_at_.load()}};
  return clock_.Monotonic() - renewed < options_.renew_deadline;
}

std::string LeaderElector::ObservedLeader() const {
  std::lock_guard lock(mu_);
  return observed_holder_;
}

nlohmann::json LeaderElector::DesiredSpec(bool renewing) const {
  std::string now = FormatRfc3339Micro(clock_.Now());
  nlohmann::json spec = {{"holderIdentity", options_.identity},
                         {"leaseDurationSeconds", LeaseSeconds(options_.lease_duration)},
                         {"acquireTime", now},
                         {"renewTime", now},
                         {"leaseTransitions", 0}};
  if (lease_) {
    const nlohmann::json& old = lease_->value("spec", nlohmann::json::object());
    long long transitions = TransitionsOf(old);
    if (renewing) {
      if (auto it = old.find("acquireTime"); it != old.end() && it->is_string()) {
        spec["acquireTime"] = *it;
      }
      spec["leaseTransitions"] = transitions;
    } else {
      spec["leaseTransitions"] = transitions + 1;
    }
  }
  return spec;
}

void LeaderElector::Observe(const nlohmann::json& lease) {
  nlohmann::json spec = lease.value("spec", nlohmann::json::object());
  if (spec != observed_spec_) {
    observed_spec_ = spec;
    observed_at_ = clock_.Monotonic();
  }
  lease_ = lease;
  std::lock_guard lock(mu_);
  observed_holder_ = HolderOf(spec);
}

bool LeaderElector::ObservedValid(Clock::MonoTime now) const {
  nanoseconds duration = options_.lease_duration;
  if (auto it = observed_spec_.find("leaseDurationSeconds");
      it != observed_spec_.end() && it->is_number_integer() && it->get<long long>() > 0) {
    duration = seconds(it->get<long long>());  // the holder's promise, as client-go reads it
  }
  return observed_at_ + duration > now;
}

void LeaderElector::ReportLeaderChange() {
  std::string holder = HolderOf(observed_spec_);
  if (holder.empty()) {
    reported_leader_.clear();  // released: whoever takes it next is news, even the same one
    return;
  }
  if (holder == reported_leader_) return;
  reported_leader_ = holder;
  log::Info("leader election: new leader",
            {{"lease", options_.lease_namespace + "/" + options_.lease_name},
             {"leader", holder},
             {"identity", options_.identity}});
  if (callbacks_.on_new_leader) callbacks_.on_new_leader(holder);
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenew() {
  const std::string& name = options_.lease_name;
  const std::string lease_key = options_.lease_namespace + "/" + name;

  // 1. Fast path: the leader renews the lease it wrote last, without reading it first.
  if (Leading() && lease_ && ObservedValid(clock_.Monotonic())) {
    nlohmann::json desired = *lease_;
    desired["spec"] = DesiredSpec(/*renewing=*/true);
    auto updated = leases_.Replace(name, desired);
    if (updated.ok()) {
      Observe(*updated);
      return Attempt::kHeld;
    }
    log::Debug("leader election: renewal failed, reading the lease",
               {{"lease", lease_key}, {"error", updated.status().ToString()}});
  }

  // 2. Read the lease; create it when there is none.
  auto got = leases_.GetIfExists(name);
  if (!got.ok()) {
    log::Warn("leader election: reading the lease failed",
              {{"lease", lease_key}, {"error", got.status().ToString()}});
    return Attempt::kFailed;
  }
  if (!got->has_value()) {
    lease_.reset();
    nlohmann::json lease = {{"apiVersion", resources::kLeases.ApiVersion()},
                            {"kind", resources::kLeases.kind},
                            {"metadata", {{"name", name}, {"namespace", options_.lease_namespace}}},
                            {"spec", DesiredSpec(/*renewing=*/false)}};
    auto created = leases_.Create(lease);
    if (!created.ok()) {
      // AlreadyExists: another candidate created it first; we read it next time.
      log::Debug("leader election: creating the lease failed",
                 {{"lease", lease_key}, {"error", created.status().ToString()}});
      return Attempt::kFailed;
    }
    Observe(*created);
    return Attempt::kHeld;
  }

  // 3. Someone's record: note when it changed, and respect a valid one held by another.
  Observe(**got);
  std::string holder = HolderOf(observed_spec_);
  if (!holder.empty() && holder != options_.identity) {
    // A leader that finds another holder has lost the lease, expired or not: it was written
    // over, so someone else believes they lead.
    if (Leading() || ObservedValid(clock_.Monotonic())) return Attempt::kHeldByOther;
  }

  // 4. Ours (renew, keeping acquireTime), released, or expired (take over): write it back with
  // the resourceVersion just read, so a concurrent writer makes this a Conflict.
  nlohmann::json desired = **got;
  desired["spec"] = DesiredSpec(/*renewing=*/holder == options_.identity);
  auto updated = leases_.Replace(name, desired);
  if (!updated.ok()) {
    log::Debug("leader election: updating the lease failed",
               {{"lease", lease_key}, {"error", updated.status().ToString()}});
    return Attempt::kFailed;
  }
  Observe(*updated);
  return Attempt::kHeld;
}

void LeaderElector::Release() {
  const std::string& name = options_.lease_name;
  for (int attempt = 0; attempt < 2 && lease_; ++attempt) {
    if (HolderOf(lease_->value("spec", nlohmann::json::object())) != options_.identity) return;
    nlohmann::json desired = *lease_;
    std::string now = FormatRfc3339Micro(clock_.Now());
    desired["spec"] = {{"holderIdentity", ""},
                       {"leaseDurationSeconds", 1},
                       {"acquireTime", now},
                       {"renewTime", now},
                       {"leaseTransitions", TransitionsOf(observed_spec_)}};
    auto updated = leases_.Replace(name, desired);
    if (updated.ok()) {
      Observe(*updated);
      log::Info(
          "leader election: released the lease",
          {{"lease", options_.lease_namespace + "/" + name}, {"identity", options_.identity}});
      return;
    }
    if (!updated.status().IsConflict()) {
      log::Warn("leader election: releasing the lease failed",
                {{"lease", options_.lease_namespace + "/" + name},
                 {"error", updated.status().ToString()}});
      return;
    }
    // Our copy was stale: read it again and release only if it is still ours.
    auto got = leases_.GetIfExists(name);
    if (!got.ok() || !got->has_value()) return;
    Observe(**got);
  }
}

void LeaderElector::Run() {
  const std::string lease_key = options_.lease_namespace + "/" + options_.lease_name;
  log::Info("leader election: trying to acquire the lease",
            {{"lease", lease_key}, {"identity", options_.identity}});

  // Acquire: retry every retry_period, jittered, until we hold the lease or are stopped.
  for (;;) {
    if (Stopping()) return;
    Clock::MonoTime started = clock_.Monotonic();
    Attempt attempt = TryAcquireOrRenew();
    ReportLeaderChange();
    if (attempt == Attempt::kHeld) {
      renewed_at_ = started.time_since_epoch().count();
      break;
    }
    if (!Wait(Jittered(options_.retry_period))) return;
  }
  leading_ = true;
  log::Info("leader election: acquired the lease",
            {{"lease", lease_key}, {"identity", options_.identity}});
  if (callbacks_.on_started_leading) callbacks_.on_started_leading();

  // Lead: renew every retry_period. Leadership ends when no renewal that began within
  // renew_deadline of the previous successful one has succeeded: IsLeader() has said false from
  // that moment on, so even a renewal that succeeds later (it hung) does not bring it back.
  bool stopped = false;
  nanoseconds next_wait = options_.retry_period;
  for (;;) {
    if (!Wait(next_wait)) {
      stopped = true;
      break;
    }
    const Clock::MonoTime renewed{Clock::MonoTime::duration{renewed_at_.load()}};
    const Clock::MonoTime started = clock_.Monotonic();
    Attempt attempt = TryAcquireOrRenew();
    ReportLeaderChange();
    if (attempt == Attempt::kHeldByOther) {
      log::Warn("leader election: another candidate holds the lease",
                {{"lease", lease_key},
                 {"identity", options_.identity},
                 {"holder", HolderOf(observed_spec_)}});
      break;
    }
    const nanoseconds left = renewed + options_.renew_deadline - clock_.Monotonic();
    if (left <= nanoseconds::zero()) {
      log::Warn("leader election: could not renew the lease within the deadline",
                {{"lease", lease_key},
                 {"identity", options_.identity},
                 {"renew_deadline_ms", static_cast<long long>(options_.renew_deadline.count())}});
      break;
    }
    if (attempt == Attempt::kHeld) {
      renewed_at_ = started.time_since_epoch().count();
      next_wait = options_.retry_period;
    } else {
      // Try again in retry_period, or right at the deadline if that comes first.
      next_wait = std::min<nanoseconds>(options_.retry_period, left);
    }
  }
  leading_ = false;
  log::Info(stopped ? "leader election: stopped leading (stop requested)"
                    : "leader election: lost the lease",
            {{"lease", lease_key}, {"identity", options_.identity}});
  if (callbacks_.on_stopped_leading) callbacks_.on_stopped_leading();
  // The work stopped in the callback above, so handing the lease over now is safe.
  if (stopped && options_.release_on_stop) Release();
}

}  // namespace aidi::kube
