// The CUDA runtime side of aidi_worker_gpu that needs no kernels: device discovery, device
// memory from the stream-ordered pool, host <-> device column copies. Plain host code (g++).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cuda-workers/gpu/device.h"
#include "cuda-workers/gpu/gpu.h"
#include "cuda-workers/gpu/internal.h"

namespace aidi::worker::gpu {
namespace {

struct DeviceInfo {
  bool available = false;
  bool pools = false;  // cudaMallocAsync works
  int sm_count = 0;
  std::string description;
};

const DeviceInfo& Info() {
  static const DeviceInfo info = [] {
    DeviceInfo d;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count <= 0) {
      d.description = std::string("no CUDA device (") +
                      (err != cudaSuccess ? cudaGetErrorString(err) : "0 devices") + ")";
      cudaGetLastError();
      return d;
    }
    int dev = 0;
    cudaDeviceProp prop{};
    if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
      d.description = "no CUDA device (cannot read its properties)";
      cudaGetLastError();
      return d;
    }
    int pools = 0;
    if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, dev) == cudaSuccess &&
        pools != 0) {
      cudaMemPool_t pool;
      if (cudaDeviceGetDefaultMemPool(&pool, dev) == cudaSuccess) {
        // Keep freed blocks in the pool: a worker runs one op at a time and reuses the sizes.
        uint64_t threshold = UINT64_MAX;
        d.pools = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold) ==
                  cudaSuccess;
      }
    }
    cudaGetLastError();
    d.available = true;
    d.sm_count = prop.multiProcessorCount;
    char buf[96];
    std::snprintf(buf, sizeof buf, ", sm_%d%d, %d SMs, %.1f GiB", prop.major, prop.minor,
                  prop.multiProcessorCount,
                  static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    d.description = std::string(prop.name) + buf;
    return d;
  }();
  return info;
}

}  // namespace

bool Available() { return Info().available; }
std::string DeviceDescription() { return Info().description; }

double ColumnStats::VariancePop() const {
  return count == 0 ? std::numeric_limits<double>::quiet_NaN() : m2 / static_cast<double>(count);
}
double ColumnStats::StdPop() const { return std::sqrt(VariancePop()); }

namespace internal {

Status CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::Ok();
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  return Status::Unavailable(std::string("cuda: ") + what + ": " + cudaGetErrorName(err) + " (" +
                             cudaGetErrorString(err) + ")");
}

int SmCount() { return Info().sm_count; }

int GridFor(int64_t work_items, int block, int blocks_per_sm) {
  const int64_t needed = (work_items + block - 1) / block;
  const int64_t full = static_cast<int64_t>(std::max(SmCount(), 1)) * blocks_per_sm;
  return static_cast<int>(std::max<int64_t>(1, std::min(needed, full)));
}

size_t ValueBytes(ColumnType type) {
  switch (type) {
    case ColumnType::kInt64:
    case ColumnType::kDouble:
      return 8;
    case ColumnType::kBool:
      return 1;
    case ColumnType::kVarchar:
      return 0;
  }
  return 0;
}

StatusOr<device::DeviceColumn> AllocateColumn(std::string name, ColumnType type, size_t rows,
                                              bool nullable) {
  device::DeviceColumn c;
  c.name = std::move(name);
  c.type = type;
  c.rows = rows;
  AIDI_ASSIGN_OR_RETURN(c.values, device::DeviceBuffer::Allocate(rows * ValueBytes(type)));
  if (nullable) {
    AIDI_ASSIGN_OR_RETURN(c.validity, device::DeviceBuffer::Allocate(rows));
  }
  return c;
}

}  // namespace internal

