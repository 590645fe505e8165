// Unit tests of the agents' pure parts; tests/devcluster/agents_test.py drives the node agent
// and the scheduler loop through real kubectl.
#include <gtest/gtest.h>

#include "devcluster/agents/node_agent.h"
#include "devcluster/agents/nodes.h"
#include "devcluster/agents/pod_exec.h"

namespace aidi::devcluster {
namespace {

TEST(ParseNodes, ReadsAStreamAndNormalisesQuantities) {
  auto nodes = ParseNodes(R"(
apiVersion: v1
kind: Node
metadata: {name: edge-1, labels: {aidi.dev/site: edge-berlin}}
status: {capacity: {cpu: 8, memory: 32Gi, nvidia.com/gpu: 1}}
---
---
apiVersion: v1
kind: Node
metadata: {name: cloud-1}
)",
                          "nodes.yaml");
  ASSERT_TRUE(nodes.ok()) << nodes.status().message();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0]["status"]["capacity"]["cpu"], "8");  // numbers become quantities
  EXPECT_EQ((*nodes)[0]["status"]["capacity"]["nvidia.com/gpu"], "1");
  EXPECT_EQ((*nodes)[1]["metadata"]["name"], "cloud-1");
}

TEST(ParseNodes, ErrorsNameTheDocumentAndField) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& c : {
           Case{"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
                "nodes.yaml: document 1: expected apiVersion v1, kind Node; got v1 Pod"},
           Case{"apiVersion: v1\nkind: Node\nmetadata: {}\n",
                "nodes.yaml: document 1: metadata.name is required"},
           Case{"apiVersion: v1\nkind: Node\nmetadata: {name: Bad_Name}\n",
                "nodes.yaml: document 1 (node \"Bad_Name\"): metadata.name: "},
           Case{"apiVersion: v1\nkind: Node\nmetadata: {name: a}\n---\n"
                "apiVersion: v1\nkind: Node\nmetadata: {name: a}\n",
                "nodes.yaml: document 2 (node \"a\"): a second node of that name"},
           Case{"apiVersion: v1\nkind: Node\nmetadata: {name: a}\nstatus: {capacity: {cpu: [1]}}\n",
                "nodes.yaml: document 1 (node \"a\"): status.capacity.cpu: a quantity"},
           Case{"a: [", "nodes.yaml: not YAML"},
           Case{"", "nodes.yaml: no Node documents"},
       }) {
    auto nodes = ParseNodes(c.yaml, "nodes.yaml");
    ASSERT_FALSE(nodes.ok()) << c.yaml;
    EXPECT_EQ(nodes.status().message().rfind(c.message, 0), 0u)
        << nodes.status().message() << "\nwanted prefix: " << c.message;
  }
}

TEST(ExpandEnvReferences, FollowsTheKubeletRules) {
  std::vector<std::pair<std::string, std::string>> env = {{"A", "1"}, {"B", "two"}, {"A", "3"}};
  EXPECT_EQ(ExpandEnvReferences("$(A)-$(B)", env), "3-two");  // the last definition wins
  EXPECT_EQ(ExpandEnvReferences("$(MISSING) stays", env), "$(MISSING) stays");
  EXPECT_EQ(ExpandEnvReferences("$$(A) is escaped, $ alone too$", env),
            "$(A) is escaped, $ alone too$");
  EXPECT_EQ(ExpandEnvReferences("$(unclosed", env), "$(unclosed");
}

TEST(EnvironmentStrings, TheLastDefinitionWinsInFirstPosition) {
  // execve hands getenv the first NAME=; a pod's own HOME must beat the agent's default.
  EXPECT_EQ(
      EnvironmentStrings(
          {{"PATH", "/bin"}, {"HOME", "/"}, {"A", "1"}, {"HOME", "/work"}, {"PATH", "/opt:/bin"}}),
      (std::vector<std::string>{"PATH=/opt:/bin", "HOME=/work", "A=1"}));
}

TEST(PodExecSpec, RoundTripsThroughJson) {
  PodExecSpec s;
  s.argv = {"aidi-worker", "run"};
  s.env = {"PATH=/bin"};
  s.path = "/opt/bin:/bin";
  s.uid = 65532;
  s.groups = {65532, 5};
  s.mounts = {{"/state/pvc/ws", "/workspace", false}, {"/state/cm", "/etc/cfg", true}};
  s.read_only_root = true;
  auto back = PodExecSpecFromJson(PodExecSpecToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->argv, s.argv);
  EXPECT_EQ(back->uid, s.uid);
  EXPECT_FALSE(back->gid.has_value());
  ASSERT_EQ(back->mounts.size(), 2u);
  EXPECT_TRUE(back->mounts[1].read_only);
  EXPECT_EQ(back->mounts[0].target, "/workspace");
  EXPECT_TRUE(back->read_only_root);
  EXPECT_FALSE(PodExecSpecFromJson(nlohmann::json::object()).ok());
}

}  // namespace
}  // namespace aidi::devcluster
