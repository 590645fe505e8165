// The syntax tree of an aidi expression (EXPR in a Pipeline stage: `filter.where`,
// `select.derive`), as the parser produces it before any column or type is known.
//
// Expr is a plain value type: one node kind plus its payload and children, copied and compared
// freely. Positions are 1-based character columns into the parsed text, used by error messages.
// Values are immutable after parsing by convention; share them between threads read-only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aidi::worker::expr {

enum class UnaryOp : uint8_t { kNeg, kNot };

enum class BinaryOp : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,  // arithmetic
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,  // comparison
  kAnd,
  kOr,  // three-valued logic
};

enum class Function : uint8_t { kIsNull, kAbs, kLog, kExp, kSqrt };

struct Expr {
  enum class Kind : uint8_t {
    kColumn,  // name
    kInt,     // int_value
    kDouble,  // double_value
    kString,  // text
    kBool,    // bool_value
    kNull,
    kUnary,   // unary_op, args[0]
    kBinary,  // binary_op, args[0], args[1]
    kCall,    // function, args
  };
  Kind kind = Kind::kNull;
  int position = 1;  // 1-based column of the node's first character
  std::string text;  // column name (kColumn) or string value (kString), unquoted
  int64_t int_value = 0;
  double double_value = 0;
  bool bool_value = false;
  UnaryOp unary_op = UnaryOp::kNeg;
  BinaryOp binary_op = BinaryOp::kAdd;
  Function function = Function::kAbs;
  std::vector<Expr> args;
};

// Operator and function spellings in the canonical form ("+", "<=", "and", "is_null").
const char* OpName(UnaryOp op);
const char* OpName(BinaryOp op);
const char* FunctionName(Function f);

// A canonical, fully parenthesised rendering that Parse reads back to an equal tree:
// `(a + (b * 2))`, `(not "my col")`, `is_null(x)`, `'it''s'`.
std::string ToString(const Expr& e);

// Structural equality, positions ignored (doubles compared bitwise).
bool SameTree(const Expr& a, const Expr& b);

}  // namespace aidi::worker::expr
