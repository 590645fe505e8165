// Short human renderings of the model's quantities, shared by filter messages and the placement
// reason: durations ("45 s", "12 min", "4.4 h", "2.5 d"), bytes in decimal units ("400 GB"),
// money ("$1.20", or "1.20 EUR" for other currencies) and plain numbers ("80", "22.5").
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace aidi::costmodel {

// < 90 s: whole seconds; < 90 min: whole minutes; < 48 h: hours with one decimal; else days.
std::string FormatDuration(double seconds);

// Decimal units (1 GB = 1e9 bytes, as clouds bill egress), three significant digits at most.
std::string FormatBytes(double bytes);

// Two decimals; "$" for USD (or an empty currency), else the ISO code after the number.
std::string FormatMoney(double amount, std::string_view currency = "USD");

// Up to one decimal, trailing ".0" dropped.
std::string FormatNumber(double value);

}  // namespace aidi::costmodel
