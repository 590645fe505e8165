// Sorting and grouping of aidi_worker_gpu: SortIndices (LSD radix sort over encoded keys with
// cub::DeviceRadixSort) and GroupBy (hash aggregation).
//
// SortIndices: each key column, least significant first, is encoded into an order-preserving
// uint64 (int64: flip the sign bit; double: the IEEE total-order trick with -0.0 folded into
// 0.0 and every NaN made the one NaN above +inf; bool: 0/1; descending: bitwise not; NULL: above
// every value, or a separate 1-bit pass for int64, whose encoding uses all 64 bits), gathered
// through the permutation so far, and the (key, row) pairs are radix sorted. Radix sort is
// stable, so ties keep the order of the previous passes and finally of the rows. Each pass
// reads/writes 12 bytes per row per radix digit pass: sorting is the one primitive here that is
// not a single streaming pass.
//
// GroupBy, few groups (the common case: tens to hundreds of groups over millions of rows): each
// block builds its own hash table in shared memory (keys copied in, open addressing) with one
// accumulator set per group, aggregates its share of the rows there, then merges its groups
// into a small global table with global atomics: per-row traffic is the key and value columns
// read once; everything else happens in shared memory or once per block. Lanes of a warp that
// hit the same group first combine their values with shuffles (__match_any_sync + a
// log-step peer reduction), so one lane per group does the shared-memory atomics and a column
// with one hot group does not serialise. Many groups: when a block's table overflows, the whole
// job reruns against one global table sized for every row being its own group (atomics in L2,
// still warp-combined). Either way the groups are compacted, finished (mean, int128 sums
// checked against int64) and sorted by key on the device.
#include <cuda_runtime.h>

#include <cub/device/device_radix_sort.cuh>

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
constexpr uint64_t kSign = 0x8000000000000000ull;
constexpr uint64_t kCanonicalNaN = 0x7ff8000000000000ull;

__device__ __forceinline__ double AsDouble(uint64_t b) {
  return __longlong_as_double(static_cast<long long>(b));
}
__device__ __forceinline__ uint64_t Bits(double d) {
  return static_cast<uint64_t>(__double_as_longlong(d));
}

// Order-preserving encoding of a double: NaN (any) above +inf; `fold_zero` maps -0.0 to 0.0.
__device__ __forceinline__ uint64_t EncodeDouble(uint64_t bits, bool fold_zero) {
  const double d = AsDouble(bits);
  if (isnan(d)) bits = kCanonicalNaN;
  if (fold_zero && d == 0) bits = 0;
  return (bits & kSign) ? ~bits : (bits | kSign);
}
__device__ __forceinline__ uint64_t DecodeDouble(uint64_t enc) {
  return (enc & kSign) ? (enc ^ kSign) : ~enc;
}

// =============================================================================================
// SortIndices
// =============================================================================================

enum KeyKind : int { kKeyInt64 = 0, kKeyDouble = 1, kKeyBool = 2, kKeyNullFlag = 3 };

__global__ void __launch_bounds__(kBlock)
    EncodeKeysKernel(const uint32_t* perm, int64_t n, const uint64_t* words, const uint8_t* bytes,
                     const uint8_t* valid, int kind, bool desc, uint64_t* keys) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    const uint32_t row = perm != nullptr ? perm[i] : static_cast<uint32_t>(i);
    const bool ok = valid == nullptr || valid[row] != 0;
    uint64_t k;
    switch (kind) {
      case kKeyNullFlag:
        k = ok ? 0 : 1;
        break;
      case kKeyInt64:  // NULLs are ordered by the separate null-flag pass
        k = ok ? (words[row] ^ kSign) : 0;
        if (desc) k = ~k;
        break;
      case kKeyDouble:
        if (!ok) {
          k = ~0ull;  // no value encodes to this (NaN is canonical), ascending or descending
        } else {
          k = EncodeDouble(words[row], true);
          if (desc) k = ~k;
        }
        break;
      default:  // kKeyBool
        k = !ok ? 2 : (desc ? 1u - bytes[row] : bytes[row]);
        break;
    }
    keys[i] = k;
  }
}

__global__ void __launch_bounds__(kBlock) IotaKernel(uint32_t* out, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = static_cast<uint32_t>(i);
  }
}

int Blocks(int64_t items) { return internal::GridFor(items, kBlock, 8); }

// =============================================================================================
// GroupBy
// =============================================================================================

