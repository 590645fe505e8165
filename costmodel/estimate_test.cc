#include "costmodel/estimate.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "costmodel/test_util.h"

namespace aidi::costmodel {
namespace {

using testing::kA100;
using testing::kH100;
using testing::kL4;
using testing::MakeNode;
using testing::MakeSite;

class EstimateTest : public ::testing::Test {
 protected:
  EstimateTest()
      : sites_({MakeSite("cloud-fra", SiteType::kCloud, 10, 10000, 0.09,
                         {{kH100, 4.5}, {kA100, 3.0}, {kL4, 0.8}}),
                MakeSite("edge-munich", SiteType::kEdge, 40, 100, 0.02, {{kL4, 0.6}}),
                MakeSite("edge-far", SiteType::kEdge, 80, 50, 0),
                Maintenance(MakeSite("edge-closed", SiteType::kEdge, 5, 1000, 0)),
                MakeSite("onprem", SiteType::kOnPrem, 5, 0, 0)}),
        estimator_(sites_, ThroughputTable::BuiltIn()) {}

  static Site Maintenance(Site s) {
    s.maintenance = true;
    return s;
  }

  NodeEstimate One(const Demand& d, const NodeOffer& n) const {
    return estimator_.EstimateOne(d, n);
  }

  SiteDirectory sites_;
  Estimator estimator_;
};

Demand OneGpu(double work = 3600) { return testing::GpuDemand(1, work, Objective::kBalanced); }

TEST_F(EstimateTest, FeasibleNodeGetsRunTimeAndMoney) {
  NodeEstimate e = One(OneGpu(), MakeNode("h1", "cloud-fra", kH100, 8, 8));
  EXPECT_TRUE(e.feasible());
  EXPECT_EQ(e.reason, FilterReason::kFeasible);
  EXPECT_DOUBLE_EQ(e.throughput, 2.5);
  EXPECT_DOUBLE_EQ(e.price_per_gpu_hour, 4.5);  // from the site's cost.gpuHour
  EXPECT_DOUBLE_EQ(e.compute_seconds, 1440);    // 3600 reference seconds / 2.5
  EXPECT_DOUBLE_EQ(e.run_seconds, 1440);
  EXPECT_DOUBLE_EQ(e.transfer_seconds, 0);
  EXPECT_DOUBLE_EQ(e.finish_seconds, 1440);
  EXPECT_DOUBLE_EQ(e.money, 4.5 * 0.4);
  EXPECT_DOUBLE_EQ(e.latency_ms, 10);
}

TEST_F(EstimateTest, MaintenanceOfNodeOrSite) {
  NodeOffer node = MakeNode("n1", "cloud-fra", kH100, 8, 8);
  node.maintenance = true;
  NodeEstimate e = One(OneGpu(), node);
  EXPECT_EQ(e.reason, FilterReason::kMaintenance);
  EXPECT_EQ(FilterMessage(e, node, OneGpu()), "node n1 is in maintenance");

  NodeOffer at_closed = MakeNode("n2", "edge-closed", kH100, 8, 8);
  e = One(OneGpu(), at_closed);
  EXPECT_EQ(e.reason, FilterReason::kMaintenance);
  EXPECT_EQ(FilterMessage(e, at_closed, OneGpu()), "site edge-closed is in maintenance");
  EXPECT_TRUE(IsUnresolvable(FilterReason::kMaintenance));
}

TEST_F(EstimateTest, SiteNotAllowed) {
  Demand d = OneGpu();
  d.allowed_sites = std::vector<std::string>{"cloud-fra", "onprem"};
  NodeOffer edge = MakeNode("e1", "edge-munich", kL4, 1, 1);
  NodeEstimate e = One(d, edge);
  EXPECT_EQ(e.reason, FilterReason::kSiteNotAllowed);
  EXPECT_EQ(FilterMessage(e, edge, d),
            "site edge-munich is not allowed (allowed: cloud-fra, onprem)");
  EXPECT_TRUE(One(d, MakeNode("c1", "cloud-fra", kL4, 1, 1)).feasible());

  NodeOffer siteless = MakeNode("s1", "", kL4, 1, 1);
  e = One(d, siteless);
  EXPECT_EQ(e.reason, FilterReason::kSiteNotAllowed);
  EXPECT_EQ(FilterMessage(e, siteless, d), "node has no site (allowed: cloud-fra, onprem)");

  // Set and empty: nothing fits (placement mode Cloud without any Cloud site).
  d.allowed_sites = std::vector<std::string>{};
  e = One(d, MakeNode("c1", "cloud-fra", kL4, 1, 1));
  EXPECT_EQ(e.reason, FilterReason::kSiteNotAllowed);
  EXPECT_EQ(FilterMessage(e, edge, d),
            "no site is allowed (no site matches the stage's placement)");

  // Unset: any site, and nodes without one.
  d.allowed_sites.reset();
  EXPECT_TRUE(One(d, siteless).feasible());
  EXPECT_TRUE(IsUnresolvable(FilterReason::kSiteNotAllowed));
}

TEST_F(EstimateTest, LatencyAboveTheMaximum) {
  Demand d = OneGpu();
  d.max_latency_ms = 50;
  NodeOffer far = MakeNode("f1", "edge-far", kL4, 1, 1);
  NodeEstimate e = One(d, far);
  EXPECT_EQ(e.reason, FilterReason::kLatencyTooHigh);
  EXPECT_EQ(FilterMessage(e, far, d), "link latency 80 ms exceeds maxLatencyMs 50");
  EXPECT_TRUE(One(d, MakeNode("m1", "edge-munich", kL4, 1, 1)).feasible());  // 40 ms
  d.max_latency_ms = 80;                                                     // equal passes
  EXPECT_TRUE(One(d, far).feasible());
  d.max_latency_ms = 0;  // only latency-free nodes: those without a site
  EXPECT_TRUE(One(d, MakeNode("s1", "", kL4, 1, 1)).feasible());
  EXPECT_TRUE(IsUnresolvable(FilterReason::kLatencyTooHigh));
}

TEST_F(EstimateTest, GpuModelMismatch) {
  Demand d = OneGpu();
  d.gpu_model = kH100;
  NodeOffer l4 = MakeNode("l1", "cloud-fra", kL4, 4, 4);
  NodeEstimate e = One(d, l4);
  EXPECT_EQ(e.reason, FilterReason::kGpuModelMismatch);
  EXPECT_EQ(FilterMessage(e, l4, d), "GPU model NVIDIA-L4 is not NVIDIA-H100-80GB-HBM3");

  NodeOffer unlabelled = MakeNode("u1", "cloud-fra", "", 4, 4);
  e = One(d, unlabelled);
  EXPECT_EQ(e.reason, FilterReason::kGpuModelMismatch);
  EXPECT_EQ(FilterMessage(e, unlabelled, d),
            "node has no GPU model label, needs NVIDIA-H100-80GB-HBM3");
  // Exact match only, like the pod's nodeSelector on nvidia.com/gpu.product.
  d.gpu_model = "NVIDIA-H100";
  EXPECT_EQ(One(d, MakeNode("h1", "cloud-fra", kH100, 1, 1)).reason,
            FilterReason::kGpuModelMismatch);
  EXPECT_TRUE(IsUnresolvable(FilterReason::kGpuModelMismatch));
}

TEST_F(EstimateTest, TooFewGpusOnTheNode) {
  Demand d = testing::GpuDemand(4, 3600, Objective::kBalanced);
  NodeOffer two = MakeNode("t1", "cloud-fra", kA100, 2, 2);
  NodeEstimate e = One(d, two);
  EXPECT_EQ(e.reason, FilterReason::kTooFewGpus);
  EXPECT_EQ(FilterMessage(e, two, d), "needs 4 GPUs, node has 2");

  NodeOffer cpu = MakeNode("c1", "cloud-fra", "", 0, 0);
  e = One(OneGpu(), cpu);
  EXPECT_EQ(e.reason, FilterReason::kTooFewGpus);
  EXPECT_EQ(FilterMessage(e, cpu, OneGpu()), "needs 1 GPU, node has none");
  EXPECT_TRUE(IsUnresolvable(FilterReason::kTooFewGpus));
}

TEST_F(EstimateTest, GpuMemoryTooSmallWithMarketingSlack) {
  Demand d = OneGpu();
  d.gpu_memory_gib = 40;
  NodeOffer l4 = MakeNode("l1", "cloud-fra", kL4, 1, 1, 22.5);
  NodeEstimate e = One(d, l4);
  EXPECT_EQ(e.reason, FilterReason::kGpuMemoryTooSmall);
  EXPECT_EQ(FilterMessage(e, l4, d), "GPU memory 22.5 GiB is below 40 GiB");
  // A "24 GB" L4 reports 22.5 GiB and an "80 GB" H100 79.6 GiB: both pass their marketed size.
  d.gpu_memory_gib = 24;
  EXPECT_TRUE(One(d, l4).feasible());
  d.gpu_memory_gib = 80;
  EXPECT_TRUE(One(d, MakeNode("h1", "cloud-fra", kH100, 1, 1, 81559.0 / 1024)).feasible());
  // Unknown memory (no nvidia.com/gpu.memory label) is not held against the node.
  EXPECT_TRUE(One(d, MakeNode("x1", "cloud-fra", kH100, 1, 1, 0)).feasible());
  EXPECT_TRUE(IsUnresolvable(FilterReason::kGpuMemoryTooSmall));
}

TEST_F(EstimateTest, GpusBusyIsTheOnlyTransientReason) {
  Demand d = testing::GpuDemand(2, 3600, Objective::kBalanced);
  NodeOffer busy = MakeNode("b1", "cloud-fra", kA100, 4, 1);
  NodeEstimate e = One(d, busy);
  EXPECT_EQ(e.reason, FilterReason::kGpusBusy);
  EXPECT_EQ(FilterMessage(e, busy, d), "needs 2 GPUs, 1 free");
  EXPECT_FALSE(IsUnresolvable(FilterReason::kGpusBusy));
  EXPECT_FALSE(IsUnresolvable(FilterReason::kFeasible));
  EXPECT_EQ(FilterMessage(One(d, MakeNode("ok", "cloud-fra", kA100, 4, 2)), busy, d), "");
}

TEST_F(EstimateTest, FirstFailingFilterWins) {
  Demand d = testing::GpuDemand(2, 3600, Objective::kBalanced);
  d.gpu_model = kH100;
  d.max_latency_ms = 10;
  NodeOffer n = MakeNode("n", "edge-far", kL4, 1, 0);  // latency, model, count, busy all fail
  EXPECT_EQ(One(d, n).reason, FilterReason::kLatencyTooHigh);
  d.max_latency_ms.reset();
  EXPECT_EQ(One(d, n).reason, FilterReason::kGpuModelMismatch);
  d.gpu_model.clear();
  EXPECT_EQ(One(d, n).reason, FilterReason::kTooFewGpus);
  n.total_gpus = 4;
  EXPECT_EQ(One(d, n).reason, FilterReason::kGpusBusy);
  n.maintenance = true;
  EXPECT_EQ(One(d, n).reason, FilterReason::kMaintenance);
}

TEST_F(EstimateTest, ReasonNames) {
  EXPECT_EQ(FilterReasonName(FilterReason::kFeasible), "Feasible");
  EXPECT_EQ(FilterReasonName(FilterReason::kMaintenance), "Maintenance");
  EXPECT_EQ(FilterReasonName(FilterReason::kSiteNotAllowed), "SiteNotAllowed");
  EXPECT_EQ(FilterReasonName(FilterReason::kLatencyTooHigh), "LatencyTooHigh");
  EXPECT_EQ(FilterReasonName(FilterReason::kGpuModelMismatch), "GpuModelMismatch");
  EXPECT_EQ(FilterReasonName(FilterReason::kTooFewGpus), "TooFewGpus");
  EXPECT_EQ(FilterReasonName(FilterReason::kGpuMemoryTooSmall), "GpuMemoryTooSmall");
  EXPECT_EQ(FilterReasonName(FilterReason::kGpusBusy), "GpusBusy");
}

TEST_F(EstimateTest, CpuOnlyStageIgnoresGpuFilters) {
  Demand d;
  d.work_gpu_seconds = 600;
  d.cpu_cores = 4;
  d.gpu_model = kH100;  // ignored without GPUs
  NodeOffer cpu = MakeNode("c1", "edge-closed", "", 0, 0);
  cpu.site = "onprem";
  NodeEstimate e = One(d, cpu);
  EXPECT_TRUE(e.feasible());
  EXPECT_DOUBLE_EQ(e.compute_seconds, 600);  // wall seconds, no GPU speed-up
  EXPECT_DOUBLE_EQ(e.money, 0);              // onprem has no cpuCoreHour

  Site priced = MakeSite("cpu-site", SiteType::kCloud, 0, 0, 0);
  priced.cpu_core_hour = 0.05;
  SiteDirectory dir({priced});
  Estimator est(dir, ThroughputTable::BuiltIn());
  cpu.site = "cpu-site";
  e = est.EstimateOne(d, cpu);
  EXPECT_DOUBLE_EQ(e.money, 4 * 0.05 * 600.0 / 3600);
}

TEST(PlanTransferTest, NarrowerLinkAndBothLatencies) {
  Link edge{.latency_ms = 40, .bandwidth_mbps = 100, .egress_per_gb = 0.02};
  Link cloud{.latency_ms = 10, .bandwidth_mbps = 10000, .egress_per_gb = 0.09};
  // 1 GB = 8e9 bits over 100 Mbps = 80 s, plus 40 + 10 ms.
  Transfer t = PlanTransfer(1e9, &edge, &cloud);
  EXPECT_DOUBLE_EQ(t.seconds, 80.05);
  EXPECT_DOUBLE_EQ(t.egress_money, 0.11);
  // Either direction: the narrower link limits.
  EXPECT_DOUBLE_EQ(PlanTransfer(1e9, &cloud, &edge).seconds, 80.05);
  // From or to the hub: one link.
  EXPECT_DOUBLE_EQ(PlanTransfer(1e9, nullptr, &edge).seconds, 80.04);
  EXPECT_DOUBLE_EQ(PlanTransfer(1e9, &cloud, nullptr).seconds, 0.8 + 0.01);
  EXPECT_DOUBLE_EQ(PlanTransfer(1e9, &cloud, nullptr).egress_money, 0.09);
  // Hub to hub, or nothing to move: free and instant.
  EXPECT_DOUBLE_EQ(PlanTransfer(1e9, nullptr, nullptr).seconds, 0);
  EXPECT_DOUBLE_EQ(PlanTransfer(0, &edge, &cloud).seconds, 0);
  EXPECT_DOUBLE_EQ(PlanTransfer(0, &edge, &cloud).egress_money, 0);
}

TEST(PlanTransferTest, ZeroOrUnsetBandwidthDoesNotLimit) {
  Link unset{.latency_ms = 20, .bandwidth_mbps = 0, .egress_per_gb = 0};
  Link slow{.latency_ms = 0, .bandwidth_mbps = 8, .egress_per_gb = 0};
  EXPECT_DOUBLE_EQ(PlanTransfer(1e9, &unset, nullptr).seconds, 0.02);  // latency only
  EXPECT_DOUBLE_EQ(PlanTransfer(1e6, &unset, &slow).seconds, 1.02);
  Link negative{.latency_ms = -5, .bandwidth_mbps = -100, .egress_per_gb = -1};
  Transfer t = PlanTransfer(1e9, &negative, &negative);
  EXPECT_DOUBLE_EQ(t.seconds, 0);
  EXPECT_DOUBLE_EQ(t.egress_money, 0);
  Link nan{
      .latency_ms = std::nan(""), .bandwidth_mbps = std::nan(""), .egress_per_gb = std::nan("")};
  t = PlanTransfer(1e9, &nan, &slow);
  EXPECT_DOUBLE_EQ(t.seconds, 1000);
  EXPECT_DOUBLE_EQ(t.egress_money, 0);
  // Absurd sizes over a trickle stay finite.
  Link trickle{.latency_ms = 0, .bandwidth_mbps = 1e-300, .egress_per_gb = 1e300};
  t = PlanTransfer(1e18, &trickle, nullptr);
  EXPECT_TRUE(std::isfinite(t.seconds));
  EXPECT_TRUE(std::isfinite(t.egress_money));
}

TEST_F(EstimateTest, TransferSecondsUseTheNarrowerOfTheTwoSitesLinks) {
  Demand d = OneGpu();
  d.input_bytes = 1'000'000'000;
  d.input_site = "edge-munich";
  NodeEstimate e = One(d, MakeNode("h1", "cloud-fra", kH100, 1, 1));
  EXPECT_DOUBLE_EQ(e.transfer_seconds, 80.05);
  EXPECT_DOUBLE_EQ(e.finish_seconds, 80.05 + 1440);
  // Same site: nothing moves.
  e = One(d, MakeNode("m1", "edge-munich", kL4, 1, 1));
  EXPECT_DOUBLE_EQ(e.transfer_seconds, 0);
  EXPECT_DOUBLE_EQ(e.egress_money, 0);
  // Input in the cloud hub, node at the edge: only the edge link.
  d.input_site.clear();
  e = One(d, MakeNode("m1", "edge-munich", kL4, 1, 1));
  EXPECT_DOUBLE_EQ(e.transfer_seconds, 80.04);
  EXPECT_DOUBLE_EQ(e.egress_money, 0.02);
  // An inputSite nobody described counts as the hub.
  d.input_site = "nowhere";
  EXPECT_DOUBLE_EQ(One(d, MakeNode("m1", "edge-munich", kL4, 1, 1)).transfer_seconds, 80.04);
}

TEST_F(EstimateTest, MoneyIsGpuTimeAtTheNodesPricePlusEgress) {
  Demand d = OneGpu();
  d.input_bytes = 10'000'000'000;  // 10 GB
  d.input_site = "edge-munich";
  NodeEstimate e = One(d, MakeNode("h1", "cloud-fra", kH100, 1, 1));
  EXPECT_DOUBLE_EQ(e.compute_money, 1.8);                  // 4.5 $/h for 0.4 h
  EXPECT_NEAR(e.egress_money, 10 * (0.02 + 0.09), 1e-12);  // both links crossed
  EXPECT_NEAR(e.money, 1.8 + 1.1, 1e-12);

  // The node's own price wins over the site's table.
  NodeOffer discounted = MakeNode("h2", "cloud-fra", kH100, 1, 1);
  discounted.price_per_gpu_hour = 2.0;
  EXPECT_DOUBLE_EQ(One(OneGpu(), discounted).money, 0.8);
  // No price anywhere: free (on-prem hardware already paid for).
  EXPECT_DOUBLE_EQ(One(OneGpu(), MakeNode("o1", "onprem", kH100, 1, 1)).money, 0);
  EXPECT_DOUBLE_EQ(One(OneGpu(), MakeNode("x1", "unknown-site", kH100, 1, 1)).money, 0);
}

TEST_F(EstimateTest, WorkSplitsOverGpusAndQueueDelaysWithoutCost) {
  Demand two = testing::GpuDemand(2, 3600, Objective::kBalanced);
  NodeOffer node = MakeNode("a1", "cloud-fra", kA100, 8, 8);
  NodeEstimate e = One(two, node);
  EXPECT_DOUBLE_EQ(e.compute_seconds, 1800);
  EXPECT_DOUBLE_EQ(e.money, 2 * 3.0 * 0.5);  // same GPU-hours as one GPU for an hour
  node.queued_seconds = 600;
  e = One(two, node);
  EXPECT_DOUBLE_EQ(e.run_seconds, 2400);
  EXPECT_DOUBLE_EQ(e.finish_seconds, 2400);
  EXPECT_DOUBLE_EQ(e.money, 3.0);  // waiting is not billed
}

TEST_F(EstimateTest, NodeThroughputOverridesTheTable) {
  NodeOffer node = MakeNode("a1", "cloud-fra", kA100, 1, 1);
  node.throughput = 2.0;
  EXPECT_DOUBLE_EQ(One(OneGpu(), node).compute_seconds, 1800);
  node.throughput = 0;  // unusable: the table
  EXPECT_DOUBLE_EQ(One(OneGpu(), node).compute_seconds, 3600);

  ThroughputTable table = ThroughputTable::BuiltIn();
  ASSERT_TRUE(table.Set(kA100, 4.0).ok());
  Estimator custom(sites_, table);
  node.throughput.reset();
  EXPECT_DOUBLE_EQ(custom.EstimateOne(OneGpu(), node).compute_seconds, 900);
}

TEST_F(EstimateTest, DegenerateInputsStayFinite) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Demand d;
  d.gpus = -3;  // counts as 0: a CPU-only stage
  d.work_gpu_seconds = kNaN;
  d.cpu_cores = -1;
  d.input_bytes = -100;
  d.gpu_memory_gib = kInf;
  d.max_latency_ms = kNaN;  // no limit
  NodeOffer n = MakeNode("n", "edge-far", kL4, -1, -5, kNaN);
  n.queued_seconds = kInf;
  n.price_per_gpu_hour = -4;
  n.throughput = kNaN;
  NodeEstimate e = One(d, n);
  EXPECT_TRUE(e.feasible());
  for (double v :
       {e.throughput, e.price_per_gpu_hour, e.latency_ms, e.transfer_seconds, e.compute_seconds,
        e.run_seconds, e.finish_seconds, e.compute_money, e.egress_money, e.money}) {
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_GE(v, 0);
  }
  EXPECT_DOUBLE_EQ(e.compute_seconds, 0);

