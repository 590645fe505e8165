// Streaming kernels of aidi_worker_gpu: Evaluate (the expression bytecode interpreter) and
// Normalize (elementwise), Stats (one reduction pass) and Histogram (privatised counters).
//
// Bandwidth reasoning shared by all four: each reads its inputs exactly once and writes its
// output once. A thread owns 4 consecutive rows per step, so a warp moves 1 KiB of 8-byte values
// with two 16-byte loads per lane and 128 bytes of validity with one 4-byte load per lane, fully
// coalesced; grids are sized to fill every SM several times (grid-stride loops) so enough bytes
// are in flight to cover HBM latency. Arithmetic is a few instructions per row and hides behind
// the memory traffic. Validity is only read when the column has NULLs.
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "cuda-workers/gpu/device.h"
#include "cuda-workers/gpu/internal.h"

namespace aidi::worker::gpu {
namespace {

using device::DeviceBuffer;
using device::DeviceColumn;
using expr::Op;
using expr::Type;

constexpr int kBlock = 256;
constexpr int kBlocksPerSm = 8;

// ---- loads and stores of 4 consecutive rows (row % 4 == 0; device buffers are 16-byte aligned).

__device__ __forceinline__ void Load4(const uint64_t* p, int64_t row, int64_t n, uint64_t (&v)[4]) {
  if (row + 4 <= n) {
    const ulonglong2 a = *reinterpret_cast<const ulonglong2*>(p + row);
    const ulonglong2 b = *reinterpret_cast<const ulonglong2*>(p + row + 2);
    v[0] = a.x;
    v[1] = a.y;
    v[2] = b.x;
    v[3] = b.y;
  } else {
#pragma unroll
    for (int r = 0; r < 4; ++r) v[r] = row + r < n ? p[row + r] : 0;
  }
}

// Bit r set when byte row + r is non-zero (rows at or past n: 0).
__device__ __forceinline__ uint32_t Load4Flags(const uint8_t* p, int64_t row, int64_t n) {
  uint32_t w = 0;
  if (row + 4 <= n) {
    w = *reinterpret_cast<const uint32_t*>(p + row);
  } else {
    for (int r = 0; r < 4; ++r) {
      if (row + r < n) w |= static_cast<uint32_t>(p[row + r]) << (8 * r);
    }
  }
  uint32_t bits = 0;
#pragma unroll
  for (int r = 0; r < 4; ++r) bits |= ((w >> (8 * r)) & 0xffu) != 0 ? (1u << r) : 0u;
  return bits;
}

__device__ __forceinline__ uint32_t Validity4(const uint8_t* valid, int64_t row, int64_t n) {
  uint32_t in_range = 0;
#pragma unroll
  for (int r = 0; r < 4; ++r) in_range |= row + r < n ? (1u << r) : 0u;
  return valid == nullptr ? in_range : (Load4Flags(valid, row, n) & in_range);
}

__device__ __forceinline__ void Store4(uint64_t* p, int64_t row, int64_t n,
                                       const uint64_t (&v)[4]) {
  if (row + 4 <= n) {
    *reinterpret_cast<ulonglong2*>(p + row) = make_ulonglong2(v[0], v[1]);
    *reinterpret_cast<ulonglong2*>(p + row + 2) = make_ulonglong2(v[2], v[3]);
  } else {
    for (int r = 0; r < 4; ++r) {
      if (row + r < n) p[row + r] = v[r];
    }
  }
}

// Byte row + r = bit r of `bits` (0 or 1).
__device__ __forceinline__ void Store4Flags(uint8_t* p, int64_t row, int64_t n, uint32_t bits) {
  uint32_t w = 0;
#pragma unroll
  for (int r = 0; r < 4; ++r) w |= ((bits >> r) & 1u) << (8 * r);
  if (row + 4 <= n) {
    *reinterpret_cast<uint32_t*>(p + row) = w;
  } else {
    for (int r = 0; r < 4; ++r) {
      if (row + r < n) p[row + r] = static_cast<uint8_t>((w >> (8 * r)) & 0xffu);
    }
  }
}

__device__ __forceinline__ double AsDouble(uint64_t b) {
  return __longlong_as_double(static_cast<long long>(b));
}
__device__ __forceinline__ uint64_t Bits(double d) {
  return static_cast<uint64_t>(__double_as_longlong(d));
}

// =============================================================================================
// Evaluate: one thread interprets the program for 4 rows at a time.
//
// The program sits in the kernel's parameter space (__grid_constant__: the constant bank, read
// by all threads of a warp at once, a broadcast), so it costs no memory bandwidth. The value
// stack keeps its top two entries in registers (4 rows each); deeper entries go to a
// thread-local array, which only programs deeper than two values touch. Every warp runs the
// same instruction at the same time (the dispatch is uniform); the per-row work is the same
// scalar code as expr/eval.cc, with IEEE intrinsics (__dadd_rn ...) so nvcc never fuses a
// multiply and an add into an FMA that the CPU reference would round differently.
// =============================================================================================

constexpr int kMaxCode = 216;  // with kMaxSlots keeps the parameters under the classic 4 KiB
constexpr int kMaxSlots = 16;
constexpr int kMaxStack = 32;

struct EvalInstr {
  uint8_t op;
  uint8_t type;
  uint8_t operand;
  uint8_t pad;
  int32_t arg;
  uint64_t imm;
};

struct EvalSlot {
  const uint64_t* words;  // Int64 / Double
  const uint8_t* bytes;   // Bool
  const uint8_t* valid;   // nullptr: no NULLs
};

struct EvalParams {
  int64_t rows;
  uint64_t* out_words;  // Int64 / Double result
  uint8_t* out_bytes;   // Bool result
  uint8_t* out_valid;
  int32_t code_len;
  uint8_t result_type;
  EvalSlot slots[kMaxSlots];
  EvalInstr code[kMaxCode];
};
static_assert(sizeof(EvalParams) <= 4000, "kernel parameters must stay under 4 KiB");

__host__ __device__ constexpr uint8_t U(Op op) { return static_cast<uint8_t>(op); }
__host__ __device__ constexpr uint8_t U(Type t) { return static_cast<uint8_t>(t); }

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// Int64 + - * % as eval.cc's Arith: false (NULL) on overflow or % 0.
__device__ __forceinline__ bool ArithInt(uint8_t op, int64_t a, int64_t b, int64_t& r) {
  switch (op) {
    case U(Op::kAdd):
      r = static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
      return ((a ^ r) & (b ^ r)) >= 0;
    case U(Op::kSub):
      r = static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
      return ((a ^ b) & (a ^ r)) >= 0;
    case U(Op::kMul): {
      r = static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
      const int64_t hi = __mul64hi(a, b);
      return hi == (r >> 63);  // the 128-bit product fits iff the high half is the sign of r
    }
    case U(Op::kMod):
      if (b == 0) return false;
      if (b == -1) {  // INT64_MIN % -1 is 0 (and would trap)
        r = 0;
        return true;
      }
      r = a % b;  // truncating, sign of the dividend, like C++
      return true;
    default:
      r = 0;
      return false;  // cannot happen: Bind types / as Double; the host checked the opcodes
  }
}

__device__ __forceinline__ bool ArithDouble(uint8_t op, double a, double b, double& r) {
  switch (op) {
    case U(Op::kAdd):
      r = __dadd_rn(a, b);
      return true;
    case U(Op::kSub):
      r = __dsub_rn(a, b);
      return true;
    case U(Op::kMul):
      r = __dmul_rn(a, b);
      return true;
    case U(Op::kDiv):
      if (b == 0) return false;  // 0.0 and -0.0
      r = __ddiv_rn(a, b);
      return true;
    case U(Op::kMod):
      if (b == 0) return false;
      r = fmod(a, b);  // exact, like C fmod: fmod(5, inf) = 5, fmod(inf, 2) = NaN
      return true;
    default:
      r = 0;
      return false;
  }
}

// DuckDB's total order on doubles: NaN = NaN, NaN above +inf, -0.0 = 0.0.
__device__ __forceinline__ int CompareDouble(double a, double b) {
  const bool an = isnan(a), bn = isnan(b);
  if (an || bn) return an && bn ? 0 : (an ? 1 : -1);
  return a == b ? 0 : (a < b ? -1 : 1);
}

__device__ __forceinline__ bool CompareResult(uint8_t op, int c) {
  switch (op) {
    case U(Op::kEq):
      return c == 0;
    case U(Op::kNe):
      return c != 0;
    case U(Op::kLt):
      return c < 0;
    case U(Op::kLe):
      return c <= 0;
    case U(Op::kGt):
      return c > 0;
    default:
      return c >= 0;  // kGe
  }
}

// One-operand ops (not is_null) on a valid value: false means NULL.
__device__ __forceinline__ bool UnaryOp(uint8_t op, uint8_t operand, uint64_t a, uint64_t& r) {
  const int64_t ai = static_cast<int64_t>(a);
  switch (op) {
    case U(Op::kToDouble):
      r = Bits(__ll2double_rn(ai));
      return true;
    case U(Op::kNot):
      r = a == 0 ? 1 : 0;
      return true;
    case U(Op::kNeg):
      if (operand == U(Type::kInt64)) {
        if (ai == kInt64Min) return false;
        r = static_cast<uint64_t>(-ai);
        return true;
      }
      r = a ^ 0x8000000000000000ull;  // flips the sign bit like x86's negation (NaN too)
      return true;
    case U(Op::kAbs):
      if (operand == U(Type::kInt64)) {
        if (ai == kInt64Min) return false;
        r = static_cast<uint64_t>(ai < 0 ? -ai : ai);
        return true;
      }
      r = a & 0x7fffffffffffffffull;
      return true;
    case U(Op::kLog): {
      const double d = AsDouble(a);
      if (isnan(d)) {
        r = a;
        return true;
      }
      if (d <= 0) return false;
      r = Bits(log(d));
      return true;
    }
    case U(Op::kSqrt): {
      const double d = AsDouble(a);
      if (isnan(d)) {
        r = a;
        return true;
      }
      if (d < 0) return false;  // sqrt(-0.0) = -0.0
      r = Bits(sqrt(d));
      return true;
    }
    case U(Op::kExp):
      r = Bits(exp(AsDouble(a)));
      return true;
    default:
      return false;  // cannot happen: the host checked the opcodes
  }
}

__global__ void __launch_bounds__(kBlock) EvaluateKernel(const __grid_constant__ EvalParams p) {
  const int64_t n = p.rows;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x * 4;
  for (int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * 4; row < n;
       row += stride) {
    uint64_t t[4] = {0, 0, 0, 0};  // top of stack
    uint64_t s[4] = {0, 0, 0, 0};  // second
    uint32_t tv = 0, sv = 0;       // validity bits (bit r: row + r)
    uint64_t deep[kMaxStack][4];   // entries below the top two (thread-local memory)
    uint32_t deepv[kMaxStack];
    int depth = 0;
    auto push = [&](const uint64_t(&v)[4], uint32_t vv) {
      if (depth >= 2) {
#pragma unroll
        for (int r = 0; r < 4; ++r) deep[depth - 2][r] = s[r];
        deepv[depth - 2] = sv;
      }
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        s[r] = t[r];
        t[r] = v[r];
      }
      sv = tv;
      tv = vv;
      ++depth;
    };
    // After a two-operand op replaced `s, t` by its result in `t`.
    auto drop_second = [&]() {
      --depth;
      if (depth >= 2) {
#pragma unroll
        for (int r = 0; r < 4; ++r) s[r] = deep[depth - 2][r];
        sv = deepv[depth - 2];
      }
    };
    for (int pc = 0; pc < p.code_len; ++pc) {
      const EvalInstr& ins = p.code[pc];
      const uint8_t op = ins.op;
      uint64_t v[4];
      if (op == U(Op::kColumn)) {
        const EvalSlot& slot = p.slots[ins.arg];
        if (ins.type == U(Type::kBool)) {
          const uint32_t b = Load4Flags(slot.bytes, row, n);
#pragma unroll
          for (int r = 0; r < 4; ++r) v[r] = (b >> r) & 1u;
        } else {
          Load4(slot.words, row, n, v);
        }
        push(v, Validity4(slot.valid, row, n));
      } else if (op <= U(Op::kConstNull)) {  // constants (strings were declined on the host)
        const uint64_t c = op == U(Op::kConstBool)   ? (ins.imm != 0 ? 1 : 0)
                           : op == U(Op::kConstNull) ? 0
                                                     : ins.imm;
#pragma unroll
        for (int r = 0; r < 4; ++r) v[r] = c;
        push(v, op == U(Op::kConstNull) ? 0u : 0xfu);
      } else if (op == U(Op::kIsNull)) {
#pragma unroll
        for (int r = 0; r < 4; ++r) t[r] = ((tv >> r) & 1u) ? 0 : 1;
        tv = 0xfu;
      } else if (op == U(Op::kToDouble) || op == U(Op::kNeg) || op == U(Op::kNot) ||
                 op >= U(Op::kAbs)) {
        uint32_t out = 0;
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          uint64_t res = 0;
          if (((tv >> r) & 1u) && UnaryOp(op, ins.operand, t[r], res)) out |= 1u << r;
          t[r] = res;
        }
        tv = out;
      } else if (op == U(Op::kAnd) || op == U(Op::kOr)) {
        // Kleene: false and x = false, true or x = true, otherwise NULL if either is NULL.
        const bool is_and = op == U(Op::kAnd);
        uint32_t out = 0;
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const bool av = (sv >> r) & 1u, bv = (tv >> r) & 1u;
          const bool a = s[r] != 0, b = t[r] != 0;
          uint64_t res = 0;
          bool valid;
          if (is_and) {
            if ((av && !a) || (bv && !b)) {
              valid = true;
              res = 0;
            } else {
              valid = av && bv;
              res = valid ? 1 : 0;
            }
          } else {
            if ((av && a) || (bv && b)) {
              valid = true;
              res = 1;
            } else {
              valid = av && bv;
              res = 0;
            }
          }
          t[r] = res;
          if (valid) out |= 1u << r;
        }
        tv = out;
        drop_second();
      } else if (op >= U(Op::kEq) && op <= U(Op::kGe)) {
        const uint32_t out = sv & tv;
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          int c;
          if (ins.operand == U(Type::kDouble)) {
            c = CompareDouble(AsDouble(s[r]), AsDouble(t[r]));
          } else {  // Int64 and Bool compare as integers
            const int64_t a = static_cast<int64_t>(s[r]), b = static_cast<int64_t>(t[r]);
            c = a < b ? -1 : (a > b ? 1 : 0);
          }
          t[r] = ((out >> r) & 1u) && CompareResult(op, c) ? 1 : 0;
        }
        tv = out;
        drop_second();
      } else {  // kAdd kSub kMul kDiv kMod, in the result's type
        uint32_t out = 0;
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          uint64_t res = 0;
          if (((sv & tv) >> r) & 1u) {
            bool ok;
            if (ins.type == U(Type::kInt64)) {
              int64_t ri;
              ok = ArithInt(op, static_cast<int64_t>(s[r]), static_cast<int64_t>(t[r]), ri);
              res = static_cast<uint64_t>(ri);
            } else {
              double rd;
              ok = ArithDouble(op, AsDouble(s[r]), AsDouble(t[r]), rd);
              res = Bits(rd);
            }
            if (ok) {
              out |= 1u << r;
            } else {
              res = 0;
            }
          }
          t[r] = res;
        }
        tv = out;
        drop_second();
      }
    }
    // The result is the top of the stack; a NULL row's slot holds 0.
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      if (!((tv >> r) & 1u)) t[r] = 0;
    }
    if (p.result_type == U(Type::kBool)) {
      uint32_t bits = 0;
#pragma unroll
      for (int r = 0; r < 4; ++r) bits |= (t[r] != 0 ? 1u : 0u) << r;
      Store4Flags(p.out_bytes, row, n, bits);
    } else {
      Store4(p.out_words, row, n, t);
    }
    Store4Flags(p.out_valid, row, n, tv);
  }
}

