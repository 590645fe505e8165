// resource.Quantity parsing: see quantity.h. Upstream: k8s.io/apimachinery/pkg/api/resource
// (quantity.go), whose MilliValue this reproduces exactly, with 128-bit intermediates.
#include "kube/core/quantity.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>

namespace aidi::kube {

namespace {

constexpr std::int64_t kMilli = 1000;
__extension__ typedef __int128 Int128;  // NOLINT: exact intermediate products
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

StatusOr<std::int64_t> QuantityMilli(const nlohmann::json& quantity) {
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

namespace {

std::optional<std::int64_t> Whole(const StatusOr<std::int64_t>& milli) {
  if (!milli.ok() || *milli < 0 || *milli % kMilli != 0) return std::nullopt;
  const std::int64_t count = *milli / kMilli;
  if (count > std::numeric_limits<std::int32_t>::max()) return std::nullopt;
  return count;
}

}  // namespace

std::optional<std::int64_t> WholeCount(std::string_view text) {
  return Whole(ParseQuantityMilli(text));
}

std::optional<std::int64_t> WholeCount(const nlohmann::json& quantity) {
  return Whole(QuantityMilli(quantity));
}

}  // namespace aidi::kube
