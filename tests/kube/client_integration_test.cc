// kube/client against the real aidi-devcluster: TLS, credentials, verbs and error codes as a
// real API server produces them.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/client/api.h"
#include "tests/kube/devcluster_test.h"

namespace aidi::kube {
namespace {

using testing::DevclusterProcess;
using ::testing::HasSubstr;

nlohmann::json ConfigMap(const std::string& name, const std::string& value = "1") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}}},
          {"data", {{"k", value}}}};
}

class ClientIT : public testing::DevclusterTest {
 protected:
  Api ConfigMaps(const std::string& ns = "default") {
    return Api(client_, resources::kConfigMaps, ns);
  }
};

TEST_F(ClientIT, VerifiesTheServerAgainstTheKubeconfigCa) {
  auto list = Api(client_, resources::kNamespaces, "").List();
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ((*list)["kind"], "NamespaceList");
  EXPECT_GE((*list)["items"].size(), 1u);
  EXPECT_FALSE(dc_.Config()->insecure_skip_tls_verify);
}

TEST_F(ClientIT, RefusesAServerSignedByAnotherCa) {
  DevclusterProcess other;
  ASSERT_TRUE(other.Start().ok());
  auto config = dc_.Config();
  ASSERT_TRUE(config.ok());
  config->ca_pem = other.Config()->ca_pem;  // trusts only the other cluster's CA
  config->max_retries = 0;
  auto client = Client::Create(*config);
  ASSERT_TRUE(client.ok());
  auto got = Api(*client, resources::kNamespaces, "").Get("default");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();

  // insecure-skip-tls-verify is the only way past it, and only when asked for.
  config->insecure_skip_tls_verify = true;
  auto insecure = Client::Create(*config);
  ASSERT_TRUE(insecure.ok());
  EXPECT_TRUE(Api(*insecure, resources::kNamespaces, "").Get("default").ok());
}

TEST_F(ClientIT, TlsServerNameIsCheckedAgainstTheCertificate) {
  auto config = dc_.Config();
  ASSERT_TRUE(config.ok());
  config->max_retries = 0;
  config->tls_server_name = "localhost";  // in the certificate's names
  auto good = Client::Create(*config);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(Api(*good, resources::kNamespaces, "").Get("default").ok());

  config->tls_server_name = "api.elsewhere.example";  // not in them
  auto bad = Client::Create(*config);
  ASSERT_TRUE(bad.ok());
  auto got = Api(*bad, resources::kNamespaces, "").Get("default");
  EXPECT_FALSE(got.ok());
}

TEST_F(ClientIT, WithoutATokenTheServerSaysUnauthorized) {
  auto config = dc_.Config();
  ASSERT_TRUE(config.ok());
  config->credentials = nullptr;
  auto client = Client::Create(*config);
  ASSERT_TRUE(client.ok());
  auto got = Api(*client, resources::kConfigMaps, "default").List();
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsUnauthorized()) << got.status().ToString();
}

TEST_F(ClientIT, RotatedTokenFileIsReReadAfterA401) {
  std::string token_path = dc_.dir() + "/token";
  auto config = dc_.Config();
  ASSERT_TRUE(config.ok());
  auto creds = config->credentials->Get();
  ASSERT_TRUE(creds.ok());
  std::ofstream(token_path) << creds->bearer_token << "\n";
  config->credentials = NewTokenFile(token_path, Clock::Real());
  auto client = Client::Create(*config);
  ASSERT_TRUE(client.ok());
  Api cms(*client, resources::kConfigMaps, "default");
  ASSERT_TRUE(cms.List().ok());

  // The server rotates the token; the kubelet would rewrite the file: we do the same.
  auto rotated = dc_.Fault("expire-token");
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  std::string fresh = (*rotated).value("token", "");
  ASSERT_FALSE(fresh.empty()) << rotated->dump();
  std::ofstream(token_path + ".tmp") << fresh << "\n";
  ASSERT_EQ(std::rename((token_path + ".tmp").c_str(), token_path.c_str()), 0);

  // Well inside the minute: only the 401 makes the client read the file again.
  auto after = cms.List();
  EXPECT_TRUE(after.ok()) << after.status().ToString();
}

