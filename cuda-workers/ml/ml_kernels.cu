// CUDA kernels of train and predict; see ml_kernels.h. No cuBLAS: the worker must start on
// machines without libcublas, so it links only the static CUDA runtime.
//
// The training pass (PassKernel) works on the augmented row a = (z, 1) extended with per-row
// scalars: e = (z_0 .. z_{p-1}, 1, w, r, loss, correct), index p+1 .. p+4 for the scalars. Every
// requested sum is a product of three entries of e summed over rows, listed in a "pair table":
//   0: loss·1·1   1: correct·1·1   2 + j: r·a_j·1 (gradient)   then w·a_j·a_k for j <= k (Gram)
// Each block walks tiles of kTileRows rows (grid-stride): the tile is loaded into shared memory
// coalesced (consecutive threads read consecutive rows of one column), kTileRows threads compute
// eta and the per-row scalars, then every thread adds its pairs for the whole tile into registers.
// At the end each block writes its partial sums; ReduceKernel adds them over blocks.
#include "cuda-workers/ml/ml_kernels.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <vector>

namespace aidi::worker::ml::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int kTileRows = 32;
// Pairs for kMaxColumns: 2 + (p + 1) + (p + 1)(p + 2) / 2 = 2212 for p = 64.
constexpr int kMaxPairs = 2 + (kMaxColumns + 1) + (kMaxColumns + 1) * (kMaxColumns + 2) / 2;
constexpr int kPairsPerThread = (kMaxPairs + kThreads - 1) / kThreads;  // 9

Status CudaError(const char* what, cudaError_t e) {
  return Status::Unavailable(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

#define AIDI_CUDA_RETURN_IF_ERROR(call)      \
  do {                                       \
    cudaError_t aidi_cuda_e_ = (call);       \
    if (aidi_cuda_e_ != cudaSuccess) {       \
      return CudaError(#call, aidi_cuda_e_); \
    }                                        \
  } while (0)

// Device memory, freed on destruction. Move-only.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }

  Status Allocate(size_t bytes) {
    AIDI_CUDA_RETURN_IF_ERROR(cudaMalloc(&ptr_, std::max<size_t>(bytes, 1)));
    return Status::Ok();
  }
  Status Upload(const void* host, size_t bytes) {
    AIDI_RETURN_IF_ERROR(Allocate(bytes));
    if (bytes > 0) {
      AIDI_CUDA_RETURN_IF_ERROR(cudaMemcpy(ptr_, host, bytes, cudaMemcpyHostToDevice));
    }
    return Status::Ok();
  }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

__device__ inline double DeviceSigmoid(double s) {
  if (s >= 0) return 1.0 / (1.0 + exp(-s));
  const double e = exp(s);
  return e / (1.0 + e);
}

// One pass; see the file comment. partial: gridDim.x × num_pairs.
__global__ void __launch_bounds__(kThreads)
    PassKernel(const double* __restrict__ z, const double* __restrict__ y, size_t n, int p,
               const double* __restrict__ beta, bool logistic, const uchar4* __restrict__ pairs,
               int num_pairs, double* __restrict__ partial) {
  extern __shared__ double smem[];
  double* s_beta = smem;          // p + 1
  double* tile = smem + (p + 1);  // kTileRows × stride
  const int stride = p + 5;

  for (int j = threadIdx.x; j <= p; j += blockDim.x) s_beta[j] = beta[j];
  uchar4 mine[kPairsPerThread];
  double acc[kPairsPerThread];
#pragma unroll
  for (int k = 0; k < kPairsPerThread; ++k) {
    const int idx = threadIdx.x + k * kThreads;
    mine[k] = idx < num_pairs ? pairs[idx] : make_uchar4(0, 0, 0, 0);
    acc[k] = 0.0;
  }
  __syncthreads();

  const size_t num_tiles = (n + kTileRows - 1) / kTileRows;
  for (size_t tile_index = blockIdx.x; tile_index < num_tiles; tile_index += gridDim.x) {
    const size_t r0 = tile_index * kTileRows;
    const int rows = n - r0 < kTileRows ? static_cast<int>(n - r0) : kTileRows;
    for (int e = threadIdx.x; e < kTileRows * p; e += blockDim.x) {
      const int t = e % kTileRows;
      const int j = e / kTileRows;
      tile[t * stride + j] = t < rows ? z[static_cast<size_t>(j) * n + r0 + t] : 0.0;
    }
    __syncthreads();
    if (threadIdx.x < kTileRows) {
      const int t = threadIdx.x;
      double* row = tile + t * stride;
      double w = 0, r = 0, loss = 0, correct = 0;
      if (t < rows) {
        double eta = s_beta[p];
        for (int j = 0; j < p; ++j) eta += row[j] * s_beta[j];
        const double label = y[r0 + t];
        if (logistic) {
          const double e = exp(-fabs(eta));
          const double prob = eta >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
          w = e / ((1.0 + e) * (1.0 + e));
          r = prob - label;
          loss = fmax(eta, 0.0) + log1p(e) - label * eta;
          correct = (prob >= 0.5) == (label > 0.5) ? 1.0 : 0.0;
        } else {
          w = 1.0;
          r = eta - label;
          loss = 0.5 * r * r;
        }
      }
      row[p] = 1.0;
      row[p + 1] = w;
      row[p + 2] = r;
      row[p + 3] = loss;
      row[p + 4] = correct;
    }
    __syncthreads();
    for (int t = 0; t < rows; ++t) {
      const double* row = tile + t * stride;
#pragma unroll
      for (int k = 0; k < kPairsPerThread; ++k) {
        acc[k] += row[mine[k].x] * row[mine[k].y] * row[mine[k].z];
      }
    }
    __syncthreads();  // the tile is overwritten next round
  }

#pragma unroll
  for (int k = 0; k < kPairsPerThread; ++k) {
    const int idx = threadIdx.x + k * kThreads;
    if (idx < num_pairs) partial[static_cast<size_t>(blockIdx.x) * num_pairs + idx] = acc[k];
  }
}

// out[i] = Σ_b partial[b·num_pairs + i]: one thread per pair, in block order (deterministic).
__global__ void ReduceKernel(const double* __restrict__ partial, int blocks, int num_pairs,
                             double* __restrict__ out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= num_pairs) return;
  double sum = 0;
  for (int b = 0; b < blocks; ++b) sum += partial[static_cast<size_t>(b) * num_pairs + i];
  out[i] = sum;
}

__global__ void ScoreKernel(const double* __restrict__ x, size_t n, int p,
                            const double* __restrict__ weights, double bias, bool logistic,
                            double* __restrict__ score) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    double s = bias;
    for (int j = 0; j < p; ++j) s += weights[j] * x[static_cast<size_t>(j) * n + i];
    score[i] = logistic ? DeviceSigmoid(s) : s;
  }
}