ColumnType ToColumnType(Type t) {
  switch (t) {
    case Type::kInt64:
      return ColumnType::kInt64;
    case Type::kDouble:
      return ColumnType::kDouble;
    case Type::kBool:
      return ColumnType::kBool;
    case Type::kString:
      break;
  }
  return ColumnType::kVarchar;
}

// Checks what the kernel relies on: known opcodes, column slots in range, the stack never
// underflows and stays within kMaxStack, one value left at the end.
Status CheckProgram(const expr::Program& program) {
  if (program.uses_strings || program.result_type == Type::kString) {
    return Status::Unavailable("gpu evaluate: expressions with strings run on the CPU");
  }
  if (program.code.empty()) return Status::InvalidArgument("gpu evaluate: empty program");
  if (program.code.size() > static_cast<size_t>(kMaxCode) ||
      program.columns.size() > static_cast<size_t>(kMaxSlots) || program.max_stack > kMaxStack) {
    return Status::Unavailable("gpu evaluate: program too large for the kernel (" +
                               std::to_string(program.code.size()) + " instructions, " +
                               std::to_string(program.columns.size()) + " columns, stack " +
                               std::to_string(program.max_stack) + ")");
  }
  int depth = 0;
  for (const expr::Instruction& ins : program.code) {
    int pops = 0;
    if (ins.op > Op::kSqrt) return Status::InvalidArgument("gpu evaluate: unknown opcode");
    if (ins.op == Op::kColumn) {
      if (ins.arg < 0 || static_cast<size_t>(ins.arg) >= program.columns.size()) {
        return Status::InvalidArgument("gpu evaluate: column slot out of range");
      }
    } else if (ins.op == Op::kConstString || ins.type == Type::kString ||
               ins.operand == Type::kString) {
      return Status::Unavailable("gpu evaluate: expressions with strings run on the CPU");
    } else if (ins.op >= Op::kToDouble && ins.op <= Op::kNot) {
      pops = 1;
    } else if (ins.op >= Op::kAdd && ins.op <= Op::kOr) {
      pops = 2;
    } else if (ins.op >= Op::kIsNull) {
      pops = 1;
    }
    if (depth < pops) return Status::InvalidArgument("gpu evaluate: stack underflow");
    depth += 1 - pops;
    if (depth > kMaxStack) return Status::Unavailable("gpu evaluate: stack too deep");
  }
  if (depth != 1)
    return Status::InvalidArgument("gpu evaluate: program leaves " + std::to_string(depth) +
                                   " values");
  return Status::Ok();
}

