#include "costmodel/estimate.h"

#include <algorithm>
#include <cmath>

#include "costmodel/format.h"

namespace aidi::costmodel {
namespace {

// Every estimate stays in [0, kMaxValue]: finite, so sums and ratios downstream never see
// infinities or NaN (1e18 s is 30 billion years; 1e18 in money is beyond any budget).
constexpr double kMaxValue = 1e18;

double Clean(double v) { return std::isfinite(v) && v > 0 ? std::min(v, kMaxValue) : 0; }
double Clamp(double v) { return std::isnan(v) ? kMaxValue : std::clamp(v, 0.0, kMaxValue); }

// The demand's numbers with bad values repaired once per request.
struct CleanDemand {
  int gpus;
  double gpu_memory_gib;
  double cpu_cores;
  double work;
  double bytes;
  std::optional<double> max_latency_ms;
};

CleanDemand Repair(const Demand& d) {
  CleanDemand c;
  c.gpus = std::max(d.gpus, 0);
  c.gpu_memory_gib = Clean(d.gpu_memory_gib);
  c.cpu_cores = Clean(d.cpu_cores);
  c.work = Clean(d.work_gpu_seconds);
  c.bytes = Clean(static_cast<double>(d.input_bytes));
  if (d.max_latency_ms && !std::isnan(*d.max_latency_ms)) {
    c.max_latency_ms = std::max(*d.max_latency_ms, 0.0);
  }
  return c;
}

bool Allowed(const Demand& d, std::string_view site) {
  if (!d.allowed_sites) return true;
  return std::find(d.allowed_sites->begin(), d.allowed_sites->end(), site) !=
         d.allowed_sites->end();
}

// What depends on the node's site only, computed once per site per request.
struct SiteTerms {
  bool allowed = true;
  Transfer transfer;
};

SiteTerms TermsFor(const Demand& d, const CleanDemand& c, std::string_view site_name,
                   const Site* site, const Site* input_site) {
  SiteTerms t;
  t.allowed = Allowed(d, site_name);
  if (c.bytes > 0 && site_name != d.input_site) {
    t.transfer = PlanTransfer(c.bytes, input_site ? &input_site->link : nullptr,
                              site ? &site->link : nullptr);
  }
  return t;
}

// The per-node work shared by EstimateAll and EstimateOne.
NodeEstimate EstimateNode(const Demand& d, const CleanDemand& c, const NodeOffer& node,
                          int free_gpus, const Site* site, const SiteTerms& terms,
                          const ThroughputTable& table) {
  NodeEstimate e;
  e.latency_ms = site ? Clean(site->link.latency_ms) : 0;
  e.transfer_seconds = terms.transfer.seconds;
  e.egress_money = terms.transfer.egress_money;

  // Throughput and price are computed for every node, feasible or not, so a filtered node's
  // estimate still says what it would have cost.
  if (node.throughput && std::isfinite(*node.throughput) && *node.throughput > 0) {
    e.throughput = std::min(*node.throughput, kMaxValue);
  } else {
    e.throughput = table.Lookup(node.gpu_model);
  }
  if (node.price_per_gpu_hour) {
    e.price_per_gpu_hour = Clean(*node.price_per_gpu_hour);
  } else if (site) {
    e.price_per_gpu_hour = Clean(site->GpuHourPrice(node.gpu_model).value_or(0));
  }

  if (c.gpus > 0) {
    e.compute_seconds = Clamp(c.work / (e.throughput * c.gpus));
  } else {
    e.compute_seconds = c.work;  // a CPU-only stage: work is wall seconds
  }
  e.run_seconds = Clamp(Clean(node.queued_seconds) + e.compute_seconds);
  e.finish_seconds = Clamp(e.transfer_seconds + e.run_seconds);
  double hours = e.compute_seconds / 3600;
  double cpu_core_hour = site ? Clean(site->cpu_core_hour) : 0;
  e.compute_money = Clamp((c.gpus * e.price_per_gpu_hour + c.cpu_cores * cpu_core_hour) * hours);
  e.money = Clamp(e.compute_money + e.egress_money);

  // Filters, first failure wins (the order the header documents).
  if (node.maintenance || (site && site->maintenance)) {
    e.reason = FilterReason::kMaintenance;
  } else if (!terms.allowed) {
    e.reason = FilterReason::kSiteNotAllowed;
  } else if (c.max_latency_ms && e.latency_ms > *c.max_latency_ms) {
    e.reason = FilterReason::kLatencyTooHigh;
  } else if (c.gpus > 0 && !d.gpu_model.empty() && node.gpu_model != d.gpu_model) {
    e.reason = FilterReason::kGpuModelMismatch;
  } else if (c.gpus > 0 && c.gpus > node.total_gpus) {
    e.reason = FilterReason::kTooFewGpus;
  } else if (c.gpus > 0 && c.gpu_memory_gib > 0 && node.gpu_memory_gib > 0 &&
             node.gpu_memory_gib < c.gpu_memory_gib * kGpuMemorySlack) {
    e.reason = FilterReason::kGpuMemoryTooSmall;
  } else if (c.gpus > 0 && c.gpus > free_gpus) {
    e.reason = FilterReason::kGpusBusy;
  }
  return e;
}

void AppendJoined(std::string& out, const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
}

std::string Gpus(int n) { return std::to_string(n) + (n == 1 ? " GPU" : " GPUs"); }

// EstimateAll's loop over any sequence of nodes: `at(i)` gives node i's offer, free GPUs and
// site hint.
template <typename At>
void EstimateEach(const Demand& demand, size_t count, const SiteDirectory& sites,
                  const ThroughputTable& table, At at, std::vector<NodeEstimate>* out) {
  const CleanDemand c = Repair(demand);
  const Site* input_site = sites.Find(demand.input_site);
  std::span<const Site> known = sites.sites();

  // One entry per known site; nodes whose site is unknown (or empty) take the slow path.
  std::vector<SiteTerms> terms(known.size());
  for (size_t i = 0; i < known.size(); ++i) {
    terms[i] = TermsFor(demand, c, known[i].name, &known[i], input_site);
  }

  out->clear();
  out->reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const auto [node, free_gpus, hint] = at(i);
    const Site* site = sites.Find(node->site, hint);
    if (site != nullptr) {
      size_t index = static_cast<size_t>(site - known.data());
      out->push_back(EstimateNode(demand, c, *node, free_gpus, site, terms[index], table));
    } else {
      SiteTerms unknown = TermsFor(demand, c, node->site, nullptr, input_site);
      out->push_back(EstimateNode(demand, c, *node, free_gpus, nullptr, unknown, table));
    }
  }
}

}  // namespace

