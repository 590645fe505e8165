// NodeCache: the extender's view of the cluster for the hot path — per node what it offers
// (site, GPU model and memory, GPUs in total and in use), and the EdgeSites (prices, links,
// maintenance) as a costmodel::SiteDirectory.
//
// Fed by three watches (Nodes, Pods of all namespaces except Succeeded/Failed ones, EdgeSites),
// each through a kube::Watcher into a kube::Store whose change notifications update a compact
// snapshot: a costmodel::NodeOffer per node, filled once per node or site update (site from the
// label aidi.dev/site, model from nvidia.com/gpu.product, memory from nvidia.com/gpu.memory in
// MiB, total GPUs from allocatable nvidia.com/gpu, else capacity; price per GPU-hour from its
// site's cost.gpuHour[model], 0 when none; throughput from the ThroughputTable; a cordoned node
// is `maintenance`), and the GPUs that bound, non-terminated pods request on it (kube-scheduler's
// request rule, demand.h). A request never decodes cached JSON: it takes a Reader (a shared
// lock) and looks nodes up by name in O(1). The Apply*/Delete* methods are what the watch
// callbacks call; tests call them directly to feed a cache without an API server.
//
// Like every informer cache it lags the server: a pod bound a moment ago may not be counted
// yet. GpuLedger (gpu_ledger.h) covers that gap for the pods this extender binds.
//
// Thread safety: Apply*/Delete* may be called from any thread (the three watcher threads call
// them); readers (Read(), UsageOf(), synced()) from any number of threads at once. Pod
// listeners are called after the cache has changed, outside its lock, on the thread that
// applied the change. Start() and Stop() from one thread; the cache must outlive its readers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "costmodel/site_directory.h"
#include "costmodel/throughput.h"
#include "costmodel/types.h"
#include "kube/client/client.h"
#include "kube/core/resource.h"
#include "scheduler-extender/wire.h"

namespace aidi::extender {

// The labels the cache reads (shared/DESIGN.md, "Contracts between the parts").
inline constexpr char kSiteLabel[] = "aidi.dev/site";
inline constexpr char kGpuProductLabel[] = "nvidia.com/gpu.product";
inline constexpr char kGpuMemoryLabel[] = "nvidia.com/gpu.memory";  // MiB per GPU

// EdgeSites (aidi.dev/v1alpha1, cluster-scoped).
extern const kube::ResourceRef kEdgeSites;

// Transparent hashing, so string_view look-ups allocate nothing.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// An EdgeSite object (as served) to the cost model's Site. Ill-typed fields count as unset.
costmodel::Site SiteFromObject(const nlohmann::json& site);

class NodeCache {
 public:
  // GPUs in total and held by bound, non-terminated pods on one node.
  struct Usage {
    std::int64_t total = 0;
    std::int64_t used = 0;
  };
  // Called with a pod's uid once the cache accounts for it for good: it is bound to a node or
  // it is gone (deleted, or Succeeded/Failed).
  using PodListener = std::function<void(const std::string& uid)>;

  // `throughput` must outlive the cache.
  explicit NodeCache(
      const costmodel::ThroughputTable& throughput = costmodel::ThroughputTable::BuiltIn());
  ~NodeCache();  // stops the watches
  NodeCache(const NodeCache&) = delete;
  NodeCache& operator=(const NodeCache&) = delete;

  // ---- Feeding: the watch callbacks, or tests. ----
  void ApplyNode(const nlohmann::json& node);
  void DeleteNode(const std::string& name);
  void ApplyPod(const nlohmann::json& pod);
  void DeletePod(const nlohmann::json& pod);  // the last known object (metadata is enough)
  void ApplySite(const nlohmann::json& site);
  void DeleteSite(const std::string& name);

  // ---- Watching. ----
  // Starts one watcher thread each for Nodes, Pods and EdgeSites. Call once.
  void Start(std::shared_ptr<kube::Client> client);
  // Stops and joins the watchers. Idempotent.
  void Stop();
  // True once each of the three watches has delivered its first complete list (or, for a cache
  // that was never started, once MarkSynced() was called).
  bool synced() const;
  void MarkSynced();  // for caches fed by hand

