// Built-in kinds' schemas: the embedded document, and what the API server does with it (prunes
// unknown fields and reports them per fieldValidation, keeps every known field untouched).
#include "devcluster/builtin_schemas/builtin_schemas.h"
#include "devcluster/testing/api_test_client.h"

#include <gtest/gtest.h>

#include <functional>
#include <mutex>

#include "devcluster/api_server.h"
#include "devcluster/crd/schema.h"

namespace aidi::devcluster {
namespace {

using nlohmann::json;

// ---- the document ---------------------------------------------------------------------------

TEST(BuiltinSchemas, EveryKindHasAStructuralSchema) {
  const std::vector<std::vector<std::string>> kinds = {
      {"", "v1", "Namespace"},
      {"", "v1", "Pod"},
      {"", "v1", "Node"},
      {"", "v1", "ConfigMap"},
      {"", "v1", "Secret"},
      {"", "v1", "Service"},
      {"", "v1", "ServiceAccount"},
      {"", "v1", "Event"},
      {"", "v1", "PersistentVolumeClaim"},
      {"", "v1", "Binding"},
      {"coordination.k8s.io", "v1", "Lease"},
      {"apps", "v1", "Deployment"},
      {"apiextensions.k8s.io", "v1", "CustomResourceDefinition"},
      {"autoscaling", "v1", "Scale"}};
  for (const auto& k : kinds) {
    const json* s = BuiltinSchemaFor(k[0], k[1], k[2]);
    ASSERT_NE(s, nullptr) << k[2];
    EXPECT_EQ((*s)["type"], "object") << k[2];
    EXPECT_TRUE((*s)["properties"].contains("metadata")) << k[2];
    auto parsed = StructuralSchema::Parse(*s);
    EXPECT_TRUE(parsed.ok()) << k[2] << ": " << parsed.status().message();
  }
  EXPECT_EQ(BuiltinSchemaFor("", "v1", "Gadget"), nullptr);
  EXPECT_EQ(BuiltinSchemaFor("apps", "v1beta1", "Deployment"), nullptr);
  EXPECT_EQ(BuiltinSchemas()["kinds"].size(), kinds.size());
}

TEST(BuiltinSchemas, ReferencesResolveAndExtensionsMatchUpstream) {
  const json& defs = BuiltinSchemas()["definitions"];
  std::function<void(const json&)> check = [&](const json& s) {
    if (s.contains("$ref")) {
      EXPECT_TRUE(defs.contains(s["$ref"])) << s["$ref"];
    }
    if (s.contains("properties")) {
      for (const auto& [name, p] : s["properties"].items()) check(p);
    }
    if (s.contains("items")) check(s["items"]);
    if (s.contains("additionalProperties")) check(s["additionalProperties"]);
  };
  for (const auto& [name, d] : defs.items()) check(d);
  auto field = [&](const std::string& def, const std::string& f) {
    return defs.at(def).at("properties").at(f);
  };
  const json containers = field("io.k8s.api.core.v1.PodSpec", "containers");
  EXPECT_EQ(containers["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(containers["x-kubernetes-patch-strategy"], "merge");
  EXPECT_EQ(field("io.k8s.api.core.v1.Container", "ports")["x-kubernetes-list-map-keys"],
            json({"containerPort", "protocol"}));
  EXPECT_EQ(field("io.k8s.api.core.v1.ServiceSpec", "ports")["x-kubernetes-patch-merge-key"],
            "port");
  EXPECT_EQ(field("io.k8s.api.apps.v1.DeploymentSpec", "strategy")["x-kubernetes-patch-strategy"],
            "retainKeys");
  EXPECT_FALSE(
      field("io.k8s.api.core.v1.NodeSpec", "taints").contains("x-kubernetes-patch-strategy"));
  EXPECT_EQ(defs["io.k8s.apimachinery.pkg.api.resource.Quantity"]["x-kubernetes-int-or-string"],
            true);
  EXPECT_EQ(field("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
                  "maximum")["type"],
            "number");
}

TEST(BuiltinSchemas, StructuralViewInlinesReferencesAndCutsRecursion) {
  const json& pod = *BuiltinSchemaFor("", "v1", "Pod");
  const json& port =
      pod["properties"]["spec"]["properties"]["containers"]["items"]["properties"]["ports"];
  EXPECT_EQ(port["type"], "array");
  EXPECT_EQ(port["items"]["properties"]["containerPort"]["type"], "integer");
  EXPECT_FALSE(pod.contains("description"));
  const json& limits = pod["properties"]["spec"]["properties"]["containers"]["items"]["properties"]
                          ["resources"]["properties"]["limits"];
  EXPECT_EQ(limits["additionalProperties"]["x-kubernetes-int-or-string"], true);
  const json& crd = *BuiltinSchemaFor("apiextensions.k8s.io", "v1", "CustomResourceDefinition");
  const json& props = crd["properties"]["spec"]["properties"]["versions"]["items"]["properties"]
                         ["schema"]["properties"]["openAPIV3Schema"]["properties"];
  EXPECT_EQ(props["type"]["type"], "string");
  EXPECT_EQ(props["properties"]["additionalProperties"]["x-kubernetes-preserve-unknown-fields"],
            true);
  EXPECT_EQ(props["default"]["x-kubernetes-preserve-unknown-fields"], true);
  EXPECT_EQ(BuiltinObjectMetaSchema()["properties"]["labels"]["additionalProperties"]["type"],
            "string");
}

// ---- the API server -------------------------------------------------------------------------

constexpr const char* kToken = "test-token";

class BuiltinSchemaServerTest : public ::testing::Test {
 protected:
  BuiltinSchemaServerTest() : store_(1000), api_(Options(), store_) {}
  static ApiServerOptions Options() {
    ApiServerOptions o;
    o.token = kToken;
    return o;
  }
  void SetUp() override { ASSERT_TRUE(api_.Init().ok()); }
  void TearDown() override { api_.Stop(); }

  using Response = testing::ApiResponse;

  Response Call(const std::string& method, const std::string& target, const json& body = nullptr,
                const std::string& content_type = "application/json") {
    return testing::CallApi(api_, kToken, method, target, body, content_type);
  }

  // Every field of `sent` is in `got` with the same value (`got` may have more: defaults).
  static void ExpectContains(const json& got, const json& sent, const std::string& path = "") {
    if (sent.is_object()) {
      ASSERT_TRUE(got.is_object()) << path << ": " << got.dump();
      for (const auto& [k, v] : sent.items()) {
        ASSERT_TRUE(got.contains(k)) << path << "." << k << " was dropped";
        ExpectContains(got[k], v, path + "." + k);
      }
    } else if (sent.is_array()) {
      ASSERT_TRUE(got.is_array()) << path;
      ASSERT_EQ(got.size(), sent.size()) << path;
      for (std::size_t i = 0; i < sent.size(); ++i) {
        ExpectContains(got[i], sent[i], path + "[" + std::to_string(i) + "]");
      }
    } else {
      EXPECT_EQ(got, sent) << path;
    }
  }

  // Creates under Strict field validation: no field may be unknown.
  void ExpectRoundTrip(const std::string& collection, const json& obj) {
    auto r = Call("POST", collection + "?fieldValidation=Strict", obj);
    ASSERT_EQ(r.code, 201) << r.raw;
    EXPECT_EQ(r.warning, "");
    json sent = obj;
    sent["metadata"].erase("namespace");
    ExpectContains(r.body, sent);
    auto got = Call("GET", collection + "/" + obj["metadata"]["name"].get<std::string>());
    ASSERT_EQ(got.code, 200);
    ExpectContains(got.body, sent);
  }

  Store store_;
  ApiServer api_;
};

const char* kDeployments = "/apis/apps/v1/namespaces/default/deployments";
const char* kConfigMaps = "/api/v1/namespaces/default/configmaps";

json TypoDeployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "typo"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
      "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                                 "imagePullPolcy": "Always"}]}}}})");
}

TEST_F(BuiltinSchemaServerTest, StrictRejectsAnUnknownFieldNamingItsPath) {
  auto r = Call("POST", std::string(kDeployments) + "?fieldValidation=Strict", TypoDeployment());
  ASSERT_EQ(r.code, 400) << r.raw;
  EXPECT_EQ(r.body["reason"], "BadRequest");
  EXPECT_EQ(r.body["message"],
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding "
            "error: unknown field \"spec.template.spec.containers[0].imagePullPolcy\"");
  EXPECT_EQ(Call("GET", std::string(kDeployments) + "/typo").code, 404);
}

TEST_F(BuiltinSchemaServerTest, WarnAndIgnoreDropUnknownFields) {
  auto r = Call("POST", std::string(kDeployments) + "?fieldValidation=Warn", TypoDeployment());
  ASSERT_EQ(r.code, 201) << r.raw;
  EXPECT_NE(r.warning.find("unknown field \\\"spec.template.spec.containers[0].imagePullPolcy\\\""),
            std::string::npos)
      << r.warning;
  const json& c = r.body["spec"]["template"]["spec"]["containers"][0];
  EXPECT_FALSE(c.contains("imagePullPolcy"));
  EXPECT_EQ(c["imagePullPolicy"], "IfNotPresent");  // the server's default, not the typo

  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "quiet"}, {"bogus", 1}}},
             {"data", {{"a", "b"}}},
             {"bogus", true}};
  r = Call("POST", std::string(kConfigMaps) + "?fieldValidation=Ignore", cm);
  ASSERT_EQ(r.code, 201) << r.raw;
  EXPECT_EQ(r.warning, "");
  EXPECT_FALSE(r.body.contains("bogus"));
  EXPECT_FALSE(r.body["metadata"].contains("bogus"));
  EXPECT_EQ(r.body["data"], json({{"a", "b"}}));
}