  // Zero work: nothing to compute or pay for but the move.
  Demand zero = OneGpu(0);
  zero.input_bytes = 1'000'000'000;
  e = One(zero, MakeNode("h1", "cloud-fra", kH100, 1, 1));
  EXPECT_DOUBLE_EQ(e.compute_seconds, 0);
  EXPECT_DOUBLE_EQ(e.compute_money, 0);
  EXPECT_DOUBLE_EQ(e.money, 0.09);
  // A tiny throughput override cannot divide by zero.
  NodeOffer slow = MakeNode("s1", "cloud-fra", kH100, 1, 1);
  slow.throughput = 1e-320;
  e = One(OneGpu(), slow);
  EXPECT_TRUE(std::isfinite(e.compute_seconds));
  EXPECT_TRUE(std::isfinite(e.money));
}

TEST_F(EstimateTest, EstimateAllMatchesEstimateOneAndReusesTheVector) {
  Demand d = OneGpu();
  d.input_bytes = 5'000'000'000;
  d.input_site = "edge-munich";
  d.allowed_sites = std::vector<std::string>{"cloud-fra", "edge-munich", "ghost"};
  std::vector<NodeOffer> nodes = {
      MakeNode("h1", "cloud-fra", kH100, 8, 2), MakeNode("m1", "edge-munich", kL4, 1, 1),
      MakeNode("f1", "edge-far", kL4, 1, 1),    MakeNode("g1", "ghost", kA100, 1, 1),
      MakeNode("s1", "", kA100, 1, 1),          MakeNode("b1", "cloud-fra", kA100, 1, 0)};
  std::vector<NodeEstimate> out;
  estimator_.EstimateAll(d, nodes, &out);
  ASSERT_EQ(out.size(), nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    NodeEstimate one = One(d, nodes[i]);
    EXPECT_EQ(out[i].reason, one.reason) << nodes[i].name;
    EXPECT_DOUBLE_EQ(out[i].transfer_seconds, one.transfer_seconds) << nodes[i].name;
    EXPECT_DOUBLE_EQ(out[i].money, one.money) << nodes[i].name;
    EXPECT_DOUBLE_EQ(out[i].finish_seconds, one.finish_seconds) << nodes[i].name;
  }
  EXPECT_EQ(out[2].reason, FilterReason::kSiteNotAllowed);
  EXPECT_TRUE(out[3].feasible());  // a site the directory does not know, but allowed by name
  EXPECT_EQ(out[4].reason, FilterReason::kSiteNotAllowed);
  EXPECT_EQ(out[5].reason, FilterReason::kGpusBusy);

  const NodeEstimate* data = out.data();
  estimator_.EstimateAll(d, std::span(nodes).first(3), &out);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(out.data(), data);  // no reallocation
  estimator_.EstimateAll(d, std::span<const NodeOffer>{}, &out);
  EXPECT_TRUE(out.empty());
}

TEST_F(EstimateTest, OfferRefsEstimateAsCopiesWithTheirFreeGpusAndAnyHint) {
  Demand d = OneGpu();
  d.gpus = 2;
  d.input_bytes = 5'000'000'000;
  d.input_site = "edge-munich";
  std::vector<NodeOffer> nodes = {
      MakeNode("h1", "cloud-fra", kH100, 8, 8), MakeNode("m1", "edge-munich", kL4, 4, 4),
      MakeNode("g1", "ghost", kA100, 4, 4), MakeNode("s1", "", kA100, 4, 4)};
  // The refs say fewer GPUs are free than the offers do, and carry right, stale and absent hints.
  const int free_now[] = {1, 4, 2, 0};
  const int hints[] = {-1, 7, 0, 99};
  std::vector<OfferRef> refs;
  std::vector<NodeOffer> copies = nodes;
  for (size_t i = 0; i < nodes.size(); ++i) {
    refs.push_back({&nodes[i], free_now[i], hints[i]});
    copies[i].free_gpus = free_now[i];
  }
  refs[1].site_hint = sites_.IndexOf("edge-munich");
  ASSERT_GE(refs[1].site_hint, 0);
  refs[0].site_hint = refs[1].site_hint;  // wrong site: must fall back to the search

  std::vector<NodeEstimate> by_ref;
  std::vector<NodeEstimate> by_copy;
  estimator_.EstimateAll(d, refs, &by_ref);
  estimator_.EstimateAll(d, copies, &by_copy);
  ASSERT_EQ(by_ref.size(), by_copy.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(by_ref[i].reason, by_copy[i].reason) << nodes[i].name;
    EXPECT_DOUBLE_EQ(by_ref[i].transfer_seconds, by_copy[i].transfer_seconds) << nodes[i].name;
    EXPECT_DOUBLE_EQ(by_ref[i].money, by_copy[i].money) << nodes[i].name;
    EXPECT_DOUBLE_EQ(by_ref[i].latency_ms, by_copy[i].latency_ms) << nodes[i].name;
  }
  EXPECT_EQ(by_ref[0].reason, FilterReason::kGpusBusy);  // 1 free of 8: the ref's count rules
  EXPECT_TRUE(by_ref[1].feasible());
  EXPECT_EQ(by_ref[3].reason, FilterReason::kGpusBusy);
  EXPECT_EQ(sites_.IndexOf("no-such-site"), -1);
  EXPECT_EQ(sites_.Find("edge-munich", 12345), sites_.Find("edge-munich"));
}

}  // namespace
}  // namespace aidi::costmodel

