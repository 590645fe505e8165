#include "kube/client/config.h"
#include "kube/client/testing/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/clock.h"

namespace aidi::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using aidi::kube::testing::TempDir;

// The environment variables the loaders read, cleared for each test and restored after it.
class ConfigEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"KUBECONFIG", "HOME", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}) {
      const char* v = std::getenv(name);
      saved_[name] = v != nullptr ? std::optional<std::string>(v) : std::nullopt;
      unsetenv(name);
    }
    // An empty home, so ~/.kube/config never comes from the machine running the tests.
    setenv("HOME", dir_.Path("home").c_str(), 1);
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  StatusOr<ClientConfig> Load(const std::vector<std::string>& paths, std::string context = "",
                              std::string ns = "") {
    KubeconfigOptions options;
    options.paths = paths;
    options.context = std::move(context);
    options.ns = std::move(ns);
    return LoadKubeconfig(options, clock_);
  }
  static std::string TokenOf(const ClientConfig& config) {
    if (config.credentials == nullptr) return "<none>";
    StatusOr<Credentials> c = config.credentials->Get();
    return c.ok() ? c->bearer_token : "<error: " + c.status().message() + ">";
  }

  TempDir dir_;
  FakeClock clock_;
  std::map<std::string, std::optional<std::string>> saved_;
};

// One cluster, one user with a token, one context: the common shape.
const char* kSimple = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
users:
- name: dev-user
  user:
    token: s3cr3t-dev
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: team-a
)";

class KubeconfigTest : public ConfigEnvTest {};

TEST_F(KubeconfigTest, SingleFile) {
  StatusOr<ClientConfig> c = Load({dir_.Write("config", kSimple)});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://dev.example:6443");
  EXPECT_EQ(c->ns, "team-a");
  EXPECT_EQ(TokenOf(*c), "s3cr3t-dev");
  EXPECT_EQ(c->ca_pem, "");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_THAT(c->credentials->Describe(), Not(HasSubstr("s3cr3t")));
}

TEST_F(KubeconfigTest, MergeFirstFileWinsPerNameAndForCurrentContext) {
  std::string first = dir_.Write("a/config", R"(current-context: dev
clusters:
- name: dev-cluster
  cluster: {server: https://from-first:6443}
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user}
)");
  std::string second = dir_.Write("b/config", R"(current-context: prod
clusters:
- name: dev-cluster
  cluster: {server: https://from-second:6443}
- name: prod-cluster
  cluster: {server: https://prod:6443}
users:
- name: dev-user
  user: {token: second-token}
contexts:
- name: dev
  context: {cluster: prod-cluster, user: dev-user}
- name: prod
  context: {cluster: prod-cluster, user: dev-user}
)");
  StatusOr<ClientConfig> c = Load({first, second});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://from-first:6443");  // context "dev" and its cluster: first file
  EXPECT_EQ(TokenOf(*c), "second-token");           // the user only the second file defines
  EXPECT_EQ(c->ns, "default");

  c = Load({second, first});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://prod:6443");
}

TEST_F(KubeconfigTest, ContextOverride) {
  std::string file = dir_.Write("config", R"(current-context: dev
clusters:
- name: dev-cluster
  cluster: {server: https://dev:6443}
- name: other-cluster
  cluster: {server: https://other:443}
contexts:
- name: dev
  context: {cluster: dev-cluster}
- name: other
  context: {cluster: other-cluster, namespace: ops}
)");
  StatusOr<ClientConfig> c = Load({file}, "other");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://other:443");
  EXPECT_EQ(c->ns, "ops");
  EXPECT_EQ(c->credentials, nullptr);  // a context without a user: anonymous
}

TEST_F(KubeconfigTest, NamespaceOverrideAndDefault) {
  std::string file = dir_.Write("config", kSimple);
  StatusOr<ClientConfig> c = Load({file}, "", "override");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ns, "override");

  std::string no_ns = dir_.Write("no-ns", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c"}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  c = Load({no_ns});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ns, "default");
}

TEST_F(KubeconfigTest, CertificateFilesRelativeToTheirKubeconfig) {
  dir_.Write("kube/pki/ca.crt", "CA PEM");
  dir_.Write("kube/pki/client.crt", "CERT PEM");
  dir_.Write("kube/pki/client.key", "KEY PEM");
  std::string file = dir_.Write("kube/config", R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://c:6443
    certificate-authority: pki/ca.crt
users:
- name: u
  user:
    client-certificate: pki/client.crt
    client-key: ./pki/client.key
contexts:
- name: x
  context: {cluster: c, user: u}
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ca_pem, "CA PEM");
  EXPECT_EQ(c->client_cert_pem, "CERT PEM");
  EXPECT_EQ(c->client_key_pem, "KEY PEM");
  EXPECT_EQ(c->credentials, nullptr);
}

TEST_F(KubeconfigTest, Base64DataFields) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://c:6443
    certificate-authority-data: )" + Base64Encode("CA FROM DATA") +
                                              R"(
users:
- name: u
  user:
    client-certificate-data: )" + Base64Encode("CERT FROM DATA") +
                                              R"(
    client-key-data: )" + Base64Encode("KEY FROM DATA") +
                                              R"(
contexts:
- name: x
  context: {cluster: c, user: u}
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ca_pem, "CA FROM DATA");
  EXPECT_EQ(c->client_cert_pem, "CERT FROM DATA");
  EXPECT_EQ(c->client_key_pem, "KEY FROM DATA");
}

