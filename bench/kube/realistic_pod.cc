#include "bench/kube/realistic_pod.h"

#include <string>

namespace aidi::kube::bench {

using nlohmann::json;

namespace {

std::string Hex(unsigned long long v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llx", width, v % (1ULL << (4 * width)));
  return buf;
}

std::string Uid(int i, int salt) {
  unsigned long long h = (static_cast<unsigned long long>(i) + 1) * 0x9e3779b97f4a7c15ULL + salt;
  return Hex(h >> 32, 8) + "-" + Hex(h >> 16, 4) + "-4" + Hex(h >> 4, 3) + "-8" + Hex(h, 3) + "-" +
         Hex(h * 31 + 7, 12);
}

json Condition(const char* type) {
  return {{"type", type},
          {"status", "True"},
          {"lastProbeTime", nullptr},
          {"lastTransitionTime", "2024-05-01T10:00:04Z"}};
}

json ContainerStatus(const std::string& name, const std::string& image, int i) {
  return {{"name", name},
          {"image", image},
          {"imageID", image.substr(0, image.find(':')) + "@sha256:" + Hex(i * 7919ULL, 16) +
                          std::string(48, 'a')},
          {"containerID", "containerd://" + Hex(i * 104729ULL, 16) + std::string(48, 'b')},
          {"ready", true},
          {"restartCount", i % 3},
          {"state", {{"running", {{"startedAt", "2024-05-01T10:00:03Z"}}}}}};
}

// Pod number i of 50 Deployments ("web-<d>") spread over 100 nodes.
}  // namespace

json RealisticPod(int i) {
  const std::string deployment = "web-" + std::to_string(i % 50);
  const std::string replica_set = deployment + "-7d4b9c8f6d";
  const std::string name = replica_set + "-" + Hex(i * 2654435761ULL, 5);
  const std::string image = "registry.example.com/shop/" + deployment + ":1.24.3";
  const std::string ip =
      "10.8." + std::to_string(i / 250 % 256) + "." + std::to_string(i % 250 + 2);
  json labels = {{"app", deployment},
                 {"app.kubernetes.io/name", deployment},
                 {"pod-template-hash", "7d4b9c8f6d"}};
  json app = {
      {"name", "app"},
      {"image", image},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", json::array({{{"name", "http"}, {"containerPort", 8080}, {"protocol", "TCP"}}})},
      {"env", json::array({{{"name", "LOG_LEVEL"}, {"value", "info"}}})},
      {"resources",
       {{"limits", {{"cpu", "500m"}, {"memory", "512Mi"}}},
        {"requests", {{"cpu", "250m"}, {"memory", "256Mi"}}}}},
      {"volumeMounts",
       json::array({{{"name", "config"}, {"mountPath", "/etc/web"}, {"readOnly", true}},
                    {{"name", "kube-api-access-x7k2p"},
                     {"mountPath", "/var/run/secrets/kubernetes.io/serviceaccount"},
                     {"readOnly", true}}})},
      {"livenessProbe",
       {{"httpGet", {{"path", "/healthz"}, {"port", 8080}, {"scheme", "HTTP"}}},
        {"initialDelaySeconds", 10},
        {"periodSeconds", 10},
        {"failureThreshold", 3}}},
      {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", 8080}}}, {"periodSeconds", 5}}},
      {"terminationMessagePath", "/dev/termination-log"},
      {"terminationMessagePolicy", "File"}};
  json proxy = {
      {"name", "proxy"},
      {"image", "registry.example.com/mesh/proxy:2.1.0"},
      {"ports", json::array({{{"name", "admin"}, {"containerPort", 15000}, {"protocol", "TCP"}}})},
      {"resources", {{"requests", {{"cpu", "50m"}, {"memory", "64Mi"}}}}}};
  json spec = {
      {"containers", json::array({app, proxy})},
      {"volumes", json::array({{{"name", "config"},
                                {"configMap", {{"name", "web-config"}, {"defaultMode", 420}}}}})},
      {"nodeName", "node-" + std::to_string(i % 100)},
      {"restartPolicy", "Always"},
      {"dnsPolicy", "ClusterFirst"},
      {"serviceAccountName", "web"},
      {"schedulerName", "default-scheduler"},
      {"terminationGracePeriodSeconds", 30},
      {"tolerations", json::array({{{"key", "node.kubernetes.io/not-ready"},
                                    {"operator", "Exists"},
                                    {"effect", "NoExecute"},
                                    {"tolerationSeconds", 300}}})}};
  json status = {
      {"phase", "Running"},
      {"conditions", json::array({Condition("Initialized"), Condition("Ready"),
                                  Condition("ContainersReady"), Condition("PodScheduled")})},
      {"hostIP", "192.168.1." + std::to_string(i % 100 + 10)},
      {"podIP", ip},
      {"podIPs", json::array({{{"ip", ip}}})},
      {"startTime", "2024-05-01T10:00:00Z"},
      {"qosClass", "Burstable"},
      {"containerStatuses",
       json::array({ContainerStatus("app", image, i),
                    ContainerStatus("proxy", "registry.example.com/mesh/proxy:2.1.0", i)})}};
  json last_applied = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"labels", labels}, {"name", name}, {"namespace", "shop"}}},
      {"spec", {{"containers", json::array({{{"image", image}, {"name", "app"}}})}}}};
  auto managed = [](const char* manager, const char* subresource, json fields) {
    json entry = {{"manager", manager},       {"operation", "Update"},
                  {"apiVersion", "v1"},       {"time", "2024-05-01T10:00:04Z"},
                  {"fieldsType", "FieldsV1"}, {"fieldsV1", std::move(fields)}};
    if (subresource != nullptr) entry["subresource"] = subresource;
    return entry;
  };
  json empty = json::object();
  json managed_fields = json::array(
      {managed("kube-controller-manager", nullptr,
               {{"f:metadata",
                 {{"f:labels", {{".", empty}, {"f:app", empty}, {"f:pod-template-hash", empty}}},
                  {"f:ownerReferences", {{".", empty}, {"k:{\"uid\":\"...\"}", empty}}}}},
                {"f:spec", {{"f:nodeName", empty}}}}),
       managed("kubelet", "status",
               {{"f:status",
                 {{"f:conditions", {{"k:{\"type\":\"Ready\"}", {{"f:status", empty}}}}},
                  {"f:containerStatuses", empty},
                  {"f:podIP", empty},
                  {"f:phase", empty}}}}),
       managed("kubectl-client-side-apply", nullptr,
               {{"f:metadata",
                 {{"f:annotations",
                   {{"f:kubectl.kubernetes.io/last-applied-configuration", empty}}}}}})});
  json metadata = {
      {"name", name},
      {"generateName", replica_set + "-"},
      {"namespace", "shop"},
      {"uid", Uid(i, 1)},
      {"resourceVersion", std::to_string(4000000 + i)},
      {"creationTimestamp", "2024-05-01T10:00:00Z"},
      {"labels", labels},
      {"annotations",
       {{"kubectl.kubernetes.io/last-applied-configuration", last_applied.dump() + "\n"},
        {"prometheus.io/scrape", "true"}}},
      {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                        {"kind", "ReplicaSet"},
                                        {"name", replica_set},
                                        {"uid", Uid(i % 50, 2)},
                                        {"controller", true},
                                        {"blockOwnerDeletion", true}}})},
      {"managedFields", std::move(managed_fields)}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", std::move(metadata)},
          {"spec", std::move(spec)},
          {"status", std::move(status)}};
}

}  // namespace aidi::kube::bench
