// Tests for merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch. The RFC
// appendix examples and upstream's strategicpatch fixtures are used verbatim where possible, so
// a failure here is a divergence from the standard or from a real API server.
#include "kube/core/patch.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aidi::kube {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

Json J(std::string_view text) { return Json::parse(text); }

// =============================================================================================
// RFC 7386 merge patch

struct MergeCase {
  const char* target;
  const char* patch;
  const char* result;
};

TEST(MergePatch, Rfc7386AppendixA) {
  const std::vector<MergeCase> cases = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& c : cases) {
    auto result = ApplyMergePatch(J(c.target), J(c.patch));
    ASSERT_TRUE(result.ok()) << c.patch;
    EXPECT_EQ(*result, J(c.result)) << c.target << " + " << c.patch;
  }
}

TEST(MergePatch, Rfc7386Section3Example) {
  const Json target = J(R"({
    "title": "Goodbye!",
    "author": {"givenName": "John", "familyName": "Doe"},
    "tags": ["example", "sample"],
    "content": "This will be unchanged"})");
  const Json patch = J(R"({
    "title": "Hello!",
    "phoneNumber": "+01-123-456-7890",
    "author": {"familyName": null},
    "tags": ["example"]})");
  auto result = ApplyMergePatch(target, patch);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, J(R"({
    "title": "Hello!",
    "author": {"givenName": "John"},
    "tags": ["example"],
    "content": "This will be unchanged",
    "phoneNumber": "+01-123-456-7890"})"));
}

TEST(MergePatch, KubectlStyleLabelsAndReplicas) {
  const Json deployment = J(R"({"metadata":{"name":"web","labels":{"app":"web","tier":"fe"}},
                               "spec":{"replicas":1,"template":{"spec":{"containers":[
                                 {"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}}})");
  auto result = ApplyMergePatch(
      deployment, J(R"({"metadata":{"labels":{"tier":null,"v":"2"}},"spec":{"replicas":3,
                      "template":{"spec":{"containers":[{"name":"a","image":"a:2"}]}}}})"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)["metadata"]["labels"], J(R"({"app":"web","v":"2"})"));
  EXPECT_EQ((*result)["spec"]["replicas"], 3);
  // Merge patch replaces lists wholesale: container b is gone.
  EXPECT_EQ((*result)["spec"]["template"]["spec"]["containers"],
            J(R"([{"name":"a","image":"a:2"}])"));
}

TEST(CreateMergePatch, DiffsObjectsRecursively) {
  EXPECT_EQ(CreateMergePatch(J(R"({"a":1,"b":{"c":2,"d":3},"e":[1]})"),
                             J(R"({"a":1,"b":{"c":4},"e":[1,2],"f":"new"})")),
            J(R"({"b":{"c":4,"d":null},"e":[1,2],"f":"new"})"));
  EXPECT_EQ(CreateMergePatch(J(R"({"a":{"b":1}})"), J(R"({"a":{"b":1}})")), Json::object());
  EXPECT_EQ(CreateMergePatch(J(R"({"a":{"b":1}})"), J(R"({"a":"x"})")), J(R"({"a":"x"})"));
  EXPECT_EQ(CreateMergePatch(J(R"({"a":"x"})"), J(R"({"a":{"b":1}})")), J(R"({"a":{"b":1}})"));
  EXPECT_EQ(CreateMergePatch(J(R"({"a":{"b":1}})"), J(R"({"a":{}})")), J(R"({"a":{"b":null}})"));
  EXPECT_EQ(CreateMergePatch(J(R"([1])"), J(R"({"a":1})")), J(R"({"a":1})"));
  EXPECT_EQ(CreateMergePatch(J(R"({"a":1})"), J(R"([1])")), J(R"([1])"));
}

TEST(CreateMergePatch, RoundTripsThroughApply) {
  const std::vector<std::pair<const char*, const char*>> pairs = {
      {R"({"metadata":{"labels":{"a":"1"}},"spec":{"x":[1,2],"y":{"z":true}}})",
       R"({"metadata":{"labels":{"b":"2"}},"spec":{"x":[2],"w":1.5}})"},
      {R"({})", R"({"a":{"b":{"c":"d"}}})"},
      {R"({"a":{"b":{"c":"d"}}})", R"({})"},
  };
  for (const auto& [from, to] : pairs) {
    auto applied = ApplyMergePatch(J(from), CreateMergePatch(J(from), J(to)));
    ASSERT_TRUE(applied.ok());
    EXPECT_EQ(*applied, J(to)) << from << " -> " << to;
  }
}

// =============================================================================================
// RFC 6902 JSON patch

StatusOr<Json> Apply(std::string_view doc, std::string_view ops) {
  return ApplyJsonPatch(J(doc), J(ops));
}

void ExpectPatched(std::string_view doc, std::string_view ops, std::string_view want) {
  auto result = Apply(doc, ops);
  ASSERT_TRUE(result.ok()) << ops << ": " << result.status().ToString();
  EXPECT_EQ(*result, J(want)) << ops;
}

// Returns the error message.
std::string ExpectFailure(std::string_view doc, std::string_view ops, StatusCode code) {
  auto result = Apply(doc, ops);
  EXPECT_FALSE(result.ok()) << ops << " gave " << (result.ok() ? result->dump() : "");
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), code) << ops << ": " << result.status().ToString();
  return result.status().message();
}

TEST(JsonPatch, Rfc6902AppendixA) {
  // A.1 - A.5
  ExpectPatched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
                R"({"baz":"qux","foo":"bar"})");
  ExpectPatched(R"({"foo":["bar","baz"]})", R"([{"op":"add","path":"/foo/1","value":"qux"}])",
                R"({"foo":["bar","qux","baz"]})");
  ExpectPatched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])",
                R"({"foo":"bar"})");
  ExpectPatched(R"({"foo":["bar","qux","baz"]})", R"([{"op":"remove","path":"/foo/1"}])",
                R"({"foo":["bar","baz"]})");
  ExpectPatched(R"({"baz":"qux","foo":"bar"})", R"([{"op":"replace","path":"/baz","value":"boo"}])",
                R"({"baz":"boo","foo":"bar"})");
  // A.6, A.7
  ExpectPatched(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
                R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
                R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})");
  ExpectPatched(R"({"foo":["all","grass","cows","eat"]})",
                R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
                R"({"foo":["all","cows","eat","grass"]})");
  // A.8, A.9
  ExpectPatched(
      R"({"baz":"qux","foo":["a",2,"c"]})",
      R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
      R"({"baz":"qux","foo":["a",2,"c"]})");
  ExpectFailure(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])",
                StatusCode::kInvalid);
  // A.10, A.11
  ExpectPatched(R"({"foo":"bar"})", R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
                R"({"foo":"bar","child":{"grandchild":{}}})");
  ExpectPatched(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])",
                R"({"foo":"bar","baz":"qux"})");
  // A.12: adding to a nonexistent target
  ExpectFailure(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])",
                StatusCode::kInvalid);
  // A.13: duplicate "op" members; the parser keeps the last one (remove), which cannot apply.
  EXPECT_FALSE(
      Apply(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux","op":"remove"}])")
          .ok());
  // A.14: ~ escape ordering
  ExpectPatched(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])",
                R"({"/":9,"~1":10})");
  // A.15: strings and numbers differ
  ExpectFailure(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])",
                StatusCode::kInvalid);
  // A.16: adding an array value
  ExpectPatched(R"({"foo":["bar"]})", R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
                R"({"foo":["bar",["abc","def"]]})");
}