TEST_F(KubeconfigTest, BadBase64NamesTheField) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c", certificate-authority-data: "!!!"}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("certificate-authority-data"));
  EXPECT_THAT(c.status().message(), HasSubstr("cluster \"c\" in " + file));
}

TEST_F(KubeconfigTest, TokenAndClientCertificateAreBothKept) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c"}}]
users:
- name: u
  user:
    token: both-token
    client-certificate-data: )" + Base64Encode("CERT") +
                                              R"(
    client-key-data: )" + Base64Encode("KEY") +
                                              R"(
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(TokenOf(*c), "both-token");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
}

TEST_F(KubeconfigTest, TokenFileRelativeAndReread) {
  dir_.Write("kube/token", "file-token-1\n");
  std::string file = dir_.Write("kube/config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c"}}]
users: [{name: u, user: {tokenFile: token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(TokenOf(*c), "file-token-1");
  EXPECT_THAT(c->credentials->Describe(), HasSubstr(dir_.Path("kube/token")));
  dir_.Write("kube/token", "file-token-2\n");
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(TokenOf(*c), "file-token-2");
}

TEST_F(KubeconfigTest, InsecureSkipTlsVerifyAndTlsServerName) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://10.1.2.3:6443/
    insecure-skip-tls-verify: true
    tls-server-name: api.internal
contexts: [{name: x, context: {cluster: c}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->tls_server_name, "api.internal");
  EXPECT_EQ(c->server, "https://10.1.2.3:6443");  // the trailing '/' dropped
}

TEST_F(KubeconfigTest, InsecureWithCertificateAuthorityIsAnError) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://c
    insecure-skip-tls-verify: true
    certificate-authority-data: )" + Base64Encode("CA") +
                                              R"(
contexts: [{name: x, context: {cluster: c}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("insecure-skip-tls-verify"));
}

TEST_F(KubeconfigTest, MissingContextNamesItAndEveryFile) {
  std::string a = dir_.Write("a", kSimple);
  std::string b = dir_.Write("b", kSimple);
  StatusOr<ClientConfig> c = Load({a, b}, "nope");
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsNotFound());
  EXPECT_EQ(c.status().message(), "context \"nope\" not found in " + a + ":" + b);
}

TEST_F(KubeconfigTest, MissingClusterAndUserAreNamed) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c"}}]
contexts:
- {name: x, context: {cluster: lost-cluster}}
- {name: y, context: {cluster: c, user: lost-user}}
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("cluster \"lost-cluster\""));
  EXPECT_THAT(c.status().message(), HasSubstr("context \"x\""));
  EXPECT_THAT(c.status().message(), HasSubstr(file));

  c = Load({file}, "y");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("user \"lost-user\""));
  EXPECT_THAT(c.status().message(), HasSubstr(file));
}

