#include "scheduler-extender/json_reader.h"

#include <array>
#include <cstdint>
#include <cstdio>

namespace aidi::extender {
namespace {

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// 'x' for printable ASCII, '\xNN' otherwise (Go quotes the character the same way).
std::string QuoteChar(char c) {
  if (c == '\'') return "'\\''";
  if (c >= 0x20 && c < 0x7F) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "'\\x%02x'", static_cast<unsigned char>(c));
  return buf;
}

// Printable ASCII other than '"' and '\\': the bytes a string holds as they are.
constexpr auto kPlainStringByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

// Four hex digits at p (already checked to be there) as a number.
std::uint32_t Hex4(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = v * 16 + static_cast<std::uint32_t>(HexValue(p[i]));
  return v;
}

}  // namespace

std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const std::size_t avail = s.size() - i;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](std::size_t k, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return k < avail && at(k) >= lo && at(k) <= hi;
  };
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

bool JsonReader::Fail(std::string message) { return FailAt(pos_, std::move(message)); }

bool JsonReader::FailAt(std::size_t offset, std::string message) {
  if (error_.empty()) {
    error_ = std::move(message);
    error_offset_ = offset;
  }
  pos_ = text_.size();  // nothing after an error is read
  return false;
}

bool JsonReader::FailChar(std::string_view context) {
  if (pos_ >= text_.size()) return Fail("unexpected end of JSON input");
  return Fail("invalid character " + QuoteChar(text_[pos_]) + " " + std::string(context));
}

bool JsonReader::Expect(char c, std::string_view context) {
  SkipWhitespace();
  if (pos_ < text_.size() && text_[pos_] == c) {
    ++pos_;
    return true;
  }
  return FailChar(context);
}

bool JsonReader::Enter() {
  if (++depth_ > kMaxDepth) return Fail("exceeded max depth");
  return true;
}

std::size_t JsonReader::SkipWhitespace() {
  while (pos_ < text_.size() && IsWhitespace(text_[pos_])) ++pos_;
  return pos_;
}

JsonReader::Type JsonReader::Peek() {
  if (!ok()) return Type::kInvalid;
  SkipWhitespace();
  if (pos_ >= text_.size()) {
    Fail("unexpected end of JSON input");
    return Type::kInvalid;
  }
  switch (text_[pos_]) {
    case '{':
      return Type::kObject;
    case '[':
      return Type::kArray;
    case '"':
      return Type::kString;
    case 't':
    case 'f':
      return Type::kBool;
    case 'n':
      return Type::kNull;
    case '-':
      return Type::kNumber;
    default:
      if (IsDigit(text_[pos_])) return Type::kNumber;
      FailChar("looking for beginning of value");
      return Type::kInvalid;
  }
}

bool JsonReader::ReadLiteral(std::string_view word) {
  // The caller has seen word[0].
  for (std::size_t i = 0; i < word.size(); ++i, ++pos_) {
    if (pos_ >= text_.size() || text_[pos_] != word[i]) {
      return FailChar("in literal " + std::string(word) + " (expecting " + QuoteChar(word[i]) +
                      ")");
    }
  }
  return true;
}

bool JsonReader::ReadNull() {
  if (Peek() != Type::kNull) return ok() ? FailChar("looking for null") : false;
  return ReadLiteral("null");
}

bool JsonReader::ReadBool(bool* out) {
  if (Peek() != Type::kBool) return ok() ? FailChar("looking for a boolean") : false;
  *out = text_[pos_] == 't';
  return ReadLiteral(*out ? "true" : "false");
}

bool JsonReader::ReadNumber(std::string_view* out) {
  if (Peek() != Type::kNumber) return ok() ? FailChar("looking for a number") : false;
  const std::size_t start = pos_;
  const std::size_t n = text_.size();
  if (text_[pos_] == '-') ++pos_;
  if (pos_ < n && text_[pos_] == '0') {
    ++pos_;
  } else if (pos_ < n && IsDigit(text_[pos_])) {
    while (pos_ < n && IsDigit(text_[pos_])) ++pos_;
  } else {
    return FailChar("in numeric literal");
  }
  if (pos_ < n && text_[pos_] == '.') {
    ++pos_;
    if (pos_ >= n || !IsDigit(text_[pos_]))
      return FailChar("after decimal point in numeric literal");
    while (pos_ < n && IsDigit(text_[pos_])) ++pos_;
  }
  if (pos_ < n && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < n && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (pos_ >= n || !IsDigit(text_[pos_])) return FailChar("in exponent of numeric literal");
    while (pos_ < n && IsDigit(text_[pos_])) ++pos_;
  }
  *out = text_.substr(start, pos_ - start);
  return true;
}

