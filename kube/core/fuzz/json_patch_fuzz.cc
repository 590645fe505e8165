// Fuzzes ApplyJsonPatch and the merge patch pair. Input: a target document and a patch, two
// JSON documents separated by the first newline. Beyond "never crash", it checks the RFC 7386
// round trip: applying CreateMergePatch(a, b) to a yields b (when b has no null members, which
// a merge patch cannot express).
#include <cstdint>
#include <cstdlib>

#include "kube/core/fuzz/fuzz_input.h"
#include "kube/core/patch.h"

namespace {

using nlohmann::json;

// True when an object member outside any array is null (arrays are copied verbatim).
bool HasNullMember(const json& v) {
  if (!v.is_object()) return false;
  for (const auto& [key, value] : v.items()) {
    if (value.is_null() || HasNullMember(value)) return true;
  }
  return false;
}

void CheckMergeRoundTrip(const json& from, const json& to) {
  if (!to.is_object() || HasNullMember(to)) return;
  const json diff = aidi::kube::CreateMergePatch(from, to);
  auto applied = aidi::kube::ApplyMergePatch(from, diff);
  if (!applied.ok() || *applied != to) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = aidi::kube::fuzz::SplitLines(aidi::kube::fuzz::AsText(data, size), 2);
  if (parts.size() != 2) return 0;
  const auto target = aidi::kube::fuzz::ParseJson(parts[0]);
  const auto patch = aidi::kube::fuzz::ParseJson(parts[1]);
  if (!target || !patch) return 0;

  auto patched = aidi::kube::ApplyJsonPatch(*target, *patch);
  if (patched.ok()) CheckMergeRoundTrip(*target, *patched);

  auto merged = aidi::kube::ApplyMergePatch(*target, *patch);
  if (merged.ok()) CheckMergeRoundTrip(*target, *merged);
  CheckMergeRoundTrip(*target, *patch);
  return 0;
}
