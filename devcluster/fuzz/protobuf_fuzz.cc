// Fuzzes DecodeKubernetesProtobuf. The input is tried twice: as a whole request body, and as
// the raw object message of the kind its first byte picks (wrapped in a valid envelope), so
// mutations reach deep into the object schemas without having to keep the envelope intact.
// Whatever decodes must also dump as JSON (Go-style UTF-8 repair). Any crash, sanitizer report,
// uncaught exception or hang is a bug; error answers are expected.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "devcluster/protobuf.h"

namespace {

struct Kind {
  std::string_view api_version;
  std::string_view kind;
};
constexpr std::array<Kind, 11> kKinds = {{{"v1", "Namespace"},
                                          {"v1", "ConfigMap"},
                                          {"v1", "Secret"},
                                          {"v1", "ServiceAccount"},
                                          {"v1", "Service"},
                                          {"v1", "Pod"},
                                          {"v1", "Binding"},
                                          {"v1", "Event"},
                                          {"apps/v1", "Deployment"},
                                          {"coordination.k8s.io/v1", "Lease"},
                                          {"meta.k8s.io/v1", "DeleteOptions"}}};

std::string Len(int field, std::string_view payload) {
  std::string out(1, static_cast<char>(field << 3 | 2));
  for (std::size_t n = payload.size();; n >>= 7) {
    out += static_cast<char>((n & 0x7F) | (n >= 0x80 ? 0x80 : 0));
    if (n < 0x80) break;
  }
  return out + std::string(payload);
}

void Check(std::string_view body) {
  auto result = aidi::devcluster::DecodeKubernetesProtobuf(body);
  if (auto* object = std::get_if<nlohmann::json>(&result)) (void)object->dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Check(input);
  if (input.empty()) return 0;
  const Kind& k = kKinds[static_cast<std::uint8_t>(input[0]) % kKinds.size()];
  Check(std::string("k8s\0", 4) + Len(1, Len(1, k.api_version) + Len(2, k.kind)) +
        Len(2, input.substr(1)));
  return 0;
}