constexpr int kMaxKeys = 8;
constexpr int kMaxAggs = 8;
constexpr uint32_t kLocalSlots = 256;  // per-block shared table ("few groups")
constexpr uint32_t kLocalProbes = 64;  // a fuller table than that: too many groups
constexpr uint32_t kFewGlobalSlots = 1024;

enum AccKind : uint8_t {
  kAccSumInt,     // f0 low, f1 high 64 bits of an int128 sum; f2 count
  kAccSumDouble,  // f0 double bits; f2 count
  kAccMin,        // f0 encoded extreme (unsigned order); f2 count
  kAccMax,
  kAccCountRows,  // f2 count of rows
  kAccCountValid  // f2 count of non-NULL values
};

struct KeyInput {
  const uint64_t* words;  // Int64
  const uint8_t* bytes;   // Bool
  const uint8_t* valid;   // nullptr: no NULLs
  bool is_bool;
};

struct AggInput {
  const uint64_t* words;
  const uint8_t* valid;
  uint8_t acc;
  bool is_double;
};

// Open addressing over a power-of-two number of slots. state: 0 empty, 1 being written, else
// 0x80000000 | hash bits. Accumulators: acc[(agg * 3 + field) * cap + slot].
struct Table {
  uint32_t* state;
  uint32_t* nulls;  // bit k: key k is NULL
  uint64_t* keys;   // keys[k * cap + slot]
  uint64_t* acc;
  uint32_t cap;
};

struct GroupParams {
  int64_t rows;
  int num_keys;
  int num_aggs;
  KeyInput keys[kMaxKeys];
  AggInput aggs[kMaxAggs];
  Table global;
  int* overflow;
};

__device__ __forceinline__ uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

__device__ __forceinline__ uint64_t HashKeys(const uint64_t (&key)[kMaxKeys], uint32_t nulls,
                                             int num_keys) {
  uint64_t h = Mix(0x9e3779b97f4a7c15ull + nulls);
  for (int k = 0; k < num_keys; ++k) h = Mix(h ^ (key[k] + 0x9e3779b97f4a7c15ull * (k + 1)));
  return h;
}

// The slot holding this key (inserting it if new), or -1 after `max_probes` slots.
__device__ int FindOrInsert(const Table& t, uint64_t hash, const uint64_t (&key)[kMaxKeys],
                            uint32_t nulls, int num_keys, uint32_t max_probes) {
  const uint32_t tag = 0x80000000u | static_cast<uint32_t>(hash >> 33);
  uint32_t idx = static_cast<uint32_t>(hash) & (t.cap - 1);
  for (uint32_t probe = 0; probe < max_probes; ++probe, idx = (idx + 1) & (t.cap - 1)) {
    volatile uint32_t* st = t.state + idx;
    uint32_t s = *st;
    if (s == 0) {
      s = atomicCAS(t.state + idx, 0u, 1u);
      if (s == 0) {  // ours: publish the keys, then the tag
        for (int k = 0; k < num_keys; ++k) t.keys[static_cast<size_t>(k) * t.cap + idx] = key[k];
        t.nulls[idx] = nulls;
        __threadfence();
        atomicExch(t.state + idx, tag);
        return static_cast<int>(idx);
      }
    }
    while (s == 1) s = *st;  // another thread is writing this slot's keys
    if (s != tag) continue;
    __threadfence();
    const volatile uint64_t* keys = t.keys;
    bool same = *(const volatile uint32_t*)(t.nulls + idx) == nulls;
    for (int k = 0; same && k < num_keys; ++k)
      same = keys[static_cast<size_t>(k) * t.cap + idx] == key[k];
    if (same) return static_cast<int>(idx);
  }
  return -1;
}

__device__ __forceinline__ void Identity(uint8_t acc, uint64_t& f0, uint64_t& f1, uint64_t& f2) {
  f0 = acc == kAccMin ? ~0ull : 0;
  f1 = 0;
  f2 = 0;
}

__device__ __forceinline__ void Combine(uint8_t acc, uint64_t& f0, uint64_t& f1, uint64_t& f2,
                                        uint64_t g0, uint64_t g1, uint64_t g2) {
  switch (acc) {
    case kAccSumInt: {
      const uint64_t lo = f0 + g0;
      f1 = f1 + g1 + (lo < f0 ? 1 : 0);
      f0 = lo;
      break;
    }
    case kAccSumDouble:
      if (g2 != 0) f0 = f2 == 0 ? g0 : Bits(AsDouble(f0) + AsDouble(g0));
      break;
    case kAccMin:
      f0 = g0 < f0 ? g0 : f0;
      break;
    case kAccMax:
      f0 = g0 > f0 ? g0 : f0;
      break;
    default:
      break;
  }
  f2 += g2;
}

