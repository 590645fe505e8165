#include "devcluster/crd/gofmt.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

using nlohmann::json;

namespace aidi::devcluster::gofmt {
namespace {

// Decodes one rune at s[i]; returns its width (1 and U+FFFD for an invalid byte, as Go does).
int DecodeRune(std::string_view s, std::size_t i, char32_t* r) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c0 = b(i);
  if (c0 < 0x80) {
    *r = c0;
    return 1;
  }
  auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
  *r = 0xFFFD;
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    if (!cont(i + 1)) return 1;
    *r = ((c0 & 0x1Fu) << 6) | (b(i + 1) & 0x3Fu);
    return 2;
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 1;
    char32_t v = ((c0 & 0x0Fu) << 12) | ((b(i + 1) & 0x3Fu) << 6) | (b(i + 2) & 0x3Fu);
    if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF)) return 1;  // overlong or surrogate
    *r = v;
    return 3;
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 1;
    char32_t v = ((c0 & 0x07u) << 18) | ((b(i + 1) & 0x3Fu) << 12) | ((b(i + 2) & 0x3Fu) << 6) |
                 (b(i + 3) & 0x3Fu);
    if (v < 0x10000 || v > 0x10FFFF) return 1;
    *r = v;
    return 4;
  }
  return 1;
}

// An approximation of strconv.IsPrint: controls, C1 controls, format and separator runes are
// not printable; everything else is.
bool IsPrint(char32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r <= 0x9F) return false;
  if (r == 0xAD || r == 0x2028 || r == 0x2029 || r == 0xFEFF) return false;
  if (r >= 0x200B && r <= 0x200F) return false;
  if (r >= 0x202A && r <= 0x202E) return false;
  if (r >= 0x2060 && r <= 0x206F) return false;
  if (r >= 0xE000 && r <= 0xF8FF) return false;  // private use
  if (r >= 0xFFF9 && r <= 0xFFFB) return false;
  return true;
}

void AppendHex(unsigned v, int digits, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 0xF]);
}

// The shortest round-trip digits of |v| and its decimal exponent (d.ddd x 10^exp).
void ShortestDigits(double v, std::string* digits, int* exp) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));
  std::size_t e = s.find('e');
  digits->clear();
  for (char c : s.substr(0, e)) {
    if (c != '.') digits->push_back(c);
  }
  *exp = std::atoi(std::string(s.substr(e + 1)).c_str());
}

std::string FormatE(bool neg, const std::string& digits, int exp) {
  std::string out = neg ? "-" : "";
  out.push_back(digits[0]);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out.push_back('e');
  out.push_back(exp < 0 ? '-' : '+');
  int a = std::abs(exp);
  if (a < 10) out.push_back('0');
  out += std::to_string(a);
  return out;
}

std::string FormatF(bool neg, const std::string& digits, int exp) {
  std::string out = neg ? "-" : "";
  if (exp < 0) {
    out += "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    return out;
  }
  std::size_t int_digits = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= int_digits) {
    out += digits + std::string(int_digits - digits.size(), '0');
  } else {
    out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
  }
  return out;
}

std::string NonFinite(double v) {
  if (std::isnan(v)) return "NaN";
  return v > 0 ? "+Inf" : "-Inf";
}

void JsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    char32_t r;
    int w = DecodeRune(s, i, &r);
    bool invalid = (r == 0xFFFD && w == 1 && static_cast<unsigned char>(s[i]) >= 0x80);
    if (invalid) {
      *out += "\\ufffd";
    } else if (r == '"' || r == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(r));
    } else if (r == '\n') {
      *out += "\\n";
    } else if (r == '\r') {
      *out += "\\r";
    } else if (r == '\t') {
      *out += "\\t";
    } else if (r < 0x20 || r == '<' || r == '>' || r == '&' || r == 0x2028 || r == 0x2029) {
      *out += "\\u";
      AppendHex(static_cast<unsigned>(r), 4, out);
    } else {
      out->append(s.substr(i, static_cast<std::size_t>(w)));
    }
    i += static_cast<std::size_t>(w);
  }
  out->push_back('"');
}

void Marshal(const json& v, int depth, std::string* out) {
  if (depth <= 0) {
    *out += "null";  // beyond any depth a caller allows; never reached for validated objects
    return;
  }
  int64_t i;
  switch (v.type()) {
    case json::value_t::null:
      *out += "null";
      return;
    case json::value_t::boolean:
      *out += v.get<bool>() ? "true" : "false";
      return;
    case json::value_t::string:
      JsonString(v.get_ref<const std::string&>(), out);
      return;
    case json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const json& e : v) {
        if (!first) out->push_back(',');
        first = false;
        Marshal(e, depth - 1, out);
      }
      out->push_back(']');
      return;
    }
    case json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out->push_back(',');
        first = false;
        JsonString(it.key(), out);
        out->push_back(':');
        Marshal(it.value(), depth - 1, out);
      }
      out->push_back('}');
      return;
    }
    default:
      if (AsGoInt64(v, &i)) {
        *out += std::to_string(i);
      } else if (v.is_number()) {
        *out += JsonFloat(AsFloat64(v));
      } else {
        *out += "null";  // binary and discarded values never come from parsed JSON
      }
      return;
  }
}

