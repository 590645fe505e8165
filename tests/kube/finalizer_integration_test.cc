// The finalizer helper against the real aidi-devcluster, with a ConfigMap as the finalized
// object: the whole add / apply / delete / cleanup / remove flow, and the `test` preconditions
// that keep concurrent finalizer changes safe.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "kube/client/api.h"
#include "kube/core/resource.h"
#include "kube/runtime/finalizer.h"
#include "tests/kube/devcluster_test.h"

namespace aidi::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const char kFinalizer[] = "aidi.dev/cleanup";

class FinalizerIT : public testing::DevclusterTest {
 protected:
  void SetUp() override {
    DevclusterTest::SetUp();
    if (HasFatalFailure()) return;
    api_ = std::make_unique<Api>(client_, resources::kConfigMaps, "default");
  }

  nlohmann::json Create(const std::string& name, nlohmann::json finalizers = nullptr) {
    nlohmann::json cm = {{"apiVersion", "v1"},
                         {"kind", "ConfigMap"},
                         {"metadata", {{"name", name}}},
                         {"data", {{"k", "v"}}}};
    if (!finalizers.is_null()) cm["metadata"]["finalizers"] = finalizers;
    auto created = api_->Create(cm);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? *created : nlohmann::json();
  }
  nlohmann::json Get(const std::string& name) {
    auto got = api_->Get(name);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? *got : nlohmann::json();
  }
  // One reconcile of the current object, as a controller would run it.
  StatusOr<Action> Reconcile(const std::string& name) {
    return Finalize(*api_, kFinalizer, Get(name), counting(applied_), counting(cleaned_));
  }
  FinalizerFn counting(int& calls) {
    return [&calls](const nlohmann::json&) -> StatusOr<Action> {
      ++calls;
      return Action::AwaitChange();
    };
  }

  std::unique_ptr<Api> api_;
  int applied_ = 0;
  int cleaned_ = 0;
};

TEST_F(FinalizerIT, AddApplyDeleteCleanupRemove) {
  Create("flow");
  // First reconcile: the finalizer goes on, apply waits for the next round.
  auto action = Reconcile("flow");
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(applied_, 0);
  EXPECT_EQ(Get("flow")["metadata"]["finalizers"], nlohmann::json::array({kFinalizer}));
  ASSERT_TRUE(Reconcile("flow").ok());
  EXPECT_EQ(applied_, 1);

  // Delete: the finalizer holds the object, with a deletionTimestamp.
  ASSERT_TRUE(api_->Delete("flow").ok());
  nlohmann::json deleting = Get("flow");
  ASSERT_TRUE(IsBeingDeleted(deleting)) << deleting.dump();
  EXPECT_TRUE(HasFinalizer(deleting, kFinalizer));

  action = Reconcile("flow");
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(cleaned_, 1);
  EXPECT_EQ(applied_, 1);
  // Our entry was the last one: the object goes.
  auto deadline = std::chrono::steady_clock::now() + seconds(5);
  std::optional<nlohmann::json> left;
  do {
    auto got = api_->GetIfExists("flow");
    ASSERT_TRUE(got.ok());
    left = *got;
    if (left) std::this_thread::sleep_for(milliseconds(10));
  } while (left && std::chrono::steady_clock::now() < deadline);
  EXPECT_FALSE(left.has_value()) << left->dump();
}

TEST_F(FinalizerIT, AnotherControllersAddMakesOurAddFail) {
  nlohmann::json stale = Create("race-add", {"other.io/x"});
  ASSERT_TRUE(
      api_->Patch("race-add", PatchType::kJson,
                  {{{"op", "add"}, {"path", "/metadata/finalizers/-"}, {"value", "third.io/y"}}})
          .ok());
  auto action = Finalize(*api_, kFinalizer, stale, counting(applied_), counting(cleaned_));
  ASSERT_FALSE(action.ok());
  EXPECT_TRUE(action.status().IsConflict()) << action.status().ToString();
  EXPECT_EQ(Get("race-add")["metadata"]["finalizers"],
            nlohmann::json::array({"other.io/x", "third.io/y"}));
  // The retry, with a fresh read, succeeds.
  ASSERT_TRUE(Reconcile("race-add").ok());
  EXPECT_EQ(Get("race-add")["metadata"]["finalizers"],
            nlohmann::json::array({"other.io/x", "third.io/y", kFinalizer}));
}

TEST_F(FinalizerIT, AFirstAddOnAStaleVersionOverwritesNothing) {
  nlohmann::json stale = Create("race-first");
  ASSERT_TRUE(
      api_->Patch("race-first", PatchType::kMerge, {{"metadata", {{"finalizers", {"third.io/y"}}}}})
          .ok());
  auto added = AddFinalizer(*api_, kFinalizer, stale);
  ASSERT_FALSE(added.ok());
  EXPECT_TRUE(added.status().IsConflict()) << added.status().ToString();
  EXPECT_EQ(Get("race-first")["metadata"]["finalizers"], nlohmann::json::array({"third.io/y"}));
}

TEST_F(FinalizerIT, AConcurrentRemovalMakesOurRemovalFailAndRemoveNothing) {
  Create("race-remove", {"other.io/x", kFinalizer});
  ASSERT_TRUE(api_->Delete("race-remove").ok());
  nlohmann::json stale = Get("race-remove");  // ours at index 1
  ASSERT_TRUE(IsBeingDeleted(stale));
  // The other controller removes its entry first: ours moves to index 0.
  ASSERT_TRUE(
      api_->Patch("race-remove", PatchType::kJson,
                  {{{"op", "test"}, {"path", "/metadata/finalizers/0"}, {"value", "other.io/x"}},
                   {{"op", "remove"}, {"path", "/metadata/finalizers/0"}}})
          .ok());
  auto action = Finalize(*api_, kFinalizer, stale, counting(applied_), counting(cleaned_));
  ASSERT_FALSE(action.ok());
  EXPECT_TRUE(action.status().IsConflict()) << action.status().ToString();
  EXPECT_EQ(cleaned_, 1);
  EXPECT_EQ(Get("race-remove")["metadata"]["finalizers"], nlohmann::json::array({kFinalizer}));
  // The retry sees the fresh list, cleans up again (idempotent) and lets the object go.
  ASSERT_TRUE(Reconcile("race-remove").ok());
  EXPECT_EQ(cleaned_, 2);
  auto gone = api_->GetIfExists("race-remove");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

TEST_F(FinalizerIT, AFailedTestOpIsAnswered422Invalid) {
  // What the helpers map to Conflict: the server's answer to a failed JSON-patch `test`.
  Create("test-op", {"other.io/x"});
  auto patched = api_->Patch(
      "test-op", PatchType::kJson,
      {{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", {"something.else/z"}}},
       {{"op", "remove"}, {"path", "/metadata/finalizers/0"}}});
  ASSERT_FALSE(patched.ok());
  EXPECT_EQ(patched.status().code(), StatusCode::kInvalid) << patched.status().ToString();
  EXPECT_EQ(Get("test-op")["metadata"]["finalizers"], nlohmann::json::array({"other.io/x"}));
}

}  // namespace
}  // namespace aidi::kube
