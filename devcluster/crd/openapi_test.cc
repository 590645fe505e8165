#include "devcluster/crd/openapi.h"

#include <functional>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using nlohmann::json;

namespace aidi::devcluster {
namespace {

OpenApiResource Pipeline() {
  OpenApiResource r;
  r.group = "aidi.dev";
  r.version = "v1alpha1";
  r.kind = "Pipeline";
  r.plural = "pipelines";
  r.namespaced = true;
  r.has_status = true;
  r.schema = {{"type", "object"},
              {"description", "Pipeline runs a DAG of stages."},
              {"properties",
               {{"apiVersion", {{"type", "string"}}},
                {"kind", {{"type", "string"}}},
                {"metadata", {{"type", "object"}}},
                {"spec",
                 {{"type", "object"},
                  {"properties",
                   {{"stages",
                     {{"type", "array"},
                      {"description", "The stages of the pipeline."},
                      {"items",
                       {{"type", "object"},
                        {"properties",
                         {{"name", {{"type", "string"}}},
                          {"port", {{"x-kubernetes-int-or-string", true}}},
                          {"template",
                           {{"type", "object"},
                            {"x-kubernetes-embedded-resource", true},
                            {"x-kubernetes-preserve-unknown-fields", true}}}}}}}}}}}}},
                {"status", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}};
  return r;
}

OpenApiResource EdgeSite() {
  OpenApiResource r = Pipeline();
  r.kind = "EdgeSite";
  r.plural = "edgesites";
  r.namespaced = false;
  r.has_status = false;
  return r;
}

OpenApiResource ConfigMap() {
  OpenApiResource r;
  r.version = "v1";
  r.kind = "ConfigMap";
  r.plural = "configmaps";
  return r;
}

json Gvk(const std::string& g, const std::string& v, const std::string& k) {
  return {{"group", g}, {"kind", k}, {"version", v}};
}

// Every "$ref" in the document, wherever it sits.
void CollectRefs(const json& j, std::set<std::string>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == "$ref" && it.value().is_string()) out->insert(it.value().get<std::string>());
      CollectRefs(it.value(), out);
    }
  } else if (j.is_array()) {
    for (const json& e : j) CollectRefs(e, out);
  }
}

// kubectl's supportsQueryParamV3: the first PATCH op for the GVK decides.
bool SupportsFieldValidation(const json& doc, const json& gvk) {
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.contains("patch")) continue;
    const json& op = item["patch"];
    if (op.value("x-kubernetes-group-version-kind", json()) != gvk) continue;
    for (const json& p : op.value("parameters", json::array())) {
      if (p.value("name", "") == "fieldValidation") return true;
    }
    return false;
  }
  return false;
}

TEST(OpenApiV3, PatchOperationsAdvertiseFieldValidation) {
  json doc = BuildOpenApiV3Document("aidi.dev", "v1alpha1", {Pipeline(), EdgeSite()});
  EXPECT_EQ(doc["openapi"], "3.0.0");
  EXPECT_TRUE(SupportsFieldValidation(doc, Gvk("aidi.dev", "v1alpha1", "Pipeline")));
  EXPECT_TRUE(SupportsFieldValidation(doc, Gvk("aidi.dev", "v1alpha1", "EdgeSite")));
  int patches = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!item.contains("patch")) continue;
    ++patches;
    const json& op = item["patch"];
    EXPECT_TRUE(op["x-kubernetes-group-version-kind"].is_object()) << path;
    bool found = false;
    for (const json& p : op["parameters"]) {
      if (p["name"] == "fieldValidation") {
        found = true;
        EXPECT_EQ(p["in"], "query");
        EXPECT_EQ(p["schema"]["type"], "string");
      }
    }
    EXPECT_TRUE(found) << path;
    // Custom resources take no strategic merge patch (kubectl must use a JSON merge patch).
    EXPECT_FALSE(op["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
    EXPECT_TRUE(op["requestBody"]["content"].contains("application/merge-patch+json"));
  }
  EXPECT_EQ(patches, 3);  // pipelines/{name}, pipelines/{name}/status, edgesites/{name}
  const json& patch =
      doc["paths"]["/apis/aidi.dev/v1alpha1/namespaces/{namespace}/pipelines/{name}"]["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"], Gvk("aidi.dev", "v1alpha1", "Pipeline"));
  EXPECT_EQ(patch["x-kubernetes-action"], "patch");
  EXPECT_EQ(patch["operationId"], "patchAidiDevV1alpha1NamespacedPipeline");
  EXPECT_EQ(patch["description"], "partially update the specified Pipeline");
}

