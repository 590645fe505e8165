// ApiServer semantics, driven in-process through a recording ResponseWriter (no sockets).
// kubectl and python-kubernetes drive the real binary in tests/devcluster/.
#include "devcluster/api_server.h"
#include "devcluster/testing/api_test_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace aidi::devcluster {
namespace {

using nlohmann::json;

using testing::RecordingWriter;

constexpr const char* kToken = "test-token";

class ApiServerTest : public ::testing::Test {
 protected:
  ApiServerTest() : store_(1000), api_(Options(), store_) {}
  static ApiServerOptions Options() {
    ApiServerOptions o;
    o.token = kToken;
    o.enable_faults = true;
    o.bookmark_interval = std::chrono::milliseconds(100);
    return o;
  }
  void SetUp() override { ASSERT_TRUE(api_.Init().ok()); }
  void TearDown() override { api_.Stop(); }

  using Response = testing::ApiResponse;

  Response Call(const std::string& method, const std::string& target, const json& body = nullptr,
                const std::string& content_type = "application/json",
                const std::string& accept = "") {
    return testing::CallApi(api_, kToken, method, target, body, content_type, accept);
  }

  void CreateCrd() {
    json crd = json::parse(R"({
      "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
      "metadata": {"name": "widgets.example.com"},
      "spec": {"group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [{"name": "v1", "served": true, "storage": true,
          "subresources": {"status": {}},
          "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}],
          "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "required": ["size"], "properties": {
              "size": {"type": "integer", "minimum": 1},
              "color": {"type": "string", "enum": ["red", "blue"], "default": "red"}}},
            "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}})");
    auto r = Call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
    ASSERT_EQ(r.code, 201) << r.raw;
  }

  json Widget(const std::string& name, int size) {
    return {{"apiVersion", "example.com/v1"},
            {"kind", "Widget"},
            {"metadata", {{"name", name}}},
            {"spec", {{"size", size}}}};
  }

  const std::string widgets_ = "/apis/example.com/v1/namespaces/default/widgets";
  Store store_;
  ApiServer api_;
};

TEST_F(ApiServerTest, RejectsRequestsWithoutTheToken) {
  http::Request req;
  req.method = "GET";
  req.path = "/api/v1/namespaces";
  RecordingWriter w;
  api_.Handle(req, w);
  EXPECT_EQ(w.code, 401);
  EXPECT_EQ(json::parse(w.body)["reason"], "Unauthorized");
  req.path = "/healthz";
  RecordingWriter h;
  api_.Handle(req, h);
  EXPECT_EQ(h.code, 200);
}

