#include "devcluster/request_info.h"

#include <gtest/gtest.h>

namespace aidi::devcluster {
namespace {

TEST(RequestInfo, ParsesResourcePathsLikeTheApiserver) {
  RequestInfo i = ParseRequestInfo("GET", "/api/v1/namespaces/ns1/pods/web/log", std::nullopt);
  EXPECT_TRUE(i.is_resource_request);
  EXPECT_EQ(i.verb, "get");
  EXPECT_EQ(i.ns, "ns1");
  EXPECT_EQ(i.resource, "pods");
  EXPECT_EQ(i.name, "web");
  EXPECT_EQ(i.subresource, "log");

  i = ParseRequestInfo("GET", "/apis/aidi.dev/v1alpha1/pipelines", "True");
  EXPECT_EQ(i.verb, "watch");
  EXPECT_EQ(i.group, "aidi.dev");
  EXPECT_EQ(i.version, "v1alpha1");
  EXPECT_EQ(i.ns, "");

  i = ParseRequestInfo("PUT", "/api/v1/namespaces/team-a/status", std::nullopt);
  EXPECT_EQ(i.resource, "namespaces");
  EXPECT_EQ(i.name, "team-a");
  EXPECT_EQ(i.subresource, "status");
  EXPECT_EQ(i.verb, "update");

  i = ParseRequestInfo("DELETE", "/api/v1/namespaces/a/configmaps", std::nullopt);
  EXPECT_EQ(i.verb, "deletecollection");
  i = ParseRequestInfo("GET", "/api/v1/watch/namespaces/a/pods", std::nullopt);
  EXPECT_EQ(i.verb, "watch");
  EXPECT_EQ(i.resource, "pods");
  EXPECT_EQ(ParseRequestInfo("GET", "/api/v1/pods", "0").verb, "list");
  EXPECT_EQ(ParseRequestInfo("GET", "/api/v1/pods", "FALSE").verb, "list");
  EXPECT_EQ(ParseRequestInfo("GET", "/api/v1/pods", std::nullopt).verb, "list");
  EXPECT_EQ(ParseRequestInfo("GET", "/api/v1/pods", "").verb, "watch");
  EXPECT_FALSE(ParseRequestInfo("GET", "/api/v1", std::nullopt).is_resource_request);
  EXPECT_FALSE(ParseRequestInfo("GET", "/apis/apps", std::nullopt).is_resource_request);
  EXPECT_FALSE(
      ParseRequestInfo("GET", "/api/v1/namespaces/a/pods/b/c/d", std::nullopt).is_resource_request);
}

TEST(RequestInfo, NegotiatesMediaTypes) {
  auto accept = ParseAccept(
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/"
      "json;as=Table;v=v1beta1;g=meta.k8s.io, "
      "application/json");
  ASSERT_EQ(accept.size(), 3u);
  EXPECT_EQ(accept[0].Param("as"), "Table");
  EXPECT_EQ(accept[1].Param("v"), "v1beta1");
  EXPECT_EQ(accept[2].type, "application/json");
  MediaType mt = ParseMediaType("Application/Merge-Patch+JSON; charset=utf-8");
  EXPECT_EQ(mt.type, "application/merge-patch+json");
  EXPECT_EQ(mt.Param("charset"), "utf-8");
}

}  // namespace
}  // namespace aidi::devcluster