std::string_view FilterReasonName(FilterReason reason) {
  switch (reason) {
    case FilterReason::kFeasible:
      return "Feasible";
    case FilterReason::kMaintenance:
      return "Maintenance";
    case FilterReason::kSiteNotAllowed:
      return "SiteNotAllowed";
    case FilterReason::kLatencyTooHigh:
      return "LatencyTooHigh";
    case FilterReason::kGpuModelMismatch:
      return "GpuModelMismatch";
    case FilterReason::kTooFewGpus:
      return "TooFewGpus";
    case FilterReason::kGpuMemoryTooSmall:
      return "GpuMemoryTooSmall";
    case FilterReason::kGpusBusy:
      return "GpusBusy";
  }
  return "Unknown";  // unreachable: the switch covers every enumerator
}

bool IsUnresolvable(FilterReason reason) {
  return reason != FilterReason::kFeasible && reason != FilterReason::kGpusBusy;
}

Transfer PlanTransfer(double bytes, const Link* from, const Link* to) {
  Transfer t;
  bytes = Clean(bytes);
  if (bytes == 0) return t;
  double bandwidth = 0;  // Mbps of the narrowest limiting link; 0: none limits
  double latency_ms = 0;
  double egress_per_gb = 0;
  for (const Link* link : {from, to}) {
    if (link == nullptr) continue;
    double bw = link->bandwidth_mbps;
    if (std::isfinite(bw) && bw > 0) bandwidth = bandwidth == 0 ? bw : std::min(bandwidth, bw);
    latency_ms += Clean(link->latency_ms);
    egress_per_gb += Clean(link->egress_per_gb);
  }
  double move_seconds = bandwidth > 0 ? bytes * 8 / (bandwidth * 1e6) : 0;
  t.seconds = Clamp(move_seconds + latency_ms / 1000);
  t.egress_money = Clamp(bytes / 1e9 * egress_per_gb);
  return t;
}