// =============================================================================================
// Normalize: out = (x - center) / scale, two IEEE operations per row (no FMA), exactly what
// the CPU computes; reads 8 (+1) bytes and writes 8 (+1) bytes per row.
// =============================================================================================

struct NormalizeParams {
  const uint64_t* in;
  const uint8_t* in_valid;  // nullptr: no NULLs
  uint64_t* out;
  uint8_t* out_valid;  // nullptr when the output has no NULLs
  int64_t rows;
  double center;
  double scale;
  int mode;  // 0: divide; 1: NULL; 2: 0.0; 3: NaN (the last three: zero range)
  bool is_int;
};

__global__ void __launch_bounds__(kBlock) NormalizeKernel(const NormalizeParams p) {
  const int64_t n = p.rows;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x * 4;
  for (int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * 4; row < n;
       row += stride) {
    uint64_t v[4];
    Load4(p.in, row, n, v);
    uint32_t valid = Validity4(p.in_valid, row, n);
    if (p.mode == 1) valid = 0;
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const double x = p.is_int ? __ll2double_rn(static_cast<long long>(v[r])) : AsDouble(v[r]);
      double y = p.mode == 0   ? __ddiv_rn(__dsub_rn(x, p.center), p.scale)
                 : p.mode == 2 ? 0.0
                               : __longlong_as_double(0x7ff8000000000000ll);
      v[r] = ((valid >> r) & 1u) ? Bits(y) : 0;
    }
    Store4(p.out, row, n, v);
    if (p.out_valid != nullptr) Store4Flags(p.out_valid, row, n, valid);
  }
}

