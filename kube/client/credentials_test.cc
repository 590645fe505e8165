#include "kube/client/credentials.h"
#include "kube/client/testing/temp_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "base/clock.h"

namespace aidi::kube {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

using aidi::kube::testing::TempDir;

Clock::WallTime At(const std::string& rfc3339) {
  Clock::WallTime t;
  if (!ParseRfc3339(rfc3339, &t)) std::abort();  // the tests' own constants
  return t;
}

// ---------------------------------------------------------------------------------------------

TEST(StaticTokenTest, ReturnsTheTokenAndDescribeHidesIt) {
  auto source = NewStaticToken("s3cr3t-static");
  StatusOr<Credentials> c = source->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bearer_token, "s3cr3t-static");
  EXPECT_EQ(c->client_cert_pem, "");
  source->Invalidate();
  EXPECT_EQ(source->Get()->bearer_token, "s3cr3t-static");
  EXPECT_THAT(source->Describe(), Not(HasSubstr("s3cr3t")));
}

// ---------------------------------------------------------------------------------------------

TEST(TokenFileTest, TrimsTrailingNewlineAndDescribeNamesThePathOnly) {
  TempDir dir;
  std::string path = dir.Write("token", "s3cr3t-file\n");
  FakeClock clock;
  auto source = NewTokenFile(path, clock);
  StatusOr<Credentials> c = source->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bearer_token, "s3cr3t-file");
  EXPECT_THAT(source->Describe(), HasSubstr(path));
  EXPECT_THAT(source->Describe(), Not(HasSubstr("s3cr3t")));
}

TEST(TokenFileTest, RereadOnlyAfterTheInterval) {
  TempDir dir;
  std::string path = dir.Write("token", "one");
  FakeClock clock;
  auto source = NewTokenFile(path, clock, seconds(60));
  EXPECT_EQ(source->Get()->bearer_token, "one");
  dir.Write("token", "two\n");
  clock.Advance(seconds(59));
  EXPECT_EQ(source->Get()->bearer_token, "one");
  clock.Advance(seconds(1));
  EXPECT_EQ(source->Get()->bearer_token, "two");
}

TEST(TokenFileTest, InvalidateRereadsAtOnce) {
  TempDir dir;
  std::string path = dir.Write("token", "one");
  FakeClock clock;
  auto source = NewTokenFile(path, clock);
  EXPECT_EQ(source->Get()->bearer_token, "one");
  dir.Write("token", "two");
  EXPECT_EQ(source->Get()->bearer_token, "one");
  source->Invalidate();
  EXPECT_EQ(source->Get()->bearer_token, "two");
}

TEST(TokenFileTest, MissingFileKeepsTheLastGoodTokenThenRecovers) {
  TempDir dir;
  std::string path = dir.Write("token", "good");
  FakeClock clock;
  auto source = NewTokenFile(path, clock);
  EXPECT_EQ(source->Get()->bearer_token, "good");
  std::filesystem::remove(path);
  clock.Advance(minutes(2));
  StatusOr<Credentials> c = source->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bearer_token, "good");
  source->Invalidate();
  EXPECT_EQ(source->Get()->bearer_token, "good");
  dir.Write("token", "");  // an empty file is a failed read too
  source->Invalidate();
  EXPECT_EQ(source->Get()->bearer_token, "good");
  dir.Write("token", "rotated");
  EXPECT_EQ(source->Get()->bearer_token, "rotated");  // a failed read does not restart the wait
}

TEST(TokenFileTest, MissingFileWithNoTokenYetIsAnError) {
  TempDir dir;
  FakeClock clock;
  auto source = NewTokenFile(dir.Path("absent"), clock);
  StatusOr<Credentials> c = source->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(dir.Path("absent")));
  EXPECT_THAT(c.status().message(), HasSubstr("No such file"));
}

// ---------------------------------------------------------------------------------------------

// A plugin script that records each run (a line in `runs`), its arguments, MY_VAR and
// KUBERNETES_EXEC_INFO, then prints `json` (with $n replaced by the run number).
std::string PluginScript(const TempDir& dir, const std::string& json) {
  const std::string& d = dir.path();
  return "echo run >> '" + d + "/runs'\n" +                              //
         "n=$(wc -l < '" + d + "/runs' | tr -d ' ')\n" +                 //
         "printf '%s\\n' \"$@\" > '" + d + "/args'\n" +                  //
         "printf '%s' \"$MY_VAR\" > '" + d + "/env'\n" +                 //
         "printf '%s' \"$KUBERNETES_EXEC_INFO\" > '" + d + "/info'\n" +  //
         "cat <<EOF\n" + json + "\nEOF\n";
}

std::string V1Token(const std::string& token, const std::string& expiry = "") {
  nlohmann::json status = {{"token", token}};
  if (!expiry.empty()) status["expirationTimestamp"] = expiry;
  return nlohmann::json{{"apiVersion", "client.authentication.k8s.io/v1"},
                        {"kind", "ExecCredential"},
                        {"status", status}}
      .dump();
}

