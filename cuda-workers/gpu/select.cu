// Stream compaction and gathers of aidi_worker_gpu: Filter, Gather, and SelectFlagged (the row
// indices of set flags, which GroupBy uses on its hash table).
//
// Filter is "flags, scan, scatter" over tiles of 2,048 rows:
//  1. FlagsKernel reads the mask once (value and validity bytes: 2 bytes per row), turns each
//     warp's 32 rows into one 32-bit word with __ballot_sync (1 bit per row: 1/16 of the mask's
//     bytes) and writes each tile's count of kept rows.
//  2. An exclusive scan of the tile counts (cub::DeviceScan, ~50K numbers for 100M rows) gives
//     each tile's first output position; the total sizes the outputs (one 4-byte copy back).
//  3. CompactKernel, once per column, reads the bit words (1/8 byte per row) and the column's
//     values, and writes the kept values to consecutive positions: a warp's position comes from
//     popcounts of the words before it (shuffles and 8 warp totals in shared memory, no global
//     synchronisation), so writes are as coalesced as the selection allows.
// So the bytes moved are the mask once, each column once, the output once, plus 1/8 byte per
// row per column for the bits: close to the minimum a compaction can do. Strings are compacted
// through the kept rows' indices (the same kernel in index mode) and gathered with new offsets.
#include <cuda_runtime.h>

#include <cub/device/device_scan.cuh>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cuda-workers/gpu/device.h"
#include "cuda-workers/gpu/internal.h"

namespace aidi::worker::gpu {
namespace {

using device::DeviceBuffer;
using device::DeviceColumn;
using device::DeviceIndices;

constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;
constexpr int kWordsPerWarp = 8;
constexpr int kTileRows = kBlock * kWordsPerWarp;  // 2,048
constexpr int kTileWords = kTileRows / 32;         // 64

__global__ void __launch_bounds__(kBlock)
    FlagsKernel(const uint8_t* values, const uint8_t* valid, int64_t n, uint32_t* bits,
                uint32_t* tile_counts) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t tile = blockIdx.x;
  const int64_t first = tile * kTileRows + warp * (32 * kWordsPerWarp);
  uint32_t count = 0;
#pragma unroll
  for (int j = 0; j < kWordsPerWarp; ++j) {
    const int64_t row = first + j * 32 + lane;
    bool keep = false;
    if (row < n) keep = values[row] != 0 && (valid == nullptr || valid[row] != 0);
    const uint32_t word = __ballot_sync(0xffffffffu, keep);
    if (lane == 0) bits[tile * kTileWords + warp * kWordsPerWarp + j] = word;
    count += __popc(word);
  }
  __shared__ uint32_t warp_counts[kWarps];
  if (lane == 0) warp_counts[warp] = count;
  __syncthreads();
  if (threadIdx.x == 0) {
    uint32_t total = 0;
    for (int w = 0; w < kWarps; ++w) total += warp_counts[w];
    tile_counts[tile] = total;
  }
}

// Writes the kept rows of `in` (and `in_valid`) to `out` (and `out_valid`). With kIndex the
// value written is the row index itself (uint32) and `in` is unused.
template <typename T, bool kIndex>
__global__ void __launch_bounds__(kBlock)
    CompactKernel(const uint32_t* bits, const uint32_t* tile_offsets, const T* in,
                  const uint8_t* in_valid, T* out, uint8_t* out_valid) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t tile = blockIdx.x;
  const uint32_t my_word =
      lane < kWordsPerWarp ? bits[tile * kTileWords + warp * kWordsPerWarp + lane] : 0u;
  const uint32_t my_count = __popc(my_word);
  uint32_t inclusive = my_count;
#pragma unroll
  for (int d = 1; d < kWordsPerWarp; d *= 2) {
    const uint32_t t = __shfl_up_sync(0xffffffffu, inclusive, d);
    if (lane >= d) inclusive += t;
  }
  const uint32_t exclusive = inclusive - my_count;
  __shared__ uint32_t warp_totals[kWarps];
  if (lane == kWordsPerWarp - 1) warp_totals[warp] = inclusive;
  __syncthreads();
  uint64_t out_base = tile_offsets[tile];
  for (int w = 0; w < warp; ++w) out_base += warp_totals[w];
  const int64_t first = tile * kTileRows + warp * (32 * kWordsPerWarp);
  const uint32_t lower = (1u << lane) - 1u;
#pragma unroll
  for (int j = 0; j < kWordsPerWarp; ++j) {
    const uint32_t word = __shfl_sync(0xffffffffu, my_word, j);
    const uint32_t before = __shfl_sync(0xffffffffu, exclusive, j);
    if ((word >> lane) & 1u) {
      const int64_t row = first + j * 32 + lane;
      const uint64_t pos = out_base + before + __popc(word & lower);
      if constexpr (kIndex) {
        out[pos] = static_cast<T>(row);
      } else {
        out[pos] = in[row];
        if (out_valid != nullptr) out_valid[pos] = in_valid[row];
      }
    }
  }
}