TEST(JsonPatch, Rfc6901PointerExamples) {
  const char* doc = R"({"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,
                        "k\"l":6," ":7,"m~n":8})";
  const std::vector<std::pair<const char*, Json>> cases = {
      {"/foo", J(R"(["bar","baz"])")},
      {"/foo/0", "bar"},
      {"/", 0},
      {"/a~1b", 1},
      {"/c%d", 2},
      {"/e^f", 3},
      {"/g|h", 4},
      {"/i\\j", 5},
      {"/k\"l", 6},
      {"/ ", 7},
      {"/m~0n", 8},
  };
  for (const auto& [pointer, value] : cases) {
    const Json ops = Json::array({{{"op", "test"}, {"path", pointer}, {"value", value}}});
    EXPECT_TRUE(ApplyJsonPatch(J(doc), ops).ok()) << pointer;
  }
  const Json whole = Json::array({{{"op", "test"}, {"path", ""}, {"value", J(doc)}}});
  EXPECT_TRUE(ApplyJsonPatch(J(doc), whole).ok());
}

TEST(JsonPatch, ArrayIndexRules) {
  const char* doc = R"({"a":[0,1,2]})";
  ExpectPatched(doc, R"([{"op":"add","path":"/a/3","value":3}])", R"({"a":[0,1,2,3]})");
  ExpectPatched(doc, R"([{"op":"add","path":"/a/-","value":3}])", R"({"a":[0,1,2,3]})");
  ExpectPatched(doc, R"([{"op":"add","path":"/a/0","value":9}])", R"({"a":[9,0,1,2]})");
  ExpectPatched(doc, R"([{"op":"replace","path":"/a/2","value":9}])", R"({"a":[0,1,9]})");
  EXPECT_THAT(ExpectFailure(doc, R"([{"op":"add","path":"/a/4","value":3}])", StatusCode::kInvalid),
              HasSubstr("out of range"));
  EXPECT_THAT(ExpectFailure(doc, R"([{"op":"remove","path":"/a/3"}])", StatusCode::kInvalid),
              HasSubstr("out of range"));
  ExpectFailure(doc, R"([{"op":"replace","path":"/a/3","value":1}])", StatusCode::kInvalid);
  ExpectFailure(doc, R"([{"op":"remove","path":"/a/-"}])", StatusCode::kInvalid);
  EXPECT_THAT(ExpectFailure(doc, R"([{"op":"remove","path":"/a/01"}])", StatusCode::kInvalid),
              HasSubstr("invalid array index \"01\""));
  ExpectFailure(doc, R"([{"op":"remove","path":"/a/-1"}])", StatusCode::kInvalid);
  ExpectFailure(doc, R"([{"op":"remove","path":"/a/+1"}])", StatusCode::kInvalid);
  ExpectFailure(doc, R"([{"op":"remove","path":"/a/1e0"}])", StatusCode::kInvalid);
  ExpectFailure(doc, R"([{"op":"remove","path":"/a/99999999999999999999999"}])",
                StatusCode::kInvalid);
  // An object member named "01" is fine: the index rules apply to arrays only.
  ExpectPatched(R"({"01":1})", R"([{"op":"remove","path":"/01"}])", R"({})");
}

TEST(JsonPatch, OperationSemantics) {
  // add replaces an existing member; replace needs one to exist.
  ExpectPatched(R"({"a":1})", R"([{"op":"add","path":"/a","value":2}])", R"({"a":2})");
  ExpectFailure(R"({"a":1})", R"([{"op":"replace","path":"/b","value":2}])", StatusCode::kInvalid);
  ExpectFailure(R"({"a":1})", R"([{"op":"remove","path":"/b"}])", StatusCode::kInvalid);
  // the whole document
  ExpectPatched(R"({"a":1})", R"([{"op":"add","path":"","value":[1]}])", R"([1])");
  ExpectPatched(R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])", R"({"b":2})");
  ExpectFailure(R"({"a":1})", R"([{"op":"remove","path":""}])", StatusCode::kInvalid);
  // null is a value like any other
  ExpectPatched(R"({})", R"([{"op":"add","path":"/a","value":null}])", R"({"a":null})");
  ExpectPatched(R"({"a":null})", R"([{"op":"test","path":"/a","value":null}])", R"({"a":null})");
  // evanphx/json-patch v4, as the API server: null matches a member the object lacks.
  ExpectPatched(R"({})", R"([{"op":"test","path":"/a","value":null}])", R"({})");
  ExpectFailure(R"({})", R"([{"op":"test","path":"/a/b","value":null}])", StatusCode::kInvalid);
  // test compares numbers by value and objects regardless of member order
  ExpectPatched(
      R"({"a":1,"o":{"x":1,"y":2}})",
      R"([{"op":"test","path":"/a","value":1.0},{"op":"test","path":"/o","value":{"y":2,"x":1}}])",
      R"({"a":1,"o":{"x":1,"y":2}})");
  // copy and move
  ExpectPatched(R"({"a":{"b":[1]}})", R"([{"op":"copy","from":"/a/b","path":"/c"}])",
                R"({"a":{"b":[1]},"c":[1]})");
  ExpectPatched(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a"}])",
                R"({"a":{"b":1}})");
  ExpectPatched(R"({"a":{"b":1},"c":{}})", R"([{"op":"move","from":"/a","path":"/c/a"}])",
                R"({"c":{"a":{"b":1}}})");
  EXPECT_THAT(ExpectFailure(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])",
                            StatusCode::kInvalid),
              HasSubstr("into one of its own children"));
  ExpectFailure(R"({"a":1})", R"([{"op":"move","from":"/x","path":"/y"}])", StatusCode::kInvalid);
  ExpectFailure(R"({"a":1})", R"([{"op":"copy","from":"/x","path":"/y"}])", StatusCode::kInvalid);
  // descending through a scalar fails
  ExpectFailure(R"({"a":1})", R"([{"op":"add","path":"/a/b","value":1}])", StatusCode::kInvalid);
  // operations apply in order, each on the result of the previous one
  ExpectPatched(R"({})",
                R"([{"op":"add","path":"/l","value":[]},{"op":"add","path":"/l/-","value":1},
                    {"op":"add","path":"/l/0","value":0},{"op":"test","path":"/l","value":[0,1]}])",
                R"({"l":[0,1]})");
  // an empty patch is a no-op
  ExpectPatched(R"({"a":1})", R"([])", R"({"a":1})");
}

