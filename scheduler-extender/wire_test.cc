#include "scheduler-extender/wire.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aidi::extender {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// A stage pod as kube-scheduler's json.Marshal writes it (v1.Pod; HTML-sensitive characters
// escaped, as Go does: the demand annotation's JSON arrives with \u0026 and the like intact).
const char kPod[] =
    R"({"metadata":{"name":"train-prep-1","namespace":"ml","uid":"5f0c1a2e-7d1b-4c1e-9a51-0b1f3c2d4e5f",)"
    R"("resourceVersion":"1234","creationTimestamp":"2025-01-01T00:00:00Z",)"
    R"("labels":{"aidi.dev/pipeline":"train","aidi.dev/stage":"prep"},)"
    R"("annotations":{"aidi.dev/demand":"{\"gpus\":2,\"gpuModel\":\"NVIDIA-A100-SXM4-80GB\",\"workGpuSeconds\":3600}",)"
    R"("note":"a \u003c b \u0026\u0026 c"},)"
    R"("ownerReferences":[{"apiVersion":"aidi.dev/v1alpha1","kind":"Pipeline","name":"train",)"
    R"("uid":"0d9c8b7a-0000-4000-8000-000000000001","controller":true,"blockOwnerDeletion":true}],)"
    R"("managedFields":[{"manager":"aidi-operator","operation":"Update","apiVersion":"v1",)"
    R"("time":"2025-01-01T00:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":)"
    R"({".":{},"f:aidi.dev/pipeline":{}}}}}]},)"
    R"("spec":{"volumes":[{"name":"workspace","persistentVolumeClaim":{"claimName":"ws"}}],)"
    R"("initContainers":[{"name":"fetch","image":"busybox","resources":{"requests":{"cpu":"100m"}}},)"
    R"({"name":"proxy","image":"envoy","resources":{"limits":{"nvidia.com/gpu":"1"}},"restartPolicy":"Always"}],)"
    R"("containers":[{"name":"worker","image":"ghcr.io/aidi/worker:0.1","args":["run","--op","prep"],)"
    R"("resources":{"limits":{"nvidia.com/gpu":"2"},"requests":{"cpu":"4","memory":"16Gi","nvidia.com/gpu":2}},)"
    R"("terminationMessagePath":"/dev/termination-log","imagePullPolicy":"IfNotPresent"}],)"
    R"("restartPolicy":"Never","schedulerName":"aidi-scheduler","securityContext":{},)"
    R"("tolerations":[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}],"priority":0},)"
    R"("status":{"phase":"Pending","qosClass":"Burstable"}})";

// A GPU node as the scheduler's informer holds it, with the bulky parts a real one has.
std::string NodeJson(int i) {
  const std::string name = "gpu-node-" + std::to_string(i);
  std::string images;
  for (int k = 0; k < 20; ++k) {
    if (k > 0) images += ",";
    images += R"({"names":["registry.example.com/team/image-)" + std::to_string(k) +
              R"(@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",)"
              R"("registry.example.com/team/image-)" +
              std::to_string(k) + R"(:v1.2.3"],"sizeBytes":123456789})";
  }
  return R"({"metadata":{"name":")" + name + R"(","uid":"c0ffee00-0000-4000-8000-)" +
         std::to_string(100000000000 + i) +
         R"(","resourceVersion":"987","creationTimestamp":"2025-01-01T00:00:00Z",)"
         R"("labels":{"kubernetes.io/hostname":")" +
         name +
         R"(","kubernetes.io/os":"linux","aidi.dev/site":"cloud-a",)"
         R"("nvidia.com/gpu.product":"NVIDIA-A100-SXM4-80GB","nvidia.com/gpu.memory":"81920",)"
         R"("nvidia.com/gpu.count":"8","topology.kubernetes.io/zone":"zone-1"},)"
         R"("annotations":{"node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"}},)"
         R"("spec":{"podCIDR":"10.0.0.0/24","podCIDRs":["10.0.0.0/24"],"providerID":"aws:///zone-1/i-0123"},)"
         R"("status":{"capacity":{"cpu":"96","memory":"1056000000Ki","nvidia.com/gpu":"8","pods":"110"},)"
         R"("allocatable":{"cpu":"95500m","memory":"1055000000Ki","nvidia.com/gpu":"8","pods":"110"},)"
         R"("conditions":[{"type":"MemoryPressure","status":"False","lastHeartbeatTime":"2025-01-01T00:00:00Z",)"
         R"("lastTransitionTime":"2025-01-01T00:00:00Z","reason":"KubeletHasSufficientMemory","message":"ok"},)"
         R"({"type":"Ready","status":"True","lastHeartbeatTime":"2025-01-01T00:00:00Z",)"
         R"("lastTransitionTime":"2025-01-01T00:00:00Z","reason":"KubeletReady","message":"kubelet is posting ready status"}],)"
         R"("addresses":[{"type":"InternalIP","address":"10.0.0.)" +
         std::to_string(i % 250) + R"("},{"type":"Hostname","address":")" + name +
         R"("}],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},)"
         R"("nodeInfo":{"machineID":"m","systemUUID":"s","bootID":"b","kernelVersion":"6.1.0",)"
         R"("osImage":"Debian GNU/Linux 12","containerRuntimeVersion":"containerd://1.7.0",)"
         R"("kubeletVersion":"v1.32.0","kubeProxyVersion":"v1.32.0","operatingSystem":"linux",)"
         R"("architecture":"amd64"},"images":[)" +
         images + "]}}";
}

