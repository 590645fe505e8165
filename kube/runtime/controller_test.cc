// Controller unit tests that need no server: how owned objects map to owner keys, and Action.
// The loop itself is proven against aidi-devcluster in tests/kube/controller_integration_test.cc.
#include "kube/runtime/controller.h"

#include <gtest/gtest.h>

namespace aidi::kube {
namespace {

const ResourceRef kPipelines{"aidi.dev", "v1alpha1", "pipelines", "Pipeline", true};

nlohmann::json Child(nlohmann::json owner_refs, const std::string& ns = "team") {
  return {{"metadata", {{"name", "c"}, {"namespace", ns}, {"ownerReferences", owner_refs}}}};
}

TEST(ControllerOwnerKeys, ControllerOwnerOfThePrimaryKindInTheChildsNamespace) {
  auto keys = ControllerOwnerKeys(Child({{{"apiVersion", "aidi.dev/v1alpha1"},
                                          {"kind", "Pipeline"},
                                          {"name", "p"},
                                          {"uid", "u"},
                                          {"controller", true}}}),
                                  kPipelines);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], (ObjectKey{"team", "p"}));
}

TEST(ControllerOwnerKeys, IgnoresNonControllersOtherKindsAndOtherGroups) {
  auto keys = ControllerOwnerKeys(
      Child({{{"apiVersion", "aidi.dev/v1alpha1"}, {"kind", "Pipeline"}, {"name", "plain-owner"}},
             {{"apiVersion", "apps/v1"},
              {"kind", "ReplicaSet"},
              {"name", "rs"},
              {"controller", true}},
             {{"apiVersion", "other.dev/v1"},
              {"kind", "Pipeline"},
              {"name", "x"},
              {"controller", true}}}),
      kPipelines);
  EXPECT_TRUE(keys.empty());
}

TEST(ControllerOwnerKeys, AnyVersionOfTheGroupCounts) {
  auto keys = ControllerOwnerKeys(Child({{{"apiVersion", "aidi.dev/v1beta1"},
                                          {"kind", "Pipeline"},
                                          {"name", "p"},
                                          {"controller", true}}}),
                                  kPipelines);
  EXPECT_EQ(keys.size(), 1u);
}

TEST(ControllerOwnerKeys, ClusterScopedOwnersHaveNoNamespace) {
  const ResourceRef sites{"aidi.dev", "v1alpha1", "edgesites", "EdgeSite", false};
  auto keys = ControllerOwnerKeys(Child({{{"apiVersion", "aidi.dev/v1alpha1"},
                                          {"kind", "EdgeSite"},
                                          {"name", "s"},
                                          {"controller", true}}}),
                                  sites);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], (ObjectKey{"", "s"}));
}

TEST(ControllerOwnerKeys, MalformedObjectsGiveNoKeys) {
  EXPECT_TRUE(ControllerOwnerKeys(nlohmann::json::object(), kPipelines).empty());
  EXPECT_TRUE(ControllerOwnerKeys({{"metadata", {{"ownerReferences", "x"}}}}, kPipelines).empty());
  EXPECT_TRUE(ControllerOwnerKeys(Child({1, "two"}), kPipelines).empty());
}

TEST(Action, RequeueAfterCarriesTheDelayAndAwaitChangeNone) {
  EXPECT_EQ(Action::RequeueAfter(std::chrono::seconds(3)).requeue_after(),
            std::chrono::milliseconds(3000));
  EXPECT_FALSE(Action::AwaitChange().requeue_after().has_value());
  EXPECT_EQ(Action::AwaitChange(), Action::AwaitChange());
  EXPECT_FALSE(Action::AwaitChange() == Action::RequeueAfter(std::chrono::milliseconds(1)));
}

}  // namespace
}  // namespace aidi::kube
