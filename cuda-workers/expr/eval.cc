#include "cuda-workers/expr/eval.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace aidi::worker::expr {
namespace {

struct Value {
  int64_t i = 0;  // Int64 and Bool (0/1)
  double d = 0;
  std::string_view s;
  bool valid = false;
};

// DuckDB orders doubles totally: NaN equals NaN and sorts above +inf; -0.0 equals 0.0.
bool DoubleEq(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }
bool DoubleLt(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

// -1, 0, 1 for a <, =, > b under the operand type's order.
int Compare(Type t, const Value& a, const Value& b) {
  switch (t) {
    case Type::kDouble:
      return DoubleEq(a.d, b.d) ? 0 : DoubleLt(a.d, b.d) ? -1 : 1;
    case Type::kString: {
      const int c = a.s.compare(b.s);  // bytewise (char_traits<char> compares as unsigned)
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case Type::kInt64:
    case Type::kBool:
      return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  }
  return 0;
}

Value Null() { return Value{}; }
Value Int(int64_t v) { return Value{v, 0, {}, true}; }
Value Dbl(double v) { return Value{0, v, {}, true}; }
Value Bool(bool v) { return Value{v ? 1 : 0, 0, {}, true}; }

Value Arith(Op op, Type t, const Value& a, const Value& b) {
  if (!a.valid || !b.valid) return Null();
  if (t == Type::kInt64) {
    int64_t r = 0;
    switch (op) {
      case Op::kAdd:
        return __builtin_add_overflow(a.i, b.i, &r) ? Null() : Int(r);
      case Op::kSub:
        return __builtin_sub_overflow(a.i, b.i, &r) ? Null() : Int(r);
      case Op::kMul:
        return __builtin_mul_overflow(a.i, b.i, &r) ? Null() : Int(r);
      case Op::kMod:
        if (b.i == 0) return Null();
        if (b.i == -1) return Int(0);  // INT64_MIN % -1 is 0 (and would trap in C++)
        return Int(a.i % b.i);         // truncating: the sign follows the dividend
      default:
        break;
    }
    std::abort();  // cannot happen: Bind makes / Double, and only these ops are arithmetic
  }
  switch (op) {
    case Op::kAdd:
      return Dbl(a.d + b.d);
    case Op::kSub:
      return Dbl(a.d - b.d);
    case Op::kMul:
      return Dbl(a.d * b.d);
    case Op::kDiv:
      return b.d == 0 ? Null() : Dbl(a.d / b.d);
    case Op::kMod:
      return b.d == 0 ? Null() : Dbl(std::fmod(a.d, b.d));
    default:
      break;
  }
  std::abort();  // cannot happen: only arithmetic ops reach here
}

// Kleene logic: false and x = false, true or x = true, otherwise null if either is null.
Value And(const Value& a, const Value& b) {
  if ((a.valid && a.i == 0) || (b.valid && b.i == 0)) return Bool(false);
  if (!a.valid || !b.valid) return Null();
  return Bool(true);
}
Value Or(const Value& a, const Value& b) {
  if ((a.valid && a.i != 0) || (b.valid && b.i != 0)) return Bool(true);
  if (!a.valid || !b.valid) return Null();
  return Bool(false);
}

Value Unary(Op op, Type t, const Value& a) {
  if (op == Op::kIsNull) return Bool(!a.valid);
  if (!a.valid) return Null();
  switch (op) {
    case Op::kToDouble:
      return Dbl(static_cast<double>(a.i));
    case Op::kNot:
      return Bool(a.i == 0);
    case Op::kNeg:
      if (t == Type::kInt64) {
        return a.i == std::numeric_limits<int64_t>::min() ? Null() : Int(-a.i);
      }
      return Dbl(-a.d);
    case Op::kAbs:
      if (t == Type::kInt64) {
        if (a.i == std::numeric_limits<int64_t>::min()) return Null();
        return Int(a.i < 0 ? -a.i : a.i);
      }
      return Dbl(std::fabs(a.d));
    case Op::kLog:
      if (std::isnan(a.d)) return Dbl(a.d);
      return a.d <= 0 ? Null() : Dbl(std::log(a.d));
    case Op::kSqrt:
      if (std::isnan(a.d)) return Dbl(a.d);
      return a.d < 0 ? Null() : Dbl(std::sqrt(a.d));
    case Op::kExp:
      return Dbl(std::exp(a.d));
    default:
      break;
  }
  std::abort();  // cannot happen: only one-operand ops reach here
}

}  // namespace

StatusOr<ResultColumn> Evaluate(const Program& program, std::span<const ColumnView> columns,
                                size_t rows) {
  for (size_t slot = 0; slot < program.columns.size(); ++slot) {
    const auto index = static_cast<size_t>(program.columns[slot]);
    const Type want = program.column_types[slot];
    if (index >= columns.size()) {
      return Status::InvalidArgument("evaluate: column " + std::to_string(index) + " is missing (" +
                                     std::to_string(columns.size()) + " columns given)");
    }
    const ColumnView& c = columns[index];
    const bool has_data = (want == Type::kInt64 && c.ints) ||
                          (want == Type::kDouble && c.doubles) ||
                          (want == Type::kBool && c.bools) || (want == Type::kString && c.strings);
    if (c.type != want || (!has_data && rows > 0)) {
      return Status::InvalidArgument("evaluate: column " + std::to_string(index) + " should be " +
                                     TypeName(want) + " with data, got " + TypeName(c.type));
    }
  }
  ResultColumn out;
  out.type = program.result_type;
  out.valid.resize(rows);
  switch (out.type) {
    case Type::kInt64:
      out.ints.resize(rows);
      break;
    case Type::kDouble:
      out.doubles.resize(rows);
      break;
    case Type::kBool:
      out.bools.resize(rows);
      break;
    case Type::kString:
      out.strings.resize(rows);
      break;
  }
  std::vector<Value> stack(static_cast<size_t>(program.max_stack) + 1);
  for (size_t row = 0; row < rows; ++row) {
    size_t sp = 0;  // next free slot
    for (const Instruction& ins : program.code) {
      Value v;
      switch (ins.op) {
        case Op::kColumn: {
          const ColumnView& c = columns[static_cast<size_t>(program.columns[ins.arg])];
          v.valid = c.valid == nullptr || c.valid[row] != 0;
          if (v.valid) {
            switch (ins.type) {
              case Type::kInt64:
                v.i = c.ints[row];
                break;
              case Type::kDouble:
                v.d = c.doubles[row];
                break;
              case Type::kBool:
                v.i = c.bools[row] != 0;
                break;
              case Type::kString:
                v.s = c.strings[row];
                break;
            }
          }
          break;
        }
        case Op::kConstInt:
          v = Int(ins.imm);
          break;
        case Op::kConstBool:
          v = Bool(ins.imm != 0);
          break;
        case Op::kConstDouble: {
          double d;
          std::memcpy(&d, &ins.imm, sizeof d);
          v = Dbl(d);
          break;
        }
        case Op::kConstString:
          v.valid = true;
          v.s = program.strings[static_cast<size_t>(ins.arg)];
          break;
        case Op::kConstNull:
          v = Null();
          break;
        case Op::kToDouble:
        case Op::kNeg:
        case Op::kNot:
        case Op::kIsNull:
        case Op::kAbs:
        case Op::kLog:
        case Op::kExp:
        case Op::kSqrt:
          v = Unary(ins.op, ins.operand, stack[--sp]);
          break;
        case Op::kAnd:
        case Op::kOr: {
          const Value b = stack[--sp];
          const Value a = stack[--sp];
          v = ins.op == Op::kAnd ? And(a, b) : Or(a, b);
          break;
        }
        case Op::kEq:
        case Op::kNe:
        case Op::kLt:
        case Op::kLe:
        case Op::kGt:
        case Op::kGe: {
          const Value b = stack[--sp];
          const Value a = stack[--sp];
          if (!a.valid || !b.valid) {
            v = Null();
            break;
          }
          const int c = Compare(ins.operand, a, b);
          const bool r = ins.op == Op::kEq   ? c == 0
                         : ins.op == Op::kNe ? c != 0
                         : ins.op == Op::kLt ? c < 0
                         : ins.op == Op::kLe ? c <= 0
                         : ins.op == Op::kGt ? c > 0
                                             : c >= 0;
          v = Bool(r);
          break;
        }
        case Op::kAdd:
        case Op::kSub:
        case Op::kMul:
        case Op::kDiv:
        case Op::kMod: {
          const Value b = stack[--sp];
          const Value a = stack[--sp];
          v = Arith(ins.op, ins.type, a, b);
          break;
        }
      }
      stack[sp++] = v;
    }
    const Value& r = stack[0];
    out.valid[row] = r.valid ? 1 : 0;
    if (!r.valid) continue;
    switch (out.type) {
      case Type::kInt64:
        out.ints[row] = r.i;
        break;
      case Type::kDouble:
        out.doubles[row] = r.d;
        break;
      case Type::kBool:
        out.bools[row] = static_cast<uint8_t>(r.i);
        break;
      case Type::kString:
        out.strings[row] = std::string(r.s);
        break;
    }
  }
  return out;
}

}  // namespace aidi::worker::expr