std::string NodeNamesArgs(int n) {
  std::string names;
  for (int i = 0; i < n; ++i) {
    if (i > 0) names += ",";
    names += "\"gpu-node-" + std::to_string(i) + "\"";
  }
  return std::string(R"({"Pod":)") + kPod + R"(,"Nodes":null,"NodeNames":[)" + names + "]}";
}

std::string NodesArgs(int n) {
  std::string items;
  for (int i = 0; i < n; ++i) {
    if (i > 0) items += ",";
    items += NodeJson(i);
  }
  return std::string(R"({"Pod":)") + kPod + R"(,"Nodes":{"metadata":{},"items":[)" + items +
         R"(]},"NodeNames":null})";
}

std::string ErrorOf(std::string_view body) {
  auto args = DecodeExtenderArgs(body);
  EXPECT_FALSE(args.ok()) << body;
  if (args.ok()) return "";
  EXPECT_EQ(args.status().code(), StatusCode::kInvalidArgument);
  return args.status().message();
}

// --- decoding: the two forms ---

TEST(DecodeExtenderArgsTest, NodeNamesFormAsKubeSchedulerSendsIt) {
  auto args = DecodeExtenderArgs(NodeNamesArgs(3));
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ(args->form(), NodeForm::kNodeNames);
  EXPECT_FALSE(args->nodes.has_value());
  ASSERT_TRUE(args->node_names.has_value());
  EXPECT_THAT(*args->node_names, ElementsAre("gpu-node-0", "gpu-node-1", "gpu-node-2"));
  EXPECT_THAT(args->CandidateNames(), ElementsAre("gpu-node-0", "gpu-node-1", "gpu-node-2"));

  const ExtenderPod& pod = args->pod;
  EXPECT_EQ(pod.name, "train-prep-1");
  EXPECT_EQ(pod.namespace_, "ml");
  EXPECT_EQ(pod.uid, "5f0c1a2e-7d1b-4c1e-9a51-0b1f3c2d4e5f");
  EXPECT_EQ(pod.scheduler_name, "aidi-scheduler");
  EXPECT_THAT(pod.labels, UnorderedElementsAre(Pair("aidi.dev/pipeline", "train"),
                                               Pair("aidi.dev/stage", "prep")));
  EXPECT_EQ(pod.annotations.at("aidi.dev/demand"),
            R"({"gpus":2,"gpuModel":"NVIDIA-A100-SXM4-80GB","workGpuSeconds":3600})");
  EXPECT_EQ(pod.annotations.at("note"), "a < b && c");

  ASSERT_EQ(pod.containers.size(), 1u);
  EXPECT_EQ(pod.containers[0].name, "worker");
  EXPECT_THAT(pod.containers[0].limits, ElementsAre(Pair("nvidia.com/gpu", "2")));
  // A number is a quantity too (resource.Quantity accepts one); kept as written.
  EXPECT_THAT(pod.containers[0].requests,
              ElementsAre(Pair("cpu", "4"), Pair("memory", "16Gi"), Pair("nvidia.com/gpu", "2")));
  ASSERT_EQ(pod.init_containers.size(), 2u);
  EXPECT_EQ(pod.init_containers[0].name, "fetch");
  EXPECT_EQ(pod.init_containers[0].restart_policy, "");
  EXPECT_THAT(pod.init_containers[0].requests, ElementsAre(Pair("cpu", "100m")));
  EXPECT_EQ(pod.init_containers[1].restart_policy, "Always");
  EXPECT_THAT(pod.init_containers[1].limits, ElementsAre(Pair("nvidia.com/gpu", "1")));
}

