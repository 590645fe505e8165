// Fuzzes LoadKubeconfig: the input is the text of a kubeconfig file, or of two files merged in
// order when it holds a line "#--- next file" (the rest goes to the second file). The files sit
// in a scratch folder beside a CA bundle, a client certificate and key and a token file, so
// relative paths in seeds resolve. Loading must succeed or return a Status: never crash, hang
// or leak. An exec plugin is only configured by loading, never run, so none is started here.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "kube/client/config.h"

namespace {

namespace fs = std::filesystem;

struct Fixture {
  fs::path dir;
  aidi::FakeClock clock;
  Fixture() {
    dir = fs::temp_directory_path() / ("aidi-kubeconfig-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    for (const char* name : {"ca.crt", "client.crt", "client.key"}) {
      std::ofstream(dir / name) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    }
    std::ofstream(dir / "token") << "file-token\n";
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// The loader reads certificate and token files whole, as kubectl does: a path naming a device
// (/dev/zero, /dev/stdin) or a /proc or /sys file would only measure the machine, so inputs
// that name one are skipped.
bool NamesSpecialFiles(std::string_view text) {
  for (std::string_view s : {"/dev", "dev/", "/proc", "/sys"}) {
    if (text.find(s) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (NamesSpecialFiles(text)) return 0;
  constexpr std::string_view kSplit = "\n#--- next file\n";
  aidi::kube::KubeconfigOptions options;
  const size_t split = text.find(kSplit);
  WriteFile(fixture.dir / "config", text.substr(0, split));
  options.paths.push_back((fixture.dir / "config").string());
  if (split != std::string_view::npos) {
    WriteFile(fixture.dir / "config-2", text.substr(split + kSplit.size()));
    options.paths.push_back((fixture.dir / "config-2").string());
  }
  auto config = aidi::kube::LoadKubeconfig(options, fixture.clock);
  if (config.ok() && config->credentials != nullptr && config->server.empty()) {
    __builtin_trap();  // a loaded config always names its server
  }
  return 0;
}
