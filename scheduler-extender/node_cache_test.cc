#include "scheduler-extender/node_cache.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kube/runtime/projection.h"
#include "scheduler-extender/test_util.h"

namespace aidi::extender {
namespace {

using nlohmann::json;
using testing::NodeObject;
using testing::PodObject;
using testing::SiteObject;

TEST(NodeCache, NodeOfferFromLabelsAllocatableAndSite) {
  NodeCache cache;
  cache.ApplyNode(NodeObject("n1", "edge-a", "NVIDIA-L4", 4, 23034, /*cordoned=*/true));
  {
    auto r = cache.Read();
    const auto* e = r.Find("n1");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->offer.site, "edge-a");
    EXPECT_EQ(e->offer.gpu_model, "NVIDIA-L4");
    EXPECT_EQ(e->offer.total_gpus, 4);
    EXPECT_NEAR(e->offer.gpu_memory_gib, 22.49, 0.01);
    EXPECT_TRUE(e->offer.maintenance);  // cordoned
    EXPECT_DOUBLE_EQ(*e->offer.price_per_gpu_hour, 0);
    EXPECT_DOUBLE_EQ(*e->offer.throughput, 0.3);
    EXPECT_EQ(r.Find("n2"), nullptr);
  }
  // The site arrives later: its price reaches the node; it goes: the price is 0 again.
  cache.ApplySite(SiteObject("edge-a", "Edge", 20, 100, 0.05, {{"NVIDIA-L4", 0.8}}));
  {
    auto r = cache.Read();
    EXPECT_DOUBLE_EQ(*r.Find("n1")->offer.price_per_gpu_hour, 0.8);
    ASSERT_NE(r.sites()->Find("edge-a"), nullptr);
    EXPECT_DOUBLE_EQ(r.sites()->Find("edge-a")->link.latency_ms, 20);
    EXPECT_EQ(r.currency(), "USD");
  }
  cache.DeleteSite("edge-a");
  EXPECT_DOUBLE_EQ(*cache.Read().Find("n1")->offer.price_per_gpu_hour, 0);
  cache.DeleteNode("n1");
  EXPECT_EQ(cache.Read().Find("n1"), nullptr);
  EXPECT_EQ(cache.node_count(), 0u);
}

TEST(NodeCache, CountsGpusOfBoundPodsThatHaveNotTerminated) {
  NodeCache cache;
  cache.ApplyNode(NodeObject("n1", "", "NVIDIA-A100-SXM4-80GB", 8));
  cache.ApplyPod(PodObject("default", "a", "ua", "n1", 2));
  cache.ApplyPod(PodObject("default", "b", "ub", "n1", 1, "Pending"));
  cache.ApplyPod(PodObject("default", "c", "uc", "", 4, "Pending"));      // not bound
  cache.ApplyPod(PodObject("default", "d", "ud", "n1", 4, "Succeeded"));  // terminated
  ASSERT_TRUE(cache.UsageOf("n1").has_value());
  EXPECT_EQ(cache.UsageOf("n1")->total, 8);
  EXPECT_EQ(cache.UsageOf("n1")->used, 3);
  cache.ApplyPod(PodObject("default", "a", "ua", "n1", 2, "Failed"));
  EXPECT_EQ(cache.UsageOf("n1")->used, 1);
  cache.DeletePod(PodObject("default", "b", "ub", "n1", 1));
  EXPECT_EQ(cache.UsageOf("n1")->used, 0);
}

TEST(NodeCache, PodsSeenBeforeTheirNodeStillCount) {
  NodeCache cache;
  cache.ApplyPod(PodObject("default", "a", "ua", "n1", 2));
  EXPECT_FALSE(cache.UsageOf("n1").has_value());
  EXPECT_EQ(cache.Read().UsedOn("n1"), 2);
  cache.ApplyNode(NodeObject("n1", "", "", 4));
  EXPECT_EQ(cache.UsageOf("n1")->used, 2);
  cache.DeleteNode("n1");
  EXPECT_EQ(cache.Read().UsedOn("n1"), 2);
  cache.DeletePod(PodObject("default", "a", "ua", "n1", 2));
  EXPECT_EQ(cache.Read().UsedOn("n1"), 0);
}

TEST(NodeCache, TellsListenersWhenAPodIsBoundOrGone) {
  NodeCache cache;
  std::vector<std::string> settled;
  int id = cache.AddPodListener([&](const std::string& uid) { settled.push_back(uid); });
  cache.ApplyPod(PodObject("default", "a", "ua", "", 1, "Pending"));
  EXPECT_TRUE(settled.empty());
  cache.ApplyPod(PodObject("default", "a", "ua", "n1", 1, "Pending"));
  cache.DeletePod(PodObject("default", "b", "ub", "", 1));
  EXPECT_EQ(settled, (std::vector<std::string>{"ua", "ub"}));
  cache.RemovePodListener(id);
  cache.DeletePod(PodObject("default", "a", "ua", "n1", 1));
  EXPECT_EQ(settled.size(), 2u);
}

TEST(NodeCache, IllTypedFieldsCountAsUnset) {
  NodeCache cache;
  auto node = NodeObject("n1", "s", "m", 2);
  node["status"]["allocatable"]["nvidia.com/gpu"] = json::object();
  node["metadata"]["labels"]["nvidia.com/gpu.memory"] = "lots";
  cache.ApplyNode(node);
  EXPECT_EQ(cache.UsageOf("n1")->total, 0);
  auto site = SiteObject("s", "Edge", 10, 0, 0, {});
  site["spec"]["link"]["latencyMs"] = "fast";
  site["spec"]["cost"]["gpuHour"] = {{"m", "cheap"}};
  cache.ApplySite(site);
  EXPECT_DOUBLE_EQ(cache.Read().sites()->Find("s")->link.latency_ms, 0);
  cache.ApplyNode(json::object());  // no name: ignored
  EXPECT_EQ(cache.node_count(), 1u);
}

TEST(NodeCache, SyncedOnlyWhenMarkedOrWatched) {
  NodeCache cache;
  EXPECT_FALSE(cache.synced());
  cache.MarkSynced();
  EXPECT_TRUE(cache.synced());
}

}  // namespace
}  // namespace aidi::extender