namespace aidi::costmodel {
namespace {

// SameFilterMessage lets callers reuse messages: whenever it says "same", FilterMessage must
// say the same words, for every reason and every mix of the fields it ignores.
TEST(SameFilterMessageTest, SameMeansTheSameWords) {
  std::vector<NodeOffer> nodes;
  const char* sites[] = {"", "edge-a", "edge-b"};
  const char* models[] = {"", "NVIDIA-L4", "NVIDIA-H100-80GB-HBM3"};
  int n = 0;
  for (const char* site : sites) {
    for (const char* model : models) {
      for (int total = 0; total <= 2; ++total) {
        for (double memory : {0.0, 22.5, 80.0}) {
          NodeOffer o = testing::MakeNode("n" + std::to_string(n++), site, model, total, total);
          o.gpu_memory_gib = memory;
          o.maintenance = n % 5 == 0;
          nodes.push_back(o);
        }
      }
    }
  }
  Demand d;
  d.gpus = 2;
  d.gpu_model = "NVIDIA-H100-80GB-HBM3";
  d.gpu_memory_gib = 40;
  d.allowed_sites = std::vector<std::string>{"edge-a"};
  d.max_latency_ms = 20;
  const FilterReason reasons[] = {FilterReason::kMaintenance,    FilterReason::kSiteNotAllowed,
                                  FilterReason::kLatencyTooHigh, FilterReason::kGpuModelMismatch,
                                  FilterReason::kTooFewGpus,     FilterReason::kGpuMemoryTooSmall,
                                  FilterReason::kGpusBusy};
  int same = 0;
  for (FilterReason r : reasons) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (size_t j = 0; j < nodes.size(); j += 3) {
        const int free_i = static_cast<int>(i % 3);
        const int free_j = static_cast<int>(j % 3);
        const double lat_i = 10.0 * static_cast<double>(i % 4);
        const double lat_j = 10.0 * static_cast<double>(j % 4);
        if (!SameFilterMessage(r, nodes[i], free_i, lat_i, nodes[j], free_j, lat_j)) continue;
        ++same;
        NodeEstimate ei;
        ei.reason = r;
        ei.latency_ms = lat_i;
        NodeEstimate ej = ei;
        ej.latency_ms = lat_j;
        NodeOffer a = nodes[i];
        a.free_gpus = free_i;
        NodeOffer b = nodes[j];
        b.free_gpus = free_j;
        EXPECT_EQ(FilterMessage(ei, a, d), FilterMessage(ej, b, d))
            << FilterReasonName(r) << " " << a.name << " " << b.name;
      }
    }
  }
  EXPECT_GT(same, 1000);  // it does find sharing, not only identical nodes
  // A node in maintenance is named, so it shares with nobody, not even itself.
  NodeOffer down = nodes[4];
  ASSERT_TRUE(down.maintenance);
  EXPECT_FALSE(SameFilterMessage(FilterReason::kMaintenance, down, 0, 0, down, 0, 0));
}

}  // namespace
}  // namespace aidi::costmodel