// Lanes with the same `peers` mask combine their fields; the lowest lane of each group ends
// with the group's total. All 32 lanes must call it (NVIDIA's "reduce_peers" pattern).
__device__ __forceinline__ void ReducePeers(unsigned peers, uint8_t acc, uint64_t& f0, uint64_t& f1,
                                            uint64_t& f2) {
  const int lane = threadIdx.x % 32;
  unsigned rest = peers & (0xfffffffeu << lane);  // peers above this lane
  int rel = __popc(peers & ((1u << lane) - 1u));  // position among the peers
  while (__any_sync(0xffffffffu, rest != 0)) {
    const int next = __ffs(rest);  // 1-based; 0: none
    const int src = next != 0 ? next - 1 : lane;
    const uint64_t g0 = __shfl_sync(0xffffffffu, f0, src);
    const uint64_t g1 = __shfl_sync(0xffffffffu, f1, src);
    const uint64_t g2 = __shfl_sync(0xffffffffu, f2, src);
    if (next != 0) Combine(acc, f0, f1, f2, g0, g1, g2);
    rest &= ~__ballot_sync(0xffffffffu, rel & 1);  // odd positions were just absorbed
    rel >>= 1;
  }
}

// Adds one combined contribution to slot `slot` of `acc` (shared or global memory).
__device__ __forceinline__ void AtomicMerge(uint64_t* acc, uint32_t cap, int agg, int slot,
                                            uint8_t kind, uint64_t f0, uint64_t f1, uint64_t f2) {
  if (f2 == 0) return;  // nothing (all NULL) to add
  unsigned long long* a0 =
      reinterpret_cast<unsigned long long*>(acc + (static_cast<size_t>(agg) * 3 + 0) * cap + slot);
  unsigned long long* a1 = a0 + cap;
  unsigned long long* a2 = a1 + cap;
  switch (kind) {
    case kAccSumInt: {
      const unsigned long long old = atomicAdd(a0, static_cast<unsigned long long>(f0));
      const unsigned long long carry = old + f0 < old ? 1 : 0;
      if (f1 + carry != 0) atomicAdd(a1, static_cast<unsigned long long>(f1 + carry));
      break;
    }
    case kAccSumDouble:
      atomicAdd(reinterpret_cast<double*>(a0), AsDouble(f0));
      break;
    case kAccMin:
      atomicMin(a0, static_cast<unsigned long long>(f0));
      break;
    case kAccMax:
      atomicMax(a0, static_cast<unsigned long long>(f0));
      break;
    default:
      break;
  }
  atomicAdd(a2, static_cast<unsigned long long>(f2));
}

__device__ __forceinline__ void LoadKeys(const GroupParams& p, int64_t row,
                                         uint64_t (&key)[kMaxKeys], uint32_t& nulls) {
  nulls = 0;
  for (int k = 0; k < p.num_keys; ++k) {
    const KeyInput& in = p.keys[k];
    const bool ok = in.valid == nullptr || in.valid[row] != 0;
    key[k] = !ok ? 0 : (in.is_bool ? (in.bytes[row] != 0 ? 1 : 0) : in.words[row]);
    if (!ok) nulls |= 1u << k;
  }
}

// Every lane of the warp calls this for its row (`slot` -1: inactive, nothing to add).
__device__ __forceinline__ void AccumulateRow(const GroupParams& p, const Table& t, int slot,
                                              int64_t row, bool active) {
  const int lane = threadIdx.x % 32;
  const unsigned peers = __match_any_sync(0xffffffffu, slot);
  const bool leader = (peers & ((1u << lane) - 1u)) == 0;
  for (int a = 0; a < p.num_aggs; ++a) {
    const AggInput& in = p.aggs[a];
    uint64_t f0, f1, f2;
    Identity(in.acc, f0, f1, f2);
    if (active && slot >= 0) {
      const bool ok = in.valid == nullptr || in.valid[row] != 0;
      if (in.acc == kAccCountRows) {
        f2 = 1;
      } else if (ok) {
        f2 = 1;
        if (in.acc != kAccCountValid) {
          const uint64_t x = in.words[row];
          switch (in.acc) {
            case kAccSumInt:
              f0 = x;
              f1 = (x & kSign) ? ~0ull : 0;
              break;
            case kAccSumDouble:
              f0 = x;
              break;
            default:  // min / max
              f0 = in.is_double ? EncodeDouble(x, false) : (x ^ kSign);
              break;
          }
        }
      }
    }
    ReducePeers(peers, in.acc, f0, f1, f2);
    if (leader && slot >= 0) AtomicMerge(t.acc, t.cap, a, slot, in.acc, f0, f1, f2);
  }
}