namespace device {

DeviceBuffer::~DeviceBuffer() {
  if (ptr_ == nullptr) return;
  // Stream-ordered: the memory returns to the pool after the work already issued on this
  // thread's stream. A buffer must not be freed from another thread while still in use there.
  if (Info().pools) {
    cudaFreeAsync(ptr_, internal::Stream());
  } else {
    cudaFree(ptr_);
  }
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    DeviceBuffer gone(std::move(*this));
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

StatusOr<DeviceBuffer> DeviceBuffer::Allocate(size_t bytes) {
  DeviceBuffer b;
  if (bytes == 0) return b;
  if (!Available()) return Status::Unavailable("cuda: " + DeviceDescription());
  void* p = nullptr;
  const cudaError_t err =
      Info().pools ? cudaMallocAsync(&p, bytes, internal::Stream()) : cudaMalloc(&p, bytes);
  AIDI_CUDA_RETURN_IF_ERROR(err, ("allocate " + std::to_string(bytes) + " bytes").c_str());
  b.ptr_ = p;
  b.bytes_ = bytes;
  return b;
}

namespace {

Status CopyUp(DeviceBuffer& dst, const void* src, size_t bytes, const char* what) {
  AIDI_ASSIGN_OR_RETURN(dst, DeviceBuffer::Allocate(bytes));
  if (bytes == 0) return Status::Ok();
  // From pageable memory the call returns once the source is staged, so `src` may go away.
  return internal::CudaStatus(
      cudaMemcpyAsync(dst.data(), src, bytes, cudaMemcpyHostToDevice, internal::Stream()), what);
}

}  // namespace

StatusOr<DeviceColumn> Upload(const Column& column) {
  if (auto bad = column.Inconsistency()) {
    return Status::InvalidArgument("gpu: column '" + column.name + "': " + *bad);
  }
  DeviceColumn d;
  d.name = column.name;
  d.type = column.type;
  d.rows = column.size();
  switch (column.type) {
    case ColumnType::kInt64:
      AIDI_RETURN_IF_ERROR(CopyUp(d.values, column.int64s.data(), d.rows * 8, "upload int64"));
      break;
    case ColumnType::kDouble:
      AIDI_RETURN_IF_ERROR(CopyUp(d.values, column.doubles.data(), d.rows * 8, "upload double"));
      break;
    case ColumnType::kBool:
      AIDI_RETURN_IF_ERROR(CopyUp(d.values, column.bools.data(), d.rows, "upload bool"));
      break;
    case ColumnType::kVarchar:
      AIDI_RETURN_IF_ERROR(
          CopyUp(d.values, column.chars.data(), column.chars.size(), "upload chars"));
      AIDI_RETURN_IF_ERROR(
          CopyUp(d.offsets, column.offsets.data(), (d.rows + 1) * 8, "upload offsets"));
      break;
  }
  const bool has_nulls =
      std::find(column.validity.begin(), column.validity.end(), 0) != column.validity.end();
  if (has_nulls) {
    AIDI_RETURN_IF_ERROR(CopyUp(d.validity, column.validity.data(), d.rows, "upload validity"));
  }
  return d;
}

StatusOr<Column> Download(const DeviceColumn& d) {
  Column c;
  c.name = d.name;
  c.type = d.type;
  const size_t n = d.rows;
  cudaStream_t s = internal::Stream();
  auto down = [&](void* dst, const DeviceBuffer& src, size_t bytes) {
    if (bytes == 0) return cudaSuccess;
    return cudaMemcpyAsync(dst, src.data(), bytes, cudaMemcpyDeviceToHost, s);
  };
  cudaError_t err = cudaSuccess;
  switch (d.type) {
    case ColumnType::kInt64:
      c.int64s.resize(n);
      err = down(c.int64s.data(), d.values, n * 8);
      break;
    case ColumnType::kDouble:
      c.doubles.resize(n);
      err = down(c.doubles.data(), d.values, n * 8);
      break;
    case ColumnType::kBool:
      c.bools.resize(n);
      err = down(c.bools.data(), d.values, n);
      break;
    case ColumnType::kVarchar:
      c.offsets.resize(n + 1);
      c.chars.resize(d.values.size());
      err = down(c.offsets.data(), d.offsets, (n + 1) * 8);
      if (err == cudaSuccess) err = down(c.chars.data(), d.values, d.values.size());
      break;
  }
  if (err == cudaSuccess) {
    if (d.validity.empty()) {
      c.validity.assign(n, 1);
    } else {
      c.validity.resize(n);
      err = down(c.validity.data(), d.validity, n);
    }
  }
  if (err == cudaSuccess) err = cudaStreamSynchronize(s);
  AIDI_CUDA_RETURN_IF_ERROR(err, "download");
  if (d.type == ColumnType::kVarchar && n == 0 && d.offsets.empty()) c.offsets.assign(1, 0);
  return c;
}

StatusOr<DeviceIndices> UploadIndices(std::span<const int64_t> indices, size_t rows) {
  if (rows > internal::kMaxIndexedRows) {
    return Status::Unavailable("gpu: more than 2^31 - 1 rows");
  }
  std::vector<uint32_t> narrow(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || static_cast<uint64_t>(indices[i]) >= rows) {
      return Status::InvalidArgument("gpu gather: index " + std::to_string(indices[i]) +
                                     " at position " + std::to_string(i) + " is not a row of " +
                                     std::to_string(rows));
    }
    narrow[i] = static_cast<uint32_t>(indices[i]);
  }
  DeviceIndices d;
  d.count = indices.size();
  AIDI_RETURN_IF_ERROR(CopyUp(d.indices, narrow.data(), narrow.size() * 4, "upload indices"));
  // `narrow` dies here: wait until the copy has read it (pageable copies are staged, but keep
  // this independent of that detail).
  AIDI_RETURN_IF_ERROR(Synchronize());
  return d;
}

StatusOr<std::vector<int64_t>> DownloadIndices(const DeviceIndices& indices) {
  std::vector<uint32_t> narrow(indices.count);
  AIDI_RETURN_IF_ERROR(internal::CopyToHost(narrow.data(), indices.indices.data(), narrow.size(),
                                            "download indices"));
  return std::vector<int64_t>(narrow.begin(), narrow.end());
}

Status Synchronize() {
  return internal::CudaStatus(cudaStreamSynchronize(internal::Stream()), "synchronize");
}

}  // namespace device
}  // namespace aidi::worker::gpu
