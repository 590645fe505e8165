#include "scheduler-extender/demand.h"

#include <string>

#include <gtest/gtest.h>

#include "scheduler-extender/test_util.h"

namespace aidi::extender {
namespace {

using nlohmann::json;
using testing::PendingPod;
using testing::PodObject;

TEST(GpuQuantity, WholeNumbersOnly) {
  EXPECT_EQ(GpuQuantity("2"), 2);
  EXPECT_EQ(GpuQuantity("0"), 0);
  EXPECT_EQ(GpuQuantity(""), 0);
  EXPECT_EQ(GpuQuantity("1.5"), 0);
  EXPECT_EQ(GpuQuantity("2k"), 2000);  // whole, as Kubernetes reads it
  EXPECT_EQ(GpuQuantity("1e1"), 10);
  EXPECT_EQ(GpuQuantity("500m"), 0);
  EXPECT_EQ(GpuQuantity("-1"), 0);
  EXPECT_EQ(GpuQuantity("9999999999"), 0);  // above 2^31 - 1
}

TEST(PodGpuRequest, SchedulerRuleWithInitAndSidecarContainers) {
  ExtenderPod pod = PendingPod("p", 2);
  ExtenderContainer second;
  second.limits["nvidia.com/gpu"] = "1";  // limits stand in for requests
  pod.containers.push_back(second);
  EXPECT_EQ(PodGpuRequest(pod), 3);
  ExtenderContainer init;
  init.requests["nvidia.com/gpu"] = "4";
  pod.init_containers.push_back(init);
  EXPECT_EQ(PodGpuRequest(pod), 4);  // the largest init container beats the app's 3
  ExtenderContainer sidecar;
  sidecar.requests["nvidia.com/gpu"] = "1";
  sidecar.restart_policy = "Always";
  pod.init_containers.push_back(sidecar);
  EXPECT_EQ(PodGpuRequest(pod), 4);  // app 3 + sidecar 1 = 4; init 4
  ExtenderContainer late_init;
  late_init.requests["nvidia.com/gpu"] = "4";
  pod.init_containers.push_back(late_init);
  EXPECT_EQ(PodGpuRequest(pod), 5);  // started after the sidecar: 4 + 1

  json object = PodObject("default", "p", "u", "", 2);
  EXPECT_EQ(PodGpuRequest(object), 2);
  object["spec"]["initContainers"] = {{{"name", "i"},
                                       {"restartPolicy", "Always"},
                                       {"resources", {{"requests", {{"nvidia.com/gpu", 1}}}}}}};
  EXPECT_EQ(PodGpuRequest(object), 3);
}

TEST(ParseDemand, DefaultsComeFromThePod) {
  auto d = DemandOf(PendingPod("p", 2));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->gpus, 2);
  EXPECT_EQ(d->objective, costmodel::Objective::kBalanced);
  EXPECT_FALSE(d->allowed_sites.has_value());
  auto empty = DemandOf(PendingPod("p", 1, "{}"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->gpus, 1);
}

TEST(ParseDemand, EveryKey) {
  auto d = DemandOf(PendingPod("p", 1, R"({"gpus":2,"gpuModel":"NVIDIA-L4","gpuMemoryGiB":20,
      "workGpuSeconds":3600.5,"inputBytes":400000000000,"inputSite":"edge-munich",
      "objective":"MinCost","weights":{"cost":2,"time":1},"sites":["a","b"],
      "maxLatencyMs":50})"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->gpus, 2);
  EXPECT_EQ(d->gpu_model, "NVIDIA-L4");
  EXPECT_DOUBLE_EQ(d->gpu_memory_gib, 20);
  EXPECT_DOUBLE_EQ(d->work_gpu_seconds, 3600.5);
  EXPECT_EQ(d->input_bytes, 400000000000);
  EXPECT_EQ(d->input_site, "edge-munich");
  EXPECT_EQ(d->objective, costmodel::Objective::kMinCost);
  ASSERT_TRUE(d->weights.has_value());
  EXPECT_DOUBLE_EQ(d->weights->cost, 2);
  EXPECT_DOUBLE_EQ(d->weights->latency, 0);
  EXPECT_EQ(*d->allowed_sites, (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(*d->max_latency_ms, 50);
  auto none = DemandOf(PendingPod("p", 1, R"({"sites":[]})"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->allowed_sites->empty());
}

TEST(ParseDemand, UnknownKeysAreIgnored) {
  auto d = DemandOf(
      PendingPod("p", 1, R"({"gpus":3,"futureKey":{"x":1},"weights":{"cost":1,"carbon":5}})"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->gpus, 3);
  ASSERT_TRUE(d->weights.has_value());
  EXPECT_DOUBLE_EQ(d->weights->cost, 1);
}

TEST(ParseDemand, MalformedAnnotationsNameTheProblem) {
  struct Case {
    const char* annotation;
    const char* message;
  };
  const Case cases[] = {
      {"not json", "aidi.dev/demand: not valid JSON"},
      {"[1]", "aidi.dev/demand: must be a JSON object"},
      {R"({"gpus":"2"})", "aidi.dev/demand: gpus: must be a whole number"},
      {R"({"gpus":1.5})", "aidi.dev/demand: gpus: must be a whole number >= 0"},
      {R"({"gpus":-1})", "aidi.dev/demand: gpus: must be a whole number >= 0"},
      {R"({"gpuMemoryGiB":-3})", "aidi.dev/demand: gpuMemoryGiB: must be a finite number >= 0"},
      {R"({"objective":"Cheap"})",
       "aidi.dev/demand: objective: must be MinCost, MinTime or Balanced"},
      {R"({"sites":"a"})", "aidi.dev/demand: sites: must be a list of site names"},
      {R"({"sites":[1]})", "aidi.dev/demand: sites: must be a list of site names"},
      {R"({"inputSite":3})", "aidi.dev/demand: inputSite: must be a string"},
  };
  for (const Case& c : cases) {
    auto d = DemandOf(PendingPod("p", 1, c.annotation));
    ASSERT_FALSE(d.ok()) << c.annotation;
    EXPECT_EQ(d.status().message(), c.message) << c.annotation;
  }
  std::string deep(100000, '[');
  EXPECT_FALSE(DemandOf(PendingPod("p", 1, deep)).ok());
}

TEST(ParseDemand, FromAPodObject) {
  auto d = DemandOf(PodObject("default", "p", "u", "", 2, "Pending", R"({"gpuModel":"X"})"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->gpus, 2);
  EXPECT_EQ(d->gpu_model, "X");
}

}  // namespace
}  // namespace aidi::extender
