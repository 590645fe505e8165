#include "scheduler-extender/handlers.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <utility>
#include <vector>

#include "base/log.h"
#include "costmodel/evaluate.h"
#include "costmodel/explain.h"
#include "kube/client/api.h"
#include "kube/core/json_fields.h"
#include "kube/core/request.h"
#include "scheduler-extender/demand.h"

namespace aidi::extender {
namespace {

using kube::Field;
using kube::StringField;
using nlohmann::json;

constexpr char kNotCached[] = "node is not in the aidi extender's node cache yet";

// Per-thread buffers reused across requests (their strings keep their capacity), so a request
// allocates little beyond its answer. HttpServer runs each connection on its own thread.
struct Scratch {
  std::vector<costmodel::NodeOffer> request_offers;  // the Nodes form: offers from the request
  std::vector<costmodel::OfferRef> refs;             // the candidates the cache knows
  std::vector<std::size_t> slots;                    // refs[i] is candidate slots[i]
  std::vector<costmodel::NodeEstimate> estimates;    // estimates[i] is refs[i]'s
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

const std::string& CandidateName(const ExtenderArgs& args, std::size_t i) {
  return args.node_names ? (*args.node_names)[i] : (*args.nodes)[i].name;
}

std::size_t CandidateCount(const ExtenderArgs& args) {
  return args.node_names ? args.node_names->size() : args.nodes ? args.nodes->size() : 0;
}

// GPUs free on a node now: its total less those held by pods and reserved by recent binds.
int FreeGpus(const costmodel::NodeOffer& offer, std::int64_t used,
             const GpuLedger::ReservedMap& reserved) {
  std::int64_t held = used;
  if (!reserved.empty()) {
    auto it = reserved.find(offer.name);
    if (it != reserved.end()) held += it->second;
  }
  return static_cast<int>(
      std::max<std::int64_t>(0, static_cast<std::int64_t>(offer.total_gpus) - held));
}

double Finite(double v) { return std::isfinite(v) ? v : 0; }

// The API server's PodClient.
class KubePodClient final : public PodClient {
 public:
  explicit KubePodClient(std::shared_ptr<kube::Client> client) : client_(std::move(client)) {}

  StatusOr<json> GetPod(const std::string& ns, const std::string& name) override {
    return kube::Api(client_, kube::resources::kPods, ns).Get(name);
  }

  Status Annotate(const std::string& ns, const std::string& name, const std::string& uid,
                  const json& annotations) override {
    json meta = {{"annotations", annotations}};
    // A uid in a patch is a precondition: the API server refuses a patch whose uid differs.
    if (!uid.empty()) meta["uid"] = uid;
    kube::PatchParams params;
    params.field_manager = "aidi-scheduler-extender";
    auto patched = kube::Api(client_, kube::resources::kPods, ns)
                       .Patch(name, kube::PatchType::kMerge, {{"metadata", meta}}, params);
    return patched.ok() ? Status::Ok() : patched.status();
  }