TEST_F(ApiServerTest, CrdIsServedAndEstablishedAtOnce) {
  EXPECT_EQ(Call("GET", widgets_).code, 404);
  CreateCrd();
  auto crd =
      Call("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
  std::set<std::string> established;
  for (auto& c : crd.body["status"]["conditions"]) {
    if (c["status"] == "True") established.insert(c["type"].get<std::string>());
  }
  EXPECT_TRUE(established.count("Established") && established.count("NamesAccepted"));
  auto disc = Call("GET", "/apis/example.com/v1");
  ASSERT_EQ(disc.code, 200);
  EXPECT_EQ(disc.body["resources"][0]["name"], "widgets");
  EXPECT_EQ(disc.body["resources"][0]["shortNames"][0], "wd");
  auto agg = Call("GET", "/apis", nullptr, "",
                  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  bool found = false;
  for (auto& g : agg.body["items"]) found |= g["metadata"]["name"] == "example.com";
  EXPECT_TRUE(found) << agg.raw;
  EXPECT_EQ(Call("GET", widgets_).code, 200);
}

TEST_F(ApiServerTest, CustomResourceCrudWithValidationDefaultsAndConflicts) {
  CreateCrd();
  auto bad = Call("POST", widgets_, json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget",
      "metadata":{"name":"w"},"spec":{"size":0,"color":"green"}})"));
  EXPECT_EQ(bad.code, 422) << bad.raw;
  EXPECT_EQ(bad.body["reason"], "Invalid");
  EXPECT_EQ(bad.body["details"]["causes"].size(), 2u) << "both bad fields are named";
  EXPECT_NE(bad.body["message"].get<std::string>().find("spec.size"), std::string::npos);
  EXPECT_NE(bad.body["message"].get<std::string>().find("spec.color"), std::string::npos);

  json with_unknown_meta = Widget("w", 3);
  with_unknown_meta["metadata"]["bogus"] = 1;
  auto strict = Call("POST", widgets_ + "?fieldValidation=Strict", with_unknown_meta);
  EXPECT_EQ(strict.code, 400) << strict.raw;
  EXPECT_NE(strict.raw.find("unknown field \\\"metadata.bogus\\\""), std::string::npos)
      << strict.raw;
  auto created = Call("POST", widgets_, with_unknown_meta);
  ASSERT_EQ(created.code, 201) << created.raw;
  EXPECT_FALSE(created.body["metadata"].contains("bogus")) << "unknown metadata is pruned";
  EXPECT_EQ(created.body["spec"]["color"], "red") << "schema default applied";
  EXPECT_EQ(created.body["metadata"]["generation"], 1);
  EXPECT_EQ(Call("POST", widgets_, Widget("w", 3)).body["reason"], "AlreadyExists");

  json stale = created.body;
  json update = created.body;
  update["spec"]["size"] = 4;
  auto updated = Call("PUT", widgets_ + "/w", update);
  ASSERT_EQ(updated.code, 200) << updated.raw;
  EXPECT_EQ(updated.body["metadata"]["generation"], 2);
  stale["spec"]["size"] = 9;
  auto conflict = Call("PUT", widgets_ + "/w", stale);
  EXPECT_EQ(conflict.code, 409);
  EXPECT_EQ(conflict.body["reason"], "Conflict");

  // A write that changes nothing keeps the resourceVersion.
  auto again = Call("PUT", widgets_ + "/w", updated.body);
  EXPECT_EQ(again.body["metadata"]["resourceVersion"], updated.body["metadata"]["resourceVersion"]);
}

TEST_F(ApiServerTest, StatusSubresourceSplitsSpecAndStatus) {
  CreateCrd();
  auto created = Call("POST", widgets_, Widget("w", 3));
  json obj = created.body;
  obj["status"] = {{"phase", "Ready"}};
  obj["spec"]["size"] = 7;
  auto main = Call("PUT", widgets_ + "/w", obj);
  EXPECT_FALSE(main.body.contains("status")) << "main endpoint ignores status";
  EXPECT_EQ(main.body["spec"]["size"], 7);
  obj = main.body;
  obj["status"] = {{"phase", "Ready"}};
  obj["spec"]["size"] = 100;
  auto st = Call("PUT", widgets_ + "/w/status", obj);
  ASSERT_EQ(st.code, 200) << st.raw;
  EXPECT_EQ(st.body["status"]["phase"], "Ready");
  EXPECT_EQ(st.body["spec"]["size"], 7) << "status endpoint ignores spec";
  EXPECT_EQ(st.body["metadata"]["generation"], 2) << "status writes do not bump generation";
  auto patched = Call("PATCH", widgets_ + "/w/status", json{{"status", {{"phase", "Done"}}}},
                      "application/merge-patch+json");
  EXPECT_EQ(patched.body["status"]["phase"], "Done");
}

TEST_F(ApiServerTest, PatchesAndPreconditions) {
  auto cm = Call("POST", "/api/v1/namespaces/default/configmaps",
                 json{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", {{"name", "c"}}},
                      {"data", {{"a", "1"}}}});
  ASSERT_EQ(cm.code, 201) << cm.raw;
  auto merged = Call("PATCH", "/api/v1/namespaces/default/configmaps/c",
                     json{{"data", {{"b", "2"}}}}, "application/merge-patch+json");
  EXPECT_EQ(merged.body["data"], (json{{"a", "1"}, {"b", "2"}}));
  auto failed_test =
      Call("PATCH", "/api/v1/namespaces/default/configmaps/c",
           json::parse(
               R"([{"op":"test","path":"/data/a","value":"9"},{"op":"remove","path":"/data/a"}])"),
           "application/json-patch+json");
  EXPECT_EQ(failed_test.code, 422) << failed_test.raw;
  auto stale = Call("PATCH", "/api/v1/namespaces/default/configmaps/c",
                    json{{"metadata", {{"resourceVersion", "1"}}}, {"data", {{"c", "3"}}}},
                    "application/merge-patch+json");
  EXPECT_EQ(stale.code, 409);
  auto unsupported =
      Call("PATCH", "/api/v1/namespaces/default/configmaps/c", json::object(), "text/plain");
  EXPECT_EQ(unsupported.code, 415);
}

TEST_F(ApiServerTest, FinalizersHoldDeletionUntilRemoved) {
  auto cm = Call("POST", "/api/v1/namespaces/default/configmaps",
                 json{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", {{"name", "f"}, {"finalizers", {"example.com/hold"}}}}});
  ASSERT_EQ(cm.code, 201);
  auto del = Call("DELETE", "/api/v1/namespaces/default/configmaps/f");
  EXPECT_EQ(del.code, 200);
  auto got = Call("GET", "/api/v1/namespaces/default/configmaps/f");
  ASSERT_EQ(got.code, 200);
  EXPECT_TRUE(got.body["metadata"].contains("deletionTimestamp"));
  json add = got.body;
  add["metadata"]["finalizers"].push_back("example.com/another");
  EXPECT_EQ(Call("PUT", "/api/v1/namespaces/default/configmaps/f", add).code, 422);
  auto released =
      Call("PATCH", "/api/v1/namespaces/default/configmaps/f",
           json{{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json");
  EXPECT_EQ(released.code, 200) << released.raw;
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/f").code, 404);
}

TEST_F(ApiServerTest, GarbageCollectsDependentsInTheBackground) {
  auto owner =
      Call("POST", "/api/v1/namespaces/default/configmaps",
           json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "owner"}}}});
  std::string uid = owner.body["metadata"]["uid"];
  json ref = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "owner"}, {"uid", uid}};
  for (const char* n : {"d1", "d2"}) {
    ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps",
                   json{{"apiVersion", "v1"},
                        {"kind", "ConfigMap"},
                        {"metadata", {{"name", n}, {"ownerReferences", {ref}}}}})
                  .code,
              201);
  }
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/default/configmaps/owner").code, 200);
  for (int i = 0; i < 500 && Call("GET", "/api/v1/namespaces/default/configmaps/d2").code != 404;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/d1").code, 404);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/d2").code, 404);
}

