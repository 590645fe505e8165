// The CUDA twin of Train and Predict, behind a plain C++ interface (no CUDA types), so callers
// compile the same way whether or not the build found nvcc.
//
// With CUDA (AIDI_WORKER_CUDA), the design matrix is built on the host as for the CPU path, then
// uploaded once; each Newton iteration runs one kernel pass over the rows (scores, loss,
// gradient and the weighted Gram matrix, accumulated per block and reduced on the device) and
// solves the small (features+1)² system on the host, so a model equals the CPU path's up to
// rounding. Without CUDA, GpuAvailable() is false and the other calls fail with Unavailable.
// Every call is independent: safe from several threads (each uses the current device).
#pragma once

#include <span>

#include "base/status.h"
#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/ml/model.h"
#include "cuda-workers/ml/predict.h"
#include "cuda-workers/ml/train_params.h"

namespace aidi::worker::ml {

// The most features the GPU training kernel handles (its Gram matrix lives in registers).
inline constexpr size_t kGpuMaxFeatures = 64;

// Whether this build has the CUDA path.
bool GpuBuilt();
// Whether this build has the CUDA path and a usable CUDA device is present now.
bool GpuAvailable();

// As Train() and Predict(); also Unavailable when there is no CUDA build or device (the caller
// falls back to the CPU path) and InvalidArgument for more than kGpuMaxFeatures features.
// `threads` is used for the host-side gathering.
[[nodiscard]] StatusOr<Model> TrainOnGpu(const TrainParams& params,
                                         std::span<const duckdb::Column> columns, int threads = 1);
[[nodiscard]] StatusOr<PredictOutput> PredictOnGpu(const Model& model,
                                                   std::span<const duckdb::Column> columns,
                                                   int threads = 1);

}  // namespace aidi::worker::ml