TEST(JsonPatch, ErrorsNameOperationIndexAndPath) {
  const std::string message = ExpectFailure(R"({"spec":{"replicas":1}})",
                                            R"([{"op":"test","path":"/spec/replicas","value":1},
          {"op":"replace","path":"/spec/paused","value":true}])",
                                            StatusCode::kInvalid);
  EXPECT_THAT(message, HasSubstr("operation 1 (replace \"/spec/paused\")"));
  EXPECT_THAT(message, HasSubstr("\"paused\" does not exist"));
  EXPECT_THAT(
      ExpectFailure(R"({"a":1})", R"([{"op":"test","path":"/a","value":2}])", StatusCode::kInvalid),
      HasSubstr("operation 0 (test \"/a\"): test failed"));
}

TEST(JsonPatch, MalformedPatchesAreInvalidArgument) {
  for (const char* ops : {
           R"({"op":"add","path":"/a","value":1})",      // not an array
           R"([1])",                                     // not an object
           R"([{"path":"/a","value":1}])",               // no op
           R"([{"op":"frobnicate","path":"/a"}])",       // unknown op
           R"([{"op":"add","value":1}])",                // no path
           R"([{"op":"add","path":5,"value":1}])",       // path not a string
           R"([{"op":"add","path":"a","value":1}])",     // no leading slash
           R"([{"op":"add","path":"/a~2","value":1}])",  // bad escape
           R"([{"op":"add","path":"/a~","value":1}])",   // dangling escape
           R"([{"op":"add","path":"/a"}])",              // no value
           R"([{"op":"replace","path":"/a"}])",          // no value
           R"([{"op":"test","path":"/a"}])",             // no value
           R"([{"op":"move","path":"/a"}])",             // no from
           R"([{"op":"copy","path":"/a","from":1}])",    // from not a string
       }) {
    ExpectFailure(R"({"a":1})", ops, StatusCode::kInvalidArgument);
  }
  // Malformed operations are reported even after operations that would fail to apply.
  EXPECT_THAT(
      ExpectFailure(R"({})", R"([{"op":"remove","path":"/missing"},{"op":"nope","path":"/a"}])",
                    StatusCode::kInvalidArgument),
      HasSubstr("json patch operation 1"));
}

TEST(JsonPatch, Limits) {
  Json ops = Json::array();
  for (int i = 0; i < 10001; ++i) ops.push_back({{"op", "test"}, {"path", ""}, {"value", 1}});
  auto too_many = ApplyJsonPatch(Json(1), ops);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), StatusCode::kRequestEntityTooLarge);

  // Doubling the document with `copy` stops at the copy budget instead of exhausting memory.
  Json bomb = Json::array();
  for (int i = 0; i < 64; ++i) bomb.push_back({{"op", "copy"}, {"from", ""}, {"path", "/-"}});
  auto copied = ApplyJsonPatch(J(R"([1,2,3,4,5,6,7,8])"), bomb);
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.status().code(), StatusCode::kInvalid);

  Json deep = 1;
  for (int i = 0; i < 1500; ++i) deep = Json::array({std::move(deep)});
  EXPECT_EQ(ApplyJsonPatch(deep, Json::array()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyMergePatch(Json::object(), deep).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyStrategicMergePatch(Json{{"a", deep}}, Json::object(), "Pod").status().code(),
            StatusCode::kInvalidArgument);
}

// =============================================================================================
// Strategic merge patch

Json Smp(std::string_view kind, std::string_view original, std::string_view patch) {
  auto result = ApplyStrategicMergePatch(J(original), J(patch), kind);
  EXPECT_TRUE(result.ok()) << patch << ": " << result.status().ToString();
  return result.ok() ? *result : Json();
}

Status SmpError(std::string_view kind, std::string_view original, std::string_view patch) {
  auto result = ApplyStrategicMergePatch(J(original), J(patch), kind);
  EXPECT_FALSE(result.ok()) << patch << " gave " << (result.ok() ? result->dump() : "");
  return result.ok() ? Status::Ok() : result.status();
}

constexpr const char* kPod = R"({
  "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"],
               "ownerReferences": [{"uid": "u1", "kind": "ReplicaSet", "name": "web-1"}]},
  "spec": {
    "containers": [
      {"name": "app", "image": "app:1", "args": ["--a", "--b"],
       "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 9090, "name": "metrics"}],
       "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
       "volumeMounts": [{"mountPath": "/data", "name": "data"}]},
      {"name": "sidecar", "image": "envoy:1"}],
    "volumes": [{"name": "data", "emptyDir": {}}],
    "tolerations": [{"key": "a", "operator": "Exists"}]
  },
  "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"},
                                                {"type": "Initialized", "status": "True"}]}
})";

