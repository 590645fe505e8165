// Helpers shared by the kube/core fuzz targets: split an input into lines and parse JSON
// without exceptions and without deep nesting (nlohmann's copy and compare are recursive).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_nesting.h"

namespace aidi::kube::fuzz {

// Deep enough for any realistic object, shallow enough that recursion is never a concern.
inline constexpr size_t kMaxFuzzDepth = 64;

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at the first `parts - 1` newlines; the last part keeps any further newlines.
inline std::vector<std::string_view> SplitLines(std::string_view text, size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    const size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    out.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  out.push_back(text);
  return out;
}

// Parses JSON with exceptions disabled; nullopt for invalid or too deeply nested input.
inline std::optional<nlohmann::json> ParseJson(std::string_view text) {
  if (aidi::JsonNestingDepth(text) > kMaxFuzzDepth) return std::nullopt;
  nlohmann::json v = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (v.is_discarded()) return std::nullopt;
  return v;
}

}  // namespace aidi::kube::fuzz