__device__ __forceinline__ void InitAcc(const GroupParams& p, uint64_t* acc, uint32_t cap,
                                        uint32_t slot) {
  for (int a = 0; a < p.num_aggs; ++a) {
    uint64_t f0, f1, f2;
    Identity(p.aggs[a].acc, f0, f1, f2);
    acc[(static_cast<size_t>(a) * 3 + 0) * cap + slot] = f0;
    acc[(static_cast<size_t>(a) * 3 + 1) * cap + slot] = f1;
    acc[(static_cast<size_t>(a) * 3 + 2) * cap + slot] = f2;
  }
}

__global__ void __launch_bounds__(kBlock) InitTableKernel(const __grid_constant__ GroupParams p) {
  const Table& t = p.global;
  for (uint32_t s = blockIdx.x * blockDim.x + threadIdx.x; s < t.cap; s += gridDim.x * blockDim.x) {
    t.state[s] = 0;
    t.nulls[s] = 0;
    InitAcc(p, t.acc, t.cap, s);
  }
}

// kShared: per-block table in shared memory, merged into p.global at the end ("few groups").
// Otherwise every row goes straight to p.global (sized so it cannot fill).
template <bool kShared>
__global__ void __launch_bounds__(kBlock) GroupByKernel(const __grid_constant__ GroupParams p) {
  extern __shared__ uint64_t smem[];
  __shared__ int block_overflow;
  Table t = p.global;
  uint32_t max_probes = p.global.cap;
  if (kShared) {
    const uint32_t cap = kLocalSlots;
    t.acc = smem;
    t.keys = t.acc + static_cast<size_t>(p.num_aggs) * 3 * cap;
    t.state = reinterpret_cast<uint32_t*>(t.keys + static_cast<size_t>(p.num_keys) * cap);
    t.nulls = t.state + cap;
    t.cap = cap;
    max_probes = kLocalProbes;
    for (uint32_t s = threadIdx.x; s < cap; s += blockDim.x) {
      t.state[s] = 0;
      t.nulls[s] = 0;
      InitAcc(p, t.acc, cap, s);
    }
    if (threadIdx.x == 0) block_overflow = 0;
    __syncthreads();
  }
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  // `base` is the same for the whole block, so every warp runs the same number of iterations.
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * blockDim.x; base < p.rows;
       base += stride) {
    const int64_t row = base + threadIdx.x;
    const bool active = row < p.rows;
    int slot = -1;
    if (active && !(kShared && *(volatile int*)&block_overflow)) {
      uint64_t key[kMaxKeys];
      uint32_t nulls;
      LoadKeys(p, row, key, nulls);
      slot = FindOrInsert(t, HashKeys(key, nulls, p.num_keys), key, nulls, p.num_keys, max_probes);
      if (slot < 0) {
        atomicExch(p.overflow, 1);
        if (kShared) block_overflow = 1;
      }
    }
    AccumulateRow(p, t, slot, row, active);
  }
  if (!kShared) return;
  __syncthreads();
  if (block_overflow) return;
  for (uint32_t s = threadIdx.x; s < t.cap; s += blockDim.x) {
    if (t.state[s] == 0) continue;
    uint64_t key[kMaxKeys];
    for (int k = 0; k < p.num_keys; ++k) key[k] = t.keys[static_cast<size_t>(k) * t.cap + s];
    const uint32_t nulls = t.nulls[s];
    const int g = FindOrInsert(p.global, HashKeys(key, nulls, p.num_keys), key, nulls, p.num_keys,
                               p.global.cap);
    if (g < 0) {
      atomicExch(p.overflow, 1);
      continue;
    }
    for (int a = 0; a < p.num_aggs; ++a) {
      const size_t f = static_cast<size_t>(a) * 3 * t.cap + s;
      AtomicMerge(p.global.acc, p.global.cap, a, g, p.aggs[a].acc, t.acc[f], t.acc[f + t.cap],
                  t.acc[f + 2 * t.cap]);
    }
  }
}

__global__ void __launch_bounds__(kBlock)
    OccupiedKernel(const uint32_t* state, uint32_t cap, uint8_t* flags) {
  for (uint32_t s = blockIdx.x * blockDim.x + threadIdx.x; s < cap; s += gridDim.x * blockDim.x) {
    flags[s] = state[s] != 0 ? 1 : 0;
  }
}