TEST(StrategicMergePatch, ContainersMergeByName) {
  const Json pod =
      Smp("Pod", kPod, R"({"spec":{"containers":[{"name":"sidecar","image":"envoy:2"}]}})");
  const Json& containers = pod["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["name"], "app");
  EXPECT_EQ(containers[0]["image"], "app:1");  // untouched
  EXPECT_EQ(containers[1], J(R"({"name":"sidecar","image":"envoy:2"})"));
}

// Without `$setElementOrder`, patch items go first and the server-only items follow in their
// old order: "kubectl patch" docs show the added container listed before the existing one.
TEST(StrategicMergePatch, NewListItemsComeBeforeServerOnlyItems) {
  const Json pod = Smp("Pod", kPod, R"({"spec":{"containers":[{"name":"new","image":"x"}]}})");
  const Json& containers = pod["spec"]["containers"];
  ASSERT_EQ(containers.size(), 3u);
  EXPECT_EQ(containers[0], J(R"({"name":"new","image":"x"})"));
  EXPECT_EQ(containers[1]["name"], "app");
  EXPECT_EQ(containers[2]["name"], "sidecar");
  // A patch item that already exists keeps its place relative to the server-only items.
  const Json merged = Smp("Pod", kPod, R"({"spec":{"containers":[{"name":"sidecar","tty":true},
                                                                  {"name":"new","image":"x"}]}})");
  EXPECT_EQ(merged["spec"]["containers"][0]["name"], "app");
  EXPECT_EQ(merged["spec"]["containers"][1]["name"], "sidecar");
  EXPECT_EQ(merged["spec"]["containers"][2]["name"], "new");
}

TEST(StrategicMergePatch, NestedListsUseTheirOwnMergeKeys) {
  const Json pod = Smp("Pod", kPod, R"({"spec":{"containers":[{"name":"app",
      "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":8443,"name":"https"}],
      "env":[{"name":"B","value":"two"},{"name":"C","value":"3"}],
      "volumeMounts":[{"mountPath":"/data","readOnly":true}]}]}})");
  const Json& app = pod["spec"]["containers"][0];
  EXPECT_EQ(app["ports"], J(R"([{"containerPort":80,"name":"http","protocol":"TCP"},
                                {"containerPort":8443,"name":"https"},
                                {"containerPort":9090,"name":"metrics"}])"));
  EXPECT_EQ(app["env"], J(R"([{"name":"A","value":"1"},{"name":"B","value":"two"},
                              {"name":"C","value":"3"}])"));
  EXPECT_EQ(app["volumeMounts"], J(R"([{"mountPath":"/data","name":"data","readOnly":true}])"));
}

// The API server decodes integers as int64 and other numbers as float64, and Go's == never
// equates the two: 80 and 80.0 are different merge keys.
TEST(StrategicMergePatch, MergeKeysCompareLikeGoInterfaces) {
  const Json pod =
      Smp("Pod", R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80}]}]}})",
          R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80.0,
                                                                         "name":"f"}]}]}})");
  EXPECT_EQ(pod["spec"]["containers"][0]["ports"].size(), 2u);
  EXPECT_THAT(
      SmpError("Pod", R"({"metadata":{"finalizers":[1]}})", R"({"metadata":{"finalizers":[1.5]}})")
          .message(),
      HasSubstr("list element types are not identical"));
}

TEST(StrategicMergePatch, ListsWithoutMergeKeyAreReplaced) {
  const Json pod = Smp("Pod", kPod, R"({"spec":{
      "containers":[{"name":"app","args":["--c"]}],
      "tolerations":[{"key":"b","operator":"Exists"}]}})");
  EXPECT_EQ(pod["spec"]["containers"][0]["args"], J(R"(["--c"])"));
  EXPECT_EQ(pod["spec"]["tolerations"], J(R"([{"key":"b","operator":"Exists"}])"));
}

TEST(StrategicMergePatch, KindDisambiguatesPorts) {
  // A Service's spec.ports merge by `port`...
  const Json svc = Smp("Service",
                       R"({"spec":{"ports":[{"port":80,"targetPort":8080,"name":"http"},
                                             {"port":443,"targetPort":8443,"name":"https"}]}})",
                       R"({"spec":{"ports":[{"port":80,"targetPort":9090}]}})");
  EXPECT_EQ(svc["spec"]["ports"], J(R"([{"port":80,"targetPort":9090,"name":"http"},
                                        {"port":443,"targetPort":8443,"name":"https"}])"));
  // ...a container's ports by `containerPort`: the Service key does not apply there.
  auto bad = ApplyStrategicMergePatch(
      J(R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80}]}]}})"),
      J(R"({"spec":{"containers":[{"name":"a","ports":[{"port":80}]}]}})"), "Pod");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("does not contain declared merge key: containerPort"));
}

TEST(StrategicMergePatch, WorkloadTemplatesAreNavigated) {
  const char* original = R"({"spec":{"template":{"metadata":{"labels":{"app":"w"}},"spec":{
      "containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}},
      "status":{"conditions":[{"type":"Available","status":"True"}]}})";
  const char* patch = R"({"spec":{"template":{"spec":{"containers":[{"name":"b","image":"b:2"}]}}},
      "status":{"conditions":[{"type":"Progressing","status":"True"}]}})";
  for (const char* kind : {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}) {
    const Json w = Smp(kind, original, patch);
    EXPECT_EQ(w["spec"]["template"]["spec"]["containers"],
              J(R"([{"name":"a","image":"a:1"},{"name":"b","image":"b:2"}])"))
        << kind;
    EXPECT_EQ(w["status"]["conditions"].size(), 2u) << kind;
  }
  const Json cron = Smp("CronJob",
                        R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"initContainers":[
                              {"name":"i","image":"i:1"}]}}}}}})",
                        R"({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"initContainers":[
                              {"name":"j","image":"j:1"}]}}}}}})");
  EXPECT_EQ(cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"].size(), 2u);
}

