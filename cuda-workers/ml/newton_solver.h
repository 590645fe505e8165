// FitModel: minimises the training objective with Newton's method over a RowPass, then turns the
// standardised coefficients into a Model in the features' own units, with its metrics.
//
// The objective (README.md) is mean loss + (l2/2)·||w||², w in original units (in standardised
// units the penalty is diagonal: l2/scale²). Each iteration solves the (cols+1)² Newton system
// with LDLT on the host and backtracks from `learningRate` until the Armijo condition holds; it
// stops when max |gradient| <= `tolerance` or after `epochs` iterations. For `linear` the loss is
// quadratic, so the first step (always of length 1) is the closed-form ridge solution. The
// solver keeps no state between calls: safe to call from several threads on different passes.
#pragma once

#include "base/status.h"
#include "cuda-workers/ml/design_matrix.h"
#include "cuda-workers/ml/model.h"
#include "cuda-workers/ml/row_pass.h"
#include "cuda-workers/ml/train_params.h"

namespace aidi::worker::ml {

// `design` is what `pass` runs over. Fails when the linear system is singular (collinear
// features with l2 = 0, linear only) or the fit diverges to non-finite weights.
[[nodiscard]] StatusOr<Model> FitModel(const TrainParams& params, const DesignMatrix& design,
                                       RowPass& pass);

}  // namespace aidi::worker::ml
