#include "devcluster/builtin_types.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <random>
#include <regex>
#include <set>

#include "base/base64.h"
#include "devcluster/builtin_schemas/builtin_schemas.h"
#include "devcluster/crd/printer_columns.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

std::string Age(const json& obj, Clock::WallTime now) {
  const json& meta = obj["metadata"];
  Clock::WallTime created;
  if (!meta.contains("creationTimestamp") || !meta["creationTimestamp"].is_string() ||
      !ParseRfc3339(meta["creationTimestamp"].get<std::string>(), &created)) {
    return "<unknown>";
  }
  auto d = std::chrono::duration_cast<std::chrono::seconds>(now - created);
  return HumanDuration(d < std::chrono::seconds(0) ? std::chrono::seconds(0) : d);
}

json Column(const std::string& name, const std::string& type, const std::string& description,
            int priority = 0, const std::string& format = "") {
  return {{"name", name},
          {"type", type},
          {"format", format},
          {"description", description},
          {"priority", priority}};
}

json NameColumn() {
  return Column("Name", "string",
                "Name must be unique within a namespace. Is required when creating resources, "
                "although some resources may allow a client to request the generation of an "
                "appropriate name automatically. Name is primarily intended for creation "
                "idempotence and configuration definition. Cannot be updated. More info: "
                "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
                0, "name");
}

json AgeColumn() {
  return Column("Age", "string",
                "CreationTimestamp is a timestamp representing the server time when this object "
                "was created.");
}

