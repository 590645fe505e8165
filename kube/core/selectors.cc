// Label and field selectors, ported from k8s.io/apimachinery/pkg/labels (selector.go),
// pkg/fields (selector.go) and pkg/util/validation (IsQualifiedName, IsValidLabelValue).
//
// The label parser is a faithful port of upstream's lexer + recursive-descent parser, including
// its quirks (e.g. `in`/`notin` are identifiers in value position, "x in ()" means the value
// set {""}), so that a selector accepted or rejected by kubectl is accepted or rejected here
// with the same message. We only add "(at position N)" to parse errors, which upstream lacks.
#include "kube/core/selectors.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

namespace aidi::kube {
namespace {

using Json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Go-compatible formatting helpers (error messages follow upstream's fmt verbs).

// Go's %q for a string: printable UTF-8 is kept, everything else escaped.
std::string GoQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      continue;
    }
    if (c >= 0x80) {
      // Keep a well-formed multi-byte UTF-8 sequence as is; escape stray bytes as Go does.
      const size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                         : c >= 0xe0 && c <= 0xef ? 3
                         : c >= 0xf0 && c <= 0xf4 ? 4
                                                  : 0;
      bool ok = len > 0 && i + len <= s.size();
      for (size_t k = 1; ok && k < len; ++k) {
        ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      }
      if (ok) {
        out.append(s.substr(i, len));
        i += len - 1;
        continue;
      }
    }
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  out += '"';
  return out;
}

// Go's %#v for a []string, as field.Invalid renders a value list.
std::string GoStringSlice(const std::vector<std::string>& values) {
  std::string out = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    out += GoQuote(values[i]);
  }
  return out + "}";
}

// field.Invalid(path, value, detail).Error().
std::string FieldInvalid(std::string_view path, std::string_view rendered_value,
                         std::string_view detail) {
  std::string out(path);
  out += ": Invalid value: ";
  out += rendered_value;
  if (!detail.empty()) {
    out += ": ";
    out += detail;
  }
  return out;
}