TEST_F(ApiServerTest, OrphanDeletionKeepsDependents) {
  auto owner =
      Call("POST", "/api/v1/namespaces/default/configmaps",
           json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "owner"}}}});
  json ref = {{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"name", "owner"},
              {"uid", owner.body["metadata"]["uid"]}};
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps",
                 json{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", {{"name", "kid"}, {"ownerReferences", {ref}}}}})
                .code,
            201);
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/default/configmaps/owner",
                 json{{"propagationPolicy", "Orphan"}})
                .code,
            200);
  for (int i = 0; i < 500 && Call("GET", "/api/v1/namespaces/default/configmaps/owner").code != 404;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto kid = Call("GET", "/api/v1/namespaces/default/configmaps/kid");
  ASSERT_EQ(kid.code, 200);
  EXPECT_FALSE(kid.body["metadata"].contains("ownerReferences"));
}

TEST_F(ApiServerTest, ListsWithSelectorsAndChunks) {
  for (int i = 0; i < 5; ++i) {
    json cm = {
        {"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata",
         {{"name", "c" + std::to_string(i)}, {"labels", {{"tier", i % 2 ? "odd" : "even"}}}}}};
    ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", cm).code, 201);
  }
  auto odd = Call("GET", "/api/v1/namespaces/default/configmaps?labelSelector=tier=odd");
  EXPECT_EQ(odd.body["items"].size(), 2u);
  auto by_name =
      Call("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name=c3");
  ASSERT_EQ(by_name.body["items"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=data.x=1").code, 400);
  auto page1 = Call("GET", "/api/v1/namespaces/default/configmaps?limit=2");
  ASSERT_EQ(page1.body["items"].size(), 2u);
  EXPECT_EQ(page1.body["metadata"]["remainingItemCount"], 3);
  std::string cont = page1.body["metadata"]["continue"];
  // Writes after the first page do not show up in later pages (a consistent snapshot).
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps",
                 json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c9"}}}})
                .code,
            201);
  std::vector<std::string> names;
  for (auto& i : page1.body["items"]) names.push_back(i["metadata"]["name"]);
  while (!cont.empty()) {
    auto page = Call("GET", "/api/v1/namespaces/default/configmaps?limit=2&continue=" + cont);
    ASSERT_EQ(page.code, 200) << page.raw;
    for (auto& i : page.body["items"]) names.push_back(i["metadata"]["name"]);
    cont = page.body["metadata"].value("continue", "");
  }
  EXPECT_EQ(names, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4"}));
  // After compaction the token is too old: 410 Expired.
  ASSERT_EQ(Call("POST", "/devcluster/faults/compact").code, 200);
  auto expired = Call("GET", "/api/v1/namespaces/default/configmaps?limit=2&continue=" +
                                 page1.body["metadata"]["continue"].get<std::string>());
  EXPECT_EQ(expired.code, 410);
  EXPECT_EQ(expired.body["reason"], "Expired");
}

TEST_F(ApiServerTest, TablesUsePrinterColumns) {
  CreateCrd();
  ASSERT_EQ(Call("POST", widgets_, Widget("w", 5)).code, 201);
  auto table = Call("GET", widgets_, nullptr, "",
                    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  ASSERT_EQ(table.code, 200) << table.raw;
  EXPECT_EQ(table.body["kind"], "Table");
  std::vector<std::string> cols;
  for (auto& c : table.body["columnDefinitions"]) cols.push_back(c["name"]);
  ASSERT_GE(cols.size(), 2u);
  EXPECT_EQ(cols[0], "Name");
  EXPECT_EQ(cols[1], "Size");
  EXPECT_EQ(table.body["rows"][0]["cells"][1], 5);
  EXPECT_EQ(table.body["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

TEST_F(ApiServerTest, WatchDeliversSelectorTransitionsAndExpires) {
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps",
                 json{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", {{"name", "w"}, {"labels", {{"app", "x"}}}}}})
                .code,
            201);
  std::string rv = std::to_string(store_.CurrentRv());
  RecordingWriter w;
  http::Request req;
  req.method = "GET";
  req.path = "/api/v1/namespaces/default/configmaps";
  req.query = {{"watch", "1"},
               {"resourceVersion", rv},
               {"labelSelector", "app=x"},
               {"timeoutSeconds", "5"},
               {"allowWatchBookmarks", "true"}};
  req.headers["authorization"] = std::string("Bearer ") + kToken;
  std::thread watcher([&] { api_.Handle(req, w); });
  (void)Call("PATCH", "/api/v1/namespaces/default/configmaps/w",
             json{{"metadata", {{"labels", {{"app", "y"}}}}}}, "application/merge-patch+json");
  (void)Call("PATCH", "/api/v1/namespaces/default/configmaps/w",
             json{{"metadata", {{"labels", {{"app", "x"}}}}}}, "application/merge-patch+json");
  std::vector<json> lines;
  for (int i = 0; i < 100; ++i) {
    lines = w.Lines();
    bool bookmark = false;
    for (auto& l : lines) bookmark |= l["type"] == "BOOKMARK";
    if (lines.size() >= 3 && bookmark) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  w.closed = true;
  watcher.join();
  ASSERT_GE(lines.size(), 3u) << w.Body();
  EXPECT_EQ(lines[0]["type"], "DELETED") << "leaving the selector reads as DELETED";
  EXPECT_EQ(lines[1]["type"], "ADDED") << "entering it reads as ADDED";
  EXPECT_EQ(lines[2]["type"], "BOOKMARK");

  RecordingWriter old;
  req.query = {{"watch", "1"}, {"resourceVersion", "1"}};
  ASSERT_EQ(Call("POST", "/devcluster/faults/compact").code, 200);
  api_.Handle(req, old);
  auto err = old.Lines();
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(err[0]["type"], "ERROR");
  EXPECT_EQ(err[0]["object"]["code"], 410);
  EXPECT_EQ(err[0]["object"]["reason"], "Expired");
}

TEST_F(ApiServerTest, BadInputGetsClearErrors) {
  auto malformed = Call("POST", "/api/v1/namespaces/default/configmaps", json("{not json"));
  EXPECT_EQ(malformed.code, 400);
  EXPECT_EQ(malformed.body["reason"], "BadRequest");
  EXPECT_EQ(Call("GET", "/apis/nope.example.com/v1/things").code, 404);
  auto deep = Call("POST", "/api/v1/namespaces/default/configmaps", json(std::string(200000, '[')));
  EXPECT_EQ(deep.code, 400) << "hostile nesting is refused, not recursed into";
  auto bad_utf8_yaml =
      Call("POST", "/api/v1/namespaces/default/configmaps",
           json("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: u}\ndata: {a: \"\xfc"
                "\"}\n"),
           "application/yaml");
  EXPECT_EQ(bad_utf8_yaml.code, 400) << bad_utf8_yaml.raw;
  auto bad_utf8_selector = Call("GET",
                                "/api/v1/pods?labelSelector=a\x93"
                                "b");
  EXPECT_EQ(bad_utf8_selector.code, 400) << "the error quotes the selector and still encodes";
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps", json("a: b"), "text/csv").code,
            415);
  auto wrong_ns = Call("POST", "/api/v1/namespaces/default/configmaps",
                       json{{"apiVersion", "v1"},
                            {"kind", "ConfigMap"},
                            {"metadata", {{"name", "x"}, {"namespace", "other"}}}});
  EXPECT_EQ(wrong_ns.code, 400);
  auto no_ns =
      Call("POST", "/api/v1/namespaces/missing/configmaps",
           json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}});
  EXPECT_EQ(no_ns.code, 404);
  EXPECT_EQ(no_ns.body["message"], "namespaces \"missing\" not found");
  auto yaml = Call(
      "POST", "/api/v1/namespaces/default/configmaps",
      json("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  n: \"1\"\n"),
      "application/yaml");
  EXPECT_EQ(yaml.code, 201) << yaml.raw;
}

TEST_F(ApiServerTest, InjectedFaultsAndRequestLog) {
  ASSERT_EQ(Call("POST", "/devcluster/faults/errors",
                 json{{"verb", "list"},
                      {"resource", "configmaps"},
                      {"code", 429},
                      {"count", 1},
                      {"retryAfterSeconds", 2}})
                .code,
            201);
  auto limited = Call("GET", "/api/v1/namespaces/default/configmaps");
  EXPECT_EQ(limited.code, 429);
  EXPECT_EQ(limited.body["details"]["retryAfterSeconds"], 2);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps").code, 200) << "count 1 fires once";
  auto log = Call("GET", "/devcluster/requests");
  EXPECT_EQ(log.body["counts"]["list configmaps"], 2);
}

// RBAC tests diff what each component used against what its Role grants: the request log
// counts per client (the User-Agent's product) with subresources kept apart.
TEST_F(ApiServerTest, RequestLogCountsPerUserAgentWithSubresources) {
  ASSERT_EQ(Call("DELETE", "/devcluster/requests").code, 200);
  auto call = [&](const std::string& method, const std::string& target, const json& body,
                  const std::string& agent) {
    return testing::CallApi(api_, kToken, method, target, body, "application/json", "", agent);
  };
  const std::string pods = "/api/v1/namespaces/default/pods";
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}}},
              {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "i"}}})}}}};
  EXPECT_EQ(call("POST", pods, pod, "aidi-operator").code, 201);
  EXPECT_EQ(call("GET", pods, nullptr, "aidi-operator").code, 200);
  json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", "p"}}},
                  {"target", {{"kind", "Node"}, {"name", "n1"}}}};
  EXPECT_EQ(call("POST", pods + "/p/binding", binding, "kubectl/v1.32.0 (linux/amd64)").code, 201);
  EXPECT_EQ(call("GET", pods + "/p/status", nullptr, "aidi-scheduler-extender").code, 200);
  EXPECT_EQ(call("GET", "/version", nullptr, "").code, 200);

  auto log = Call("GET", "/devcluster/requests").body;
  EXPECT_EQ(log["total"], 5);
  EXPECT_EQ(log["counts"]["create pods"], 1);  // the existing fields are unchanged
  EXPECT_EQ(log["counts"]["create pods/binding"], 1);
  EXPECT_EQ(log["byAgent"]["aidi-operator"], (json{{"create pods", 1}, {"list pods", 1}}));
  EXPECT_EQ(log["byAgent"]["kubectl"], (json{{"create pods/binding", 1}}));
  EXPECT_EQ(log["byAgent"]["aidi-scheduler-extender"], (json{{"get pods/status", 1}}));
  EXPECT_EQ(log["byAgent"]["unknown"], (json{{"GET /version", 1}}));

  ASSERT_EQ(Call("DELETE", "/devcluster/requests").code, 200);
  log = Call("GET", "/devcluster/requests").body;
  EXPECT_EQ(log["total"], 0);
  EXPECT_EQ(log["byAgent"], json::object());
}