  Status Bind(const std::string& ns, const std::string& name, const std::string& uid,
              const std::string& node) override {
    json metadata = {{"name", name}, {"namespace", ns}};
    if (!uid.empty()) metadata["uid"] = uid;
    json binding = {{"apiVersion", "v1"},
                    {"kind", "Binding"},
                    {"metadata", metadata},
                    {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
    // RequestBuilder has no subresource POST: the binding is built here from its object path.
    kube::RequestBuilder pods(kube::resources::kPods, ns);
    kube::HttpRequest request;
    request.method = "POST";
    request.path = pods.ObjectPath(name) + "/binding";
    request.body = binding.dump();
    request.content_type = "application/json";
    auto sent = client_->Send(request);
    return sent.ok() ? Status::Ok() : sent.status();
  }

 private:
  std::shared_ptr<kube::Client> client_;
};

}  // namespace

std::unique_ptr<PodClient> NewKubePodClient(std::shared_ptr<kube::Client> client) {
  return std::make_unique<KubePodClient>(std::move(client));
}

json Placement::ToJson() const {
  return {{"node", node},
          {"site", site},
          {"score", score},
          {"estSeconds", Finite(est_seconds)},
          {"estCost", Finite(est_cost)},
          {"transferSeconds", Finite(transfer_seconds)},
          {"reason", reason}};
}

Handlers::Handlers(NodeCache* cache, GpuLedger* ledger, PodClient* pods,
                   const costmodel::ThroughputTable& throughput)
    : cache_(cache), ledger_(ledger), pods_(pods), throughput_(throughput) {}

namespace {

// The cache entries of `names` (nullptr: unknown), looked up by name. kube-scheduler sends the
// same candidate lists again and again (every node for filter, the passed ones for
// prioritize), so each thread remembers its last two lists and their entries: while the cache
// has had no node added or removed, a list equal to one of them costs a string comparison per
// name instead of a hash look-up (a cache miss or two each at thousands of nodes).
const std::vector<const NodeCache::NodeEntry*>& Resolve(const NodeCache::Reader& reader,
                                                        const std::vector<std::string>& names) {
  struct Memo {
    std::uint64_t generation = 0;  // unique per cache too: see NodeCache::Reader::generation()
    std::vector<std::string> names;
    std::vector<const NodeCache::NodeEntry*> entries;
  };
  thread_local Memo memos[2];
  thread_local int next = 0;
  for (Memo& m : memos) {
    if (m.generation == reader.generation() && m.names == names) {
      return m.entries;
    }
  }
  Memo& m = memos[next];
  next = 1 - next;
  m.generation = reader.generation();
  m.names = names;
  m.entries.resize(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) m.entries[i] = reader.FindAny(names[i]);
  return m.entries;
}

// Points s->refs at the candidates the cache knows, with their free GPUs now. The NodeNames form
// points into the cache itself, so `reader` must outlive every use of s->refs.
void Gather(const NodeCache::Reader& reader, const ExtenderArgs& args,
            const GpuLedger::ReservedMap& reserved, Scratch* s) {
  s->refs.clear();
  s->slots.clear();
  if (args.node_names) {
    const auto& names = *args.node_names;
    const std::vector<const NodeCache::NodeEntry*>& entries = Resolve(reader, names);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const NodeCache::NodeEntry* entry = entries[i];
      if (entry == nullptr || !entry->present) continue;
      s->refs.push_back(
          {&entry->offer, FreeGpus(entry->offer, entry->used, reserved), entry->site_index});
      s->slots.push_back(i);
    }
  } else if (args.nodes) {
    const auto& nodes = *args.nodes;
    s->request_offers.resize(nodes.size());  // not resized again below: the refs stay valid
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      costmodel::NodeOffer& offer = s->request_offers[i];
      offer = reader.OfferFor(nodes[i]);
      s->refs.push_back({&offer, FreeGpus(offer, reader.UsedOn(nodes[i].name), reserved), -1});
      s->slots.push_back(i);
    }
  }
}

// Evaluates the request's candidates with the cost model and calls use(s) with the results
// (s.refs, s.slots, s.estimates) while the cache's shared lock is held (s.refs point into it).
template <typename F>
void EvaluateCandidates(const NodeCache& cache, GpuLedger& ledger,
                        const costmodel::ThroughputTable& throughput, const ExtenderArgs& args,
                        const costmodel::Demand& demand, F&& use) {
  Scratch& s = ThreadScratch();
  const GpuLedger::ReservedMap reserved = ledger.ReservedByNode();
  auto reader = cache.Read();
  Gather(reader, args, reserved, &s);
  costmodel::Estimator estimator(*reader.sites(), throughput);
  costmodel::Evaluate(estimator, demand, s.refs, &s.estimates);
  use(static_cast<const Scratch&>(s));
}

// Filter reasons repeat across nodes of one request (every L4 node "is not" the H100 a stage
// wants): a message is built once per distinct wording (costmodel::SameFilterMessage).
class FilterMessages {
 public:
  const std::string& For(const costmodel::NodeEstimate& e, const costmodel::OfferRef& ref,
                         const costmodel::Demand& demand) {
    const costmodel::NodeOffer& node = *ref.offer;
    for (const Entry& m : memo_) {
      if (m.reason == e.reason &&
          costmodel::SameFilterMessage(e.reason, m.node, m.node.free_gpus, m.latency_ms, node,
                                       ref.free_gpus, e.latency_ms)) {
        return m.message;
      }
    }
    if (memo_.size() >= kMaxEntries) memo_.clear();
    Entry& m = memo_.emplace_back();
    m.reason = e.reason;
    m.node = node;  // once per distinct message
    m.node.free_gpus = ref.free_gpus;
    m.latency_ms = e.latency_ms;
    m.message = costmodel::FilterMessage(e, m.node, demand);
    return m.message;
  }

