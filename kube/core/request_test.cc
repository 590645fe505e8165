#include "kube/core/request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace aidi::kube {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

const ResourceRef kPipelines{"aidi.dev", "v1alpha1", "pipelines", "Pipeline", true};

TEST(UrlEncode, KeepsUnreservedCharacters) {
  EXPECT_EQ(UrlEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(UrlEncode(""), "");
}

TEST(UrlEncode, EscapesEverythingElseAsUpperCaseHex) {
  EXPECT_EQ(UrlEncode("app in (a,b)"), "app%20in%20%28a%2Cb%29");
  EXPECT_EQ(UrlEncode("a=b,c!=d"), "a%3Db%2Cc%21%3Dd");
  EXPECT_EQ(UrlEncode("a/b?c&d#e%f+g"), "a%2Fb%3Fc%26d%23e%25f%2Bg");
  // Bytes above 0x7f (UTF-8) are escaped one byte at a time.
  EXPECT_EQ(UrlEncode("\xc3\xa9"), "%C3%A9");
}

TEST(RequestBuilder, TargetEscapesQueryKeysAndValuesInOrder) {
  HttpRequest r;
  r.path = "/api/v1/pods";
  EXPECT_EQ(r.Target(), "/api/v1/pods");
  r.query = {{"labelSelector", "a=b"}, {"limit", "5"}};
  EXPECT_EQ(r.Target(), "/api/v1/pods?labelSelector=a%3Db&limit=5");
  EXPECT_EQ(r.Query("limit"), "5");
  EXPECT_EQ(r.Query("continue"), std::nullopt);
}

TEST(RequestBuilder, GetIsAPlainGetOfTheObjectPath) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.Get("web-0");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/api/v1/namespaces/default/pods/web-0");
  EXPECT_TRUE(r.query.empty());
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.content_type, "");
  EXPECT_EQ(r.accept, "application/json");
  EXPECT_FALSE(r.watch);
  EXPECT_EQ(r.Target(), "/api/v1/namespaces/default/pods/web-0");
}

TEST(RequestBuilder, ListWithoutParamsHasNoQuery) {
  HttpRequest r = RequestBuilder(resources::kConfigMaps, "kube-system").List({});
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.Target(), "/api/v1/namespaces/kube-system/configmaps");
  EXPECT_FALSE(r.watch);
}

TEST(RequestBuilder, ListSendsSelectorsLimitAndResourceVersion) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.List({.label_selector = "app=web",
                             .field_selector = "spec.nodeName=n1",
                             .limit = 500,
                             .resource_version = "42",
                             .resource_version_match = "NotOlderThan"});
  EXPECT_EQ(r.query, (Query{{"labelSelector", "app=web"},
                            {"fieldSelector", "spec.nodeName=n1"},
                            {"limit", "500"},
                            {"resourceVersion", "42"},
                            {"resourceVersionMatch", "NotOlderThan"}}));
  EXPECT_EQ(
      r.Target(),
      "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1"
      "&limit=500&resourceVersion=42&resourceVersionMatch=NotOlderThan");
}

TEST(RequestBuilder, ListWithContinueSendsNoResourceVersion) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.List({.limit = 100,
                             .continue_token = "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==",
                             .resource_version = "42",
                             .resource_version_match = "Exact"});
  EXPECT_EQ(r.query, (Query{{"limit", "100"}, {"continue", "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ=="}}));
  EXPECT_EQ(r.Query("resourceVersion"), std::nullopt);
  EXPECT_EQ(r.Query("resourceVersionMatch"), std::nullopt);
  EXPECT_EQ(
      r.Target(),
      "/api/v1/namespaces/default/pods?limit=100&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ%3D%3D");
}

TEST(RequestBuilder, ListSendsResourceVersionMatchOnlyWithResourceVersion) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.List({.resource_version_match = "NotOlderThan"});
  EXPECT_TRUE(r.query.empty());
  HttpRequest any = pods.List({.resource_version = "0"});
  EXPECT_EQ(any.query, (Query{{"resourceVersion", "0"}}));
}

TEST(RequestBuilder, ListEscapesSetBasedSelectors) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.List({.label_selector = "app in (a,b)", .field_selector = "a=b,c!=d"});
  // The query holds raw values; only the target is escaped.
  EXPECT_EQ(r.Query("labelSelector"), "app in (a,b)");
  EXPECT_EQ(r.Target(),
            "/api/v1/namespaces/default/pods?labelSelector=app%20in%20%28a%2Cb%29"
            "&fieldSelector=a%3Db%2Cc%21%3Dd");
}