TEST_F(ApiServerTest, NamespaceDeletionEmptiesItFirst) {
  ASSERT_EQ(Call("POST", "/api/v1/namespaces",
                 json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "tmp"}}}})
                .code,
            201);
  // A finalizer on its content keeps the namespace terminating until released.
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/tmp/configmaps",
                 json{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", {{"name", "held"}, {"finalizers", {"example.com/hold"}}}}})
                .code,
            201);
  auto del = Call("DELETE", "/api/v1/namespaces/tmp");
  EXPECT_EQ(del.body["status"]["phase"], "Terminating");
  auto refused =
      Call("POST", "/api/v1/namespaces/tmp/configmaps",
           json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "d"}}}});
  EXPECT_EQ(refused.code, 403) << refused.raw;
  for (int i = 0; i < 500; ++i) {
    auto held = Call("GET", "/api/v1/namespaces/tmp/configmaps/held");
    if (held.body["metadata"].contains("deletionTimestamp")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/tmp").code, 200) << "still terminating";
  ASSERT_EQ(Call("PATCH", "/api/v1/namespaces/tmp/configmaps/held",
                 json{{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json")
                .code,
            200);
  for (int i = 0; i < 500 && Call("GET", "/api/v1/namespaces/tmp").code != 404; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/tmp").code, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/default").code, 403);
}

TEST_F(ApiServerTest, PodBindingSetsNodeOnce) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
  auto created = Call("POST", "/api/v1/namespaces/default/pods", pod);
  ASSERT_EQ(created.code, 201) << created.raw;
  EXPECT_EQ(created.body["status"]["phase"], "Pending");
  json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", "p"}}},
                  {"target", {{"kind", "Node"}, {"name", "n1"}}}};
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/pods/p/binding", binding).code, 201);
  auto again = Call("POST", "/api/v1/namespaces/default/pods/p/binding", binding);
  EXPECT_EQ(again.code, 409);
  auto on_node = Call("GET", "/api/v1/pods?fieldSelector=spec.nodeName=n1");
  EXPECT_EQ(on_node.body["items"].size(), 1u);
  auto logs = Call("GET", "/api/v1/namespaces/default/pods/p/log");
  EXPECT_EQ(logs.code, 200);
}

}  // namespace
}  // namespace aidi::devcluster

