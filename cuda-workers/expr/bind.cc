#include "cuda-workers/expr/bind.h"

#include <optional>
#include <utility>

#include "cuda-workers/expr/parser.h"

namespace aidi::worker::expr {

const char* TypeName(Type t) {
  switch (t) {
    case Type::kInt64:
      return "Int64";
    case Type::kDouble:
      return "Double";
    case Type::kBool:
      return "Bool";
    case Type::kString:
      return "String";
  }
  return "?";  // unreachable: the switch covers every enumerator
}

const char* OpName(Op op) {
  static constexpr const char* kNames[] = {
      "column",    "const_int", "const_double", "const_bool", "const_string", "const_null",
      "to_double", "neg",       "not",          "add",        "sub",          "mul",
      "div",       "mod",       "eq",           "ne",         "lt",           "le",
      "gt",        "ge",        "and",          "or",         "is_null",      "abs",
      "log",       "exp",       "sqrt"};
  const auto i = static_cast<size_t>(op);
  return i < sizeof kNames / sizeof kNames[0] ? kNames[i] : "?";
}

namespace {

bool IsNumeric(Type t) { return t == Type::kInt64 || t == Type::kDouble; }

// "String 'name'" for a column, "Int64 5" for a literal, "Double (a / b)" for the rest.
std::string Describe(const Expr& e, Type t) {
  std::string what = e.kind == Expr::Kind::kColumn ? "'" + e.text + "'" : ToString(e);
  if (what.size() > 60) what = what.substr(0, 57) + "...";
  return std::string(TypeName(t)) + " " + what;
}

// A bound node plus whether it is an untyped `null` literal waiting for a type.
struct Typed {
  BoundExpr b;
  bool untyped_null = false;
};

class Binder {
 public:
  explicit Binder(const Schema& schema) : schema_(schema) {}

  StatusOr<Typed> Run(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kColumn:
        return BindColumn(e);
      case Expr::Kind::kInt: {
        Typed t;
        t.b.op = Op::kConstInt;
        t.b.type = Type::kInt64;
        t.b.int_value = e.int_value;
        return t;
      }
      case Expr::Kind::kDouble: {
        Typed t;
        t.b.op = Op::kConstDouble;
        t.b.type = Type::kDouble;
        t.b.double_value = e.double_value;
        return t;
      }
      case Expr::Kind::kString: {
        Typed t;
        t.b.op = Op::kConstString;
        t.b.type = Type::kString;
        t.b.text = e.text;
        return t;
      }
      case Expr::Kind::kBool: {
        Typed t;
        t.b.op = Op::kConstBool;
        t.b.type = Type::kBool;
        t.b.bool_value = e.bool_value;
        return t;
      }
      case Expr::Kind::kNull: {
        Typed t;
        t.b.op = Op::kConstNull;
        t.b.type = Type::kBool;  // until the context says otherwise
        t.untyped_null = true;
        return t;
      }
      case Expr::Kind::kUnary:
        return BindUnary(e);
      case Expr::Kind::kBinary:
        return BindBinary(e);
      case Expr::Kind::kCall:
        return BindCall(e);
    }
    return Status::Internal("unknown expression kind");  // unreachable: all kinds handled
  }

 private:
  StatusOr<Typed> BindColumn(const Expr& e) {
    for (size_t i = 0; i < schema_.size(); ++i) {
      if (schema_[i].name == e.text) {
        Typed t;
        t.b.op = Op::kColumn;
        t.b.type = schema_[i].type;
        t.b.column = static_cast<int>(i);
        t.b.text = e.text;
        return t;
      }
    }
    std::string names;
    for (size_t i = 0; i < schema_.size() && i < 50; ++i) {
      names += (i ? ", " : "") + schema_[i].name;
    }
    if (schema_.size() > 50) names += ", ...";
    return Status::InvalidArgument("unknown column '" + e.text + "' (columns: " + names + ")");
  }

  static BoundExpr Unary(Op op, Type type, BoundExpr arg) {
    BoundExpr b;
    b.op = op;
    b.type = type;
    b.args.push_back(std::move(arg));
    return b;
  }

  static BoundExpr ToDouble(BoundExpr b) {
    if (b.type == Type::kDouble) return b;
    if (b.op == Op::kConstNull) {
      b.type = Type::kDouble;
      return b;
    }
    if (b.op == Op::kConstInt) {  // fold: 1 in `x > 1` becomes the double 1.0
      b.op = Op::kConstDouble;
      b.type = Type::kDouble;
      b.double_value = static_cast<double>(b.int_value);
      return b;
    }
    return Unary(Op::kToDouble, Type::kDouble, std::move(b));
  }

  static void Settle(Typed& t, Type type) {
    if (t.untyped_null) {
      t.b.type = type;
      t.untyped_null = false;
    }
  }

  StatusOr<Typed> BindUnary(const Expr& e) {
    AIDI_ASSIGN_OR_RETURN(Typed a, Run(e.args[0]));
    Typed t;
    if (e.unary_op == UnaryOp::kNot) {
      Settle(a, Type::kBool);
      if (a.b.type != Type::kBool) {
        return Status::InvalidArgument("type mismatch: not needs Bool, found " +
                                       Describe(e.args[0], a.b.type));
      }
      t.b = Unary(Op::kNot, Type::kBool, std::move(a.b));
      return t;
    }
    Settle(a, Type::kInt64);
    if (!IsNumeric(a.b.type)) {
      return Status::InvalidArgument("type mismatch: unary - needs a number, found " +
                                     Describe(e.args[0], a.b.type));
    }
    const Type type = a.b.type;
    t.b = Unary(Op::kNeg, type, std::move(a.b));
    return t;
  }

