#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cuda-workers/expr/eval.h"
#include "cuda-workers/expr/parser.h"
#include "cuda-workers/expr/sql.h"

namespace aidi::worker::expr {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Canon(std::string_view text) {
  auto e = Parse(text);
  if (!e.ok()) return "ERROR " + e.status().message();
  return ToString(*e);
}

std::string ParseError(std::string_view text) {
  auto e = Parse(text);
  return e.ok() ? "parsed: " + ToString(*e) : e.status().message();
}

const Schema kSchema = {{"a", Type::kInt64},     {"b", Type::kInt64},
                        {"x", Type::kDouble},    {"y", Type::kDouble},
                        {"f", Type::kBool},      {"g", Type::kBool},
                        {"name", Type::kString}, {"a\"; DROP TABLE x; --", Type::kInt64}};

std::string BindError(std::string_view text) {
  auto b = ParseAndBind(text, kSchema);
  return b.ok() ? std::string("bound") : b.status().message();
}

std::string Sql(std::string_view text) {
  auto b = ParseAndBind(text, kSchema);
  return b.ok() ? ToSql(*b) : "ERROR " + b.status().message();
}

TEST(ParseTest, PrecedenceAndAssociativity) {
  EXPECT_EQ(Canon("a + b * c"), R"(("a" + ("b" * "c")))");
  EXPECT_EQ(Canon("a - b - c"), R"((("a" - "b") - "c"))");
  EXPECT_EQ(Canon("a / b % c * d"), R"(((("a" / "b") % "c") * "d"))");
  EXPECT_EQ(Canon("-a * b"), R"(((-"a") * "b"))");
  EXPECT_EQ(Canon("- - a"), R"((-(-"a")))");
  EXPECT_EQ(Canon("a or b and c"), R"(("a" or ("b" and "c")))");
  EXPECT_EQ(Canon("not a = b and c"), R"(((not ("a" = "b")) and "c"))");
  EXPECT_EQ(Canon("a + 1 < b * 2"), R"((("a" + 1) < ("b" * 2)))");
  EXPECT_EQ(Canon("(a or b) and c"), R"((("a" or "b") and "c"))");
  EXPECT_EQ(Canon("a or b or c"), R"((("a" or "b") or "c"))");
}

TEST(ParseTest, AllTokens) {
  EXPECT_EQ(Canon("a = 1"), R"(("a" = 1))");
  EXPECT_EQ(Canon("a == 1"), R"(("a" = 1))");
  EXPECT_EQ(Canon("a != 1"), R"(("a" != 1))");
  EXPECT_EQ(Canon("a <> 1"), R"(("a" != 1))");
  EXPECT_EQ(Canon("a<1"), R"(("a" < 1))");
  EXPECT_EQ(Canon("a<=1"), R"(("a" <= 1))");
  EXPECT_EQ(Canon("a>1"), R"(("a" > 1))");
  EXPECT_EQ(Canon("a>=1"), R"(("a" >= 1))");
  EXPECT_EQ(Canon("TRUE And False oR NULL"), "((true and false) or null)");
  EXPECT_EQ(Canon("Not x"), R"((not "x"))");
  EXPECT_EQ(Canon("IS_NULL(a)"), R"(is_null("a"))");
  EXPECT_EQ(Canon("abs (a) + Log(x) + exp(x) + sqrt(x)"),
            R"((((abs("a") + log("x")) + exp("x")) + sqrt("x")))");
  EXPECT_EQ(Canon("1.5 + .25 + 2e3 + 1E-2 + 7"), "((((1.5 + 0.25) + 2000.0) + 0.01) + 7)");
  EXPECT_EQ(Canon("9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(Canon("'it''s' = ''"), "('it''s' = '')");
  EXPECT_EQ(Canon("\"my col\" + \"a\"\"b\""), R"(("my col" + "a""b"))");
  EXPECT_EQ(Canon("_x1 + abs"), R"(("_x1" + "abs"))");  // function names are columns unless called
  EXPECT_EQ(Canon(" \t a \n"), R"("a")");
  EXPECT_EQ(Canon("'caf\xc3\xa9'"), "'caf\xc3\xa9'");
}

TEST(ParseTest, ErrorsNameColumnAndExpectation) {
  EXPECT_EQ(ParseError("a > and b"),
            R"x(at column 5 of "a > and b": expected a value, found 'and')x");
  EXPECT_EQ(ParseError(""), R"x(at column 1 of "": expected a value, found end of input)x");
  EXPECT_EQ(ParseError("(a + b"), R"x(at column 7 of "(a + b": expected ')', found end of input)x");
  EXPECT_EQ(ParseError("a b"),
            R"x(at column 3 of "a b": expected an operator or end of input, found 'b')x");
  EXPECT_EQ(ParseError("a < b < c"),
            R"x(at column 7 of "a < b < c": expected an operator or end of input, found '<')x");
  EXPECT_EQ(ParseError("'abc"), R"x(at column 1 of "'abc": unterminated string)x");
  EXPECT_EQ(ParseError("\"abc"), R"x(at column 1 of ""abc": unterminated identifier)x");
  EXPECT_EQ(ParseError("\"\""), R"x(at column 1 of """": empty quoted identifier)x");
  EXPECT_EQ(ParseError("a ; b"), R"x(at column 3 of "a ; b": unexpected character ';')x");
  EXPECT_EQ(ParseError("a ! b"), R"x(at column 3 of "a ! b": unexpected character '!')x");
  EXPECT_EQ(ParseError("1e"), R"x(at column 1 of "1e": malformed number)x");
  EXPECT_EQ(ParseError("12abc"), R"x(at column 1 of "12abc": malformed number)x");
  EXPECT_EQ(
      ParseError("9223372036854775808"),
      R"x(at column 1 of "9223372036854775808": integer literal out of the range of int64 (write it as a double))x");
  EXPECT_EQ(ParseError("1e400"),
            R"x(at column 1 of "1e400": number out of the range of a double)x");
  EXPECT_EQ(
      ParseError("max(a)"),
      R"x(at column 1 of "max(a)": expected a function (is_null, abs, log, exp, sqrt), found 'max')x");
  EXPECT_EQ(
      ParseError("abs(a, b)"),
      R"x(at column 6 of "abs(a, b)": expected ')' closing abs( (it takes one argument), found ',')x");
  EXPECT_EQ(ParseError("'\xff'"), "at column 2 of \"'\xff'\": invalid UTF-8");
  EXPECT_EQ(ParseError(std::string_view("a\0b", 3)),
            "at column 2 of \"a b\": unexpected character byte 0");
  // Columns count characters, not bytes.
  EXPECT_EQ(ParseError("'\xc3\xa9' +"),
            "at column 6 of \"'\xc3\xa9' +\": expected a value, found end of input");
  EXPECT_EQ(Canon("1e-400"), "0.0");  // underflow rounds to zero
}

TEST(ParseTest, Limits) {
  std::string deep(kMaxNesting, '(');
  EXPECT_TRUE(Parse(deep + "a" + std::string(kMaxNesting, ')')).ok());
  EXPECT_EQ(Parse("(" + deep + "a" + std::string(kMaxNesting + 1, ')'))
                    .status()
                    .message()
                    .find("nests more than 256 levels deep") != std::string::npos,
            true);
  std::string minus(kMaxNesting + 1, '-');
  EXPECT_FALSE(Parse(minus + "a").ok());
  std::string chain = "a";
  for (int i = 0; i < kMaxTreeDepth - 1; ++i) chain += "+a";
  EXPECT_TRUE(Parse(chain).ok());
  EXPECT_NE(Parse(chain + "+a").status().message().find("more than 1024 operators deep"),
            std::string::npos);
  EXPECT_NE(Parse(std::string(kMaxExpressionLength + 1, ' ')).status().message().find("limit"),
            std::string::npos);
}

TEST(BindTest, Types) {
  auto type = [](std::string_view text) {
    auto b = ParseAndBind(text, kSchema);
    return b.ok() ? std::string(TypeName(b->type)) : b.status().message();
  };
  EXPECT_EQ(type("a + b"), "Int64");
  EXPECT_EQ(type("a * 2 - b % 3"), "Int64");
  EXPECT_EQ(type("a / b"), "Double");
  EXPECT_EQ(type("a + x"), "Double");
  EXPECT_EQ(type("x % 2"), "Double");
  EXPECT_EQ(type("-a"), "Int64");
  EXPECT_EQ(type("-x"), "Double");
  EXPECT_EQ(type("abs(a)"), "Int64");
  EXPECT_EQ(type("abs(x)"), "Double");
  EXPECT_EQ(type("log(a) + exp(a) + sqrt(a)"), "Double");
  EXPECT_EQ(type("a < x"), "Bool");
  EXPECT_EQ(type("name >= 'b'"), "Bool");
  EXPECT_EQ(type("f = g"), "Bool");
  EXPECT_EQ(type("is_null(name)"), "Bool");
  EXPECT_EQ(type("f and not g or null"), "Bool");
  EXPECT_EQ(type("a + null"), "Int64");
  EXPECT_EQ(type("x + null"), "Double");
  EXPECT_EQ(type("null / null"), "Double");
  EXPECT_EQ(type("null"), "Bool");
  EXPECT_EQ(type("name"), "String");
  EXPECT_EQ(type("null = name"), "Bool");
}

TEST(BindTest, Errors) {
  EXPECT_EQ(BindError("zz > 1"),
            "unknown column 'zz' (columns: a, b, x, y, f, g, name, a\"; DROP TABLE x; --)");
  EXPECT_EQ(BindError("A > 1").substr(0, 20), "unknown column 'A' (");
  EXPECT_EQ(BindError("name > 5"), "type mismatch: cannot compare String 'name' with Int64 5");
  EXPECT_EQ(BindError("f < a + 1"),
            "type mismatch: cannot compare Bool 'f' with Int64 (\"a\" + 1)");
  EXPECT_EQ(BindError("name + 1"), "type mismatch: + needs numbers, found String 'name'");
  EXPECT_EQ(BindError("1 * f"), "type mismatch: * needs numbers, found Bool 'f'");
  EXPECT_EQ(BindError("a and f"), "type mismatch: and needs Bool operands, found Int64 'a'");
  EXPECT_EQ(BindError("f or 'x'"), "type mismatch: or needs Bool operands, found String 'x'");
  EXPECT_EQ(BindError("not a"), "type mismatch: not needs Bool, found Int64 'a'");
  EXPECT_EQ(BindError("-f"), "type mismatch: unary - needs a number, found Bool 'f'");
  EXPECT_EQ(BindError("sqrt(name)"), "type mismatch: sqrt needs a number, found String 'name'");
  EXPECT_EQ(BindError("abs(f)"), "type mismatch: abs needs a number, found Bool 'f'");
  EXPECT_EQ(BindError("is_null(name) and is_null(f)"), "bound");
}

TEST(BindTest, SqrtNestsAtMostEightDeep) {
  std::string deep = "x";
  for (int i = 0; i < kMaxSqrtNesting; ++i) deep = "sqrt(" + deep + ")";
  EXPECT_EQ(BindError(deep), "bound");
  EXPECT_EQ(BindError("sqrt(" + deep + ")"),
            "sqrt is nested 9 deep; at most 8 sqrt calls may nest");
}

TEST(SqlTest, ExactText) {
  EXPECT_EQ(
      Sql("a + 1 > b"),
      R"((TRY_CAST((CAST("a" AS HUGEINT) + CAST(CAST(1 AS BIGINT) AS HUGEINT)) AS BIGINT) > "b"))");
  EXPECT_EQ(Sql("a + 1 > b").front(), '(');
  EXPECT_EQ(Sql("x * 0.1"), R"(("x" * 0.10000000000000001e0))");
  EXPECT_EQ(Sql("x + 1.0 + 1e300"), R"((("x" + 1e0) + 1.0000000000000001e+300))");
  EXPECT_EQ(Sql("a / b"), R"((CAST("a" AS DOUBLE) / NULLIF(CAST("b" AS DOUBLE), 0)))");
  EXPECT_EQ(Sql("a % b"),
            R"(TRY_CAST((CAST("a" AS HUGEINT) % NULLIF(CAST("b" AS HUGEINT), 0)) AS BIGINT))");
  EXPECT_EQ(Sql("x % y"), R"(("x" % NULLIF("y", 0)))");
  EXPECT_EQ(
      Sql("- -a"),
      R"(TRY_CAST((-(CAST(TRY_CAST((-(CAST("a" AS HUGEINT))) AS BIGINT) AS HUGEINT))) AS BIGINT))");
  EXPECT_EQ(
      Sql("a - -b"),
      R"(TRY_CAST((CAST("a" AS HUGEINT) - CAST(TRY_CAST((-(CAST("b" AS HUGEINT))) AS BIGINT) AS HUGEINT)) AS BIGINT))");
  EXPECT_EQ(Sql("-x"), R"((-("x")))");
  EXPECT_EQ(Sql("not f and g or is_null(name)"), R"((((NOT "f") AND "g") OR ("name" IS NULL)))");
  EXPECT_EQ(
      Sql("log(x) + exp(x) + sqrt(a) + abs(x) + abs(a)"),
      R"(((((ln(NULLIF(greatest("x", 0e0), 0e0)) + exp("x")) + (CASE WHEN CAST("a" AS DOUBLE) < 0e0 THEN NULL ELSE sqrt(CAST("a" AS DOUBLE)) END)) + abs("x")) + CAST(TRY_CAST(abs(CAST("a" AS HUGEINT)) AS BIGINT) AS DOUBLE)))");
  EXPECT_EQ(Sql("a <> 1 and a = null"),
            R"((("a" <> CAST(1 AS BIGINT)) AND ("a" = CAST(NULL AS BIGINT))))");
  EXPECT_EQ(Sql("a < x"), R"((CAST("a" AS DOUBLE) < "x"))");
  EXPECT_EQ(Sql("true or false"), "(TRUE OR FALSE)");
}

TEST(SqlTest, NeverPastesUserText) {
  EXPECT_EQ(Sql(R"("a""; DROP TABLE x; --" > 0)"),
            R"(("a""; DROP TABLE x; --" > CAST(0 AS BIGINT)))");
  EXPECT_EQ(Sql("name = 'x''; DROP TABLE t; --'"), R"(("name" = 'x''; DROP TABLE t; --'))");
  EXPECT_EQ(Sql(R"(name = 'back\slash "dq"')"), R"(("name" = 'back\slash "dq"'))");
  EXPECT_EQ(SqlIdentifier("my \"col\""), R"("my ""col""")");
  EXPECT_EQ(SqlStringLiteral("it's"), "'it''s'");
}

// Evaluates `text` over the rows given; returns each row rendered ("null", "1", "2.5", ...).
struct Table {
  std::vector<int64_t> a, b;
  std::vector<double> x, y;
  std::vector<uint8_t> f, g;
  std::vector<std::string_view> name;
  std::vector<uint8_t> a_valid, b_valid, x_valid, y_valid, f_valid, g_valid, name_valid;
};

std::vector<std::string> Eval(std::string_view text, const Table& t) {
  auto bound = ParseAndBind(text, kSchema);
  if (!bound.ok()) return {"ERROR " + bound.status().message()};
  const Program p = Compile(*bound);
  const size_t rows = t.a.size();
  auto valid = [](const std::vector<uint8_t>& v) { return v.empty() ? nullptr : v.data(); };
  std::vector<ColumnView> cols = {
      {Type::kInt64, t.a.data(), nullptr, nullptr, nullptr, valid(t.a_valid)},
      {Type::kInt64, t.b.data(), nullptr, nullptr, nullptr, valid(t.b_valid)},
      {Type::kDouble, nullptr, t.x.data(), nullptr, nullptr, valid(t.x_valid)},
      {Type::kDouble, nullptr, t.y.data(), nullptr, nullptr, valid(t.y_valid)},
      {Type::kBool, nullptr, nullptr, t.f.data(), nullptr, valid(t.f_valid)},
      {Type::kBool, nullptr, nullptr, t.g.data(), nullptr, valid(t.g_valid)},
      {Type::kString, nullptr, nullptr, nullptr, t.name.data(), valid(t.name_valid)},
  };
  auto r = Evaluate(p, cols, rows);
  if (!r.ok()) return {"ERROR " + r.status().message()};
  std::vector<std::string> out;
  for (size_t i = 0; i < rows; ++i) {
    if (!r->valid[i]) {
      out.push_back("null");
      continue;
    }
    switch (r->type) {
      case Type::kInt64:
        out.push_back(std::to_string(r->ints[i]));
        break;
      case Type::kBool:
        out.push_back(r->bools[i] ? "true" : "false");
        break;
      case Type::kString:
        out.push_back(r->strings[i]);
        break;
      case Type::kDouble: {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", r->doubles[i]);
        out.push_back(buf);
        break;
      }
    }
  }
  return out;
}

using Rows = std::vector<std::string>;

// Each row is one (f, g) pair over {true, false, null}.
Table TruthTable() {
  Table t;
  const int v[3] = {1, 0, -1};  // -1 = null
  for (int i : v) {
    for (int j : v) {
      t.a.push_back(0), t.b.push_back(0), t.x.push_back(0), t.y.push_back(0);
      t.name.push_back("");
      t.f.push_back(i == 1), t.f_valid.push_back(i != -1);
      t.g.push_back(j == 1), t.g_valid.push_back(j != -1);
    }
  }
  return t;
}

TEST(EvalTest, ThreeValuedLogic) {
  const Table t = TruthTable();  // (f,g): TT TF TN FT FF FN NT NF NN
  EXPECT_EQ(Eval("f and g", t),
            (Rows{"true", "false", "null", "false", "false", "false", "null", "false", "null"}));
  EXPECT_EQ(Eval("f or g", t),
            (Rows{"true", "true", "true", "true", "false", "null", "true", "null", "null"}));
  EXPECT_EQ(Eval("not f", t),
            (Rows{"false", "false", "false", "true", "true", "true", "null", "null", "null"}));
  EXPECT_EQ(Eval("f = g", t),
            (Rows{"true", "false", "null", "false", "true", "null", "null", "null", "null"}));
  EXPECT_EQ(Eval("is_null(f) or is_null(g)", t),
            (Rows{"false", "false", "true", "false", "false", "true", "true", "true", "true"}));
  EXPECT_EQ(Eval("f and null", t),
            (Rows{"null", "null", "null", "false", "false", "false", "null", "null", "null"}));
}

Table Ints(std::vector<int64_t> a, std::vector<int64_t> b, std::vector<uint8_t> a_valid = {},
           std::vector<uint8_t> b_valid = {}) {
  Table t;
  t.a = std::move(a), t.b = std::move(b);
  t.a_valid = std::move(a_valid), t.b_valid = std::move(b_valid);
  const size_t n = t.a.size();
  t.x.assign(n, 0), t.y.assign(n, 0), t.f.assign(n, 0), t.g.assign(n, 0), t.name.assign(n, "");
  return t;
}

Table Doubles(std::vector<double> x, std::vector<double> y) {
  Table t = Ints(std::vector<int64_t>(x.size()), std::vector<int64_t>(x.size()));
  t.x = std::move(x), t.y = std::move(y);
  return t;
}

TEST(EvalTest, IntegerArithmetic) {
  const Table t = Ints({7, -7, 7, -7, 5, 1}, {3, 3, -3, -3, 0, 2}, {1, 1, 1, 1, 1, 0});
  EXPECT_EQ(Eval("a + b", t), (Rows{"10", "-4", "4", "-10", "5", "null"}));
  EXPECT_EQ(Eval("a - b * 2", t), (Rows{"1", "-13", "13", "-1", "5", "null"}));
  EXPECT_EQ(Eval("a % b", t), (Rows{"1", "-1", "1", "-1", "null", "null"}));  // C truncation
  EXPECT_EQ(Eval("a / b", t), (Rows{"2.3333333333333335", "-2.3333333333333335",
                                    "-2.3333333333333335", "2.3333333333333335", "null", "null"}));
  EXPECT_EQ(Eval("-a", t), (Rows{"-7", "7", "-7", "7", "-5", "null"}));
  EXPECT_EQ(Eval("abs(a)", t), (Rows{"7", "7", "7", "7", "5", "null"}));
  EXPECT_EQ(Eval("a > b", t), (Rows{"true", "false", "true", "false", "true", "null"}));
  EXPECT_EQ(Eval("a = null", t), (Rows{"null", "null", "null", "null", "null", "null"}));
}

TEST(EvalTest, IntegerOverflowIsNull) {
  const Table t = Ints({kMax, kMin, kMin, kMin, kMax, 3}, {1, 1, -1, 2, kMax, -1});
  EXPECT_EQ(Eval("a + b", t), (Rows{"null", std::to_string(kMin + 1), "null",
                                    std::to_string(kMin + 2), "null", "2"}));
  EXPECT_EQ(Eval("a - b", t),
            (Rows{std::to_string(kMax - 1), "null", std::to_string(kMin + 1), "null", "0", "4"}));
  EXPECT_EQ(Eval("a * b", t),
            (Rows{std::to_string(kMax), std::to_string(kMin), "null", "null", "null", "-3"}));
  EXPECT_EQ(Eval("-a", t),
            (Rows{std::to_string(-kMax), "null", "null", "null", std::to_string(-kMax), "-3"}));
  EXPECT_EQ(Eval("abs(a)", t),
            (Rows{std::to_string(kMax), "null", "null", "null", std::to_string(kMax), "3"}));
  EXPECT_EQ(Eval("a % b", t), (Rows{"0", "0", "0", "0", "0", "0"}));  // INT64_MIN % -1 = 0
  // A null from overflow is absorbed like any other null.
  EXPECT_EQ(Eval("a + b > 0 or true", t), (Rows(6, "true")));
}

TEST(EvalTest, DoubleEdgeCases) {
  const Table t = Doubles({1, -1, 0, 5, kInf, kNaN, -0.0, -kInf}, {0, -0.0, 0, kInf, 2, 1, 1, 1});
  EXPECT_EQ(Eval("x / y", t), (Rows{"null", "null", "null", "0", "inf", "nan", "-0", "-inf"}));
  EXPECT_EQ(Eval("x % y", t)[0], "null");
  EXPECT_EQ(Eval("x % y", t)[1], "null");
  EXPECT_EQ(Eval("x % y", t)[3], "5");  // fmod(5, inf) = 5, like DuckDB
  EXPECT_EQ(Eval("is_null(x % y)", t),
            (Rows{"true", "true", "true", "false", "false", "false", "false", "false"}));
  EXPECT_EQ(Eval("log(x)", t),
            (Rows{"0", "null", "null", "1.6094379124341003", "inf", "nan", "null", "null"}));
  EXPECT_EQ(Eval("sqrt(x)", t),
            (Rows{"1", "null", "0", "2.2360679774997898", "inf", "nan", "-0", "null"}));
  EXPECT_EQ(Eval("exp(x)", t)[4], "inf");
  EXPECT_EQ(Eval("exp(x)", t)[7], "0");
  EXPECT_EQ(Eval("abs(x)", t)[6], "0");
  EXPECT_EQ(Eval("exp(1000.0) = x", t)[4], "true");
  // DuckDB's order: NaN = NaN, NaN above +inf, -0 = 0.
  EXPECT_EQ(Eval("x = x", t), (Rows(8, "true")));
  EXPECT_EQ(Eval("x > y", t),
            (Rows{"true", "false", "false", "false", "true", "true", "false", "false"}));
  EXPECT_EQ(Eval("x >= 0.0", t),
            (Rows{"true", "false", "true", "true", "true", "true", "true", "false"}));
  EXPECT_EQ(Eval("x = 0", t)[6], "true");
}

TEST(EvalTest, MixedAndStrings) {
  Table t = Ints({9007199254740993, 2}, {0, 0});
  t.x = {9007199254740992.0, 2.5};
  t.name = {"Z", "\xc3\xa9"};
  t.name_valid = {1, 1};
  EXPECT_EQ(Eval("a = x", t), (Rows{"true", "false"}));  // Int64 converts to Double, like DuckDB
  EXPECT_EQ(Eval("a + x", t), (Rows{"18014398509481984", "4.5"}));
  EXPECT_EQ(Eval("name < 'a'", t), (Rows{"true", "false"}));  // bytewise
  EXPECT_EQ(Eval("name", t), (Rows{"Z", "\xc3\xa9"}));
  EXPECT_EQ(Eval("'q'", t), (Rows{"q", "q"}));
  EXPECT_EQ(Eval("null", t), (Rows{"null", "null"}));
}

TEST(ProgramTest, LayoutAndDisassembly) {
  auto b = ParseAndBind("a + 5 > x and not is_null(a)", kSchema);
  ASSERT_TRUE(b.ok());
  const Program p = Compile(*b);
  EXPECT_EQ(Disassemble(p),
            "column 0 (Int64)\nconst_int 5\nadd Int64\nto_double Double\ncolumn 1 (Double)\n"
            "gt Bool\ncolumn 0 (Int64)\nis_null Bool\nnot Bool\nand Bool\n");
  EXPECT_EQ(p.columns, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(p.max_stack, 2);
  EXPECT_EQ(p.result_type, Type::kBool);
  EXPECT_FALSE(p.uses_strings);
  EXPECT_TRUE(Compile(*ParseAndBind("name = 'x'", kSchema)).uses_strings);
}

TEST(EvalTest, RejectsMismatchedInput) {
  const Program p = Compile(*ParseAndBind("a + 1", kSchema));
  std::vector<ColumnView> cols(1);
  cols[0].type = Type::kDouble;
  EXPECT_FALSE(Evaluate(p, cols, 1).ok());
  EXPECT_FALSE(Evaluate(p, {}, 1).ok());
  auto empty = Evaluate(p, std::vector<ColumnView>{{Type::kInt64}}, 0);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->valid.empty());
}

}  // namespace
}  // namespace aidi::worker::expr
