// The extender client (filter, prioritize, bind over HTTP, as kube-scheduler's HTTPExtender
// calls them) and the placement decision that combines fit, extenders and scores.
// Upstream: pkg/scheduler/extender.go and schedule_one.go.
#include "devcluster/agents/scheduler.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "base/base64.h"
#include "base/log.h"
#include "devcluster/agents/scheduler_internal.h"
#include "kube/client/transport.h"
#include "kube/core/json_fields.h"

namespace aidi::devcluster {

using json = nlohmann::json;
using kube::Field;
using kube::StringField;
using scheduler_internal::kMaxExtenderPriority;
using scheduler_internal::kMaxNodeScore;
using scheduler_internal::kMilli;
using scheduler_internal::NodeName;

namespace {

// obj[name] matched case-insensitively, as Go's encoding/json matches field names; null when
// absent.
const json& FieldFold(const json& obj, std::string_view name) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto exact = obj.find(name);
  if (exact != obj.end()) return *exact;
  for (const auto& [key, value] : obj.items()) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return kNull;
}

std::map<std::string, std::string> FailedMap(const json& value) {
  std::map<std::string, std::string> out;
  if (!value.is_object()) return out;
  for (const auto& [name, reason] : value.items()) {
    out[name] = reason.is_string() ? reason.get<std::string>() : reason.dump();
  }
  return out;
}

}  // namespace

std::string scheduler_internal::NodeName(const json& node) {
  return StringField(Field(node, "metadata"), "name");
}

HttpExtender::HttpExtender(ExtenderConfig config) : config_(std::move(config)) {
  std::string url = config_.url_prefix;
  while (!url.empty() && url.back() == '/') url.pop_back();  // strings.TrimRight(urlPrefix, "/")
  std::size_t scheme_end = url.find("://");
  std::size_t path_start =
      scheme_end == std::string::npos ? std::string::npos : url.find('/', scheme_end + 3);
  server_ = path_start == std::string::npos ? url : url.substr(0, path_start);
  path_ = path_start == std::string::npos ? "" : url.substr(path_start);
}

HttpExtender::~HttpExtender() = default;

bool HttpExtender::IsInterested(const json& pod) const {
  if (config_.managed_resources.empty()) return true;
  const json& spec = Field(pod, "spec");
  for (const char* list : {"containers", "initContainers"}) {
    const json& containers = Field(spec, list);
    if (!containers.is_array()) continue;
    for (const auto& c : containers) {
      const json& resources = Field(c, "resources");
      for (const char* kind : {"requests", "limits"}) {
        const json& r = Field(resources, kind);
        for (const auto& name : config_.managed_resources) {
          if (r.is_object() && r.contains(name)) return true;
        }
      }
    }
  }
  return false;
}

json HttpExtender::BuildArgs(const json& pod, const std::vector<const json*>& nodes) const {
  json args = {{"Pod", pod}};
  if (config_.node_cache_capable) {
    json names = json::array();
    for (const json* n : nodes) names.push_back(NodeName(*n));
    args["Nodes"] = nullptr;
    args["NodeNames"] = std::move(names);
  } else {
    json items = json::array();
    for (const json* n : nodes) items.push_back(*n);
    args["Nodes"] = {{"metadata", json::object()}, {"items", std::move(items)}};
    args["NodeNames"] = nullptr;
  }
  return args;
}

StatusOr<json> HttpExtender::Post(const std::string& verb, const json& body) const {
  std::string url = server_ + path_ + "/" + verb;
  std::shared_ptr<kube::Transport> transport;
  {
    std::lock_guard lock(mu_);
    if (!transport_) {
      kube::TransportConfig tc;
      tc.server = server_;
      tc.ca_pem = config_.ca_pem;
      tc.client_cert_pem = config_.client_cert_pem;
      tc.client_key_pem = config_.client_key_pem;
      // Upstream: enableHTTPS without a CA skips verification.
      tc.insecure_skip_tls_verify =
          config_.insecure || (config_.enable_https && config_.ca_pem.empty());
      tc.tls_server_name = config_.tls_server_name;
      auto made = kube::NewHttpTransport(tc);
      if (!made.ok()) {
        return made.status().WithContext("extender " + config_.url_prefix);
      }
      transport_ = std::move(made).value();
    }
    transport = transport_;
  }
  kube::HttpRequest request;
  request.method = "POST";
  request.path = path_ + "/" + verb;
  request.body = body.dump();
  request.content_type = "application/json";
  auto response = transport->Send(request, {}, config_.http_timeout);
  if (!response.ok()) {
    return Status(response.status().code(), "failed " + verb + " with extender at URL " + url +
                                                ": " + response.status().message());
  }
  if (response->status != 200) {
    return Status::Unavailable("failed " + verb + " with extender at URL " + url + ", code " +
                               std::to_string(response->status));
  }
  try {
    return json::parse(response->body);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("failed " + verb + " with extender at URL " + url +
                                   ": invalid JSON: " + e.what());
  }
}

