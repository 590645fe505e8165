#include "kube/runtime/finalizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "kube/core/resource.h"
#include "kube/runtime/testing/fake_api_server.h"

namespace aidi::kube {
namespace {

using std::chrono::minutes;
using testing::FakeApiServer;
using ::testing::HasSubstr;

const char kPath[] = "/api/v1/namespaces/shop/configmaps/cm";
const char kName[] = "aidi.dev/cleanup";

nlohmann::json ConfigMap(nlohmann::json finalizers = nullptr) {
  nlohmann::json cm = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "cm"}, {"namespace", "shop"}, {"uid", "u1"}}},
                       {"data", {{"k", "v"}}}};
  if (!finalizers.is_null()) cm["metadata"]["finalizers"] = finalizers;
  return cm;
}

nlohmann::json Parse(const std::string& s) { return nlohmann::json::parse(s); }

// Counts calls and returns a fixed result.
struct Callback {
  StatusOr<Action> result = Action::RequeueAfter(minutes(5));
  std::vector<nlohmann::json> seen;
  FinalizerFn fn() {
    return [this](const nlohmann::json& o) -> StatusOr<Action> {
      seen.push_back(o);
      return result;
    };
  }
};

class FinalizerTest : public ::testing::Test {
 protected:
  // Stores `object` on the fake server and returns it as stored (with a resourceVersion).
  nlohmann::json Stored(nlohmann::json object) { return server_->Put(kPath, std::move(object)); }
  StatusOr<Action> Run(const nlohmann::json& object) {
    return Finalize(api_, kName, object, apply_.fn(), cleanup_.fn());
  }

  std::shared_ptr<FakeApiServer> server_ = std::make_shared<FakeApiServer>();
  Api api_{FakeApiServer::NewClient(server_), resources::kConfigMaps, "shop"};
  Callback apply_;
  Callback cleanup_;
};

TEST_F(FinalizerTest, AddsTheFinalizerFirstWithAResourceVersionPrecondition) {
  nlohmann::json cm = Stored(ConfigMap());
  auto action = Run(cm);
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(*action, Action::AwaitChange());
  EXPECT_TRUE(apply_.seen.empty());  // the write triggers the reconcile that applies
  auto patches = server_->Requests("PATCH", kPath);
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].content_type, "application/json-patch+json");
  EXPECT_EQ(Parse(patches[0].body), Parse(R"([
      {"op":"test","path":"/metadata/resourceVersion","value":"101"},
      {"op":"add","path":"/metadata/finalizers","value":["aidi.dev/cleanup"]}])"));
  EXPECT_EQ(server_->Object(kPath).value()["metadata"]["finalizers"],
            nlohmann::json::array({kName}));
}

TEST_F(FinalizerTest, AppendsToExistingFinalizersTestingTheWholeList) {
  nlohmann::json cm = Stored(ConfigMap({"other.io/x"}));
  ASSERT_TRUE(Run(cm).ok());
  auto patches = server_->Requests("PATCH", kPath);
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(Parse(patches[0].body), Parse(R"([
      {"op":"test","path":"/metadata/finalizers","value":["other.io/x"]},
      {"op":"add","path":"/metadata/finalizers/-","value":"aidi.dev/cleanup"}])"));
  EXPECT_EQ(server_->Object(kPath).value()["metadata"]["finalizers"],
            Parse(R"(["other.io/x","aidi.dev/cleanup"])"));
}