 private:
  static constexpr std::size_t kMaxEntries = 32;
  struct Entry {
    costmodel::FilterReason reason;
    costmodel::NodeOffer node;
    double latency_ms = 0;
    std::string message;
  };
  std::vector<Entry> memo_;
};

}  // namespace

ExtenderFilterResult Handlers::Filter(const ExtenderArgs& args) const {
  ExtenderFilterResult result;
  const std::size_t n = CandidateCount(args);
  auto demand = DemandOf(args.pod);
  if (!demand.ok()) {
    for (std::size_t i = 0; i < n; ++i) {
      result.failed_and_unresolvable_nodes[CandidateName(args, i)] = demand.status().message();
    }
    return result;
  }
  EvaluateCandidates(*cache_, *ledger_, throughput_, args, *demand, [&](const Scratch& s) {
    result.passed.reserve(s.refs.size());
    FilterMessages messages;
    std::size_t next = 0;  // walks s.slots, which is in candidate order
    for (std::size_t i = 0; i < n; ++i) {
      const std::string& name = CandidateName(args, i);
      if (next >= s.slots.size() || s.slots[next] != i) {
        result.failed_nodes[name] = kNotCached;
        continue;
      }
      const costmodel::NodeEstimate& e = s.estimates[next];
      if (e.feasible()) {
        result.passed.push_back(name);
      } else {
        (costmodel::IsUnresolvable(e.reason) ? result.failed_and_unresolvable_nodes
                                             : result.failed_nodes)[name] =
            messages.For(e, s.refs[next], *demand);
      }
      ++next;
    }
  });
  return result;
}

HostPriorityList Handlers::Prioritize(const ExtenderArgs& args) const {
  const std::size_t n = CandidateCount(args);
  HostPriorityList list(n);
  for (std::size_t i = 0; i < n; ++i) list[i].host = CandidateName(args, i);
  auto demand = DemandOf(args.pod);
  if (!demand.ok()) return list;
  EvaluateCandidates(*cache_, *ledger_, throughput_, args, *demand, [&](const Scratch& s) {
    for (std::size_t k = 0; k < s.slots.size(); ++k) {
      list[s.slots[k]].score = std::clamp<std::int64_t>(s.estimates[k].score, kMinExtenderPriority,
                                                        kMaxExtenderPriority);
    }
  });
  return list;
}

Placement Handlers::PlacementFor(const costmodel::Demand& demand, const std::string& node) const {
  Placement placement;
  placement.node = node;
  // Every node the cache knows, copied: a bind is rare next to filter and prioritize, and the
  // explanation reads the offers after the cache's lock is released.
  std::vector<costmodel::NodeOffer> offers;
  std::vector<costmodel::NodeEstimate> estimates;
  std::shared_ptr<const costmodel::SiteDirectory> sites;
  std::string currency;
  std::optional<std::size_t> chosen;
  {
    GpuLedger::ReservedMap reserved = ledger_->ReservedByNode();
    auto reader = cache_->Read();
    sites = reader.sites();
    currency = reader.currency();
    reader.ForEachNode([&](const NodeCache::NodeEntry& entry) {
      if (entry.offer.name == node) chosen = offers.size();
      costmodel::NodeOffer& offer = offers.emplace_back(entry.offer);
      offer.free_gpus = FreeGpus(offer, entry.used, reserved);
    });
  }
  if (!chosen) {
    placement.reason = "node " + node + " is not in the aidi extender's node cache";
    return placement;
  }
  costmodel::Estimator estimator(*sites, throughput_);
  std::optional<std::size_t> best = costmodel::Evaluate(estimator, demand, offers, &estimates);
  const costmodel::NodeEstimate& e = estimates[*chosen];
  const costmodel::NodeOffer& offer = offers[*chosen];
  placement.site = offer.site;
  placement.score = e.score;
  placement.est_seconds = e.finish_seconds;
  placement.est_cost = e.money;
  placement.transfer_seconds = e.transfer_seconds;
  if (!e.feasible()) {
    placement.reason = "scheduler's choice; the cost model filters it: " +
                       costmodel::FilterMessage(e, offer, demand);
  } else if (best && *best != *chosen) {
    placement.reason = "scheduler's choice (model score " + std::to_string(e.score) +
                       "/10); the model preferred " + offers[*best].name + ": " +
                       costmodel::ExplainChoice(demand, offers, estimates, *best, currency);
  } else {
    placement.reason = costmodel::ExplainChoice(demand, offers, estimates, *chosen, currency);
  }
  return placement;
}

std::string Handlers::Bind(const ExtenderBindingArgs& args) {
  const std::string pod_name = args.pod_namespace + "/" + args.pod_name;
  if (pods_ == nullptr) return "the extender has no API client to bind with";
  auto pod = pods_->GetPod(args.pod_namespace, args.pod_name);
  if (!pod.ok()) return "cannot read pod " + pod_name + ": " + pod.status().message();
  const json& meta = Field(*pod, "metadata");
  std::string uid = StringField(meta, "uid");
  if (!args.pod_uid.empty() && !uid.empty() && uid != args.pod_uid) {
    return "pod " + pod_name + " has uid " + uid + ", not " + args.pod_uid +
           " (it was deleted and created again)";
  }
  if (uid.empty()) uid = args.pod_uid;
  std::string bound = StringField(Field(*pod, "spec"), "nodeName");
  if (bound == args.node) return "";  // a retried bind that already happened
  if (!bound.empty()) return "pod " + pod_name + " is already bound to node " + bound;
  auto demand = DemandOf(*pod);
  if (!demand.ok()) return demand.status().message();

  Placement placement = PlacementFor(*demand, args.node);
  std::int64_t gpus = std::max<std::int64_t>(PodGpuRequest(*pod), demand->gpus);
  // The ledger key: the uid, or the name for a pod without one (never from an API server).
  const std::string key = uid.empty() ? pod_name : uid;
  if (Status s = ledger_->Reserve(key, args.node, gpus); !s.ok()) {
    return "cannot reserve GPUs: " + s.message();
  }
  json annotations = {{kPlacementAnnotation, placement.ToJson().dump()}};
  if (Status s = pods_->Annotate(args.pod_namespace, args.pod_name, uid, annotations); !s.ok()) {
    ledger_->Release(key);
    return "cannot annotate pod " + pod_name + ": " + s.message();
  }
  if (Status s = pods_->Bind(args.pod_namespace, args.pod_name, uid, args.node); !s.ok()) {
    ledger_->Release(key);
    return "cannot bind pod " + pod_name + " to " + args.node + ": " + s.message();
  }
  log::Info("bound", {{"pod", pod_name},
                      {"node", args.node},
                      {"site", placement.site},
                      {"gpus", static_cast<long long>(gpus)},
                      {"score", placement.score},
                      {"reason", placement.reason}});
  return "";
}

}  // namespace aidi::extender
