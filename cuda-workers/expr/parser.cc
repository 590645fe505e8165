#include "cuda-workers/expr/parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace aidi::worker::expr {
namespace {

enum class Tok : uint8_t {
  kEnd,
  kIdent,
  kQuotedIdent,
  kInt,
  kDouble,
  kString,
  kLParen,
  kRParen,
  kComma,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kNot,
  kTrue,
  kFalse,
  kNull,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t begin = 0;  // byte offset
  size_t end = 0;
  std::string value;  // unquoted identifier or string
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the UTF-8 sequence at s[i], or 0 when it is not valid UTF-8.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) {
    n = 2, cp = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3, cp = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4, cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  StatusOr<Expr> Run() {
    if (text_.size() > kMaxExpressionLength) {
      return Status::InvalidArgument("expression is " + std::to_string(text_.size()) +
                                     " bytes long; the limit is " +
                                     std::to_string(kMaxExpressionLength));
    }
    columns_.resize(text_.size() + 1);
    int col = 1;
    for (size_t i = 0; i <= text_.size(); ++i) {
      columns_[i] = col;
      if (i < text_.size() && (static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++col;
    }
    AIDI_RETURN_IF_ERROR(Advance());
    AIDI_ASSIGN_OR_RETURN(Parsed p, ParseOr());
    if (tok_.kind != Tok::kEnd) return Error(tok_.begin, "expected an operator or end of input");
    return std::move(p.e);
  }

 private:
  // Column (1-based, in characters) of byte offset `at`.
  int ColumnOf(size_t at) const { return columns_[std::min(at, text_.size())]; }

  std::string Quoted() const {
    constexpr size_t kShow = 80;
    std::string shown(text_.substr(0, kShow));
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return "\"" + shown + (text_.size() > kShow ? "...\"" : "\"");
  }

  std::string Found() const {
    if (tok_.kind == Tok::kEnd) return "end of input";
    std::string t(text_.substr(tok_.begin, std::min<size_t>(tok_.end - tok_.begin, 40)));
    for (char& c : t) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return "'" + t + "'";
  }

  Status Error(size_t at, std::string_view what, bool with_found = true) const {
    std::string m = "at column " + std::to_string(ColumnOf(at)) + " of " + Quoted() + ": ";
    m += what;
    if (with_found) m += ", found " + Found();
    return Status::InvalidArgument(std::move(m));
  }

  Status LexError(size_t at, std::string_view what) const {
    return Error(at, what, /*with_found=*/false);
  }

  // Reads a quoted run starting at pos_ (the opening quote); doubled quotes escape.
  Status LexQuoted(char quote, std::string* out) {
    const size_t start = pos_;
    ++pos_;
    while (true) {
      if (pos_ >= text_.size()) {
        return LexError(start, quote == '\'' ? "unterminated string" : "unterminated identifier");
      }
      const char c = text_[pos_];
      if (c == quote) {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == quote) {
          out->push_back(quote);
          pos_ += 2;
          continue;
        }
        ++pos_;
        return Status::Ok();
      }
      const size_t n = Utf8Length(text_, pos_);
      if (n == 0) return LexError(pos_, "invalid UTF-8");
      out->append(text_.substr(pos_, n));
      pos_ += n;
    }
  }

  Status LexNumber() {
    const size_t start = pos_;
    bool is_double = false;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_double = true;
      ++pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
      if (p >= text_.size() || !IsDigit(text_[p])) return LexError(start, "malformed number");
      while (p < text_.size() && IsDigit(text_[p])) ++p;
      pos_ = p;
      is_double = true;
    }
    if (pos_ < text_.size() && IsIdentChar(text_[pos_])) return LexError(start, "malformed number");
    const char* b = text_.data() + start;
    const char* e = text_.data() + pos_;
    tok_.end = pos_;
    if (is_double) {
      double d = 0;
      auto [ptr, ec] = std::from_chars(b, e, d);
      if (ec == std::errc::result_out_of_range) {
        // from_chars leaves d unspecified; strtod tells overflow (HUGE_VAL) from underflow.
        d = std::strtod(std::string(b, e).c_str(), nullptr);
        ec = std::errc();
      }
      if (ptr != e || ec != std::errc() || !std::isfinite(d)) {
        return LexError(start, "number out of the range of a double");
      }
      tok_.kind = Tok::kDouble;
      double_value_ = d;
    } else {
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(b, e, v);
      if (ptr != e || ec != std::errc()) {
        return LexError(start, "integer literal out of the range of int64 (write it as a double)");
      }
      tok_.kind = Tok::kInt;
      int_value_ = v;
    }
    return Status::Ok();
  }

  Status Advance() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
    tok_ = Token{};
    tok_.begin = pos_;
    if (pos_ >= text_.size()) {
      tok_.end = pos_;
      return Status::Ok();
    }
    const char c = text_[pos_];
    auto one = [&](Tok k, size_t len) {
      tok_.kind = k;
      pos_ += len;
      tok_.end = pos_;
      return Status::Ok();
    };
    const char next = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    if (IsIdentStart(c)) {
      while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
      tok_.end = pos_;
      std::string_view word = text_.substr(tok_.begin, pos_ - tok_.begin);
      static constexpr std::pair<const char*, Tok> kKeywords[] = {
          {"and", Tok::kAnd},   {"or", Tok::kOr},       {"not", Tok::kNot},
          {"true", Tok::kTrue}, {"false", Tok::kFalse}, {"null", Tok::kNull},
      };
      tok_.kind = Tok::kIdent;
      for (const auto& [kw, kind] : kKeywords) {
        if (EqualsIgnoreCase(word, kw)) tok_.kind = kind;
      }
      tok_.value = std::string(word);
      return Status::Ok();
    }
    if (IsDigit(c) || (c == '.' && IsDigit(next))) return LexNumber();
    switch (c) {
      case '\'':
      case '"': {
        std::string value;
        AIDI_RETURN_IF_ERROR(LexQuoted(c, &value));
        tok_.kind = c == '\'' ? Tok::kString : Tok::kQuotedIdent;
        tok_.end = pos_;
        tok_.value = std::move(value);
        if (c == '"' && tok_.value.empty()) return LexError(tok_.begin, "empty quoted identifier");
        return Status::Ok();
      }
      case '(':
        return one(Tok::kLParen, 1);
      case ')':
        return one(Tok::kRParen, 1);
      case ',':
        return one(Tok::kComma, 1);
      case '+':
        return one(Tok::kPlus, 1);
      case '-':
        return one(Tok::kMinus, 1);
      case '*':
        return one(Tok::kStar, 1);
      case '/':
        return one(Tok::kSlash, 1);
      case '%':
        return one(Tok::kPercent, 1);
      case '=':
        return next == '=' ? one(Tok::kEq, 2) : one(Tok::kEq, 1);
      case '!':
        if (next == '=') return one(Tok::kNe, 2);
        break;
      case '<':
        if (next == '=') return one(Tok::kLe, 2);
        if (next == '>') return one(Tok::kNe, 2);
        return one(Tok::kLt, 1);
      case '>':
        if (next == '=') return one(Tok::kGe, 2);
        return one(Tok::kGt, 1);
      default:
        break;
    }
    const size_t n = Utf8Length(text_, pos_);
    std::string shown = n == 0 || static_cast<unsigned char>(c) < 0x20
                            ? "byte " + std::to_string(static_cast<unsigned char>(c))
                            : "'" + std::string(text_.substr(pos_, n)) + "'";
    return LexError(pos_, "unexpected character " + shown);
  }

