// Fuzz target: every op's params decoder, as `aidi-worker run` meets it. The first byte picks
// the op, the rest is the --params text; each run decodes the params and validates them
// against a small CSV with typed columns and nulls (made once), then runs the op on the CPU
// into a scratch output. It must succeed or fail with a Status: never crash, hang or leak.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "cuda-workers/ops/op.h"

namespace {

namespace fs = std::filesystem;

struct Fixture {
  fs::path dir;
  Fixture() {
    dir = fs::temp_directory_path() / ("aidi-params-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream csv(dir / "in.csv");
    csv << "id,k,x,y,name,flag\n"
           "1,1,0.5,10,a,true\n"
           "2,1,,-3,b,false\n"
           "3,2,2.25,,,true\n"
           "4,,-1.5,7,d,\n"
           "5,2,1e300,0,e,false\n";
    std::ofstream model(dir / "model.json");
    model << R"({"kind":"logistic","features":["x","y"],"weights":[0.5,-0.25],"bias":0.1})";
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  const auto ops = aidi::worker::AllOps();
  const aidi::worker::OpInfo& op = ops[data[0] % ops.size()];
  auto params = aidi::worker::ParseParamsJson(
      std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
  if (!params.ok()) return 0;
  aidi::worker::RunRequest request;
  request.op = std::string(op.name);
  request.params = std::move(*params);
  request.inputs = {(fixture.dir / "in.csv").string()};
  if (op.name == "predict") request.inputs.push_back((fixture.dir / "model.json").string());
  request.output = (fixture.dir / (op.name == "train" ? "out.json" : "out.csv")).string();
  request.device = aidi::worker::Device::kCpu;
  request.threads = 1;
  auto summary = aidi::worker::RunOp(request);
  (void)summary;  // either outcome is fine; only crashes are findings
  std::error_code ec;
  fs::remove(request.output, ec);
  return 0;
}