TEST_F(KubeconfigTest, NoCurrentContextIsAnError) {
  std::string file = dir_.Write("config", R"(clusters: [{name: c, cluster: {server: "https://c"}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("current-context is not set in " + file));
}

TEST_F(KubeconfigTest, UnreadableCertificateNamesUserAndPath) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c"}}]
users: [{name: u, user: {client-certificate: /nonexistent/aidi/client.crt, client-key: k}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "user \"u\" in " + file +
                                      ": client-certificate \"/nonexistent/aidi/client.crt\" "
                                      "cannot be read: No such file or directory");
}

TEST_F(KubeconfigTest, UnreadableCaFileNamesClusterAndPath) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c", certificate-authority: missing-ca.crt}}]
contexts: [{name: x, context: {cluster: c}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("cluster \"c\" in " + file));
  EXPECT_THAT(c.status().message(), HasSubstr(dir_.Path("missing-ca.crt")));
  EXPECT_THAT(c.status().message(), HasSubstr("No such file"));
}

TEST_F(KubeconfigTest, BasicAuthIsUnsupported) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c"}}]
users: [{name: admin, user: {username: admin, password: hunter2}}]
contexts: [{name: x, context: {cluster: c, user: admin}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("user \"admin\""));
  EXPECT_THAT(c.status().message(), HasSubstr("not supported"));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("hunter2")));
}

TEST_F(KubeconfigTest, BadYamlNamesTheFile) {
  std::string file = dir_.Write("config", "clusters: [unclosed\n");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("kubeconfig " + file));
}

TEST_F(KubeconfigTest, ExplicitMissingFileIsAnError) {
  StatusOr<ClientConfig> c = Load({dir_.Path("absent")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(dir_.Path("absent")));
}

TEST_F(KubeconfigTest, KubeconfigEnvListSkipsMissingAndEmptyEntries) {
  std::string a = dir_.Write("a", R"(current-context: x
contexts: [{name: x, context: {cluster: c}}]
)");
  std::string b = dir_.Write("b", R"(current-context: other
clusters: [{name: c, cluster: {server: "https://from-b"}}]
)");
  std::string list = dir_.Path("missing") + "::" + a + ":" + b + ":";
  setenv("KUBECONFIG", list.c_str(), 1);
  StatusOr<ClientConfig> c = LoadKubeconfig({}, clock_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://from-b");
}

TEST_F(KubeconfigTest, KubeconfigEnvWithNoExistingFileIsAnError) {
  std::string list = dir_.Path("missing-1") + ":" + dir_.Path("missing-2");
  setenv("KUBECONFIG", list.c_str(), 1);
  StatusOr<ClientConfig> c = LoadKubeconfig({}, clock_);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(list));
}

TEST_F(KubeconfigTest, HomeConfigWhenNothingElseIsGiven) {
  dir_.Write("home/.kube/config", kSimple);
  StatusOr<ClientConfig> c = LoadKubeconfig({}, clock_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://dev.example:6443");
}

TEST_F(KubeconfigTest, ExecStanzaRunsThePluginWithClusterInfo) {
  // DIR is replaced by the scratch directory.
  std::string body = R"(#!/bin/sh
printf '%s\n' "$@" > 'DIR/args'
printf '%s' "$KUBERNETES_EXEC_INFO" > 'DIR/info'
printf '%s' "$REGION" > 'DIR/env'
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
       "status":{"token":"exec-token"}}'
)";
  for (std::size_t at; (at = body.find("DIR")) != std::string::npos;) {
    body.replace(at, 3, dir_.path());
  }
  std::string script = dir_.Write("kube/bin/plugin.sh", body);
  chmod(script.c_str(), 0755);
  std::string file = dir_.Write("kube/config", R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://eks.example
    certificate-authority-data: )" + Base64Encode("EKS CA") +
                                                   R"(
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin.sh
      args: [eks, get-token]
      env: [{name: REGION, value: eu-west-1}]
      provideClusterInfo: true
      interactiveMode: Never
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(TokenOf(*c), "exec-token");
  EXPECT_EQ(dir_.Read("args"), "eks\nget-token\n");
  EXPECT_EQ(dir_.Read("env"), "eu-west-1");
  nlohmann::json info = nlohmann::json::parse(dir_.Read("info"));
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://eks.example");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"], Base64Encode("EKS CA"));
}

