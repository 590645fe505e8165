#include "costmodel/format.h"

#include <cmath>
#include <cstdio>

namespace aidi::costmodel {
namespace {

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

std::string Printf(const char* format, double value, const char* unit) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), format, value, unit);
  return buf;
}

// Non-finite and negative values print as 0: the model never produces them, and a message
// should never read "nan s".
double Clean(double v) { return std::isfinite(v) && v > 0 ? v : 0; }

}  // namespace

std::string FormatNumber(double value) {
  if (!std::isfinite(value)) return "0";
  double rounded = std::round(value * 10) / 10;
  if (rounded == std::round(rounded)) return Printf("%.0f", rounded);
  return Printf("%.1f", rounded);
}

std::string FormatDuration(double seconds) {
  seconds = Clean(seconds);
  if (seconds < 89.5) return Printf("%.0f s", seconds);
  if (seconds < 89.5 * 60) return Printf("%.0f min", seconds / 60);
  if (seconds < 48 * 3600) return Printf("%.1f h", seconds / 3600);
  return Printf("%.1f d", seconds / 86400);
}

std::string FormatBytes(double bytes) {
  bytes = Clean(bytes);
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  size_t unit = 0;
  while (bytes >= 999.5 && unit + 1 < std::size(kUnits)) {
    bytes /= 1000;
    ++unit;
  }
  // Below 999.5, %.3g never switches to an exponent.
  return Printf(unit == 0 ? "%.0f %s" : "%.3g %s", bytes, kUnits[unit]);
}

std::string FormatMoney(double amount, std::string_view currency) {
  amount = Clean(amount);
  if (currency.empty() || currency == "USD") return Printf("$%.2f", amount);
  return Printf("%.2f", amount) + " " + std::string(currency);
}

}  // namespace aidi::costmodel