int BlocksFor(size_t work_items, int per_sm) {
  int device = 0, sms = 1;
  if (cudaGetDevice(&device) == cudaSuccess) {
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  }
  const size_t wanted = std::max<size_t>(work_items, 1);
  return static_cast<int>(std::min<size_t>(wanted, static_cast<size_t>(sms) * per_sm));
}

class DeviceRowPass final : public RowPass {
 public:
  DeviceRowPass(size_t rows, size_t cols, bool logistic)
      : rows_(rows), cols_(cols), logistic_(logistic) {}

  Status Init(const double* z, const double* y) {
    const int p = static_cast<int>(cols_);
    // The pair table; see the file comment.
    std::vector<uchar4> pairs;
    const auto one = static_cast<unsigned char>(p);
    const auto w = static_cast<unsigned char>(p + 1);
    const auto r = static_cast<unsigned char>(p + 2);
    pairs.push_back(make_uchar4(static_cast<unsigned char>(p + 3), one, one, 0));  // loss
    pairs.push_back(make_uchar4(static_cast<unsigned char>(p + 4), one, one, 0));  // correct
    for (int j = 0; j <= p; ++j) pairs.push_back(make_uchar4(r, j, one, 0));       // gradient
    for (int k = 0; k <= p; ++k) {
      for (int j = k; j <= p; ++j) pairs.push_back(make_uchar4(w, j, k, 0));  // Gram, lower
    }
    num_pairs_ = static_cast<int>(pairs.size());
    blocks_ = BlocksFor((rows_ + kTileRows - 1) / kTileRows, 2);

    AIDI_RETURN_IF_ERROR(z_.Upload(z, rows_ * cols_ * sizeof(double)));
    AIDI_RETURN_IF_ERROR(y_.Upload(y, rows_ * sizeof(double)));
    AIDI_RETURN_IF_ERROR(pairs_.Upload(pairs.data(), pairs.size() * sizeof(uchar4)));
    AIDI_RETURN_IF_ERROR(beta_.Allocate((cols_ + 1) * sizeof(double)));
    AIDI_RETURN_IF_ERROR(
        partial_.Allocate(static_cast<size_t>(blocks_) * num_pairs_ * sizeof(double)));
    AIDI_RETURN_IF_ERROR(out_.Allocate(static_cast<size_t>(num_pairs_) * sizeof(double)));
    return Status::Ok();
  }

