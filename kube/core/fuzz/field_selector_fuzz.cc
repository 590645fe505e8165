// Fuzzes FieldSelector::Parse. Beyond "never crash", it checks that the canonical string form
// (escaped values, `=` for `==`) parses back to the same requirements.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kube/core/fuzz/fuzz_input.h"
#include "kube/core/selectors.h"

namespace {

using aidi::kube::FieldSelector;

// Parsing sorts terms by their raw text, so compare requirements as a multiset.
std::vector<std::tuple<std::string, bool, std::string>> Canonical(const FieldSelector& s) {
  std::vector<std::tuple<std::string, bool, std::string>> out;
  for (const auto& r : s.requirements()) out.emplace_back(r.field, r.equals, r.value);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = aidi::kube::fuzz::AsText(data, size);
  auto parsed = FieldSelector::Parse(text);
  if (!parsed.ok()) return 0;
  auto again = FieldSelector::Parse(parsed->ToString());
  if (!again.ok() || Canonical(*again) != Canonical(*parsed)) std::abort();
  (void)parsed->Matches([&](std::string_view field) -> std::optional<std::string> {
    if (field.size() % 2 == 0) return std::nullopt;
    return std::string(field);
  });
  return 0;
}