namespace aidi::devcluster {
namespace {

TEST_F(ApiServerTest, DeploymentScaleSubresource) {
  json dep = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", "web"}}},
              {"spec",
               {{"replicas", 2},
                {"selector", {{"matchLabels", {{"app", "web"}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", "web"}}}}},
                  {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}}}}}};
  ASSERT_EQ(Call("POST", "/apis/apps/v1/namespaces/default/deployments", dep).code, 201);
  auto scale = Call("GET", "/apis/apps/v1/namespaces/default/deployments/web/scale");
  ASSERT_EQ(scale.code, 200) << scale.raw;
  EXPECT_EQ(scale.body["kind"], "Scale");
  EXPECT_EQ(scale.body["spec"]["replicas"], 2);
  EXPECT_EQ(scale.body["status"]["selector"], "app=web");
  auto patched = Call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                      json{{"spec", {{"replicas", 5}}}}, "application/merge-patch+json");
  ASSERT_EQ(patched.code, 200) << patched.raw;
  auto got = Call("GET", "/apis/apps/v1/namespaces/default/deployments/web");
  EXPECT_EQ(got.body["spec"]["replicas"], 5);
  EXPECT_EQ(got.body["metadata"]["generation"], 2);
  auto negative = Call("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                       json{{"spec", {{"replicas", -1}}}}, "application/merge-patch+json");
  EXPECT_EQ(negative.code, 422);
}

TEST_F(ApiServerTest, ConfigMapDataIsCappedAtOneMebibyte) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "big"}}},
             {"data", {{"blob", std::string(1024 * 1024 + 1, 'x')}}}};
  auto r = Call("POST", "/api/v1/namespaces/default/configmaps", cm);
  EXPECT_EQ(r.code, 422) << r.raw.substr(0, 300);
  EXPECT_EQ(Call("PUT", "/api/v1/namespaces/default/configmaps", cm).code, 405);
}

}  // namespace
}  // namespace aidi::devcluster