// =============================================================================================
// Stats: one pass; each thread folds 4 rows at a time into (count, mean, m2) with Chan's merge
// (the 4-row batch's own mean and m2 first: one division per 4 rows instead of Welford's one
// per row), plus sum, min, max. Blocks reduce with warp shuffles and write one partial each;
// a single block merges the partials in a fixed order, so results do not vary between runs.
// Reads 8 (+1) bytes per row and writes nothing per row: bound by read bandwidth.
// =============================================================================================

struct Moments {
  double n;
  double mean;
  double m2;
  double sum;
  double min;  // DuckDB order: NaN is the largest, so min skips NaN and max keeps it
  double max;
  long long imin;
  long long imax;
};

__device__ __forceinline__ double DMin(double a, double b) {
  if (isnan(a)) return b;
  if (isnan(b)) return a;
  return b < a ? b : a;
}
__device__ __forceinline__ double DMax(double a, double b) {
  if (isnan(a)) return a;
  if (isnan(b)) return b;
  return b > a ? b : a;
}

__device__ __forceinline__ void InitMoments(Moments& m) {
  m.n = 0;
  m.mean = 0;
  m.m2 = 0;
  m.sum = 0;
  m.min = __longlong_as_double(0x7ff8000000000000ll);  // NaN: DMin's identity
  m.max = -INFINITY;
  m.imin = LLONG_MAX;
  m.imax = LLONG_MIN;
}

