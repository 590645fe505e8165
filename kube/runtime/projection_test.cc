#include "kube/runtime/projection.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace aidi::kube {
namespace {

using nlohmann::json;

constexpr const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

json FullPod() {
  return json::parse(R"({
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
      "name": "web-1",
      "namespace": "shop",
      "uid": "u-1",
      "resourceVersion": "42",
      "generation": 3,
      "creationTimestamp": "2024-05-01T10:00:00Z",
      "deletionTimestamp": "2024-05-02T10:00:00Z",
      "generateName": "web-",
      "labels": {"app": "web"},
      "finalizers": ["aidi.dev/cleanup"],
      "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": "{\"big\":true}",
        "note": "keep me"
      },
      "ownerReferences": [{"kind": "ReplicaSet", "name": "web", "uid": "rs-1"}],
      "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]
    },
    "spec": {
      "nodeName": "node-7",
      "restartPolicy": "Always",
      "containers": [
        {"name": "app", "image": "web:1", "ports": [{"containerPort": 8080}]},
        {"name": "proxy", "image": "proxy:2"}
      ]
    },
    "status": {
      "phase": "Running",
      "podIP": "10.0.0.7",
      "conditions": [{"type": "Ready", "status": "True"}]
    }
  })");
}

Projection MustParse(const std::vector<std::string>& paths) {
  StatusOr<Projection> projection = Projection::Parse(paths);
  EXPECT_TRUE(projection.ok()) << projection.status().ToString();
  return projection.ok() ? *projection : Projection();
}

TEST(ProjectionTest, KeepsDeclaredPathsAndAlwaysKeptMetadataOnly) {
  json out = MustParse({"spec.nodeName", "status.phase"}).Apply(FullPod());
  json want = json::parse(R"({
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
      "name": "web-1",
      "namespace": "shop",
      "uid": "u-1",
      "resourceVersion": "42",
      "generation": 3,
      "creationTimestamp": "2024-05-01T10:00:00Z",
      "deletionTimestamp": "2024-05-02T10:00:00Z",
      "labels": {"app": "web"},
      "finalizers": ["aidi.dev/cleanup"],
      "ownerReferences": [{"kind": "ReplicaSet", "name": "web", "uid": "rs-1"}]
    },
    "spec": {"nodeName": "node-7"},
    "status": {"phase": "Running"}
  })");
  EXPECT_EQ(out, want) << out.dump(2);
}

TEST(ProjectionTest, KeptMetadataStripsManagedFieldsAndLastApplied) {
  json out = MustParse({"metadata"}).Apply(FullPod());
  EXPECT_FALSE(out["metadata"].contains("managedFields"));
  EXPECT_FALSE(out["metadata"]["annotations"].contains(kLastApplied));
  EXPECT_EQ(out["metadata"]["annotations"]["note"], "keep me");
  EXPECT_EQ(out["metadata"]["generateName"], "web-");
  EXPECT_FALSE(out.contains("spec"));
}

TEST(ProjectionTest, WholeObjectKeepsEverythingButTheStrippedFields) {
  json full = FullPod();
  json want = full;
  want["metadata"].erase("managedFields");
  want["metadata"]["annotations"].erase(kLastApplied);

  Projection whole;
  EXPECT_TRUE(whole.whole());
  EXPECT_EQ(whole.Apply(full), want);
  EXPECT_EQ(MustParse({}).Apply(full), want);
  EXPECT_EQ(MustParse({"*"}).Apply(full), want);
  EXPECT_EQ(Projection::Whole().ToString(), "*");
}

TEST(ProjectionTest, AnnotationsLeftEmptyByTheStripAreRemoved) {
  json full = FullPod();
  full["metadata"]["annotations"].erase("note");
  json out = Projection().Apply(full);
  EXPECT_FALSE(out["metadata"].contains("annotations")) << out["metadata"].dump();
  // An annotations object that was empty to begin with is left alone.
  full["metadata"]["annotations"] = json::object();
  EXPECT_TRUE(Projection().Apply(full)["metadata"].contains("annotations"));
}

