// kube_cache_bench: what the informer cache (kube/runtime/store.h) costs per cached pod, how
// long an initial list of 10,000 pods takes to apply, and how long a read takes.
//
// Pods are generated to look like a Deployment's pods in a real cluster (~4.5 KB of JSON each):
// labels, annotations including kubectl's last-applied-configuration, an owner reference,
// three managedFields entries, two containers with env, resources, ports, volume mounts and
// probes, and a status with conditions, container statuses and pod IPs.
//
// Memory is malloc's view (mallinfo2: bytes in chunks in use, headers and rounding included),
// measured before and after filling a cache with 10,000 pods parsed from their JSON text, so it
// counts exactly what the cache keeps. Variants:
//   store_typical  Store, projection {metadata.labels, metadata.ownerReferences, spec.nodeName,
//                  status.phase, status.conditions}, owner-uid index
//   store_whole    Store, whole objects (managedFields and last-applied stripped), owner-uid index
//   json_typical   the same projection held as nlohmann::json in an unordered_map
//   json_full      the anchor: full pods as nlohmann::json in an unordered_map, as a naive cache
// Counters: bytes_per_pod (memory), json_text_per_pod (the pods' JSON text, for scale), and for
// the Store its own estimate approx_bytes_per_pod.
//
// Run: build-store-rel/bench/kube_cache_bench (single-threaded; a quiet machine gives stable
// times, the memory figures do not depend on load).
#include <malloc.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/runtime/projection.h"
#include "kube/runtime/store.h"

