#include "devcluster/crd/formats.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "devcluster/crd/regex.h"

namespace aidi::devcluster::formats {
namespace {

// Formats apiextensions-apiserver keeps on string schemas (names as go-openapi normalises them:
// dashes removed).
constexpr std::array<std::string_view, 25> kStringFormats = {
    "bsonobjectid", "uri",        "email",    "hostname", "ipv4",     "ipv6", "cidr",
    "mac",          "uuid",       "uuid3",    "uuid4",    "uuid5",    "isbn", "isbn10",
    "isbn13",       "creditcard", "ssn",      "hexcolor", "rgbcolor", "byte", "password",
    "date",         "duration",   "datetime", "quantity"};

std::string Normalize(std::string_view f) {
  std::string out;
  for (char c : f) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// The format patterns are fixed, so each is compiled once and shared (Regex is immutable).
bool MatchesPattern(const std::string& pattern, std::string_view value) {
  static std::mutex mu;
  static std::map<std::string, Regex>* cache = new std::map<std::string, Regex>();
  const Regex* re = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache->find(pattern);
    if (it == cache->end()) {
      auto compiled = Regex::Compile(pattern);
      if (!compiled.ok()) return false;
      it = cache->emplace(pattern, std::move(compiled).value()).first;
    }
    re = &it->second;  // map nodes are stable; entries are never removed
  }
  return re->Search(value);
}

// time.Parse("2006-01-02", s).
bool IsDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!IsDigit(s[i])) return false;
  }
  int year = std::stoi(std::string(s.substr(0, 4)));
  int month = std::stoi(std::string(s.substr(5, 2)));
  int day = std::stoi(std::string(s.substr(8, 2)));
  if (month < 1 || month > 12 || day < 1) return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int dim = kDays[month - 1];
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && leap) dim = 29;
  return day <= dim;
}

// strfmt.IsDateTime: lower-cased, split on 't', a valid date, then
// ^(\d{2}):(\d{2}):(\d{2})(.\d+)?(z|[+-]\d{2}:\d{2})$ with hour <= 23, minute/second <= 59.
bool IsDateTime(std::string_view str) {
  if (str.size() < 4) return false;
  std::string lower(str);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::size_t t = lower.find('t');
  if (t == std::string::npos) return false;
  std::size_t t2 = lower.find('t', t + 1);
  std::string date = lower.substr(0, t);
  std::string time = lower.substr(t + 1, t2 == std::string::npos ? std::string::npos : t2 - t - 1);
  if (!IsDate(date)) return false;
  if (!MatchesPattern(R"(^(\d{2}):(\d{2}):(\d{2})(.\d+)?(z|[+-]\d{2}:\d{2})$)", time)) {
    return false;
  }
  return time.substr(0, 2) <= "23" && time.substr(3, 2) <= "59" && time.substr(6, 2) <= "59";
}

// net.ParseIP for dotted IPv4 (Go 1.17+: no leading zeros).
bool ParseIPv4(std::string_view s) {
  int fields = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    int v = 0;
    while (i < s.size() && IsDigit(s[i]) && i - start < 4) {
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    std::size_t len = i - start;
    if (len == 0 || len > 3 || v > 255 || (len > 1 && s[start] == '0')) return false;
    ++fields;
    if (i == s.size()) break;
    if (s[i] != '.' || fields == 4) return false;
    ++i;
  }
  return fields == 4;
}

// net.ParseIP for IPv6 (with "::" and an optional trailing dotted IPv4).
bool ParseIPv6(std::string_view s) {
  int groups = 0;
  bool ellipsis = false;
  std::size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    ellipsis = true;
    i = 2;
    if (i == s.size()) return true;
  }
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && IsHex(s[i]) && i - start < 5) ++i;
    if (i < s.size() && s[i] == '.') {  // embedded IPv4 takes the last two groups
      if (!ParseIPv4(s.substr(start))) return false;
      groups += 2;
      i = s.size();
      break;
    }
    std::size_t len = i - start;
    if (len == 0 || len > 4) return false;
    ++groups;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (ellipsis) return false;
      ellipsis = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;
    }
  }
  return ellipsis ? groups < 8 : groups == 8;
}

bool ParseIP(std::string_view s) { return ParseIPv4(s) || ParseIPv6(s); }

bool IsCIDR(std::string_view s) {
  std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view addr = s.substr(0, slash), mask = s.substr(slash + 1);
  int bits;
  if (ParseIPv4(addr)) {
    bits = 32;
  } else if (ParseIPv6(addr)) {
    bits = 128;
  } else {
    return false;
  }
  if (mask.empty() || mask.size() > 4) return false;
  int n = 0;
  for (char c : mask) {
    if (!IsDigit(c)) return false;
    n = n * 10 + (c - '0');
  }
  return n <= bits;
}

