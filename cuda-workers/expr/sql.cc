#include "cuda-workers/expr/sql.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace aidi::worker::expr {
namespace {

std::string QuoteWith(std::string_view s, char q) {
  std::string out(1, q);
  for (char c : s) {
    out.push_back(c);
    if (c == q) out.push_back(q);
  }
  out.push_back(q);
  return out;
}

const char* SqlType(Type t) {
  switch (t) {
    case Type::kInt64:
      return "BIGINT";
    case Type::kDouble:
      return "DOUBLE";
    case Type::kBool:
      return "BOOLEAN";
    case Type::kString:
      return "VARCHAR";
  }
  return "?";  // unreachable: the switch covers every enumerator
}

// A double literal that DuckDB reads back bit-exactly as a DOUBLE. A plain `0.1` would be a
// DECIMAL(2,1) in DuckDB; with an exponent it is a DOUBLE, so one is always present.
std::string DoubleLiteral(double d) {
  if (std::isnan(d)) return "CAST('nan' AS DOUBLE)";
  if (std::isinf(d)) return d > 0 ? "CAST('inf' AS DOUBLE)" : "CAST('-inf' AS DOUBLE)";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", std::fabs(d));
  std::string s = buf;
  if (s.find('e') == std::string::npos) s += "e0";
  // Negative values only arise from a caller-built tree; keep `--` (a comment) impossible.
  return std::signbit(d) ? "(-" + s + ")" : s;
}

const char* Infix(Op op) {
  switch (op) {
    case Op::kAdd:
      return " + ";
    case Op::kSub:
      return " - ";
    case Op::kMul:
      return " * ";
    case Op::kEq:
      return " = ";
    case Op::kNe:
      return " <> ";
    case Op::kLt:
      return " < ";
    case Op::kLe:
      return " <= ";
    case Op::kGt:
      return " > ";
    case Op::kGe:
      return " >= ";
    case Op::kAnd:
      return " AND ";
    case Op::kOr:
      return " OR ";
    default:
      return nullptr;
  }
}

void Emit(const BoundExpr& e, std::string& out) {
  const bool is_int = e.type == Type::kInt64;
  switch (e.op) {
    case Op::kColumn:
      out += SqlIdentifier(e.text);
      return;
    case Op::kConstInt:
      out += "CAST(" + std::to_string(e.int_value) + " AS BIGINT)";
      return;
    case Op::kConstDouble:
      out += DoubleLiteral(e.double_value);
      return;
    case Op::kConstBool:
      out += e.bool_value ? "TRUE" : "FALSE";
      return;
    case Op::kConstString:
      out += SqlStringLiteral(e.text);
      return;
    case Op::kConstNull:
      out += std::string("CAST(NULL AS ") + SqlType(e.type) + ")";
      return;
    case Op::kToDouble:
      out += "CAST(";
      Emit(e.args[0], out);
      out += " AS DOUBLE)";
      return;
    case Op::kNeg:
      out += is_int ? "try(-(" : "(-(";
      Emit(e.args[0], out);
      out += "))";
      return;
    case Op::kNot:
      out += "(NOT ";
      Emit(e.args[0], out);
      out += ")";
      return;
    case Op::kDiv:
    case Op::kMod:
      // x / 0 and x % 0 are NULL; try() turns INT64_MIN % -1 (an error in DuckDB) into NULL.
      out += is_int ? "try((" : "(";
      Emit(e.args[0], out);
      out += e.op == Op::kDiv ? " / NULLIF(" : " % NULLIF(";
      Emit(e.args[1], out);
      out += is_int ? ", 0)))" : ", 0))";
      return;
    case Op::kIsNull:
      out += "(";
      Emit(e.args[0], out);
      out += " IS NULL)";
      return;
    case Op::kAbs:
    case Op::kLog:
    case Op::kSqrt:
    case Op::kExp: {
      // ln and sqrt raise errors outside their domain, abs on INT64_MIN overflows: try() -> NULL.
      const bool guarded = e.op != Op::kExp && (e.op != Op::kAbs || is_int);
      const char* fn = e.op == Op::kAbs   ? "abs("
                       : e.op == Op::kLog ? "ln("
                       : e.op == Op::kExp ? "exp("
                                          : "sqrt(";
      if (guarded) out += "try(";
      out += fn;
      Emit(e.args[0], out);
      out += guarded ? "))" : ")";
      return;
    }
    default:
      break;
  }
  const char* infix = Infix(e.op);
  // Int64 + - * overflow is an error in DuckDB; try() makes it NULL for that row only.
  const bool guarded = is_int && (e.op == Op::kAdd || e.op == Op::kSub || e.op == Op::kMul);
  out += guarded ? "try((" : "(";
  Emit(e.args[0], out);
  if (infix == nullptr) std::abort();  // cannot happen: every other op returned above
  out += infix;
  Emit(e.args[1], out);
  out += guarded ? "))" : ")";
}

}  // namespace

std::string SqlIdentifier(std::string_view name) { return QuoteWith(name, '"'); }
std::string SqlStringLiteral(std::string_view s) { return QuoteWith(s, '\''); }

std::string ToSql(const BoundExpr& e) {
  std::string out;
  Emit(e, out);
  return out;
}

}  // namespace aidi::worker::expr