namespace aidi::kube {
namespace {

using nlohmann::json;

constexpr int kPods = 10000;

std::string Hex(unsigned long long v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llx", width, v % (1ULL << (4 * width)));
  return buf;
}

std::string Uid(int i, int salt) {
  unsigned long long h = (static_cast<unsigned long long>(i) + 1) * 0x9e3779b97f4a7c15ULL + salt;
  return Hex(h >> 32, 8) + "-" + Hex(h >> 16, 4) + "-4" + Hex(h >> 4, 3) + "-8" + Hex(h, 3) + "-" +
         Hex(h * 31 + 7, 12);
}

json Condition(const char* type) {
  return {{"type", type},
          {"status", "True"},
          {"lastProbeTime", nullptr},
          {"lastTransitionTime", "2024-05-01T10:00:04Z"}};
}

json ContainerStatus(const std::string& name, const std::string& image, int i) {
  return {{"name", name},
          {"image", image},
          {"imageID", image.substr(0, image.find(':')) + "@sha256:" + Hex(i * 7919ULL, 16) +
                          std::string(48, 'a')},
          {"containerID", "containerd://" + Hex(i * 104729ULL, 16) + std::string(48, 'b')},
          {"ready", true},
          {"restartCount", i % 3},
          {"state", {{"running", {{"startedAt", "2024-05-01T10:00:03Z"}}}}}};
}

// Pod number i of 50 Deployments ("web-<d>") spread over 100 nodes.
json MakePod(int i) {
  const std::string deployment = "web-" + std::to_string(i % 50);
  const std::string replica_set = deployment + "-7d4b9c8f6d";
  const std::string name = replica_set + "-" + Hex(i * 2654435761ULL, 5);
  const std::string image = "registry.example.com/shop/" + deployment + ":1.24.3";
  const std::string ip =
      "10.8." + std::to_string(i / 250 % 256) + "." + std::to_string(i % 250 + 2);
  json labels = {{"app", deployment},
                 {"app.kubernetes.io/name", deployment},
                 {"pod-template-hash", "7d4b9c8f6d"}};
  json app = {
      {"name", "app"},
      {"image", image},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", json::array({{{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}}})},
      {"env", json::array({{{"name", "LOG_LEVEL"}, {"value", "info"}}})},
      {"resources",
       {{"limits", {{"cpu", "500m"}, {"memory", "512Mi"}}},
        {"requests", {{"cpu", "250m"}, {"memory", "256Mi"}}}}},
      {"volumeMounts",
       json::array({{{"name", "config"}, {"mountPath", "/etc/web"}, {"readOnly", true}},
                    {{"name", "kube-api-access-x7k2p"},
                     {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"},
                     {"readOnly", true}}})},
      {"livenessProbe",
       {{"httpGet", {{"path", "/healthz"}, {"port", 8080}, {"scheme", "HTTP"}}},
        {"initialDelaySeconds", 10},
        {"periodSeconds", 10},
        {"failureThreshold", 3}}},
      {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", 8080}}}, {"periodSeconds", 5}}},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "File"}};
  json proxy = {
      {"name", "proxy"},
      {"image", "registry.example.com/mesh/proxy:2.1.0"},
      {"ports", json::array({{{"name", "admin"}, {"containerPort", 15000}, {"protocol", "TCP"}}})},
      {"resources", {{"requests", {{"cpu", "50m"}, {"memory", "64Mi"}}}}}};
  json spec = {
      {"containers", json::array({app, proxy})},
      {"volumes", json::array({{{"name", "config"},
                                {"configMap", {{"name", "web-config"}, {"defaultMode", 420}}}}})},
      {"nodeName", "node-" + std::to_string(i % 100)},
      {"restartPolicy", "Always"},
      {"dnsPolicy", "ClusterFirst"},
      {"serviceAccountName", "web"},
      {"schedulerName", "default-scheduler"},
      {"terminationGracePeriodSeconds", 30},
      {"tolerations", json::array({{{"key", "node.kubernetes.io/not-ready"},
                                    {"operator", "Exists"},
                                    {"effect", "NoExecute"},
                                    {"tolerationSeconds", 300}}})}};
  json status = {
      {"phase", "Running"},
      {"conditions", json::array({Condition("Initialized"), Condition("Ready"),
                                  Condition("ContainersReady"), Condition("PodScheduled")})},
      {"hostIP", "192.168.1." + std::to_string(i % 100 + 10)},
      {"podIP", ip},
      {"podIPs", json::array({{{"ip", ip}}})},
      {"startTime", "2024-05-01T10:00:00Z"},
      {"qosClass", "Burstable"},
      {"containerStatuses",
       json::array({ContainerStatus("app", image, i),
                    ContainerStatus("proxy", "registry.example.com/mesh/proxy:2.1.0", i)})}};
  json last_applied = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"labels", labels}, {"name", name}, {"namespace", "shop"}}},
      {"spec", {{"containers", json::array({{{"image", image}, {"name", "app"}}})}}}};
  auto managed = [](const char* manager, const char* subresource, json fields) {
    json entry = {{"manager", manager},       {"operation", "Update"},
                  {"apiVersion", "v1"},       {"time", "2024-05-01T10:00:04Z"},
                  {"fieldsType", "FieldsV1"}, {"fieldsV1", std::move(fields)}};
    if (subresource != nullptr) entry["subresource"] = subresource;
    return entry;
  };
  json empty = json::object();
  json managed_fields = json::array(
      {managed("kube-controller-manager", nullptr,
               {{"f:metadata",
                 {{"f:labels", {{".", empty}, {"f:app", empty}, {"f:pod-template-hash", empty}}},
                  {"f:ownerReferences", {{".", empty}, {"k:{\"uid\":\"...\"}", empty}}}}},
                {"f:spec", {{"f:nodeName", empty}}}}),
       managed("kubelet", "status",
               {{"f:status",
                 {{"f:conditions", {{"k:{\"type\":\"Ready\"}", {{"f:status", empty}}}}},
                  {"f:containerStatuses", empty},
                  {"f:podIP", empty},
                  {"f:phase", empty}}}}),
       managed("kubectl-client-side-apply", nullptr,
               {{"f:metadata",
                 {{"f:annotations",
                   {{"f:kubectl.kubernetes.io/last-applied-configuration", empty}}}}}})});
  json metadata = {
      {"name", name},
      {"generateName", replica_set + "-"},
      {"namespace", "shop"},
      {"uid", Uid(i, 1)},
      {"resourceVersion", std::to_string(4000000 + i)},
      {"creationTimestamp", "2024-05-01T10:00:00Z"},
      {"labels", labels},
      {"annotations",
       {{"kubectl.kubernetes.io/last-applied-configuration", last_applied.dump() + "\n"},
        {"prometheus.io/scrape", "true"}}},
      {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                        {"kind", "ReplicaSet"},
                                        {"name", replica_set},
                                        {"uid", Uid(i % 50, 2)},
                                        {"controller", true},
                                        {"blockOwnerDeletion", true}}})},
      {"managedFields", std::move(managed_fields)}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec)},
          {"status", std::move(status)}};
}