// net.ParseMAC: 6, 8 or 20 octets separated by ':' or '-', or groups of four hex digits
// separated by '.'.
bool IsMAC(std::string_view s) {
  if (s.size() < 14) return false;
  if (s[2] == ':' || s[2] == '-') {
    if ((s.size() + 1) % 3 != 0) return false;
    std::size_t n = (s.size() + 1) / 3;
    if (n != 6 && n != 8 && n != 20) return false;
    for (std::size_t g = 0; g < n; ++g) {
      std::size_t x = g * 3;
      if (!IsHex(s[x]) || !IsHex(s[x + 1])) return false;
      if (g + 1 < n && s[x + 2] != s[2]) return false;
    }
    return true;
  }
  if (s[4] == '.') {
    if ((s.size() + 1) % 5 != 0) return false;
    std::size_t n = (s.size() + 1) / 5;
    if (n != 3 && n != 4 && n != 10) return false;
    for (std::size_t g = 0; g < n; ++g) {
      std::size_t x = g * 5;
      for (std::size_t k = 0; k < 4; ++k) {
        if (!IsHex(s[x + k])) return false;
      }
      if (g + 1 < n && s[x + 4] != '.') return false;
    }
    return true;
  }
  return false;
}

// base64.StdEncoding.DecodeString (which skips \r and \n).
bool IsBase64(std::string_view in) {
  std::string s;
  for (char c : in) {
    if (c != '\r' && c != '\n') s.push_back(c);
  }
  if (s.size() % 4 != 0) return false;
  std::size_t pad = 0;
  while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  for (std::size_t i = 0; i + pad < s.size(); ++i) {
    char c = s[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
  }
  return true;
}

// strfmt.IsHostname: at most 255 bytes, labels of at most 63 bytes made of letters, digits,
// symbols and dashes (not leading); only the last label (a trailing dot) may be empty.
bool IsHostname(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = s.find('.', start);
    bool last = dot == std::string_view::npos;
    std::string_view label = s.substr(start, last ? std::string_view::npos : dot - start);
    if (label.size() > 63) return false;
    if (label.empty() && !(last && start > 0)) return false;
    if (!label.empty() && label[0] == '-') return false;
    for (char c : label) {
      unsigned char u = static_cast<unsigned char>(c);
      bool ok = std::isalnum(u) || c == '-' || u >= 0x80 ||
                std::string_view("$+<=>^`|~").find(c) != std::string_view::npos;
      if (!ok) return false;
    }
    if (last) return true;
    start = dot + 1;
  }
}

bool IsEmail(std::string_view s) {
  std::size_t lt = s.rfind('<');
  if (lt != std::string_view::npos) {  // "Name <user@example.com>"
    if (s.empty() || s.back() != '>') return false;
    s = s.substr(lt + 1, s.size() - lt - 2);
  }
  std::size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '<' || c == '>') return false;
  }
  return true;
}

