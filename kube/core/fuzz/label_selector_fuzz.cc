// Fuzzes LabelSelector::Parse and ::FromJson. Beyond "never crash", it checks that the
// canonical string form parses back to the same requirements (kubectl and the API server pass
// selectors around in that form).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "kube/core/fuzz/fuzz_input.h"
#include "kube/core/selectors.h"

namespace {

using aidi::kube::LabelSelector;

bool SameRequirements(const LabelSelector& a, const LabelSelector& b) {
  const auto& ra = a.requirements();
  const auto& rb = b.requirements();
  if (ra.size() != rb.size()) return false;
  for (size_t i = 0; i < ra.size(); ++i) {
    if (ra[i].key != rb[i].key || ra[i].op != rb[i].op || ra[i].values != rb[i].values) {
      return false;
    }
  }
  return true;
}

void CheckRoundTrip(const LabelSelector& selector) {
  const std::string text = selector.ToString();
  auto again = LabelSelector::Parse(text);
  if (!again.ok() || !SameRequirements(selector, *again) || again->ToString() != text) {
    std::abort();  // the canonical form must parse back to the same selector
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = aidi::kube::fuzz::AsText(data, size);
  auto parsed = LabelSelector::Parse(text);
  if (parsed.ok()) {
    CheckRoundTrip(*parsed);
    // Label sets built from the input itself exercise every operator's matching path.
    aidi::kube::Labels labels;
    for (const auto& r : parsed->requirements()) {
      labels[r.key] = r.values.empty() ? "1" : r.values.back();
    }
    (void)parsed->Matches(labels);
    (void)parsed->Matches({});
  }
  if (auto json = aidi::kube::fuzz::ParseJson(text)) {
    auto from_json = LabelSelector::FromJson(*json);
    if (from_json.ok()) {
      CheckRoundTrip(*from_json);
      (void)from_json->MatchesJson(json->is_object() ? json->value("matchLabels", nlohmann::json())
                                                     : nlohmann::json());
    }
  }
  return 0;
}
