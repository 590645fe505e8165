// The CUDA kernels of train and predict (ml_kernels.cu), behind plain C++ declarations: only
// ml_kernels.cu includes CUDA headers, and only builds with AIDI_WORKER_CUDA compile it.
//
// MakeDeviceRowPass uploads a design matrix once and returns a RowPass whose every Run() is one
// kernel pass plus one reduction on the device; DeviceScore scores rows for predict. All device
// memory is owned by the returned objects and freed with them. A DeviceRowPass is used by one
// thread at a time; separate ones may run concurrently.
#pragma once

#include <cstddef>
#include <memory>

#include "base/status.h"
#include "cuda-workers/ml/row_pass.h"

namespace aidi::worker::ml::gpu {

inline constexpr size_t kMaxColumns = 64;

// Whether a CUDA device is present and the runtime can talk to it.
bool DeviceAvailable();

// z: rows × cols column-major (cols <= kMaxColumns), y: rows labels; both copied to the device.
[[nodiscard]] StatusOr<std::unique_ptr<RowPass>> MakeDeviceRowPass(const double* z, const double* y,
                                                                   size_t rows, size_t cols,
                                                                   bool logistic);

// score[i] = bias + Σ_j weights[j]·x[j·rows + i] (x column-major rows × cols), through the
// sigmoid when `logistic`. Host pointers in, host pointer out.
[[nodiscard]] Status DeviceScore(const double* x, size_t rows, size_t cols, const double* weights,
                                 double bias, bool logistic, double* score);

}  // namespace aidi::worker::ml::gpu
