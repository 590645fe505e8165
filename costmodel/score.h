// Scoring: turns the estimates of the feasible nodes into one combined cost each and an integer
// score 0..10 (kube-scheduler's extender priority range), best 10, worst 0.
//
// Terms per node: money, finish seconds (transfer + queue + compute) and the site link's
// latency. Each term is normalised over the feasible candidates as its excess over the best,
// relative to the worst:  n = (x - min) / max  (0 when max is 0), so n is in [0, 1), scale
// free, and a term on which all nodes agree adds nothing. The combined cost is the weighted
// mean  C = (w_cost n_money + w_time n_finish + w_latency n_latency) / (w_cost + w_time +
// w_latency).  Scores spread C linearly over the candidates:  score = round(10 (C_max - C) /
// (C_max - C_min));  equal costs (within 1e-12) or a single candidate all get 10. Infeasible
// nodes get cost +infinity and score 0 and do not take part in the normalisation.
//
// Objective weights (cost, time, latency): MinCost (1, 0.001, 0), MinTime (0.001, 1, 0),
// Balanced (1, 1, 0). The 0.001 lets the secondary term decide near-ties only: under MinTime a
// node that finishes later by d (as a fraction of the slowest finish) still wins when it is
// cheaper by more than 1000 d (as a fraction of the dearest), e.g. 14 s later over 20 h but
// 60% cheaper; and likewise for MinCost. Demand::weights replaces these when set with any
// weight > 0.
// Pure functions; safe from any thread on distinct data.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "costmodel/estimate.h"
#include "costmodel/types.h"

namespace aidi::costmodel {

inline constexpr int kMaxScore = 10;

Weights ObjectiveWeights(Objective objective);

// The demand's own weights when set with any weight > 0 (negative and non-finite weights count
// as 0), else its objective's.
Weights EffectiveWeights(const Demand& demand);

// True when EffectiveWeights returns the demand's own weights.
bool UsesOwnWeights(const Demand& demand);

// Fills cost and score of every estimate (see above). Allocates nothing.
void Score(const Weights& weights, std::span<NodeEstimate> estimates);

// The feasible estimate with the lowest cost; ties go to the sooner finish, then less money,
// then the lower index. nullopt when no estimate is feasible.
std::optional<size_t> Best(std::span<const NodeEstimate> estimates);

}  // namespace aidi::costmodel