struct EmitParams {
  const uint32_t* slots;  // the occupied slots, one per group
  int64_t groups;
  Table table;
  int num_keys;
  int num_aggs;
  bool key_is_bool[kMaxKeys];
  void* key_out[kMaxKeys];
  uint8_t* key_valid[kMaxKeys];
  uint8_t agg_kind[kMaxAggs];  // AggregateKind
  uint8_t agg_acc[kMaxAggs];
  bool agg_double[kMaxAggs];  // the input column is Double
  uint64_t* agg_out[kMaxAggs];
  uint8_t* agg_valid[kMaxAggs];  // nullptr: counts (never NULL)
  int* sum_overflow;
};

__global__ void __launch_bounds__(kBlock) EmitKernel(const __grid_constant__ EmitParams p) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const uint32_t cap = p.table.cap;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < p.groups;
       g += stride) {
    const uint32_t s = p.slots[g];
    const uint32_t nulls = p.table.nulls[s];
    for (int k = 0; k < p.num_keys; ++k) {
      const uint64_t v = p.table.keys[static_cast<size_t>(k) * cap + s];
      const bool is_null = (nulls >> k) & 1u;
      if (p.key_is_bool[k]) {
        static_cast<uint8_t*>(p.key_out[k])[g] = is_null ? 0 : static_cast<uint8_t>(v);
      } else {
        static_cast<uint64_t*>(p.key_out[k])[g] = is_null ? 0 : v;
      }
      p.key_valid[k][g] = is_null ? 0 : 1;
    }
    for (int a = 0; a < p.num_aggs; ++a) {
      const size_t f = static_cast<size_t>(a) * 3 * cap + s;
      const uint64_t f0 = p.table.acc[f], f1 = p.table.acc[f + cap], n = p.table.acc[f + 2 * cap];
      uint64_t out = 0;
      bool valid = n != 0;
      switch (static_cast<AggregateKind>(p.agg_kind[a])) {
        case AggregateKind::kCount:
        case AggregateKind::kCountColumn:
          out = n;
          valid = true;
          break;
        case AggregateKind::kSum:
          if (!valid) break;
          if (p.agg_acc[a] == kAccSumInt) {
            // The int128 (f1:f0) fits int64 when f1 is f0's sign extension.
            if (f1 != ((f0 & kSign) ? ~0ull : 0ull)) atomicExch(p.sum_overflow, 1);
            out = f0;
          } else {
            out = f0;
          }
          break;
        case AggregateKind::kMean:
          if (!valid) break;
          if (p.agg_acc[a] == kAccSumInt) {
            const bool fits = f1 == ((f0 & kSign) ? ~0ull : 0ull);
            const double sum = fits
                                   ? __ll2double_rn(static_cast<long long>(f0))
                                   : __dadd_rn(__dmul_rn(__ll2double_rn(static_cast<long long>(f1)),
                                                         18446744073709551616.0),
                                               __ull2double_rn(f0));
            out = Bits(__ddiv_rn(sum, __ull2double_rn(n)));
          } else {
            out = Bits(__ddiv_rn(AsDouble(f0), __ull2double_rn(n)));
          }
          break;
        case AggregateKind::kMin:
        case AggregateKind::kMax:
          if (!valid) break;
          out = p.agg_double[a] ? DecodeDouble(f0) : (f0 ^ kSign);
          break;
      }
      p.agg_out[a][g] = valid ? out : 0;
      if (p.agg_valid[a] != nullptr) p.agg_valid[a][g] = valid ? 1 : 0;
    }
  }
}

thread_local const char* last_strategy = "none";

uint32_t NextPow2(uint64_t x) {
  uint64_t c = 1;
  while (c < x) c <<= 1;
  return static_cast<uint32_t>(c);
}

}  // namespace

