// gpu_train.h for builds without CUDA: there is never a device.
#include "cuda-workers/ml/gpu_train.h"

namespace aidi::worker::ml {
namespace {

Status NoCuda() {
  return Status::Unavailable("aidi-worker was built without CUDA; use the CPU path");
}

}  // namespace

bool GpuBuilt() { return false; }
bool GpuAvailable() { return false; }

StatusOr<Model> TrainOnGpu(const TrainParams&, std::span<const duckdb::Column>, int) {
  return NoCuda();
}

StatusOr<PredictOutput> PredictOnGpu(const Model&, std::span<const duckdb::Column>, int) {
  return NoCuda();
}

}  // namespace aidi::worker::ml
