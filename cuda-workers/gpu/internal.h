// Helpers shared by the .cu files and runtime.cc of aidi_worker_gpu: CUDA error to Status,
// the per-thread stream, launch sizes. Includes CUDA headers: never include it from a public
// header (gpu.h and device.h stay plain C++).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "cuda-workers/gpu/device.h"

namespace aidi::worker::gpu::internal {

// OK for cudaSuccess; Unavailable otherwise ("cuda: <what>: <error string>"), so the caller
// falls back to its CPU path. Clears the thread's last (non-sticky) error.
Status CudaStatus(cudaError_t err, const char* what);

// The stream every primitive uses: the calling thread's own default stream.
inline cudaStream_t Stream() { return cudaStreamPerThread; }

int SmCount();  // of the current device; 0 when there is none

// A grid for a grid-stride kernel over `work_items` (threads' worth of work): enough blocks of
// `block` threads to fill every SM `blocks_per_sm` times (the loop covers the rest), at least 1.
int GridFor(int64_t work_items, int block, int blocks_per_sm);

// Rows above this are declined (Unavailable) by the primitives that index rows with uint32.
inline constexpr size_t kMaxIndexedRows = 0x7fffffff;

// Checks that a kernel launch went through.
inline Status LaunchStatus(const char* what) { return CudaStatus(cudaGetLastError(), what); }

// Copies `count` T from device to host, on the stream, and waits.
template <typename T>
Status CopyToHost(T* host, const void* device, size_t count, const char* what) {
  if (count == 0) return Status::Ok();
  cudaError_t err =
      cudaMemcpyAsync(host, device, count * sizeof(T), cudaMemcpyDeviceToHost, Stream());
  if (err == cudaSuccess) err = cudaStreamSynchronize(Stream());
  return CudaStatus(err, what);
}

// Selects the row indices i < n with flags[i] != 0, in order (select.cu; GroupBy uses it to
// compact its hash table).
StatusOr<device::DeviceIndices> SelectFlagged(const uint8_t* flags, size_t n);

// An empty DeviceColumn of `type` with room for `rows` values (and validity when `nullable`).
StatusOr<device::DeviceColumn> AllocateColumn(std::string name, ColumnType type, size_t rows,
                                              bool nullable);

size_t ValueBytes(ColumnType type);  // 8, 8, 1; 0 for varchar

}  // namespace aidi::worker::gpu::internal

#define AIDI_CUDA_RETURN_IF_ERROR(call, what) \
  AIDI_RETURN_IF_ERROR(::aidi::worker::gpu::internal::CudaStatus((call), (what)))