namespace device {

const char* LastGroupByStrategy() { return last_strategy; }

StatusOr<DeviceIndices> SortIndices(std::span<const DeviceColumn* const> keys,
                                    std::span<const SortDirection> directions,
                                    std::optional<size_t> limit) {
  if (keys.empty() || keys.size() != directions.size()) {
    return Status::InvalidArgument("gpu sort: needs at least one key and one direction per key");
  }
  const size_t n = keys[0]->rows;
  for (const DeviceColumn* k : keys) {
    if (k->type == ColumnType::kVarchar) {
      return Status::Unavailable("gpu sort: VARCHAR keys sort on the CPU");
    }
    if (k->rows != n) return Status::InvalidArgument("gpu sort: key columns differ in rows");
  }
  if (n > internal::kMaxIndexedRows)
    return Status::Unavailable("gpu sort: more than 2^31 - 1 rows");
  cudaStream_t s = internal::Stream();
  DeviceIndices out;
  out.count = limit ? std::min(*limit, n) : n;
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer perm_a, DeviceBuffer::Allocate(n * 4));
  if (n == 0) {
    out.indices = std::move(perm_a);
    return std::move(out);
  }
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer perm_b, DeviceBuffer::Allocate(n * 4));
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer keys_a, DeviceBuffer::Allocate(n * 8));
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer keys_b, DeviceBuffer::Allocate(n * 8));
  const int64_t ni = static_cast<int64_t>(n);
  IotaKernel<<<Blocks(ni), kBlock, 0, s>>>(perm_a.as<uint32_t>(), ni);
  AIDI_RETURN_IF_ERROR(internal::LaunchStatus("iota kernel"));
  // The passes, least significant first: for each key (last to first) its value, then (int64
  // with NULLs) its null flag above it.
  struct Pass {
    const DeviceColumn* column;
    int kind;
    bool desc;
    int bits;
  };
  std::vector<Pass> passes;
  for (size_t i = keys.size(); i-- > 0;) {
    const DeviceColumn* c = keys[i];
    const bool desc = directions[i] == SortDirection::kDescending;
    switch (c->type) {
      case ColumnType::kInt64:
        passes.push_back({c, kKeyInt64, desc, 64});
        if (!c->validity.empty()) passes.push_back({c, kKeyNullFlag, false, 1});
        break;
      case ColumnType::kDouble:
        passes.push_back({c, kKeyDouble, desc, 64});
        break;
      default:
        passes.push_back({c, kKeyBool, desc, 2});
        break;
    }
  }
  DeviceBuffer temp;
  DeviceBuffer* perm_cur = &perm_a;
  DeviceBuffer* perm_alt = &perm_b;
  bool first = true;
  for (const Pass& pass : passes) {
    const DeviceColumn& c = *pass.column;
    EncodeKeysKernel<<<Blocks(ni), kBlock, 0, s>>>(
        first ? nullptr : perm_cur->as<const uint32_t>(), ni, c.values.as<const uint64_t>(),
        c.values.as<const uint8_t>(), c.validity.empty() ? nullptr : c.validity.as<const uint8_t>(),
        pass.kind, pass.desc, keys_a.as<uint64_t>());
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("encode keys kernel"));
    first = false;
    cub::DoubleBuffer<uint64_t> kb(keys_a.as<uint64_t>(), keys_b.as<uint64_t>());
    cub::DoubleBuffer<uint32_t> vb(perm_cur->as<uint32_t>(), perm_alt->as<uint32_t>());
    size_t temp_bytes = 0;
    AIDI_CUDA_RETURN_IF_ERROR(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, kb, vb,
                                                              static_cast<int>(n), 0, pass.bits, s),
                              "radix sort size");
    if (temp_bytes > temp.size()) {
      AIDI_ASSIGN_OR_RETURN(temp, DeviceBuffer::Allocate(temp_bytes));
    }
    AIDI_CUDA_RETURN_IF_ERROR(cub::DeviceRadixSort::SortPairs(temp.data(), temp_bytes, kb, vb,
                                                              static_cast<int>(n), 0, pass.bits, s),
                              "radix sort");
    if (vb.Current() != perm_cur->as<uint32_t>()) std::swap(perm_cur, perm_alt);
    // The sorted keys may sit in keys_b; the next pass overwrites keys_a from scratch anyway.
  }
  out.indices = std::move(*perm_cur);
  return std::move(out);
}

