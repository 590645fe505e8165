// Binding: resolves an Expr's columns against a table schema and gives every node a type,
// producing the BoundExpr that all backends (SQL text, bytecode Program) consume.
//
// Typing rules (README.md has the full table): + - * % on Int64 stay Int64, any Double operand
// makes Double (the Int64 side gets an explicit kToDouble node); / is always Double; comparisons
// take two numbers, two strings or two bools; and/or/not take Bool; is_null(any) is Bool; abs
// keeps its type; log exp sqrt give Double. A `null` literal takes the type its context needs.
// Plain values and pure functions; safe to share read-only between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cuda-workers/expr/ast.h"

namespace aidi::worker::expr {

// Every column is nullable; the type is what its non-null values hold.
enum class Type : uint8_t { kInt64, kDouble, kBool, kString };
const char* TypeName(Type t);  // "Int64", "Double", "Bool", "String"

struct Column {
  std::string name;
  Type type = Type::kInt64;
};
using Schema = std::vector<Column>;

// One operation per node, shared with the bytecode (program.h), so each backend switches over
// one closed list. Arithmetic and comparison ops see operands of one type (after kToDouble).
enum class Op : uint8_t {
  kColumn,       // column index
  kConstInt,     // int_value
  kConstDouble,  // double_value
  kConstBool,    // bool_value
  kConstString,  // text
  kConstNull,    // a null of `type`
  kToDouble,     // Int64 -> Double
  kNeg,
  kNot,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kIsNull,
  kAbs,
  kLog,
  kExp,
  kSqrt,
};
const char* OpName(Op op);

struct BoundExpr {
  Op op = Op::kConstNull;
  Type type = Type::kBool;  // the node's result type
  int column = -1;          // kColumn: index into the schema
  std::string text;         // kColumn: the column's name; kConstString: the value
  int64_t int_value = 0;
  double double_value = 0;
  bool bool_value = false;
  std::vector<BoundExpr> args;
};

// sqrt calls may nest this deep (its SQL writes the argument twice: 2^8 copies at most).
inline constexpr int kMaxSqrtNesting = 8;

// Errors are InvalidArgument, one line: `unknown column 'x' (columns: a, b, c)`,
// `type mismatch: cannot compare String 'name' with Int64 5`. Column names match exactly.
[[nodiscard]] StatusOr<BoundExpr> Bind(const Expr& expr, const Schema& schema);

// Parse then Bind.
[[nodiscard]] StatusOr<BoundExpr> ParseAndBind(std::string_view text, const Schema& schema);

}  // namespace aidi::worker::expr
