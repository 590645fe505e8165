// Checks config/scheduler-config.yaml against what kube-scheduler accepts (field names of the
// v1 types, decoded strictly; pkg/scheduler/apis/config/validation's extender rules) and
// against what aidi relies on (the aidi-scheduler profile, the verbs the extender serves,
// nodeCacheCapable, nvidia.com/gpu as the managed resource).
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace {

const char kConfigPath[] = AIDI_EXTENDER_CONFIG;

// Every key of `node` (a map) is one of `allowed`.
void ExpectKnownKeys(const YAML::Node& node, const std::set<std::string>& allowed,
                     const std::string& where) {
  ASSERT_TRUE(node.IsMap()) << where;
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    EXPECT_TRUE(allowed.contains(key)) << where << ": unknown field " << key;
  }
}

class SchedulerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = YAML::LoadFile(kConfigPath); }
  YAML::Node config_;
};

TEST_F(SchedulerConfigTest, IsAKubeSchedulerConfigurationV1) {
  EXPECT_EQ(config_["apiVersion"].as<std::string>(), "kubescheduler.config.k8s.io/v1");
  EXPECT_EQ(config_["kind"].as<std::string>(), "KubeSchedulerConfiguration");
  // staging/src/k8s.io/kube-scheduler/config/v1/types.go, KubeSchedulerConfiguration (with the
  // inlined DebuggingConfiguration).
  ExpectKnownKeys(
      config_,
      {"apiVersion", "kind", "parallelism", "leaderElection", "clientConnection", "enableProfiling",
       "enableContentionProfiling", "percentageOfNodesToScore", "podInitialBackoffSeconds",
       "podMaxBackoffSeconds", "profiles", "extenders", "delayCacheUntilActive"},
      "KubeSchedulerConfiguration");
  // component-base's LeaderElectionConfiguration.
  ExpectKnownKeys(config_["leaderElection"],
                  {"leaderElect", "leaseDuration", "renewDeadline", "retryPeriod", "resourceLock",
                   "resourceName", "resourceNamespace"},
                  "leaderElection");
  // Its own Lease, never the default scheduler's kube-system/kube-scheduler.
  EXPECT_NE(config_["leaderElection"]["resourceName"].as<std::string>(), "kube-scheduler");
}

TEST_F(SchedulerConfigTest, OneProfileNamedAidiScheduler) {
  const YAML::Node profiles = config_["profiles"];
  ASSERT_TRUE(profiles.IsSequence());
  ASSERT_EQ(profiles.size(), 1u);
  ExpectKnownKeys(profiles[0],
                  {"schedulerName", "percentageOfNodesToScore", "plugins", "pluginConfig"},
                  "profiles[0]");
  EXPECT_EQ(profiles[0]["schedulerName"].as<std::string>(), "aidi-scheduler");
}

TEST_F(SchedulerConfigTest, TheExtender) {
  const YAML::Node extenders = config_["extenders"];
  ASSERT_TRUE(extenders.IsSequence());
  ASSERT_EQ(extenders.size(), 1u);
  const YAML::Node e = extenders[0];
  ExpectKnownKeys(e,
                  {"urlPrefix", "filterVerb", "preemptVerb", "prioritizeVerb", "weight", "bindVerb",
                   "enableHTTPS", "tlsConfig", "httpTimeout", "nodeCacheCapable",
                   "managedResources", "ignorable"},
                  "extenders[0]");
  ExpectKnownKeys(
      e["tlsConfig"],
      {"insecure", "serverName", "certFile", "keyFile", "caFile", "certData", "keyData", "caData"},
      "extenders[0].tlsConfig");

  // The routes the extender serves: <urlPrefix>/filter, /prioritize, /bind; no preemption.
  EXPECT_EQ(e["filterVerb"].as<std::string>(), "filter");
  EXPECT_EQ(e["prioritizeVerb"].as<std::string>(), "prioritize");
  EXPECT_EQ(e["bindVerb"].as<std::string>(), "bind");
  EXPECT_FALSE(e["preemptVerb"]);
  // validation: a prioritizeVerb needs a positive weight.
  EXPECT_GT(e["weight"].as<long long>(), 0);

  EXPECT_TRUE(e["nodeCacheCapable"].as<bool>());
  EXPECT_FALSE(e["ignorable"].as<bool>());
  EXPECT_TRUE(e["enableHTTPS"].as<bool>());
  EXPECT_EQ(e["urlPrefix"].as<std::string>().rfind("https://", 0), 0u);
  EXPECT_FALSE(e["tlsConfig"]["insecure"] && e["tlsConfig"]["insecure"].as<bool>());
  EXPECT_FALSE(e["tlsConfig"]["caFile"].as<std::string>().empty());
  // metav1.Duration: Go's time.ParseDuration syntax.
  EXPECT_TRUE(std::regex_match(e["httpTimeout"].as<std::string>(),
                               std::regex(R"(([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+)")));

  const YAML::Node resources = e["managedResources"];
  ASSERT_TRUE(resources.IsSequence());
  ASSERT_EQ(resources.size(), 1u);
  ExpectKnownKeys(resources[0], {"name", "ignoredByScheduler"}, "managedResources[0]");
  // An extended resource name: domain-prefixed, outside kubernetes.io (validation's
  // validateExtendedResourceName).
  EXPECT_EQ(resources[0]["name"].as<std::string>(), "nvidia.com/gpu");
  EXPECT_FALSE(resources[0]["ignoredByScheduler"].as<bool>());
}

}  // namespace