// Chan et al.'s pairwise update of (n, mean, m2); the other fields combine plainly.
__device__ __forceinline__ void Merge(Moments& a, const Moments& b) {
  if (b.n != 0) {
    if (a.n == 0) {
      a.n = b.n;
      a.mean = b.mean;
      a.m2 = b.m2;
    } else {
      const double n = a.n + b.n;
      const double delta = b.mean - a.mean;
      a.mean += delta * (b.n / n);
      a.m2 += b.m2 + delta * delta * (a.n * b.n / n);
      a.n = n;
    }
  }
  a.sum += b.sum;
  a.min = DMin(a.min, b.min);
  a.max = DMax(a.max, b.max);
  a.imin = b.imin < a.imin ? b.imin : a.imin;
  a.imax = b.imax > a.imax ? b.imax : a.imax;
}

__device__ __forceinline__ Moments ShuffleDown(const Moments& m, int delta) {
  Moments o;
  o.n = __shfl_down_sync(0xffffffffu, m.n, delta);
  o.mean = __shfl_down_sync(0xffffffffu, m.mean, delta);
  o.m2 = __shfl_down_sync(0xffffffffu, m.m2, delta);
  o.sum = __shfl_down_sync(0xffffffffu, m.sum, delta);
  o.min = __shfl_down_sync(0xffffffffu, m.min, delta);
  o.max = __shfl_down_sync(0xffffffffu, m.max, delta);
  o.imin = __shfl_down_sync(0xffffffffu, m.imin, delta);
  o.imax = __shfl_down_sync(0xffffffffu, m.imax, delta);
  return o;
}

// Merges every thread's `m` into thread 0's (blockDim.x == kBlock).
__device__ void BlockMerge(Moments& m) {
  __shared__ Moments warp_sums[kBlock / 32];
  for (int d = 16; d > 0; d /= 2) {
    const Moments o = ShuffleDown(m, d);
    Merge(m, o);
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) warp_sums[warp] = m;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kBlock / 32; ++w) Merge(m, warp_sums[w]);
  }
}

__global__ void __launch_bounds__(kBlock) StatsKernel(const uint64_t* in, const uint8_t* in_valid,
                                                      int64_t n, bool is_int, Moments* partials) {
  Moments m;
  InitMoments(m);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x * 4;
  for (int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * 4; row < n;
       row += stride) {
    uint64_t v[4];
    Load4(in, row, n, v);
    const uint32_t valid = Validity4(in_valid, row, n);
    double x[4];
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      x[r] = is_int ? __ll2double_rn(static_cast<long long>(v[r])) : AsDouble(v[r]);
      if ((valid >> r) & 1u) {
        m.sum += x[r];
        m.min = DMin(m.min, x[r]);
        m.max = DMax(m.max, x[r]);
        if (is_int) {
          const long long xi = static_cast<long long>(v[r]);
          m.imin = xi < m.imin ? xi : m.imin;
          m.imax = xi > m.imax ? xi : m.imax;
        }
      }
    }
    if (valid == 0xfu) {
      Moments b;
      b.n = 4;
      b.mean = ((x[0] + x[1]) + (x[2] + x[3])) * 0.25;
      const double d0 = x[0] - b.mean, d1 = x[1] - b.mean, d2 = x[2] - b.mean, d3 = x[3] - b.mean;
      b.m2 = (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
      b.sum = 0;
      b.min = __longlong_as_double(0x7ff8000000000000ll);
      b.max = -INFINITY;
      b.imin = LLONG_MAX;
      b.imax = LLONG_MIN;
      Merge(m, b);
    } else {
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        if ((valid >> r) & 1u) {  // Welford
          m.n += 1;
          const double delta = x[r] - m.mean;
          m.mean += delta / m.n;
          m.m2 += delta * (x[r] - m.mean);
        }
      }
    }
  }
  BlockMerge(m);
  if (threadIdx.x == 0) partials[blockIdx.x] = m;
}