StatusOr<ExtenderFilterOutcome> HttpExtender::Filter(const json& pod,
                                                     const std::vector<const json*>& nodes) const {
  ExtenderFilterOutcome out;
  if (config_.filter_verb.empty()) {
    for (const json* n : nodes) out.passed.push_back(NodeName(*n));
    return out;
  }
  AIDI_ASSIGN_OR_RETURN(json result, Post(config_.filter_verb, BuildArgs(pod, nodes)));
  const json& error = FieldFold(result, "Error");
  if (error.is_string() && !error.get<std::string>().empty()) {
    return Status::Unavailable(error.get<std::string>());
  }
  std::set<std::string> candidates;
  for (const json* n : nodes) candidates.insert(NodeName(*n));
  auto accept = [&](const std::string& name) -> Status {
    if (!candidates.count(name)) {
      return Status::InvalidArgument("extender \"" + config_.url_prefix +
                                     "\" claims a filtered node \"" + name +
                                     "\" which is not found in the input node list");
    }
    out.passed.push_back(name);
    return Status::Ok();
  };
  const json& names = FieldFold(result, "NodeNames");
  const json& answered_nodes = FieldFold(result, "Nodes");
  if (config_.node_cache_capable && names.is_array()) {
    for (const auto& n : names)
      AIDI_RETURN_IF_ERROR(accept(n.is_string() ? n.get<std::string>() : ""));
  } else if (answered_nodes.is_object()) {
    const json& items = FieldFold(answered_nodes, "items");
    if (items.is_array()) {
      for (const auto& n : items) AIDI_RETURN_IF_ERROR(accept(NodeName(n)));
    }
  }
  out.failed = FailedMap(FieldFold(result, "FailedNodes"));
  out.failed_unresolvable = FailedMap(FieldFold(result, "FailedAndUnresolvableNodes"));
  return out;
}

StatusOr<std::map<std::string, std::int64_t>> HttpExtender::Prioritize(
    const json& pod, const std::vector<const json*>& nodes) const {
  std::map<std::string, std::int64_t> out;
  if (config_.prioritize_verb.empty()) return out;
  AIDI_ASSIGN_OR_RETURN(json result, Post(config_.prioritize_verb, BuildArgs(pod, nodes)));
  if (!result.is_array()) {
    return Status::InvalidArgument("extender \"" + config_.url_prefix +
                                   "\" answered prioritize with something other than a list");
  }
  for (const auto& entry : result) {
    const json& host = FieldFold(entry, "Host");
    const json& score = FieldFold(entry, "Score");
    if (!host.is_string()) continue;
    out[host.get<std::string>()] = score.is_number_integer() ? score.get<std::int64_t>() : 0;
  }
  return out;
}

Status HttpExtender::Bind(const json& pod, const std::string& node) const {
  const json& meta = Field(pod, "metadata");
  json args = {{"PodName", StringField(meta, "name")},
               {"PodNamespace", StringField(meta, "namespace")},
               {"PodUID", StringField(meta, "uid")},
               {"Node", node}};
  AIDI_ASSIGN_OR_RETURN(json result, Post(config_.bind_verb, args));
  const json& error = FieldFold(result, "Error");
  if (error.is_string() && !error.get<std::string>().empty()) {
    return Status::Unavailable(error.get<std::string>());
  }
  return Status::Ok();
}