  StatusOr<PassSums> Run(std::span<const double> beta, PassWant want) override {
    const int p = static_cast<int>(cols_);
    if (beta.size() != cols_ + 1) return Status::Internal("DeviceRowPass: wrong beta size");
    AIDI_CUDA_RETURN_IF_ERROR(cudaMemcpy(beta_.as<double>(), beta.data(),
                                         beta.size() * sizeof(double), cudaMemcpyHostToDevice));
    // The pair table is ordered so that each level is a prefix: loss and correct, then the
    // gradient, then the Gram matrix.
    const int pairs = want == PassWant::kLoss       ? 2
                      : want == PassWant::kGradient ? 2 + p + 1
                                                    : num_pairs_;
    const size_t smem = (static_cast<size_t>(p) + 1 + kTileRows * (p + 5)) * sizeof(double);
    PassKernel<<<blocks_, kThreads, smem>>>(z_.as<double>(), y_.as<double>(), rows_, p,
                                            beta_.as<double>(), logistic_, pairs_.as<uchar4>(),
                                            pairs, partial_.as<double>());
    AIDI_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    ReduceKernel<<<(pairs + kThreads - 1) / kThreads, kThreads>>>(partial_.as<double>(), blocks_,
                                                                  pairs, out_.as<double>());
    AIDI_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    std::vector<double> out(pairs);
    AIDI_CUDA_RETURN_IF_ERROR(
        cudaMemcpy(out.data(), out_.as<double>(), pairs * sizeof(double), cudaMemcpyDeviceToHost));

    PassSums sums;
    sums.loss = out[0];
    sums.correct = out[1];
    const size_t k = cols_ + 1;
    if (want != PassWant::kLoss) sums.grad.assign(out.begin() + 2, out.begin() + 2 + k);
    if (want == PassWant::kHessian) {
      sums.gram.assign(k * k, 0.0);
      size_t next = 2 + k;
      for (size_t col = 0; col < k; ++col) {
        for (size_t row = col; row < k; ++row) {
          sums.gram[col * k + row] = out[next];
          sums.gram[row * k + col] = out[next];
          ++next;
        }
      }
    }
    return sums;
  }

 private:
  size_t rows_, cols_;
  bool logistic_;
  int num_pairs_ = 0;
  int blocks_ = 1;
  DeviceBuffer z_, y_, pairs_, beta_, partial_, out_;
};

}  // namespace

bool DeviceAvailable() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

StatusOr<std::unique_ptr<RowPass>> MakeDeviceRowPass(const double* z, const double* y, size_t rows,
                                                     size_t cols, bool logistic) {
  if (cols > kMaxColumns) {
    return Status::InvalidArgument("the GPU path trains on at most " + std::to_string(kMaxColumns) +
                                   " features, got " + std::to_string(cols));
  }
  auto pass = std::make_unique<DeviceRowPass>(rows, cols, logistic);
  AIDI_RETURN_IF_ERROR(pass->Init(z, y));
  return std::unique_ptr<RowPass>(std::move(pass));
}

Status DeviceScore(const double* x, size_t rows, size_t cols, const double* weights, double bias,
                   bool logistic, double* score) {
  if (rows == 0) return Status::Ok();
  DeviceBuffer dx, dw, ds;
  AIDI_RETURN_IF_ERROR(dx.Upload(x, rows * cols * sizeof(double)));
  AIDI_RETURN_IF_ERROR(dw.Upload(weights, cols * sizeof(double)));
  AIDI_RETURN_IF_ERROR(ds.Allocate(rows * sizeof(double)));
  const int blocks = BlocksFor((rows + kThreads - 1) / kThreads, 8);
  ScoreKernel<<<blocks, kThreads>>>(dx.as<double>(), rows, static_cast<int>(cols), dw.as<double>(),
                                    bias, logistic, ds.as<double>());
  AIDI_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  AIDI_CUDA_RETURN_IF_ERROR(
      cudaMemcpy(score, ds.as<double>(), rows * sizeof(double), cudaMemcpyDeviceToHost));
  return Status::Ok();
}

}  // namespace aidi::worker::ml::gpu