  // Adds a listener (before Start, or before feeding by hand); it must outlive the cache's
  // feeding. Returns an id for RemovePodListener.
  int AddPodListener(PodListener listener);
  void RemovePodListener(int id);

  // ---- Reading. ----
  struct NodeEntry {
    costmodel::NodeOffer offer;  // free_gpus not filled: total_gpus − used − reservations
    std::int64_t used = 0;       // GPUs held by bound, non-terminated pods
    bool present = false;        // false: only pods name the node (not in the node cache)
    int site_index = -1;         // offer.site in the current SiteDirectory (-1: unknown)
  };

  // A consistent view for one request: holds the cache's shared lock until destroyed, so keep
  // it to one request's evaluation (writers wait for it).
  class Reader {
   public:
    // The node, or nullptr when the cache does not know it.
    const NodeEntry* Find(std::string_view name) const;
    // The entry even while its Node is deleted but its pods still count (present == false).
    const NodeEntry* FindAny(std::string_view name) const;
    // Counts node inserts and erases: an entry pointer found under an earlier reader stays
    // valid while this number is unchanged (updates change entries in place).
    std::uint64_t generation() const;
    // GPUs held by bound pods on a node the request names (known to the cache or not).
    std::int64_t UsedOn(std::string_view name) const;
    // The sites as of now; stays valid after the reader is gone.
    const std::shared_ptr<const costmodel::SiteDirectory>& sites() const;
    // The sites' currency: the last one an applied EdgeSite named, else "USD" (one currency for
    // all sites is assumed, as costmodel does).
    const std::string& currency() const;
    // A NodeOffer for a Node object of a request (the Nodes form): labels and allocatable from
    // the object, prices and throughput as the cache fills them.
    costmodel::NodeOffer OfferFor(const ExtenderNode& node) const;
    // Every node the cache knows, in no particular order.
    template <typename F>
    void ForEachNode(F&& f) const;

   private:
    friend class NodeCache;
    explicit Reader(const NodeCache& cache) : cache_(cache), lock_(cache.mu_) {}
    const NodeCache& cache_;
    std::shared_lock<std::shared_mutex> lock_;
  };
  Reader Read() const { return Reader(*this); }

  // Total and used GPUs of a node; nullopt when the node is not in the cache.
  std::optional<Usage> UsageOf(std::string_view node) const;
  std::size_t node_count() const;

 private:
  struct PodEntry {
    std::string uid;
    std::string node;
    std::int64_t gpus = 0;
  };
  struct Watch;

  // Fills the site-derived fields of an offer (price, maintenance is the node's own); returns
  // the site's index in sites_ (-1: unknown).
  int FillFromSite(costmodel::NodeOffer* offer) const;
  void NotifyPod(const std::string& uid) const;
  // Under mu_ (exclusive): drops the pod "ns/name" and the GPUs it held on its node (and the
  // node's entry when only pods kept it); the entry dropped, if there was one.
  std::optional<PodEntry> ForgetPod(const std::string& key);
  void RebuildSites();  // under mu_ (exclusive)

  const costmodel::ThroughputTable& throughput_;

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, NodeEntry, StringHash, std::equal_to<>> nodes_;
  // See Reader::generation(). Each cache starts at its own multiple of 2^32, so a generation
  // also tells caches apart (a memo never mistakes a new cache at an old address for the old).
  std::uint64_t generation_ = NewGenerationBase();
  static std::uint64_t NewGenerationBase();
  std::unordered_map<std::string, PodEntry> pods_;  // "ns/name" -> a pod holding GPUs
  std::unordered_map<std::string, costmodel::Site> site_objects_;
  std::shared_ptr<const costmodel::SiteDirectory> sites_;
  std::string currency_ = "USD";

  mutable std::mutex listeners_mu_;
  std::vector<std::pair<int, std::shared_ptr<PodListener>>> listeners_;
  int next_listener_ = 1;

  std::vector<std::unique_ptr<Watch>> watches_;
  std::atomic<bool> manually_synced_{false};
};

template <typename F>
void NodeCache::Reader::ForEachNode(F&& f) const {
  for (const auto& [name, entry] : cache_.nodes_) {
    if (entry.present) f(entry);
  }
}

}  // namespace aidi::extender
