#include "devcluster/agents/nodes.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/log.h"
#include "devcluster/api_server_internal.h"
#include "devcluster/builtin_types.h"
#include "kube/client/api.h"
#include "kube/client/client.h"

namespace aidi::devcluster {

using nlohmann::json;

namespace {

const char* const kDefaultConditions[][3] = {
    {"MemoryPressure", "False", "KubeletHasSufficientMemory"},
    {"DiskPressure", "False", "KubeletHasNoDiskPressure"},
    {"PIDPressure", "False", "KubeletHasSufficientPID"},
    {"Ready", "True", "KubeletReady"},
};

std::string HostMemory() {
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page = ::sysconf(_SC_PAGE_SIZE);
  return std::to_string(pages > 0 && page > 0 ? pages * page / 1024 : 8 * 1024 * 1024) + "Ki";
}

// The status a kubelet reports for `node`: the file's capacity (missing cpu, memory and pods
// taken from the host, as a kubelet would), allocatable defaulting to capacity, and conditions
// with the file's entries winning. Conditions not in the file last changed at `since` (the start),
// so their lastTransitionTime stays put while lastHeartbeatTime moves, as a kubelet reports them.
json NodeStatus(const json& node, const std::string& now, const std::string& since) {
  json status = node.value("status", json::object());
  json capacity = status.value("capacity", json::object());
  if (!capacity.contains("cpu"))
    capacity["cpu"] = std::to_string(std::thread::hardware_concurrency());
  if (!capacity.contains("memory")) capacity["memory"] = HostMemory();
  if (!capacity.contains("pods")) capacity["pods"] = "110";
  json allocatable = status.value("allocatable", json::object());
  for (const auto& [k, v] : capacity.items()) {
    if (!allocatable.contains(k)) allocatable[k] = v;
  }
  json given = status.value("conditions", json::array());
  json conditions = json::array();
  for (const auto& d : kDefaultConditions) {
    json c = {{"type", d[0]}, {"status", d[1]}, {"reason", d[2]}};
    for (const json& g : given) {
      if (g.value("type", "") == d[0]) c.update(g);
    }
    conditions.push_back(std::move(c));
  }
  for (const json& g : given) {
    bool known = false;
    for (const auto& d : kDefaultConditions) known = known || g.value("type", "") == d[0];
    if (!known) conditions.push_back(g);
  }
  for (json& c : conditions) {
    c["lastHeartbeatTime"] = now;
    if (!c.contains("lastTransitionTime")) c["lastTransitionTime"] = since;
    if (!c.contains("message")) {
      c["message"] = c["type"] == "Ready" && c["status"] == "True"
                         ? "kubelet is posting ready status"
                         : "set by devcluster's --nodes file";
    }
  }
  status["capacity"] = std::move(capacity);
  status["allocatable"] = std::move(allocatable);
  status["conditions"] = std::move(conditions);
  if (!status.contains("addresses")) {
    status["addresses"] =
        json::array({{{"type", "InternalIP"}, {"address", "127.0.0.1"}},
                     {{"type", "Hostname"}, {"address", node["metadata"]["name"]}}});
  }
  status["daemonEndpoints"] = {{"kubeletEndpoint", {{"Port", 10250}}}};
  json info = status.value("nodeInfo", json::object());
  for (auto [k, v] : {std::pair{"architecture", "amd64"},
                      {"operatingSystem", "linux"},
                      {"osImage", "aidi-devcluster"},
                      {"kernelVersion", ""},
                      {"kubeletVersion", "v1.32.0-devcluster"},
                      {"kubeProxyVersion", "v1.32.0-devcluster"},
                      {"containerRuntimeVersion", "devcluster://1"},
                      {"machineID", ""},
                      {"systemUUID", ""},
                      {"bootID", ""}}) {
    if (!info.contains(k)) info[k] = v;
  }
  status["nodeInfo"] = std::move(info);
  return status;
}

}  // namespace

StatusOr<std::vector<json>> ParseNodes(const std::string& text, const std::string& source) {
  auto parsed = YamlStreamToJson(text);
  if (auto* err = std::get_if<std::string>(&parsed)) {
    return Status::InvalidArgument(source + ": not YAML: " + *err);
  }
  std::vector<json> nodes;
  std::set<std::string> seen;
  int index = 0;
  for (json& doc : std::get<std::vector<json>>(parsed)) {
    ++index;
    std::string where = source + ": document " + std::to_string(index);
    if (!doc.is_object()) return Status::InvalidArgument(where + ": not an object");
    if (doc.value("kind", "") == "List" && doc.contains("items")) {
      return Status::InvalidArgument(where + ": a List; write one Node per document");
    }
    if (doc.value("apiVersion", "") != "v1" || doc.value("kind", "") != "Node") {
      return Status::InvalidArgument(where + ": expected apiVersion v1, kind Node; got " +
                                     doc.value("apiVersion", "?") + " " + doc.value("kind", "?"));
    }
    const json* name =
        doc.contains("metadata") && doc["metadata"].is_object() && doc["metadata"].contains("name")
            ? &doc["metadata"]["name"]
            : nullptr;
    if (name == nullptr || !name->is_string()) {
      return Status::InvalidArgument(where + ": metadata.name is required");
    }
    const std::string n = name->get<std::string>();
    where += " (node \"" + n + "\")";
    if (std::string e = DnsSubdomainError(n); !e.empty()) {
      return Status::InvalidArgument(where + ": metadata.name: " + e);
    }
    if (!seen.insert(n).second)
      return Status::InvalidArgument(where + ": a second node of that name");
    for (const char* field : {"capacity", "allocatable"}) {
      json status = doc.value("status", json::object());
      if (!status.is_object()) return Status::InvalidArgument(where + ": status must be an object");
      json q = status.value(field, json::object());
      if (!q.is_object())
        return Status::InvalidArgument(where + ": status." + field + " must be a map");
      for (const auto& [k, v] : q.items()) {
        if (!v.is_string() && !v.is_number()) {
          return Status::InvalidArgument(where + ": status." + field + "." + k +
                                         ": a quantity such as \"8\" or \"64Gi\"");
        }
        if (v.is_number()) q[k] = v.dump();
      }
      if (!q.empty()) doc["status"][field] = q;
    }
    nodes.push_back(std::move(doc));
  }
  if (nodes.empty()) return Status::InvalidArgument(source + ": no Node documents");
  return nodes;
}

StatusOr<std::vector<json>> LoadNodesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("--nodes " + path + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  return ParseNodes(text.str(), path);
}

NodeHeartbeat::NodeHeartbeat(std::shared_ptr<kube::Client> client, std::vector<json> nodes,
                             std::chrono::milliseconds interval)
    : client_(std::move(client)),
      nodes_(std::move(nodes)),
      interval_(interval),
      since_(FormatRfc3339(Clock::Real().Now())) {}

std::vector<std::string> NodeHeartbeat::names() const {
  std::vector<std::string> out;
  for (const json& n : nodes_) out.push_back(n["metadata"]["name"].get<std::string>());
  return out;
}

Status NodeHeartbeat::Beat(const json& node, bool full) {
  const std::string name = node["metadata"]["name"].get<std::string>();
  const auto now_time = Clock::Real().Now();
  const std::string now = FormatRfc3339(now_time);
  kube::Api nodes(client_, kube::resources::kNodes, "");
  if (full) {
    auto existing = nodes.GetIfExists(name);
    if (!existing.ok()) return existing.status();
    json object = {{"apiVersion", "v1"},
                   {"kind", "Node"},
                   {"metadata", node["metadata"]},
                   {"spec", node.value("spec", json::object())}};
    if (!existing->has_value()) {
      if (auto created = nodes.Create(object);
          !created.ok() && !created.status().IsAlreadyExists()) {
        return created.status();
      }
    } else {
      // A node from an earlier run (--state-dir): the file's labels, annotations and spec win.
      json patch = {{"metadata",
                     {{"labels", node["metadata"].value("labels", json::object())},
                      {"annotations", node["metadata"].value("annotations", json::object())}}},
                    {"spec", object["spec"]}};
      if (auto patched = nodes.Patch(name, kube::PatchType::kMerge, patch); !patched.ok()) {
        return patched.status();
      }
    }
  }
  json status = NodeStatus(node, now, since_);
  if (!full) status = {{"conditions", status["conditions"]}};
  if (auto patched = nodes.PatchStatus(name, kube::PatchType::kMerge, {{"status", status}});
      !patched.ok()) {
    return patched.status();
  }
  kube::Api leases(client_, kube::resources::kLeases, "kube-node-lease");
  const std::string renew = FormatRfc3339Micro(now_time);
  auto renewed = leases.Patch(name, kube::PatchType::kMerge, {{"spec", {{"renewTime", renew}}}});
  if (renewed.ok() || !renewed.status().IsNotFound()) return renewed.status();
  json lease = {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", {{"name", name}, {"namespace", "kube-node-lease"}}},
      {"spec", {{"holderIdentity", name}, {"leaseDurationSeconds", 40}, {"renewTime", renew}}}};
  auto created = leases.Create(lease);
  return created.ok() || created.status().IsAlreadyExists() ? Status::Ok() : created.status();
}

Status NodeHeartbeat::Register() {
  for (const json& node : nodes_) {
    if (Status s = Beat(node, /*full=*/true); !s.ok()) {
      return Status(s.code(), "registering node " + node["metadata"]["name"].get<std::string>() +
                                  ": " + s.message());
    }
  }
  log::Info("nodes registered", {{"nodes", nodes_.size()}});
  return Status::Ok();
}

void NodeHeartbeat::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (cv_.wait_for(lock, interval_, [&] { return stopping_; })) break;
    lock.unlock();
    for (const json& node : nodes_) {
      if (Status s = Beat(node, /*full=*/false); !s.ok()) {
        log::Warn("node heartbeat failed",
                  {{"node", node["metadata"]["name"].get<std::string>()}, {"error", s.message()}});
      }
    }
    lock.lock();
  }
}

void NodeHeartbeat::Stop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  cv_.notify_all();
}

}  // namespace aidi::devcluster