TEST_F(BuiltinSchemaServerTest, UnknownMetadataFieldsAreReportedToo) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "strict"}, {"bogus", 1}, {"labels", {{"a", "b"}}}}},
             {"data", {{"a", "b"}}},
             {"bogus", true}};
  auto r = Call("POST", std::string(kConfigMaps) + "?fieldValidation=Strict", cm);
  ASSERT_EQ(r.code, 400) << r.raw;
  EXPECT_EQ(r.body["message"],
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: "
            "unknown field \"bogus\", unknown field \"metadata.bogus\"");
  r = Call("POST", kConfigMaps, cm);  // Warn is the default
  ASSERT_EQ(r.code, 201) << r.raw;
  EXPECT_NE(r.warning.find("unknown field \\\"metadata.bogus\\\""), std::string::npos) << r.warning;
  EXPECT_FALSE(r.body["metadata"].contains("bogus"));
  EXPECT_EQ(r.body["metadata"]["labels"], json({{"a", "b"}}));
}

TEST_F(BuiltinSchemaServerTest, UnknownFieldsComeInTheBodysOrder) {
  // As Go's decoder meets them: here metadata's before the top-level one.
  const std::string body = R"({"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "ordered", "zzz": 1, "bogus": 2}, "data": {"a": "b"}, "bogus": true})";
  auto r = Call("POST", std::string(kConfigMaps) + "?fieldValidation=Strict", json(body));
  ASSERT_EQ(r.code, 400) << r.raw;
  EXPECT_EQ(r.body["message"],
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: "
            "unknown field \"metadata.zzz\", unknown field \"metadata.bogus\", unknown field "
            "\"bogus\"");
  r = Call("POST", std::string(kConfigMaps) + "?fieldValidation=Warn", json(body));
  ASSERT_EQ(r.code, 201) << r.raw;
  EXPECT_EQ(r.warning,
            "299 - \"unknown field \\\"metadata.zzz\\\"\"\n"
            "299 - \"unknown field \\\"metadata.bogus\\\"\"\n"
            "299 - \"unknown field \\\"bogus\\\"\"");
}

