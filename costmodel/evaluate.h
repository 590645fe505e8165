// Evaluate: the whole model for one stage in one call — estimate every node, score the
// feasible ones, pick the best. This is what the scheduler extender's filter and prioritize
// handlers call; explain.h turns the result into the placement reason.
//
// Typical use (the directory and table live as long as the extender's view of the cluster):
//   Estimator estimator(directory, ThroughputTable::BuiltIn());
//   std::vector<NodeEstimate> estimates;            // reused across requests
//   std::optional<size_t> best = Evaluate(estimator, demand, nodes, &estimates);
//   // estimates[i].feasible(), .reason, .score (0..10), .finish_seconds, .money ...
// Thread safety: as Estimator; `out` must not be shared between concurrent calls.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "costmodel/estimate.h"
#include "costmodel/score.h"

namespace aidi::costmodel {

// out->at(i) is nodes[i]'s estimate, cost and score; returns Best(*out).
std::optional<size_t> Evaluate(const Estimator& estimator, const Demand& demand,
                               std::span<const NodeOffer> nodes, std::vector<NodeEstimate>* out);
// The same over offers kept elsewhere (see OfferRef).
std::optional<size_t> Evaluate(const Estimator& estimator, const Demand& demand,
                               std::span<const OfferRef> nodes, std::vector<NodeEstimate>* out);

}  // namespace aidi::costmodel