StatusOr<PlacementDecision> DecidePlacement(
    const json& pod, const std::vector<json>& nodes,
    const std::map<std::string, std::vector<ResourceMilli>>& pods_by_node,
    const std::vector<const HttpExtender*>& extenders) {
  static const std::vector<ResourceMilli> kNoPods;
  auto pods_on = [&](const std::string& node) -> const std::vector<ResourceMilli>& {
    auto it = pods_by_node.find(node);
    return it == pods_by_node.end() ? kNoPods : it->second;
  };
  PlacementDecision decision;
  std::vector<std::string> ignored;
  for (const HttpExtender* e : extenders) {
    for (const auto& r : e->config().ignored_resources) ignored.push_back(r);
  }
  ResourceMilli requests = PodRequests(pod);
  requests["pods"] = kMilli;
  // Nodes by name, so ties go to the first name.
  std::vector<const json*> sorted;
  for (const auto& n : nodes) sorted.push_back(&n);
  std::sort(sorted.begin(), sorted.end(),
            [](const json* a, const json* b) { return NodeName(*a) < NodeName(*b); });
  std::vector<const json*> feasible;
  for (const json* n : sorted) {
    std::string name = NodeName(*n);
    auto reasons = NodeFitReasons(pod, requests, *n, pods_on(name), ignored);
    if (reasons.empty()) {
      feasible.push_back(n);
    } else {
      decision.node_reasons[name] = std::move(reasons);
    }
  }
  for (const HttpExtender* e : extenders) {
    if (feasible.empty()) break;
    if (!e->IsInterested(pod)) continue;
    auto outcome = e->Filter(pod, feasible);
    if (!outcome.ok()) {
      if (e->config().ignorable) {
        log::Info("skipping ignorable extender after a failed filter",
                  {{"extender", e->config().url_prefix}, {"error", outcome.status().message()}});
        continue;
      }
      return outcome.status();
    }
    for (const auto& [name, reason] : outcome->failed_unresolvable) {
      decision.node_reasons[name] = {reason};
    }
    for (const auto& [name, reason] : outcome->failed) {
      if (!outcome->failed_unresolvable.count(name)) decision.node_reasons[name] = {reason};
    }
    std::set<std::string> passed(outcome->passed.begin(), outcome->passed.end());
    std::vector<const json*> kept;
    for (const json* n : feasible) {
      if (passed.count(NodeName(*n))) kept.push_back(n);
    }
    feasible = std::move(kept);
  }
  if (feasible.empty()) {
    decision.message = FitErrorMessage(nodes.size(), decision.node_reasons);
    return decision;
  }
  for (const HttpExtender* e : extenders) {
    if (e->IsBinder() && e->IsInterested(pod)) {
      decision.binder = e;
      break;
    }
  }
  if (feasible.size() == 1) {  // upstream takes a lone feasible node without scoring
    decision.node = NodeName(*feasible.front());
    return decision;
  }
  for (const json* n : feasible) {
    std::string name = NodeName(*n);
    decision.scores[name] = LeastAllocatedScore(requests, *n, pods_on(name));
  }
  for (const HttpExtender* e : extenders) {
    if (!e->IsInterested(pod)) continue;
    auto scores = e->Prioritize(pod, feasible);
    if (!scores.ok()) {  // upstream ignores prioritize failures
      log::Warn("extender prioritize failed; ignored",
                {{"extender", e->config().url_prefix}, {"error", scores.status().message()}});
      continue;
    }
    for (const auto& [host, score] : *scores) {
      auto it = decision.scores.find(host);
      if (it == decision.scores.end()) continue;
      it->second += score * e->config().weight * (kMaxNodeScore / kMaxExtenderPriority);
    }
  }
  std::int64_t best = std::numeric_limits<std::int64_t>::min();
  for (const json* n : feasible) {  // by name: the first of equal scores wins
    std::string name = NodeName(*n);
    if (decision.scores[name] > best) {
      best = decision.scores[name];
      decision.node = name;
    }
  }
  return decision;
}

json BindingFor(const json& pod, const std::string& node) {
  const json& meta = Field(pod, "metadata");
  json metadata = {{"name", StringField(meta, "name")}};
  if (std::string ns = StringField(meta, "namespace"); !ns.empty()) metadata["namespace"] = ns;
  if (std::string uid = StringField(meta, "uid"); !uid.empty()) metadata["uid"] = uid;
  return {{"apiVersion", "v1"},
          {"kind", "Binding"},
          {"metadata", std::move(metadata)},
          {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
}

}  // namespace aidi::devcluster