TEST(ProjectionTest, StepThroughAnArrayAppliesToEachElement) {
  json marked = MustParse({"spec.containers[].image"}).Apply(FullPod());
  json plain = MustParse({"spec.containers.image"}).Apply(FullPod());
  json want = json::parse(R"([{"image": "web:1"}, {"image": "proxy:2"}])");
  EXPECT_EQ(marked["spec"]["containers"], want) << marked.dump();
  EXPECT_EQ(plain, marked);
  EXPECT_FALSE(marked["spec"].contains("nodeName"));
}

TEST(ProjectionTest, ElementsKeepTheirPositionsWhenTheyLackTheField) {
  json out = MustParse({"spec.containers.ports"}).Apply(FullPod());
  json want = json::parse(R"([{"ports": [{"containerPort": 8080}]}, {}])");
  EXPECT_EQ(out["spec"]["containers"], want) << out.dump();
}

TEST(ProjectionTest, PathEndingAtAnObjectKeepsAllOfIt) {
  json full = FullPod();
  json out = MustParse({"spec", "spec.nodeName"}).Apply(full);
  EXPECT_EQ(out["spec"], full["spec"]);
  // Declaring the parent after a child keeps the parent whole as well.
  EXPECT_EQ(MustParse({"status.phase", "status"}).Apply(full)["status"], full["status"]);
}

TEST(ProjectionTest, FieldsTheObjectLacksAreAbsent) {
  json out =
      MustParse({"status.hostIP", "spec.nodeName.deeper", "spec.schedulerName"}).Apply(FullPod());
  EXPECT_FALSE(out.contains("status")) << out.dump();
  EXPECT_FALSE(out.contains("spec")) << out.dump();
  EXPECT_EQ(out["metadata"]["name"], "web-1");
}

TEST(ProjectionTest, RvalueApplyMatchesCopyingApply) {
  for (const Projection& projection :
       {Projection(), MustParse({"spec.containers[].name", "status.conditions"})}) {
    json full = FullPod();
    json copied = projection.Apply(full);
    EXPECT_EQ(full, FullPod());  // the const overload leaves its input alone
    EXPECT_EQ(projection.Apply(std::move(full)), copied);
  }
}

TEST(ProjectionTest, NonObjectsPassThrough) {
  Projection projection = MustParse({"spec.nodeName"});
  EXPECT_EQ(projection.Apply(json(nullptr)), json(nullptr));
  EXPECT_EQ(projection.Apply(json::array({1, 2})), json::array({1, 2}));
}

TEST(ProjectionTest, BadPathsAreRejected) {
  const std::vector<std::vector<std::string>> bad = {
      {""},
      {"spec..nodeName"},
      {".spec"},
      {"spec."},
      {"spec.con[]tainers"},
      {"spec.containers[0]"},
      {"spec.containers[]x"},
      {"spec.*"},
      {"spec.node Name"},
      {"metadata.labels.app.kubernetes.io/name"},
      {"metadata.managedFields"},
      {"metadata.managedFields.manager"},
      {"*", "spec.nodeName"},
      {"status.phase", ""},
  };
  for (const auto& paths : bad) {
    StatusOr<Projection> projection = Projection::Parse(paths);
    ASSERT_FALSE(projection.ok()) << ::testing::PrintToString(paths);
    EXPECT_EQ(projection.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(projection.status().message().find("projection path"), std::string::npos)
        << projection.status().message();
  }
  StatusOr<Projection> named = Projection::Parse({"spec.nodeName", "spec..x"});
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.status().message().find("\"spec..x\""), std::string::npos)
      << named.status().message();
}

TEST(ProjectionTest, PathsAreSortedAndDeduplicated) {
  Projection projection = MustParse({"status.phase", "spec.nodeName", "status.phase"});
  EXPECT_FALSE(projection.whole());
  EXPECT_EQ(projection.paths(), (std::vector<std::string>{"spec.nodeName", "status.phase"}));
  EXPECT_EQ(projection.ToString(), "spec.nodeName, status.phase");
}

}  // namespace
}  // namespace aidi::kube