TEST_F(BuiltinSchemaServerTest, PatchesAndStatusWritesArePrunedToo) {
  ASSERT_EQ(Call("POST", kConfigMaps,
                 {{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"name", "p"}}},
                  {"data", {{"a", "b"}}}})
                .code,
            201);
  std::string cm = std::string(kConfigMaps) + "/p";
  auto r = Call("PATCH", cm + "?fieldValidation=Strict", {{"spec", {{"x", 1}}}},
                "application/merge-patch+json");
  ASSERT_EQ(r.code, 400) << r.raw;
  EXPECT_NE(r.body["message"].get<std::string>().find("unknown field \"spec\""), std::string::npos);
  r = Call("PATCH", cm, {{"spec", {{"x", 1}}}, {"data", {{"c", "d"}}}},
           "application/strategic-merge-patch+json");
  ASSERT_EQ(r.code, 200) << r.raw;
  EXPECT_FALSE(r.body.contains("spec"));
  EXPECT_EQ(r.body["data"], json({{"a", "b"}, {"c", "d"}}));

  ASSERT_EQ(Call("POST", kDeployments, TypoDeployment()).code, 201);
  r = Call("PUT", std::string(kDeployments) + "/typo/status?fieldValidation=Strict",
           {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", "typo"}}},
            {"status", {{"replicas", 1}, {"readyReplica", 1}}}});
  ASSERT_EQ(r.code, 400) << r.raw;
  EXPECT_NE(r.body["message"].get<std::string>().find("unknown field \"status.readyReplica\""),
            std::string::npos)
      << r.raw;
}

