// Explanations for people: why the chosen node won (the `reason` of the aidi.dev/placement
// annotation, copied into Pipeline status.stages[].placement) and why nothing fit.
//
// ExplainChoice picks the first that applies (README.md, "Reasons"):
//   only one candidate fits  "only node that fits: 1/12 nodes fit; 8 GPUs busy, 3 other GPU model"
//   data gravity             "data gravity: 400 GB at edge-munich; moving it to cloud-fra takes
//                             8.9 h and costs $36.00" — the chosen node sits where the input is,
//                            and a node elsewhere would have computed faster or cheaper
//   MinCost                  "cheapest: $1.20 vs $3.10 on node-b"
//   MinTime                  "fastest finish: 12 min vs 30 min on node-b"
//   Balanced                 "best balance of cost and time: $1.20 in 12 min vs $3.10 in 10 min
//                             on node-b"
//   custom weights           "lowest weighted cost (cost 1, time 2, latency 0): ..."
// node-b is the runner-up (the next lowest combined cost). Ties on the objective's own term say
// what broke them ("cheapest: $1.20, as on node-b, and sooner: 12 min vs 30 min").
// Pure functions; safe from any thread on distinct data.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "costmodel/estimate.h"
#include "costmodel/types.h"

namespace aidi::costmodel {

// `nodes` and `estimates` are index-aligned and scored (Evaluate); `best` is a feasible index
// (Best()). Returns "" when `best` is out of range or infeasible. `currency` is the sites'
// cost.currency.
std::string ExplainChoice(const Demand& demand, std::span<const NodeOffer> nodes,
                          std::span<const NodeEstimate> estimates, size_t best,
                          std::string_view currency = "USD");

// "3/12 nodes fit; 8 GPUs busy, 1 in maintenance" (most frequent reason first, then in filter
// order); "12/12 nodes fit" when none was filtered; "no nodes" for an empty set.
std::string SummarizeFilter(std::span<const NodeEstimate> estimates);

}  // namespace aidi::costmodel
