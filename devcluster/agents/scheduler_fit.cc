// Fit and score, as kube-scheduler's plugins decide them: NodeResourcesFit (requests against
// allocatable, pod count), NodeAffinity and nodeSelector, TaintToleration, NodeUnschedulable,
// and NodeResourcesLeastAllocated for the score. Upstream: pkg/scheduler/framework/plugins.
#include "devcluster/agents/scheduler.h"

#include <algorithm>
#include <set>

#include "devcluster/agents/scheduler_internal.h"
#include "kube/core/json_fields.h"
#include "kube/core/quantity.h"

namespace aidi::devcluster {

using json = nlohmann::json;
using kube::Field;
using kube::QuantityMilli;
using kube::StringField;
using scheduler_internal::Int128;
using scheduler_internal::kDefaultMaxPods;
using scheduler_internal::kMaxNodeScore;
using scheduler_internal::kMilli;

namespace {

// requests[r] else limits[r], for every resource either names.
ResourceMilli ContainerRequests(const json& container) {
  ResourceMilli out;
  const json& resources = Field(container, "resources");
  for (const char* key : {"limits", "requests"}) {  // requests last: they win
    const json& list = Field(resources, key);
    if (!list.is_object()) continue;
    for (const auto& [name, q] : list.items()) {
      auto v = QuantityMilli(q);
      out[name] = v.ok() ? *v : 0;
    }
  }
  return out;
}

void AddTo(ResourceMilli& into, const ResourceMilli& add) {
  for (const auto& [name, v] : add) into[name] += v;
}

void MaxInto(ResourceMilli& into, const ResourceMilli& other) {
  for (const auto& [name, v] : other) into[name] = std::max(into[name], v);
}

std::int64_t Get(const ResourceMilli& r, const std::string& name) {
  auto it = r.find(name);
  return it == r.end() ? 0 : it->second;
}

// status.allocatable, else status.capacity.
ResourceMilli Allocatable(const json& node) {
  const json& status = Field(node, "status");
  const json* list = &Field(status, "allocatable");
  if (!list->is_object() || list->empty()) list = &Field(status, "capacity");
  ResourceMilli out;
  if (list->is_object()) {
    for (const auto& [name, q] : list->items()) {
      auto v = QuantityMilli(q);
      out[name] = v.ok() ? *v : 0;
    }
  }
  if (!out.count("pods")) out["pods"] = kDefaultMaxPods * kMilli;
  return out;
}

bool Tolerates(const json& tolerations, const json& taint) {
  if (!tolerations.is_array()) return false;
  std::string key = StringField(taint, "key");
  std::string value = StringField(taint, "value");
  std::string effect = StringField(taint, "effect");
  for (const auto& t : tolerations) {
    std::string t_effect = StringField(t, "effect");
    if (!t_effect.empty() && t_effect != effect) continue;
    std::string t_key = StringField(t, "key");
    std::string op = StringField(t, "operator");
    if (!t_key.empty() && t_key != key) continue;
    if (op == "Exists") return true;
    if ((op.empty() || op == "Equal") && !t_key.empty() && StringField(t, "value") == value) {
      return true;
    }
  }
  return false;
}

// Node label/field requirement of a nodeSelectorTerm.
bool MatchRequirement(const json& req, const std::map<std::string, std::string>& values) {
  std::string key = StringField(req, "key");
  std::string op = StringField(req, "operator");
  const json& vals = Field(req, "values");
  auto it = values.find(key);
  bool has = it != values.end();
  auto in_values = [&] {
    if (!has || !vals.is_array()) return false;
    for (const auto& v : vals) {
      if (v.is_string() && v.get<std::string>() == it->second) return true;
    }
    return false;
  };
  if (op == "In") return in_values();
  if (op == "NotIn") return !in_values();
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if (op == "Gt" || op == "Lt") {
    if (!has || !vals.is_array() || vals.size() != 1 || !vals[0].is_string()) return false;
    try {
      long long label = std::stoll(it->second);
      long long bound = std::stoll(vals[0].get<std::string>());
      return op == "Gt" ? label > bound : label < bound;
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

bool MatchesNodeSelectorTerm(const json& term, const std::map<std::string, std::string>& labels,
                             const std::string& node_name) {
  const json& exprs = Field(term, "matchExpressions");
  const json& fields = Field(term, "matchFields");
  bool any = false;
  if (exprs.is_array()) {
    for (const auto& r : exprs) {
      any = true;
      if (!MatchRequirement(r, labels)) return false;
    }
  }
  if (fields.is_array()) {
    std::map<std::string, std::string> node_fields = {{"metadata.name", node_name}};
    for (const auto& r : fields) {
      any = true;
      if (!MatchRequirement(r, node_fields)) return false;
    }
  }
  return any;  // an empty term matches nothing
}

bool MatchesNodeAffinity(const json& pod, const json& node) {
  std::map<std::string, std::string> labels;
  const json& node_labels = Field(Field(node, "metadata"), "labels");
  if (node_labels.is_object()) {
    for (const auto& [k, v] : node_labels.items()) {
      if (v.is_string()) labels[k] = v.get<std::string>();
    }
  }
  const json& spec = Field(pod, "spec");
  const json& selector = Field(spec, "nodeSelector");
  if (selector.is_object()) {
    for (const auto& [k, v] : selector.items()) {
      auto it = labels.find(k);
      if (it == labels.end() || !v.is_string() || it->second != v.get<std::string>()) return false;
    }
  }
  const json& required = Field(Field(Field(spec, "affinity"), "nodeAffinity"),
                               "requiredDuringSchedulingIgnoredDuringExecution");
  if (required.is_object()) {
    const json& terms = Field(required, "nodeSelectorTerms");
    std::string name = StringField(Field(node, "metadata"), "name");
    bool matched = false;
    if (terms.is_array()) {
      for (const auto& term : terms) {
        if (MatchesNodeSelectorTerm(term, labels, name)) {
          matched = true;
          break;
        }
      }
    }
    if (!matched) return false;
  }
  return true;
}

// The node's taints, plus the one the node lifecycle controller would add for its Ready
// condition.
std::vector<json> EffectiveTaints(const json& node) {
  std::vector<json> taints;
  const json& declared = Field(Field(node, "spec"), "taints");
  if (declared.is_array()) {
    for (const auto& t : declared) taints.push_back(t);
  }
  std::string ready = "";
  const json& conditions = Field(Field(node, "status"), "conditions");
  if (conditions.is_array()) {
    for (const auto& c : conditions) {
      if (StringField(c, "type") == "Ready") ready = StringField(c, "status");
    }
  }
  if (ready != "True") {
    std::string key =
        ready == "Unknown" ? "node.kubernetes.io/unreachable" : "node.kubernetes.io/not-ready";
    bool present = std::any_of(taints.begin(), taints.end(),
                               [&](const json& t) { return StringField(t, "key") == key; });
    if (!present) taints.push_back({{"key", key}, {"effect", "NoSchedule"}});
  }
  return taints;
}

}  // namespace

bool scheduler_internal::IsTerminal(const json& pod) {
  std::string phase = StringField(Field(pod, "status"), "phase");
  return phase == "Succeeded" || phase == "Failed";
}

ResourceMilli PodRequests(const json& pod) {
  const json& spec = Field(pod, "spec");
  ResourceMilli sum;
  const json& containers = Field(spec, "containers");
  if (containers.is_array()) {
    for (const auto& c : containers) AddTo(sum, ContainerRequests(c));
  }
  ResourceMilli init_max;
  ResourceMilli sidecars;
  const json& inits = Field(spec, "initContainers");
  if (inits.is_array()) {
    for (const auto& c : inits) {
      ResourceMilli r = ContainerRequests(c);
      if (StringField(c, "restartPolicy") == "Always") {
        AddTo(sidecars, r);
        MaxInto(init_max, sidecars);
      } else {
        AddTo(r, sidecars);
        MaxInto(init_max, r);
      }
    }
  }
  AddTo(sum, sidecars);
  MaxInto(sum, init_max);
  const json& overhead = Field(spec, "overhead");
  if (overhead.is_object()) {
    for (const auto& [name, q] : overhead.items()) {
      auto v = QuantityMilli(q);
      if (v.ok()) sum[name] += *v;
    }
  }
  return sum;
}

std::vector<std::string> NodeFitReasons(const json& pod, const ResourceMilli& pod_requests,
                                        const json& node,
                                        const std::vector<ResourceMilli>& node_pods,
                                        const std::vector<std::string>& ignored) {
  const json& tolerations = Field(Field(pod, "spec"), "tolerations");
  // NodeUnschedulable.
  const json& unschedulable = Field(Field(node, "spec"), "unschedulable");
  if (unschedulable.is_boolean() && unschedulable.get<bool>() &&
      !Tolerates(tolerations,
                 {{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}})) {
    return {"node(s) were unschedulable"};
  }
  // TaintToleration: the first untolerated NoSchedule / NoExecute taint.
  for (const json& taint : EffectiveTaints(node)) {
    std::string effect = StringField(taint, "effect");
    if (effect != "NoSchedule" && effect != "NoExecute") continue;
    if (!Tolerates(tolerations, taint)) {
      return {"node(s) had untolerated taint {" + StringField(taint, "key") + ": " +
              StringField(taint, "value") + "}"};
    }
  }
  // NodeAffinity.
  if (!MatchesNodeAffinity(pod, node)) return {"node(s) didn't match Pod's node affinity/selector"};
  // NodeResourcesFit.
  ResourceMilli allocatable = Allocatable(node);
  ResourceMilli used;
  for (const auto& p : node_pods) AddTo(used, p);
  std::vector<std::string> reasons;
  if (static_cast<std::int64_t>(node_pods.size() + 1) * kMilli > Get(allocatable, "pods")) {
    reasons.push_back("Too many pods");
  }
  auto check = [&](const std::string& name) {
    std::int64_t want = Get(pod_requests, name);
    if (want <= 0) return;
    if (std::find(ignored.begin(), ignored.end(), name) != ignored.end()) return;
    if (want > Get(allocatable, name) - Get(used, name)) reasons.push_back("Insufficient " + name);
  };
  for (const char* name : {"cpu", "memory", "ephemeral-storage"}) check(name);
  for (const auto& [name, v] : pod_requests) {
    if (name == "cpu" || name == "memory" || name == "ephemeral-storage" || name == "pods")
      continue;
    check(name);
  }
  return reasons;
}

std::string FitErrorMessage(std::size_t num_nodes,
                            const std::map<std::string, std::vector<std::string>>& node_reasons) {
  if (num_nodes == 0) return "no nodes available to schedule pods";
  std::map<std::string, int> histogram;
  for (const auto& [node, reasons] : node_reasons) {
    for (const auto& r : reasons) ++histogram[r];
  }
  std::vector<std::string> entries;
  for (const auto& [reason, count] : histogram) {
    entries.push_back(std::to_string(count) + " " + reason);
  }
  std::sort(entries.begin(), entries.end());
  std::string message = "0/" + std::to_string(num_nodes) + " nodes are available:";
  if (!entries.empty()) {
    message += " ";
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) message += ", ";
      message += entries[i];
    }
    message += ".";
  }
  return message;
}

std::int64_t LeastAllocatedScore(const ResourceMilli& pod_requests, const json& node,
                                 const std::vector<ResourceMilli>& node_pods) {
  ResourceMilli allocatable = Allocatable(node);
  ResourceMilli used = pod_requests;
  for (const auto& p : node_pods) AddTo(used, p);
  std::int64_t total = 0;
  for (const char* name : {"cpu", "memory"}) {
    std::int64_t cap = Get(allocatable, name);
    std::int64_t req = Get(used, name);
    if (cap <= 0 || req > cap) continue;
    // (cap - req) * 100 / cap without overflowing for large memory values.
    total += static_cast<std::int64_t>(static_cast<Int128>(cap - req) * kMaxNodeScore / cap);
  }
  return total / 2;
}

}  // namespace aidi::devcluster
