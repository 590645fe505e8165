#include "scheduler-extender/node_cache.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>

#include "base/log.h"
#include "kube/client/api.h"
#include "kube/core/json_fields.h"
#include "kube/runtime/projection.h"
#include "kube/runtime/store.h"
#include "kube/runtime/watcher.h"
#include "scheduler-extender/demand.h"

namespace aidi::extender {

const kube::ResourceRef kEdgeSites{"aidi.dev", "v1alpha1", "edgesites", "EdgeSite", false};

namespace {

using kube::Field;
using kube::StringField;
using nlohmann::json;

double NumberField(const json& object, const char* key) {
  const json& v = Field(object, key);
  if (!v.is_number()) return 0;
  double d = v.get<double>();
  return std::isfinite(d) && d > 0 ? d : 0;
}

std::int64_t JsonGpus(const json& q) {
  if (q.is_string()) return GpuQuantity(q.get_ref<const std::string&>());
  if (q.is_number_unsigned()) return GpuQuantity(std::to_string(q.get<std::uint64_t>()));
  if (q.is_number_integer()) return GpuQuantity(std::to_string(q.get<std::int64_t>()));
  return 0;
}

// nvidia.com/gpu.memory is MiB per GPU; GiB for the model, 0 when absent or not a number.
double MemoryGib(std::string_view mib) {
  if (mib.empty() || mib.size() > 12) return 0;
  double v = 0;
  for (char c : mib) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
  }
  return v / 1024.0;
}

template <typename Labels>
std::string Label(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : std::string(it->second);
}

// The offer's fields that come from the node alone.
costmodel::NodeOffer BaseOffer(std::string name, std::string site, std::string model,
                               std::string_view memory_mib, std::int64_t total, bool cordoned,
                               const costmodel::ThroughputTable& table) {
  costmodel::NodeOffer offer;
  offer.name = std::move(name);
  offer.site = std::move(site);
  offer.gpu_model = std::move(model);
  offer.total_gpus = static_cast<int>(total);
  offer.gpu_memory_gib = MemoryGib(memory_mib);
  offer.throughput = table.Lookup(offer.gpu_model);
  offer.maintenance = cordoned;
  return offer;
}

std::string PodKey(const json& pod) {
  const json& meta = Field(pod, "metadata");
  return StringField(meta, "namespace") + "/" + StringField(meta, "name");
}

}  // namespace

costmodel::Site SiteFromObject(const json& object) {
  costmodel::Site site;
  site.name = StringField(Field(object, "metadata"), "name");
  const json& spec = Field(object, "spec");
  if (auto type = costmodel::ParseSiteType(StringField(spec, "type")); type.ok()) {
    site.type = *type;
  }
  const json& link = Field(spec, "link");
  site.link.latency_ms = NumberField(link, "latencyMs");
  site.link.bandwidth_mbps = NumberField(link, "bandwidthMbps");
  site.link.egress_per_gb = NumberField(link, "egressCostPerGB");
  const json& cost = Field(spec, "cost");
  if (const json& prices = Field(cost, "gpuHour"); prices.is_object()) {
    for (const auto& [model, price] : prices.items()) {
      if (!price.is_number()) continue;
      double p = price.get<double>();
      site.gpu_hour.push_back({model, std::isfinite(p) && p > 0 ? p : 0});
    }
  }
  site.cpu_core_hour = NumberField(cost, "cpuCoreHour");
  const json& maintenance = Field(spec, "maintenance");
  site.maintenance = maintenance.is_boolean() && maintenance.get<bool>();
  return site;
}

// One watched resource: its watcher, store and thread.
struct NodeCache::Watch {
  std::string what;
  std::unique_ptr<kube::Watcher> watcher;
  std::unique_ptr<kube::Store> store;
  std::thread thread;
  std::atomic<bool> synced{false};
};

NodeCache::NodeCache(const costmodel::ThroughputTable& throughput)
    : throughput_(throughput), sites_(std::make_shared<costmodel::SiteDirectory>()) {}

NodeCache::~NodeCache() { Stop(); }

int NodeCache::FillFromSite(costmodel::NodeOffer* offer) const {
  const int index = sites_->IndexOf(offer->site);
  const costmodel::Site* site = index < 0 ? nullptr : &sites_->sites()[index];
  std::optional<double> price = site ? site->GpuHourPrice(offer->gpu_model) : std::nullopt;
  // Always set: an unset price would make the model look the site up again per request.
  offer->price_per_gpu_hour = price.value_or(0.0);
  return index;
}