TEST_F(KubeconfigTest, ExecWithoutApiVersionIsAnError) {
  std::string file = dir_.Write("config", R"(current-context: x
clusters: [{name: c, cluster: {server: "https://c"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)");
  StatusOr<ClientConfig> c = Load({file});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("user \"u\""));
  EXPECT_THAT(c.status().message(), HasSubstr("apiVersion"));
}

// ---------------------------------------------------------------------------------------------

class InClusterTest : public ConfigEnvTest {
 protected:
  InClusterOptions Files(bool with_namespace = true) {
    InClusterOptions o;
    o.token_path = dir_.Write("sa/token", "sa-token-1\n");
    o.ca_path = dir_.Write("sa/ca.crt", "CLUSTER CA");
    o.namespace_path = dir_.Path("sa/namespace");
    if (with_namespace) dir_.Write("sa/namespace", "pipelines\n");
    return o;
  }
};

TEST_F(InClusterTest, ServerTokenCaAndNamespace) {
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  StatusOr<ClientConfig> c = LoadInCluster(Files(), clock_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->ca_pem, "CLUSTER CA");
  EXPECT_EQ(c->ns, "pipelines");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(TokenOf(*c), "sa-token-1");
  EXPECT_THAT(c->credentials->Describe(), Not(HasSubstr("sa-token")));
}

TEST_F(InClusterTest, TokenIsRereadEveryMinute) {
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  StatusOr<ClientConfig> c = LoadInCluster(Files(), clock_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  dir_.Write("sa/token", "sa-token-2\n");
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(TokenOf(*c), "sa-token-1");
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(TokenOf(*c), "sa-token-2");
}

TEST_F(InClusterTest, Ipv6HostIsBracketed) {
  setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
  StatusOr<ClientConfig> c = LoadInCluster(Files(), clock_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://[fd00:10:96::1]:6443");
}

TEST_F(InClusterTest, MissingNamespaceFileMeansDefault) {
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  StatusOr<ClientConfig> c = LoadInCluster(Files(/*with_namespace=*/false), clock_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->ns, "default");
}

TEST_F(InClusterTest, MissingEnvironmentIsAClearError) {
  StatusOr<ClientConfig> c = LoadInCluster(Files(), clock_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "not running in a cluster: KUBERNETES_SERVICE_HOST is not set");
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  c = LoadInCluster(Files(), clock_);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("KUBERNETES_SERVICE_PORT is not set"));
}

TEST_F(InClusterTest, MissingTokenOrCaNamesTheFile) {
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  InClusterOptions o = Files();
  o.token_path = dir_.Path("sa/absent-token");
  StatusOr<ClientConfig> c = LoadInCluster(o, clock_);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(o.token_path));

  o = Files();
  o.ca_path = dir_.Path("sa/absent-ca");
  c = LoadInCluster(o, clock_);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(o.ca_path));
}

// ---------------------------------------------------------------------------------------------

class LoadDefaultTest : public InClusterTest {
 protected:
  // A kubeconfig whose only cluster's server is `server`.
  std::string Kubeconfig(const std::string& name, const std::string& server) {
    return dir_.Write(name,
                      "current-context: x\n"
                      "clusters: [{name: c, cluster: {server: \"" +
                          server +
                          "\"}}]\n"
                          "contexts: [{name: x, context: {cluster: c}}]\n");
  }
};

TEST_F(LoadDefaultTest, ExplicitPathBeatsKubeconfigEnv) {
  setenv("KUBECONFIG", Kubeconfig("env", "https://from-env").c_str(), 1);
  StatusOr<ClientConfig> c = LoadDefault(Kubeconfig("flag", "https://from-flag"), clock_, Files());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://from-flag");
}

TEST_F(LoadDefaultTest, KubeconfigEnvBeatsInCluster) {
  setenv("KUBECONFIG", Kubeconfig("env", "https://from-env").c_str(), 1);
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  StatusOr<ClientConfig> c = LoadDefault("", clock_, Files());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://from-env");
}

TEST_F(LoadDefaultTest, InClusterBeatsHomeConfig) {
  Kubeconfig("home/.kube/config", "https://from-home");
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  StatusOr<ClientConfig> c = LoadDefault("", clock_, Files());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
}

TEST_F(LoadDefaultTest, HomeConfigLast) {
  Kubeconfig("home/.kube/config", "https://from-home");
  StatusOr<ClientConfig> c = LoadDefault("", clock_, Files());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server, "https://from-home");
}

TEST_F(LoadDefaultTest, NothingFoundNamesWhatWasTried) {
  StatusOr<ClientConfig> c = LoadDefault("", clock_, Files());
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("$KUBECONFIG"));
  EXPECT_THAT(c.status().message(), HasSubstr("KUBERNETES_SERVICE_HOST"));
  EXPECT_THAT(c.status().message(), HasSubstr(dir_.Path("home/.kube/config")));
}

}  // namespace
}  // namespace aidi::kube
