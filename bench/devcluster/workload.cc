#include "bench/devcluster/workload.h"

#include <array>
#include <cstdio>

namespace aidi::bench {
namespace {

std::uint64_t SplitMix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string Hex(std::uint64_t seed, int chars) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<std::size_t>(chars));
  std::uint64_t x = seed;
  while (static_cast<int>(out.size()) < chars) {
    x = SplitMix(x);
    for (int i = 0; i < 16 && static_cast<int>(out.size()) < chars; ++i)
      out += kHex[(x >> (4 * i)) & 15];
  }
  return out;
}

constexpr std::array<std::string_view, 6> kStages = {"ingest", "clean",    "featurize",
                                                     "train",  "evaluate", "publish"};
constexpr std::array<std::string_view, 4> kGpus = {"NVIDIA-A100-SXM4-40GB", "NVIDIA-L4",
                                                   "NVIDIA-H100-80GB-HBM3", "Tesla-T4"};
constexpr std::array<std::string_view, 3> kObjectives = {"MinCost", "MinTime", "Balanced"};

}  // namespace

std::string ConfigMapName(std::string_view prefix, std::uint64_t index) {
  char num[32];
  std::snprintf(num, sizeof(num), "%06llu", static_cast<unsigned long long>(index));
  std::string out = "cm-";
  out.append(prefix).append("-").append(num);
  return out;
}

std::string ConfigMapsPath(std::string_view ns) {
  std::string out = "/api/v1/namespaces/";
  out.append(ns).append("/configmaps");
  return out;
}

std::string NamespaceJson(std::string_view name) {
  std::string out = R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")";
  out.append(name).append(R"(","labels":{"aidi.dev/bench":"devcluster"}}})");
  return out;
}

std::string ConfigMapJson(std::string_view ns, std::string_view name, std::uint64_t index,
                          std::uint64_t revision) {
  const std::uint64_t r = SplitMix(index * 7919 + 17);
  const std::string pipeline = "churn-daily-" + std::to_string(index / 6 % 500);
  const std::string_view stage = kStages[index % kStages.size()];
  const std::string_view gpu = kGpus[r % kGpus.size()];
  const std::string_view objective = kObjectives[(r >> 8) % kObjectives.size()];
  const std::string gpus = std::to_string(1 + (r >> 16) % 4);
  const std::string gpu_seconds = std::to_string(60 + (r >> 20) % 3600);
  const std::string input_bytes = std::to_string((1 + (r >> 32) % 64) * 1073741824ULL);
  const std::string shard = std::to_string((r >> 40) % 128);

  std::string o;
  o.reserve(1280);
  o += R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")";
  o.append(name).append(R"(","namespace":")").append(ns).append(R"(","labels":{)");
  o += R"("app.kubernetes.io/name":"aidi-stage","app.kubernetes.io/instance":")";
  o.append(pipeline).append(R"(","app.kubernetes.io/component":"stage-config",)");
  o += R"("app.kubernetes.io/part-of":"aidi","app.kubernetes.io/managed-by":"aidi-operator",)";
  o.append(R"("aidi.dev/pipeline":")").append(pipeline).append(R"(","aidi.dev/stage":")");
  o.append(stage).append(R"("},"annotations":{"aidi.dev/demand":"{\"gpus\":)").append(gpus);
  o.append(R"(,\"gpuModel\":\")").append(gpu).append(R"(\",\"workGpuSeconds\":)");
  o.append(gpu_seconds).append(R"(,\"inputBytes\":)").append(input_bytes);
  o.append(R"(,\"objective\":\")").append(objective).append(R"(\"}",)");
  o.append(R"("aidi.dev/config-hash":"sha256:)").append(Hex(r ^ revision, 64)).append(R"(",)");
  o.append(R"("kubernetes.io/description":"Parameters of stage )").append(stage);
  o.append(" of pipeline ").append(pipeline).append(R"(, written by the operator."}},)");
  o += R"("data":{"params.json":"{\"input\":\"s3://datasets/churn/)";
  o.append(pipeline).append("/part-").append(shard);
  o.append(R"(.parquet\",\"columns\":[\"customer_id\",\"tenure\",\"monthly_charges\",)");
  o += R"(\"total_charges\",\"contract\"],\"filter\":\"tenure > 3 AND contract != 'trial'\",)";
  o.append(R"(\"sample\":0.25,\"seed\":)").append(std::to_string(r % 100000)).append(R"(}",)");
  o.append(R"("stage.env":"LOG_LEVEL=info\nAIDI_STAGE=)").append(stage);
  o.append(R"(\nAIDI_OUTPUT=/workspace/)").append(pipeline).append("/").append(stage);
  o.append(R"(\nAIDI_DEVICE=auto\n",)");
  o +=
      R"("retry.yaml":"limit: 3\nbackoff:\n  initialSeconds: 10\n  factor: 2\n  maxSeconds: 300\n",)";
  o.append(R"("revision":")").append(std::to_string(revision)).append(R"("}})");
  return o;
}

std::string_view FindStringField(std::string_view json, std::string_view field) {
  std::string key = "\"";
  key.append(field).append("\":\"");
  auto at = json.find(key);
  if (at == std::string_view::npos) return {};
  auto start = at + key.size();
  auto end = json.find('"', start);
  if (end == std::string_view::npos) return {};
  return json.substr(start, end - start);
}

}  // namespace aidi::bench
