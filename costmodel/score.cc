#include "costmodel/score.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aidi::costmodel {
namespace {

constexpr double kTieBreak = 0.001;
constexpr double kEqualCost = 1e-12;
constexpr double kInf = std::numeric_limits<double>::infinity();

double CleanWeight(double w) { return std::isfinite(w) && w > 0 ? w : 0; }

struct Range {
  double min = kInf;
  double max = 0;
  void Add(double v) {
    min = std::min(min, v);
    max = std::max(max, v);
  }
  // (v - min) / max, in [0, 1); 0 when every value is 0.
  double Normalise(double v) const { return max > 0 ? (v - min) / max : 0; }
};

}  // namespace

Weights ObjectiveWeights(Objective objective) {
  switch (objective) {
    case Objective::kMinCost:
      return {.cost = 1, .time = kTieBreak, .latency = 0};
    case Objective::kMinTime:
      return {.cost = kTieBreak, .time = 1, .latency = 0};
    case Objective::kBalanced:
      return {.cost = 1, .time = 1, .latency = 0};
  }
  return {.cost = 1, .time = 1, .latency = 0};  // unreachable: every enumerator is handled
}

bool UsesOwnWeights(const Demand& demand) {
  if (!demand.weights) return false;
  const Weights& w = *demand.weights;
  return CleanWeight(w.cost) + CleanWeight(w.time) + CleanWeight(w.latency) > 0;
}

Weights EffectiveWeights(const Demand& demand) {
  if (UsesOwnWeights(demand)) {
    return {.cost = CleanWeight(demand.weights->cost),
            .time = CleanWeight(demand.weights->time),
            .latency = CleanWeight(demand.weights->latency)};
  }
  return ObjectiveWeights(demand.objective);
}

void Score(const Weights& weights, std::span<NodeEstimate> estimates) {
  Weights w{.cost = CleanWeight(weights.cost),
            .time = CleanWeight(weights.time),
            .latency = CleanWeight(weights.latency)};
  double total = w.cost + w.time + w.latency;
  if (!(total > 0) || !std::isfinite(total)) {
    w = ObjectiveWeights(Objective::kBalanced);
    total = w.cost + w.time + w.latency;
  }

  Range money, finish, latency;
  for (const NodeEstimate& e : estimates) {
    if (!e.feasible()) continue;
    money.Add(e.money);
    finish.Add(e.finish_seconds);
    latency.Add(e.latency_ms);
  }

  Range cost;
  for (NodeEstimate& e : estimates) {
    if (!e.feasible()) {
      e.cost = kInf;
      e.score = 0;
      continue;
    }
    e.cost = (w.cost * money.Normalise(e.money) + w.time * finish.Normalise(e.finish_seconds) +
              w.latency * latency.Normalise(e.latency_ms)) /
             total;
    cost.Add(e.cost);
  }

  double spread = cost.max - cost.min;
  for (NodeEstimate& e : estimates) {
    if (!e.feasible()) continue;
    if (!(spread > kEqualCost)) {
      e.score = kMaxScore;
    } else {
      double s = std::round(kMaxScore * (cost.max - e.cost) / spread);
      e.score = static_cast<int>(std::clamp(s, 0.0, static_cast<double>(kMaxScore)));
    }
  }
}

std::optional<size_t> Best(std::span<const NodeEstimate> estimates) {
  std::optional<size_t> best;
  for (size_t i = 0; i < estimates.size(); ++i) {
    const NodeEstimate& e = estimates[i];
    if (!e.feasible()) continue;
    if (!best) {
      best = i;
      continue;
    }
    const NodeEstimate& b = estimates[*best];
    if (e.cost < b.cost ||
        (e.cost == b.cost && (e.finish_seconds < b.finish_seconds ||
                              (e.finish_seconds == b.finish_seconds && e.money < b.money)))) {
      best = i;
    }
  }
  return best;
}

}  // namespace aidi::costmodel
