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
      // Int64: computed in HUGEINT and narrowed with TRY_CAST, so -INT64_MIN is NULL. (Not
      // DuckDB's try(): in 1.4 it also nulls the faulting rows of its input column.)
      out += is_int ? "TRY_CAST((-(CAST(" : "(-(";
      Emit(e.args[0], out);
      out += is_int ? " AS HUGEINT))) AS BIGINT)" : "))";
      return;
    case Op::kNot:
      out += "(NOT ";
      Emit(e.args[0], out);
      out += ")";
      return;
    case Op::kDiv:
    case Op::kMod:
      // x / 0 and x % 0 are NULL. Int64 % runs in HUGEINT, where INT64_MIN % -1 is 0 (DuckDB
      // fails it in BIGINT).
      if (is_int) {
        out += "TRY_CAST((CAST(";
        Emit(e.args[0], out);
        out += " AS HUGEINT) % NULLIF(CAST(";
        Emit(e.args[1], out);
        out += " AS HUGEINT), 0)) AS BIGINT)";
        return;
      }
      out += "(";
      Emit(e.args[0], out);
      out += e.op == Op::kDiv ? " / NULLIF(" : " % NULLIF(";
      Emit(e.args[1], out);
      out += ", 0))";
      return;
    case Op::kIsNull:
      out += "(";
      Emit(e.args[0], out);
      out += " IS NULL)";
      return;
    case Op::kAbs:
      if (is_int) {  // abs(INT64_MIN) does not fit: NULL
        out += "TRY_CAST(abs(CAST(";
        Emit(e.args[0], out);
        out += " AS HUGEINT)) AS BIGINT)";
      } else {
        out += "abs(";
        Emit(e.args[0], out);
        out += ")";
      }
      return;
    case Op::kExp:
      out += "exp(";
      Emit(e.args[0], out);
      out += ")";
      return;
    case Op::kLog:
      // ln fails for x <= 0 in DuckDB: greatest() maps those (and -inf, -0.0) to 0, NULLIF to
      // NULL, and NaN (above every number in DuckDB's order) passes through, all with x
      // evaluated once.
      out += "ln(NULLIF(greatest(";
      Emit(e.args[0], out);
      out += ", 0e0), 0e0))";
      return;
    case Op::kSqrt: {
      // sqrt fails for x < 0 in DuckDB; no single-use form exists, so x appears twice (DuckDB
      // evaluates a repeated subexpression once; Bind limits how deep sqrt may nest).
      std::string x;
      Emit(e.args[0], x);
      out += "(CASE WHEN " + x + " < 0e0 THEN NULL ELSE sqrt(" + x + ") END)";
      return;
    }
    default:
      break;
  }
  const char* infix = Infix(e.op);
  if (infix == nullptr) std::abort();  // cannot happen: every other op returned above
  // Int64 + - * overflow is an error in DuckDB: computed in HUGEINT (exact for any two int64)
  // and narrowed with TRY_CAST, an overflow is NULL for that row only.
  const bool guarded = is_int && (e.op == Op::kAdd || e.op == Op::kSub || e.op == Op::kMul);
  if (guarded) {
    out += "TRY_CAST((CAST(";
    Emit(e.args[0], out);
    out += " AS HUGEINT)";
    out += infix;
    out += "CAST(";
    Emit(e.args[1], out);
    out += " AS HUGEINT)) AS BIGINT)";
    return;
  }
  out += "(";
  Emit(e.args[0], out);
  out += infix;
  Emit(e.args[1], out);
  out += ")";
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