// utilerrors.NewAggregate(errs).Error(): one message alone, several deduplicated in brackets.
std::string Aggregate(const std::vector<std::string>& errs) {
  if (errs.size() == 1) return errs[0];
  std::vector<std::string> seen;
  std::string joined;
  for (const auto& e : errs) {
    if (std::find(seen.begin(), seen.end(), e) != seen.end()) continue;
    seen.push_back(e);
    if (seen.size() > 1) joined += ", ";
    joined += e;
  }
  return seen.size() == 1 ? joined : "[" + joined + "]";
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

// strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no overflow.
std::optional<int64_t> ParseInt64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  // Accumulate as a negative number so that INT64_MIN is representable.
  int64_t value = 0;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (value < (kMin + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (!negative) {
    if (value == kMin) return std::nullopt;
    value = -value;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// k8s.io/apimachinery/pkg/util/validation

constexpr size_t kQualifiedNameMaxLength = 63;
constexpr size_t kLabelValueMaxLength = 63;
constexpr size_t kDns1123SubdomainMaxLength = 253;

constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameErrMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr std::string_view kLabelValueFmt = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr std::string_view kLabelValueErrMsg =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr std::string_view kDns1123SubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr std::string_view kDns1123SubdomainErrMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";

std::string RegexError(std::string_view msg, std::string_view fmt,
                       std::initializer_list<std::string_view> examples) {
  std::string out(msg);
  out += " (e.g. ";
  size_t i = 0;
  for (std::string_view example : examples) {
    if (i++ > 0) out += " or ";
    out += "'";
    out += example;
    out += "', ";
  }
  out += "regex used for validation is '";
  out += fmt;
  out += "')";
  return out;
}

std::string MaxLenError(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// ^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$
bool MatchesQualifiedName(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool IsDns1123LabelChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
bool MatchesDns1123Subdomain(std::string_view s) {
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view label =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || !IsDns1123LabelChar(label.front()) || !IsDns1123LabelChar(label.back())) {
      return false;
    }
    for (char c : label) {
      if (!IsDns1123LabelChar(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::vector<std::string> IsQualifiedName(std::string_view value) {
  std::vector<std::string> errs;
  const size_t slashes = static_cast<size_t>(std::count(value.begin(), value.end(), '/'));
  std::string_view name = value;
  if (slashes == 1) {
    const size_t slash = value.find('/');
    const std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      if (prefix.size() > kDns1123SubdomainMaxLength) {
        errs.push_back("prefix part " + MaxLenError(kDns1123SubdomainMaxLength));
      }
      if (!MatchesDns1123Subdomain(prefix)) {
        errs.push_back("prefix part " +
                       RegexError(kDns1123SubdomainErrMsg, kDns1123SubdomainFmt, {"example.com"}));
      }
    }
  } else if (slashes > 1) {
    errs.push_back(
        "a qualified name " +
        RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return errs;
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > kQualifiedNameMaxLength) {
    errs.push_back("name part " + MaxLenError(kQualifiedNameMaxLength));
  }
  if (!MatchesQualifiedName(name)) {
    errs.push_back("name part " + RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                             {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> IsValidLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > kLabelValueMaxLength) errs.push_back(MaxLenError(kLabelValueMaxLength));
  if (!value.empty() && !MatchesQualifiedName(value)) {
    errs.push_back(RegexError(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

// validateLabelKey: `path` is "<nil>" when parsing a string selector (upstream passes a nil
// *field.Path there, and kubectl users see exactly that text).
std::optional<std::string> ValidateLabelKey(std::string_view key, std::string_view path) {
  const auto errs = IsQualifiedName(key);
  if (errs.empty()) return std::nullopt;
  return FieldInvalid(path, GoQuote(key), Join(errs, "; "));
}

std::optional<std::string> ValidateLabelValue(std::string_view key, std::string_view value,
                                              size_t index) {
  const auto errs = IsValidLabelValue(value);
  if (errs.empty()) return std::nullopt;
  const std::string path = "values[" + std::to_string(index) + "][" + std::string(key) + "]";
  return FieldInvalid(path, GoQuote(value), Join(errs, "; "));
}

using Op = LabelSelector::Op;
using Requirement = LabelSelector::Requirement;

// labels.NewRequirement: validates and builds. Values are sorted and deduplicated (the parser
// collects them in a set upstream; metav1 selectors are normalised the same way here).
StatusOr<Requirement> NewRequirement(std::string key, Op op, std::vector<std::string> values) {
  std::vector<std::string> errs;
  if (auto err = ValidateLabelKey(key, "key")) errs.push_back(*err);
  switch (op) {
    case Op::kIn:
    case Op::kNotIn:
      if (values.empty()) {
        errs.push_back(FieldInvalid("values", GoStringSlice(values),
                                    "for 'in', 'notin' operators, values set can't be empty"));
      }
      break;
    case Op::kEquals:
    case Op::kNotEquals:
      if (values.size() != 1) {
        errs.push_back(FieldInvalid("values", GoStringSlice(values),
                                    "exact-match compatibility requires one single value"));
      }
      break;
    case Op::kExists:
    case Op::kDoesNotExist:
      if (!values.empty()) {
        errs.push_back(FieldInvalid("values", GoStringSlice(values),
                                    "values set must be empty for exists and does not exist"));
      }
      break;
    case Op::kGreaterThan:
    case Op::kLessThan:
      if (values.size() != 1) {
        errs.push_back(FieldInvalid("values", GoStringSlice(values),
                                    "for 'Gt', 'Lt' operators, exactly one value is required"));
      }
      for (size_t i = 0; i < values.size(); ++i) {
        if (!ParseInt64(values[i])) {
          errs.push_back(FieldInvalid("values[" + std::to_string(i) + "]", GoQuote(values[i]),
                                      "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
  for (size_t i = 0; i < values.size(); ++i) {
    if (auto err = ValidateLabelValue(key, values[i], i)) errs.push_back(*err);
  }
  if (!errs.empty()) return Status::InvalidArgument(Aggregate(errs));
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return Requirement{std::move(key), op, std::move(values)};
}

// ---------------------------------------------------------------------------------------------
// The label selector lexer and parser (labels.Lexer / labels.Parser).

enum class Token {
  kError,
  kEndOfString,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

std::optional<Token> KeywordToken(std::string_view s) {
  static const std::pair<std::string_view, Token> kTokens[] = {
      {")", Token::kClosedPar},     {",", Token::kComma},    {"!", Token::kDoesNotExist},
      {"==", Token::kDoubleEquals}, {"=", Token::kEquals},   {">", Token::kGreaterThan},
      {"in", Token::kIn},           {"<", Token::kLessThan}, {"!=", Token::kNotEquals},
      {"notin", Token::kNotIn},     {"(", Token::kOpenPar},
  };
  for (const auto& [text, token] : kTokens) {
    if (text == s) return token;
  }
  return std::nullopt;
}

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsSpecialSymbol(char c) {
  switch (c) {
    case '=':
    case '!':
    case '(':
    case ')':
    case ',':
    case '>':
    case '<':
      return true;
    default:
      return false;
  }
}

struct ScannedItem {
  Token token;
  std::string literal;
  size_t pos;  // byte offset where the token starts, for error messages
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  ScannedItem Lex() {
    char c = Read();
    while (IsWhitespace(c)) c = Read();
    // Like upstream, a NUL byte reads as end of input.
    if (c == 0) return {Token::kEndOfString, "", pos_};
    Unread();
    const size_t start = pos_;
    auto [token, literal] = IsSpecialSymbol(c) ? ScanSpecialSymbol() : ScanIdOrKeyword();
    return {token, std::move(literal), start};
  }

 private:
  // Like upstream, reading past the end yields 0 without advancing.
  char Read() { return pos_ < s_.size() ? s_[pos_++] : '\0'; }
  void Unread() { --pos_; }

  std::pair<Token, std::string> ScanIdOrKeyword() {
    std::string buffer;
    while (true) {
      const char c = Read();
      if (c == 0) break;
      if (IsSpecialSymbol(c) || IsWhitespace(c)) {
        Unread();
        break;
      }
      buffer += c;
    }
    if (auto keyword = KeywordToken(buffer)) return {*keyword, buffer};
    return {Token::kIdentifier, buffer};
  }

  // Longest match among the operator spellings ("!=" over "!", "==" over "=").
  std::pair<Token, std::string> ScanSpecialSymbol() {
    std::optional<std::pair<Token, std::string>> last;
    std::string buffer;
    while (true) {
      const char c = Read();
      if (c == 0) break;
      if (!IsSpecialSymbol(c)) {
        Unread();
        break;
      }
      buffer += c;
      if (auto token = KeywordToken(buffer)) {
        last = {*token, buffer};
      } else if (last) {
        Unread();
        break;
      }
    }
    if (!last) return {Token::kError, "error expected: keyword found '" + buffer + "'"};
    return *last;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

enum class Context { kKeyAndOperator, kValues };

class Parser {
 public:
  explicit Parser(std::string_view text) {
    Lexer lexer(text);
    while (true) {
      items_.push_back(lexer.Lex());
      if (items_.back().token == Token::kEndOfString) break;
    }
  }

  StatusOr<std::vector<Requirement>> Parse() {
    std::vector<Requirement> requirements;
    while (true) {
      const ScannedItem& item = Lookahead();
      switch (Kind(item, Context::kValues)) {
        case Token::kIdentifier:
        case Token::kDoesNotExist: {
          auto requirement = ParseRequirement();
          if (!requirement.ok()) {
            return Status::InvalidArgument("unable to parse requirement: " +
                                           requirement.status().message());
          }
          requirements.push_back(std::move(requirement).value());
          const ScannedItem& next = Consume();
          switch (Kind(next, Context::kValues)) {
            case Token::kEndOfString:
              return requirements;
            case Token::kComma: {
              const ScannedItem& after = Lookahead();
              const Token t = Kind(after, Context::kValues);
              if (t != Token::kIdentifier && t != Token::kDoesNotExist) {
                return Error(after, "expected: identifier after ','");
              }
              break;
            }
            default:
              return Error(next, "expected: ',' or 'end of string'");
          }
          break;
        }
        case Token::kEndOfString:
          return requirements;
        default:
          return Error(item, "expected: !, identifier, or 'end of string'");
      }
    }
  }

 private:
  // In value position, the keywords `in` and `notin` are plain identifiers.
  static Token Kind(const ScannedItem& item, Context context) {
    if (context == Context::kValues && (item.token == Token::kIn || item.token == Token::kNotIn)) {
      return Token::kIdentifier;
    }
    return item.token;
  }

  const ScannedItem& Lookahead() const { return items_[std::min(pos_, items_.size() - 1)]; }
  const ScannedItem& Consume() {
    const ScannedItem& item = items_[std::min(pos_, items_.size() - 1)];
    ++pos_;
    return item;
  }

  static Status Error(const ScannedItem& item, std::string_view expectation) {
    return Status::InvalidArgument(ErrorText(item, expectation));
  }
  static std::string ErrorText(const ScannedItem& item, std::string_view expectation) {
    return "found '" + item.literal + "', " + std::string(expectation) + " (at position " +
           std::to_string(item.pos) + ")";
  }

  StatusOr<Requirement> ParseRequirement() {
    // parseKeyAndInferOperator
    std::optional<Op> op;
    const ScannedItem* item = &Consume();
    if (Kind(*item, Context::kValues) == Token::kDoesNotExist) {
      op = Op::kDoesNotExist;
      item = &Consume();
    }
    if (Kind(*item, Context::kValues) != Token::kIdentifier) {
      return Status::InvalidArgument(ErrorText(*item, "expected: identifier"));
    }
    std::string key = item->literal;
    if (auto err = ValidateLabelKey(key, "<nil>")) return Status::InvalidArgument(*err);
    const Token next = Kind(Lookahead(), Context::kValues);
    if ((next == Token::kEndOfString || next == Token::kComma) && !op) op = Op::kExists;
    if (op) return NewRequirement(std::move(key), *op, {});

    AIDI_ASSIGN_OR_RETURN(Op binary, ParseOperator());
    std::vector<std::string> values;
    if (binary == Op::kIn || binary == Op::kNotIn) {
      AIDI_ASSIGN_OR_RETURN(values, ParseValues());
    } else {
      AIDI_ASSIGN_OR_RETURN(values, ParseExactValue());
    }
    return NewRequirement(std::move(key), binary, std::move(values));
  }

  StatusOr<Op> ParseOperator() {
    const ScannedItem& item = Consume();
    switch (Kind(item, Context::kKeyAndOperator)) {
      case Token::kIn:
        return Op::kIn;
      case Token::kEquals:
        return Op::kEquals;
      case Token::kDoubleEquals:
        return Op::kEquals;
      case Token::kGreaterThan:
        return Op::kGreaterThan;
      case Token::kLessThan:
        return Op::kLessThan;
      case Token::kNotIn:
        return Op::kNotIn;
      case Token::kNotEquals:
        return Op::kNotEquals;
      default:
        return Status::InvalidArgument(ErrorText(item, "expected: in, notin, =, ==, !=, gt, lt"));
    }
  }

  // "(" values ")"; upstream's set semantics: "()" and empty slots mean the value "".
  StatusOr<std::vector<std::string>> ParseValues() {
    const ScannedItem& open = Consume();
    if (Kind(open, Context::kValues) != Token::kOpenPar) {
      return Status::InvalidArgument("found '" + open.literal + "' expected: '(' (at position " +
                                     std::to_string(open.pos) + ")");
    }
    const ScannedItem& first = Lookahead();
    switch (Kind(first, Context::kValues)) {
      case Token::kIdentifier:
      case Token::kComma: {
        AIDI_ASSIGN_OR_RETURN(auto values, ParseIdentifiersList());
        if (Kind(Consume(), Context::kValues) != Token::kClosedPar) {
          // Upstream names the first token of the list here, not the offending one.
          return Status::InvalidArgument(ErrorText(first, "expected: ')'"));
        }
        return values;
      }
      case Token::kClosedPar:
        Consume();
        return std::vector<std::string>{""};
      default:
        return Status::InvalidArgument(ErrorText(first, "expected: ',', ')' or identifier"));
    }
  }

  StatusOr<std::vector<std::string>> ParseIdentifiersList() {
    std::set<std::string> values;
    while (true) {
      const ScannedItem& item = Consume();
      switch (Kind(item, Context::kValues)) {
        case Token::kIdentifier: {
          values.insert(item.literal);
          const ScannedItem& next = Lookahead();
          switch (Kind(next, Context::kValues)) {
            case Token::kComma:
              continue;
            case Token::kClosedPar:
              return std::vector<std::string>(values.begin(), values.end());
            default:
              return Status::InvalidArgument(ErrorText(next, "expected: ',' or ')'"));
          }
        }
        case Token::kComma: {
          if (values.empty()) values.insert("");  // "(,"
          const Token next = Kind(Lookahead(), Context::kValues);
          if (next == Token::kClosedPar) {
            values.insert("");  // ",)"
            return std::vector<std::string>(values.begin(), values.end());
          }
          if (next == Token::kComma) {
            Consume();
            values.insert("");  // ",,"
          }
          break;
        }
        default:
          return Status::InvalidArgument(ErrorText(item, "expected: ',', or identifier"));
      }
    }
  }

  StatusOr<std::vector<std::string>> ParseExactValue() {
    const Token next = Kind(Lookahead(), Context::kValues);
    if (next == Token::kEndOfString || next == Token::kComma) return std::vector<std::string>{""};
    const ScannedItem& item = Consume();
    if (Kind(item, Context::kValues) == Token::kIdentifier) {
      return std::vector<std::string>{item.literal};
    }
    return Status::InvalidArgument(ErrorText(item, "expected: identifier"));
  }

  std::vector<ScannedItem> items_;
  size_t pos_ = 0;
};

void SortByKey(std::vector<Requirement>& requirements) {
  std::stable_sort(requirements.begin(), requirements.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
}

bool HasValue(const Requirement& r, std::string_view value) {
  return std::binary_search(r.values.begin(), r.values.end(), value);
}

// labels.Requirement.Matches, with `value` the label's value or nullopt when absent.
bool RequirementMatches(const Requirement& r, const std::string* value) {
  switch (r.op) {
    case Op::kIn:
    case Op::kEquals:
      return value != nullptr && HasValue(r, *value);
    case Op::kNotIn:
    case Op::kNotEquals:
      return value == nullptr || !HasValue(r, *value);
    case Op::kExists:
      return value != nullptr;
    case Op::kDoesNotExist:
      return value == nullptr;
    case Op::kGreaterThan:
    case Op::kLessThan: {
      if (value == nullptr || r.values.size() != 1) return false;
      const auto have = ParseInt64(*value);
      const auto want = ParseInt64(r.values[0]);
      if (!have || !want) return false;
      return r.op == Op::kGreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

std::string RequirementString(const Requirement& r) {
  std::string out = r.op == Op::kDoesNotExist ? "!" + r.key : r.key;
  switch (r.op) {
    case Op::kExists:
    case Op::kDoesNotExist:
      return out;
    case Op::kEquals:
      out += "=";
      break;
    case Op::kNotEquals:
      out += "!=";
      break;
    case Op::kIn:
      out += " in (";
      break;
    case Op::kNotIn:
      out += " notin (";
      break;
    case Op::kGreaterThan:
      out += ">";
      break;
    case Op::kLessThan:
      out += "<";
      break;
  }
  out += Join(r.values, ",");
  if (r.op == Op::kIn || r.op == Op::kNotIn) out += ")";
  return out;
}

// metav1.LabelSelector decoding helpers: a type mismatch is a malformed request (400).
StatusOr<std::vector<std::string>> StringList(const Json& list, std::string_view what) {
  std::vector<std::string> out;
  if (list.is_null()) return out;
  if (!list.is_array()) {
    return Status::InvalidArgument(std::string(what) + " must be a list of strings");
  }
  for (const auto& v : list) {
    if (!v.is_string()) {
      return Status::InvalidArgument(std::string(what) + " must be a list of strings");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

StatusOr<Requirement> ExpressionRequirement(const Json& expr) {
  if (!expr.is_object()) {
    return Status::InvalidArgument("matchExpressions entries must be objects");
  }
  std::string key;
  std::string op_name;
  if (auto it = expr.find("key"); it != expr.end() && !it->is_null()) {
    if (!it->is_string()) return Status::InvalidArgument("matchExpressions key must be a string");
    key = it->get<std::string>();
  }
  if (auto it = expr.find("operator"); it != expr.end() && !it->is_null()) {
    if (!it->is_string()) {
      return Status::InvalidArgument("matchExpressions operator must be a string");
    }
    op_name = it->get<std::string>();
  }
  std::vector<std::string> values;
  if (auto it = expr.find("values"); it != expr.end()) {
    AIDI_ASSIGN_OR_RETURN(values, StringList(*it, "matchExpressions values"));
  }
  Op op;
  if (op_name == "In") {
    op = Op::kIn;
  } else if (op_name == "NotIn") {
    op = Op::kNotIn;
  } else if (op_name == "Exists") {
    op = Op::kExists;
  } else if (op_name == "DoesNotExist") {
    op = Op::kDoesNotExist;
  } else {
    return Status::InvalidArgument(GoQuote(op_name) + " is not a valid label selector operator");
  }
  return NewRequirement(std::move(key), op, std::move(values));
}

// ---------------------------------------------------------------------------------------------
// k8s.io/apimachinery/pkg/fields

// Splits on unescaped commas; escapes stay in the terms (splitTerms).
std::vector<std::string_view> SplitTerms(std::string_view s) {
  std::vector<std::string_view> terms;
  if (s.empty()) return terms;
  size_t start = 0;
  bool in_slash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (in_slash) {
      in_slash = false;
    } else if (s[i] == '\\') {
      in_slash = true;
    } else if (s[i] == ',') {
      terms.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(s.substr(start));
  return terms;
}

struct Term {
  std::string_view lhs;
  std::string_view op;
  std::string_view rhs;
};

// The first occurrence of "!=", "==" or "=" (checked in that order at each offset) splits.
std::optional<Term> SplitTerm(std::string_view term) {
  static constexpr std::string_view kOperators[] = {"!=", "==", "="};
  for (size_t i = 0; i < term.size(); ++i) {
    for (std::string_view op : kOperators) {
      if (term.substr(i, op.size()) == op) {
        return Term{term.substr(0, i), op, term.substr(i + op.size())};
      }
    }
  }
  return std::nullopt;
}

// Length of the UTF-8 sequence starting at s[i] (1 for a stray byte), so escape errors quote
// a whole character as Go's rune loop does.
size_t RuneLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  const size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
  return i + len <= s.size() ? len : 1;
}

StatusOr<std::string> UnescapeValue(std::string_view s) {
  if (s.find_first_of("\\,=") == std::string_view::npos) return std::string(s);
  std::string out;
  bool in_slash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_slash) {
      if (c != '\\' && c != ',' && c != '=') {
        return Status::InvalidArgument("invalid field selector: invalid escape sequence: \\" +
                                       std::string(s.substr(i, RuneLength(s, i))));
      }
      out += c;
      in_slash = false;
      continue;
    }
    if (c == '\\') {
      in_slash = true;
    } else if (c == ',' || c == '=') {
      // Upstream prints the rune with %v, i.e. its code point number.
      return Status::InvalidArgument("invalid field selector: unescaped character in value: " +
                                     std::to_string(static_cast<int>(c)));
    } else {
      out += c;
    }
  }
  if (in_slash) {
    return Status::InvalidArgument("invalid field selector: invalid escape sequence: \\");
  }
  return out;
}

std::string EscapeValue(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == ',' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// LabelSelector

StatusOr<LabelSelector> LabelSelector::Parse(std::string_view text) {
  Parser parser(text);
  AIDI_ASSIGN_OR_RETURN(auto requirements, parser.Parse());
  SortByKey(requirements);
  LabelSelector selector;
  selector.requirements_ = std::move(requirements);
  return selector;
}

StatusOr<LabelSelector> LabelSelector::FromJson(const Json& selector) {
  LabelSelector out;
  if (selector.is_null()) return out;
  if (!selector.is_object()) {
    return Status::InvalidArgument("a label selector must be an object");
  }
  if (auto it = selector.find("matchLabels"); it != selector.end() && !it->is_null()) {
    if (!it->is_object()) return Status::InvalidArgument("matchLabels must be an object");
    for (const auto& [key, value] : it->items()) {
      if (!value.is_string()) {
        return Status::InvalidArgument("matchLabels values must be strings");
      }
      AIDI_ASSIGN_OR_RETURN(auto r, NewRequirement(key, Op::kEquals, {value.get<std::string>()}));
      out.requirements_.push_back(std::move(r));
    }
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && !it->is_null()) {
    if (!it->is_array()) return Status::InvalidArgument("matchExpressions must be a list");
    for (const auto& expr : *it) {
      AIDI_ASSIGN_OR_RETURN(auto r, ExpressionRequirement(expr));
      out.requirements_.push_back(std::move(r));
    }
  }
  SortByKey(out.requirements_);
  return out;
}

bool LabelSelector::Matches(const Labels& labels) const {
  for (const auto& r : requirements_) {
    const auto it = labels.find(r.key);
    if (!RequirementMatches(r, it == labels.end() ? nullptr : &it->second)) return false;
  }
  return true;
}

bool LabelSelector::MatchesJson(const Json& labels) const {
  Labels converted;
  if (labels.is_object()) {
    for (const auto& [key, value] : labels.items()) {
      // Label values are strings by schema; anything else cannot equal a selector value.
      if (value.is_string()) converted.emplace(key, value.get<std::string>());
    }
  }
  return Matches(converted);
}

std::string LabelSelector::ToString() const {
  std::vector<std::string> parts;
  parts.reserve(requirements_.size());
  for (const auto& r : requirements_) parts.push_back(RequirementString(r));
  return Join(parts, ",");
}

// ---------------------------------------------------------------------------------------------
// FieldSelector

StatusOr<FieldSelector> FieldSelector::Parse(std::string_view text) {
  auto terms = SplitTerms(text);
  // Upstream sorts the raw terms so that the parsed form is deterministic.
  std::sort(terms.begin(), terms.end());
  FieldSelector selector;
  for (std::string_view term : terms) {
    if (term.empty()) continue;
    const auto split = SplitTerm(term);
    if (!split) {
      return Status::InvalidArgument("invalid selector: '" + std::string(text) +
                                     "'; can't understand '" + std::string(term) + "'");
    }
    AIDI_ASSIGN_OR_RETURN(std::string value, UnescapeValue(split->rhs));
    selector.requirements_.push_back(
        Requirement{std::string(split->lhs), split->op != "!=", std::move(value)});
  }
  return selector;
}

bool FieldSelector::Matches(
    const std::function<std::optional<std::string>(std::string_view field)>& get) const {
  for (const auto& r : requirements_) {
    const std::string have = get(r.field).value_or("");
    if ((have == r.value) != r.equals) return false;
  }
  return true;
}

std::string FieldSelector::ToString() const {
  std::vector<std::string> parts;
  parts.reserve(requirements_.size());
  for (const auto& r : requirements_) {
    parts.push_back(r.field + (r.equals ? "=" : "!=") + EscapeValue(r.value));
  }
  return Join(parts, ",");
}

}  // namespace aidi::kube