TEST(DecodeExtenderArgsTest, NodesFormKeepsEachNodeAsReceived) {
  const std::string body = NodesArgs(2);
  auto args = DecodeExtenderArgs(body);
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ(args->form(), NodeForm::kNodes);
  EXPECT_FALSE(args->node_names.has_value());
  ASSERT_TRUE(args->nodes.has_value());
  ASSERT_EQ(args->nodes->size(), 2u);
  EXPECT_THAT(args->CandidateNames(), ElementsAre("gpu-node-0", "gpu-node-1"));

  const ExtenderNode& n = (*args->nodes)[1];
  EXPECT_EQ(n.name, "gpu-node-1");
  EXPECT_EQ(n.labels.at("nvidia.com/gpu.product"), "NVIDIA-A100-SXM4-80GB");
  EXPECT_EQ(n.labels.at("aidi.dev/site"), "cloud-a");
  EXPECT_EQ(n.capacity.at("nvidia.com/gpu"), "8");
  EXPECT_EQ(n.allocatable.at("cpu"), "95500m");
  EXPECT_THAT(n.conditions, ElementsAre(Pair("MemoryPressure", "False"), Pair("Ready", "True")));
  EXPECT_FALSE(n.unschedulable);
  EXPECT_EQ(n.raw_json, NodeJson(1));
  EXPECT_EQ((*args->nodes)[0].raw_json, NodeJson(0));
}

TEST(DecodeExtenderArgsTest, EmptyCandidateLists) {
  // nodeCacheCapable with no nodes: a non-nil empty slice.
  auto names = DecodeExtenderArgs(std::string(R"({"Pod":)") + kPod + R"(,"NodeNames":[]})");
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  EXPECT_EQ(names->form(), NodeForm::kNodeNames);
  EXPECT_TRUE(names->node_names->empty());

  // Otherwise &v1.NodeList{} with nil Items: "items":null.
  auto nodes = DecodeExtenderArgs(std::string(R"({"Pod":)") + kPod +
                                  R"(,"Nodes":{"metadata":{},"items":null},"NodeNames":null})");
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  EXPECT_EQ(nodes->form(), NodeForm::kNodes);
  EXPECT_TRUE(nodes->nodes->empty());
  EXPECT_TRUE(nodes->CandidateNames().empty());

  auto no_items = DecodeExtenderArgs(std::string(R"({"Pod":)") + kPod + R"(,"Nodes":{}})");
  ASSERT_TRUE(no_items.ok()) << no_items.status().ToString();
  EXPECT_TRUE(no_items->nodes->empty());
}

TEST(DecodeExtenderArgsTest, BothFormsSentNodeNamesWins) {
  auto args = DecodeExtenderArgs(std::string(R"({"Pod":)") + kPod +
                                 R"(,"Nodes":{"items":[{"metadata":{"name":"a"}}]},)"
                                 R"("NodeNames":["b"]})");
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ(args->form(), NodeForm::kNodeNames);
  EXPECT_THAT(args->CandidateNames(), ElementsAre("b"));
}

// --- decoding: names in any case, unknown fields, null ---

TEST(DecodeExtenderArgsTest, FieldNamesMatchInAnyCase) {
  const std::string body =
      R"({"pod":{"Metadata":{"NAME":"p","NameSpace":"ns","labels":{"App":"x"}},)"
      R"("SPEC":{"Containers":[{"Resources":{"Limits":{"nvidia.com/gpu":"1"}}}]}},)"
      R"("nodenames":["n1"]})";
  auto args = DecodeExtenderArgs(body);
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ(args->pod.name, "p");
  EXPECT_EQ(args->pod.namespace_, "ns");
  // Map keys are data, not field names: kept exactly.
  EXPECT_THAT(args->pod.labels, ElementsAre(Pair("App", "x")));
  ASSERT_EQ(args->pod.containers.size(), 1u);
  EXPECT_THAT(args->pod.containers[0].limits, ElementsAre(Pair("nvidia.com/gpu", "1")));
  EXPECT_THAT(*args->node_names, ElementsAre("n1"));

  auto upper = DecodeExtenderArgs(
      R"({"POD":{"metadata":{"name":"p","namespace":"ns"}},"NODES":{"ITEMS":[{"METADATA":{"NAME":"n"}}]}})");
  ASSERT_TRUE(upper.ok()) << upper.status().ToString();
  EXPECT_THAT(upper->CandidateNames(), ElementsAre("n"));

  // Case folding is for letters only: "Node_Names" is another field (ignored).
  EXPECT_THAT(ErrorOf(R"({"Pod":{"metadata":{"name":"p","namespace":"ns"}},"Node_Names":[]})"),
              HasSubstr("one of NodeNames or Nodes is required"));
}

