#include "operator/controller/edgesite_rollup.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <utility>

#include "kube/core/json_fields.h"
#include "kube/core/quantity.h"

namespace aidi::op {
namespace {

using kube::Field;
using kube::StringField;
using nlohmann::json;

// metav1.Condition messages are at most 1024 bytes (the CRD's maxLength).
constexpr std::size_t kMaxMessage = 1024;
// How many conflicting nodes a Ready message names before "and N more".
constexpr std::size_t kMaxNamedConflicts = 5;

std::string NameOf(const json& object) { return StringField(Field(object, "metadata"), "name"); }

const json& LabelsOf(const json& object) { return Field(Field(object, "metadata"), "labels"); }

std::string Truncate(std::string s) {
  if (s.size() <= kMaxMessage) return s;
  std::size_t cut = kMaxMessage;
  // Never cut a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s;
}

std::string Plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The GPU request of one container: requests, else limits (extended resources default requests
// to limits).
std::int64_t ContainerGpus(const json& container) {
  const json& resources = Field(container, "resources");
  const json& requests = Field(resources, "requests");
  if (requests.is_object() && requests.contains(kGpuResource)) {
    return GpuQuantity(requests[kGpuResource]);
  }
  const json& limits = Field(resources, "limits");
  if (limits.is_object() && limits.contains(kGpuResource)) return GpuQuantity(limits[kGpuResource]);
  return 0;
}

std::int64_t NodeGpus(const json& node) {
  const json& status = Field(node, "status");
  for (const char* field : {"allocatable", "capacity"}) {
    const json& list = Field(status, field);
    if (list.is_object() && list.contains(kGpuResource)) return GpuQuantity(list[kGpuResource]);
  }
  return 0;
}

// The previous condition of `type` in a status, or null.
const json& PreviousCondition(const json& status, const std::string& type) {
  static const json kNull;
  const json& conditions = Field(status, "conditions");
  if (!conditions.is_array()) return kNull;
  for (const json& c : conditions) {
    if (StringField(c, "type") == type) return c;
  }
  return kNull;
}

json Condition(const std::string& type, bool value, const std::string& reason,
               const std::string& message, std::int64_t generation, const json& previous_status,
               Clock::WallTime now) {
  const std::string status = value ? "True" : "False";
  const json& previous = PreviousCondition(previous_status, type);
  std::string since = FormatRfc3339(now);
  if (StringField(previous, "status") == status) {
    std::string kept = StringField(previous, "lastTransitionTime");
    if (!kept.empty()) since = kept;
  }
  return {{"type", type},
          {"status", status},
          {"observedGeneration", generation},
          {"lastTransitionTime", since},
          {"reason", reason},
          {"message", Truncate(message)}};
}

// "; 2 nodes matching the nodeSelector belong to a site whose name sorts first: n3 (site a),
// n4 (site a)", or "" when none.
std::string ConflictNote(const std::map<std::string, std::string>& claimed) {
  if (claimed.empty()) return "";
  const auto n = static_cast<std::int64_t>(claimed.size());
  std::string note = "; " + Plural(n, "node", "nodes") + " matching the nodeSelector " +
                     (n == 1 ? "belongs" : "belong") + " to a site whose name sorts first: ";
  std::size_t named = 0;
  for (const auto& [node, site] : claimed) {
    if (named == kMaxNamedConflicts) {
      note += " and " + std::to_string(claimed.size() - named) + " more";
      break;
    }
    note += (named == 0 ? "" : ", ") + node + " (site " + site + ")";
    ++named;
  }
  return note;
}

struct GpuCount {
  std::int64_t total = 0;
  std::int64_t free = 0;
};

}  // namespace

StatusOr<std::optional<kube::LabelSelector>> SiteNodeSelector(const json& site) {
  const json& selector = Field(Field(site, "spec"), "nodeSelector");
  if (selector.is_null()) {
    std::string name = NameOf(site);
    auto parsed = kube::LabelSelector::Parse(std::string(kSiteLabel) + "=" + name);
    if (!parsed.ok()) {
      return Status::InvalidArgument("the site name \"" + name +
                                     "\" is not a valid label value: " + parsed.status().message());
    }
    return std::optional<kube::LabelSelector>(std::move(*parsed));
  }
  auto parsed = kube::LabelSelector::FromJson(selector);
  if (!parsed.ok()) {
    return Status::InvalidArgument("spec.nodeSelector: " + parsed.status().message());
  }
  if (parsed->Empty()) return std::optional<kube::LabelSelector>();
  return std::optional<kube::LabelSelector>(std::move(*parsed));
}

std::int64_t GpuQuantity(const json& quantity) { return kube::WholeCount(quantity).value_or(0); }

std::int64_t PodGpuRequest(const json& pod) {
  const json& spec = Field(pod, "spec");
  std::int64_t sum = 0;
  if (const json& containers = Field(spec, "containers"); containers.is_array()) {
    for (const json& c : containers) sum += ContainerGpus(c);
  }
  std::int64_t init = 0;
  if (const json& containers = Field(spec, "initContainers"); containers.is_array()) {
    for (const json& c : containers) init = std::max(init, ContainerGpus(c));
  }
  return std::max(sum, init);
}

bool PodHoldsGpus(const json& pod) {
  if (StringField(Field(pod, "spec"), "nodeName").empty()) return false;
  std::string phase = StringField(Field(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  return PodGpuRequest(pod) > 0;
}

bool NodeReady(const json& node) {
  const json& conditions = Field(Field(node, "status"), "conditions");
  if (!conditions.is_array()) return false;
  for (const json& c : conditions) {
    if (StringField(c, "type") == "Ready") return StringField(c, "status") == "True";
  }
  return false;
}

SiteMembership::SiteMembership(const std::vector<json>& sites) {
  for (const json& site : sites) {
    Site entry;
    entry.name = NameOf(site);
    if (entry.name.empty()) continue;
    auto selector = SiteNodeSelector(site);
    if (selector.ok()) {
      entry.selector = std::move(*selector);
    } else {
      entry.error = selector.status().message();
    }
    sites_.push_back(std::move(entry));
  }
  std::sort(sites_.begin(), sites_.end(),
            [](const Site& a, const Site& b) { return a.name < b.name; });
  sites_.erase(std::unique(sites_.begin(), sites_.end(),
                           [](const Site& a, const Site& b) { return a.name == b.name; }),
               sites_.end());
}

std::string SiteMembership::SiteOf(const json& labels) const {
  for (const Site& site : sites_) {
    if (site.selector && site.selector->MatchesJson(labels)) return site.name;
  }
  return "";
}

std::vector<std::string> SiteMembership::MatchingSites(const json& labels) const {
  std::vector<std::string> out;
  for (const Site& site : sites_) {
    if (site.selector && site.selector->MatchesJson(labels)) out.push_back(site.name);
  }
  return out;
}

const SiteMembership::Site* SiteMembership::Find(const std::string& name) const {
  auto it = std::lower_bound(sites_.begin(), sites_.end(), name,
                             [](const Site& site, const std::string& n) { return site.name < n; });
  return it != sites_.end() && it->name == name ? &*it : nullptr;
}

bool SiteMembership::Exists(const std::string& site) const { return Find(site) != nullptr; }

std::string SiteMembership::SelectorError(const std::string& site) const {
  const Site* s = Find(site);
  return s == nullptr ? "" : s->error;
}

bool SiteMembership::SelectsNothing(const std::string& site) const {
  const Site* s = Find(site);
  return s == nullptr || !s->selector.has_value();
}

std::map<std::string, SiteRollup> RollUpEdgeSites(const EdgeSiteRollupInput& input) {
  SiteMembership membership(input.sites);
  std::map<std::string, SiteRollup> out;
  std::map<std::string, const json*> sites;  // by name
  for (const json& site : input.sites) {
    std::string name = NameOf(site);
    if (name.empty()) continue;
    sites.emplace(name, &site);
    out.try_emplace(name);
  }

  // Nodes in name order, so every list built from them is ordered too.
  std::vector<std::pair<std::string, const json*>> nodes;
  for (const json& node : input.nodes) {
    std::string name = NameOf(node);
    if (!name.empty()) nodes.emplace_back(std::move(name), &node);
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  // GPUs held per node by pods that have not terminated.
  std::map<std::string, std::int64_t> held;
  for (const json& pod : input.pods) {
    if (PodHoldsGpus(pod)) held[StringField(Field(pod, "spec"), "nodeName")] += PodGpuRequest(pod);
  }

  // Membership, conflicts and label changes.
  std::map<std::string, std::vector<const json*>> members;
  for (const auto& [name, node] : nodes) {
    const json& labels = LabelsOf(*node);
    std::vector<std::string> matching = membership.MatchingSites(labels);
    std::string want = matching.empty() ? "" : matching.front();
    if (!want.empty()) {
      out[want].members.push_back(name);
      members[want].push_back(node);
      for (std::size_t i = 1; i < matching.size(); ++i) {
        out[matching[i]].claimed_elsewhere[name] = want;
      }
    }

    std::string have = StringField(labels, kSiteLabel);
    bool labelled = labels.is_object() && labels.contains(kSiteLabel);
    std::string version = StringField(Field(*node, "metadata"), "resourceVersion");
    json changed = labels.is_object() ? labels : json::object();
    if (!want.empty() && (!labelled || have != want)) {
      changed[kSiteLabel] = want;
      // Only a change that keeps the node where it is: never one that moves it elsewhere.
      if (membership.SiteOf(changed) == want) {
        out[want].label_changes.push_back({name, version, want});
      }
    } else if (want.empty() && labelled && membership.Exists(have)) {
      changed.erase(kSiteLabel);
      if (membership.SiteOf(changed).empty()) {
        out[have].label_changes.push_back({name, version, std::nullopt});
      }
    }
  }

  for (auto& [name, rollup] : out) {
    const json& site = *sites.at(name);
    const json& spec = Field(site, "spec");
    const json& previous = Field(site, "status");
    const json& generation_field = Field(Field(site, "metadata"), "generation");
    std::int64_t generation =
        generation_field.is_number_integer() ? generation_field.get<std::int64_t>() : 0;
    bool maintenance =
        Field(spec, "maintenance").is_boolean() && Field(spec, "maintenance").get<bool>();

    std::int64_t total = 0;
    std::int64_t ready = 0;
    GpuCount gpus;
    std::map<std::string, GpuCount> by_model;
    for (const json* node : members[name]) {
      ++total;
      if (!NodeReady(*node)) continue;
      ++ready;
      std::int64_t node_gpus = NodeGpus(*node);
      if (node_gpus == 0) continue;
      auto held_it = held.find(NameOf(*node));
      std::int64_t node_free =
          std::max<std::int64_t>(0, node_gpus - (held_it == held.end() ? 0 : held_it->second));
      std::string model = StringField(LabelsOf(*node), kGpuProductLabel);
      if (model.empty()) model = "unknown";
      gpus.total += node_gpus;
      gpus.free += node_free;
      by_model[model].total += node_gpus;
      by_model[model].free += node_free;
    }

    std::string selector_error = membership.SelectorError(name);
    std::string ready_summary = std::to_string(ready) + "/" + std::to_string(total);
    std::string phase = maintenance ? "Maintenance" : ready > 0 ? "Ready" : "NotReady";

    // Ready.
    bool is_ready = false;
    std::string ready_reason;
    std::string ready_message;
    if (!selector_error.empty()) {
      ready_reason = "InvalidNodeSelector";
      ready_message = selector_error;
    } else if (maintenance) {
      ready_reason = "Maintenance";
      ready_message = "spec.maintenance is true: no new stage pods are placed here; " +
                      ready_summary + " nodes ready";
    } else if (membership.SelectsNothing(name)) {
      ready_reason = "NoNodes";
      ready_message = "spec.nodeSelector is empty and selects no nodes";
    } else if (total == 0) {
      ready_reason = "NoNodes";
      ready_message = rollup.claimed_elsewhere.empty() ? "no node matches the nodeSelector"
                                                       : "no nodes of its own";
    } else if (ready == 0) {
      ready_reason = "NoReadyNodes";
      ready_message = ready_summary + " nodes ready";
    } else {
      is_ready = true;
      ready_reason = "NodesReady";
      ready_message = ready_summary + " nodes ready";
    }
    ready_message += ConflictNote(rollup.claimed_elsewhere);

    // CapacityAvailable.
    bool capacity = false;
    std::string capacity_reason;
    std::string capacity_message;
    std::string gpu_summary = std::to_string(gpus.free) + "/" + std::to_string(gpus.total);
    if (maintenance) {
      capacity_reason = "Maintenance";
      capacity_message = "spec.maintenance is true: no new stage pods are placed here";
    } else if (gpus.total > 0) {
      capacity = gpus.free > 0;
      capacity_reason = capacity ? "GpusFree" : "NoFreeGpus";
      capacity_message = gpu_summary + " GPUs free";
    } else if (ready > 0) {
      capacity = true;
      capacity_reason = "NoGpusNodesReady";
      capacity_message =
          "no GPUs on the ready nodes; " + ready_summary + " nodes ready for CPU work";
    } else {
      capacity_reason = "NoReadyNodes";
      capacity_message = "no ready nodes";
    }

    json conditions = json::array();
    conditions.push_back(
        Condition("Ready", is_ready, ready_reason, ready_message, generation, previous, input.now));
    conditions.push_back(Condition("CapacityAvailable", capacity, capacity_reason, capacity_message,
                                   generation, previous, input.now));
    if (const json& old = Field(previous, "conditions"); old.is_array()) {
      for (const json& c : old) {
        std::string type = StringField(c, "type");
        if (type != "Ready" && type != "CapacityAvailable") conditions.push_back(c);
      }
    }

    json models = json::object();
    for (const auto& [model, count] : by_model) {
      models[model] = {{"total", count.total}, {"free", count.free}};
    }
    rollup.status = {{"phase", phase},
                     {"totalNodes", total},
                     {"readyNodes", ready},
                     {"readySummary", ready_summary},
                     {"gpus", {{"total", gpus.total}, {"free", gpus.free}, {"byModel", models}}},
                     {"gpuSummary", gpu_summary + " free"},
                     {"observedGeneration", generation},
                     {"conditions", conditions}};
    rollup.status_changed = rollup.status != previous;

    const json& was = PreviousCondition(previous, "Ready");
    std::string now_status = is_ready ? "True" : "False";
    if (StringField(was, "status") != now_status) {
      rollup.event = SiteEvent{.warning = !is_ready,
                               .reason = is_ready ? "SiteReady" : "SiteNotReady",
                               .message = conditions[0]["message"].get<std::string>()};
    }
  }
  return out;
}

}  // namespace aidi::op