TEST(OpenApiV3, PathsMirrorTheApiextensionsBuilder) {
  json doc = BuildOpenApiV3Document("aidi.dev", "v1alpha1", {Pipeline(), EdgeSite()});
  const json& paths = doc["paths"];
  std::set<std::string> keys;
  for (const auto& [k, v] : paths.items()) keys.insert(k);
  EXPECT_THAT(keys,
              ::testing::ElementsAre(
                  "/apis/aidi.dev/v1alpha1/edgesites", "/apis/aidi.dev/v1alpha1/edgesites/{name}",
                  "/apis/aidi.dev/v1alpha1/namespaces/{namespace}/pipelines",
                  "/apis/aidi.dev/v1alpha1/namespaces/{namespace}/pipelines/{name}",
                  "/apis/aidi.dev/v1alpha1/namespaces/{namespace}/pipelines/{name}/status",
                  "/apis/aidi.dev/v1alpha1/pipelines"));
  EXPECT_EQ(paths["/apis/aidi.dev/v1alpha1/pipelines"]["get"]["operationId"],
            "listAidiDevV1alpha1PipelineForAllNamespaces");
  EXPECT_EQ(paths["/apis/aidi.dev/v1alpha1/edgesites"]["post"]["description"],
            "create an EdgeSite");
  EXPECT_EQ(paths["/apis/aidi.dev/v1alpha1/namespaces/{namespace}/pipelines/{name}/status"]["put"]
                 ["description"],
            "replace status of the specified Pipeline");
  EXPECT_EQ(paths["/apis/aidi.dev/v1alpha1/namespaces/{namespace}/pipelines"]["get"]["tags"],
            json({"aidiDev_v1alpha1"}));
}

