#include "costmodel/explain.h"

#include <algorithm>
#include <array>
#include <optional>

#include "costmodel/format.h"
#include "costmodel/score.h"

namespace aidi::costmodel {
namespace {

constexpr size_t kReasons = static_cast<size_t>(FilterReason::kGpusBusy) + 1;

std::string_view Words(FilterReason reason) {
  switch (reason) {
    case FilterReason::kFeasible:
      return "fit";
    case FilterReason::kMaintenance:
      return "in maintenance";
    case FilterReason::kSiteNotAllowed:
      return "site not allowed";
    case FilterReason::kLatencyTooHigh:
      return "latency too high";
    case FilterReason::kGpuModelMismatch:
      return "other GPU model";
    case FilterReason::kTooFewGpus:
      return "too few GPUs";
    case FilterReason::kGpuMemoryTooSmall:
      return "GPU memory too small";
    case FilterReason::kGpusBusy:
      return "GPUs busy";
  }
  return "unknown";  // unreachable: the switch covers every enumerator
}

// The feasible index other than `best` with the lowest cost (Best()'s order), or nullopt.
// The alternative worth naming: the best-ranked other node, passing over the chosen node's twins
// (same site, GPU model and estimate) when anything else fits, since "vs the same on its
// neighbour" tells the reader nothing.
std::optional<size_t> RunnerUp(std::span<const NodeOffer> nodes,
                               std::span<const NodeEstimate> estimates, size_t best) {
  const NodeEstimate& b = estimates[best];
  auto twin = [&](size_t i) {
    const NodeEstimate& e = estimates[i];
    return nodes[i].site == nodes[best].site && nodes[i].gpu_model == nodes[best].gpu_model &&
           e.money == b.money && e.finish_seconds == b.finish_seconds;
  };
  auto better = [&](size_t i, size_t j) {
    const NodeEstimate& e = estimates[i];
    const NodeEstimate& n = estimates[j];
    return e.cost < n.cost ||
           (e.cost == n.cost && (e.finish_seconds < n.finish_seconds ||
                                 (e.finish_seconds == n.finish_seconds && e.money < n.money)));
  };
  std::optional<size_t> next, next_twin;
  for (size_t i = 0; i < estimates.size(); ++i) {
    if (i == best || !estimates[i].feasible()) continue;
    std::optional<size_t>& slot = twin(i) ? next_twin : next;
    if (!slot || better(i, *slot)) slot = i;
  }
  return next ? next : next_twin;
}

std::string SiteWords(std::string_view site) {
  return site.empty() ? std::string("in the cloud") : "at " + std::string(site);
}

// Data gravity: the chosen node needs no transfer, and the best-ranked node elsewhere that
// would have beaten it on compute (time or money, as the objective cares) loses only because
// the input must move. Returns the explanation or "".
std::string DataGravity(const Demand& demand, std::span<const NodeOffer> nodes,
                        std::span<const NodeEstimate> estimates, size_t best,
                        std::string_view currency) {
  const NodeEstimate& b = estimates[best];
  if (demand.input_bytes <= 0 || b.transfer_seconds > 0 || nodes[best].site != demand.input_site) {
    return "";
  }
  const Weights w = EffectiveWeights(demand);
  std::optional<size_t> alt;
  for (size_t i = 0; i < estimates.size(); ++i) {
    const NodeEstimate& e = estimates[i];
    if (!e.feasible() || nodes[i].site == demand.input_site || e.transfer_seconds <= 0) continue;
    bool faster = w.time > 0 && e.run_seconds < b.run_seconds;
    bool cheaper = w.cost > 0 && e.compute_money < b.compute_money;
    if (!faster && !cheaper) continue;
    if (!alt || e.cost < estimates[*alt].cost) alt = i;
  }
  if (!alt) return "";
  const NodeEstimate& a = estimates[*alt];
  std::string where = nodes[*alt].site.empty() ? std::string("the cloud") : nodes[*alt].site;
  std::string m = "data gravity: " + FormatBytes(static_cast<double>(demand.input_bytes)) + " " +
                  SiteWords(demand.input_site) + "; moving it to " + where + " takes " +
                  FormatDuration(a.transfer_seconds);
  if (a.egress_money > 0) m += " and costs " + FormatMoney(a.egress_money, currency);
  return m;
}

}  // namespace

std::string SummarizeFilter(std::span<const NodeEstimate> estimates) {
  if (estimates.empty()) return "no nodes";
  std::array<size_t, kReasons> counts{};
  for (const NodeEstimate& e : estimates) ++counts[static_cast<size_t>(e.reason)];
  std::string m = std::to_string(counts[0]) + "/" + std::to_string(estimates.size()) + " nodes fit";
  std::array<size_t, kReasons - 1> order{};
  for (size_t i = 0; i < order.size(); ++i) order[i] = i + 1;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return counts[a] > counts[b]; });
  bool first = true;
  for (size_t r : order) {
    if (counts[r] == 0) continue;
    m += first ? "; " : ", ";
    first = false;
    m += std::to_string(counts[r]) + " " + std::string(Words(static_cast<FilterReason>(r)));
  }
  return m;
}

std::string ExplainChoice(const Demand& demand, std::span<const NodeOffer> nodes,
                          std::span<const NodeEstimate> estimates, size_t best,
                          std::string_view currency) {
  if (best >= estimates.size() || best >= nodes.size() || !estimates[best].feasible()) return "";
  const NodeEstimate& b = estimates[best];
  std::optional<size_t> next = RunnerUp(nodes, estimates, best);
  if (!next) return "only node that fits: " + SummarizeFilter(estimates);

  if (std::string gravity = DataGravity(demand, nodes, estimates, best, currency);
      !gravity.empty()) {
    return gravity;
  }

  const NodeEstimate& n = estimates[*next];
  const std::string on = " on " + nodes[*next].name;
  std::string b_money = FormatMoney(b.money, currency), n_money = FormatMoney(n.money, currency);
  std::string b_time = FormatDuration(b.finish_seconds), n_time = FormatDuration(n.finish_seconds);
  if (UsesOwnWeights(demand)) {
    const Weights w = EffectiveWeights(demand);
    return "lowest weighted cost (cost " + FormatNumber(w.cost) + ", time " + FormatNumber(w.time) +
           ", latency " + FormatNumber(w.latency) + "): " + b_money + " in " + b_time + ", " +
           FormatNumber(b.latency_ms) + " ms vs " + n_money + " in " + n_time + ", " +
           FormatNumber(n.latency_ms) + " ms" + on;
  }
  switch (demand.objective) {
    case Objective::kMinCost:
      if (b_money == n_money) {
        return "cheapest: " + b_money + ", as" + on + ", and sooner: " + b_time + " vs " + n_time;
      }
      return "cheapest: " + b_money + " vs " + n_money + on;
    case Objective::kMinTime:
      if (b_time == n_time) {
        return "fastest finish: " + b_time + ", as" + on + ", and cheaper: " + b_money + " vs " +
               n_money;
      }
      return "fastest finish: " + b_time + " vs " + n_time + on;
    case Objective::kBalanced:
      break;
  }
  return "best balance of cost and time: " + b_money + " in " + b_time + " vs " + n_money + " in " +
         n_time + on;
}

}  // namespace aidi::costmodel