class ExecPluginTest : public ::testing::Test {
 protected:
  ExecConfig Config(const std::string& script_json) {
    ExecConfig c;
    c.command = dir_.Script("plugin.sh", PluginScript(dir_, script_json));
    return c;
  }
  TempDir dir_;
  FakeClock clock_{At("2030-01-01T00:00:00Z")};
};

TEST_F(ExecPluginTest, ReturnsTheTokenAndPassesArgsAndEnv) {
  ExecConfig c = Config(V1Token("s3cr3t-exec-$n"));
  c.args = {"get-token", "--cluster", "with space"};
  c.env = {{"MY_VAR", "my value"}};
  auto source = NewExecPlugin(c, clock_);
  StatusOr<Credentials> creds = source->Get();
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->bearer_token, "s3cr3t-exec-1");
  EXPECT_EQ(dir_.Read("args"), "get-token\n--cluster\nwith space\n");
  EXPECT_EQ(dir_.Read("env"), "my value");
  EXPECT_THAT(source->Describe(), HasSubstr("plugin.sh"));
  EXPECT_THAT(source->Describe(), Not(HasSubstr("s3cr3t")));
}

TEST_F(ExecPluginTest, ExecInfoWithoutClusterByDefault) {
  ExecConfig c = Config(V1Token("t"));
  c.cluster_server = "https://should-not-appear";
  ASSERT_TRUE(NewExecPlugin(c, clock_)->Get().ok());
  nlohmann::json info = nlohmann::json::parse(dir_.Read("info"));
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_FALSE(info["spec"].contains("cluster"));
}

TEST_F(ExecPluginTest, ExecInfoCarriesTheClusterWhenAsked) {
  ExecConfig c = Config(V1Token("t"));
  c.provide_cluster_info = true;
  c.cluster_server = "https://10.0.0.1:6443";
  c.cluster_ca_pem = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
  c.cluster_tls_server_name = "kubernetes.default";
  ASSERT_TRUE(NewExecPlugin(c, clock_)->Get().ok());
  nlohmann::json cluster = nlohmann::json::parse(dir_.Read("info"))["spec"]["cluster"];
  EXPECT_EQ(cluster["server"], "https://10.0.0.1:6443");
  EXPECT_EQ(cluster["tls-server-name"], "kubernetes.default");
  EXPECT_EQ(cluster["certificate-authority-data"], Base64Encode(c.cluster_ca_pem));
  EXPECT_FALSE(cluster.contains("insecure-skip-tls-verify"));
}

TEST_F(ExecPluginTest, CachesUntilTheExpirationTimestamp) {
  auto source = NewExecPlugin(Config(V1Token("tok-$n", "2030-01-01T00:10:00Z")), clock_);
  EXPECT_EQ(source->Get()->bearer_token, "tok-1");
  clock_.Advance(minutes(9));
  EXPECT_EQ(source->Get()->bearer_token, "tok-1");
  EXPECT_EQ(dir_.Lines("runs"), 1);
  clock_.Advance(minutes(2));
  EXPECT_EQ(source->Get()->bearer_token, "tok-2");
  EXPECT_EQ(dir_.Lines("runs"), 2);
}

TEST_F(ExecPluginTest, WithoutExpiryCachesUntilInvalidate) {
  auto source = NewExecPlugin(Config(V1Token("tok-$n")), clock_);
  EXPECT_EQ(source->Get()->bearer_token, "tok-1");
  clock_.Advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(source->Get()->bearer_token, "tok-1");
  EXPECT_EQ(dir_.Lines("runs"), 1);
  source->Invalidate();
  EXPECT_EQ(source->Get()->bearer_token, "tok-2");
  EXPECT_EQ(dir_.Lines("runs"), 2);
}

TEST_F(ExecPluginTest, ReturnsAClientCertificate) {
  nlohmann::json out = {{"apiVersion", "client.authentication.k8s.io/v1"},
                        {"kind", "ExecCredential"},
                        {"status",
                         {{"clientCertificateData", "-----BEGIN CERTIFICATE-----\nC\n"},
                          {"clientKeyData", "-----BEGIN PRIVATE KEY-----\nK\n"}}}};
  StatusOr<Credentials> c = NewExecPlugin(Config(out.dump()), clock_)->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bearer_token, "");
  EXPECT_EQ(c->client_cert_pem, "-----BEGIN CERTIFICATE-----\nC\n");
  EXPECT_EQ(c->client_key_pem, "-----BEGIN PRIVATE KEY-----\nK\n");
}

