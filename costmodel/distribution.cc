#include "costmodel/distribution.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aidi::costmodel {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

bool HasCapacity(const NodeLoad& n) { return std::isfinite(n.capacity) && n.capacity > 0; }
double NonNegative(double v) { return std::isnan(v) || v < 0 ? 0 : v; }

}  // namespace

void AssignmentProbabilities(std::span<const NodeLoad> nodes, double task, double beta,
                             std::span<double> out) {
  if (std::isnan(beta)) beta = 0;
  task = NonNegative(task);
  // out[i] first holds log f_i, then p_i.
  double max_log = kNegInf;
  for (size_t i = 0; i < nodes.size() && i < out.size(); ++i) {
    const NodeLoad& n = nodes[i];
    if (!HasCapacity(n)) {
      out[i] = kNegInf;
      continue;
    }
    double drain = (NonNegative(n.load) + task) / n.capacity;
    double log_f = std::log(n.capacity) - (beta == 0 ? 0 : beta * drain);
    if (std::isnan(log_f)) log_f = kNegInf;  // inf load with beta > 0 or < 0: f is 0 or inf
    out[i] = log_f;
    max_log = std::max(max_log, log_f);
  }
  if (max_log == kNegInf) {
    std::fill(out.begin(), out.end(), 0.0);
    return;
  }
  double sum = 0;
  for (size_t i = 0; i < nodes.size() && i < out.size(); ++i) {
    // exp(-inf) = 0; an infinite max (inf load packed with beta < 0) makes the winner 1.
    double x = std::isinf(max_log) ? (out[i] == max_log ? 0 : kNegInf) : out[i] - max_log;
    out[i] = std::exp(x);
    sum += out[i];
  }
  // sum >= 1: the node holding max_log contributes exp(0).
  for (size_t i = 0; i < nodes.size() && i < out.size(); ++i) out[i] /= sum;
  for (size_t i = nodes.size(); i < out.size(); ++i) out[i] = 0;
}

std::vector<double> AssignmentProbabilities(std::span<const NodeLoad> nodes, double task,
                                            double beta) {
  std::vector<double> p(nodes.size());
  AssignmentProbabilities(nodes, task, beta, p);
  return p;
}

std::vector<double> AssignmentMatrix(std::span<const NodeLoad> nodes, std::span<const double> tasks,
                                     double beta) {
  std::vector<double> p(nodes.size() * tasks.size());
  for (size_t j = 0; j < tasks.size(); ++j) {
    AssignmentProbabilities(nodes, tasks[j], beta,
                            std::span<double>(p).subspan(j * nodes.size(), nodes.size()));
  }
  return p;
}

}  // namespace aidi::costmodel