TEST(DecodeExtenderArgsTest, UnknownFieldsAreIgnored) {
  auto args = DecodeExtenderArgs(
      R"({"Kind":"ExtenderArgs","Pod":{"apiVersion":"v1","metadata":{"name":"p","namespace":"ns",)"
      R"("extra":{"deep":[1,{"x":null}]}},"spec":{"nodeSelector":{"a":"b"},"affinity":{}},)"
      R"("status":{"conditions":[]}},"NodeNames":["n"],"Future":{"a":[true,false,null,1.5e3]}})");
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_THAT(*args->node_names, ElementsAre("n"));
}

TEST(DecodeExtenderArgsTest, NullFields) {
  const std::string pod = R"({"metadata":{"name":"p","namespace":"ns"}})";
  // "Nodes": null with names, and "NodeNames": null with nodes: the null one is absent.
  auto names = DecodeExtenderArgs(R"({"Pod":)" + pod + R"(,"Nodes":null,"NodeNames":["a"]})");
  ASSERT_TRUE(names.ok());
  EXPECT_FALSE(names->nodes.has_value());
  auto nodes = DecodeExtenderArgs(
      R"({"Pod":)" + pod + R"(,"Nodes":{"items":[{"metadata":{"name":"a"}}]},"NodeNames":null})");
  ASSERT_TRUE(nodes.ok());
  EXPECT_FALSE(nodes->node_names.has_value());
  EXPECT_EQ(nodes->form(), NodeForm::kNodes);

  // Both null (or absent): nothing to filter.
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"Nodes":null,"NodeNames":null})"),
            "ExtenderArgs: one of NodeNames or Nodes is required (both are null or absent)");
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + "}"),
            "ExtenderArgs: one of NodeNames or Nodes is required (both are null or absent)");

  // No pod.
  EXPECT_EQ(ErrorOf(R"({"Pod":null,"NodeNames":["a"]})"), "ExtenderArgs.Pod: required");
  EXPECT_EQ(ErrorOf(R"({"NodeNames":["a"]})"), "ExtenderArgs.Pod: required");
  EXPECT_EQ(ErrorOf("null"), "ExtenderArgs.Pod: required");
  EXPECT_EQ(ErrorOf(R"({"Pod":{},"NodeNames":["a"]})"), "ExtenderArgs.Pod.metadata.name: required");
  EXPECT_EQ(ErrorOf(R"({"Pod":{"metadata":{"name":"p"}},"NodeNames":["a"]})"),
            "ExtenderArgs.Pod.metadata.namespace: required");

  // Inside the pod, null is what encoding/json makes of it: strings and structs unchanged,
  // maps and lists emptied, a null quantity "0", a null map value "".
  auto inner = DecodeExtenderArgs(
      R"({"Pod":{"metadata":{"name":"p","namespace":"ns","uid":null,"labels":null,)"
      R"("annotations":{"a":null}},"spec":null},"NodeNames":["a"]})");
  ASSERT_TRUE(inner.ok()) << inner.status().ToString();
  EXPECT_EQ(inner->pod.uid, "");
  EXPECT_TRUE(inner->pod.labels.empty());
  EXPECT_THAT(inner->pod.annotations, ElementsAre(Pair("a", "")));
  auto containers = DecodeExtenderArgs(
      R"({"Pod":{"metadata":{"name":"p","namespace":"ns"},"spec":{"containers":[null,)"
      R"({"resources":{"requests":{"nvidia.com/gpu":null},"limits":null}}],"initContainers":null}},)"
      R"("NodeNames":["a"]})");
  ASSERT_TRUE(containers.ok()) << containers.status().ToString();
  ASSERT_EQ(containers->pod.containers.size(), 2u);
  EXPECT_THAT(containers->pod.containers[1].requests, ElementsAre(Pair("nvidia.com/gpu", "0")));
  EXPECT_TRUE(containers->pod.init_containers.empty());

  // A node name that is null or empty names nothing.
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"NodeNames":["a",null]})"),
            "ExtenderArgs.NodeNames[1]: must be a non-empty node name");
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"NodeNames":[""]})"),
            "ExtenderArgs.NodeNames[0]: must be a non-empty node name");
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"Nodes":{"items":[{"metadata":{"name":"a"}},null]}})"),
            "ExtenderArgs.Nodes.items[1].metadata.name: required");
}