std::string Str(const json& obj, const json::json_pointer& p, const std::string& dflt = "") {
  if (!obj.contains(p)) return dflt;
  const json& v = obj.at(p);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return dflt;
  return v.dump();
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::size_t MapSize(const json& obj, const char* field) {
  return obj.contains(field) && obj[field].is_object() ? obj[field].size() : 0;
}

// ---- per-kind strategies ----

void PrepareNamespace(json& obj) {
  obj["spec"]["finalizers"] = json::array({"kubernetes"});
  obj["status"] = {{"phase", "Active"}};
  obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = obj["metadata"]["name"];
}

std::string PullPolicyFor(const std::string& image) {
  auto slash = image.rfind('/');
  std::string last = slash == std::string::npos ? image : image.substr(slash + 1);
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  auto colon = last.find(':');
  if (colon == std::string::npos || last.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

void DefaultContainers(json& containers) {
  if (!containers.is_array()) return;
  for (json& c : containers) {
    if (!c.is_object()) continue;
    if (!c.contains("terminationMessagePath")) c["terminationMessagePath"] = "/dev/termination-log";
    if (!c.contains("terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
    if (!c.contains("imagePullPolicy") && c.contains("image") && c["image"].is_string()) {
      c["imagePullPolicy"] = PullPolicyFor(c["image"].get<std::string>());
    }
    if (!c.contains("resources")) c["resources"] = json::object();
    if (c.contains("ports") && c["ports"].is_array()) {
      for (json& p : c["ports"]) {
        if (p.is_object() && !p.contains("protocol")) p["protocol"] = "TCP";
      }
    }
  }
}

std::string QosClass(const json& spec) {
  bool any = false, guaranteed = true;
  if (!spec.contains("containers") || !spec["containers"].is_array()) return "BestEffort";
  for (const json& c : spec["containers"]) {
    const json res = c.value("resources", json::object());
    const json req = res.value("requests", json::object());
    const json lim = res.value("limits", json::object());
    if (!req.empty() || !lim.empty()) any = true;
    for (const char* r : {"cpu", "memory"}) {
      if (!lim.contains(r) || (req.contains(r) && req[r] != lim[r])) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

void PreparePod(json& obj) {
  json& spec = obj["spec"];
  if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
  if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
  if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
  if (!spec.contains("serviceAccountName")) {
    spec["serviceAccountName"] = spec.value("serviceAccount", std::string("default"));
  }
  if (!spec.contains("serviceAccount")) spec["serviceAccount"] = spec["serviceAccountName"];
  if (!spec.contains("securityContext")) spec["securityContext"] = json::object();
  if (!spec.contains("enableServiceLinks")) spec["enableServiceLinks"] = true;
  if (!spec.contains("priority")) spec["priority"] = 0;
  if (!spec.contains("preemptionPolicy")) spec["preemptionPolicy"] = "PreemptLowerPriority";
  DefaultContainers(spec["containers"]);
  if (spec.contains("initContainers")) DefaultContainers(spec["initContainers"]);
  json status = {{"phase", "Pending"}, {"qosClass", QosClass(spec)}};
  if (spec.contains("nodeName") && spec["nodeName"].is_string()) {
    status["conditions"] =
        json::array({{{"type", "PodScheduled"},
                      {"status", "True"},
                      {"lastProbeTime", nullptr},
                      {"lastTransitionTime", obj["metadata"]["creationTimestamp"]}}});
  }
  obj["status"] = status;
}

void ValidatePod(const json& obj, FieldErrorList& errs) {
  const json& spec = obj.value("spec", json::object());
  if (!obj.contains("spec") || !spec.contains("containers") || !spec["containers"].is_array() ||
      spec["containers"].empty()) {
    errs.Required("spec.containers");
    return;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < spec["containers"].size(); ++i) {
    const json& c = spec["containers"][i];
    std::string path = "spec.containers[" + std::to_string(i) + "]";
    if (!c.is_object()) {
      errs.Invalid(path, c, "must be an object");
      continue;
    }
    std::string name = c.value("name", "");
    if (name.empty()) {
      errs.Required(path + ".name");
    } else if (std::string e = DnsLabelError(name); !e.empty()) {
      errs.Invalid(path + ".name", name, e);
    } else if (!names.insert(name).second) {
      errs.Add("FieldValueDuplicate", path + ".name", "Duplicate value: \"" + name + "\"");
    }
    if (!c.contains("image") || !c["image"].is_string() || c["image"].get<std::string>().empty()) {
      errs.Required(path + ".image");
    }
  }
  static const std::vector<std::string> kPolicies = {"Always", "OnFailure", "Never"};
  std::string rp = spec.value("restartPolicy", "Always");
  if (std::find(kPolicies.begin(), kPolicies.end(), rp) == kPolicies.end()) {
    errs.NotSupported("spec.restartPolicy", rp, kPolicies);
  }
}

// Pod spec is immutable but for a few fields (apiserver: "pod updates may not change fields
// other than ...").
void ValidatePodUpdate(const json& obj, const json& old, FieldErrorList& errs) {
  json a = obj.value("spec", json::object());
  json b = old.value("spec", json::object());
  for (json* s : {&a, &b}) {
    s->erase("activeDeadlineSeconds");
    s->erase("tolerations");
    s->erase("schedulingGates");
    if (s->contains("containers") && (*s)["containers"].is_array()) {
      for (json& c : (*s)["containers"]) {
        if (c.is_object()) c.erase("image");
      }
    }
  }
  // nodeName may be set once (by binding); treat unset->set as allowed.
  if (!b.contains("nodeName")) a.erase("nodeName");
  if (a != b) {
    errs.Forbidden("spec",
                   "pod updates may not change fields other than `spec.containers[*].image`,"
                   "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                   "`spec.tolerations` (only additions to existing tolerations),"
                   "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                   "previously negative)");
  }
}

std::string PodStatusReason(const json& obj) {
  const json status = obj.value("status", json::object());
  std::string reason = status.value("reason", status.value("phase", "Pending"));
  if (status.contains("containerStatuses") && status["containerStatuses"].is_array()) {
    for (const json& cs : status["containerStatuses"]) {
      const json st = cs.value("state", json::object());
      if (st.contains("waiting") && st["waiting"].contains("reason")) {
        reason = st["waiting"]["reason"];
      } else if (st.contains("terminated")) {
        const json& t = st["terminated"];
        if (t.contains("reason")) {
          reason = t["reason"];
        } else {
          reason = "ExitCode:" + std::to_string(t.value("exitCode", 0));
        }
      }
    }
  }
  if (obj["metadata"].contains("deletionTimestamp")) reason = "Terminating";
  return reason;
}

json PodCells(const json& obj, Clock::WallTime now) {
  const json status = obj.value("status", json::object());
  std::size_t total = obj["spec"].value("containers", json::array()).size();
  std::size_t ready = 0;
  long restarts = 0;
  if (status.contains("containerStatuses") && status["containerStatuses"].is_array()) {
    for (const json& cs : status["containerStatuses"]) {
      if (cs.value("ready", false)) ++ready;
      restarts += cs.value("restartCount", 0L);
    }
  }
  std::string node = Str(obj, "/spec/nodeName"_json_pointer, "<none>");
  std::string ip = Str(obj, "/status/podIP"_json_pointer, "<none>");
  return json::array({obj["metadata"]["name"], std::to_string(ready) + "/" + std::to_string(total),
                      PodStatusReason(obj), restarts, Age(obj, now), ip, node, "<none>", "<none>"});
}

json PodColumns() {
  return json::array(
      {NameColumn(),
       Column("Ready", "string",
              "The aggregate readiness state of this pod for "
              "accepting traffic."),
       Column("Status", "string",
              "The aggregate status of the containers in this "
              "pod."),
       Column("Restarts", "string",
              "The number of times the containers in this "
              "pod have been restarted and when the last "
              "container in this pod has restarted."),
       AgeColumn(), Column("IP", "string", "IP address allocated to the pod.", 1),
       Column("Node", "string", "Name of the node this pod is assigned to.", 1),
       Column("Nominated Node", "string", "Name of the node this pod is nominated to.", 1),
       Column("Readiness Gates", "string", "Pod readiness gates.", 1)});
}

json NodeCells(const json& obj, Clock::WallTime now) {
  std::string status = "Unknown";
  if (obj.contains("/status/conditions"_json_pointer)) {
    for (const json& c : obj.at("/status/conditions"_json_pointer)) {
      if (c.value("type", "") == "Ready")
        status = c.value("status", "") == "True" ? "Ready" : "NotReady";
    }
  }
  if (obj.value("spec", json::object()).value("unschedulable", false)) {
    status += ",SchedulingDisabled";
  }
  std::vector<std::string> roles;
  if (obj["metadata"].contains("labels")) {
    for (auto& [k, v] : obj["metadata"]["labels"].items()) {
      const std::string prefix = "node-role.kubernetes.io/";
      if (k.rfind(prefix, 0) == 0) roles.push_back(k.substr(prefix.size()));
    }
  }
  std::string version = Str(obj, "/status/nodeInfo/kubeletVersion"_json_pointer, "");
  return json::array({obj["metadata"]["name"], status, roles.empty() ? "<none>" : Join(roles, ","),
                      Age(obj, now), version});
}

json NodeColumns() {
  return json::array({NameColumn(), Column("Status", "string", "The status of the node"),
                      Column("Roles", "string", "The roles of the node"), AgeColumn(),
                      Column("Version", "string", "Kubelet Version reported by the node.")});
}

void PrepareSecret(json& obj) {
  if (!obj.contains("type")) obj["type"] = "Opaque";
  // stringData is write-only: merged into data (base64) and dropped, as the apiserver does.
  if (obj.contains("stringData") && obj["stringData"].is_object()) {
    for (auto& [k, v] : obj["stringData"].items()) {
      if (v.is_string()) obj["data"][k] = Base64Encode(v.get<std::string>());
    }
  }
  obj.erase("stringData");
}

// ConfigMaps and Secrets hold at most 1 MiB of data (core.MaxSecretSize).
void ValidateDataSize(const json& obj, FieldErrorList& errs) {
  std::size_t total = 0;
  for (const char* field : {"data", "binaryData"}) {
    if (!obj.contains(field) || !obj[field].is_object()) continue;
    for (auto& [k, v] : obj[field].items()) {
      total += k.size() + (v.is_string() ? v.get<std::string>().size() : 0);
    }
  }
  if (total > 1024 * 1024) {
    errs.Add("FieldValueTooLong", "[]", "Too long: must have at most 1048576 bytes");
  }
}

void ValidateSecret(const json& obj, FieldErrorList& errs) {
  ValidateDataSize(obj, errs);
  static const std::regex kB64(R"(^[A-Za-z0-9+/]*={0,2}$)");
  if (obj.contains("data") && obj["data"].is_object()) {
    for (auto& [k, v] : obj["data"].items()) {
      if (!v.is_string() || !std::regex_match(v.get<std::string>(), kB64) ||
          v.get<std::string>().size() % 4 != 0) {
        errs.Invalid("data[" + k + "]", "<secret contents redacted>", "illegal base64 data");
      }
    }
  }
}

std::string NextClusterIp() {
  static std::atomic<unsigned> next{10};
  unsigned n = next++;
  return "10.96." + std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
}

void PrepareService(json& obj) {
  json& spec = obj["spec"];
  if (!spec.contains("type")) spec["type"] = "ClusterIP";
  if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
  if (spec["type"] != "ExternalName" && !spec.contains("clusterIP")) {
    spec["clusterIP"] = NextClusterIp();
    spec["clusterIPs"] = json::array({spec["clusterIP"]});
  }
  if (spec.contains("ports") && spec["ports"].is_array()) {
    for (json& p : spec["ports"]) {
      if (!p.is_object()) continue;
      if (!p.contains("protocol")) p["protocol"] = "TCP";
      if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
    }
  }
  obj["status"] = {{"loadBalancer", json::object()}};
}

void PrepareServiceUpdate(json& obj, const json& old) {
  // clusterIP is allocated once and kept when an update (e.g. kubectl apply) omits it.
  if (old.contains("/spec/clusterIP"_json_pointer) &&
      !obj.contains("/spec/clusterIP"_json_pointer)) {
    obj["spec"]["clusterIP"] = old["spec"]["clusterIP"];
    obj["spec"]["clusterIPs"] = old["spec"].value("clusterIPs", json::array());
  }
}

json ServiceCells(const json& obj, Clock::WallTime now) {
  std::vector<std::string> ports;
  if (obj.contains("/spec/ports"_json_pointer)) {
    for (const json& p : obj.at("/spec/ports"_json_pointer)) {
      ports.push_back(std::to_string(p.value("port", 0)) + "/" + p.value("protocol", "TCP"));
    }
  }
  return json::array({obj["metadata"]["name"], Str(obj, "/spec/type"_json_pointer),
                      Str(obj, "/spec/clusterIP"_json_pointer, "<none>"), "<none>",
                      ports.empty() ? "<none>" : Join(ports, ","), Age(obj, now), "<none>"});
}

json ServiceColumns() {
  return json::array({NameColumn(), Column("Type", "string", "The type of the service."),
                      Column("Cluster-IP", "string", "The cluster IP of the service."),
                      Column("External-IP", "string", "The external IP of the service."),
                      Column("Port(s)", "string", "The ports of the service."), AgeColumn(),
                      Column("Selector", "string", "The label selector of the service.", 1)});
}

json EventCells(const json& obj, Clock::WallTime now) {
  std::string last = Str(obj, "/lastTimestamp"_json_pointer);
  if (last.empty()) last = Str(obj, "/eventTime"_json_pointer);
  std::string seen = "<unknown>";
  Clock::WallTime t;
  if (!last.empty() && ParseRfc3339(last, &t)) {
    seen = HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - t));
  }
  std::string object = Str(obj, "/involvedObject/kind"_json_pointer);
  std::transform(object.begin(), object.end(), object.begin(), ::tolower);
  object += "/" + Str(obj, "/involvedObject/name"_json_pointer);
  return json::array({seen, Str(obj, "/type"_json_pointer), Str(obj, "/reason"_json_pointer),
                      object, Str(obj, "/message"_json_pointer)});
}

json EventColumns() {
  return json::array({Column("Last Seen", "string", "Time of the last occurrence"),
                      Column("Type", "string", "Type of this event"),
                      Column("Reason", "string", "Reason of this event"),
                      Column("Object", "string", "The object this event is about"),
                      Column("Message", "string", "Message of this event")});
}

void ValidateEvent(const json& obj, FieldErrorList& errs) {
  if (!obj.contains("involvedObject") || !obj["involvedObject"].is_object()) {
    errs.Required("involvedObject");
  }
}

json DeploymentCells(const json& obj, Clock::WallTime now) {
  long want = obj.contains("/spec/replicas"_json_pointer)
                  ? obj.at("/spec/replicas"_json_pointer).get<long>()
                  : 1;
  const json st = obj.value("status", json::object());
  return json::array({obj["metadata"]["name"],
                      std::to_string(st.value("readyReplicas", 0L)) + "/" + std::to_string(want),
                      st.value("updatedReplicas", 0L), st.value("availableReplicas", 0L),
                      Age(obj, now)});
}

json DeploymentColumns() {
  return json::array({NameColumn(), Column("Ready", "string", "Number of the pod with ready state"),
                      Column("Up-to-date", "string", "Total number of non-terminated pods"),
                      Column("Available", "string", "Number of available pods"), AgeColumn()});
}

void PrepareDeployment(json& obj) {
  json& spec = obj["spec"];
  if (!spec.contains("replicas")) spec["replicas"] = 1;
  if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
  if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
  if (!spec.contains("strategy")) {
    spec["strategy"] = {{"type", "RollingUpdate"},
                        {"rollingUpdate", {{"maxUnavailable", "25%"}, {"maxSurge", "25%"}}}};
  }
  if (spec.contains("/template/spec"_json_pointer)) {
    json& ps = spec["template"]["spec"];
    if (!ps.contains("restartPolicy")) ps["restartPolicy"] = "Always";
    if (!ps.contains("dnsPolicy")) ps["dnsPolicy"] = "ClusterFirst";
    if (!ps.contains("schedulerName")) ps["schedulerName"] = "default-scheduler";
    if (!ps.contains("terminationGracePeriodSeconds")) ps["terminationGracePeriodSeconds"] = 30;
    if (!ps.contains("securityContext")) ps["securityContext"] = json::object();
    DefaultContainers(ps["containers"]);
  }
}

void ValidateDeployment(const json& obj, FieldErrorList& errs) {
  if (!obj.contains("/spec/selector"_json_pointer)) errs.Required("spec.selector");
  if (!obj.contains("/spec/template"_json_pointer)) errs.Required("spec.template");
  if (obj.contains("/spec/replicas"_json_pointer)) {
    const json& r = obj.at("/spec/replicas"_json_pointer);
    if (!r.is_number_integer() || r.get<long>() < 0) {
      errs.Invalid("spec.replicas", r, "must be greater than or equal to 0");
    }
  }
}

json LeaseCells(const json& obj, Clock::WallTime now) {
  return json::array(
      {obj["metadata"]["name"], Str(obj, "/spec/holderIdentity"_json_pointer, ""), Age(obj, now)});
}

json SimpleCells(const json& obj, Clock::WallTime now, const std::vector<json>& middle) {
  json row = json::array({obj["metadata"]["name"]});
  for (const auto& m : middle) row.push_back(m);
  row.push_back(Age(obj, now));
  return row;
}

json PvcCells(const json& obj, Clock::WallTime now) {
  std::string modes;
  if (obj.contains("/spec/accessModes"_json_pointer)) {
    for (const json& m : obj.at("/spec/accessModes"_json_pointer)) {
      std::string s = m.get<std::string>();
      std::string abbrev = s == "ReadWriteOnce"      ? "RWO"
                           : s == "ReadOnlyMany"     ? "ROX"
                           : s == "ReadWriteMany"    ? "RWX"
                           : s == "ReadWriteOncePod" ? "RWOP"
                                                     : s;
      modes += (modes.empty() ? "" : ",") + abbrev;
    }
  }
  return json::array({obj["metadata"]["name"], Str(obj, "/status/phase"_json_pointer, "Pending"),
                      Str(obj, "/spec/volumeName"_json_pointer, ""),
                      Str(obj, "/status/capacity/storage"_json_pointer, ""), modes,
                      Str(obj, "/spec/storageClassName"_json_pointer, "<unset>"), "<unset>",
                      Age(obj, now)});
}

json CrdCells(const json& obj, Clock::WallTime) {
  return json::array({obj["metadata"]["name"], obj["metadata"].value("creationTimestamp", "")});
}

// ---- CustomResourceDefinition ----

void ValidateCrd(const json& obj, FieldErrorList& errs) {
  const json spec = obj.value("spec", json::object());
  std::string group = spec.value("group", "");
  const json names = spec.value("names", json::object());
  std::string plural = names.value("plural", "");
  if (group.empty()) errs.Required("spec.group");
  if (plural.empty()) errs.Required("spec.names.plural");
  if (names.value("kind", "").empty()) errs.Required("spec.names.kind");
  std::string scope = spec.value("scope", "");
  if (scope != "Namespaced" && scope != "Cluster") {
    errs.NotSupported("spec.scope", scope, {"Cluster", "Namespaced"});
  }
  if (!group.empty() && !plural.empty() &&
      obj["metadata"].value("name", "") != plural + "." + group) {
    errs.Invalid("metadata.name", obj["metadata"].value("name", ""),
                 "must be spec.names.plural+\".\"+spec.group");
  }
  if (!spec.contains("versions") || !spec["versions"].is_array() || spec["versions"].empty()) {
    errs.Invalid("spec.versions", spec.value("versions", json::array()),
                 "must have exactly one version marked as storage version");
    return;
  }
  int storage = 0;
  for (std::size_t i = 0; i < spec["versions"].size(); ++i) {
    const json& v = spec["versions"][i];
    std::string p = "spec.versions[" + std::to_string(i) + "]";
    if (v.value("storage", false)) ++storage;
    if (v.value("name", "").empty()) errs.Required(p + ".name");
    if (v.contains("/schema/openAPIV3Schema"_json_pointer)) {
      auto parsed = StructuralSchema::Parse(v.at("/schema/openAPIV3Schema"_json_pointer));
      if (!parsed.ok()) {
        errs.Invalid(p + ".schema.openAPIV3Schema", "", parsed.status().message());
      }
    }
  }
  if (storage != 1) {
    errs.Invalid("spec.versions", spec["versions"],
                 "must have exactly one version marked as storage version");
  }
}

void PrepareCrd(json& obj) {
  json& spec = obj["spec"];
  json& names = spec["names"];
  if (names.is_object()) {
    if (!names.contains("singular") && names.contains("kind") && names["kind"].is_string()) {
      std::string s = names["kind"];
      std::transform(s.begin(), s.end(), s.begin(), ::tolower);
      names["singular"] = s;
    }
    if (!names.contains("listKind") && names.contains("kind") && names["kind"].is_string()) {
      names["listKind"] = names["kind"].get<std::string>() + "List";
    }
  }
  if (!spec.contains("conversion")) spec["conversion"] = {{"strategy", "None"}};
}

}  // namespace

void FieldErrorList::NotSupported(const std::string& field, const json& value,
                                  const std::vector<std::string>& supported) {
  std::string msg = "Unsupported value: " + value.dump() + ": supported values: ";
  for (std::size_t i = 0; i < supported.size(); ++i) {
    if (i) msg += ", ";
    msg += "\"" + supported[i] + "\"";
  }
  Add("FieldValueNotSupported", field, msg);
}

std::string DnsSubdomainError(const std::string& value) {
  static const std::regex kRe(
      R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  if (value.size() > 253) return "must be no more than 253 characters";
  if (!std::regex_match(value, kRe)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
           "'-' or '.', and must start and end with an alphanumeric character (e.g. "
           "'example.com', regex used for validation is "
           "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  return "";
}

std::string DnsLabelError(const std::string& value) {
  static const std::regex kRe(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?$)");
  if (value.size() > 63) return "must be no more than 63 characters";
  if (!std::regex_match(value, kRe)) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
           "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
           "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
  }
  return "";
}

void ValidateObjectMeta(const json& meta, bool namespaced, bool name_is_dns_label,
                        FieldErrorList& errs) {
  std::string name = meta.value("name", "");
  if (name.empty()) {
    errs.Required("metadata.name", "name or generateName is required");
  } else {
    std::string e = name_is_dns_label ? DnsLabelError(name) : DnsSubdomainError(name);
    if (!e.empty()) errs.Invalid("metadata.name", name, e);
  }
  if (namespaced && meta.value("namespace", "").empty()) errs.Required("metadata.namespace");
  static const std::regex kKeyName(R"(^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$)");
  static const std::regex kValue(R"(^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$)");
  if (meta.contains("labels")) {
    if (!meta["labels"].is_object()) {
      errs.Invalid("metadata.labels", meta["labels"], "must be a map of strings");
    } else {
      for (auto& [k, v] : meta["labels"].items()) {
        std::string key = k;
        auto slash = key.find('/');
        std::string nm = slash == std::string::npos ? key : key.substr(slash + 1);
        std::string prefix = slash == std::string::npos ? "" : key.substr(0, slash);
        if (nm.empty() || nm.size() > 63 || !std::regex_match(nm, kKeyName) ||
            (!prefix.empty() && !DnsSubdomainError(prefix).empty())) {
          errs.Invalid("metadata.labels", key,
                       "name part must consist of alphanumeric characters, '-', '_' or '.', and "
                       "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                       "'my.name',  or '123-abc', regex used for validation is "
                       "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
        }
        if (!v.is_string()) {
          errs.Invalid("metadata.labels", v, "label values must be strings");
        } else if (v.get<std::string>().size() > 63 ||
                   !std::regex_match(v.get<std::string>(), kValue)) {
          errs.Invalid("metadata.labels", v,
                       "a valid label must be an empty string or consist of alphanumeric "
                       "characters, '-', '_' or '.', and must start and end with an alphanumeric "
                       "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
                       "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
        }
      }
    }
  }
  if (meta.contains("annotations")) {
    if (!meta["annotations"].is_object()) {
      errs.Invalid("metadata.annotations", meta["annotations"], "must be a map of strings");
    } else {
      std::size_t total = 0;
      for (auto& [k, v] : meta["annotations"].items()) {
        if (!v.is_string()) {
          errs.Invalid("metadata.annotations", v, "annotation values must be strings");
          continue;
        }
        total += k.size() + v.get<std::string>().size();
      }
      if (total > 256 * 1024) {
        errs.Add("FieldValueTooLong", "metadata.annotations",
                 "Too long: must have at most 262144 bytes");
      }
    }
  }
  if (meta.contains("finalizers") && !meta["finalizers"].is_array()) {
    errs.Invalid("metadata.finalizers", meta["finalizers"], "must be a list of strings");
  }
  if (meta.contains("ownerReferences")) {
    if (!meta["ownerReferences"].is_array()) {
      errs.Invalid("metadata.ownerReferences", meta["ownerReferences"], "must be a list");
    } else {
      int controllers = 0;
      for (std::size_t i = 0; i < meta["ownerReferences"].size(); ++i) {
        const json& r = meta["ownerReferences"][i];
        std::string p = "metadata.ownerReferences[" + std::to_string(i) + "]";
        if (!r.is_object()) {
          errs.Invalid(p, r, "must be an object");
          continue;
        }
        for (const char* f : {"apiVersion", "kind", "name", "uid"}) {
          if (!r.contains(f) || !r[f].is_string() || r[f].get<std::string>().empty()) {
            errs.Invalid(p + "." + f, r.value(f, json("")), std::string(f) + " must not be empty");
          }
        }
        if (r.value("controller", false)) ++controllers;
      }
      if (controllers > 1) {
        errs.Invalid("metadata.ownerReferences", meta["ownerReferences"],
                     "Only one reference can have Controller set to true");
      }
    }
  }
}

std::optional<std::string> SelectableFieldValue(const json& obj, const std::string& field) {
  json::json_pointer ptr;
  try {
    std::string p = "/" + field;
    std::replace(p.begin(), p.end(), '.', '/');
    ptr = json::json_pointer(p);
  } catch (...) {
    return std::nullopt;
  }
  if (!obj.contains(ptr)) return std::string();
  const json& v = obj.at(ptr);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return std::string();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

std::vector<std::string> PruneBuiltinMetadata(json& object) {
  // StructuralSchema::Prune leaves a root's metadata alone, so ObjectMeta's schema is applied
  // one level down: {"m": {"metadata": ...}} against {"m": {"metadata": ObjectMeta}}.
  static const StructuralSchema* holder = [] {
    json s = {
        {"type", "object"},
        {"properties",
         {{"m", {{"type", "object"}, {"properties", {{"metadata", BuiltinObjectMetaSchema()}}}}}}}};
    auto parsed = StructuralSchema::Parse(s);
    if (!parsed.ok()) std::abort();
    return new StructuralSchema(std::move(parsed).value());
  }();
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return {};
  }
  json wrapped = {{"m", {{"metadata", std::move(object["metadata"])}}}};
  std::vector<std::string> pruned = holder->Prune(wrapped);
  object["metadata"] = std::move(wrapped["m"]["metadata"]);
  for (std::string& p : pruned) p = p.substr(p.find('.') + 1);  // "m.metadata.x" -> "metadata.x"
  return pruned;
}

std::vector<ResourceTypePtr> BuiltinResourceTypes() {
  std::vector<ResourceTypePtr> out;
  auto add = [&](ResourceType t) {
    if (const json* schema = BuiltinSchemaFor(t.group, t.version, t.kind)) {
      auto parsed = StructuralSchema::Parse(*schema);
      // The schemas are generated and embedded at build time; builtin_schemas_test parses them.
      if (!parsed.ok()) std::abort();
      t.schema = std::move(parsed).value();
    }
    out.push_back(std::make_shared<const ResourceType>(std::move(t)));
  };
  auto simple = [](std::vector<std::function<json(const json&)>> middle) {
    return [middle](const json& obj, Clock::WallTime now) {
      std::vector<json> m;
      for (const auto& f : middle) m.push_back(f(obj));
      return SimpleCells(obj, now, m);
    };
  };
  auto cols = [](std::vector<json> middle) {
    return [middle] {
      json c = json::array({NameColumn()});
      for (const auto& m : middle) c.push_back(m);
      c.push_back(AgeColumn());
      return c;
    };
  };

  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "Namespace",
                   .list_kind = "NamespaceList",
                   .plural = "namespaces",
                   .singular = "namespace",
                   .short_names = {"ns"}};
    t.namespaced = false;
    t.has_status = true;
    t.return_deleted_object = true;
    t.name_is_dns_label = true;
    t.selectable_fields = {"status.phase"};
    t.strategy.prepare_for_create = PrepareNamespace;
    t.strategy.table_columns = cols({Column("Status", "string", "The status of the namespace")});
    t.strategy.table_cells =
        simple({[](const json& o) { return json(Str(o, "/status/phase"_json_pointer)); }});
    add(std::move(t));
  }
  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "Pod",
                   .list_kind = "PodList",
                   .plural = "pods",
                   .singular = "pod",
                   .short_names = {"po"},
                   .categories = {"all"}};
    t.has_status = true;
    t.has_binding = true;
    t.has_log = true;
    t.return_deleted_object = true;
    t.selectable_fields = {
        "spec.nodeName",    "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase",       "status.podIP",       "status.nominatedNodeName"};
    t.strategy.prepare_for_create = PreparePod;
    t.strategy.validate = ValidatePod;
    t.strategy.validate_update = ValidatePodUpdate;
    t.strategy.table_columns = PodColumns;
    t.strategy.table_cells = PodCells;
    add(std::move(t));
  }
  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "Node",
                   .list_kind = "NodeList",
                   .plural = "nodes",
                   .singular = "node",
                   .short_names = {"no"}};
    t.namespaced = false;
    t.has_status = true;
    t.return_deleted_object = false;
    t.selectable_fields = {"spec.unschedulable"};
    t.strategy.table_columns = NodeColumns;
    t.strategy.table_cells = NodeCells;
    add(std::move(t));
  }
  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "ConfigMap",
                   .list_kind = "ConfigMapList",
                   .plural = "configmaps",
                   .singular = "configmap",
                   .short_names = {"cm"}};
    t.strategy.validate = ValidateDataSize;
    t.strategy.table_columns = cols({Column("Data", "string", "Number of data entries")});
    t.strategy.table_cells = simple({[](const json& o) {
      return json(static_cast<long>(MapSize(o, "data") + MapSize(o, "binaryData")));
    }});
    add(std::move(t));
  }
  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "Secret",
                   .list_kind = "SecretList",
                   .plural = "secrets",
                   .singular = "secret"};
    t.selectable_fields = {"type"};
    t.strategy.prepare_for_create = PrepareSecret;
    t.strategy.prepare_for_update = [](json& obj, const json&) { PrepareSecret(obj); };
    t.strategy.validate = ValidateSecret;
    t.strategy.table_columns = cols({Column("Type", "string", "The type of the secret"),
                                     Column("Data", "string", "The number of data entries")});
    t.strategy.table_cells =
        simple({[](const json& o) { return json(o.value("type", "Opaque")); },
                [](const json& o) { return json(static_cast<long>(MapSize(o, "data"))); }});
    add(std::move(t));
  }
  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "Service",
                   .list_kind = "ServiceList",
                   .plural = "services",
                   .singular = "service",
                   .short_names = {"svc"},
                   .categories = {"all"}};
    t.has_status = true;
    t.name_is_dns_label = true;
    t.strategy.prepare_for_create = PrepareService;
    t.strategy.prepare_for_update = PrepareServiceUpdate;
    t.strategy.table_columns = ServiceColumns;
    t.strategy.table_cells = ServiceCells;
    add(std::move(t));
  }
  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "ServiceAccount",
                   .list_kind = "ServiceAccountList",
                   .plural = "serviceaccounts",
                   .singular = "serviceaccount",
                   .short_names = {"sa"}};
    t.strategy.table_columns = cols({Column("Secrets", "string", "Number of secrets")});
    t.strategy.table_cells = simple({[](const json& o) {
      return json(static_cast<long>(o.value("secrets", json::array()).size()));
    }});
    add(std::move(t));
  }
  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "Event",
                   .list_kind = "EventList",
                   .plural = "events",
                   .singular = "event",
                   .short_names = {"ev"}};
    t.selectable_fields = {"involvedObject.kind",
                           "involvedObject.namespace",
                           "involvedObject.name",
                           "involvedObject.uid",
                           "involvedObject.apiVersion",
                           "involvedObject.resourceVersion",
                           "involvedObject.fieldPath",
                           "reason",
                           "reportingComponent",
                           "source",
                           "type"};
    t.strategy.validate = ValidateEvent;
    t.strategy.table_columns = EventColumns;
    t.strategy.table_cells = EventCells;
    add(std::move(t));
  }
  {
    ResourceType t{.group = "",
                   .version = "v1",
                   .kind = "PersistentVolumeClaim",
                   .list_kind = "PersistentVolumeClaimList",
                   .plural = "persistentvolumeclaims",
                   .singular = "persistentvolumeclaim",
                   .short_names = {"pvc"}};
    t.has_status = true;
    t.strategy.prepare_for_create = [](json& obj) {
      obj["status"] = {{"phase", "Pending"}};
      if (!obj["spec"].contains("volumeMode")) obj["spec"]["volumeMode"] = "Filesystem";
    };
    t.strategy.table_columns = [] {
      return json::array(
          {NameColumn(), Column("Status", "string", "The status of the claim"),
           Column("Volume", "string", "The volume bound to the claim"),
           Column("Capacity", "string", "The capacity of the claim"),
           Column("Access Modes", "string", "The access modes of the claim"),
           Column("StorageClass", "string", "The storage class of the claim"),
           Column("VolumeAttributesClass", "string", "The volume attributes class of the claim"),
           AgeColumn(), Column("VolumeMode", "string", "The volume mode", 1)});
    };
    t.strategy.table_cells = [](const json& o, Clock::WallTime now) {
      json row = PvcCells(o, now);
      row.push_back(Str(o, "/spec/volumeMode"_json_pointer, "Filesystem"));
      return row;
    };
    add(std::move(t));
  }
  {
    ResourceType t{.group = "coordination.k8s.io",
                   .version = "v1",
                   .kind = "Lease",
                   .list_kind = "LeaseList",
                   .plural = "leases",
                   .singular = "lease"};
    t.strategy.table_columns = [] {
      return json::array(
          {NameColumn(), Column("Holder", "string", "The holder of the lease"), AgeColumn()});
    };
    t.strategy.table_cells = LeaseCells;
    add(std::move(t));
  }
  {
    ResourceType t{.group = "apps",
                   .version = "v1",
                   .kind = "Deployment",
                   .list_kind = "DeploymentList",
                   .plural = "deployments",
                   .singular = "deployment",
                   .short_names = {"deploy"},
                   .categories = {"all"}};
    t.has_status = true;
    t.has_generation = true;
    t.spec_replicas_path = ".spec.replicas";
    t.status_replicas_path = ".status.replicas";
    t.label_selector_path = ".status.selector";
    t.strategy.prepare_for_create = PrepareDeployment;
    t.strategy.prepare_for_update = [](json& obj, const json&) { PrepareDeployment(obj); };
    t.strategy.validate = ValidateDeployment;
    t.strategy.table_columns = DeploymentColumns;
    t.strategy.table_cells = DeploymentCells;
    add(std::move(t));
  }
  {
    ResourceType t{.group = "apiextensions.k8s.io",
                   .version = "v1",
                   .kind = "CustomResourceDefinition",
                   .list_kind = "CustomResourceDefinitionList",
                   .plural = "customresourcedefinitions",
                   .singular = "customresourcedefinition",
                   .short_names = {"crd", "crds"},
                   .categories = {"api-extensions"}};
    t.namespaced = false;
    t.has_status = true;
    t.has_generation = true;
    t.return_deleted_object = true;
    t.strategy.prepare_for_create = PrepareCrd;
    t.strategy.prepare_for_update = [](json& obj, const json&) { PrepareCrd(obj); };
    t.strategy.validate = ValidateCrd;
    t.strategy.table_columns = [] {
      return json::array({NameColumn(), Column("Created At", "date",
                                               "CreationTimestamp is a timestamp representing the "
                                               "server time when this object was created.")});
    };
    t.strategy.table_cells = CrdCells;
    add(std::move(t));
  }
  return out;
}

}  // namespace aidi::devcluster