// At an opening quote: checks the string through its closing quote (consumed). With `out`,
// also appends the unescaped value (the string must have been checked already: this is the
// second pass for strings with escapes).
bool JsonReader::ScanString(std::string* out, bool* has_escapes) {
  const char* const data = text_.data();
  const std::size_t n = text_.size();
  std::size_t i = pos_ + 1;
  std::size_t run = i;  // start of the current run of plain bytes (for `out`)
  while (true) {
    while (i < n && kPlainStringByte[static_cast<unsigned char>(data[i])]) ++i;
    if (i >= n) {
      pos_ = n;
      return Fail("unexpected end of JSON input");
    }
    const auto c = static_cast<unsigned char>(data[i]);
    if (c == '"') {
      if (out) out->append(data + run, i - run);
      pos_ = i + 1;
      return true;
    }
    if (c == '\\') {
      if (out) out->append(data + run, i - run);
      *has_escapes = true;
      if (i + 1 >= n) {
        pos_ = n;
        return Fail("unexpected end of JSON input");
      }
      const char e = data[i + 1];
      char simple = 0;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          simple = e;
          break;
        case 'b':
          simple = '\b';
          break;
        case 'f':
          simple = '\f';
          break;
        case 'n':
          simple = '\n';
          break;
        case 'r':
          simple = '\r';
          break;
        case 't':
          simple = '\t';
          break;
        case 'u':
          break;
        default:
          pos_ = i + 1;
          return FailChar("in string escape code");
      }
      if (simple != 0) {
        if (out) out->push_back(simple);
        i += 2;
        run = i;
        continue;
      }
      // \uXXXX, and for a high surrogate the \uXXXX of its low half.
      auto hex4_at = [&](std::size_t at) {
        for (std::size_t k = 0; k < 4; ++k) {
          if (at + k >= n || HexValue(data[at + k]) < 0) {
            pos_ = at + k;
            return FailChar("in \\u hexadecimal character escape");
          }
        }
        return true;
      };
      if (!hex4_at(i + 2)) return false;
      std::uint32_t cp = Hex4(data + i + 2);
      std::size_t next = i + 6;
      if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return FailAt(i, "invalid \\u escape: unpaired low surrogate");
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (next + 1 >= n || data[next] != '\\' || data[next + 1] != 'u') {
          return FailAt(i, "invalid \\u escape: unpaired high surrogate");
        }
        if (!hex4_at(next + 2)) return false;
        const std::uint32_t low = Hex4(data + next + 2);
        if (low < 0xDC00 || low > 0xDFFF) {
          return FailAt(i, "invalid \\u escape: unpaired high surrogate");
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        next += 6;
      }
      if (out) AppendUtf8(cp, out);
      i = next;
      run = i;
      continue;
    }
    if (c < 0x20) {
      pos_ = i;
      return FailChar("in string literal");
    }
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = Utf8SequenceLength(text_, i);
    if (len == 0) return FailAt(i, "invalid UTF-8 in string");
    i += len;
  }
}

bool JsonReader::ReadString(std::string_view* out, std::string* scratch) {
  if (Peek() != Type::kString) return ok() ? FailChar("looking for a string") : false;
  const std::size_t start = pos_;
  bool has_escapes = false;
  if (!ScanString(nullptr, &has_escapes)) return false;
  if (!has_escapes) {
    *out = text_.substr(start + 1, pos_ - start - 2);
    return true;
  }
  const std::size_t end = pos_;
  pos_ = start;
  scratch->clear();
  ScanString(scratch, &has_escapes);  // checked above: cannot fail
  pos_ = end;
  *out = *scratch;
  return true;
}

bool JsonReader::ReadString(std::string* out) {
  std::string_view view;
  std::string scratch;
  if (!ReadString(&view, &scratch)) return false;
  if (view.data() == scratch.data()) {
    *out = std::move(scratch);
  } else {
    out->assign(view);
  }
  return true;
}