TEST(DecodeExtenderArgsTest, RepeatedFieldsDecodeInOrder) {
  // encoding/json decodes each occurrence into the same field: the last list wins, a later
  // object merges into the earlier one, a later null clears.
  auto args = DecodeExtenderArgs(
      R"({"Pod":{"metadata":{"name":"p","labels":{"a":"1"}}},"NodeNames":["x"],)"
      R"("pod":{"metadata":{"namespace":"ns","labels":{"b":"2"}}},"nodenames":["y","z"]})");
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ(args->pod.name, "p");
  EXPECT_EQ(args->pod.namespace_, "ns");
  EXPECT_THAT(args->pod.labels, ElementsAre(Pair("a", "1"), Pair("b", "2")));
  EXPECT_THAT(*args->node_names, ElementsAre("y", "z"));

  EXPECT_EQ(ErrorOf(R"({"Pod":{"metadata":{"name":"p","namespace":"ns"}},"NodeNames":["x"],)"
                    R"("NodeNames":null})"),
            "ExtenderArgs: one of NodeNames or Nodes is required (both are null or absent)");
}

// --- decoding: wrong types and malformed JSON ---

TEST(DecodeExtenderArgsTest, WrongTypesNameThePath) {
  const std::string pod = R"({"metadata":{"name":"p","namespace":"ns"}})";
  EXPECT_EQ(ErrorOf(R"({"Pod":{"metadata":{"name":5}},"NodeNames":[]})"),
            "ExtenderArgs.Pod.metadata.name: must be a string");
  EXPECT_EQ(ErrorOf(R"({"Pod":"p","NodeNames":[]})"), "ExtenderArgs.Pod: must be an object");
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"NodeNames":"a"})"),
            "ExtenderArgs.NodeNames: must be an array");
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"NodeNames":["a",1]})"),
            "ExtenderArgs.NodeNames[1]: must be a string");
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"Nodes":[]})"),
            "ExtenderArgs.Nodes: must be an object");
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"Nodes":{"items":{}}})"),
            "ExtenderArgs.Nodes.items: must be an array");
  EXPECT_EQ(ErrorOf(R"({"Pod":)" + pod + R"(,"Nodes":{"items":["a"]}})"),
            "ExtenderArgs.Nodes.items[0]: must be an object");
  EXPECT_EQ(
      ErrorOf(
          R"({"Pod":)" + pod +
          R"(,"Nodes":{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b","labels":{"zone":1}}}]}})"),
      R"(ExtenderArgs.Nodes.items[1].metadata.labels["zone"]: must be a string)");
  EXPECT_EQ(
      ErrorOf(R"({"Pod":)" + pod +
              R"(,"Nodes":{"items":[{"metadata":{"name":"a"},"spec":{"unschedulable":"yes"}}]}})"),
      "ExtenderArgs.Nodes.items[0].spec.unschedulable: must be a boolean");
  EXPECT_EQ(
      ErrorOf(
          R"({"Pod":)" + pod +
          R"(,"Nodes":{"items":[{"metadata":{"name":"a"},"status":{"allocatable":{"nvidia.com/gpu":[1]}}}]}})"),
      R"(ExtenderArgs.Nodes.items[0].status.allocatable["nvidia.com/gpu"]: must be a quantity (a string or a number))");
  EXPECT_EQ(
      ErrorOf(R"({"Pod":)" + pod +
              R"(,"Nodes":{"items":[{"metadata":{"name":"a"},"status":{"conditions":{}}}]}})"),
      "ExtenderArgs.Nodes.items[0].status.conditions: must be an array");
  EXPECT_EQ(
      ErrorOf(
          R"({"Pod":{"metadata":{"name":"p","namespace":"ns","annotations":{"aidi.dev/demand":{}}}},"NodeNames":[]})"),
      R"(ExtenderArgs.Pod.metadata.annotations["aidi.dev/demand"]: must be a string)");
  EXPECT_EQ(
      ErrorOf(
          R"({"Pod":{"metadata":{"name":"p","namespace":"ns"},"spec":{"containers":{}}},"NodeNames":[]})"),
      "ExtenderArgs.Pod.spec.containers: must be an array");
  EXPECT_EQ(
      ErrorOf(
          R"({"Pod":{"metadata":{"name":"p","namespace":"ns"},"spec":{"initContainers":[{},{"resources":{"limits":{"nvidia.com/gpu":true}}}]}},"NodeNames":[]})"),
      R"(ExtenderArgs.Pod.spec.initContainers[1].resources.limits["nvidia.com/gpu"]: must be a quantity (a string or a number))");
  EXPECT_EQ(ErrorOf("[]"), "ExtenderArgs: must be an object");
  EXPECT_EQ(ErrorOf("\"ExtenderArgs\""), "ExtenderArgs: must be an object");
}