  bool NextIsParen() const {
    size_t p = pos_;
    while (p < text_.size() &&
           (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\n' || text_[p] == '\r')) {
      ++p;
    }
    return p < text_.size() && text_[p] == '(';
  }

  struct Parsed {
    Expr e;
    int depth = 1;  // height of the tree, bounded so later recursive passes stay shallow
  };

  Status Enter(size_t at) {
    if (++nesting_ > kMaxNesting) {
      return LexError(at,
                      "expression nests more than " + std::to_string(kMaxNesting) + " levels deep");
    }
    return Status::Ok();
  }

  StatusOr<Parsed> Binary(BinaryOp op, Parsed lhs, Parsed rhs, size_t at) {
    Parsed p;
    p.depth = std::max(lhs.depth, rhs.depth) + 1;
    if (p.depth > kMaxTreeDepth) {
      return LexError(
          at, "expression is more than " + std::to_string(kMaxTreeDepth) + " operators deep");
    }
    p.e.kind = Expr::Kind::kBinary;
    p.e.position = lhs.e.position;
    p.e.binary_op = op;
    p.e.args.push_back(std::move(lhs.e));
    p.e.args.push_back(std::move(rhs.e));
    return p;
  }

  StatusOr<Parsed> ParseOr() {
    AIDI_ASSIGN_OR_RETURN(Parsed lhs, ParseAnd());
    while (tok_.kind == Tok::kOr) {
      const size_t at = tok_.begin;
      AIDI_RETURN_IF_ERROR(Advance());
      AIDI_ASSIGN_OR_RETURN(Parsed rhs, ParseAnd());
      AIDI_ASSIGN_OR_RETURN(lhs, Binary(BinaryOp::kOr, std::move(lhs), std::move(rhs), at));
    }
    return lhs;
  }

  StatusOr<Parsed> ParseAnd() {
    AIDI_ASSIGN_OR_RETURN(Parsed lhs, ParseNot());
    while (tok_.kind == Tok::kAnd) {
      const size_t at = tok_.begin;
      AIDI_RETURN_IF_ERROR(Advance());
      AIDI_ASSIGN_OR_RETURN(Parsed rhs, ParseNot());
      AIDI_ASSIGN_OR_RETURN(lhs, Binary(BinaryOp::kAnd, std::move(lhs), std::move(rhs), at));
    }
    return lhs;
  }

  StatusOr<Parsed> Unary(UnaryOp op, size_t at, Parsed operand) {
    Parsed p;
    p.depth = operand.depth + 1;
    p.e.kind = Expr::Kind::kUnary;
    p.e.position = ColumnOf(at);
    p.e.unary_op = op;
    p.e.args.push_back(std::move(operand.e));
    return p;
  }

  StatusOr<Parsed> ParseNot() {
    if (tok_.kind != Tok::kNot) return ParseComparison();
    const size_t at = tok_.begin;
    AIDI_RETURN_IF_ERROR(Enter(at));
    AIDI_RETURN_IF_ERROR(Advance());
    AIDI_ASSIGN_OR_RETURN(Parsed operand, ParseNot());
    --nesting_;
    return Unary(UnaryOp::kNot, at, std::move(operand));
  }

  StatusOr<Parsed> ParseComparison() {
    AIDI_ASSIGN_OR_RETURN(Parsed lhs, ParseAdditive());
    BinaryOp op;
    switch (tok_.kind) {
      case Tok::kEq:
        op = BinaryOp::kEq;
        break;
      case Tok::kNe:
        op = BinaryOp::kNe;
        break;
      case Tok::kLt:
        op = BinaryOp::kLt;
        break;
      case Tok::kLe:
        op = BinaryOp::kLe;
        break;
      case Tok::kGt:
        op = BinaryOp::kGt;
        break;
      case Tok::kGe:
        op = BinaryOp::kGe;
        break;
      default:
        return lhs;
    }
    const size_t at = tok_.begin;
    AIDI_RETURN_IF_ERROR(Advance());
    AIDI_ASSIGN_OR_RETURN(Parsed rhs, ParseAdditive());
    return Binary(op, std::move(lhs), std::move(rhs), at);
  }

  StatusOr<Parsed> ParseAdditive() {
    AIDI_ASSIGN_OR_RETURN(Parsed lhs, ParseMultiplicative());
    while (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus) {
      const BinaryOp op = tok_.kind == Tok::kPlus ? BinaryOp::kAdd : BinaryOp::kSub;
      const size_t at = tok_.begin;
      AIDI_RETURN_IF_ERROR(Advance());
      AIDI_ASSIGN_OR_RETURN(Parsed rhs, ParseMultiplicative());
      AIDI_ASSIGN_OR_RETURN(lhs, Binary(op, std::move(lhs), std::move(rhs), at));
    }
    return lhs;
  }

  StatusOr<Parsed> ParseMultiplicative() {
    AIDI_ASSIGN_OR_RETURN(Parsed lhs, ParseUnary());
    while (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash || tok_.kind == Tok::kPercent) {
      const BinaryOp op = tok_.kind == Tok::kStar    ? BinaryOp::kMul
                          : tok_.kind == Tok::kSlash ? BinaryOp::kDiv
                                                     : BinaryOp::kMod;
      const size_t at = tok_.begin;
      AIDI_RETURN_IF_ERROR(Advance());
      AIDI_ASSIGN_OR_RETURN(Parsed rhs, ParseUnary());
      AIDI_ASSIGN_OR_RETURN(lhs, Binary(op, std::move(lhs), std::move(rhs), at));
    }
    return lhs;
  }

  StatusOr<Parsed> ParseUnary() {
    if (tok_.kind != Tok::kMinus) return ParsePrimary();
    const size_t at = tok_.begin;
    AIDI_RETURN_IF_ERROR(Enter(at));
    AIDI_RETURN_IF_ERROR(Advance());
    AIDI_ASSIGN_OR_RETURN(Parsed operand, ParseUnary());
    --nesting_;
    return Unary(UnaryOp::kNeg, at, std::move(operand));
  }

  StatusOr<Parsed> ParsePrimary() {
    Parsed p;
    p.e.position = ColumnOf(tok_.begin);
    switch (tok_.kind) {
      case Tok::kInt:
        p.e.kind = Expr::Kind::kInt;
        p.e.int_value = int_value_;
        break;
      case Tok::kDouble:
        p.e.kind = Expr::Kind::kDouble;
        p.e.double_value = double_value_;
        break;
      case Tok::kString:
        p.e.kind = Expr::Kind::kString;
        p.e.text = tok_.value;
        break;
      case Tok::kTrue:
      case Tok::kFalse:
        p.e.kind = Expr::Kind::kBool;
        p.e.bool_value = tok_.kind == Tok::kTrue;
        break;
      case Tok::kNull:
        p.e.kind = Expr::Kind::kNull;
        break;
      case Tok::kQuotedIdent:
        p.e.kind = Expr::Kind::kColumn;
        p.e.text = tok_.value;
        break;
      case Tok::kIdent:
        if (NextIsParen()) return ParseCall();
        p.e.kind = Expr::Kind::kColumn;
        p.e.text = tok_.value;
        break;
      case Tok::kLParen: {
        const size_t at = tok_.begin;
        AIDI_RETURN_IF_ERROR(Enter(at));
        AIDI_RETURN_IF_ERROR(Advance());
        AIDI_ASSIGN_OR_RETURN(Parsed inner, ParseOr());
        if (tok_.kind != Tok::kRParen) return Error(tok_.begin, "expected ')'");
        --nesting_;
        AIDI_RETURN_IF_ERROR(Advance());
        return inner;
      }
      default:
        return Error(tok_.begin, "expected a value");
    }
    AIDI_RETURN_IF_ERROR(Advance());
    return p;
  }

  // An identifier directly followed by '(': one of the whitelisted functions.
  StatusOr<Parsed> ParseCall() {
    static constexpr std::pair<const char*, Function> kFunctions[] = {
        {"is_null", Function::kIsNull}, {"abs", Function::kAbs},   {"log", Function::kLog},
        {"exp", Function::kExp},        {"sqrt", Function::kSqrt},
    };
    const size_t at = tok_.begin;
    const Function* f = nullptr;
    for (const auto& [name, fn] : kFunctions) {
      if (EqualsIgnoreCase(tok_.value, name)) f = &fn;
    }
    if (f == nullptr) {
      return Error(at, "expected a function (is_null, abs, log, exp, sqrt)");
    }
    AIDI_RETURN_IF_ERROR(Enter(at));
    AIDI_RETURN_IF_ERROR(Advance());  // the name
    AIDI_RETURN_IF_ERROR(Advance());  // '('
    Parsed p;
    p.e.kind = Expr::Kind::kCall;
    p.e.position = ColumnOf(at);
    p.e.function = *f;
    AIDI_ASSIGN_OR_RETURN(Parsed arg, ParseOr());
    if (tok_.kind != Tok::kRParen) {
      return Error(tok_.begin, std::string("expected ')' closing ") + FunctionName(*f) +
                                   "( (it takes one argument)");
    }
    --nesting_;
    AIDI_RETURN_IF_ERROR(Advance());
    p.depth = arg.depth + 1;
    p.e.args.push_back(std::move(arg.e));
    return p;
  }

  std::string_view text_;
  std::vector<int> columns_;  // byte offset -> 1-based character column
  size_t pos_ = 0;
  Token tok_;
  int64_t int_value_ = 0;
  double double_value_ = 0;
  int nesting_ = 0;
};

}  // namespace

StatusOr<Expr> Parse(std::string_view text) { return Parser(text).Run(); }

}  // namespace aidi::worker::expr
