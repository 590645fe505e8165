#include "cuda-workers/ml/train.h"

#include "cuda-workers/ml/cpu_row_pass.h"
#include "cuda-workers/ml/design_matrix.h"
#include "cuda-workers/ml/newton_solver.h"

namespace aidi::worker::ml {

StatusOr<Model> Train(const TrainParams& params, std::span<const duckdb::Column> columns,
                      int threads) {
  AIDI_ASSIGN_OR_RETURN(DesignMatrix design, BuildDesignMatrix(params, columns, threads));
  CpuRowPass pass(design, params.model, threads);
  return FitModel(params, design, pass);
}

}  // namespace aidi::worker::ml