TEST(DecodeExtenderArgsTest, MalformedJsonIsAnErrorWithOffset) {
  EXPECT_EQ(ErrorOf(""), "ExtenderArgs: invalid JSON at offset 0: unexpected end of JSON input");
  EXPECT_EQ(ErrorOf(R"({"Pod":{"metadata":{"name":"p",}}})"),
            "ExtenderArgs.Pod.metadata: invalid JSON at offset 31: invalid character '}' "
            "looking for beginning of object key string");
  EXPECT_EQ(ErrorOf(R"({"Pod":{"metadata":{"name":"p","namespace":"n"}},"NodeNames":["a",]})"),
            "ExtenderArgs.NodeNames[1]: invalid JSON at offset 66: invalid character ']' "
            "looking for beginning of value");
  EXPECT_THAT(ErrorOf(R"({"Pod":{"metadata":{"name":"p","namespace":"n"}},"NodeNames":["a"]} x)"),
              HasSubstr("invalid character 'x' after top-level value"));
  EXPECT_THAT(
      ErrorOf(
          R"({"Pod":{"metadata":{"name":"p","namespace":"n","x":"\ud800"}},"NodeNames":["a"]})"),
      HasSubstr("unpaired high surrogate"));
  EXPECT_THAT(ErrorOf("{\"Pod\":{\"metadata\":{\"name\":\"\xff\"}}}"),
              HasSubstr("invalid UTF-8 in string"));
  // Truncated anywhere: an error, never a crash.
  const std::string full = NodesArgs(2);
  for (std::size_t n = 0; n < full.size(); n += 7) {
    EXPECT_FALSE(DecodeExtenderArgs(std::string_view(full).substr(0, n)).ok()) << n;
  }
}

TEST(DecodeExtenderArgsTest, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = R"({"Pod":{"metadata":{"name":"p","namespace":"n","x":)" +
                           std::string(100000, '[') + std::string(100000, ']') +
                           R"(}},"NodeNames":["a"]})";
  EXPECT_THAT(ErrorOf(deep), HasSubstr("exceeded max depth"));
  const std::string ok = R"({"Pod":{"metadata":{"name":"p","namespace":"n","x":)" +
                         std::string(1000, '[') + std::string(1000, ']') +
                         R"(}},"NodeNames":["a"]})";
  EXPECT_TRUE(DecodeExtenderArgs(ok).ok());
}

// --- decoding: large inputs (timings printed, not asserted) ---

template <typename F>
double MillisecondsPerRun(int runs, F&& f) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) f();
  const std::chrono::duration<double, std::milli> d = std::chrono::steady_clock::now() - start;
  return d.count() / runs;
}

TEST(DecodeExtenderArgsTest, LargeRequests) {
  const std::string names_body = NodeNamesArgs(5000);
  auto names = DecodeExtenderArgs(names_body);
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  ASSERT_EQ(names->node_names->size(), 5000u);
  EXPECT_EQ(names->node_names->back(), "gpu-node-4999");

  const std::string nodes_body = NodesArgs(1000);
  auto nodes = DecodeExtenderArgs(nodes_body);
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  ASSERT_EQ(nodes->nodes->size(), 1000u);
  EXPECT_EQ(nodes->nodes->back().raw_json, NodeJson(999));

  const double names_ms = MillisecondsPerRun(10, [&] { (void)DecodeExtenderArgs(names_body); });
  const double nodes_ms = MillisecondsPerRun(3, [&] { (void)DecodeExtenderArgs(nodes_body); });
  const double dom_ms = MillisecondsPerRun(1, [&] {
    const nlohmann::json dom = nlohmann::json::parse(nodes_body);
    EXPECT_TRUE(dom.is_object());
  });
  std::printf(
      "[timing] DecodeExtenderArgs: 5000 NodeNames (%zu KiB) %.2f ms; 1000 Nodes (%zu KiB) "
      "%.2f ms; nlohmann::json::parse of the same 1000 Nodes %.2f ms\n",
      names_body.size() / 1024, names_ms, nodes_body.size() / 1024, nodes_ms, dom_ms);
}

// --- encoding ---

ExtenderArgs NamesRequest(std::vector<std::string> names) {
  ExtenderArgs args;
  args.pod = ExtenderPod{.name = "p", .namespace_ = "ns"};
  args.node_names = std::move(names);
  return args;
}

