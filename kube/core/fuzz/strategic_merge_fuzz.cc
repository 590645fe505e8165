// Fuzzes ApplyStrategicMergePatch. Input: three lines, the kind ("Pod", "Deployment", ...),
// the original object and the patch. Beyond "never crash", it checks that no patch directive
// ($patch, $retainKeys, $setElementOrder/..., $deleteFromPrimitiveList/...) survives into a
// result.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kube/core/fuzz/fuzz_input.h"
#include "kube/core/patch.h"

namespace {

bool HasDirectiveKey(const nlohmann::json& v) {
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      const std::string_view k = key;
      if (k == "$patch" || k == "$retainKeys" || k.substr(0, 16) == "$setElementOrder" ||
          k.substr(0, 24) == "$deleteFromPrimitiveList" || HasDirectiveKey(value)) {
        return true;
      }
    }
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if (HasDirectiveKey(item)) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = aidi::kube::fuzz::SplitLines(aidi::kube::fuzz::AsText(data, size), 3);
  if (parts.size() != 3) return 0;
  const auto original = aidi::kube::fuzz::ParseJson(parts[1]);
  const auto patch = aidi::kube::fuzz::ParseJson(parts[2]);
  if (!original || !patch) return 0;
  auto result = aidi::kube::ApplyStrategicMergePatch(*original, *patch, parts[0]);
  if (result.ok() && HasDirectiveKey(*result)) std::abort();
  return 0;
}