TEST(OpenApiV3, ExplainFindsTheSchemaByGvk) {
  json doc = BuildOpenApiV3Document("aidi.dev", "v1alpha1", {Pipeline()});
  // explain's template: the GVK from a GET on the resource path ...
  json gvk =
      doc["paths"]["/apis/aidi.dev/v1alpha1/pipelines"]["get"]["x-kubernetes-group-version-kind"];
  EXPECT_EQ(gvk, Gvk("aidi.dev", "v1alpha1", "Pipeline"));
  // ... and the one component schema whose GVK list contains exactly that map.
  std::vector<std::string> matches;
  for (const auto& [name, s] : doc["components"]["schemas"].items()) {
    for (const json& g : s.value("x-kubernetes-group-version-kind", json::array())) {
      if (g == gvk) matches.push_back(name);
    }
  }
  ASSERT_THAT(matches, ::testing::ElementsAre("dev.aidi.v1alpha1.Pipeline"));
  const json& s = doc["components"]["schemas"]["dev.aidi.v1alpha1.Pipeline"];
  EXPECT_EQ(s["description"], "Pipeline runs a DAG of stages.");
  EXPECT_EQ(s["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_EQ(s["properties"]["metadata"]["description"],
            "Standard object's metadata. More info: https://git.k8s.io/community/contributors/"
            "devel/sig-architecture/api-conventions.md#metadata");
  EXPECT_EQ(s["properties"]["apiVersion"]["type"], "string");
  EXPECT_THAT(s["properties"]["kind"]["description"].get<std::string>(),
              ::testing::StartsWith("Kind is a string value representing the REST resource"));
  // kubectl explain pipeline.spec.stages walks properties then items.
  const json& stages = s["properties"]["spec"]["properties"]["stages"];
  EXPECT_EQ(stages["description"], "The stages of the pipeline.");
  const json& item = stages["items"]["properties"];
  EXPECT_EQ(item["port"]["anyOf"], json::parse(R"([{"type":"integer"},{"type":"string"}])"));
  EXPECT_EQ(item["template"]["required"], json({"kind", "apiVersion"}));
  EXPECT_TRUE(item["template"]["properties"].contains("metadata"));
  const json& list = doc["components"]["schemas"]["dev.aidi.v1alpha1.PipelineList"];
  EXPECT_EQ(list["x-kubernetes-group-version-kind"],
            json::array({Gvk("aidi.dev", "v1alpha1", "PipelineList")}));
  EXPECT_EQ(list["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/dev.aidi.v1alpha1.Pipeline");
  EXPECT_EQ(list["description"], "PipelineList is a list of Pipeline");
}

TEST(OpenApiV3, EveryRefResolves) {
  for (const json& doc : {BuildOpenApiV3Document("aidi.dev", "v1alpha1", {Pipeline(), EdgeSite()}),
                          BuildOpenApiV3Document("", "v1", {ConfigMap()})}) {
    std::set<std::string> refs;
    CollectRefs(doc, &refs);
    EXPECT_FALSE(refs.empty());
    for (const std::string& r : refs) {
      ASSERT_EQ(r.rfind("#/components/schemas/", 0), 0u) << r;
      EXPECT_TRUE(doc["components"]["schemas"].contains(r.substr(21))) << r;
    }
  }
}

TEST(OpenApiV3, BuiltinKindsPublishTheirGeneratedSchemas) {
  json doc = BuildOpenApiV3Document("", "v1", {ConfigMap()});
  const json& patch = doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"], Gvk("", "v1", "ConfigMap"));
  EXPECT_EQ(patch["operationId"], "patchCoreV1NamespacedConfigMap");
  EXPECT_TRUE(patch["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
  EXPECT_TRUE(SupportsFieldValidation(doc, Gvk("", "v1", "ConfigMap")));
  const json& schemas = doc["components"]["schemas"];
  ASSERT_TRUE(schemas.contains("io.k8s.api.core.v1.ConfigMap"));
  const json& cm = schemas["io.k8s.api.core.v1.ConfigMap"];
  // kubectl explain and kubectl apply find the kind's schema by this tag.
  EXPECT_EQ(cm["x-kubernetes-group-version-kind"], json::array({Gvk("", "v1", "ConfigMap")}));
  EXPECT_EQ(cm["properties"]["data"]["type"], "object");
  EXPECT_EQ(cm["properties"]["data"]["additionalProperties"]["type"], "string");
  EXPECT_EQ(cm["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  // The hand-written ObjectMeta is kept (not replaced by the generated one).
  EXPECT_EQ(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]
                   ["ownerReferences"]["x-kubernetes-patch-merge-key"],
            "uid");
}

TEST(OpenApiV3, BuiltinSchemasCarryUpstreamPatchMetadata) {
  OpenApiResource pod = ConfigMap();
  pod.kind = "Pod";
  pod.plural = "pods";
  json doc = BuildOpenApiV3Document("", "v1", {pod});
  const json& schemas = doc["components"]["schemas"];
  const json& spec = schemas["io.k8s.api.core.v1.PodSpec"]["properties"];
  EXPECT_EQ(spec["containers"]["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(spec["containers"]["x-kubernetes-patch-strategy"], "merge");
  EXPECT_EQ(spec["containers"]["items"]["$ref"],
            "#/components/schemas/io.k8s.api.core.v1.Container");
  EXPECT_EQ(spec["volumes"]["x-kubernetes-patch-strategy"], "merge,retainKeys");
  EXPECT_FALSE(spec["tolerations"].contains("x-kubernetes-patch-strategy"));
  const json& container = schemas["io.k8s.api.core.v1.Container"]["properties"];
  EXPECT_EQ(container["ports"]["x-kubernetes-patch-merge-key"], "containerPort");
  EXPECT_EQ(container["volumeMounts"]["x-kubernetes-patch-merge-key"], "mountPath");
  EXPECT_EQ(schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"], "int-or-string");
  EXPECT_EQ(schemas["io.k8s.api.core.v1.Pod"]["x-kubernetes-group-version-kind"],
            json::array({Gvk("", "v1", "Pod")}));
  std::set<std::string> refs;
  CollectRefs(doc, &refs);
  for (const std::string& r : refs) EXPECT_TRUE(schemas.contains(r.substr(21))) << r;
}

TEST(OpenApiV3, BuiltinKindWithoutGeneratedSchemaStaysUntagged) {
  OpenApiResource rc = ConfigMap();
  rc.kind = "ReplicationController";
  rc.plural = "replicationcontrollers";
  json doc = BuildOpenApiV3Document("", "v1", {rc});
  const json& schemas = doc["components"]["schemas"];
  ASSERT_TRUE(schemas.contains("io.k8s.api.core.v1.ReplicationController"));
  for (const auto& [name, s] : schemas.items()) {
    for (const json& g : s.value("x-kubernetes-group-version-kind", json::array())) {
      EXPECT_NE(g["kind"], "ReplicationController") << name;
    }
  }
}

TEST(OpenApiV3, OnlyTheRequestedGroupVersion) {
  OpenApiResource other = Pipeline();
  other.version = "v1";
  json doc = BuildOpenApiV3Document("aidi.dev", "v1alpha1", {Pipeline(), other});
  EXPECT_FALSE(doc["components"]["schemas"].contains("dev.aidi.v1.Pipeline"));
}

TEST(OpenApiHash, UpperCaseSha512AndStable) {
  json doc = BuildOpenApiV3Document("aidi.dev", "v1alpha1", {Pipeline()});
  std::string h = OpenApiDocumentHash(doc);
  EXPECT_EQ(h.size(), 128u);
  EXPECT_EQ(h, OpenApiDocumentHash(BuildOpenApiV3Document("aidi.dev", "v1alpha1", {Pipeline()})));
  EXPECT_NE(h, OpenApiDocumentHash(BuildOpenApiV3Document("aidi.dev", "v1alpha1", {EdgeSite()})));
  for (char c : h) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
  // The SHA-512 of the compact dump, as `printf {} | sha512sum` prints it (upper-cased).
  EXPECT_EQ(OpenApiDocumentHash(json::parse("{}")),
            "27C74670ADB75075FAD058D5CEAF7B20C4E7786C83BAE8A32F626F9782AF34C9A33C2046EF60FD2A"
            "7878D378E29FEC851806BBD9A67878F3A9F1CDA4830763FD");
}

TEST(OpenApiV2, SwaggerWithDefinitionsAndResolvableRefs) {
  json doc = BuildOpenApiV2Document({Pipeline(), ConfigMap()});
  EXPECT_EQ(doc["swagger"], "2.0");
  const json& def = doc["definitions"]["dev.aidi.v1alpha1.Pipeline"];
  EXPECT_EQ(def["x-kubernetes-group-version-kind"],
            json::array({Gvk("aidi.dev", "v1alpha1", "Pipeline")}));
  EXPECT_EQ(def["properties"]["metadata"]["$ref"],
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_FALSE(
      def["properties"]["spec"]["properties"]["stages"]["items"]["properties"]["port"].contains(
          "anyOf"));
  const json& patch =
      doc["paths"]["/apis/aidi.dev/v1alpha1/namespaces/{namespace}/pipelines/{name}"]["patch"];
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"], Gvk("aidi.dev", "v1alpha1", "Pipeline"));
  bool has_field_validation = false;
  for (const json& p : patch["parameters"]) {
    if (p["name"] == "fieldValidation") has_field_validation = true;
  }
  EXPECT_TRUE(has_field_validation);
  std::set<std::string> refs;
  CollectRefs(doc, &refs);
  for (const std::string& r : refs) {
    ASSERT_EQ(r.rfind("#/definitions/", 0), 0u) << r;
    EXPECT_TRUE(doc["definitions"].contains(r.substr(14))) << r;
  }
}

}  // namespace
}  // namespace aidi::devcluster