  StatusOr<Typed> BindBinary(const Expr& e) {
    AIDI_ASSIGN_OR_RETURN(Typed l, Run(e.args[0]));
    AIDI_ASSIGN_OR_RETURN(Typed r, Run(e.args[1]));
    const BinaryOp op = e.binary_op;
    Typed t;
    t.b.op = static_cast<Op>(static_cast<int>(Op::kAdd) + static_cast<int>(op));
    if (op == BinaryOp::kAnd || op == BinaryOp::kOr) {
      Settle(l, Type::kBool);
      Settle(r, Type::kBool);
      for (const auto* side : {&l, &r}) {
        if (side->b.type != Type::kBool) {
          const Expr& which = side == &l ? e.args[0] : e.args[1];
          return Status::InvalidArgument(std::string("type mismatch: ") + OpName(op) +
                                         " needs Bool operands, found " +
                                         Describe(which, side->b.type));
        }
      }
      t.b.type = Type::kBool;
    } else {
      // A null takes the other side's type; two nulls are Int64 (any type would do).
      if (l.untyped_null && r.untyped_null) {
        Settle(l, Type::kInt64);
        Settle(r, Type::kInt64);
      }
      Settle(l, r.b.type);
      Settle(r, l.b.type);
      const Type lt = l.b.type;
      const Type rt = r.b.type;
      const bool arithmetic = op <= BinaryOp::kMod;
      if (arithmetic) {
        if (!IsNumeric(lt) || !IsNumeric(rt)) {
          const bool left_bad = !IsNumeric(lt);
          return Status::InvalidArgument(
              std::string("type mismatch: ") + OpName(op) + " needs numbers, found " +
              Describe(left_bad ? e.args[0] : e.args[1], left_bad ? lt : rt));
        }
        if (op == BinaryOp::kDiv || lt == Type::kDouble || rt == Type::kDouble) {
          l.b = ToDouble(std::move(l.b));
          r.b = ToDouble(std::move(r.b));
          t.b.type = Type::kDouble;
        } else {
          t.b.type = Type::kInt64;
        }
      } else {
        const bool ok = (IsNumeric(lt) && IsNumeric(rt)) || lt == rt;
        if (!ok) {
          return Status::InvalidArgument("type mismatch: cannot compare " +
                                         Describe(e.args[0], lt) + " with " +
                                         Describe(e.args[1], rt));
        }
        if (lt != rt) {  // Int64 against Double: compare as doubles, like DuckDB
          l.b = ToDouble(std::move(l.b));
          r.b = ToDouble(std::move(r.b));
        }
        t.b.type = Type::kBool;
      }
    }
    t.b.args.push_back(std::move(l.b));
    t.b.args.push_back(std::move(r.b));
    return t;
  }

  StatusOr<Typed> BindCall(const Expr& e) {
    AIDI_ASSIGN_OR_RETURN(Typed a, Run(e.args[0]));
    Typed t;
    if (e.function == Function::kIsNull) {
      t.b = Unary(Op::kIsNull, Type::kBool, std::move(a.b));
      return t;
    }
    Settle(a, e.function == Function::kAbs ? Type::kInt64 : Type::kDouble);
    if (!IsNumeric(a.b.type)) {
      return Status::InvalidArgument(std::string("type mismatch: ") + FunctionName(e.function) +
                                     " needs a number, found " + Describe(e.args[0], a.b.type));
    }
    switch (e.function) {
      case Function::kAbs: {
        const Type type = a.b.type;
        t.b = Unary(Op::kAbs, type, std::move(a.b));
        break;
      }
      case Function::kLog:
        t.b = Unary(Op::kLog, Type::kDouble, ToDouble(std::move(a.b)));
        break;
      case Function::kExp:
        t.b = Unary(Op::kExp, Type::kDouble, ToDouble(std::move(a.b)));
        break;
      case Function::kSqrt:
        t.b = Unary(Op::kSqrt, Type::kDouble, ToDouble(std::move(a.b)));
        break;
      case Function::kIsNull:
        break;  // handled above
    }
    return t;
  }

  const Schema& schema_;
};

}  // namespace

namespace {

// How deep sqrt calls nest (the SQL form writes sqrt's argument twice, see sql.cc).
int SqrtDepth(const BoundExpr& e) {
  int deepest = 0;
  for (const BoundExpr& a : e.args) deepest = std::max(deepest, SqrtDepth(a));
  return deepest + (e.op == Op::kSqrt ? 1 : 0);
}

}  // namespace

StatusOr<BoundExpr> Bind(const Expr& expr, const Schema& schema) {
  AIDI_ASSIGN_OR_RETURN(Typed t, Binder(schema).Run(expr));
  if (SqrtDepth(t.b) > kMaxSqrtNesting) {
    return Status::InvalidArgument("sqrt is nested " + std::to_string(SqrtDepth(t.b)) +
                                   " deep; at most " + std::to_string(kMaxSqrtNesting) +
                                   " sqrt calls may nest");
  }
  return std::move(t.b);  // a lone `null` stays a Bool null: `where: null` keeps no rows
}

StatusOr<BoundExpr> ParseAndBind(std::string_view text, const Schema& schema) {
  AIDI_ASSIGN_OR_RETURN(Expr e, Parse(text));
  return Bind(e, schema);
}

}  // namespace aidi::worker::expr