TEST_F(BuiltinSchemaServerTest, RealisticPodKeepsEveryField) {
  ExpectRoundTrip("/api/v1/namespaces/default/pods", json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-0", "namespace": "default", "labels": {"app": "web"},
      "annotations": {"note": "x"}, "finalizers": ["example.com/hold"],
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
        "uid": "3f1a8e2c-0000-4000-8000-000000000001", "controller": true,
        "blockOwnerDeletion": true}]},
    "spec": {
      "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", "true"]}],
      "containers": [{
        "name": "app", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
        "command": ["nginx"], "args": ["-g", "daemon off;"], "workingDir": "/srv",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                  {"containerPort": 9090, "hostPort": 9090, "hostIP": "0.0.0.0"}],
        "env": [{"name": "A", "value": "1"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu",
                  "divisor": "1m"}}},
                {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k",
                  "optional": true}}}],
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CM_"}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"cpu": 1, "memory": "256Mi", "nvidia.com/gpu": 1}},
        "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true,
                          "subPath": "x"}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http",
            "httpHeaders": [{"name": "X", "value": "y"}]},
          "initialDelaySeconds": 5, "periodSeconds": 10, "failureThreshold": 3},
        "readinessProbe": {"tcpSocket": {"port": 8080}, "timeoutSeconds": 2},
        "startupProbe": {"exec": {"command": ["true"]}},
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
        "securityContext": {"runAsUser": 1000, "runAsNonRoot": true,
          "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
          "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
          "seccompProfile": {"type": "RuntimeDefault"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "stdin": false, "tty": false}],
      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                  {"name": "cfg", "configMap": {"name": "cm", "defaultMode": 420,
                    "items": [{"key": "a", "path": "a.txt"}]}},
                  {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                  {"name": "proj", "projected": {"sources": [
                    {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                    {"downwardAPI": {"items": [{"path": "labels",
                      "fieldRef": {"fieldPath": "metadata.labels"}}]}}]}}],
      "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
      "activeDeadlineSeconds": 600, "dnsPolicy": "ClusterFirst",
      "nodeSelector": {"kubernetes.io/os": "linux"}, "serviceAccountName": "default",
      "automountServiceAccountToken": false, "hostname": "web-0", "subdomain": "web",
      "securityContext": {"fsGroup": 2000, "runAsGroup": 3000, "supplementalGroups": [4000],
        "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
      "imagePullSecrets": [{"name": "regcred"}],
      "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
          "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In",
            "values": ["a", "b"]}]}]}},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
          "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}},
            "topologyKey": "kubernetes.io/hostname"}}]}},
      "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"},
                      {"key": "t", "operator": "Equal", "value": "v", "effect": "NoExecute",
                       "tolerationSeconds": 60}],
      "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db"]}],
      "priorityClassName": "high", "schedulerName": "default-scheduler",
      "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}],
      "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
      "readinessGates": [{"conditionType": "example.com/ready"}],
      "enableServiceLinks": false, "shareProcessNamespace": true}})"));
}

TEST_F(BuiltinSchemaServerTest, RealisticDeploymentKeepsEveryField) {
  ExpectRoundTrip(kDeployments, json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"a": "b"}},
    "spec": {"replicas": 3, "revisionHistoryLimit": 5, "minReadySeconds": 10,
      "progressDeadlineSeconds": 120, "paused": false,
      "selector": {"matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
      "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%",
        "maxUnavailable": 0}},
      "template": {
        "metadata": {"labels": {"app": "web"}, "annotations": {"x": "y"},
                     "creationTimestamp": null},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
          "ports": [{"containerPort": 80}],
          "resources": {"requests": {"cpu": 0.5, "memory": "64Mi"}},
          "readinessProbe": {"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}}}],
          "terminationGracePeriodSeconds": 10}}}})"));
}

TEST_F(BuiltinSchemaServerTest, RealisticServiceAndIntOrStringPorts) {
  ExpectRoundTrip("/api/v1/namespaces/default/services", json::parse(R"({
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"type": "NodePort", "selector": {"app": "web"},
      "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP",
                 "nodePort": 30080, "appProtocol": "http"},
                {"name": "metrics", "port": 9090, "targetPort": 9091}],
      "sessionAffinity": "ClientIP",
      "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 600}},
      "externalTrafficPolicy": "Local", "publishNotReadyAddresses": true}})"));
}