TEST(StrategicMergePatch, MetadataFinalizersAndOwnerReferences) {
  const Json pod = Smp("Pod", kPod, R"({"metadata":{"finalizers":["c","a"],
      "ownerReferences":[{"uid":"u2","kind":"Pipeline","name":"p"}]}})");
  // finalizers: union, patch order first, then server-only items (upstream mergeSlice).
  EXPECT_EQ(pod["metadata"]["finalizers"], J(R"(["c","a","b"])"));
  EXPECT_EQ(pod["metadata"]["ownerReferences"].size(), 2u);
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["uid"], "u2");

  const Json removed =
      Smp("Pod", kPod, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})");
  EXPECT_EQ(removed["metadata"]["finalizers"], J(R"(["b"])"));

  const Json deleted_owner =
      Smp("Pod", kPod, R"({"metadata":{"ownerReferences":[{"uid":"u1","$patch":"delete"}]}})");
  EXPECT_EQ(deleted_owner["metadata"]["ownerReferences"], Json::array());
}

TEST(StrategicMergePatch, StatusConditionsMergeByType) {
  const Json pod = Smp("Pod", kPod, R"({"status":{"conditions":[
      {"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}]}})");
  EXPECT_EQ(pod["status"]["conditions"], J(R"([{"type":"Ready","status":"True"},
      {"type":"PodScheduled","status":"True"},{"type":"Initialized","status":"True"}])"));
}

TEST(StrategicMergePatch, NodeAddressesMergeTaintsReplace) {
  const char* node = R"({"spec":{"taints":[{"key":"a","effect":"NoSchedule"},
                                            {"key":"b","effect":"NoSchedule"}]},
      "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},
                             {"type":"Hostname","address":"n1"}]}})";
  const Json patched = Smp("Node", node, R"({"spec":{"taints":[{"key":"c","effect":"NoExecute"}]},
      "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"}]}})");
  // NodeSpec.taints has no patch strategy upstream (+listType=atomic): kubectl taint relies on
  // the whole list being replaced.
  EXPECT_EQ(patched["spec"]["taints"], J(R"([{"key":"c","effect":"NoExecute"}])"));
  EXPECT_EQ(patched["status"]["addresses"], J(R"([{"type":"InternalIP","address":"10.0.0.2"},
                                                  {"type":"Hostname","address":"n1"}])"));
}

TEST(StrategicMergePatch, NullDeletesAField) {
  const Json pod = Smp("Pod", kPod, R"({"metadata":{"labels":{"app":null,"v":"2"}},"status":null,
                                        "spec":{"missing":null}})");
  EXPECT_EQ(pod["metadata"]["labels"], J(R"({"v":"2"})"));
  EXPECT_FALSE(pod.contains("status"));
  EXPECT_FALSE(pod["spec"].contains("missing"));
}

TEST(StrategicMergePatch, NewFieldsDropNullsAndDirectiveMaps) {
  const Json pod = Smp("Pod", R"({"spec":{}})",
                       R"({"spec":{"securityContext":{"runAsUser":1,"fsGroup":null},
                                   "affinity":{"$patch":"replace","nodeAffinity":{}}}})");
  EXPECT_EQ(pod["spec"], J(R"({"securityContext":{"runAsUser":1}})"));
}

TEST(StrategicMergePatch, PatchDirectiveOnMaps) {
  const Json replaced = Smp("Pod", R"({"spec":{"nodeSelector":{"a":"1","b":"2"}}})",
                            R"({"spec":{"nodeSelector":{"$patch":"replace","c":"3"}}})");
  EXPECT_EQ(replaced["spec"]["nodeSelector"], J(R"({"c":"3"})"));
  // Upstream leaves an empty map behind for `$patch: delete`.
  const Json deleted = Smp("Pod", R"({"spec":{"nodeSelector":{"a":"1"}}})",
                           R"({"spec":{"nodeSelector":{"$patch":"delete"}}})");
  EXPECT_EQ(deleted["spec"]["nodeSelector"], Json::object());
  EXPECT_EQ(Smp("Pod", kPod, R"({"$patch":"replace","kind":"Pod"})"), J(R"({"kind":"Pod"})"));
  EXPECT_EQ(Smp("Pod", kPod, R"({"$patch":"delete"})"), Json::object());
  EXPECT_THAT(SmpError("Pod", kPod, R"({"spec":{"$patch":"merge"}})").message(),
              HasSubstr("unknown patch type: merge in map"));
}

TEST(StrategicMergePatch, PatchDirectiveOnListItems) {
  const Json deleted =
      Smp("Pod", kPod, R"({"spec":{"containers":[{"name":"app","$patch":"delete"}]}})");
  EXPECT_EQ(deleted["spec"]["containers"], J(R"([{"name":"sidecar","image":"envoy:1"}])"));

  const Json replaced = Smp(
      "Pod", kPod, R"({"spec":{"containers":[{"name":"only","image":"o"},{"$patch":"replace"}]}})");
  EXPECT_EQ(replaced["spec"]["containers"], J(R"([{"name":"only","image":"o"}])"));

  EXPECT_THAT(SmpError("Pod", kPod, R"({"spec":{"containers":[{"name":"app","$patch":"merge"}]}})")
                  .message(),
              HasSubstr("merging lists cannot yet be specified in the patch"));
  EXPECT_THAT(SmpError("Pod", kPod, R"({"spec":{"containers":[{"$patch":"delete"}]}})").message(),
              HasSubstr("does not contain declared merge key: name"));
  EXPECT_THAT(SmpError("Pod", kPod, R"({"spec":{"containers":[{"image":"x"}]}})").message(),
              HasSubstr("map: map[image:x] does not contain declared merge key: name"));
}

TEST(StrategicMergePatch, RetainKeys) {
  const char* deployment = R"({"spec":{"strategy":{"type":"RollingUpdate",
      "rollingUpdate":{"maxSurge":1}}}})";
  const Json patched = Smp("Deployment", deployment,
                           R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})");
  EXPECT_EQ(patched["spec"]["strategy"], J(R"({"type":"Recreate"})"));
  EXPECT_EQ(SmpError("Deployment", deployment,
                     R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}})")
                .message(),
            "invalid patch format of retainKeys");
  EXPECT_EQ(SmpError("Deployment", deployment, R"({"spec":{"strategy":{"$retainKeys":"type"}}})")
                .message(),
            "invalid patch format of retainKeys");
}