// The pods as the API server would send them: JSON text, generated once.
const std::vector<std::string>& PodTexts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    out.reserve(kPods);
    for (int i = 0; i < kPods; ++i) out.push_back(MakePod(i).dump());
    return out;
  }();
  return texts;
}

double MeanTextBytes() {
  double total = 0;
  for (const std::string& text : PodTexts()) total += static_cast<double>(text.size());
  return total / kPods;
}

Projection TypicalProjection() {
  return Projection::Parse({"metadata.labels", "metadata.ownerReferences", "spec.nodeName",
                            "status.phase", "status.conditions"})
      .value();
}

StoreOptions Options(bool whole) {
  StoreOptions options;
  if (!whole) options.projection = TypicalProjection();
  options.indexers.emplace(std::string(kIndexOwnerUid), IndexByOwnerUid());
  return options;
}

// Bytes in malloc chunks in use (heap and mmapped).
std::size_t HeapInUse() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

void FillStore(Store& store) {
  store.Apply({WatcherEvent::Type::kInit, nullptr});
  for (const std::string& text : PodTexts()) {
    store.Apply({WatcherEvent::Type::kInitApply, json::parse(text)});
  }
  store.Apply({WatcherEvent::Type::kInitDone, nullptr});
}

enum class Variant { kStoreTypical, kStoreWhole, kJsonTypical, kJsonFull };

