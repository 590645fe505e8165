// gpu_train.h for builds with CUDA: host-side gathering and the Newton solve, kernels from
// ml_kernels.cu.
#include "cuda-workers/ml/gpu_train.h"

#include <cmath>

#include "cuda-workers/ml/design_matrix.h"
#include "cuda-workers/ml/ml_kernels.h"
#include "cuda-workers/ml/newton_solver.h"
#include "cuda-workers/ml/parallel.h"

namespace aidi::worker::ml {

bool GpuBuilt() { return true; }
bool GpuAvailable() { return gpu::DeviceAvailable(); }

StatusOr<Model> TrainOnGpu(const TrainParams& params, std::span<const duckdb::Column> columns,
                           int threads) {
  if (params.features.size() > kGpuMaxFeatures) {
    return Status::InvalidArgument("the GPU path trains on at most " +
                                   std::to_string(kGpuMaxFeatures) + " features, got " +
                                   std::to_string(params.features.size()));
  }
  if (!gpu::DeviceAvailable()) return Status::Unavailable("no CUDA device is available");
  AIDI_ASSIGN_OR_RETURN(DesignMatrix design, BuildDesignMatrix(params, columns, threads));
  std::vector<double> z, y;
  design.Materialize(&z, &y);
  AIDI_ASSIGN_OR_RETURN(std::unique_ptr<RowPass> pass,
                        gpu::MakeDeviceRowPass(z.data(), y.data(), design.rows, design.cols(),
                                               params.model == ModelKind::kLogistic));
  // Uploaded: free the host copy before solving.
  std::vector<double>().swap(z);
  std::vector<double>().swap(y);
  return FitModel(params, design, *pass);
}

StatusOr<PredictOutput> PredictOnGpu(const Model& model, std::span<const duckdb::Column> columns,
                                     int threads) {
  if (!gpu::DeviceAvailable()) return Status::Unavailable("no CUDA device is available");
  AIDI_ASSIGN_OR_RETURN(std::vector<const duckdb::Column*> features,
                        ResolveModelFeatures(model, columns));
  const size_t n = features.empty() ? 0 : features[0]->size();
  const size_t p = features.size();
  std::vector<double> x(n * p);
  std::vector<uint8_t> valid(n, 1);
  ParallelFor(n, threads, [&](int, size_t begin, size_t end) {
    for (size_t f = 0; f < p; ++f) {
      const duckdb::Column& c = *features[f];
      double* col = x.data() + f * n;
      for (size_t i = begin; i < end; ++i) {
        const double v = NumericValue(c, i);
        const bool ok = c.validity[i] != 0 && std::isfinite(v);
        col[i] = ok ? v : 0.0;
        valid[i] &= ok ? 1 : 0;
      }
    }
  });
  std::vector<double> score(n);
  AIDI_RETURN_IF_ERROR(gpu::DeviceScore(x.data(), n, p, model.weights.data(), model.bias,
                                        model.kind == ModelKind::kLogistic, score.data()));
  return FinishPredict(model.kind, std::move(score), std::move(valid));
}

}  // namespace aidi::worker::ml