TEST(EncodeFilterResultTest, NodeNamesFormExactBytes) {
  const ExtenderArgs request = NamesRequest({"a", "b", "c", "d"});
  ExtenderFilterResult result;
  result.passed = {"c", "a"};
  result.failed_nodes = {{"d", "2 GPUs free, 4 requested"}, {"b", "site <edge-1> & co"}};
  result.failed_and_unresolvable_nodes = {};
  auto body = EncodeFilterResult(result, request);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  // What json.Marshal(extenderv1.ExtenderFilterResult{NodeNames: &[]string{"c","a"},
  // FailedNodes: {...}, FailedAndUnresolvableNodes: FailedNodesMap{}}) writes.
  EXPECT_EQ(
      *body,
      R"({"Nodes":null,"NodeNames":["c","a"],)"
      R"("FailedNodes":{"b":"site \u003cedge-1\u003e \u0026 co","d":"2 GPUs free, 4 requested"},)"
      R"("FailedAndUnresolvableNodes":{},"Error":""})");
  EXPECT_TRUE(nlohmann::json::accept(*body));

  ExtenderFilterResult none;
  EXPECT_EQ(
      *EncodeFilterResult(none, request),
      R"({"Nodes":null,"NodeNames":[],"FailedNodes":{},"FailedAndUnresolvableNodes":{},"Error":""})");
}

TEST(EncodeFilterResultTest, NodesFormEchoesTheNodeObjects) {
  const std::string body = NodesArgs(3);
  auto request = DecodeExtenderArgs(body);
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ExtenderFilterResult result;
  result.passed = {"gpu-node-2", "gpu-node-0"};
  result.failed_and_unresolvable_nodes = {{"gpu-node-1", "cordoned"}};
  auto out = EncodeFilterResult(result, *request);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, R"({"Nodes":{"metadata":{},"items":[)" + NodeJson(2) + "," + NodeJson(0) +
                      R"(]},"NodeNames":null,"FailedNodes":{},)"
                      R"("FailedAndUnresolvableNodes":{"gpu-node-1":"cordoned"},"Error":""})");
  const auto parsed = nlohmann::json::parse(*out);
  EXPECT_EQ(parsed["Nodes"]["items"][0], nlohmann::json::parse(NodeJson(2)));

  ExtenderFilterResult none;
  EXPECT_EQ(*EncodeFilterResult(none, *request),
            R"({"Nodes":{"metadata":{},"items":[]},"NodeNames":null,"FailedNodes":{},)"
            R"("FailedAndUnresolvableNodes":{},"Error":""})");
}

TEST(EncodeFilterResultTest, OnlyCandidatesMayPass) {
  ExtenderFilterResult result;
  result.passed = {"z"};
  auto names = EncodeFilterResult(result, NamesRequest({"a"}));
  EXPECT_EQ(names.status().code(), StatusCode::kInternal);
  EXPECT_EQ(names.status().message(), R"(ExtenderFilterResult: node "z" was not a candidate)");

  auto request = DecodeExtenderArgs(NodesArgs(1));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(EncodeFilterResult(result, *request).status().code(), StatusCode::kInternal);

  // Candidate order is the fast check; any other order of true candidates passes too, and a
  // stranger after them is still caught.
  result.passed = {"c", "a"};
  auto reordered = EncodeFilterResult(result, NamesRequest({"a", "b", "c"}));
  ASSERT_TRUE(reordered.ok()) << reordered.status().message();
  EXPECT_NE(reordered->find(R"("NodeNames":["c","a"])"), std::string::npos);
  result.passed = {"a", "c", "d"};
  EXPECT_EQ(EncodeFilterResult(result, NamesRequest({"a", "b", "c"})).status().message(),
            R"(ExtenderFilterResult: node "d" was not a candidate)");
}

TEST(EncodeFilterResultTest, RepeatedReasonsAreEscapedEachTime) {
  ExtenderFilterResult result;
  result.failed_nodes = {{"a", "GPU <model> \"x\""},
                         {"b", "GPU <model> \"x\""},
                         {"c", "other"},
                         {"d", "GPU <model> \"x\""}};
  auto encoded = EncodeFilterResult(result, NamesRequest({"a", "b", "c", "d"}));
  ASSERT_TRUE(encoded.ok());
  const std::string quoted = R"("GPU \u003cmodel\u003e \"x\"")";
  EXPECT_NE(encoded->find(R"("a":)" + quoted + R"(,"b":)" + quoted + R"(,"c":"other","d":)" +
                          quoted + "}"),
            std::string::npos)
      << *encoded;
}

