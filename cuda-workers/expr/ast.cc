#include "cuda-workers/expr/ast.h"

#include "cuda-workers/expr/sql.h"

#include <cstdio>
#include <cstring>

namespace aidi::worker::expr {

const char* OpName(UnaryOp op) { return op == UnaryOp::kNeg ? "-" : "not"; }

const char* OpName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kEq:
      return "=";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
  }
  return "?";  // unreachable: the switch covers every enumerator
}

const char* FunctionName(Function f) {
  switch (f) {
    case Function::kIsNull:
      return "is_null";
    case Function::kAbs:
      return "abs";
    case Function::kLog:
      return "log";
    case Function::kExp:
      return "exp";
    case Function::kSqrt:
      return "sqrt";
  }
  return "?";  // unreachable: the switch covers every enumerator
}

std::string ToString(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kColumn:
      return SqlIdentifier(e.text);
    case Expr::Kind::kInt:
      return std::to_string(e.int_value);
    case Expr::Kind::kDouble: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", e.double_value);
      std::string s = buf;
      if (s.find_first_of(".e") == std::string::npos) s += ".0";
      return s;
    }
    case Expr::Kind::kString:
      return SqlStringLiteral(e.text);
    case Expr::Kind::kBool:
      return e.bool_value ? "true" : "false";
    case Expr::Kind::kNull:
      return "null";
    case Expr::Kind::kUnary:
      return std::string("(") + OpName(e.unary_op) + (e.unary_op == UnaryOp::kNot ? " " : "") +
             ToString(e.args[0]) + ")";
    case Expr::Kind::kBinary:
      return "(" + ToString(e.args[0]) + " " + OpName(e.binary_op) + " " + ToString(e.args[1]) +
             ")";
    case Expr::Kind::kCall:
      return std::string(FunctionName(e.function)) + "(" + ToString(e.args[0]) + ")";
  }
  return "?";  // unreachable: the switch covers every enumerator
}

bool SameTree(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.args.size() != b.args.size()) return false;
  switch (a.kind) {
    case Expr::Kind::kColumn:
    case Expr::Kind::kString:
      if (a.text != b.text) return false;
      break;
    case Expr::Kind::kInt:
      if (a.int_value != b.int_value) return false;
      break;
    case Expr::Kind::kDouble:
      if (std::memcmp(&a.double_value, &b.double_value, sizeof(double)) != 0) return false;
      break;
    case Expr::Kind::kBool:
      if (a.bool_value != b.bool_value) return false;
      break;
    case Expr::Kind::kNull:
      break;
    case Expr::Kind::kUnary:
      if (a.unary_op != b.unary_op) return false;
      break;
    case Expr::Kind::kBinary:
      if (a.binary_op != b.binary_op) return false;
      break;
    case Expr::Kind::kCall:
      if (a.function != b.function) return false;
      break;
  }
  for (size_t i = 0; i < a.args.size(); ++i) {
    if (!SameTree(a.args[i], b.args[i])) return false;
  }
  return true;
}

}  // namespace aidi::worker::expr
