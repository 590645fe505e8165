// RowPass: one pass over a design matrix's rows at given coefficients, the only part of training
// whose cost grows with the number of rows. The Newton solver (newton_solver.h) calls it a few
// times per iteration and does the small cols×cols algebra itself; the CPU (cpu_row_pass.h) and
// CUDA (gpu_train.cc) passes implement it.
//
// Coefficients `beta` are in standardised units: beta[0, cols) weigh the columns of z and
// beta[cols] is the intercept; a row's linear score is eta = beta[cols] + Σ beta[j]·z[j]. With
// a = (z, 1) the augmented row, a pass returns sums over rows of:
//   loss:    logistic: log(1 + e^eta) - y·eta;   linear: (eta - y)² / 2
//   correct: logistic: 1 when (sigmoid(eta) >= 0.5) == y;   linear: 0
//   grad:    r·a with r = sigmoid(eta) - y (logistic) or eta - y (linear)
//   gram:    w·a·aᵀ with w = p(1 - p) (logistic) or 1 (linear), (cols+1)², column-major, full
// grad is filled for kGradient and kHessian, gram for kHessian only. A RowPass is used by one
// thread at a time (it may use several threads inside a call).
#pragma once

#include <span>
#include <vector>

#include "base/status.h"

namespace aidi::worker::ml {

// What a pass computes; each level includes the ones before it.
enum class PassWant { kLoss, kGradient, kHessian };

struct PassSums {
  double loss = 0;
  double correct = 0;
  std::vector<double> grad;  // cols + 1, or empty
  std::vector<double> gram;  // (cols + 1)², column-major, symmetric, or empty
};

class RowPass {
 public:
  virtual ~RowPass() = default;
  [[nodiscard]] virtual StatusOr<PassSums> Run(std::span<const double> beta, PassWant want) = 0;
};

}  // namespace aidi::worker::ml
