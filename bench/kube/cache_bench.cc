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

#include "bench/kube/realistic_pod.h"
#include "kube/runtime/projection.h"
#include "kube/runtime/store.h"

namespace aidi::kube {
namespace {

using bench::RealisticPod;
using nlohmann::json;

constexpr int kPods = 10000;

// The pods as the API server would send them: JSON text, generated once.
const std::vector<std::string>& PodTexts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    out.reserve(kPods);
    for (int i = 0; i < kPods; ++i) out.push_back(RealisticPod(i).dump());
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