// url.ParseRequestURI: an absolute URI (scheme:...) or an absolute path; no control
// characters; valid %-escapes.
bool IsURI(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return false;
    if (c == '%' && (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2]))) return false;
  }
  if (s[0] == '/') return true;
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    char c = s[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool IsISBN10(std::string_view in) {
  std::string s;
  for (char c : in) {
    if (c != '-' && c != ' ') s.push_back(c);
  }
  if (s.size() != 10) return false;
  int sum = 0;
  for (int i = 0; i < 10; ++i) {
    int v;
    if (IsDigit(s[static_cast<std::size_t>(i)])) {
      v = s[static_cast<std::size_t>(i)] - '0';
    } else if (i == 9 && s[9] == 'X') {
      v = 10;
    } else {
      return false;
    }
    sum += (i + 1) * v;
  }
  return sum % 11 == 0;
}

bool IsISBN13(std::string_view in) {
  std::string s;
  for (char c : in) {
    if (c != '-' && c != ' ') s.push_back(c);
  }
  if (s.size() != 13) return false;
  int sum = 0;
  for (int i = 0; i < 12; ++i) {
    if (!IsDigit(s[static_cast<std::size_t>(i)])) return false;
    sum += (s[static_cast<std::size_t>(i)] - '0') * (i % 2 == 0 ? 1 : 3);
  }
  if (!IsDigit(s[12])) return false;
  return (10 - sum % 10) % 10 == s[12] - '0';
}

// time.ParseDuration: an optional sign, then runs of a decimal number and a unit.
bool IsGoDuration(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  if (s.substr(i) == "0") return true;
  if (i == s.size()) return false;
  // Longer units first, so "ms" is not read as "m" then "s".
  static constexpr std::string_view kUnits[] = {"ns", "us", "\xC2\xB5s", "\xCE\xBCs",
                                                "ms", "s",  "m",         "h"};
  while (i < s.size()) {
    std::size_t digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
    }
    if (digits == 0) return false;
    bool found = false;
    for (std::string_view unit : kUnits) {
      if (s.substr(i, unit.size()) == unit) {
        i += unit.size();
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

// strfmt.ParseDuration: Go's time.ParseDuration, or any "<n> <unit>" run with a known unit.
bool IsDuration(std::string_view s) {
  if (IsGoDuration(s)) return true;
  static const std::vector<std::vector<std::string>> kUnits = {
      {"ns", "nano"}, {"us", "\xC2\xB5s", "micro"}, {"ms", "milli"}, {"s", "sec"},
      {"m", "min"},   {"h", "hr", "hour"},          {"d", "day"},    {"w", "wk", "week"}};
  for (std::size_t i = 0; i < s.size();) {
    if (!IsDigit(s[i])) {
      ++i;
      continue;
    }
    while (i < s.size() && IsDigit(s[i])) ++i;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit;
    while (i < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (std::isalpha(c)) {
        unit.push_back(static_cast<char>(std::tolower(c)));
        ++i;
      } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xB5) {
        unit += "\xC2\xB5";
        i += 2;
      } else {
        break;
      }
    }
    if (unit.empty()) continue;
    for (const auto& variants : kUnits) {
      for (std::size_t v = 0; v < variants.size(); ++v) {
        bool last = v + 1 == variants.size();
        if (unit == variants[v] || (last && unit.rfind(variants[v], 0) == 0)) return true;
      }
    }
  }
  return false;
}

// resource.ParseQuantity: a signed decimal and a binary (Ki..Ei), decimal (n u m k M G T P E)
// or exponent (e3, E-2) suffix.
bool IsQuantity(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0, dots = 0;
  while (i < s.size() && (IsDigit(s[i]) || s[i] == '.')) {
    if (s[i] == '.') {
      ++dots;
    } else {
      ++digits;
    }
    ++i;
  }
  if (digits == 0 || dots > 1) return false;
  std::string_view suffix = s.substr(i);
  static const char* kSuffixes[] = {"",  "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n",
                                    "u", "m",  "k",  "M",  "G",  "T",  "P",  "E"};
  for (const char* k : kSuffixes) {
    if (suffix == k) return true;
  }
  if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::size_t j = 1;
    if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
    if (j == suffix.size()) return false;
    for (; j < suffix.size(); ++j) {
      if (!IsDigit(suffix[j])) return false;
    }
    return true;
  }
  return false;
}

}  // namespace

std::string Effective(std::string_view type, std::string_view format) {
  if (format.empty()) return "";
  if (type.empty() || type == "string") {
    return IsKnownStringFormat(format) ? std::string(format) : "";
  }
  if (type == "integer") return (format == "int32" || format == "int64") ? std::string(format) : "";
  if (type == "number") return (format == "float" || format == "double") ? std::string(format) : "";
  return "";
}

bool IsKnownStringFormat(std::string_view format) {
  std::string n = Normalize(format);
  return std::find(kStringFormats.begin(), kStringFormats.end(), n) != kStringFormats.end();
}

bool Validate(std::string_view format, std::string_view v) {
  std::string f = Normalize(format);
  if (f == "datetime") return IsDateTime(v);
  if (f == "date") return IsDate(v);
  if (f == "uuid") {
    return MatchesPattern("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$",
                          v);
  }
  if (f == "uuid3" || f == "uuid4" || f == "uuid5") {
    std::string version(1, f.back());
    std::string variant = f == "uuid3" ? "[0-9a-f]" : "[89ab]";
    return MatchesPattern("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?" + version + "[0-9a-f]{3}-?" + variant +
                              "[0-9a-f]{3}-?[0-9a-f]{12}$",
                          v);
  }
  if (f == "ipv4") return ParseIP(v) && v.find('.') != std::string_view::npos;
  if (f == "ipv6") return ParseIP(v) && v.find(':') != std::string_view::npos;
  if (f == "cidr") return IsCIDR(v);
  if (f == "mac") return IsMAC(v);
  if (f == "byte") return IsBase64(v);
  if (f == "hostname") return IsHostname(v);
  if (f == "email") return IsEmail(v);
  if (f == "uri") return IsURI(v);
  if (f == "hexcolor") return MatchesPattern("^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", v);
  if (f == "rgbcolor") {
    const std::string n = R"(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*)";
    return MatchesPattern("^rgb\\(" + n + "," + n + "," + n + "\\)$", v);
  }
  if (f == "ssn") return MatchesPattern(R"(^\d{3}[- ]?\d{2}[- ]?\d{4}$)", v);
  if (f == "bsonobjectid") return MatchesPattern("^[0-9a-fA-F]{24}$", v);
  if (f == "isbn10") return IsISBN10(v);
  if (f == "isbn13") return IsISBN13(v);
  if (f == "isbn") return IsISBN10(v) || IsISBN13(v);
  if (f == "duration") return IsDuration(v);
  if (f == "quantity") return IsQuantity(v);
  return true;  // password, creditcard: accepted
}

}  // namespace aidi::devcluster::formats
