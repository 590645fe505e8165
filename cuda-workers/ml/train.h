// Train: the CPU path of the `train` stage. Fits logistic or linear regression with an L2
// penalty to named columns of a table and returns the Model a `predict` stage reads.
//
// The input columns are looked up by name (params.features, params.label); rows with a NULL or
// non-finite feature or label are skipped and counted in Model::metrics.rows_skipped (the worker
// reports them as rowsRejected). README.md gives the objective, the solver and the errors.
// Stateless: safe to call from several threads at once.
#pragma once

#include <span>

#include "base/status.h"
#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/ml/model.h"
#include "cuda-workers/ml/train_params.h"

namespace aidi::worker::ml {

// `threads` (>= 1) splits the row passes; results are the same up to rounding for any count.
[[nodiscard]] StatusOr<Model> Train(const TrainParams& params,
                                    std::span<const duckdb::Column> columns, int threads = 1);

}  // namespace aidi::worker::ml