// out[k] = in[indices[k]] (and the validity byte): reads 4 bytes of index and one value per
// output row; the value reads are as scattered as the indices.
template <typename T>
__global__ void __launch_bounds__(kBlock)
    GatherKernel(const uint32_t* indices, int64_t m, const T* in, const uint8_t* in_valid, T* out,
                 uint8_t* out_valid) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < m;
       k += stride) {
    const uint32_t i = indices[k];
    out[k] = in[i];
    if (out_valid != nullptr) out_valid[k] = in_valid[i];
  }
}

__global__ void __launch_bounds__(kBlock)
    StringLengthsKernel(const uint32_t* indices, int64_t m, const uint64_t* offsets,
                        uint64_t* lengths) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < m;
       k += stride) {
    const uint32_t i = indices[k];
    lengths[k] = offsets[i + 1] - offsets[i];
  }
}

// One warp per output string: lanes copy consecutive bytes (coalesced on both sides).
__global__ void __launch_bounds__(kBlock)
    StringCopyKernel(const uint32_t* indices, int64_t m, const uint64_t* offsets, const char* chars,
                     const uint64_t* out_offsets, char* out_chars) {
  const int lane = threadIdx.x % 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  for (int64_t k = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; k < m;
       k += warps) {
    const uint32_t i = indices[k];
    const uint64_t src = offsets[i], len = offsets[i + 1] - src, dst = out_offsets[k];
    for (uint64_t b = lane; b < len; b += 32) out_chars[dst + b] = chars[src + b];
  }
}

// out[0] = 0, out[1..n] = inclusive sums of in[0..n).
template <typename T>
Status PrefixSums(const T* in, T* out, size_t n, const char* what) {
  cudaStream_t s = internal::Stream();
  AIDI_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(out, 0, sizeof(T), s), what);
  if (n == 0) return Status::Ok();
  size_t temp_bytes = 0;
  AIDI_CUDA_RETURN_IF_ERROR(
      cub::DeviceScan::InclusiveSum(nullptr, temp_bytes, in, out + 1, static_cast<int64_t>(n), s),
      what);
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer temp, DeviceBuffer::Allocate(temp_bytes));
  AIDI_CUDA_RETURN_IF_ERROR(cub::DeviceScan::InclusiveSum(temp.data(), temp_bytes, in, out + 1,
                                                          static_cast<int64_t>(n), s),
                            what);
  return Status::Ok();
}

int BlocksFor(int64_t items) { return internal::GridFor(items, kBlock, 8); }

// The bit words, tile offsets and kept count of a byte mask (value != 0 and valid).
struct Selection {
  DeviceBuffer bits;
  DeviceBuffer tile_offsets;
  int64_t tiles = 0;
  size_t count = 0;
};

StatusOr<Selection> Select(const uint8_t* values, const uint8_t* valid, size_t n) {
  Selection sel;
  sel.tiles = (static_cast<int64_t>(n) + kTileRows - 1) / kTileRows;
  const size_t tiles = static_cast<size_t>(sel.tiles);
  AIDI_ASSIGN_OR_RETURN(sel.bits, DeviceBuffer::Allocate(tiles * kTileWords * 4));
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer counts, DeviceBuffer::Allocate(tiles * 4));
  AIDI_ASSIGN_OR_RETURN(sel.tile_offsets, DeviceBuffer::Allocate((tiles + 1) * 4));
  if (tiles > 0) {
    FlagsKernel<<<static_cast<unsigned>(tiles), kBlock, 0, internal::Stream()>>>(
        values, valid, static_cast<int64_t>(n), sel.bits.as<uint32_t>(), counts.as<uint32_t>());
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("filter flags kernel"));
  }
  AIDI_RETURN_IF_ERROR(PrefixSums(counts.as<const uint32_t>(), sel.tile_offsets.as<uint32_t>(),
                                  tiles, "filter scan"));
  uint32_t total = 0;
  AIDI_RETURN_IF_ERROR(
      internal::CopyToHost(&total, sel.tile_offsets.as<uint32_t>() + tiles, 1, "filter count"));
  sel.count = total;
  return std::move(sel);
}