void NodeCache::ApplyNode(const json& node) {
  const json& meta = Field(node, "metadata");
  std::string name = StringField(meta, "name");
  if (name.empty()) return;
  const json& labels = Field(meta, "labels");
  std::int64_t total = 0;
  const json& status = Field(node, "status");
  for (const char* list : {"allocatable", "capacity"}) {
    const json& q = Field(Field(status, list), kGpuResource);
    if (!q.is_null()) {
      total = JsonGpus(q);
      break;
    }
  }
  const json& cordon = Field(Field(node, "spec"), "unschedulable");
  costmodel::NodeOffer offer =
      BaseOffer(name, StringField(labels, kSiteLabel), StringField(labels, kGpuProductLabel),
                StringField(labels, kGpuMemoryLabel), total,
                cordon.is_boolean() && cordon.get<bool>(), throughput_);
  std::unique_lock lock(mu_);
  const int site_index = FillFromSite(&offer);
  const std::size_t before = nodes_.size();
  NodeEntry& entry = nodes_[name];
  if (nodes_.size() != before) ++generation_;
  entry.offer = std::move(offer);
  entry.site_index = site_index;
  entry.present = true;
}

void NodeCache::DeleteNode(const std::string& name) {
  std::unique_lock lock(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  if (it->second.used > 0) {
    it->second.present = false;  // its pods still count until they go
  } else {
    nodes_.erase(it);
    ++generation_;
  }
}

void NodeCache::ApplyPod(const json& pod) {
  std::string key = PodKey(pod);
  std::string uid = StringField(Field(pod, "metadata"), "uid");
  std::string node = StringField(Field(pod, "spec"), "nodeName");
  std::string phase = StringField(Field(pod, "status"), "phase");
  bool terminated = phase == "Succeeded" || phase == "Failed";
  std::int64_t gpus = node.empty() || terminated ? 0 : PodGpuRequest(pod);
  {
    std::unique_lock lock(mu_);
    ForgetPod(key);
    if (gpus > 0) {
      const std::size_t before = nodes_.size();
      nodes_[node].used += gpus;
      if (nodes_.size() != before) ++generation_;
      pods_[key] = PodEntry{uid, node, gpus};
    }
  }
  if (!node.empty() || terminated) NotifyPod(uid);
}

std::optional<NodeCache::PodEntry> NodeCache::ForgetPod(const std::string& key) {
  auto old = pods_.find(key);
  if (old == pods_.end()) return std::nullopt;
  PodEntry entry = std::move(old->second);
  pods_.erase(old);
  auto n = nodes_.find(entry.node);
  if (n != nodes_.end()) {
    n->second.used = std::max<std::int64_t>(0, n->second.used - entry.gpus);
    if (!n->second.present && n->second.used == 0) {  // only its pods kept it: gone now
      nodes_.erase(n);
      ++generation_;
    }
  }
  return entry;
}

void NodeCache::DeletePod(const json& pod) {
  std::string key = PodKey(pod);
  std::string uid = StringField(Field(pod, "metadata"), "uid");
  {
    std::unique_lock lock(mu_);
    if (std::optional<PodEntry> old = ForgetPod(key); old && uid.empty()) uid = old->uid;
  }
  if (!uid.empty()) NotifyPod(uid);
}

void NodeCache::RebuildSites() {
  std::vector<costmodel::Site> sites;
  sites.reserve(site_objects_.size());
  for (const auto& [name, site] : site_objects_) sites.push_back(site);
  sites_ = std::make_shared<costmodel::SiteDirectory>(std::move(sites));
  for (auto& [name, entry] : nodes_) {
    if (entry.present) entry.site_index = FillFromSite(&entry.offer);
  }
}

void NodeCache::ApplySite(const json& object) {
  costmodel::Site site = SiteFromObject(object);
  if (site.name.empty()) return;
  std::string currency = StringField(Field(Field(object, "spec"), "cost"), "currency");
  std::unique_lock lock(mu_);
  if (!currency.empty()) currency_ = currency;
  site_objects_[site.name] = std::move(site);
  RebuildSites();
}

void NodeCache::DeleteSite(const std::string& name) {
  std::unique_lock lock(mu_);
  if (site_objects_.erase(name) > 0) RebuildSites();
}

int NodeCache::AddPodListener(PodListener listener) {
  std::lock_guard lock(listeners_mu_);
  int id = next_listener_++;
  listeners_.emplace_back(id, std::make_shared<PodListener>(std::move(listener)));
  return id;
}

void NodeCache::RemovePodListener(int id) {
  std::lock_guard lock(listeners_mu_);
  std::erase_if(listeners_, [&](const auto& l) { return l.first == id; });
}

void NodeCache::NotifyPod(const std::string& uid) const {
  if (uid.empty()) return;
  std::vector<std::shared_ptr<PodListener>> listeners;
  {
    std::lock_guard lock(listeners_mu_);
    for (const auto& [id, l] : listeners_) listeners.push_back(l);
  }
  for (const auto& l : listeners) (*l)(uid);
}

void NodeCache::Start(std::shared_ptr<kube::Client> client) {
  struct Spec {
    const char* what;
    kube::ResourceRef resource;
    std::vector<std::string> paths;
    std::string field_selector;
  };
  const Spec specs[] = {
      {"nodes",
       kube::resources::kNodes,
       {"spec.unschedulable", "status.allocatable", "status.capacity"},
       ""},
      // Terminated pods hold nothing; leaving them out is kube-scheduler's own choice too.
      {"pods",
       kube::resources::kPods,
       {"spec.nodeName", "spec.containers[].resources", "spec.initContainers[].resources",
        "spec.initContainers[].restartPolicy", "status.phase"},
       "status.phase!=Succeeded,status.phase!=Failed"},
      {"edgesites", kEdgeSites, {"spec"}, ""},
  };
  for (const Spec& spec : specs) {
    auto watch = std::make_unique<Watch>();
    watch->what = spec.what;
    kube::StoreOptions store_options;
    auto projection = kube::Projection::Parse(spec.paths);
    // The paths above are constants that Projection accepts (node_cache_test checks them).
    if (!projection.ok()) std::abort();
    store_options.projection = std::move(*projection);
    watch->store = std::make_unique<kube::Store>(std::move(store_options));
    kube::WatcherOptions watcher_options;
    watcher_options.field_selector = spec.field_selector;
    watch->watcher = std::make_unique<kube::Watcher>(kube::Api(client, spec.resource, ""),
                                                     std::move(watcher_options));
    std::string what = spec.what;
    watch->store->Subscribe([this, what](const kube::StoreChange& change) {
      bool applied = change.type == kube::StoreChange::Type::kApplied;
      if (what == "nodes") {
        applied ? ApplyNode(change.object) : DeleteNode(change.key.name);
      } else if (what == "pods") {
        applied ? ApplyPod(change.object) : DeletePod(change.object);
      } else {
        applied ? ApplySite(change.object) : DeleteSite(change.key.name);
      }
    });
    watches_.push_back(std::move(watch));
  }
  for (auto& w : watches_) {
    Watch* watch = w.get();
    watch->thread = std::thread([watch] {
      watch->watcher->Run([watch](kube::WatcherEvent&& event) {
        bool done = event.type == kube::WatcherEvent::Type::kInitDone;
        watch->store->Apply(std::move(event));
        // After Apply: its subscribers (our snapshot) have seen the whole list by now.
        if (done && !watch->synced.exchange(true)) {
          log::Info("cache synced", {{"resource", watch->what}, {"objects", watch->store->size()}});
        }
      });
    });
  }
}

void NodeCache::Stop() {
  for (auto& w : watches_) w->watcher->Stop();
  for (auto& w : watches_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

bool NodeCache::synced() const {
  if (manually_synced_.load()) return true;
  if (watches_.empty()) return false;
  for (const auto& w : watches_) {
    if (!w->synced.load()) return false;
  }
  return true;
}

void NodeCache::MarkSynced() { manually_synced_ = true; }

std::optional<NodeCache::Usage> NodeCache::UsageOf(std::string_view node) const {
  std::shared_lock lock(mu_);
  auto it = nodes_.find(node);
  if (it == nodes_.end() || !it->second.present) return std::nullopt;
  return Usage{it->second.offer.total_gpus, it->second.used};
}

std::size_t NodeCache::node_count() const {
  std::shared_lock lock(mu_);
  std::size_t n = 0;
  for (const auto& [name, entry] : nodes_) n += entry.present ? 1 : 0;
  return n;
}

const NodeCache::NodeEntry* NodeCache::Reader::Find(std::string_view name) const {
  auto it = cache_.nodes_.find(name);
  return it == cache_.nodes_.end() || !it->second.present ? nullptr : &it->second;
}

std::uint64_t NodeCache::NewGenerationBase() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1) << 32;
}

const NodeCache::NodeEntry* NodeCache::Reader::FindAny(std::string_view name) const {
  auto it = cache_.nodes_.find(name);
  return it == cache_.nodes_.end() ? nullptr : &it->second;
}

std::uint64_t NodeCache::Reader::generation() const { return cache_.generation_; }

std::int64_t NodeCache::Reader::UsedOn(std::string_view name) const {
  auto it = cache_.nodes_.find(name);
  return it == cache_.nodes_.end() ? 0 : it->second.used;
}

const std::shared_ptr<const costmodel::SiteDirectory>& NodeCache::Reader::sites() const {
  return cache_.sites_;
}

const std::string& NodeCache::Reader::currency() const { return cache_.currency_; }

costmodel::NodeOffer NodeCache::Reader::OfferFor(const ExtenderNode& node) const {
  std::int64_t total = 0;
  for (const ResourceList* list : {&node.allocatable, &node.capacity}) {
    auto it = list->find(kGpuResource);
    if (it != list->end()) {
      total = GpuQuantity(it->second);
      break;
    }
  }
  costmodel::NodeOffer offer =
      BaseOffer(node.name, Label(node.labels, kSiteLabel), Label(node.labels, kGpuProductLabel),
                Label(node.labels, kGpuMemoryLabel), total, node.unschedulable, cache_.throughput_);
  cache_.FillFromSite(&offer);
  return offer;
}

}  // namespace aidi::extender