TEST(RequestBuilder, WatchSetsWatchTimeoutBookmarksAndResourceVersion) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.Watch({.label_selector = "app=web", .resource_version = "1234"});
  EXPECT_EQ(r.method, "GET");
  EXPECT_TRUE(r.watch);
  EXPECT_EQ(r.path, "/api/v1/namespaces/default/pods");
  EXPECT_EQ(r.query, (Query{{"watch", "true"},
                            {"labelSelector", "app=web"},
                            {"resourceVersion", "1234"},
                            {"timeoutSeconds", "290"},
                            {"allowWatchBookmarks", "true"}}));
}

TEST(RequestBuilder, WatchWithoutBookmarksOrResourceVersion) {
  RequestBuilder pods(resources::kPods, "");
  HttpRequest r = pods.Watch(
      {.field_selector = "metadata.name=x", .timeout_seconds = 60, .allow_bookmarks = false});
  EXPECT_EQ(r.Target(),
            "/api/v1/pods?watch=true&fieldSelector=metadata.name%3Dx&timeoutSeconds=60");
  HttpRequest no_timeout = pods.Watch({.timeout_seconds = 0, .allow_bookmarks = false});
  EXPECT_EQ(no_timeout.query, (Query{{"watch", "true"}}));
}

TEST(RequestBuilder, CreatePostsJsonToTheCollection) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.Create(R"({"metadata":{"name":"x"}})");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/v1/namespaces/default/pods");
  EXPECT_EQ(r.body, R"({"metadata":{"name":"x"}})");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_TRUE(r.query.empty());

  HttpRequest dry = pods.Create("{}", {.field_manager = "aidi", .dry_run = true});
  EXPECT_EQ(dry.query, (Query{{"fieldManager", "aidi"}, {"dryRun", "All"}}));
}

TEST(RequestBuilder, ReplacePutsJsonToTheObject) {
  RequestBuilder cms(resources::kConfigMaps, "ns1");
  HttpRequest r = cms.Replace("cm", R"({"data":{}})", {.field_manager = "ctl"});
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.path, "/api/v1/namespaces/ns1/configmaps/cm");
  EXPECT_EQ(r.body, R"({"data":{}})");
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.query, (Query{{"fieldManager", "ctl"}}));
}

TEST(RequestBuilder, PatchContentTypePerPatchType) {
  EXPECT_EQ(PatchContentType(PatchType::kMerge), "application/merge-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kJson), "application/json-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kStrategicMerge), "application/strategic-merge-patch+json");
  EXPECT_EQ(PatchContentType(PatchType::kApply), "application/apply-patch+yaml");
}

TEST(RequestBuilder, PatchOfEachTypeSendsItsContentType) {
  RequestBuilder pods(resources::kPods, "default");
  const std::pair<PatchType, const char*> cases[] = {
      {PatchType::kMerge, "application/merge-patch+json"},
      {PatchType::kJson, "application/json-patch+json"},
      {PatchType::kStrategicMerge, "application/strategic-merge-patch+json"},
      {PatchType::kApply, "application/apply-patch+yaml"},
  };
  for (const auto& [type, content_type] : cases) {
    SCOPED_TRACE(content_type);
    HttpRequest r = pods.Patch("web-0", type, "BODY");
    EXPECT_EQ(r.method, "PATCH");
    EXPECT_EQ(r.path, "/api/v1/namespaces/default/pods/web-0");
    EXPECT_EQ(r.body, "BODY");
    EXPECT_EQ(r.content_type, content_type);
    EXPECT_TRUE(r.query.empty());
  }
}

TEST(RequestBuilder, ApplyPatchSendsFieldManagerForceAndDryRun) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.Patch("web-0", PatchType::kApply, "{}",
                             {.field_manager = "aidi-controller", .force = true, .dry_run = true});
  EXPECT_EQ(r.query,
            (Query{{"fieldManager", "aidi-controller"}, {"force", "true"}, {"dryRun", "All"}}));
  EXPECT_EQ(
      r.Target(),
      "/api/v1/namespaces/default/pods/web-0?fieldManager=aidi-controller&force=true&dryRun=All");
}

TEST(RequestBuilder, ForceIsSentOnlyForApply) {
  RequestBuilder pods(resources::kPods, "default");
  for (PatchType type : {PatchType::kMerge, PatchType::kJson, PatchType::kStrategicMerge}) {
    HttpRequest r = pods.Patch("web-0", type, "{}", {.field_manager = "m", .force = true});
    EXPECT_EQ(r.query, (Query{{"fieldManager", "m"}})) << PatchContentType(type);
  }
}