StatusOr<DeviceIndices> CompactIndices(const Selection& sel) {
  DeviceIndices out;
  out.count = sel.count;
  AIDI_ASSIGN_OR_RETURN(out.indices, DeviceBuffer::Allocate(sel.count * 4));
  if (sel.count > 0) {
    CompactKernel<uint32_t, true>
        <<<static_cast<unsigned>(sel.tiles), kBlock, 0, internal::Stream()>>>(
            sel.bits.as<const uint32_t>(), sel.tile_offsets.as<const uint32_t>(), nullptr, nullptr,
            out.indices.as<uint32_t>(), nullptr);
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("compact indices kernel"));
  }
  return std::move(out);
}

StatusOr<DeviceColumn> GatherVarchar(const DeviceColumn& c, const DeviceIndices& idx) {
  DeviceColumn out;
  out.name = c.name;
  out.type = ColumnType::kVarchar;
  out.rows = idx.count;
  const int64_t m = static_cast<int64_t>(idx.count);
  cudaStream_t s = internal::Stream();
  AIDI_ASSIGN_OR_RETURN(out.offsets, DeviceBuffer::Allocate((idx.count + 1) * 8));
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer lengths, DeviceBuffer::Allocate(idx.count * 8));
  if (m > 0) {
    StringLengthsKernel<<<BlocksFor(m), kBlock, 0, s>>>(idx.indices.as<const uint32_t>(), m,
                                                        c.offsets.as<const uint64_t>(),
                                                        lengths.as<uint64_t>());
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("string lengths kernel"));
  }
  AIDI_RETURN_IF_ERROR(PrefixSums(lengths.as<const uint64_t>(), out.offsets.as<uint64_t>(),
                                  idx.count, "string offsets scan"));
  uint64_t total = 0;
  AIDI_RETURN_IF_ERROR(
      internal::CopyToHost(&total, out.offsets.as<uint64_t>() + idx.count, 1, "string bytes"));
  AIDI_ASSIGN_OR_RETURN(out.values, DeviceBuffer::Allocate(total));
  if (total > 0) {
    StringCopyKernel<<<BlocksFor(m * 32), kBlock, 0, s>>>(
        idx.indices.as<const uint32_t>(), m, c.offsets.as<const uint64_t>(),
        c.values.as<const char>(), out.offsets.as<const uint64_t>(), out.values.as<char>());
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("string copy kernel"));
  }
  if (!c.validity.empty()) {
    AIDI_ASSIGN_OR_RETURN(out.validity, DeviceBuffer::Allocate(idx.count));
    if (m > 0) {
      GatherKernel<uint8_t><<<BlocksFor(m), kBlock, 0, s>>>(idx.indices.as<const uint32_t>(), m,
                                                            c.validity.as<const uint8_t>(), nullptr,
                                                            out.validity.as<uint8_t>(), nullptr);
      AIDI_RETURN_IF_ERROR(internal::LaunchStatus("gather validity kernel"));
    }
  }
  return std::move(out);
}

Status CheckRows(size_t rows, const char* what) {
  if (rows > internal::kMaxIndexedRows) {
    return Status::Unavailable(std::string("gpu ") + what + ": more than 2^31 - 1 rows");
  }
  return Status::Ok();
}

}  // namespace

namespace internal {

StatusOr<DeviceIndices> SelectFlagged(const uint8_t* flags, size_t n) {
  AIDI_RETURN_IF_ERROR(CheckRows(n, "select"));
  AIDI_ASSIGN_OR_RETURN(Selection sel, Select(flags, nullptr, n));
  return CompactIndices(sel);
}

}  // namespace internal