TEST_F(BuiltinSchemaServerTest, RealisticCrdKeepsItsSchemaVerbatim) {
  json crd = json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gizmos.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
      "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "listKind": "GizmoList",
                "shortNames": ["gz"], "categories": ["all"]},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "subresources": {"status": {},
          "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
        "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size",
                                      "description": "size", "priority": 0}],
        "selectableFields": [{"jsonPath": ".spec.color"}],
        "schema": {"openAPIV3Schema": {"type": "object", "description": "A gizmo.",
          "properties": {
            "spec": {"type": "object", "required": ["size"],
              "x-kubernetes-validations": [{"rule": "self.size >= 0", "message": "non-negative"}],
              "properties": {
                "size": {"type": "integer", "minimum": 0, "maximum": 100.5, "default": 1},
                "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
                "replicas": {"type": "integer"},
                "port": {"x-kubernetes-int-or-string": true,
                         "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                             "x-kubernetes-preserve-unknown-fields": true},
                "parts": {"type": "array", "x-kubernetes-list-type": "map",
                  "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "required": ["name"],
                    "properties": {"name": {"type": "string"},
                                   "extra": {"type": "object",
                                             "additionalProperties": {"type": "string"}}}}},
                "config": {"type": "object", "default": {"nested": {"deep": [1, 2]}},
                           "x-kubernetes-preserve-unknown-fields": true}}},
            "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}}}],
      "conversion": {"strategy": "None"}}})");
  ExpectRoundTrip("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);

  // A typo directly in the openAPIV3Schema is caught, as upstream's typed decoding does.
  crd["metadata"]["name"] = "widgets.example.com";
  crd["spec"]["names"] = {{"plural", "widgets"}, {"kind", "Widget"}};
  crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["propertes"] = json::object();
  auto r =
      Call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldValidation=Strict",
           crd);
  ASSERT_EQ(r.code, 400) << r.raw;
  EXPECT_NE(r.body["message"].get<std::string>().find(
                "unknown field \"spec.versions[0].schema.openAPIV3Schema.propertes\""),
            std::string::npos)
      << r.raw;
}

TEST_F(BuiltinSchemaServerTest, OtherKindsRoundTrip) {
  ExpectRoundTrip(kConfigMaps, json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "cfg"}, "data": {"a": "b"}, "binaryData": {"bin": "AAE="},
    "immutable": false})"));
  ExpectRoundTrip("/api/v1/namespaces/default/secrets", json::parse(R"({"apiVersion": "v1",
    "kind": "Secret", "metadata": {"name": "s"}, "type": "kubernetes.io/basic-auth",
    "data": {"username": "YWRtaW4="}})"));
  ExpectRoundTrip("/api/v1/namespaces/default/serviceaccounts", json::parse(R"({
    "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"},
    "secrets": [{"name": "robot-token"}], "imagePullSecrets": [{"name": "regcred"}],
    "automountServiceAccountToken": false})"));
  ExpectRoundTrip("/api/v1/namespaces/default/persistentvolumeclaims", json::parse(R"({
    "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
    "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
      "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"}})"));
  ExpectRoundTrip("/apis/coordination.k8s.io/v1/namespaces/default/leases", json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader"},
    "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15,
      "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": "2026-01-01T00:00:05.000000Z",
      "leaseTransitions": 2}})"));
  ExpectRoundTrip("/api/v1/namespaces/default/events", json::parse(R"({
    "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
    "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default",
      "apiVersion": "v1", "uid": "u1", "fieldPath": "spec.containers{app}"},
    "reason": "Started", "message": "Started container", "type": "Normal", "count": 2,
    "source": {"component": "kubelet", "host": "node-1"},
    "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:01Z",
    "reportingComponent": "kubelet", "reportingInstance": "node-1"})"));
  ExpectRoundTrip("/api/v1/nodes", json::parse(R"({
    "apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1",
      "labels": {"kubernetes.io/hostname": "node-1"}},
    "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"], "unschedulable": false,
      "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]}})"));
  ExpectRoundTrip("/api/v1/namespaces", json::parse(R"({
    "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a",
      "labels": {"team": "a"}}})"));
}

}  // namespace
}  // namespace aidi::devcluster