void BM_CacheMemory(benchmark::State& state, Variant variant) {
  PodTexts();  // generated outside the measurement
  for (auto _ : state) {
    malloc_trim(0);
    std::size_t before = HeapInUse();
    if (variant == Variant::kStoreTypical || variant == Variant::kStoreWhole) {
      Store store(Options(variant == Variant::kStoreWhole));
      FillStore(store);
      std::size_t after = HeapInUse();
      state.counters["bytes_per_pod"] = static_cast<double>(after - before) / kPods;
      state.counters["approx_bytes_per_pod"] = static_cast<double>(store.ApproxBytes()) / kPods;
      benchmark::DoNotOptimize(store.size());
    } else {
      Projection projection = TypicalProjection();
      std::unordered_map<std::string, json> cache;
      for (const std::string& text : PodTexts()) {
        json pod = json::parse(text);
        if (variant == Variant::kJsonTypical) pod = projection.Apply(std::move(pod));
        std::string key = ObjectKey::Of(pod).String();
        cache.emplace(std::move(key), std::move(pod));
      }
      std::size_t after = HeapInUse();
      state.counters["bytes_per_pod"] = static_cast<double>(after - before) / kPods;
      benchmark::DoNotOptimize(cache.size());
    }
  }
  state.counters["json_text_per_pod"] = MeanTextBytes();
}
BENCHMARK_CAPTURE(BM_CacheMemory, store_typical, Variant::kStoreTypical)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CacheMemory, store_whole, Variant::kStoreWhole)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CacheMemory, json_typical, Variant::kJsonTypical)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CacheMemory, json_full, Variant::kJsonFull)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// Applying an initial list of 10,000 parsed pods (kInit, kInitApply x 10,000, kInitDone), as the
// watcher hands them over; parsing is not timed. With a subscriber, as under a controller, the
// swap also announces (and so decodes) every pod.
void BM_InitialList(benchmark::State& state, bool whole, bool subscribed) {
  std::vector<json> parsed;
  parsed.reserve(kPods);
  for (const std::string& text : PodTexts()) parsed.push_back(json::parse(text));
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<json> pods = parsed;
    auto store = std::make_unique<Store>(Options(whole));
    std::size_t announced = 0;
    if (subscribed) store->Subscribe([&](const StoreChange&) { ++announced; });
    state.ResumeTiming();
    store->Apply({WatcherEvent::Type::kInit, nullptr});
    for (json& pod : pods) store->Apply({WatcherEvent::Type::kInitApply, std::move(pod)});
    store->Apply({WatcherEvent::Type::kInitDone, nullptr});
    state.PauseTiming();
    benchmark::DoNotOptimize(announced);
    store.reset();
    pods.clear();
    state.ResumeTiming();
  }
  state.counters["pods_per_s"] =
      benchmark::Counter(static_cast<double>(kPods), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK_CAPTURE(BM_InitialList, typical, false, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_InitialList, typical_subscribed, false, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_InitialList, whole, true, false)->Unit(benchmark::kMillisecond);

// Get() of a random cached pod out of 10,000: a lookup under the shared lock plus a decode.
void BM_StoreGet(benchmark::State& state, bool whole) {
  Store store(Options(whole));
  FillStore(store);
  std::vector<ObjectKey> keys = store.Keys();
  std::size_t i = 0;
  for (auto _ : state) {
    std::optional<json> pod = store.Get(keys[i]);
    benchmark::DoNotOptimize(pod);
    i = (i + 7919) % keys.size();
  }
}
BENCHMARK_CAPTURE(BM_StoreGet, typical, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_StoreGet, whole, true)->Unit(benchmark::kMicrosecond);

// List() of all 10,000 cached pods: every one decoded.
void BM_StoreList(benchmark::State& state, bool whole) {
  Store store(Options(whole));
  FillStore(store);
  for (auto _ : state) {
    std::vector<json> pods = store.List();
    benchmark::DoNotOptimize(pods);
  }
}
BENCHMARK_CAPTURE(BM_StoreList, typical, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_StoreList, whole, true)->Unit(benchmark::kMillisecond);

// The owned pods of one ReplicaSet (200 of 10,000) through the owner-uid index, keys only.
void BM_StoreKeysByOwner(benchmark::State& state) {
  Store store(Options(false));
  FillStore(store);
  std::string owner = json::parse(PodTexts()[0])["metadata"]["ownerReferences"][0]["uid"];
  for (auto _ : state) {
    std::vector<ObjectKey> keys = store.KeysByIndex(kIndexOwnerUid, owner);
    benchmark::DoNotOptimize(keys);
  }
}
BENCHMARK(BM_StoreKeysByOwner)->Unit(benchmark::kMicrosecond);

// The encodings the store could have used for a typically projected pod: bytes and decode time.
// "store" is Store::Get (lookup + its own encoding with the shared field-name dictionary).
enum class Codec { kStore, kCbor, kMsgpack, kJsonText };

void BM_DecodeProjectedPod(benchmark::State& state, Codec codec) {
  json pod = TypicalProjection().Apply(json::parse(PodTexts()[0]));
  std::vector<std::uint8_t> cbor = json::to_cbor(pod);
  std::vector<std::uint8_t> msgpack = json::to_msgpack(pod);
  std::string text = pod.dump();
  Store store(Options(false));
  store.Apply({WatcherEvent::Type::kApply, pod});
  ObjectKey key = ObjectKey::Of(pod);
  for (auto _ : state) {
    json out;
    switch (codec) {
      case Codec::kStore:
        out = *store.Get(key);
        break;
      case Codec::kCbor:
        out = json::from_cbor(cbor);
        break;
      case Codec::kMsgpack:
        out = json::from_msgpack(msgpack);
        break;
      case Codec::kJsonText:
        out = json::parse(text);
        break;
    }
    benchmark::DoNotOptimize(out);
  }
  double bytes = 0;
  switch (codec) {
    case Codec::kStore:
      // The encoded object alone, without the key ("ns/name") stored in front of it.
      bytes = static_cast<double>(store.EncodedBytes() - key.String().size());
      break;
    case Codec::kCbor:
      bytes = static_cast<double>(cbor.size());
      break;
    case Codec::kMsgpack:
      bytes = static_cast<double>(msgpack.size());
      break;
    case Codec::kJsonText:
      bytes = static_cast<double>(text.size());
      break;
  }
  state.counters["encoded_bytes"] = bytes;
}
BENCHMARK_CAPTURE(BM_DecodeProjectedPod, store, Codec::kStore)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecodeProjectedPod, cbor, Codec::kCbor)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecodeProjectedPod, msgpack, Codec::kMsgpack)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_DecodeProjectedPod, json_text, Codec::kJsonText)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace aidi::kube

BENCHMARK_MAIN();
