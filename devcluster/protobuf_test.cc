#include "devcluster/protobuf.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace aidi::devcluster {
namespace {

using nlohmann::json;

// The fixtures sit beside this file. ctest names their folder in AIDI_TESTDATA_DIR (__FILE__ is no
// guide: ccache's base directory makes it relative to the build folder).
std::filesystem::path TestData(const std::string& name) {
  const char* dir = std::getenv("AIDI_TESTDATA_DIR");
  EXPECT_NE(dir, nullptr) << "AIDI_TESTDATA_DIR is not set; run this test through ctest";
  return std::filesystem::path(dir != nullptr ? dir : "devcluster/testdata") / "protobuf" / name;
}

std::string ReadFile(const std::string& name) {
  std::ifstream in(TestData(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << TestData(name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---- a minimal protobuf writer for hand-built bodies ----

std::string Varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}
std::string Int(std::uint32_t field, std::uint64_t v) { return Varint(field << 3) + Varint(v); }
std::string Len(std::uint32_t field, std::string_view payload) {
  return Varint(field << 3 | 2) + Varint(payload.size()) + std::string(payload);
}
std::string Body(std::string_view api_version, std::string_view kind, std::string_view raw) {
  return std::string("k8s\0", 4) + Len(1, Len(1, api_version) + Len(2, kind)) + Len(2, raw);
}
std::string Meta(std::string_view name) { return Len(1, Len(1, name)); }  // field 1: metadata
std::string Timestamp(std::int64_t seconds, std::int32_t nanos = 0) {
  return Int(1, static_cast<std::uint64_t>(seconds)) +
         (nanos != 0 ? Int(2, static_cast<std::uint32_t>(nanos)) : "");
}

json Decode(std::string_view body) {
  auto r = DecodeKubernetesProtobuf(body);
  if (auto* err = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << *err;
    return nullptr;
  }
  return std::get<json>(r);
}

std::string DecodeError(std::string_view body) {
  auto r = DecodeKubernetesProtobuf(body);
  if (auto* err = std::get_if<std::string>(&r)) return *err;
  ADD_FAILURE() << "decoded: " << std::get<json>(r).dump();
  return "";
}

// ---- bodies captured from kubectl ----

class ProtobufKubectlCreateTest : public testing::TestWithParam<std::string> {};

// Each body decodes to exactly what `kubectl create ... --dry-run=client -o json` prints for
// the same command (see testdata/protobuf/README.md).
TEST_P(ProtobufKubectlCreateTest, DecodesToTheDryRunObject) {
  std::string body = ReadFile("create_" + GetParam() + ".pb");
  json want = json::parse(ReadFile("create_" + GetParam() + ".json"));
  EXPECT_EQ(Decode(body), want);
}

INSTANTIATE_TEST_SUITE_P(Protobuf, ProtobufKubectlCreateTest,
                         testing::Values("namespace", "configmap", "configmap_envfile",
                                         "secret_generic", "secret_docker", "serviceaccount",
                                         "deployment", "deployment_zero", "deployment_command",
                                         "deployment_multi", "service_clusterip",
                                         "service_headless", "service_nodeport", "service_lb",
                                         "service_externalname"),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(ProtobufTest, ConfigMapBinaryDataIsBase64) {
  json cm = Decode(ReadFile("create_configmap.pb"));
  EXPECT_EQ(cm["binaryData"]["blob.bin"], "AAEC//4=");
  EXPECT_EQ(cm["data"]["greeting.txt"], "hello\nworld\n");
}

// kubectl debug --copy-to GETs a pod and posts a copy as protobuf: the one kubectl path that
// re-encodes a whole pod spec. The copy must decode to the pod served, less what kubectl
// changes on purpose.
TEST(ProtobufTest, DebugCopyOfARichPodRoundTrips) {
  json source = json::parse(ReadFile("debug_copy_pod.source.json"));
  json want = {{"apiVersion", "v1"},
               {"kind", "Pod"},
               {"metadata",
                {{"name", "rich-copy"},
                 {"namespace", "default"},
                 {"annotations", source["metadata"]["annotations"]},
                 {"creationTimestamp", nullptr}}},
               {"spec", source["spec"]},
               {"status", json::object()}};
  json& spec = want["spec"];
  spec.erase("nodeName");  // --copy-to without --same-node
  spec.erase("hostPID");   // false: omitempty in Go, so never on the JSON side
  json& main = spec["containers"][0];
  main["image"] = "registry.example/aidi-worker:v2";  // --container=main --image=...
  main.erase("stdin");                                // -i=false
  main.erase("tty");
  EXPECT_EQ(Decode(ReadFile("debug_copy_pod.pb")), want);
}

// ---- Go JSON semantics on hand-built bodies ----

TEST(ProtobufTest, PresenceFollowsGoPointersAndOmitempty) {
  // DeploymentSpec: replicas (*int32) sent as 0; minReadySeconds (int32,omitempty) sent as 0;
  // selector (*LabelSelector, no omitempty), template and strategy (structs) never sent.
  std::string spec = Int(1, 0) + Int(5, 0);
  json d = Decode(Body("apps/v1", "Deployment", Meta("d") + Len(2, spec)));
  json want_spec = {
      {"replicas", 0},
      {"selector", nullptr},
      {"template",
       {{"metadata", {{"creationTimestamp", nullptr}}}, {"spec", {{"containers", nullptr}}}}},
      {"strategy", json::object()}};
  EXPECT_EQ(d["spec"], want_spec);
  EXPECT_EQ(d["metadata"], json({{"name", "d"}, {"creationTimestamp", nullptr}}));
  EXPECT_EQ(d["status"], json::object());
}

TEST(ProtobufTest, IntOrStringAndQuantities) {
  std::string int_or_string_str = Int(1, 1) + Len(3, "25%");
  std::string int_or_string_zero;  // type 0, intVal 0
  std::string strategy =
      Len(1, "RollingUpdate") + Len(2, Len(1, int_or_string_zero) + Len(2, int_or_string_str));
  json d = Decode(Body("apps/v1", "Deployment", Len(2, Len(4, strategy))));
  EXPECT_EQ(d["spec"]["strategy"],
            json({{"type", "RollingUpdate"},
                  {"rollingUpdate", {{"maxUnavailable", 0}, {"maxSurge", "25%"}}}}));

  // Container resources: map<string, Quantity>; a Quantity without its string is zero.
  std::string limits =
      Len(1, Len(1, "cpu") + Len(2, Len(1, "250m"))) + Len(1, Len(1, "memory") + Len(2, ""));
  std::string container = Len(1, "c") + Len(8, limits);
  json p = Decode(Body("v1", "Pod", Len(2, Len(2, container))));
  EXPECT_EQ(p["spec"]["containers"][0]["resources"],
            json({{"limits", {{"cpu", "250m"}, {"memory", "0"}}}}));

  std::string bad = Len(1, Len(1, "cpu") + Len(2, Len(1, "lots")));
  EXPECT_NE(
      DecodeError(Body("v1", "Pod", Len(2, Len(2, Len(8, bad))))).find("invalid quantity \"lots\""),
      std::string::npos);
}

TEST(ProtobufTest, TimesRenderAsGoDoes) {
  auto created = [](std::string_view ts) {
    return Decode(Body("v1", "ConfigMap", Len(1, Len(8, ts))))["metadata"]["creationTimestamp"];
  };
  EXPECT_EQ(created(Timestamp(1714979289, 999)), "2024-05-06T07:08:09Z");  // nanos dropped
  EXPECT_EQ(created(Timestamp(0, 5)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(created(Timestamp(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(created(Timestamp(951782400)), "2000-02-29T00:00:00Z");
  EXPECT_EQ(created(Timestamp(-62135596800)), nullptr);  // Go's zero time.Time
  EXPECT_EQ(created(""), nullptr);
  EXPECT_NE(DecodeError(Body("v1", "ConfigMap", Len(1, Len(8, Timestamp(1LL << 40)))))
                .find("outside the years 0000-9999"),
            std::string::npos);
}

TEST(ProtobufTest, LeaseKeepsMicrosecondsAndZeroCounts) {
  std::string spec = Len(1, "node-a") + Int(2, 40) + Len(3, Timestamp(1704164645, 123456789)) +
                     Len(4, Timestamp(1704164646, -1)) + Int(5, 0);
  json lease = Decode(Body("coordination.k8s.io/v1", "Lease", Meta("l") + Len(2, spec)));
  EXPECT_EQ(lease["spec"], json({{"holderIdentity", "node-a"},
                                 {"leaseDurationSeconds", 40},
                                 {"acquireTime", "2024-01-02T03:04:05.123456Z"},
                                 {"renewTime", "2024-01-02T03:04:05.999999Z"},
                                 {"leaseTransitions", 0}}));
  EXPECT_FALSE(lease.contains("status"));
}

TEST(ProtobufTest, EventWithRequiredStringsAndNullTimes) {
  std::string involved = Len(1, "Pod") + Len(2, "default") + Len(3, "p") + Len(5, "v1");
  std::string raw = Meta("p.1") + Len(2, involved) + Len(3, "Scheduled") + Len(4, "ok") +
                    Len(5, Len(1, "aidi-scheduler")) + Len(6, Timestamp(60)) + Int(8, 2) +
                    Len(9, "Normal") + Len(11, Int(1, 3) + Len(2, Timestamp(61, 500000)));
  json want = {{"apiVersion", "v1"},
               {"kind", "Event"},
               {"metadata", {{"name", "p.1"}, {"creationTimestamp", nullptr}}},
               {"involvedObject",
                {{"kind", "Pod"}, {"namespace", "default"}, {"name", "p"}, {"apiVersion", "v1"}}},
               {"reason", "Scheduled"},
               {"message", "ok"},
               {"source", {{"component", "aidi-scheduler"}}},
               {"firstTimestamp", "1970-01-01T00:01:00Z"},
               {"lastTimestamp", nullptr},
               {"count", 2},
               {"type", "Normal"},
               {"eventTime", nullptr},
               {"series", {{"count", 3}, {"lastObservedTime", "1970-01-01T00:01:01.000500Z"}}},
               {"reportingComponent", ""},
               {"reportingInstance", ""}};
  EXPECT_EQ(Decode(Body("v1", "Event", raw)), want);
}

TEST(ProtobufTest, Binding) {
  json b = Decode(Body("v1", "Binding", Meta("p") + Len(2, Len(1, "Node") + Len(3, "node-a"))));
  EXPECT_EQ(b["target"], json({{"kind", "Node"}, {"name", "node-a"}}));
}

TEST(ProtobufTest, DeleteOptionsUnderAnyGroupVersion) {
  std::string raw = Int(1, 0) + Len(2, Len(1, "uid-1")) + Len(4, "Foreground") + Len(5, "All");
  for (const char* gv : {"v1", "meta.k8s.io/v1", "apps/v1"}) {
    EXPECT_TRUE(SupportsProtobufKind(gv, "DeleteOptions")) << gv;
    json want = {{"apiVersion", gv},
                 {"kind", "DeleteOptions"},
                 {"gracePeriodSeconds", 0},
                 {"preconditions", {{"uid", "uid-1"}}},
                 {"propagationPolicy", "Foreground"},
                 {"dryRun", {"All"}}};
    EXPECT_EQ(Decode(Body(gv, "DeleteOptions", raw)), want) << gv;
  }
}

TEST(ProtobufTest, PackedAndUnpackedRepeatedIntegers) {
  std::string unpacked = Int(4, 3000) + Int(4, 4000);
  std::string packed = Len(4, Varint(3000) + Varint(4000));
  for (const std::string& groups : {unpacked, packed}) {
    json p = Decode(Body("v1", "Pod", Len(2, Len(14, groups))));
    EXPECT_EQ(p["spec"]["securityContext"], json({{"supplementalGroups", {3000, 4000}}}));
  }
  // A packed list with no elements is Go's nil, which omitempty leaves out.
  json p = Decode(Body("v1", "Pod", Len(2, Len(14, Len(4, "")))));
  EXPECT_EQ(p["spec"]["securityContext"], json::object());
}

TEST(ProtobufTest, RepeatedMessagesMergeAndMapKeysKeepTheLastValue) {
  std::string meta = Len(1, "cm") + Len(11, Len(1, "k") + Len(2, "old"));
  std::string more = Len(11, Len(1, "k") + Len(2, "new")) + Len(11, Len(1, "solo"));
  json cm = Decode(Body("v1", "ConfigMap", Len(1, meta) + Len(1, more)));
  EXPECT_EQ(cm["metadata"]["name"], "cm");
  EXPECT_EQ(cm["metadata"]["labels"], json({{"k", "new"}, {"solo", ""}}));

  // The second half of a split spec must not reset what the first half set.
  json pod = Decode(Body("v1", "Pod", Len(2, Len(2, Len(1, "c"))) + Len(2, Len(3, "Never"))));
  EXPECT_EQ(pod["spec"], json::parse(R"({"containers":[{"name":"c","resources":{}}],
                                         "restartPolicy":"Never"})"));
}

TEST(ProtobufTest, ManagedFieldsCarryRawJson) {
  std::string entry = Len(1, "kubectl") + Len(2, "Update") + Len(6, "FieldsV1") +
                      Len(7, Len(1, R"({"f:data":{".":{}}})"));
  json cm = Decode(Body("v1", "ConfigMap", Len(1, Len(1, "cm") + Len(17, entry))));
  EXPECT_EQ(cm["metadata"]["managedFields"],
            json::parse(R"([{"manager":"kubectl","operation":"Update","fieldsType":"FieldsV1",
                            "fieldsV1":{"f:data":{".":{}}}}])"));

  auto with_fields_v1 = [](std::string_view raw) {
    return Body("v1", "ConfigMap", Len(1, Len(17, Len(7, Len(1, raw)))));
  };
  std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_NE(DecodeError(with_fields_v1(deep)).find("nests deeper than 64"), std::string::npos);
  EXPECT_NE(DecodeError(with_fields_v1("{nope")).find("not valid JSON"), std::string::npos);
}

TEST(ProtobufTest, InvalidUtf8BecomesReplacementCharacters) {
  json cm =
      Decode(Body("v1", "ConfigMap", Meta("cm") + Len(2, Len(1, "k\xff") + Len(2, "a\xe2\x82"))));
  EXPECT_EQ(cm["data"], json({{"k\xEF\xBF\xBD", "a\xEF\xBF\xBD\xEF\xBF\xBD"}}));
  EXPECT_NO_THROW((void)cm.dump());
}

TEST(ProtobufTest, RetiredFieldsAreDropped) {
  // ObjectMeta.clusterName (15), which clients before 1.25 always sent.
  json cm = Decode(Body("v1", "ConfigMap", Len(1, Len(1, "cm") + Len(15, ""))));
  EXPECT_EQ(cm["metadata"], json({{"name", "cm"}, {"creationTimestamp", nullptr}}));
}

// ---- errors name what was wrong ----

TEST(ProtobufTest, RejectsWhatItCannotDecode) {
  EXPECT_EQ(DecodeError("{\"kind\":\"Pod\"}"),
            "protobuf: body does not start with the magic bytes \"k8s\\x00\"");
  EXPECT_EQ(DecodeError(Body("apps/v1", "StatefulSet", "")),
            "protobuf: unsupported kind apps/v1 StatefulSet");
  EXPECT_EQ(DecodeError(Body("", "Pod", "")),
            "protobuf: the envelope must name both apiVersion and kind");
  EXPECT_EQ(DecodeError(Body("v1", "Pod", "") + Len(3, "gzip")),
            "protobuf: unsupported contentEncoding \"gzip\"");
  EXPECT_EQ(DecodeError(std::string(kMaxProtobufBodyBytes + 1, 'k')),
            "protobuf: body of 3145729 bytes exceeds the limit of 3145728");
}

TEST(ProtobufTest, ErrorsNameTheFieldAndOffset) {
  // Envelope: 4 bytes of magic, then field 1 (2 bytes of tag and length, 15 of TypeMeta), so
  // the raw field's tag is at offset 21 and the object's message starts at 23.
  std::string head = Body("v1", "ConfigMap", "");
  head.resize(head.size() - 2);
  auto with_raw = [&](std::string_view raw) { return head + Len(2, raw); };
  EXPECT_EQ(DecodeError(with_raw(Varint(1 << 3 | 2) + Varint(10) + "abc")),
            "protobuf: truncated field 1 at offset 23");
  EXPECT_EQ(DecodeError(with_raw(Int(99, 1))),
            "protobuf: unknown field 99 in ConfigMap at offset 23");
  EXPECT_EQ(DecodeError(with_raw(Len(4, "yes"))),
            "protobuf: field 4 (immutable) of ConfigMap at offset 23 has wire type 2, want 0");
  EXPECT_EQ(DecodeError(with_raw(Varint(1 << 3 | 3))),
            "protobuf: field 1 at offset 23 has unsupported wire type 3");
  EXPECT_EQ(DecodeError(with_raw(std::string(11, '\xff'))), "protobuf: malformed tag at offset 23");

  std::string iscsi_volume = Len(1, "v") + Len(2, Len(8, Len(1, "portal")));
  EXPECT_NE(DecodeError(Body("v1", "Pod", Len(2, Len(1, iscsi_volume))))
                .find("field 8 (iscsi) of VolumeSource at offset"),
            std::string::npos);
  EXPECT_NE(DecodeError(Body("v1", "Pod", Len(2, Int(99, 1)))).find("unknown field 99 in PodSpec"),
            std::string::npos);
}

TEST(ProtobufTest, BoundsTheWork) {
  std::string entries;
  for (int i = 0; i < 300000; ++i) entries += Len(2, "");  // 300k empty map entries, 600 kB
  EXPECT_NE(DecodeError(Body("v1", "ConfigMap", entries)).find("too large to decode"),
            std::string::npos);
}

TEST(ProtobufTest, SurvivesDamagedCaptures) {
  // Every truncation and every single-byte change of a real body either decodes to something
  // Go's JSON could print or reports an error; nothing crashes or throws.
  std::string body = ReadFile("create_deployment.pb");
  for (std::size_t n = 0; n <= body.size(); ++n) {
    auto r = DecodeKubernetesProtobuf(std::string_view(body).substr(0, n));
    if (auto* j = std::get_if<json>(&r)) {
      EXPECT_NO_THROW((void)j->dump());
    }
  }
  for (std::size_t i = 0; i < body.size(); ++i) {
    for (int delta : {1, 0x40, 0x80}) {
      std::string damaged = body;
      damaged[i] = static_cast<char>(damaged[i] + delta);
      auto r = DecodeKubernetesProtobuf(damaged);
      if (auto* j = std::get_if<json>(&r)) {
        EXPECT_NO_THROW((void)j->dump());
      }
    }
  }
}

TEST(ProtobufTest, SupportedKinds) {
  for (auto [gv, kind] : std::initializer_list<std::pair<const char*, const char*>>{
           {"v1", "Namespace"},
           {"v1", "ConfigMap"},
           {"v1", "Secret"},
           {"v1", "ServiceAccount"},
           {"v1", "Service"},
           {"v1", "Pod"},
           {"v1", "Binding"},
           {"v1", "Event"},
           {"apps/v1", "Deployment"},
           {"coordination.k8s.io/v1", "Lease"}}) {
    EXPECT_TRUE(SupportsProtobufKind(gv, kind)) << gv << " " << kind;
  }
  EXPECT_FALSE(SupportsProtobufKind("apps/v1", "StatefulSet"));
  EXPECT_FALSE(SupportsProtobufKind("v1", "Node"));
  EXPECT_FALSE(SupportsProtobufKind("apps/v1", "Pod"));
  EXPECT_FALSE(SupportsProtobufKind("", "DeleteOptions"));
}

}  // namespace
}  // namespace aidi::devcluster
