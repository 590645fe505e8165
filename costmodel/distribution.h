// The seed's load distribution: with n nodes of capacity c_i and load t_i, a task of time t_j
// goes to node i with probability
//
//   p_ij = f_i(t_i) / sum_k f_k(t_k),   f_i(t_i) = c_i · exp(-beta · (t_i + t_j) / c_i)
//
// f is a Boltzmann weight: (t_i + t_j) / c_i is how long node i needs to drain its load and the
// task (capacity in work per second, load and task in work), so p favours nodes that would
// finish the task sooner, with temperature 1 / beta, and in proportion to capacity. beta > 0
// spreads work towards idle nodes (beta → ∞: always the soonest finish), beta = 0 assigns in
// proportion to capacity, beta < 0 packs work onto busy nodes. The seed's worked example holds
// for any beta: n equal nodes give p = 1/n. With the cost model's quantities, c_i = GPUs ×
// throughput and t_i = queued work in reference-GPU seconds, so t_i / c_i is
// NodeOffer::queued_seconds.
//
// Computed in log space (the largest exponent is subtracted), so large loads or beta neither
// overflow nor underflow to 0/0. Nodes whose capacity is not a finite number > 0 get p = 0;
// when no node has capacity every p is 0. A NaN beta counts as 0; negative or NaN loads and
// task times count as 0. Pure functions; safe from any thread on distinct data.
#pragma once

#include <span>
#include <vector>

namespace aidi::costmodel {

struct NodeLoad {
  double capacity = 0;  // c_i: work per second
  double load = 0;      // t_i: work already queued
};

// out[i] = p_ij for one task of time `task`; out.size() must equal nodes.size(). Allocates
// nothing.
void AssignmentProbabilities(std::span<const NodeLoad> nodes, double task, double beta,
                             std::span<double> out);
std::vector<double> AssignmentProbabilities(std::span<const NodeLoad> nodes, double task,
                                            double beta);

// p_ij for several tasks: row j (tasks[j]) is AssignmentProbabilities(nodes, tasks[j], beta),
// stored row-major (index j * nodes.size() + i). Each row sums to 1 (or is all 0).
std::vector<double> AssignmentMatrix(std::span<const NodeLoad> nodes, std::span<const double> tasks,
                                     double beta);

}  // namespace aidi::costmodel