TEST_F(ExecPluginTest, SpeaksV1beta1WhenConfigured) {
  std::string out = nlohmann::json{{"apiVersion", "client.authentication.k8s.io/v1beta1"},
                                   {"kind", "ExecCredential"},
                                   {"status", {{"token", "beta"}}}}
                        .dump();
  ExecConfig c = Config(out);
  c.api_version = "client.authentication.k8s.io/v1beta1";
  StatusOr<Credentials> creds = NewExecPlugin(c, clock_)->Get();
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->bearer_token, "beta");
  EXPECT_EQ(nlohmann::json::parse(dir_.Read("info"))["apiVersion"],
            "client.authentication.k8s.io/v1beta1");
}

TEST_F(ExecPluginTest, BadJsonIsAnError) {
  StatusOr<Credentials> c = NewExecPlugin(Config("{not json"), clock_)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("not an ExecCredential JSON"));
}

TEST_F(ExecPluginTest, WrongApiVersionOrKindIsAnError) {
  std::string beta = nlohmann::json{
      {"apiVersion", "client.authentication.k8s.io/v1beta1"},
      {"kind", "ExecCredential"},
      {"status",
       {{"token", "t"}}}}.dump();
  StatusOr<Credentials> c = NewExecPlugin(Config(beta), clock_)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("v1beta1"));

  std::string pod = nlohmann::json{{"apiVersion", "client.authentication.k8s.io/v1"},
                                   {"kind", "Pod"},
                                   {"status", {{"token", "t"}}}}
                        .dump();
  c = NewExecPlugin(Config(pod), clock_)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("kind \"Pod\""));
}

TEST_F(ExecPluginTest, NeitherTokenNorCertificateIsAnError) {
  std::string empty = nlohmann::json{{"apiVersion", "client.authentication.k8s.io/v1"},
                                     {"kind", "ExecCredential"},
                                     {"status", nlohmann::json::object()}}
                          .dump();
  StatusOr<Credentials> c = NewExecPlugin(Config(empty), clock_)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("neither a token nor a client certificate"));
}

TEST_F(ExecPluginTest, NonZeroExitNamesTheCode) {
  ExecConfig c;
  c.command = dir_.Script("fail.sh", "echo 'plugin says no' >&2\nexit 3\n");
  StatusOr<Credentials> creds = NewExecPlugin(c, clock_)->Get();
  ASSERT_FALSE(creds.ok());
  EXPECT_THAT(creds.status().message(), HasSubstr("exit code 3"));
  EXPECT_THAT(creds.status().message(), HasSubstr("fail.sh"));
}

TEST_F(ExecPluginTest, MissingCommandNamesItAndTheInstallHint) {
  ExecConfig c;
  c.command = "aidi-no-such-credential-plugin";
  c.install_hint = "install it with: brew install aidi-plugin";
  StatusOr<Credentials> creds = NewExecPlugin(c, clock_)->Get();
  ASSERT_FALSE(creds.ok());
  EXPECT_TRUE(creds.status().IsNotFound());
  EXPECT_THAT(creds.status().message(), HasSubstr("aidi-no-such-credential-plugin"));
  EXPECT_THAT(creds.status().message(), HasSubstr("brew install aidi-plugin"));
}

TEST_F(ExecPluginTest, RelativeCommandIsResolvedAgainstBaseDir) {
  dir_.Script("bin/plugin.sh", PluginScript(dir_, V1Token("relative")));
  ExecConfig c;
  c.command = "./bin/plugin.sh";
  c.base_dir = dir_.path();
  StatusOr<Credentials> creds = NewExecPlugin(c, clock_)->Get();
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->bearer_token, "relative");
}

TEST_F(ExecPluginTest, BareCommandIsFoundThroughPath) {
  dir_.Script("bin/aidi-test-plugin", PluginScript(dir_, V1Token("from-path")));
  const char* old = std::getenv("PATH");
  std::string saved = old != nullptr ? old : "";
  setenv("PATH", (dir_.Path("bin") + ":" + saved).c_str(), 1);
  ExecConfig c;
  c.command = "aidi-test-plugin";
  StatusOr<Credentials> creds = NewExecPlugin(c, clock_)->Get();
  setenv("PATH", saved.c_str(), 1);
  ASSERT_TRUE(creds.ok()) << creds.status().ToString();
  EXPECT_EQ(creds->bearer_token, "from-path");
}

TEST_F(ExecPluginTest, TimeoutKillsThePlugin) {
  ExecConfig c;
  c.command = dir_.Script("slow.sh", "sleep 30\n");
  auto start = std::chrono::steady_clock::now();
  StatusOr<Credentials> creds = NewExecPlugin(c, clock_, seconds(1))->Get();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(creds.ok());
  EXPECT_EQ(creds.status().code(), StatusCode::kTimeout);
  EXPECT_LT(took, seconds(10));  // sleep's 30 s would mean the child kept stdout open
}

TEST_F(ExecPluginTest, BadExpirationTimestampIsAnError) {
  StatusOr<Credentials> c = NewExecPlugin(Config(V1Token("t", "next tuesday")), clock_)->Get();
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("next tuesday"));
}

}  // namespace
}  // namespace aidi::kube