void Sharp(const json& v, int depth, std::string* out) {
  if (depth <= 0) {
    *out += "interface {}(nil)";
    return;
  }
  int64_t i;
  switch (v.type()) {
    case json::value_t::null:
      *out += "interface {}(nil)";
      return;
    case json::value_t::boolean:
      *out += v.get<bool>() ? "true" : "false";
      return;
    case json::value_t::string:
      *out += Quote(v.get_ref<const std::string&>());
      return;
    case json::value_t::array: {
      *out += "[]interface {}{";
      bool first = true;
      for (const json& e : v) {
        if (!first) *out += ", ";
        first = false;
        Sharp(e, depth - 1, out);
      }
      out->push_back('}');
      return;
    }
    case json::value_t::object: {
      *out += "map[string]interface {}{";
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) *out += ", ";
        first = false;
        *out += Quote(it.key());
        out->push_back(':');
        Sharp(it.value(), depth - 1, out);
      }
      out->push_back('}');
      return;
    }
    default:
      if (AsGoInt64(v, &i)) {
        *out += std::to_string(i);
      } else {
        *out += FloatV(AsFloat64(v));
      }
      return;
  }
}

}  // namespace

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    char32_t r;
    int w = DecodeRune(s, i, &r);
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (r == 0xFFFD && w == 1 && c >= 0x80) {
      out += "\\x";
      AppendHex(c, 2, &out);
    } else if (r == '"' || r == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r));
    } else if (IsPrint(r)) {
      out.append(s.substr(i, static_cast<std::size_t>(w)));
    } else {
      switch (r) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (r < 0x20 || r == 0x7F) {
            out += "\\x";
            AppendHex(static_cast<unsigned>(r), 2, &out);
          } else if (r < 0x10000) {
            out += "\\u";
            AppendHex(static_cast<unsigned>(r), 4, &out);
          } else {
            out += "\\U";
            AppendHex(static_cast<unsigned>(r), 8, &out);
          }
      }
    }
    i += static_cast<std::size_t>(w);
  }
  out.push_back('"');
  return out;
}

std::string FloatV(double v) {
  if (!std::isfinite(v)) return NonFinite(v);
  std::string digits;
  int exp = 0;
  ShortestDigits(v, &digits, &exp);
  bool neg = std::signbit(v);
  // strconv 'g' with shortest precision switches to %e below 1e-4 and from 1e+06 (eprec 6).
  if (exp < -4 || exp >= 6) return FormatE(neg, digits, exp);
  return FormatF(neg, digits, exp);
}

std::string JsonFloat(double v) {
  if (!std::isfinite(v)) return NonFinite(v);
  std::string digits;
  int exp = 0;
  ShortestDigits(v, &digits, &exp);
  bool neg = std::signbit(v) && v != 0;
  double a = std::fabs(v);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    // encoding/json cleans e-09 to e-9 (only for negative exponents).
    std::string s = FormatE(neg, digits, exp);
    std::size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
      s.erase(n - 2, 1);
    }
    return s;
  }
  if (a == 0) return "0";
  return FormatF(neg, digits, exp);
}

std::string JsonMarshal(const json& v, int max_depth) {
  std::string out;
  Marshal(v, max_depth, &out);
  return out;
}

std::string SharpV(const json& v, int max_depth) {
  std::string out;
  Sharp(v, max_depth, &out);
  return out;
}

std::string ValueV(const json& v) {
  int64_t i;
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_string()) return Quote(v.get_ref<const std::string&>());
  if (AsGoInt64(v, &i)) return std::to_string(i);
  if (v.is_number()) return FloatV(AsFloat64(v));
  return SharpV(v);
}

std::string ScalarV(const json& v) {
  int64_t i;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (AsGoInt64(v, &i)) return std::to_string(i);
  if (v.is_number()) return FloatV(AsFloat64(v));
  if (v.is_null()) return "<no value>";
  return JsonMarshal(v);
}

bool AsGoInt64(const json& v, int64_t* out) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *out = static_cast<int64_t>(u);
      return true;
    }
  }
  return false;
}

double AsFloat64(const json& v) {
  if (v.is_number_unsigned()) return static_cast<double>(v.get<uint64_t>());
  if (v.is_number_integer()) return static_cast<double>(v.get<int64_t>());
  if (v.is_number_float()) return v.get<double>();
  return 0;
}

std::vector<char32_t> DecodeUtf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    char32_t r;
    i += static_cast<std::size_t>(DecodeRune(s, i, &r));
    out.push_back(r);
  }
  return out;
}

std::size_t RuneCount(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    char32_t r;
    i += static_cast<std::size_t>(DecodeRune(s, i, &r));
  }
  return n;
}

void AppendUtf8(char32_t r, std::string* out) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

}  // namespace aidi::devcluster::gofmt