TEST(RequestBuilder, DeleteSendsDeleteOptionsBody) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest plain = pods.Delete("web-0");
  EXPECT_EQ(plain.method, "DELETE");
  EXPECT_EQ(plain.path, "/api/v1/namespaces/default/pods/web-0");
  EXPECT_EQ(plain.content_type, "application/json");
  EXPECT_TRUE(plain.query.empty());
  EXPECT_EQ(nlohmann::json::parse(plain.body),
            (nlohmann::json{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}}));

  HttpRequest r = pods.Delete("web-0", {.propagation_policy = "Foreground",
                                        .grace_period_seconds = 0,
                                        .precondition_uid = "uid-1",
                                        .precondition_resource_version = "77",
                                        .dry_run = true});
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["kind"], "DeleteOptions");
  EXPECT_EQ(body["apiVersion"], "v1");
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  // Zero is a real grace period ("now"), not "unset".
  ASSERT_TRUE(body.contains("gracePeriodSeconds"));
  EXPECT_EQ(body["gracePeriodSeconds"], 0);
  EXPECT_EQ(body["preconditions"], (nlohmann::json{{"uid", "uid-1"}, {"resourceVersion", "77"}}));
  EXPECT_EQ(body["dryRun"], nlohmann::json::array({"All"}));
}

TEST(RequestBuilder, DeleteCollectionTargetsTheCollectionWithSelectors) {
  RequestBuilder pods(resources::kPods, "default");
  HttpRequest r = pods.DeleteCollection({.label_selector = "app=web", .field_selector = "x=y"},
                                        {.propagation_policy = "Background"});
  EXPECT_EQ(r.method, "DELETE");
  EXPECT_EQ(r.path, "/api/v1/namespaces/default/pods");
  EXPECT_EQ(r.query, (Query{{"labelSelector", "app=web"}, {"fieldSelector", "x=y"}}));
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(r.body)["propagationPolicy"], "Background");
}

TEST(RequestBuilder, StatusSubresource) {
  RequestBuilder pipelines(kPipelines, "x");
  HttpRequest get = pipelines.GetSubresource("p1", "status");
  EXPECT_EQ(get.method, "GET");
  EXPECT_EQ(get.path, "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines/p1/status");

  HttpRequest put = pipelines.ReplaceSubresource("p1", "status", "{}", {.field_manager = "m"});
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.Target(),
            "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines/p1/status?fieldManager=m");
  EXPECT_EQ(put.content_type, "application/json");

  HttpRequest patch =
      pipelines.PatchSubresource("p1", "status", PatchType::kMerge, R"({"status":{}})");
  EXPECT_EQ(patch.method, "PATCH");
  EXPECT_EQ(patch.path, "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines/p1/status");
  EXPECT_EQ(patch.content_type, "application/merge-patch+json");
  EXPECT_EQ(patch.body, R"({"status":{}})");
}

TEST(RequestBuilder, ClusterScopedResourcesIgnoreTheNamespace) {
  RequestBuilder nodes(resources::kNodes, "default");
  EXPECT_EQ(nodes.Get("n1").path, "/api/v1/nodes/n1");
  EXPECT_EQ(nodes.List({}).path, "/api/v1/nodes");
  EXPECT_EQ(nodes.Watch({}).path, "/api/v1/nodes");
  RequestBuilder crds(resources::kCustomResourceDefinitions, "ns");
  EXPECT_EQ(crds.Get("pipelines.aidi.dev").path,
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/pipelines.aidi.dev");
}

TEST(RequestBuilder, EmptyNamespaceMeansAllNamespaces) {
  RequestBuilder pods(resources::kPods, "");
  EXPECT_EQ(pods.CollectionPath(), "/api/v1/pods");
  EXPECT_EQ(pods.List({}).path, "/api/v1/pods");
  EXPECT_EQ(pods.Watch({}).path, "/api/v1/pods");
  RequestBuilder leases(resources::kLeases, "");
  EXPECT_EQ(leases.List({}).path, "/apis/coordination.k8s.io/v1/leases");
}

TEST(RequestBuilder, CustomResourceGroupPath) {
  RequestBuilder pipelines(kPipelines, "x");
  EXPECT_EQ(pipelines.CollectionPath(), "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines");
  EXPECT_EQ(pipelines.ObjectPath("p1"), "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines/p1");
  EXPECT_EQ(pipelines.Create("{}").path, "/apis/aidi.dev/v1alpha1/namespaces/x/pipelines");
}

TEST(RequestBuilder, NamesAndNamespacesArePercentEncoded) {
  RequestBuilder pods(resources::kPods, "a b");
  EXPECT_EQ(pods.Get("x/y?z").path, "/api/v1/namespaces/a%20b/pods/x%2Fy%3Fz");
  EXPECT_EQ(pods.Delete("%").path, "/api/v1/namespaces/a%20b/pods/%25");
  EXPECT_EQ(pods.List({}).path, "/api/v1/namespaces/a%20b/pods");
}

}  // namespace
}  // namespace aidi::kube
