// Device-resident columns and the primitives of gpu.h on them, for callers that chain GPU steps
// without a round trip through host memory (an op's filter then groupby) and for bench/gpu,
// which times kernels alone. Only exists where the build has CUDA (AIDI_WORKER_CUDA); plain C++
// (device pointers are plain pointers), so g++ code may include it.
//
// Memory comes from the device's stream-ordered pool (cudaMallocAsync) and every call runs on
// the calling thread's stream (cudaStreamPerThread): calls are asynchronous unless they must
// read a size or a result back (Filter's output size, Stats, Histogram, GroupBy), and a buffer
// may be freed as soon as the last call using it was issued. A DeviceColumn belongs to one
// thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "cuda-workers/duckdb/column.h"
#include "cuda-workers/expr/program.h"
#include "cuda-workers/gpu/gpu.h"

namespace aidi::worker::gpu::device {

// Owns `bytes` of device memory (nullptr when empty). Move-only.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Unavailable when the device is out of memory; a 0-byte buffer holds nullptr.
  [[nodiscard]] static StatusOr<DeviceBuffer> Allocate(size_t bytes);

  void* data() const { return ptr_; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t size() const { return bytes_; }
  bool empty() const { return bytes_ == 0; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// A Column in device memory: the same layout as duckdb::Column (int64/double as 8 bytes, bool as
// one byte 0/1, varchar as chars plus rows + 1 uint64 offsets) except that `validity` may be
// empty, meaning no NULLs (kernels then skip reading it).
struct DeviceColumn {
  std::string name;
  ColumnType type = ColumnType::kInt64;
  size_t rows = 0;
  DeviceBuffer values;    // int64 / double / uint8 bools / varchar chars
  DeviceBuffer offsets;   // varchar only: rows + 1 uint64
  DeviceBuffer validity;  // rows bytes, or empty: every row valid
};

// Host <-> device. Upload leaves `validity` empty when the column has no NULLs. Download waits
// for the stream.
[[nodiscard]] StatusOr<DeviceColumn> Upload(const Column& column);
[[nodiscard]] StatusOr<Column> Download(const DeviceColumn& column);
// Waits for everything this thread issued.
[[nodiscard]] Status Synchronize();

// `slots[i]` is the column for program.columns[i] (the program's input slot i, not a schema
// index); every slot must have `rows` rows.
[[nodiscard]] StatusOr<DeviceColumn> Evaluate(const expr::Program& program,
                                              std::span<const DeviceColumn* const> slots,
                                              size_t rows);
[[nodiscard]] StatusOr<std::vector<DeviceColumn>> Filter(
    const DeviceColumn& mask, std::span<const DeviceColumn* const> columns);
[[nodiscard]] StatusOr<ColumnStats> Stats(const DeviceColumn& column);
[[nodiscard]] StatusOr<DeviceColumn> Normalize(const DeviceColumn& column, NormalizeMethod method,
                                               const ColumnStats& stats, ZeroRange on_zero_range);
[[nodiscard]] StatusOr<HistogramResult> Histogram(const DeviceColumn& column, int64_t bins,
                                                  double min, double max);
// Result columns are on the host (a group table is small), in gpu::GroupBy's order.
[[nodiscard]] StatusOr<std::vector<Column>> GroupBy(std::span<const DeviceColumn* const> keys,
                                                    std::span<const DeviceColumn* const> values,
                                                    std::span<const Aggregate> aggregates);

// Row indices as uint32 (rows are limited to 2^31 - 1 per call for the index-based primitives).
struct DeviceIndices {
  DeviceBuffer indices;  // `count` uint32
  size_t count = 0;
};
[[nodiscard]] StatusOr<DeviceIndices> SortIndices(std::span<const DeviceColumn* const> keys,
                                                  std::span<const SortDirection> directions,
                                                  std::optional<size_t> limit);
// Host <-> device for indices: UploadIndices checks each index is in [0, rows).
[[nodiscard]] StatusOr<DeviceIndices> UploadIndices(std::span<const int64_t> indices, size_t rows);
[[nodiscard]] StatusOr<std::vector<int64_t>> DownloadIndices(const DeviceIndices& indices);

// Indices must be < column.rows (not checked on the device; gpu::Gather checks on the host).
[[nodiscard]] StatusOr<DeviceColumn> Gather(const DeviceColumn& column,
                                            const DeviceIndices& indices);

// Which strategy GroupBy used last on this thread (for bench/gpu and tests): "shared" (few
// groups: per-block shared-memory tables) or "global" (many groups: one global hash table).
const char* LastGroupByStrategy();

}  // namespace aidi::worker::gpu::device