TEST_F(ClientIT, CrudAndPatchesOfEveryKind) {
  Api cms = ConfigMaps();
  auto created = cms.Create(ConfigMap("crud"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());

  auto merged = cms.Patch("crud", PatchType::kMerge, {{"data", {{"m", "merge"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)["data"]["m"], "merge");

  auto json_patched =
      cms.Patch("crud", PatchType::kJson,
                nlohmann::json::array({{{"op", "add"}, {"path", "/data/j"}, {"value", "json"}}}));
  ASSERT_TRUE(json_patched.ok()) << json_patched.status().ToString();
  EXPECT_EQ((*json_patched)["data"]["j"], "json");

  auto strategic = cms.Patch("crud", PatchType::kStrategicMerge, {{"data", {{"s", "smp"}}}});
  ASSERT_TRUE(strategic.ok()) << strategic.status().ToString();
  EXPECT_EQ((*strategic)["data"]["s"], "smp");

  PatchParams apply;
  apply.field_manager = "it-test";
  nlohmann::json applied_cm = ConfigMap("crud", "applied");
  // .data.k belongs to the manager that created it: applying another value is a conflict
  // until the applier forces it.
  auto conflicting = cms.Patch("crud", PatchType::kApply, applied_cm, apply);
  EXPECT_TRUE(conflicting.status().IsConflict()) << conflicting.status().ToString();
  apply.force = true;
  auto applied = cms.Patch("crud", PatchType::kApply, applied_cm, apply);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ((*applied)["data"]["k"], "applied");

  nlohmann::json replaced = *applied;
  replaced["data"] = {{"only", "this"}};
  auto put = cms.Replace("crud", replaced);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ((*put)["data"], nlohmann::json({{"only", "this"}}));

  auto deleted = cms.Delete("crud");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  auto gone = cms.GetIfExists("crud");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

TEST_F(ClientIT, StatusSubresourceIsSeparateFromTheMainResource) {
  Api pods(client_, resources::kPods, "default");
  nlohmann::json pod = {{"apiVersion", "v1"},
                        {"kind", "Pod"},
                        {"metadata", {{"name", "status-pod"}}},
                        {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
  ASSERT_TRUE(pods.Create(pod).ok());
  auto patched =
      pods.PatchStatus("status-pod", PatchType::kMerge, {{"status", {{"phase", "Running"}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["status"]["phase"], "Running");
  auto status = pods.GetStatus("status-pod");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["status"]["phase"], "Running");
  // A status change through the main resource is ignored, as upstream.
  auto main = pods.Patch("status-pod", PatchType::kMerge, {{"status", {{"phase", "Failed"}}}});
  ASSERT_TRUE(main.ok());
  EXPECT_EQ((*main)["status"]["phase"], "Running");
}

TEST_F(ClientIT, ClusterScopedResources) {
  Api namespaces(client_, resources::kNamespaces, "ignored-for-cluster-scope");
  nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "it"}}}};
  ASSERT_TRUE(namespaces.Create(ns).ok());
  auto got = namespaces.Get("it");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["metadata"]["name"], "it");
}

TEST_F(ClientIT, ErrorCodesAreNamed) {
  Api cms = ConfigMaps();
  EXPECT_TRUE(cms.Get("missing").status().IsNotFound());
  ASSERT_TRUE(cms.Create(ConfigMap("dup")).ok());
  EXPECT_TRUE(cms.Create(ConfigMap("dup")).status().IsAlreadyExists());

  auto current = cms.Get("dup");
  ASSERT_TRUE(current.ok());
  nlohmann::json stale = *current;
  ASSERT_TRUE(cms.Patch("dup", PatchType::kMerge, {{"data", {{"k", "2"}}}}).ok());
  EXPECT_TRUE(cms.Replace("dup", stale).status().IsConflict());

  auto invalid = cms.Create(ConfigMap("Not_A_Valid_Name"));
  EXPECT_TRUE(invalid.status().IsInvalid()) << invalid.status().ToString();
  EXPECT_THAT(invalid.status().message(), HasSubstr("Not_A_Valid_Name"));

  auto forbidden = Api(client_, resources::kNamespaces, "").Delete("default");
  EXPECT_EQ(forbidden.status().code(), StatusCode::kForbidden) << forbidden.status().ToString();

  // A watch from a resourceVersion the server has forgotten is 410 Expired.
  ASSERT_TRUE(dc_.Fault("compact").ok());
  WatchParams old;
  old.resource_version = "1";
  auto watch = cms.Watch(old);
  if (watch.ok()) {
    // Some servers report it in the stream instead: the first event is then an ERROR.
    auto event = (*watch)->Next();
    ASSERT_TRUE(event.ok());
    ASSERT_TRUE(event->has_value());
    EXPECT_TRUE((*event)->error.IsExpired());
  } else {
    EXPECT_TRUE(watch.status().IsExpired()) << watch.status().ToString();
  }
}

TEST_F(ClientIT, RetriesServerErrorsAndHonoursTheBound) {
  Api cms = ConfigMaps();
  ASSERT_TRUE(cms.Create(ConfigMap("retry")).ok());
  // Two 503s, then the real answer: the client rides over them.
  ASSERT_TRUE(dc_.Fault("errors", {{"verb", "get"},
                                   {"resource", "configmaps"},
                                   {"code", 503},
                                   {"count", 2},
                                   {"retryAfterSeconds", 0}})
                  .ok());
  auto got = cms.Get("retry");
  EXPECT_TRUE(got.ok()) << got.status().ToString();

  // More 429s than the client may retry: the error comes back, named.
  auto config = dc_.Config();
  ASSERT_TRUE(config.ok());
  config->max_retries = 2;
  auto client = Client::Create(*config);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(dc_.Fault("errors", {{"verb", "get"},
                                   {"resource", "configmaps"},
                                   {"code", 429},
                                   {"count", 5},
                                   {"retryAfterSeconds", 0}})
                  .ok());
  auto limited = Api(*client, resources::kConfigMaps, "default").Get("retry");
  EXPECT_TRUE(limited.status().IsTooManyRequests()) << limited.status().ToString();
}

TEST_F(ClientIT, CustomResourcesThroughAResourceRef) {
  Api crds(client_, resources::kCustomResourceDefinitions, "");
  nlohmann::json crd = nlohmann::json::parse(R"({
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.it.aidi.dev"},
    "spec": {"group": "it.aidi.dev", "scope": "Namespaced",
      "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
      "versions": [{"name": "v1", "served": true, "storage": true,
        "subresources": {"status": {}},
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {
          "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
          "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]}})");
  ASSERT_TRUE(crds.Create(crd).ok());
  const ResourceRef widgets{"it.aidi.dev", "v1", "widgets", "Widget", true};
  Api api(client_, widgets, "default");
  nlohmann::json widget = {{"apiVersion", "it.aidi.dev/v1"},
                           {"kind", "Widget"},
                           {"metadata", {{"name", "w"}}},
                           {"spec", {{"size", 3}}}};
  // The CRD's resource is served as soon as it is established; allow a moment.
  StatusOr<nlohmann::json> created = Status::NotFound("not yet");
  for (int i = 0; i < 100 && !created.ok(); ++i) {
    created = api.Create(widget);
    if (!created.ok()) usleep(20000);
  }
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto status = api.PatchStatus("w", PatchType::kMerge, {{"status", {{"ready", true}}}});
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ((*status)["status"]["ready"], true);
  auto wrong = api.Patch("w", PatchType::kMerge, {{"spec", {{"size", "three"}}}});
  EXPECT_TRUE(wrong.status().IsInvalid()) << wrong.status().ToString();
}

}  // namespace
}  // namespace aidi::kube
