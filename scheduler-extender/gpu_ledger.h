// GpuLedger: the GPUs this extender has promised to pods it is binding, so that a burst of
// binds never over-allocates a node, even before the watch shows the bindings.
//
// A reservation maps a pod (by uid) to a node and a GPU count. A node's free GPUs are
//   allocatable − used (NodeCache: bound, non-terminated pods) − reserved (here)
// Reserve() checks and reserves atomically under one mutex, so concurrent binds to one node
// can never together take more than it has. A reservation ends when:
//   - the NodeCache reports the pod settled (bound to a node, or gone): from then on the cache
//     counts it. The cache updates its counts before it tells the ledger, so a pod is counted
//     twice for a moment (conservative), never zero times;
//   - Release(): the bind failed;
//   - its TTL (default 60 s) passes: a bind whose watch event never came (the pod was deleted
//     while the watch was down, say) must not hold GPUs for ever.
// Free() and ReservedByNode() are what the filter subtracts.
//
// Thread safety: every method may be called from any thread. Lock order: the ledger's mutex,
// then the cache's shared lock (the cache never calls the ledger while holding its own). The
// cache must outlive the ledger; the ledger registers itself as the cache's pod listener and
// removes itself when destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"
#include "base/status.h"
#include "scheduler-extender/node_cache.h"

namespace aidi::extender {

struct GpuLedgerOptions {
  std::chrono::milliseconds ttl = std::chrono::seconds(60);
};

class GpuLedger {
 public:
  // Reservations per node: node name -> GPUs reserved there.
  using ReservedMap = std::unordered_map<std::string, std::int64_t, StringHash, std::equal_to<>>;

  explicit GpuLedger(NodeCache* cache, GpuLedgerOptions options = {},
                     const Clock& clock = Clock::Real());
  ~GpuLedger();
  GpuLedger(const GpuLedger&) = delete;
  GpuLedger& operator=(const GpuLedger&) = delete;

  // Reserves `gpus` on `node` for the pod `uid` if that many are free (a reservation the pod
  // already holds is replaced, not added to). `gpus` <= 0 reserves nothing and succeeds.
  // NotFound when the cache does not know the node; Conflict ("node n1 has 1 free GPU, the pod
  // needs 2") when too few are free.
  [[nodiscard]] Status Reserve(const std::string& uid, const std::string& node, std::int64_t gpus);
  // Drops the pod's reservation (a failed bind). No-op when it has none.
  void Release(const std::string& uid);
  // The cache accounts for the pod now: drop its reservation.
  void Settled(const std::string& uid);

  // allocatable − used − reserved, never below 0; nullopt when the cache does not know the node.
  std::optional<std::int64_t> Free(std::string_view node);
  // GPUs reserved on one node.
  std::int64_t ReservedOn(std::string_view node);
  // Every node with a reservation (usually few), expired ones dropped first.
  ReservedMap ReservedByNode();

  std::size_t size();  // live reservations
  // Counters for /metrics.
  std::uint64_t reserved_total() const { return reserved_total_.load(); }
  std::uint64_t rejected_total() const { return rejected_total_.load(); }
  std::uint64_t expired_total() const { return expired_total_.load(); }

 private:
  struct Reservation {
    std::string node;
    std::int64_t gpus = 0;
    Clock::MonoTime at;
  };
  void SweepLocked();
  void DropLocked(const std::string& uid);

  NodeCache* cache_;
  GpuLedgerOptions options_;
  const Clock& clock_;
  int listener_id_ = 0;

  std::mutex mu_;
  std::unordered_map<std::string, Reservation> by_pod_;
  ReservedMap by_node_;

  std::atomic<std::uint64_t> reserved_total_{0};
  std::atomic<std::uint64_t> rejected_total_{0};
  std::atomic<std::uint64_t> expired_total_{0};
};

}  // namespace aidi::extender