__global__ void __launch_bounds__(kBlock)
    StatsFinalKernel(const Moments* partials, int count, Moments* out) {
  Moments m;
  InitMoments(m);
  for (int i = threadIdx.x; i < count; i += blockDim.x) Merge(m, partials[i]);
  BlockMerge(m);
  if (threadIdx.x == 0) *out = m;
}

// =============================================================================================
// Histogram: numpy's rule. Each block keeps its own counters (and the edges) in shared memory;
// the lanes of a warp that hit the same bin are grouped with __match_any_sync so one lane adds
// the group's count (a skewed column does not serialise 32 atomics on one counter); blocks add
// their counters to the global ones once at the end. Reads 8 (+1) bytes per row; the counter
// traffic is per block, not per row. Beyond kSharedBins bins the counters live in global
// memory (atomics in L2), still warp-aggregated.
// =============================================================================================

constexpr int kSharedBins = 4000;  // (bins + 1) * 8 + bins * 4 bytes must fit 48 KiB

struct HistogramParams {
  const uint64_t* in;
  const uint8_t* in_valid;
  int64_t rows;
  bool is_int;
  int bins;
  double first;
  double last;
  double denom;  // last - first
  const double* edges;
  unsigned long long* counts;
};

template <bool kShared>
__global__ void __launch_bounds__(kBlock) HistogramKernel(const HistogramParams p) {
  extern __shared__ unsigned char smem[];
  double* edges = const_cast<double*>(p.edges);
  unsigned int* local = nullptr;
  if (kShared) {
    edges = reinterpret_cast<double*>(smem);
    local = reinterpret_cast<unsigned int*>(edges + p.bins + 1);
    for (int i = threadIdx.x; i <= p.bins; i += blockDim.x) edges[i] = p.edges[i];
    for (int i = threadIdx.x; i < p.bins; i += blockDim.x) local[i] = 0;
    __syncthreads();
  }
  const int64_t n = p.rows;
  const int lane = threadIdx.x % 32;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x * 4;
  // The loop bound is uniform per warp (every lane sees the same `base`), as __match_any_sync
  // with a full mask needs.
  for (int64_t base = (static_cast<int64_t>(blockIdx.x) * blockDim.x + (threadIdx.x & ~31)) * 4;
       base < n; base += stride) {
    const int64_t row = base + lane * 4;
    uint64_t v[4] = {0, 0, 0, 0};
    uint32_t valid = 0;
    if (row < n) {
      Load4(p.in, row, n, v);
      valid = Validity4(p.in_valid, row, n);
    }
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const double x = p.is_int ? __ll2double_rn(static_cast<long long>(v[r])) : AsDouble(v[r]);
      int bin = -1;
      if (((valid >> r) & 1u) && x >= p.first && x <= p.last) {  // NaN fails both
        const double f =
            __dmul_rn(__ddiv_rn(__dsub_rn(x, p.first), p.denom), static_cast<double>(p.bins));
        int b = static_cast<int>(f);  // 0 <= f <= bins: truncation is numpy's astype(intp)
        if (b >= p.bins) b = p.bins - 1;
        if (x < edges[b]) {
          b -= 1;
        } else if (b != p.bins - 1 && x >= edges[b + 1]) {
          b += 1;
        }
        bin = b < 0 ? 0 : (b >= p.bins ? p.bins - 1 : b);
      }
      const unsigned peers = __match_any_sync(0xffffffffu, bin);
      const bool leader = (peers & ((1u << lane) - 1)) == 0;
      if (leader && bin >= 0) {
        if (kShared) {
          atomicAdd(&local[bin], static_cast<unsigned int>(__popc(peers)));
        } else {
          atomicAdd(&p.counts[bin], static_cast<unsigned long long>(__popc(peers)));
        }
      }
    }
  }
  if (kShared) {
    __syncthreads();
    for (int i = threadIdx.x; i < p.bins; i += blockDim.x) {
      if (local[i] != 0) atomicAdd(&p.counts[i], static_cast<unsigned long long>(local[i]));
    }
  }
}