StatusOr<std::vector<Column>> GroupBy(std::span<const DeviceColumn* const> keys,
                                      std::span<const DeviceColumn* const> values,
                                      std::span<const Aggregate> aggregates) {
  if (keys.empty() || keys.size() > static_cast<size_t>(kMaxKeys)) {
    return Status::Unavailable("gpu groupby: 1 to " + std::to_string(kMaxKeys) +
                               " keys run on the GPU");
  }
  if (aggregates.size() > static_cast<size_t>(kMaxAggs)) {
    return Status::Unavailable("gpu groupby: more than " + std::to_string(kMaxAggs) +
                               " aggregates");
  }
  const size_t n = keys[0]->rows;
  if (n > internal::kMaxIndexedRows) {
    return Status::Unavailable("gpu groupby: more than 2^31 - 1 rows");
  }
  GroupParams p{};
  p.rows = static_cast<int64_t>(n);
  p.num_keys = static_cast<int>(keys.size());
  p.num_aggs = static_cast<int>(aggregates.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    const DeviceColumn& c = *keys[k];
    if (c.rows != n) return Status::InvalidArgument("gpu groupby: key columns differ in rows");
    if (c.type != ColumnType::kInt64 && c.type != ColumnType::kBool) {
      return Status::Unavailable("gpu groupby: key '" + c.name + "' is " +
                                 std::string(duckdb::ColumnTypeName(c.type)) +
                                 " (BIGINT and BOOLEAN keys run on the GPU)");
    }
    p.keys[k] = KeyInput{c.values.as<const uint64_t>(), c.values.as<const uint8_t>(),
                         c.validity.empty() ? nullptr : c.validity.as<const uint8_t>(),
                         c.type == ColumnType::kBool};
  }
  for (size_t a = 0; a < aggregates.size(); ++a) {
    const Aggregate& agg = aggregates[a];
    AggInput& in = p.aggs[a];
    if (agg.kind == AggregateKind::kCount) {
      in.acc = kAccCountRows;
      continue;
    }
    if (agg.column < 0 || static_cast<size_t>(agg.column) >= values.size()) {
      return Status::InvalidArgument("gpu groupby: aggregate '" + agg.name +
                                     "' names no value column");
    }
    const DeviceColumn& c = *values[static_cast<size_t>(agg.column)];
    if (c.rows != n) return Status::InvalidArgument("gpu groupby: value columns differ in rows");
    in.valid = c.validity.empty() ? nullptr : c.validity.as<const uint8_t>();
    if (agg.kind == AggregateKind::kCountColumn) {
      in.acc = kAccCountValid;
      continue;
    }
    if (c.type != ColumnType::kInt64 && c.type != ColumnType::kDouble) {
      return Status::Unavailable("gpu groupby: aggregate '" + agg.name + "' over " +
                                 std::string(duckdb::ColumnTypeName(c.type)));
    }
    in.words = c.values.as<const uint64_t>();
    in.is_double = c.type == ColumnType::kDouble;
    switch (agg.kind) {
      case AggregateKind::kSum:
      case AggregateKind::kMean:
        in.acc = in.is_double ? kAccSumDouble : kAccSumInt;
        break;
      case AggregateKind::kMin:
        in.acc = kAccMin;
        break;
      default:
        in.acc = kAccMax;
        break;
    }
  }

  cudaStream_t s = internal::Stream();
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer overflow, DeviceBuffer::Allocate(2 * sizeof(int)));
  p.overflow = overflow.as<int>();
  // Table storage for `cap` slots.
  DeviceBuffer state, nulls, tkeys, acc;
  auto make_table = [&](uint32_t cap) -> Status {
    AIDI_ASSIGN_OR_RETURN(state, DeviceBuffer::Allocate(size_t{cap} * 4));
    AIDI_ASSIGN_OR_RETURN(nulls, DeviceBuffer::Allocate(size_t{cap} * 4));
    AIDI_ASSIGN_OR_RETURN(tkeys, DeviceBuffer::Allocate(size_t{cap} * 8 * keys.size()));
    AIDI_ASSIGN_OR_RETURN(
        acc, DeviceBuffer::Allocate(size_t{cap} * 24 * std::max<size_t>(1, aggregates.size())));
    p.global = Table{state.as<uint32_t>(), nulls.as<uint32_t>(), tkeys.as<uint64_t>(),
                     acc.as<uint64_t>(), cap};
    InitTableKernel<<<Blocks(cap), kBlock, 0, s>>>(p);
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("groupby init kernel"));
    return internal::CudaStatus(cudaMemsetAsync(overflow.data(), 0, 2 * sizeof(int), s),
                                "groupby flags");
  };

  int overflowed = 0;
  if (n > 0) {
    AIDI_RETURN_IF_ERROR(make_table(kFewGlobalSlots));
    const size_t smem = size_t{kLocalSlots} * (aggregates.size() * 24 + keys.size() * 8 + 8);
    AIDI_CUDA_RETURN_IF_ERROR(
        cudaFuncSetAttribute(GroupByKernel<true>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(smem)),
        "groupby shared memory");
    GroupByKernel<true><<<internal::GridFor(p.rows, kBlock, 4), kBlock, smem, s>>>(p);
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("groupby kernel"));
    AIDI_RETURN_IF_ERROR(internal::CopyToHost(&overflowed, overflow.data(), 1, "groupby flag"));
    last_strategy = "shared";
  }
  if (overflowed != 0) {  // many groups: one global table with room for every row
    AIDI_RETURN_IF_ERROR(make_table(NextPow2(std::max<uint64_t>(2 * n, 1024))));
    GroupByKernel<false><<<internal::GridFor(p.rows, kBlock, 8), kBlock, 0, s>>>(p);
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("groupby kernel"));
    AIDI_RETURN_IF_ERROR(internal::CopyToHost(&overflowed, overflow.data(), 1, "groupby flag"));
    if (overflowed != 0) return Status::Internal("gpu groupby: global table overflowed");
    last_strategy = "global";
  }

  // Compact the occupied slots, finish each group, sort by key.
  DeviceIndices groups;
  if (n > 0) {
    AIDI_ASSIGN_OR_RETURN(DeviceBuffer flags, DeviceBuffer::Allocate(p.global.cap));
    OccupiedKernel<<<Blocks(p.global.cap), kBlock, 0, s>>>(p.global.state, p.global.cap,
                                                           flags.as<uint8_t>());
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("groupby occupied kernel"));
    AIDI_ASSIGN_OR_RETURN(groups, internal::SelectFlagged(flags.as<const uint8_t>(), p.global.cap));
  }
  const size_t g = groups.count;
  std::vector<DeviceColumn> key_cols, agg_cols;
  EmitParams e{};
  e.slots = groups.indices.as<const uint32_t>();
  e.groups = static_cast<int64_t>(g);
  e.table = p.global;
  e.num_keys = p.num_keys;
  e.num_aggs = p.num_aggs;
  e.sum_overflow = p.overflow + 1;
  for (size_t k = 0; k < keys.size(); ++k) {
    AIDI_ASSIGN_OR_RETURN(DeviceColumn c,
                          internal::AllocateColumn(keys[k]->name, keys[k]->type, g, true));
    e.key_is_bool[k] = keys[k]->type == ColumnType::kBool;
    e.key_out[k] = c.values.data();
    e.key_valid[k] = c.validity.as<uint8_t>();
    key_cols.push_back(std::move(c));
  }
  for (size_t a = 0; a < aggregates.size(); ++a) {
    const Aggregate& agg = aggregates[a];
    ColumnType type = ColumnType::kInt64;
    bool nullable = true;
    switch (agg.kind) {
      case AggregateKind::kCount:
      case AggregateKind::kCountColumn:
        nullable = false;
        break;
      case AggregateKind::kMean:
        type = ColumnType::kDouble;
        break;
      default:
        type = values[static_cast<size_t>(agg.column)]->type;
        break;
    }
    AIDI_ASSIGN_OR_RETURN(DeviceColumn c, internal::AllocateColumn(agg.name, type, g, nullable));
    e.agg_kind[a] = static_cast<uint8_t>(agg.kind);
    e.agg_acc[a] = p.aggs[a].acc;
    e.agg_double[a] = p.aggs[a].is_double;
    e.agg_out[a] = c.values.as<uint64_t>();
    e.agg_valid[a] = nullable ? c.validity.as<uint8_t>() : nullptr;
    agg_cols.push_back(std::move(c));
  }
  if (g > 0) {
    EmitKernel<<<Blocks(static_cast<int64_t>(g)), kBlock, 0, s>>>(e);
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("groupby emit kernel"));
    int sum_overflow = 0;
    AIDI_RETURN_IF_ERROR(
        internal::CopyToHost(&sum_overflow, p.overflow + 1, 1, "groupby sum overflow"));
    if (sum_overflow != 0) {
      return Status::Unavailable("gpu groupby: an int64 sum overflows BIGINT");
    }
  }
  std::vector<const DeviceColumn*> key_ptrs;
  for (const DeviceColumn& c : key_cols) key_ptrs.push_back(&c);
  const std::vector<SortDirection> asc(key_ptrs.size(), SortDirection::kAscending);
  AIDI_ASSIGN_OR_RETURN(DeviceIndices order, SortIndices(key_ptrs, asc, std::nullopt));
  std::vector<Column> result;
  for (std::vector<DeviceColumn>* cols : {&key_cols, &agg_cols}) {
    for (const DeviceColumn& c : *cols) {
      AIDI_ASSIGN_OR_RETURN(DeviceColumn sorted, Gather(c, order));
      AIDI_ASSIGN_OR_RETURN(Column host, Download(sorted));
      result.push_back(std::move(host));
    }
  }
  return std::move(result);
}

}  // namespace device
}  // namespace aidi::worker::gpu
