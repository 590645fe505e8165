// Kubernetes resource quantities ("500m", "2Gi", "1e3") in milli-units, and Go durations
// ("1m30s"), as the scheduler's fit check and configuration read them.
#include "devcluster/agents/scheduler.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "devcluster/agents/scheduler_internal.h"

namespace aidi::devcluster {

using json = nlohmann::json;
using scheduler_internal::Int128;
using scheduler_internal::kMilli;

namespace {

constexpr Int128 kInt64Max = Int128(std::numeric_limits<std::int64_t>::max());
// Intermediate values are clamped here (an __int128 holds up to ~1.7e38).
constexpr Int128 kCap = Int128(1000000000000000000LL) * Int128(10000000000000000000ULL);  // 1e37

// a * b, clamped at kCap (both non-negative).
Int128 CapMul(Int128 a, Int128 b) {
  if (a == 0 || b == 0) return 0;
  if (a > kCap / b) return kCap;
  return std::min(a * b, kCap);
}

}  // namespace

StatusOr<std::int64_t> ParseQuantityMilli(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid quantity \"" + std::string(text) + "\"");
  };
  std::string_view s = text;
  if (s.empty()) return bad();
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  Int128 digits = 0;
  int frac_digits = 0;
  bool any_digit = false, dot = false, saturated = false;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(ch))) break;
    any_digit = true;
    if (digits >= kCap / 100) {
      // Beyond 35 significant digits: integer digits saturate the result, fraction digits
      // are too small to matter.
      if (!dot) saturated = true;
      continue;
    }
    digits = digits * 10 + (ch - '0');
    if (dot) ++frac_digits;
  }
  if (!any_digit) return bad();
  std::string_view suffix = s.substr(i);
  int exp10 = 0;
  int exp2 = 0;
  if (suffix.empty()) {
    // a plain number
  } else if (suffix == "Ki" || suffix == "Mi" || suffix == "Gi" || suffix == "Ti" ||
             suffix == "Pi" || suffix == "Ei") {
    exp2 = 10 * (1 + static_cast<int>(std::string_view("KMGTPE").find(suffix[0])));
  } else if (suffix.size() == 1 &&
             std::string_view("numkMGTPE").find(suffix[0]) != std::string_view::npos) {
    static constexpr int kExp[] = {-9, -6, -3, 3, 6, 9, 12, 15, 18};
    exp10 = kExp[std::string_view("numkMGTPE").find(suffix[0])];
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view e = suffix.substr(1);
    bool eneg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      eneg = e[0] == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 4) return bad();
    int v = 0;
    for (char ch : e) {
      if (!std::isdigit(static_cast<unsigned char>(ch))) return bad();
      v = v * 10 + (ch - '0');
    }
    exp10 = eneg ? -v : v;
  } else {
    return bad();
  }
  Int128 value = CapMul(digits, Int128(1) << exp2);
  int t = exp10 + 3 - frac_digits;  // milli = value * 10^t
  if (saturated || value >= kCap) {
    value = value == 0 ? 0 : kCap;
  } else if (t >= 0) {
    for (int k = 0; k < t && value < kCap; ++k) value = CapMul(value, 10);
  } else if (-t > 37) {
    value = value == 0 ? 0 : 1;  // a positive rest below one thousandth rounds up to one
  } else {
    Int128 denom = 1;
    for (int k = 0; k < -t; ++k) denom *= 10;
    value = (value + denom - 1) / denom;  // ceil
  }
  auto result = static_cast<std::int64_t>(std::min(value, kInt64Max));
  return negative ? -result : result;
}

StatusOr<std::int64_t> QuantityMilli(const json& quantity) {
  if (quantity.is_string()) return ParseQuantityMilli(quantity.get<std::string>());
  if (quantity.is_number_integer())
    return ParseQuantityMilli(std::to_string(quantity.get<long long>()));
  if (quantity.is_number()) {
    double milli = std::ceil(quantity.get<double>() * kMilli);
    if (!std::isfinite(milli)) return Status::InvalidArgument("invalid quantity");
    if (milli >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
    if (milli <= -9.2e18) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(milli);
  }
  return Status::InvalidArgument("a quantity must be a string or a number");
}

StatusOr<std::chrono::milliseconds> ParseGoDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid duration \"" + std::string(text) +
                                   "\" (want a Go duration such as \"5s\" or \"1m30s\")");
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::milliseconds(0);
  if (s.empty()) return bad();
  long double nanos = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double number = 0, scale = 1;
    bool any = false, dot = false;
    for (; i < s.size(); ++i) {
      if (s[i] == '.' && !dot) {
        dot = true;
        continue;
      }
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) break;
      any = true;
      if (dot) {
        scale /= 10;
        number += (s[i] - '0') * scale;
      } else {
        number = number * 10 + (s[i] - '0');
      }
    }
    if (!any) return bad();
    s.remove_prefix(i);
    std::size_t u = 0;
    while (u < s.size() && s[u] != '.' && !std::isdigit(static_cast<unsigned char>(s[u]))) ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    long double mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else
      return bad();
    nanos += number * mult;
  }
  if (nanos > 9.2e18L) return bad();  // beyond time.Duration's range
  auto ms = static_cast<std::int64_t>(std::ceil(nanos / 1e6L));
  return std::chrono::milliseconds(negative ? -ms : ms);
}

}  // namespace aidi::devcluster