Status CheckNumeric(const DeviceColumn& c, const char* what) {
  if (c.type != ColumnType::kInt64 && c.type != ColumnType::kDouble) {
    return Status::InvalidArgument(std::string("gpu ") + what + ": column '" + c.name + "' is " +
                                   std::string(duckdb::ColumnTypeName(c.type)) +
                                   ", needs BIGINT or DOUBLE");
  }
  return Status::Ok();
}

}  // namespace

namespace device {

StatusOr<DeviceColumn> Evaluate(const expr::Program& program,
                                std::span<const DeviceColumn* const> slots, size_t rows) {
  AIDI_RETURN_IF_ERROR(CheckProgram(program));
  if (slots.size() != program.columns.size()) {
    return Status::InvalidArgument("gpu evaluate: " + std::to_string(slots.size()) +
                                   " columns given, the program reads " +
                                   std::to_string(program.columns.size()));
  }
  EvalParams p{};
  p.rows = static_cast<int64_t>(rows);
  for (size_t i = 0; i < slots.size(); ++i) {
    const DeviceColumn& c = *slots[i];
    const ColumnType want = ToColumnType(program.column_types[i]);
    if (c.type != want || c.rows != rows) {
      return Status::InvalidArgument("gpu evaluate: column '" + c.name + "' should be " +
                                     std::string(duckdb::ColumnTypeName(want)) + " with " +
                                     std::to_string(rows) + " rows, got " +
                                     std::string(duckdb::ColumnTypeName(c.type)) + " with " +
                                     std::to_string(c.rows));
    }
    p.slots[i].words = c.values.as<const uint64_t>();
    p.slots[i].bytes = c.values.as<const uint8_t>();
    p.slots[i].valid = c.validity.empty() ? nullptr : c.validity.as<const uint8_t>();
  }
  p.code_len = static_cast<int32_t>(program.code.size());
  for (size_t i = 0; i < program.code.size(); ++i) {
    const expr::Instruction& in = program.code[i];
    p.code[i] =
        EvalInstr{U(in.op), U(in.type), U(in.operand), 0, in.arg, static_cast<uint64_t>(in.imm)};
  }
  const ColumnType type = ToColumnType(program.result_type);
  p.result_type = U(program.result_type);
  AIDI_ASSIGN_OR_RETURN(DeviceColumn out, internal::AllocateColumn("", type, rows, true));
  p.out_words = out.values.as<uint64_t>();
  p.out_bytes = out.values.as<uint8_t>();
  p.out_valid = out.validity.as<uint8_t>();
  if (rows == 0) return std::move(out);
  const int64_t threads = (static_cast<int64_t>(rows) + 3) / 4;
  EvaluateKernel<<<internal::GridFor(threads, kBlock, kBlocksPerSm), kBlock, 0,
                   internal::Stream()>>>(p);
  AIDI_RETURN_IF_ERROR(internal::LaunchStatus("evaluate kernel"));
  return std::move(out);
}

StatusOr<DeviceColumn> Normalize(const DeviceColumn& column, NormalizeMethod method,
                                 const ColumnStats& stats, ZeroRange on_zero_range) {
  AIDI_RETURN_IF_ERROR(CheckNumeric(column, "normalize"));
  NormalizeParams p{};
  if (method == NormalizeMethod::kZScore) {
    p.center = stats.mean;
    p.scale = stats.StdPop();
  } else {
    p.center = stats.min;
    p.scale = stats.max - stats.min;
  }
  p.mode = 0;
  if (stats.count == 0 || p.scale == 0) {
    p.mode = on_zero_range == ZeroRange::kNull ? 1 : on_zero_range == ZeroRange::kZero ? 2 : 3;
  }
  const bool nullable = !column.validity.empty() || p.mode == 1;
  AIDI_ASSIGN_OR_RETURN(DeviceColumn out, internal::AllocateColumn(column.name, ColumnType::kDouble,
                                                                   column.rows, nullable));
  p.in = column.values.as<const uint64_t>();
  p.in_valid = column.validity.empty() ? nullptr : column.validity.as<const uint8_t>();
  p.out = out.values.as<uint64_t>();
  p.out_valid = nullable ? out.validity.as<uint8_t>() : nullptr;
  p.rows = static_cast<int64_t>(column.rows);
  p.is_int = column.type == ColumnType::kInt64;
  if (column.rows == 0) return std::move(out);
  const int64_t threads = (p.rows + 3) / 4;
  NormalizeKernel<<<internal::GridFor(threads, kBlock, kBlocksPerSm), kBlock, 0,
                    internal::Stream()>>>(p);
  AIDI_RETURN_IF_ERROR(internal::LaunchStatus("normalize kernel"));
  return std::move(out);
}

StatusOr<ColumnStats> Stats(const DeviceColumn& column) {
  AIDI_RETURN_IF_ERROR(CheckNumeric(column, "stats"));
  const int64_t n = static_cast<int64_t>(column.rows);
  const int grid = internal::GridFor((n + 3) / 4, kBlock, kBlocksPerSm);
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer partials,
                        DeviceBuffer::Allocate(sizeof(Moments) * (static_cast<size_t>(grid) + 1)));
  Moments* d = partials.as<Moments>();
  StatsKernel<<<grid, kBlock, 0, internal::Stream()>>>(
      column.values.as<const uint64_t>(),
      column.validity.empty() ? nullptr : column.validity.as<const uint8_t>(), n,
      column.type == ColumnType::kInt64, d);
  AIDI_RETURN_IF_ERROR(internal::LaunchStatus("stats kernel"));
  StatsFinalKernel<<<1, kBlock, 0, internal::Stream()>>>(d, grid, d + grid);
  AIDI_RETURN_IF_ERROR(internal::LaunchStatus("stats final kernel"));
  Moments m;
  AIDI_RETURN_IF_ERROR(internal::CopyToHost(&m, d + grid, 1, "stats result"));
  ColumnStats s;
  s.count = static_cast<int64_t>(m.n);
  s.sum = m.sum;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (s.count == 0) {
    s.min = s.max = nan;
    s.sum = 0;
    return s;
  }
  s.mean = m.mean;
  s.m2 = m.m2;
  s.min = m.min;
  s.max = m.max;
  if (column.type == ColumnType::kInt64) {
    s.int_min = m.imin;
    s.int_max = m.imax;
  }
  return s;
}