// A `kubectl apply` patch (as CreateThreeWayMergePatch builds it): the user reordered the
// containers, changed the sidecar image, added env C before A and removed B. A container a
// webhook injected (server-only) keeps its place after the user's containers.
TEST(StrategicMergePatch, KubectlApplySetElementOrderForContainersAndEnv) {
  const char* live = R"({"spec":{"template":{"spec":{"containers":[
      {"name":"sidecar","image":"envoy:1",
       "env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"app","image":"app:1","env":[{"name":"X","value":"x"}]},
      {"name":"injected","image":"istio"}]}}}})";
  const char* patch = R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],
      "containers":[{"name":"sidecar","image":"envoy:2",
                     "$setElementOrder/env":[{"name":"C"},{"name":"A"}],
                     "env":[{"name":"C","value":"3"},{"$patch":"delete","name":"B"}]}]}}}})";
  const Json result = Smp("Deployment", live, patch);
  EXPECT_EQ(result, J(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"app","image":"app:1","env":[{"name":"X","value":"x"}]},
      {"name":"sidecar","image":"envoy:2",
       "env":[{"name":"C","value":"3"},{"name":"A","value":"1"}]},
      {"name":"injected","image":"istio"}]}}}})"));
}

TEST(StrategicMergePatch, SetElementOrderErrors) {
  EXPECT_THAT(SmpError("Pod", kPod, R"({"spec":{"$setElementOrder/containers":[{"name":"sidecar"}],
                                   "containers":[{"name":"app"},{"name":"sidecar"}]}})")
                  .message(),
              HasSubstr("doesn't match $setElementOrder list"));
  EXPECT_EQ(SmpError("Pod", kPod, R"({"spec":{"$setElementOrderX":[]}})").message(),
            "invalid patch format of setElementOrder list");
  EXPECT_EQ(SmpError("Pod", kPod, R"({"spec":{"$setElementOrder/containers":"app"}})").message(),
            "expected a []interface {}, but received a string");
  EXPECT_EQ(SmpError("Pod", kPod, R"({"metadata":{"$deleteFromPrimitiveListX":["a"]}})").message(),
            "invalid patch format of primitive list");
}

TEST(StrategicMergePatch, TypeErrors) {
  EXPECT_EQ(
      SmpError("Pod", R"({"metadata":{"finalizers":[]}})", R"({"metadata":{"finalizers":[["x"]]}})")
          .code(),
      StatusCode::kInvalid);  // lists of lists: 422 like upstream
  EXPECT_THAT(SmpError("Pod", kPod, R"({"metadata":{"finalizers":[1]}})").message(),
              HasSubstr("list element types are not identical"));
  EXPECT_EQ(SmpError("Pod", R"([])", R"({})").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SmpError("Pod", R"({})", R"("x")").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Smp("Pod", R"(null)", R"({"a":1})"), J(R"({"a":1})"));
  EXPECT_EQ(Smp("Pod", R"({"a":1})", R"(null)"), J(R"({"a":1})"));
}

TEST(StrategicMergePatch, UnknownKindsMergeWellKnownListsByFieldName) {
  const Json obj = Smp("Widget", R"({"spec":{"containers":[{"name":"a","image":"1"}],"items":[1,2],
                                            "ports":[{"port":1}]}})",
                       R"({"spec":{"containers":[{"name":"b","image":"2"}],"items":[3],
                                   "ports":[{"port":2}]}})");
  EXPECT_EQ(obj["spec"]["containers"].size(), 2u);
  EXPECT_EQ(obj["spec"]["items"], J("[3]"));
  EXPECT_EQ(obj["spec"]["ports"], J(R"([{"port":2}])"));  // ambiguous by name: replaced
}

TEST(StrategicMergePatch, NoDirectiveSurvivesIntoTheResult) {
  const Json pod = Smp("Pod", R"({"spec":{}})", R"({"spec":{"containers":[{"name":"a",
      "$setElementOrder/env":[{"name":"E"}],"env":[{"name":"E","value":"1"}],
      "$retainKeys":["name","env"]}]}})");
  EXPECT_EQ(pod, J(R"({"spec":{"containers":[{"name":"a","env":[{"name":"E","value":"1"}]}]}})"));
}

// --- Upstream fixtures (k8s.io/apimachinery strategicpatch patch_test.go) ----------------------
// Upstream's test struct has `mergingList` (merge key "name"), `mergingIntList` (primitive,
// merge), `nonMergingList` and `retainKeysMap`. Here they become fields with the same strategies
// under an unknown kind: volumes, finalizers, args and spec.

std::string Rename(std::string text) {
  const std::vector<std::pair<std::string, std::string>> names = {{"mergingIntList", "finalizers"},
                                                                  {"mergingList", "volumes"},
                                                                  {"nonMergingList", "args"},
                                                                  {"retainKeysMap", "spec"},
                                                                  {"simpleMap", "labels"}};
  for (const auto& [from, to] : names) {
    for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
      text.replace(pos, from.size(), to);
    }
  }
  return text;
}

struct Fixture {
  const char* description;
  const char* current;
  const char* patch;
  const char* result;
};