bool JsonReader::BeginObject() {
  if (Peek() != Type::kObject) return ok() ? FailChar("looking for beginning of object") : false;
  if (!Enter()) return false;
  ++pos_;
  return true;
}

bool JsonReader::NextMember(bool* first, std::string_view* key, std::string* scratch) {
  if (!ok()) return false;
  SkipWhitespace();
  if (pos_ >= text_.size()) return Fail("unexpected end of JSON input");
  if (text_[pos_] == '}') {
    ++pos_;
    --depth_;
    return false;
  }
  if (!*first) {
    if (text_[pos_] != ',') return FailChar("after object key:value pair");
    ++pos_;
    SkipWhitespace();
  }
  if (pos_ >= text_.size() || text_[pos_] != '"') {
    return FailChar("looking for beginning of object key string");
  }
  if (!ReadString(key, scratch)) return false;
  if (!Expect(':', "after object key")) return false;
  *first = false;
  return true;
}

bool JsonReader::BeginArray() {
  if (Peek() != Type::kArray) return ok() ? FailChar("looking for beginning of array") : false;
  if (!Enter()) return false;
  ++pos_;
  return true;
}

bool JsonReader::NextElement(bool* first) {
  if (!ok()) return false;
  SkipWhitespace();
  if (pos_ >= text_.size()) return Fail("unexpected end of JSON input");
  if (text_[pos_] == ']') {
    ++pos_;
    --depth_;
    return false;
  }
  if (!*first) {
    if (text_[pos_] != ',') return FailChar("after array element");
    ++pos_;
  }
  *first = false;
  return true;
}

bool JsonReader::SkipValue() {
  // One byte per open container ('{' or '['): the only state skipping needs. Iterative, so
  // depth is bounded by kMaxDepth and never by the stack.
  std::string open;
  std::string_view ignored;
  auto skip_key = [&] {
    SkipWhitespace();
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      return FailChar("looking for beginning of object key string");
    }
    bool has_escapes = false;
    return ScanString(nullptr, &has_escapes) && Expect(':', "after object key");
  };
  while (true) {
    // At the start of a value.
    switch (Peek()) {
      case Type::kInvalid:
        return false;
      case Type::kObject:
        if (!Enter()) return false;
        ++pos_;
        SkipWhitespace();
        if (pos_ < text_.size() && text_[pos_] == '}') {
          ++pos_;
          --depth_;
          break;
        }
        open.push_back('{');
        if (!skip_key()) return false;
        continue;
      case Type::kArray:
        if (!Enter()) return false;
        ++pos_;
        SkipWhitespace();
        if (pos_ < text_.size() && text_[pos_] == ']') {
          ++pos_;
          --depth_;
          break;
        }
        open.push_back('[');
        continue;
      case Type::kString: {
        bool has_escapes = false;
        if (!ScanString(nullptr, &has_escapes)) return false;
        break;
      }
      case Type::kNumber:
        if (!ReadNumber(&ignored)) return false;
        break;
      case Type::kNull:
        if (!ReadLiteral("null")) return false;
        break;
      case Type::kBool:
        if (!ReadLiteral(text_[pos_] == 't' ? "true" : "false")) return false;
        break;
    }
    // After a value: close containers until one continues with another value.
    while (true) {
      if (open.empty()) return true;
      SkipWhitespace();
      if (pos_ >= text_.size()) return Fail("unexpected end of JSON input");
      const char c = text_[pos_];
      if (open.back() == '{') {
        if (c == ',') {
          ++pos_;
          if (!skip_key()) return false;
          break;
        }
        if (c != '}') return FailChar("after object key:value pair");
      } else {
        if (c == ',') {
          ++pos_;
          break;
        }
        if (c != ']') return FailChar("after array element");
      }
      ++pos_;
      --depth_;
      open.pop_back();
    }
  }
}

bool JsonReader::AtEnd() {
  if (!ok()) return false;
  SkipWhitespace();
  if (pos_ != text_.size()) return FailChar("after top-level value");
  return true;
}

Status JsonReader::Validate(std::string_view text) {
  JsonReader r(text);
  if (r.SkipValue() && r.AtEnd()) return Status::Ok();
  return Status::InvalidArgument("invalid JSON at offset " + std::to_string(r.error_offset()) +
                                 ": " + r.error());
}

}  // namespace aidi::extender
