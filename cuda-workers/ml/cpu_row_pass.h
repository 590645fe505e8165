// CpuRowPass: the CPU RowPass, Eigen on the host. Rows are split into `threads` contiguous ranges;
// each thread walks its range in blocks of 1024 rows, standardising each block from the input
// columns into a buffer that stays in cache while it is used three times (scores, gradient, and
// the weighted Gram matrix as a symmetric rank-k update). Per-thread sums are added in a fixed
// order, so results do not depend on timing.
//
// Borrows the design matrix, which must outlive the pass. One caller at a time.
#pragma once

#include "cuda-workers/ml/design_matrix.h"
#include "cuda-workers/ml/row_pass.h"
#include "cuda-workers/ml/train_params.h"

namespace aidi::worker::ml {

class CpuRowPass final : public RowPass {
 public:
  CpuRowPass(const DesignMatrix& design, ModelKind kind, int threads)
      : design_(design), kind_(kind), threads_(threads) {}

  [[nodiscard]] StatusOr<PassSums> Run(std::span<const double> beta, PassWant want) override;

 private:
  const DesignMatrix& design_;
  ModelKind kind_;
  int threads_;
};

}  // namespace aidi::worker::ml