TEST(StrategicMergePatch, UpstreamFixtures) {
  const std::vector<Fixture> fixtures = {
      {"nested patch merge with empty list (three-way)",
       R"({"name":"hi","mergingList":[{"name":"hello2"}]})",
       R"({"$setElementOrder/mergingList":[{"name":"hello"},{"name":"doesntexist"}],
           "mergingList":[{"name":"hello"}]})",
       R"({"name":"hi","mergingList":[{"name":"hello"},{"name":"hello2"}]})"},
      {"nested patch merge with empty list (two-way)", R"({"name":"hi"})",
       R"({"mergingList":[{"name":"hello"},{"$patch":"delete","name":"doesntexist"}]})",
       R"({"name":"hi","mergingList":[{"name":"hello"}]})"},
      {"delete items in lists of scalars", R"({"mergingIntList":[1,2,3,4]})",
       R"({"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]})",
       R"({"mergingIntList":[1,2,4]})"},
      {"delete all duplicate items in lists of scalars", R"({"mergingIntList":[1,2,3,3,4]})",
       R"({"$setElementOrder/mergingIntList":[1,2],"$deleteFromPrimitiveList/mergingIntList":[3]})",
       R"({"mergingIntList":[1,2,4]})"},
      {"add and delete items in lists of scalars (two-way)", R"({"mergingIntList":[1,2,3]})",
       R"({"$setElementOrder/mergingIntList":[1,2,4],"$deleteFromPrimitiveList/mergingIntList":[3],
           "mergingIntList":[4]})",
       R"({"mergingIntList":[1,2,4]})"},
      {"merge lists of maps",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]})",
       R"({"$setElementOrder/mergingList":[{"name":4},{"name":1},{"name":2},{"name":3}],
           "mergingList":[{"name":4,"value":4},{"name":3,"value":3}]})",
       R"({"mergingList":[{"name":4,"value":4},{"name":1,"other":"a"},
                          {"name":2,"value":2,"other":"b"},{"name":3,"value":3}]})"},
      {"add field to map in merging list with conflict",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":3,"value":2,"other":"b"}]})",
       R"({"$setElementOrder/mergingList":[{"name":1},{"name":2}],
           "mergingList":[{"name":1,"value":1},{"name":2,"value":2}]})",
       R"({"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2},
                          {"name":3,"value":2,"other":"b"}]})"},
      {"delete missing map from merging list with conflict",
       R"({"mergingList":[{"name":3,"other":"a"}]})",
       R"({"$setElementOrder/mergingList":[{"name":2}],
           "mergingList":[{"name":2},{"name":1,"$patch":"delete"}]})",
       R"({"mergingList":[{"name":2},{"name":3,"other":"a"}]})"},
      {"add map and delete map from merging list",
       R"({"mergingList":[{"name":1},{"name":2,"other":"b"},{"name":4,"other":"c"}]})",
       R"({"$setElementOrder/mergingList":[{"name":2},{"name":3}],
           "mergingList":[{"name":3},{"name":1,"$patch":"delete"}]})",
       R"({"mergingList":[{"name":2,"other":"b"},{"name":4,"other":"c"},{"name":3}]})"},
      {"retainKeys map changes a field in a nested map with conflict",
       R"({"retainKeysMap":{"name":"foo","value":"bar",
                            "simpleMap":{"key1":"new","key2":"b","key3":"c"}}})",
       R"({"retainKeysMap":{"$retainKeys":["name","simpleMap","value"],
                            "simpleMap":{"key1":"modified"}}})",
       R"({"retainKeysMap":{"name":"foo","value":"bar",
                            "simpleMap":{"key1":"modified","key2":"b","key3":"c"}}})"},
      {"retainKeys map delete nested non-merging list with conflict",
       R"({"retainKeysMap":{"name":"foo",
                            "nonMergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]}})",
       R"({"retainKeysMap":{"$retainKeys":["name","value"],"value":"bar","nonMergingList":null}})",
       R"({"retainKeysMap":{"name":"foo","value":"bar"}})"},
      {"retainKeys map nested merging list with no change",
       R"({"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]}})",
       R"({"retainKeysMap":{"$retainKeys":["mergingList","name","value"],
           "$setElementOrder/mergingList":[{"name":"a"},{"name":"b"}],"value":"bar"}})",
       R"({"retainKeysMap":{"name":"foo","value":"bar",
                            "mergingList":[{"name":"a"},{"name":"b"},{"name":"c"}]}})"},
      {"retainKeys map adds an item in nested merging int list",
       R"({"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3]}})",
       R"({"retainKeysMap":{"$setElementOrder/mergingIntList":[1,2,4],
           "$retainKeys":["mergingIntList","name"],"mergingIntList":[4]}})",
       R"({"retainKeysMap":{"name":"foo","mergingIntList":[1,2,4,3]}})"},
      {"retainKeys map adds an item and deletes an item in nested merging int list",
       R"({"retainKeysMap":{"name":"foo","mergingIntList":[1,2,3,4]}})",
       R"({"retainKeysMap":{"$retainKeys":["mergingIntList","name"],"mergingIntList":[5],
           "$deleteFromPrimitiveList/mergingIntList":[2],
           "$setElementOrder/mergingIntList":[1,3,5]}})",
       R"({"retainKeysMap":{"name":"foo","mergingIntList":[1,3,5,4]}})"},
      {"retainKeys map deletes an item in nested merging list",
       R"({"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"b"},{"name":"x"}]}})",
       R"({"retainKeysMap":{"$retainKeys":["mergingList","name"],
           "$setElementOrder/mergingList":[{"name":"a"}],
           "mergingList":[{"name":"b","$patch":"delete"}]}})",
       R"({"retainKeysMap":{"name":"foo","mergingList":[{"name":"a"},{"name":"x"}]}})"},
      // Only right because upstream's deletion shifts the live list's Go backing array, which
      // later decides the order (see Backing in patch.cc).
      {"add map and delete map from merging list with conflict",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":4,"other":"c"}]})",
       R"({"$setElementOrder/mergingList":[{"name":2},{"name":3}],
           "mergingList":[{"name":2},{"name":3},{"name":1,"$patch":"delete"}]})",
       R"({"mergingList":[{"name":4,"other":"c"},{"name":2},{"name":3}]})"},
      {"delete field from map in merging list",
       R"({"mergingList":[{"name":1,"value":1,"other":"a"},{"name":2,"value":2,"other":"b"}]})",
       R"({"$setElementOrder/mergingList":[{"name":1},{"name":2}],
           "mergingList":[{"name":1,"value":null}]})",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]})"},
      {"replace non merging list nested in merging list with deletion conflict",
       R"({"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":2,"value":2}]},
                          {"name":2,"other":"b"}]})",
       R"({"$setElementOrder/mergingList":[{"name":1},{"name":2}],
           "mergingList":[{"name":1,"nonMergingList":[{"name":1,"value":1}]}]})",
       R"({"mergingList":[{"name":1,"other":"a","nonMergingList":[{"name":1,"value":1}]},
                          {"name":2,"other":"b"}]})"},
      {"add field to map in merging list nested in merging list with deletion conflict",
       R"({"mergingList":[{"name":1,"other":"a","mergingList":[{"name":2,"value":2,"other":"d"}]},
                          {"name":2,"other":"b"}]})",
       R"({"$setElementOrder/mergingList":[{"name":1},{"name":2}],
           "mergingList":[{"$setElementOrder/mergingList":[{"name":2},{"name":1}],"name":1,
                           "mergingList":[{"name":1,"value":1}]}]})",
       R"({"mergingList":[{"name":1,"other":"a","mergingList":[{"name":2,"value":2,"other":"d"},
                                                               {"name":1,"value":1}]},
                          {"name":2,"other":"b"}]})"},
      {"add map to merging list by pointer with conflict", R"({"mergingList":[{"name":3}]})",
       R"({"$setElementOrder/mergingList":[{"name":1},{"name":2}],
           "mergingList":[{"name":1},{"name":2}]})",
       R"({"mergingList":[{"name":1},{"name":2},{"name":3}]})"},
      {"merge lists of scalars", R"({"mergingIntList":[1,2,4]})",
       R"({"$setElementOrder/mergingIntList":[1,2,3],"mergingIntList":[3]})",
       R"({"mergingIntList":[1,2,3,4]})"},
      {"add an item in a list of primitives and preserve order", R"({"mergingIntList":[1,4,2]})",
       R"({"$setElementOrder/mergingIntList":[3,1,2],"mergingIntList":[3]})",
       R"({"mergingIntList":[3,1,4,2]})"},
      {"delete an item in a list of primitives and preserve order", R"({"mergingIntList":[1,2,3]})",
       R"({"$setElementOrder/mergingIntList":[2,1],"$deleteFromPrimitiveList/mergingIntList":[3]})",
       R"({"mergingIntList":[2,1]})"},
      {"add an item in a list and preserve order",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]})",
       R"({"$setElementOrder/mergingList":[{"name":3},{"name":1},{"name":2}],
           "mergingList":[{"name":3,"value":3}]})",
       R"({"mergingList":[{"name":3,"value":3},{"name":1,"other":"a"},
                          {"name":2,"value":2,"other":"b"}]})"},
      {"add multiple items in a list and preserve order",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]})",
       R"({"$setElementOrder/mergingList":[{"name":1},{"name":4},{"name":2},{"name":3}],
           "mergingList":[{"name":4,"value":4},{"name":3,"value":3}]})",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":4,"value":4},
                          {"name":2,"value":2,"other":"b"},{"name":3,"value":3}]})"},
      {"delete an item in a list and preserve order",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},
                          {"name":3,"value":3}]})",
       R"({"$setElementOrder/mergingList":[{"name":2},{"name":1}],
           "mergingList":[{"name":3,"$patch":"delete"}]})",
       R"({"mergingList":[{"name":2,"value":2,"other":"b"},{"name":1,"other":"a"}]})"},
      {"change an item in a list and preserve order",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},
                          {"name":3,"value":3}]})",
       R"({"$setElementOrder/mergingList":[{"name":2},{"name":3},{"name":1}],
           "mergingList":[{"name":3,"value":"x"}]})",
       R"({"mergingList":[{"name":2,"value":2,"other":"b"},{"name":3,"value":"x"},
                          {"name":1,"other":"a"}]})"},
      {"add and delete an item in a list and preserve order",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},
                          {"name":3,"value":3}]})",
       R"({"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":1}],
           "mergingList":[{"name":4,"value":4},{"name":3,"$patch":"delete"}]})",
       R"({"mergingList":[{"name":4,"value":4},{"name":2,"value":2,"other":"b"},
                          {"name":1,"other":"a"}]})"},
      {"set elements order in a list with server-only items",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":3,"value":3},{"name":4,"value":4},
                          {"name":2,"value":2},{"name":9}]})",
       R"({"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":3},{"name":1}]})",
       R"({"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},
                          {"name":1,"other":"a"},{"name":9}]})"},
      {"set elements order in a list with server-only items 2",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2},{"name":9},
                          {"name":3,"value":3},{"name":4,"value":4}]})",
       R"({"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]})",
       R"({"mergingList":[{"name":2,"value":2},{"name":1,"other":"a"},{"name":9},
                          {"name":4,"value":4},{"name":3,"value":3}]})"},
      {"set elements order in a list with server-only items 3",
       R"({"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2},{"name":7},{"name":9},
                          {"name":8},{"name":3,"value":3},{"name":4,"value":4}]})",
       R"({"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]})",
       R"({"mergingList":[{"name":2,"value":2},{"name":1,"other":"a"},{"name":7},{"name":9},
                          {"name":8},{"name":4,"value":4},{"name":3,"value":3}]})"},
  };
  for (const auto& f : fixtures) {
    auto result =
        ApplyStrategicMergePatch(J(Rename(f.current)), J(Rename(f.patch)), "UpstreamFixture");
    ASSERT_TRUE(result.ok()) << f.description << ": " << result.status().ToString();
    EXPECT_EQ(*result, J(Rename(f.result))) << f.description;
  }
}

}  // namespace
}  // namespace aidi::kube

namespace aidi::kube {
namespace {

// evanphx/json-patch v4 (the API server's library): null matches a member missing from an
// object that exists, which finalizer helpers rely on; a missing parent still fails.
TEST(JsonPatchTest, TestNullMatchesAMissingMemberOfAnExistingObject) {
  auto ok = ApplyJsonPatch(
      nlohmann::json::parse(R"({"metadata":{"name":"x"}})"),
      nlohmann::json::parse(R"([{"op":"test","path":"/metadata/finalizers","value":null},
                                {"op":"add","path":"/metadata/finalizers","value":["f"]}])"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)["metadata"]["finalizers"], nlohmann::json::array({"f"}));
  auto present = ApplyJsonPatch(
      nlohmann::json::parse(R"({"metadata":{"finalizers":["g"]}})"),
      nlohmann::json::parse(R"([{"op":"test","path":"/metadata/finalizers","value":null}])"));
  EXPECT_FALSE(present.ok());
  auto no_parent = ApplyJsonPatch(
      nlohmann::json::parse(R"({"spec":{}})"),
      nlohmann::json::parse(R"([{"op":"test","path":"/metadata/finalizers","value":null}])"));
  EXPECT_FALSE(no_parent.ok());
}

}  // namespace
}  // namespace aidi::kube
