#include "devcluster/managed_fields.h"

#include <gtest/gtest.h>

namespace aidi::devcluster {
namespace {

using nlohmann::json;

const ManagerWrite kApplier{"kubectl", "Apply", "v1", "2026-11-27T20:00:00Z"};
const ManagerWrite kPatcher{"kubectl-patch", "Update", "v1", "2026-11-27T20:01:00Z"};

TEST(ManagedFields, FieldSetsSkipServerFieldsAndTreatListsAsLeaves) {
  json obj = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
      "metadata":{"name":"a","uid":"u","labels":{"x":"1"}},"data":{"k":"v","l":[1,2]}})");
  EXPECT_EQ(FieldPaths(FieldSetOf(obj)),
            (std::vector<std::string>{".data.k", ".data.l", ".metadata.labels.x"}));
}

TEST(ManagedFields, ApplyThenConflictingUpdateThenForce) {
  json applied = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","data":{"size":"2"}})");
  json live;
  ASSERT_TRUE(Apply(nullptr, applied, kApplier, false, live).empty());
  EXPECT_EQ(live["metadata"]["managedFields"][0]["manager"], "kubectl");
  EXPECT_EQ(live["metadata"]["managedFields"][0]["fieldsV1"],
            json::parse(R"({"f:data":{"f:size":{}}})"));

  json patched = live;
  patched["data"]["size"] = "7";
  RecordUpdate(live, patched, kPatcher);
  ASSERT_EQ(patched["metadata"]["managedFields"].size(), 1u) << "the patcher took the field";
  EXPECT_EQ(patched["metadata"]["managedFields"][0]["manager"], "kubectl-patch");

  json again = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","data":{"size":"4"}})");
  json out;
  auto conflicts = Apply(patched, again, kApplier, false, out);
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(ConflictMessage(conflicts),
            "Apply failed with 1 conflict: conflict with \"kubectl-patch\" using v1: .data.size");
  // Applying the value the other manager set is no conflict: ownership is shared.
  json same = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","data":{"size":"7"}})");
  EXPECT_TRUE(Apply(patched, same, kApplier, false, out).empty());
  ASSERT_TRUE(Apply(patched, again, kApplier, true, out).empty());
  EXPECT_EQ(out["data"]["size"], "4");
}

TEST(ManagedFields, MetadataWithOnlyServerFieldsIsNotOwned) {
  json obj = json::parse(R"({"apiVersion":"v1","kind":"X","metadata":{"name":"a","namespace":"n"},
      "spec":{"size":2}})");
  EXPECT_EQ(FieldPaths(FieldSetOf(obj)), (std::vector<std::string>{".spec.size"}));
}

TEST(ManagedFields, KeysWithDotsAreOneField) {
  json old =
      json::parse(R"({"metadata":{"name":"a","annotations":{"kubectl.kubernetes.io/x":"1"}}})");
  json updated = old;
  RecordUpdate(nullptr, updated, kPatcher);
  json same = updated;
  RecordUpdate(updated, same,
               ManagerWrite{"kubectl-patch", "Update", "v1", "2030-01-01T00:00:00Z"});
  EXPECT_EQ(same, updated) << "an unchanged write must not touch managedFields (not even time)";
  EXPECT_EQ(FieldPaths(FieldSetOf(old)),
            (std::vector<std::string>{".metadata.annotations.kubectl.kubernetes.io/x"}));
}

TEST(ManagedFields, ApplyRemovesFieldsNoLongerApplied) {
  json live;
  ASSERT_TRUE(
      Apply(nullptr, json::parse(R"({"data":{"a":"1","b":"2"}})"), kApplier, false, live).empty());
  json out;
  ASSERT_TRUE(Apply(live, json::parse(R"({"data":{"a":"1"}})"), kApplier, false, out).empty());
  EXPECT_FALSE(out["data"].contains("b"));
  EXPECT_EQ(out["data"]["a"], "1");
}

}  // namespace
}  // namespace aidi::devcluster