StatusOr<HistogramResult> Histogram(const DeviceColumn& column, int64_t bins, double min,
                                    double max) {
  AIDI_RETURN_IF_ERROR(CheckNumeric(column, "histogram"));
  if (bins < 1 || bins > (1 << 24)) {
    return Status::InvalidArgument("gpu histogram: bins must be in [1, 16777216], got " +
                                   std::to_string(bins));
  }
  if (!std::isfinite(min) || !std::isfinite(max) || min > max) {
    return Status::InvalidArgument("gpu histogram: range [" + std::to_string(min) + ", " +
                                   std::to_string(max) + "] must be finite with min <= max");
  }
  if (min == max) {  // numpy widens an empty range
    min -= 0.5;
    max += 0.5;
  }
  // numpy.linspace(min, max, bins + 1): i * step + min, the last edge exactly max.
  HistogramResult result;
  result.edges.resize(static_cast<size_t>(bins) + 1);
  const double delta = max - min;
  const double step = delta / static_cast<double>(bins);
  for (int64_t i = 0; i < bins; ++i) {
    const double fi = static_cast<double>(i);
    result.edges[static_cast<size_t>(i)] =
        step == 0 ? (fi / static_cast<double>(bins)) * delta + min : fi * step + min;
  }
  result.edges[static_cast<size_t>(bins)] = max;
  result.counts.assign(static_cast<size_t>(bins), 0);

  AIDI_ASSIGN_OR_RETURN(DeviceBuffer edges, DeviceBuffer::Allocate(result.edges.size() * 8));
  AIDI_ASSIGN_OR_RETURN(DeviceBuffer counts, DeviceBuffer::Allocate(result.counts.size() * 8));
  cudaStream_t s = internal::Stream();
  AIDI_CUDA_RETURN_IF_ERROR(
      cudaMemcpyAsync(edges.data(), result.edges.data(), edges.size(), cudaMemcpyHostToDevice, s),
      "histogram edges");
  AIDI_CUDA_RETURN_IF_ERROR(cudaMemsetAsync(counts.data(), 0, counts.size(), s),
                            "histogram counts");
  HistogramParams p{};
  p.in = column.values.as<const uint64_t>();
  p.in_valid = column.validity.empty() ? nullptr : column.validity.as<const uint8_t>();
  p.rows = static_cast<int64_t>(column.rows);
  p.is_int = column.type == ColumnType::kInt64;
  p.bins = static_cast<int>(bins);
  p.first = min;
  p.last = max;
  p.denom = max - min;
  p.edges = edges.as<const double>();
  p.counts = counts.as<unsigned long long>();
  if (column.rows > 0) {
    const int grid = internal::GridFor((p.rows + 3) / 4, kBlock, kBlocksPerSm);
    if (bins <= kSharedBins) {
      const size_t smem = static_cast<size_t>(bins + 1) * 8 + static_cast<size_t>(bins) * 4;
      HistogramKernel<true><<<grid, kBlock, smem, s>>>(p);
    } else {
      HistogramKernel<false><<<grid, kBlock, 0, s>>>(p);
    }
    AIDI_RETURN_IF_ERROR(internal::LaunchStatus("histogram kernel"));
  }
  std::vector<unsigned long long> host(result.counts.size());
  AIDI_RETURN_IF_ERROR(
      internal::CopyToHost(host.data(), counts.data(), host.size(), "histogram result"));
  for (size_t i = 0; i < host.size(); ++i) result.counts[i] = static_cast<int64_t>(host[i]);
  return std::move(result);
}

}  // namespace device
}  // namespace aidi::worker::gpu