namespace aidi::devcluster {
namespace {

TEST_F(ApiServerTest, ForegroundDeletionWaitsForDependents) {
  auto owner =
      Call("POST", "/api/v1/namespaces/default/configmaps",
           json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "fg"}}}});
  json ref = {{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"name", "fg"},
              {"uid", owner.body["metadata"]["uid"]},
              {"blockOwnerDeletion", true}};
  // The dependent holds a finalizer, so the owner must wait in foregroundDeletion.
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/configmaps",
                 json{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata",
                       {{"name", "fg-kid"},
                        {"ownerReferences", {ref}},
                        {"finalizers", {"example.com/hold"}}}}})
                .code,
            201);
  auto del = Call("DELETE", "/api/v1/namespaces/default/configmaps/fg",
                  json{{"propagationPolicy", "Foreground"}});
  ASSERT_EQ(del.code, 200);
  EXPECT_EQ(del.body["metadata"]["finalizers"][0], "foregroundDeletion");
  for (int i = 0; i < 500; ++i) {
    auto kid = Call("GET", "/api/v1/namespaces/default/configmaps/fg-kid");
    if (kid.body["metadata"].contains("deletionTimestamp")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/fg").code, 200)
      << "the owner stays while a dependent remains";
  ASSERT_EQ(Call("PATCH", "/api/v1/namespaces/default/configmaps/fg-kid",
                 json{{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json")
                .code,
            200);
  for (int i = 0; i < 500 && Call("GET", "/api/v1/namespaces/default/configmaps/fg").code != 404;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/configmaps/fg").code, 404);
}

}  // namespace
}  // namespace aidi::devcluster