TEST(EncodeFilterResultTest, ErrorAnswer) {
  EXPECT_EQ(EncodeFilterError("ledger not synced"),
            R"({"Nodes":null,"NodeNames":null,"FailedNodes":null,)"
            R"("FailedAndUnresolvableNodes":null,"Error":"ledger not synced"})");
  ExtenderFilterResult result;
  result.error = "boom";
  EXPECT_EQ(
      *EncodeFilterResult(result, NamesRequest({"a"})),
      R"({"Nodes":null,"NodeNames":[],"FailedNodes":{},"FailedAndUnresolvableNodes":{},"Error":"boom"})");
}

TEST(EncodeHostPriorityListTest, ExactBytes) {
  EXPECT_EQ(EncodeHostPriorityList({{"a", kMaxExtenderPriority}, {"b", 0}, {"c\"", 7}}),
            R"([{"Host":"a","Score":10},{"Host":"b","Score":0},{"Host":"c\"","Score":7}])");
  EXPECT_EQ(EncodeHostPriorityList({}), "[]");
  EXPECT_EQ(EncodeHostPriorityList({{"x", -9223372036854775807LL - 1}}),
            R"([{"Host":"x","Score":-9223372036854775808}])");
}

TEST(EncodeBindingResultTest, ExactBytes) {
  EXPECT_EQ(EncodeBindingResult(""), R"({"Error":""})");
  EXPECT_EQ(EncodeBindingResult("pods \"p\" not found"), R"({"Error":"pods \"p\" not found"})");
  EXPECT_EQ(EncodeErrorBody("ExtenderArgs.Pod: required"),
            R"({"Error":"ExtenderArgs.Pod: required"})");
}

TEST(GoJsonQuoteTest, EscapesAsGoDoes) {
  EXPECT_EQ(GoJsonQuote(""), R"("")");
  EXPECT_EQ(GoJsonQuote("plain ascii"), R"("plain ascii")");
  EXPECT_EQ(GoJsonQuote("q\" b\\ /"), R"("q\" b\\ /")");
  EXPECT_EQ(GoJsonQuote("<a&b>"), R"("\u003ca\u0026b\u003e")");
  EXPECT_EQ(GoJsonQuote("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(GoJsonQuote(std::string("\x00\x01\x1f\x7f", 4)), "\"\\u0000\\u0001\\u001f\x7f\"");
  EXPECT_EQ(GoJsonQuote("caf\xc3\xa9 \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  EXPECT_EQ(GoJsonQuote("\xe2\x80\xa8\xe2\x80\xa9"), R"("\u2028\u2029")");
  EXPECT_EQ(GoJsonQuote("a\xff"
                        "b\xc3"),
            R"("a\ufffdb\ufffd")");
  EXPECT_EQ(GoJsonQuote("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // an encoded surrogate
}

// --- bind ---

TEST(DecodeExtenderBindingArgsTest, AsKubeSchedulerSendsIt) {
  auto args = DecodeExtenderBindingArgs(
      R"({"PodName":"train-prep-1","PodNamespace":"ml","PodUID":"5f0c","Node":"gpu-node-3"})");
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ(args->pod_name, "train-prep-1");
  EXPECT_EQ(args->pod_namespace, "ml");
  EXPECT_EQ(args->pod_uid, "5f0c");
  EXPECT_EQ(args->node, "gpu-node-3");

  auto lower = DecodeExtenderBindingArgs(
      R"({"podname":"p","podNamespace":"ns","poduid":null,"NODE":"n","Extra":[1]})");
  ASSERT_TRUE(lower.ok()) << lower.status().ToString();
  EXPECT_EQ(lower->pod_name, "p");
  EXPECT_EQ(lower->pod_uid, "");
  EXPECT_EQ(lower->node, "n");
}

TEST(DecodeExtenderBindingArgsTest, Errors) {
  EXPECT_EQ(DecodeExtenderBindingArgs(R"({"PodNamespace":"ns","Node":"n"})").status().message(),
            "ExtenderBindingArgs.PodName: required");
  EXPECT_EQ(DecodeExtenderBindingArgs(R"({"PodName":"p","Node":"n"})").status().message(),
            "ExtenderBindingArgs.PodNamespace: required");
  EXPECT_EQ(DecodeExtenderBindingArgs(R"({"PodName":"p","PodNamespace":"ns","Node":""})")
                .status()
                .message(),
            "ExtenderBindingArgs.Node: required");
  EXPECT_EQ(DecodeExtenderBindingArgs(R"({"PodName":"p","PodNamespace":"ns","Node":["n"]})")
                .status()
                .message(),
            "ExtenderBindingArgs.Node: must be a string");
  auto bad = DecodeExtenderBindingArgs(R"({"PodName":"p")");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "ExtenderBindingArgs: invalid JSON at offset 14: unexpected end of JSON input");
}

}  // namespace
}  // namespace aidi::extender