namespace device {

StatusOr<std::vector<DeviceColumn>> Filter(const DeviceColumn& mask,
                                           std::span<const DeviceColumn* const> columns) {
  if (mask.type != ColumnType::kBool) {
    return Status::InvalidArgument("gpu filter: mask '" + mask.name + "' is " +
                                   std::string(duckdb::ColumnTypeName(mask.type)) +
                                   ", needs BOOLEAN");
  }
  for (const DeviceColumn* c : columns) {
    if (c->rows != mask.rows) {
      return Status::InvalidArgument("gpu filter: column '" + c->name + "' has " +
                                     std::to_string(c->rows) + " rows, the mask " +
                                     std::to_string(mask.rows));
    }
  }
  AIDI_RETURN_IF_ERROR(CheckRows(mask.rows, "filter"));
  AIDI_ASSIGN_OR_RETURN(
      Selection sel,
      Select(mask.values.as<const uint8_t>(),
             mask.validity.empty() ? nullptr : mask.validity.as<const uint8_t>(), mask.rows));
  std::vector<DeviceColumn> out;
  out.reserve(columns.size());
  DeviceIndices indices;  // made on the first string column
  bool have_indices = false;
  const unsigned grid = static_cast<unsigned>(sel.tiles);
  cudaStream_t s = internal::Stream();
  for (const DeviceColumn* c : columns) {
    if (c->type == ColumnType::kVarchar) {
      if (!have_indices) {
        AIDI_ASSIGN_OR_RETURN(indices, CompactIndices(sel));
        have_indices = true;
      }
      AIDI_ASSIGN_OR_RETURN(DeviceColumn g, GatherVarchar(*c, indices));
      out.push_back(std::move(g));
      continue;
    }
    const bool nullable = !c->validity.empty();
    AIDI_ASSIGN_OR_RETURN(DeviceColumn o,
                          internal::AllocateColumn(c->name, c->type, sel.count, nullable));
    const uint8_t* in_valid = nullable ? c->validity.as<const uint8_t>() : nullptr;
    uint8_t* out_valid = nullable ? o.validity.as<uint8_t>() : nullptr;
    if (sel.count > 0) {
      if (c->type == ColumnType::kBool) {
        CompactKernel<uint8_t, false><<<grid, kBlock, 0, s>>>(
            sel.bits.as<const uint32_t>(), sel.tile_offsets.as<const uint32_t>(),
            c->values.as<const uint8_t>(), in_valid, o.values.as<uint8_t>(), out_valid);
      } else {
        CompactKernel<uint64_t, false><<<grid, kBlock, 0, s>>>(
            sel.bits.as<const uint32_t>(), sel.tile_offsets.as<const uint32_t>(),
            c->values.as<const uint64_t>(), in_valid, o.values.as<uint64_t>(), out_valid);
      }
      AIDI_RETURN_IF_ERROR(internal::LaunchStatus("filter compact kernel"));
    }
    out.push_back(std::move(o));
  }
  return std::move(out);
}

StatusOr<DeviceColumn> Gather(const DeviceColumn& column, const DeviceIndices& indices) {
  AIDI_RETURN_IF_ERROR(CheckRows(column.rows, "gather"));
  if (column.type == ColumnType::kVarchar) return GatherVarchar(column, indices);
  const bool nullable = !column.validity.empty();
  AIDI_ASSIGN_OR_RETURN(DeviceColumn out, internal::AllocateColumn(column.name, column.type,
                                                                   indices.count, nullable));
  const int64_t m = static_cast<int64_t>(indices.count);
  if (m == 0) return std::move(out);
  const uint8_t* in_valid = nullable ? column.validity.as<const uint8_t>() : nullptr;
  uint8_t* out_valid = nullable ? out.validity.as<uint8_t>() : nullptr;
  cudaStream_t s = internal::Stream();
  if (column.type == ColumnType::kBool) {
    GatherKernel<uint8_t><<<BlocksFor(m), kBlock, 0, s>>>(
        indices.indices.as<const uint32_t>(), m, column.values.as<const uint8_t>(), in_valid,
        out.values.as<uint8_t>(), out_valid);
  } else {
    GatherKernel<uint64_t><<<BlocksFor(m), kBlock, 0, s>>>(
        indices.indices.as<const uint32_t>(), m, column.values.as<const uint64_t>(), in_valid,
        out.values.as<uint64_t>(), out_valid);
  }
  AIDI_RETURN_IF_ERROR(internal::LaunchStatus("gather kernel"));
  return std::move(out);
}

}  // namespace device
}  // namespace aidi::worker::gpu