TEST_F(FinalizerTest, AppliesWhenTheFinalizerIsPresent) {
  nlohmann::json cm = Stored(ConfigMap({kName}));
  auto action = Run(cm);
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(*action, Action::RequeueAfter(minutes(5)));
  ASSERT_EQ(apply_.seen.size(), 1u);
  EXPECT_EQ(apply_.seen[0], cm);
  EXPECT_TRUE(cleanup_.seen.empty());
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(FinalizerTest, CleansUpThenRemovesItsEntryByTestedIndex) {
  nlohmann::json cm = ConfigMap({"other.io/x", kName});
  cm["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  cm = Stored(cm);
  cleanup_.result = Action::AwaitChange();
  auto action = Run(cm);
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(*action, Action::AwaitChange());
  EXPECT_EQ(cleanup_.seen.size(), 1u);
  EXPECT_TRUE(apply_.seen.empty());
  auto patches = server_->Requests("PATCH", kPath);
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(Parse(patches[0].body), Parse(R"([
      {"op":"test","path":"/metadata/finalizers/1","value":"aidi.dev/cleanup"},
      {"op":"remove","path":"/metadata/finalizers/1"}])"));
  EXPECT_EQ(server_->Object(kPath).value()["metadata"]["finalizers"], Parse(R"(["other.io/x"])"));
}

TEST_F(FinalizerTest, RemovingTheLastFinalizerLetsTheObjectGo) {
  nlohmann::json cm = ConfigMap({kName});
  cm = Stored(cm);
  ASSERT_TRUE(api_.Delete("cm").ok());  // the fake sets deletionTimestamp: a finalizer holds it
  cm = server_->Object(kPath).value();
  ASSERT_TRUE(IsBeingDeleted(cm));
  ASSERT_TRUE(Run(cm).ok());
  EXPECT_FALSE(server_->Object(kPath).has_value());
}

TEST_F(FinalizerTest, AFailedCleanupKeepsTheFinalizer) {
  nlohmann::json cm = ConfigMap({kName});
  cm["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  cm = Stored(cm);
  cleanup_.result = Status::Unavailable("the bucket service is down");
  auto action = Run(cm);
  ASSERT_FALSE(action.ok());
  EXPECT_EQ(action.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(action.status().message(), HasSubstr("finalizer aidi.dev/cleanup: cleanup"));
  EXPECT_TRUE(server_->Requests().empty());
  EXPECT_TRUE(HasFinalizer(server_->Object(kPath).value(), kName));
}

TEST_F(FinalizerTest, ApplyErrorsKeepTheirCode) {
  nlohmann::json cm = Stored(ConfigMap({kName}));
  apply_.result = Status::Conflict("status update raced");
  auto action = Run(cm);
  ASSERT_FALSE(action.ok());
  EXPECT_TRUE(action.status().IsConflict());
  EXPECT_THAT(action.status().message(), HasSubstr("apply"));
}

TEST_F(FinalizerTest, DeletingWithoutOurFinalizerDoesNothing) {
  nlohmann::json cm = ConfigMap({"other.io/x"});
  cm["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  cm = Stored(cm);
  auto action = Run(cm);
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(*action, Action::AwaitChange());
  EXPECT_TRUE(apply_.seen.empty());
  EXPECT_TRUE(cleanup_.seen.empty());
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(FinalizerTest, AStaleListMakesTheAddAConflict) {
  nlohmann::json stale = Stored(ConfigMap({"other.io/x"}));
  // Someone else adds theirs after we read: our test on the list must fail.
  nlohmann::json now = stale;
  now["metadata"]["finalizers"] = Parse(R"(["other.io/x","third.io/y"])");
  server_->Put(kPath, now);
  auto action = Run(stale);
  ASSERT_FALSE(action.ok());
  EXPECT_TRUE(action.status().IsConflict()) << action.status().ToString();
  EXPECT_THAT(action.status().message(), HasSubstr("adding finalizer aidi.dev/cleanup"));
  EXPECT_EQ(server_->Object(kPath).value()["metadata"]["finalizers"],
            Parse(R"(["other.io/x","third.io/y"])"));
}

TEST_F(FinalizerTest, AStaleVersionMakesTheFirstAddAConflict) {
  nlohmann::json stale = Stored(ConfigMap());
  nlohmann::json now = stale;
  now["metadata"]["finalizers"] = Parse(R"(["third.io/y"])");  // would be overwritten by `add`
  server_->Put(kPath, now);
  auto added = AddFinalizer(api_, kName, stale);
  ASSERT_FALSE(added.ok());
  EXPECT_TRUE(added.status().IsConflict());
  EXPECT_EQ(server_->Object(kPath).value()["metadata"]["finalizers"], Parse(R"(["third.io/y"])"));
}

TEST_F(FinalizerTest, AStaleIndexMakesTheRemoveAConflictAndRemovesNothing) {
  nlohmann::json stale = ConfigMap({kName, "other.io/x"});
  stale["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  stale = Stored(stale);
  nlohmann::json now = stale;
  now["metadata"]["finalizers"] = Parse(R"(["other.io/x","aidi.dev/cleanup"])");  // reordered
  server_->Put(kPath, now);
  auto action = Run(stale);
  ASSERT_FALSE(action.ok());
  EXPECT_TRUE(action.status().IsConflict());
  EXPECT_THAT(action.status().message(), HasSubstr("removing finalizer"));
  EXPECT_EQ(cleanup_.seen.size(), 1u);  // cleanup ran; it runs again on the retry (idempotent)
  EXPECT_EQ(server_->Object(kPath).value()["metadata"]["finalizers"],
            Parse(R"(["other.io/x","aidi.dev/cleanup"])"));
}

TEST_F(FinalizerTest, RemovingFromAVanishedObjectIsSuccess) {
  nlohmann::json cm = ConfigMap({kName});
  cm["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  auto removed = RemoveFinalizer(api_, kName, cm);  // nothing stored at kPath
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_TRUE(removed->is_null());
}

TEST_F(FinalizerTest, HelpersAreNoOpsWhenThereIsNothingToDo) {
  nlohmann::json with = ConfigMap({kName});
  nlohmann::json without = ConfigMap();
  EXPECT_FALSE(AddFinalizerPatch(with, kName).has_value());
  EXPECT_FALSE(RemoveFinalizerPatch(without, kName).has_value());
  auto added = AddFinalizer(api_, kName, with);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, with);
  auto removed = RemoveFinalizer(api_, kName, without);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, without);
  EXPECT_TRUE(server_->Requests().empty());
  EXPECT_EQ(AddFinalizer(api_, kName, nlohmann::json::object()).status().code(),
            StatusCode::kInvalidArgument);  // no name
  // Without a resourceVersion to test, the kube-rs form.
  EXPECT_EQ(*AddFinalizerPatch(without, kName), Parse(R"([
      {"op":"test","path":"/metadata/finalizers","value":null},
      {"op":"add","path":"/metadata/finalizers","value":["aidi.dev/cleanup"]}])"));
  EXPECT_FALSE(IsBeingDeleted(without));
}

}  // namespace
}  // namespace aidi::kube
