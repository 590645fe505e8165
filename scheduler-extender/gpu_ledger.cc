#include "scheduler-extender/gpu_ledger.h"

#include <algorithm>
#include <vector>

namespace aidi::extender {

GpuLedger::GpuLedger(NodeCache* cache, GpuLedgerOptions options, const Clock& clock)
    : cache_(cache), options_(options), clock_(clock) {
  listener_id_ = cache_->AddPodListener([this](const std::string& uid) { Settled(uid); });
}

GpuLedger::~GpuLedger() { cache_->RemovePodListener(listener_id_); }

void GpuLedger::DropLocked(const std::string& uid) {
  auto it = by_pod_.find(uid);
  if (it == by_pod_.end()) return;
  auto n = by_node_.find(it->second.node);
  if (n != by_node_.end()) {
    n->second -= it->second.gpus;
    if (n->second <= 0) by_node_.erase(n);
  }
  by_pod_.erase(it);
}

void GpuLedger::SweepLocked() {
  if (by_pod_.empty()) return;
  const Clock::MonoTime now = clock_.Monotonic();
  std::vector<std::string> expired;
  for (const auto& [uid, r] : by_pod_) {
    if (now - r.at >= options_.ttl) expired.push_back(uid);
  }
  for (const std::string& uid : expired) DropLocked(uid);
  expired_total_ += expired.size();
}

Status GpuLedger::Reserve(const std::string& uid, const std::string& node, std::int64_t gpus) {
  std::lock_guard lock(mu_);
  SweepLocked();
  DropLocked(uid);
  if (gpus <= 0) return Status::Ok();
  std::optional<NodeCache::Usage> usage = cache_->UsageOf(node);
  if (!usage) {
    ++rejected_total_;
    return Status::NotFound("node " + node + " is not in the extender's node cache");
  }
  auto n = by_node_.find(node);
  std::int64_t reserved = n == by_node_.end() ? 0 : n->second;
  std::int64_t free = std::max<std::int64_t>(0, usage->total - usage->used - reserved);
  if (free < gpus) {
    ++rejected_total_;
    return Status::Conflict("node " + node + " has " + std::to_string(free) + " free GPU" +
                            (free == 1 ? "" : "s") + ", the pod needs " + std::to_string(gpus));
  }
  by_pod_[uid] = Reservation{node, gpus, clock_.Monotonic()};
  by_node_[node] += gpus;
  ++reserved_total_;
  return Status::Ok();
}

void GpuLedger::Release(const std::string& uid) {
  std::lock_guard lock(mu_);
  DropLocked(uid);
}

void GpuLedger::Settled(const std::string& uid) {
  std::lock_guard lock(mu_);
  DropLocked(uid);
}

std::optional<std::int64_t> GpuLedger::Free(std::string_view node) {
  std::lock_guard lock(mu_);
  SweepLocked();
  std::optional<NodeCache::Usage> usage = cache_->UsageOf(node);
  if (!usage) return std::nullopt;
  auto n = by_node_.find(node);
  std::int64_t reserved = n == by_node_.end() ? 0 : n->second;
  return std::max<std::int64_t>(0, usage->total - usage->used - reserved);
}

std::int64_t GpuLedger::ReservedOn(std::string_view node) {
  std::lock_guard lock(mu_);
  SweepLocked();
  auto n = by_node_.find(node);
  return n == by_node_.end() ? 0 : n->second;
}

GpuLedger::ReservedMap GpuLedger::ReservedByNode() {
  std::lock_guard lock(mu_);
  SweepLocked();
  return by_node_;
}

std::size_t GpuLedger::size() {
  std::lock_guard lock(mu_);
  SweepLocked();
  return by_pod_.size();
}

}  // namespace aidi::extender