void Estimator::EstimateAll(const Demand& demand, std::span<const NodeOffer> nodes,
                            std::vector<NodeEstimate>* out) const {
  EstimateEach(
      demand, nodes.size(), sites_, throughput_,
      [&](size_t i) {
        return OfferRef{&nodes[i], nodes[i].free_gpus, -1};
      },
      out);
}

void Estimator::EstimateAll(const Demand& demand, std::span<const OfferRef> nodes,
                            std::vector<NodeEstimate>* out) const {
  EstimateEach(
      demand, nodes.size(), sites_, throughput_, [&](size_t i) { return nodes[i]; }, out);
}

NodeEstimate Estimator::EstimateOne(const Demand& demand, const NodeOffer& node) const {
  const CleanDemand c = Repair(demand);
  const Site* site = sites_.Find(node.site);
  SiteTerms terms = TermsFor(demand, c, node.site, site, sites_.Find(demand.input_site));
  return EstimateNode(demand, c, node, node.free_gpus, site, terms, throughput_);
}

std::string FilterMessage(const NodeEstimate& e, const NodeOffer& node, const Demand& d) {
  std::string site = node.site.empty() ? std::string("(none)") : node.site;
  int gpus = std::max(d.gpus, 0);
  switch (e.reason) {
    case FilterReason::kFeasible:
      return "";
    case FilterReason::kMaintenance:
      if (node.maintenance) return "node " + node.name + " is in maintenance";
      return "site " + site + " is in maintenance";
    case FilterReason::kSiteNotAllowed: {
      if (d.allowed_sites && d.allowed_sites->empty()) {
        return "no site is allowed (no site matches the stage's placement)";
      }
      std::string m = node.site.empty() ? std::string("node has no site")
                                        : "site " + node.site + " is not allowed";
      m += " (allowed: ";
      if (d.allowed_sites) AppendJoined(m, *d.allowed_sites);
      return m + ")";
    }
    case FilterReason::kLatencyTooHigh:
      return "link latency " + FormatNumber(e.latency_ms) + " ms exceeds maxLatencyMs " +
             FormatNumber(d.max_latency_ms.value_or(0));
    case FilterReason::kGpuModelMismatch:
      if (node.gpu_model.empty()) return "node has no GPU model label, needs " + d.gpu_model;
      return "GPU model " + node.gpu_model + " is not " + d.gpu_model;
    case FilterReason::kTooFewGpus:
      if (node.total_gpus <= 0) return "needs " + Gpus(gpus) + ", node has none";
      return "needs " + Gpus(gpus) + ", node has " + std::to_string(node.total_gpus);
    case FilterReason::kGpuMemoryTooSmall:
      return "GPU memory " + FormatNumber(node.gpu_memory_gib) + " GiB is below " +
             FormatNumber(d.gpu_memory_gib) + " GiB";
    case FilterReason::kGpusBusy:
      return "needs " + Gpus(gpus) + ", " + std::to_string(std::max(node.free_gpus, 0)) + " free";
  }
  return "";  // unreachable: the switch covers every enumerator
}

bool SameFilterMessage(FilterReason reason, const NodeOffer& a, int free_a, double latency_a,
                       const NodeOffer& b, int free_b, double latency_b) {
  switch (reason) {
    case FilterReason::kFeasible:
      return true;
    case FilterReason::kMaintenance:  // a node in maintenance is named; a site is
      return !a.maintenance && !b.maintenance && a.site == b.site;
    case FilterReason::kSiteNotAllowed:
      return a.site == b.site;
    case FilterReason::kLatencyTooHigh:
      return latency_a == latency_b;
    case FilterReason::kGpuModelMismatch:
      return a.gpu_model == b.gpu_model;
    case FilterReason::kTooFewGpus:
      return a.total_gpus == b.total_gpus;
    case FilterReason::kGpuMemoryTooSmall:
      return a.gpu_memory_gib == b.gpu_memory_gib;
    case FilterReason::kGpusBusy:
      return std::max(free_a, 0) == std::max(free_b, 0);
  }
  return false;  // unreachable: the switch covers every enumerator
}

}  // namespace aidi::costmodel
