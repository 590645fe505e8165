// Scheduler: configuration parsing, the fit check, the extender client, the placement decision
// and the reconcile loop that binds pods. See scheduler.h for the behaviour; the upstream code
// followed is kubernetes/kubernetes pkg/scheduler (schedule_one.go, extender.go,
// framework/plugins/{noderesources,nodeaffinity,tainttoleration,nodeunschedulable}) and
// staging/src/k8s.io/kube-scheduler/config/v1/types.go.
#include "devcluster/agents/scheduler.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <ctime>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "base/base64.h"
#include "base/log.h"
#include "devcluster/api_server_internal.h"
#include "kube/client/api.h"
#include "kube/client/client.h"
#include "kube/client/transport.h"
#include "kube/core/json_fields.h"
#include "kube/core/request.h"
#include "kube/core/resource.h"
#include "kube/runtime/controller.h"
#include "kube/runtime/events.h"

namespace aidi::devcluster {
namespace {

using json = nlohmann::json;
using kube::Field;
using kube::StringField;

constexpr char kComponent[] = "aidi-devcluster-scheduler";
constexpr std::int64_t kMaxNodeScore = 100;
constexpr std::int64_t kMaxExtenderPriority = 10;
constexpr std::int64_t kDefaultMaxPods = 110;
constexpr std::int64_t kMilli = 1000;

// ---------------------------------------------------------------------------------------------
// Configuration.

// What a field of the configuration holds. kAny: accepted as is (plugins, pluginConfig args).
enum class Kind { kString, kBool, kInt, kNumber, kDuration, kObject, kArray, kAny };

struct FieldSpec {
  const char* name;
  Kind kind;
};

// The fields of leaderElection (componentbase LeaderElectionConfiguration) and clientConnection
// (ClientConnectionConfiguration): accepted, unused.
constexpr FieldSpec kLeaderElectionFields[] = {
    {"leaderElect", Kind::kBool},        {"leaseDuration", Kind::kDuration},
    {"renewDeadline", Kind::kDuration},  {"retryPeriod", Kind::kDuration},
    {"resourceLock", Kind::kString},     {"resourceName", Kind::kString},
    {"resourceNamespace", Kind::kString}};
constexpr FieldSpec kClientConnectionFields[] = {{"kubeconfig", Kind::kString},
                                                 {"acceptContentTypes", Kind::kString},
                                                 {"contentType", Kind::kString},
                                                 {"qps", Kind::kNumber},
                                                 {"burst", Kind::kInt}};
constexpr FieldSpec kTopFields[] = {{"apiVersion", Kind::kString},
                                    {"kind", Kind::kString},
                                    {"parallelism", Kind::kInt},
                                    {"leaderElection", Kind::kObject},
                                    {"clientConnection", Kind::kObject},
                                    {"enableProfiling", Kind::kBool},
                                    {"enableContentionProfiling", Kind::kBool},
                                    {"percentageOfNodesToScore", Kind::kInt},
                                    {"podInitialBackoffSeconds", Kind::kInt},
                                    {"podMaxBackoffSeconds", Kind::kInt},
                                    {"profiles", Kind::kArray},
                                    {"extenders", Kind::kArray},
                                    {"delayCacheUntilActive", Kind::kBool}};
constexpr FieldSpec kProfileFields[] = {{"schedulerName", Kind::kString},
                                        {"percentageOfNodesToScore", Kind::kInt},
                                        {"plugins", Kind::kAny},
                                        {"pluginConfig", Kind::kAny}};
constexpr FieldSpec kExtenderFields[] = {{"urlPrefix", Kind::kString},
                                         {"filterVerb", Kind::kString},
                                         {"preemptVerb", Kind::kString},
                                         {"prioritizeVerb", Kind::kString},
                                         {"weight", Kind::kInt},
                                         {"bindVerb", Kind::kString},
                                         {"enableHTTPS", Kind::kBool},
                                         {"tlsConfig", Kind::kObject},
                                         {"httpTimeout", Kind::kDuration},
                                         {"nodeCacheCapable", Kind::kBool},
                                         {"managedResources", Kind::kArray},
                                         {"ignorable", Kind::kBool}};
constexpr FieldSpec kTlsFields[] = {{"insecure", Kind::kBool},   {"serverName", Kind::kString},
                                    {"certFile", Kind::kString}, {"keyFile", Kind::kString},
                                    {"caFile", Kind::kString},   {"certData", Kind::kString},
                                    {"keyData", Kind::kString},  {"caData", Kind::kString}};
constexpr FieldSpec kManagedResourceFields[] = {{"name", Kind::kString},
                                                {"ignoredByScheduler", Kind::kBool}};

class ConfigReader {
 public:
  explicit ConfigReader(std::string source) : source_(std::move(source)) {}

  Status Error(const std::string& path, const std::string& message) const {
    return Status::InvalidArgument(source_ + ": " + (path.empty() ? "" : path + ": ") + message);
  }

  // Checks that `obj` is an object whose fields are all in `spec`, each of its kind (null is
  // accepted as "unset", as Go's decoder does).
  template <std::size_t N>
  Status Check(const json& obj, const std::string& path, const FieldSpec (&spec)[N]) const {
    if (!obj.is_object()) return Error(path, "must be an object");
    for (const auto& [key, value] : obj.items()) {
      std::string field_path = path.empty() ? key : path + "." + key;
      const FieldSpec* found = nullptr;
      for (const auto& f : spec) {
        if (key == f.name) found = &f;
      }
      if (found == nullptr) return Error(field_path, "unknown field");
      if (value.is_null()) continue;
      AIDI_RETURN_IF_ERROR(CheckKind(value, field_path, found->kind));
    }
    return Status::Ok();
  }

  Status CheckKind(const json& value, const std::string& path, Kind kind) const {
    switch (kind) {
      case Kind::kString:
        if (!value.is_string()) return Error(path, "must be a string");
        break;
      case Kind::kBool:
        if (!value.is_boolean()) return Error(path, "must be a boolean");
        break;
      case Kind::kInt:
        if (!value.is_number_integer()) return Error(path, "must be an integer");
        break;
      case Kind::kNumber:
        if (!value.is_number()) return Error(path, "must be a number");
        break;
      case Kind::kDuration: {
        if (!value.is_string()) return Error(path, "must be a duration string such as \"5s\"");
        auto d = ParseGoDuration(value.get<std::string>());
        if (!d.ok()) return Error(path, d.status().message());
        break;
      }
      case Kind::kObject:
        if (!value.is_object()) return Error(path, "must be an object");
        break;
      case Kind::kArray:
        if (!value.is_array()) return Error(path, "must be a list");
        break;
      case Kind::kAny:
        break;
    }
    return Status::Ok();
  }

  StatusOr<std::string> ReadFile(const std::string& path, const std::string& file) const {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error(path, "cannot read \"" + file + "\"");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // tlsConfig's <x>Data (base64) or <x>File.
  StatusOr<std::string> Pem(const json& tls, const std::string& path, const char* data_key,
                            const char* file_key) const {
    std::string data = StringField(tls, data_key);
    std::string file = StringField(tls, file_key);
    if (!data.empty()) {
      auto decoded = Base64Decode(data);
      if (!decoded) return Error(path + "." + data_key, "must be base64");
      return *decoded;
    }
    if (!file.empty()) return ReadFile(path + "." + file_key, file);
    return std::string();
  }

  StatusOr<ExtenderConfig> Extender(const json& e, const std::string& path) const {
    AIDI_RETURN_IF_ERROR(Check(e, path, kExtenderFields));
    ExtenderConfig c;
    c.url_prefix = StringField(e, "urlPrefix");
    c.filter_verb = StringField(e, "filterVerb");
    c.prioritize_verb = StringField(e, "prioritizeVerb");
    c.bind_verb = StringField(e, "bindVerb");
    c.preempt_verb = StringField(e, "preemptVerb");
    // weight is not defaulted upstream: absent is 0.
    c.weight = Field(e, "weight").is_number_integer() ? e["weight"].get<std::int64_t>() : 0;
    c.enable_https = Field(e, "enableHTTPS").is_boolean() && e["enableHTTPS"].get<bool>();
    c.node_cache_capable =
        Field(e, "nodeCacheCapable").is_boolean() && e["nodeCacheCapable"].get<bool>();
    c.ignorable = Field(e, "ignorable").is_boolean() && e["ignorable"].get<bool>();
    if (c.url_prefix.rfind("http://", 0) != 0 && c.url_prefix.rfind("https://", 0) != 0) {
      return Error(path + ".urlPrefix", "must be an http:// or https:// URL");
    }
    if (!c.prioritize_verb.empty() && c.weight <= 0) {
      return Error(path + ".weight", "must be positive when prioritizeVerb is set");
    }
    if (c.weight < 0) return Error(path + ".weight", "must not be negative");
    if (std::string d = StringField(e, "httpTimeout"); !d.empty()) {
      auto timeout = ParseGoDuration(d);
      if (!timeout.ok()) return Error(path + ".httpTimeout", timeout.status().message());
      if (timeout->count() < 0) return Error(path + ".httpTimeout", "must not be negative");
      if (timeout->count() > 0) c.http_timeout = *timeout;
    }
    const json& tls = Field(e, "tlsConfig");
    if (tls.is_object()) {
      std::string tls_path = path + ".tlsConfig";
      AIDI_RETURN_IF_ERROR(Check(tls, tls_path, kTlsFields));
      c.insecure = Field(tls, "insecure").is_boolean() && tls["insecure"].get<bool>();
      c.tls_server_name = StringField(tls, "serverName");
      AIDI_ASSIGN_OR_RETURN(c.ca_pem, Pem(tls, tls_path, "caData", "caFile"));
      AIDI_ASSIGN_OR_RETURN(c.client_cert_pem, Pem(tls, tls_path, "certData", "certFile"));
      AIDI_ASSIGN_OR_RETURN(c.client_key_pem, Pem(tls, tls_path, "keyData", "keyFile"));
    }
    const json& managed = Field(e, "managedResources");
    if (managed.is_array()) {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < managed.size(); ++i) {
        std::string mpath = path + ".managedResources[" + std::to_string(i) + "]";
        AIDI_RETURN_IF_ERROR(Check(managed[i], mpath, kManagedResourceFields));
        std::string name = StringField(managed[i], "name");
        if (name.empty()) return Error(mpath + ".name", "must not be empty");
        if (!seen.insert(name).second) return Error(mpath + ".name", "duplicate \"" + name + "\"");
        c.managed_resources.push_back(name);
        const json& ignored = Field(managed[i], "ignoredByScheduler");
        if (ignored.is_boolean() && ignored.get<bool>()) c.ignored_resources.push_back(name);
      }
    }
    return c;
  }

  StatusOr<SchedulerConfig> Parse(const json& doc) const {
    AIDI_RETURN_IF_ERROR(Check(doc, "", kTopFields));
    if (StringField(doc, "apiVersion") != "kubescheduler.config.k8s.io/v1") {
      return Error("apiVersion", "must be kubescheduler.config.k8s.io/v1");
    }
    if (StringField(doc, "kind") != "KubeSchedulerConfiguration") {
      return Error("kind", "must be KubeSchedulerConfiguration");
    }
    if (Field(doc, "leaderElection").is_object()) {
      AIDI_RETURN_IF_ERROR(Check(doc["leaderElection"], "leaderElection", kLeaderElectionFields));
    }
    if (Field(doc, "clientConnection").is_object()) {
      AIDI_RETURN_IF_ERROR(
          Check(doc["clientConnection"], "clientConnection", kClientConnectionFields));
    }
    SchedulerConfig config;
    const json& profiles = Field(doc, "profiles");
    std::size_t num_profiles = profiles.is_array() ? profiles.size() : 0;
    for (std::size_t i = 0; i < num_profiles; ++i) {
      std::string path = "profiles[" + std::to_string(i) + "]";
      AIDI_RETURN_IF_ERROR(Check(profiles[i], path, kProfileFields));
      std::string name = StringField(profiles[i], "schedulerName");
      // Upstream defaults the name of a lone profile; several must each be named.
      if (name.empty() && num_profiles == 1) name = "default-scheduler";
      if (name.empty()) return Error(path + ".schedulerName", "must not be empty");
      if (std::find(config.profiles.begin(), config.profiles.end(), name) !=
          config.profiles.end()) {
        return Error(path + ".schedulerName", "duplicate \"" + name + "\"");
      }
      config.profiles.push_back(name);
    }
    if (config.profiles.empty()) config.profiles.push_back("default-scheduler");
    const json& extenders = Field(doc, "extenders");
    int binders = 0;
    for (std::size_t i = 0; extenders.is_array() && i < extenders.size(); ++i) {
      std::string path = "extenders[" + std::to_string(i) + "]";
      AIDI_ASSIGN_OR_RETURN(ExtenderConfig e, Extender(extenders[i], path));
      if (!e.bind_verb.empty() && ++binders > 1) {
        return Error(path + ".bindVerb", "only one extender can implement bind");
      }
      config.extenders.push_back(std::move(e));
    }
    return config;
  }

 private:
  std::string source_;
};

}  // namespace

StatusOr<SchedulerConfig> ParseSchedulerConfig(const std::string& text, const std::string& source) {
  // Strict, as kube-scheduler decodes its configuration: a repeated field is an error.
  auto doc = YamlToJson(text, /*reject_duplicate_keys=*/true);
  if (auto* error = std::get_if<std::string>(&doc)) {
    return Status::InvalidArgument(source + ": " + *error);
  }
  return ConfigReader(source).Parse(std::get<json>(doc));
}

StatusOr<SchedulerConfig> LoadSchedulerConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot read the scheduler configuration");
  std::ostringstream text;
  text << in.rdbuf();
  return ParseSchedulerConfig(text.str(), path);
}

// ---------------------------------------------------------------------------------------------
// Quantities and durations.

namespace {

__extension__ typedef __int128 Int128;  // NOLINT: exact intermediate products
constexpr Int128 kInt64Max = Int128(std::numeric_limits<std::int64_t>::max());
// Intermediate values are clamped here (an __int128 holds up to ~1.7e38).
constexpr Int128 kCap = Int128(1000000000000000000LL) * Int128(10000000000000000000ULL);  // 1e37

// a * b, clamped at kCap (both non-negative).
Int128 CapMul(Int128 a, Int128 b) {
  if (a == 0 || b == 0) return 0;
  if (a > kCap / b) return kCap;
  return std::min(a * b, kCap);
}

}  // namespace

StatusOr<std::int64_t> ParseQuantityMilli(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid quantity \"" + std::string(text) + "\"");
  };
  std::string_view s = text;
  if (s.empty()) return bad();
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  Int128 digits = 0;
  int frac_digits = 0;
  bool any_digit = false, dot = false, saturated = false;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(ch))) break;
    any_digit = true;
    if (digits >= kCap / 100) {
      // Beyond 35 significant digits: integer digits saturate the result, fraction digits
      // are too small to matter.
      if (!dot) saturated = true;
      continue;
    }
    digits = digits * 10 + (ch - '0');
    if (dot) ++frac_digits;
  }
  if (!any_digit) return bad();
  std::string_view suffix = s.substr(i);
  int exp10 = 0;
  int exp2 = 0;
  if (suffix.empty()) {
    // a plain number
  } else if (suffix == "Ki" || suffix == "Mi" || suffix == "Gi" || suffix == "Ti" ||
             suffix == "Pi" || suffix == "Ei") {
    exp2 = 10 * (1 + static_cast<int>(std::string_view("KMGTPE").find(suffix[0])));
  } else if (suffix.size() == 1 &&
             std::string_view("numkMGTPE").find(suffix[0]) != std::string_view::npos) {
    static constexpr int kExp[] = {-9, -6, -3, 3, 6, 9, 12, 15, 18};
    exp10 = kExp[std::string_view("numkMGTPE").find(suffix[0])];
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view e = suffix.substr(1);
    bool eneg = false;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) {
      eneg = e[0] == '-';
      e.remove_prefix(1);
    }
    if (e.empty() || e.size() > 4) return bad();
    int v = 0;
    for (char ch : e) {
      if (!std::isdigit(static_cast<unsigned char>(ch))) return bad();
      v = v * 10 + (ch - '0');
    }
    exp10 = eneg ? -v : v;
  } else {
    return bad();
  }
  Int128 value = CapMul(digits, Int128(1) << exp2);
  int t = exp10 + 3 - frac_digits;  // milli = value * 10^t
  if (saturated || value >= kCap) {
    value = value == 0 ? 0 : kCap;
  } else if (t >= 0) {
    for (int k = 0; k < t && value < kCap; ++k) value = CapMul(value, 10);
  } else if (-t > 37) {
    value = value == 0 ? 0 : 1;  // a positive rest below one thousandth rounds up to one
  } else {
    Int128 denom = 1;
    for (int k = 0; k < -t; ++k) denom *= 10;
    value = (value + denom - 1) / denom;  // ceil
  }
  auto result = static_cast<std::int64_t>(std::min(value, kInt64Max));
  return negative ? -result : result;
}

StatusOr<std::int64_t> QuantityMilli(const json& quantity) {
  if (quantity.is_string()) return ParseQuantityMilli(quantity.get<std::string>());
  if (quantity.is_number_integer())
    return ParseQuantityMilli(std::to_string(quantity.get<long long>()));
  if (quantity.is_number()) {
    double milli = std::ceil(quantity.get<double>() * kMilli);
    if (!std::isfinite(milli)) return Status::InvalidArgument("invalid quantity");
    if (milli >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
    if (milli <= -9.2e18) return std::numeric_limits<std::int64_t>::min();
    return static_cast<std::int64_t>(milli);
  }
  return Status::InvalidArgument("a quantity must be a string or a number");
}

StatusOr<std::chrono::milliseconds> ParseGoDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid duration \"" + std::string(text) +
                                   "\" (want a Go duration such as \"5s\" or \"1m30s\")");
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::milliseconds(0);
  if (s.empty()) return bad();
  long double nanos = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double number = 0, scale = 1;
    bool any = false, dot = false;
    for (; i < s.size(); ++i) {
      if (s[i] == '.' && !dot) {
        dot = true;
        continue;
      }
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) break;
      any = true;
      if (dot) {
        scale /= 10;
        number += (s[i] - '0') * scale;
      } else {
        number = number * 10 + (s[i] - '0');
      }
    }
    if (!any) return bad();
    s.remove_prefix(i);
    std::size_t u = 0;
    while (u < s.size() && s[u] != '.' && !std::isdigit(static_cast<unsigned char>(s[u]))) ++u;
    std::string_view unit = s.substr(0, u);
    s.remove_prefix(u);
    long double mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else
      return bad();
    nanos += number * mult;
  }
  if (nanos > 9.2e18L) return bad();  // beyond time.Duration's range
  auto ms = static_cast<std::int64_t>(std::ceil(nanos / 1e6L));
  return std::chrono::milliseconds(negative ? -ms : ms);
}

// ---------------------------------------------------------------------------------------------
// Fit and score.

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

bool IsTerminal(const json& pod) {
  std::string phase = StringField(Field(pod, "status"), "phase");
  return phase == "Succeeded" || phase == "Failed";
}

}  // namespace

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

// ---------------------------------------------------------------------------------------------
// Extenders.

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

std::string NodeName(const json& node) { return StringField(Field(node, "metadata"), "name"); }

std::map<std::string, std::string> FailedMap(const json& value) {
  std::map<std::string, std::string> out;
  if (!value.is_object()) return out;
  for (const auto& [name, reason] : value.items()) {
    out[name] = reason.is_string() ? reason.get<std::string>() : reason.dump();
  }
  return out;
}

}  // namespace

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

// ---------------------------------------------------------------------------------------------
// The loop.

namespace {

constexpr char kUnscheduledIndex[] = "aidi.devcluster/unscheduled";  // value: schedulerName
constexpr char kNodeIndex[] = "aidi.devcluster/node";                // value: spec.nodeName
constexpr std::chrono::milliseconds kInitialBackoff{1000};
constexpr std::chrono::milliseconds kMaxBackoff{10000};

// A pod the loop should place: no node, not finished, not being deleted.
bool Unscheduled(const json& pod) {
  return StringField(Field(pod, "spec"), "nodeName").empty() && !IsTerminal(pod) &&
         Field(Field(pod, "metadata"), "deletionTimestamp").is_null();
}

std::string NowRfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The pod's PodScheduled condition, or null.
const json& PodScheduledCondition(const json& pod) {
  static const json kNull;
  const json& conditions = Field(Field(pod, "status"), "conditions");
  if (!conditions.is_array()) return kNull;
  for (const auto& c : conditions) {
    if (StringField(c, "type") == "PodScheduled") return c;
  }
  return kNull;
}

bool HasCondition(const json& pod, const std::string& reason, const std::string& message) {
  const json& c = PodScheduledCondition(pod);
  return StringField(c, "status") == "False" && StringField(c, "reason") == reason &&
         StringField(c, "message") == message;
}

}  // namespace

struct Scheduler::Impl {
  Impl(std::shared_ptr<kube::Client> c, SchedulerConfig cfg)
      : client(std::move(c)),
        config(std::move(cfg)),
        events(client, {.component = kComponent}),
        controller(client, kube::resources::kPods, Options(config)) {
    for (const auto& e : config.extenders) {
      extenders.push_back(std::make_unique<HttpExtender>(e));
      extender_ptrs.push_back(extenders.back().get());
    }
    // Any node change may make room: requeue every unscheduled pod of ours.
    controller.Watches(kube::resources::kNodes, [this](const json&) { return UnscheduledKeys(); });
    // A bound pod that changes (finishes, goes away) may free room on its node.
    kube::WatchOptions pod_watch;
    pod_watch.projection = kube::Projection::Parse({"spec.nodeName", "status.phase"}).value();
    controller.Watches(
        kube::resources::kPods,
        [this](const json& pod) {
          if (StringField(Field(pod, "spec"), "nodeName").empty())
            return std::vector<kube::ObjectKey>();
          return UnscheduledKeys();
        },
        std::move(pod_watch));
  }

  static kube::ControllerOptions Options(const SchedulerConfig& config) {
    kube::ControllerOptions o;
    o.name = "devcluster-scheduler";
    std::vector<std::string> profiles = config.profiles;
    o.watch.indexers[kUnscheduledIndex] = [profiles](const json& pod) {
      std::string name = StringField(Field(pod, "spec"), "schedulerName");
      if (name.empty()) name = "default-scheduler";
      if (!Unscheduled(pod) ||
          std::find(profiles.begin(), profiles.end(), name) == profiles.end()) {
        return std::vector<std::string>();
      }
      return std::vector<std::string>{name};
    };
    o.watch.indexers[kNodeIndex] = [](const json& pod) {
      std::string node = StringField(Field(pod, "spec"), "nodeName");
      if (node.empty() || IsTerminal(pod)) return std::vector<std::string>();
      return std::vector<std::string>{node};
    };
    return o;
  }

  std::vector<kube::ObjectKey> UnscheduledKeys() const {
    std::vector<kube::ObjectKey> keys;
    for (const auto& profile : config.profiles) {
      for (auto& k : controller.store().KeysByIndex(kUnscheduledIndex, profile)) {
        keys.push_back(std::move(k));
      }
    }
    return keys;
  }

  std::chrono::milliseconds NextBackoff(const std::string& key) {
    std::lock_guard lock(mu);
    int& attempts = attempts_by_pod[key];
    auto delay = kInitialBackoff * (1LL << std::min(attempts, 4));
    ++attempts;
    return std::min<std::chrono::milliseconds>(delay, kMaxBackoff);
  }

  void Forget(const std::string& key) {
    std::lock_guard lock(mu);
    attempts_by_pod.erase(key);
    assumed.erase(key);
  }

  // Requests of the pods on every node: the cache's, plus pods bound here that it has not shown
  // bound yet.
  std::map<std::string, std::vector<ResourceMilli>> PodsByNode(const std::vector<json>& nodes) {
    std::map<std::string, std::vector<ResourceMilli>> out;
    std::set<std::string> seen;
    for (const auto& node : nodes) {
      std::string name = NodeName(node);
      auto& list = out[name];
      for (const auto& p : controller.store().ByIndex(kNodeIndex, name)) {
        list.push_back(PodRequests(p));
        seen.insert(kube::ObjectKey::Of(p).String());
      }
    }
    std::lock_guard lock(mu);
    for (const auto& [key, a] : assumed) {
      if (!seen.count(key)) out[a.first].push_back(a.second);
    }
    return out;
  }

  StatusOr<kube::Action> Reconcile(const kube::ObjectKey& key, const std::optional<json>& pod) {
    std::string k = key.String();
    if (!pod || !Unscheduled(*pod)) {
      Forget(k);
      return kube::Action::AwaitChange();
    }
    std::string profile = StringField(Field(*pod, "spec"), "schedulerName");
    if (profile.empty()) profile = "default-scheduler";
    if (std::find(config.profiles.begin(), config.profiles.end(), profile) ==
        config.profiles.end()) {
      return kube::Action::AwaitChange();
    }
    {
      std::lock_guard lock(mu);
      if (assumed.count(k)) return kube::Action::AwaitChange();  // bound; the cache lags
    }
    const kube::Store* node_store = controller.StoreOf(kube::resources::kNodes);
    std::vector<json> nodes = node_store ? node_store->List() : std::vector<json>();
    auto decision = DecidePlacement(*pod, nodes, PodsByNode(nodes), extender_ptrs);
    if (!decision.ok()) {
      log::Warn("scheduling attempt failed", {{"pod", k}, {"error", decision.status().message()}});
      return Failed(*pod, "SchedulerError", decision.status().message());
    }
    if (decision->node.empty()) {
      log::Info("pod unschedulable", {{"pod", k}, {"message", decision->message}});
      return Failed(*pod, "Unschedulable", decision->message);
    }
    Status bound = decision->binder ? decision->binder->Bind(*pod, decision->node)
                                    : BindThroughApi(*pod, decision->node);
    if (!bound.ok()) {
      if (bound.IsConflict()) return kube::Action::AwaitChange();  // someone else bound it
      log::Warn("binding failed",
                {{"pod", k}, {"node", decision->node}, {"error", bound.message()}});
      return Failed(*pod, "SchedulerError", "binding rejected: " + bound.message());
    }
    {
      std::lock_guard lock(mu);
      attempts_by_pod.erase(k);
      ResourceMilli requests = PodRequests(*pod);
      requests["pods"] = kMilli;
      assumed[k] = {decision->node, std::move(requests)};
    }
    log::Info("pod scheduled", {{"pod", k}, {"node", decision->node}});
    events.Record(WithTypeMeta(*pod), kube::EventType::kNormal, "Scheduled",
                  "Successfully assigned " + k + " to " + decision->node);
    return kube::Action::AwaitChange();
  }

  Status BindThroughApi(const json& pod, const std::string& node) {
    const json& meta = Field(pod, "metadata");
    kube::HttpRequest request;
    request.method = "POST";
    request.path = "/api/v1/namespaces/" + StringField(meta, "namespace") + "/pods/" +
                   StringField(meta, "name") + "/binding";
    request.body = BindingFor(pod, node).dump();
    request.content_type = "application/json";
    auto answer = client->Send(request);
    return answer.ok() ? Status::Ok() : answer.status();
  }

  static json WithTypeMeta(json pod) {
    pod["apiVersion"] = "v1";
    pod["kind"] = "Pod";
    return pod;
  }

  // Records a failed attempt (condition and event, only when the message changed) and retries
  // with backoff.
  StatusOr<kube::Action> Failed(const json& cached, const std::string& reason,
                                const std::string& message) {
    std::string key = kube::ObjectKey::Of(cached).String();
    auto delay = NextBackoff(key);
    if (HasCondition(cached, reason, message)) return kube::Action::RequeueAfter(delay);
    const json& meta = Field(cached, "metadata");
    kube::Api pods(client, kube::resources::kPods, StringField(meta, "namespace"));
    auto fresh = pods.GetIfExists(StringField(meta, "name"));
    if (!fresh.ok()) return fresh.status();
    if (!*fresh || !Unscheduled(**fresh)) return kube::Action::AwaitChange();
    const json& pod = **fresh;
    if (HasCondition(pod, reason, message)) return kube::Action::RequeueAfter(delay);
    json conditions = json::array();
    std::string transition = NowRfc3339();
    const json& all = Field(Field(pod, "status"), "conditions");
    if (all.is_array()) {
      for (const auto& c : all) {
        if (StringField(c, "type") != "PodScheduled") {
          conditions.push_back(c);
        } else if (StringField(c, "status") == "False" &&
                   !StringField(c, "lastTransitionTime").empty()) {
          transition = StringField(c, "lastTransitionTime");  // status unchanged: keep its time
        }
      }
    }
    conditions.push_back({{"type", "PodScheduled"},
                          {"status", "False"},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", transition},
                          {"reason", reason},
                          {"message", message}});
    json patch = {
        {"metadata", {{"resourceVersion", StringField(Field(pod, "metadata"), "resourceVersion")}}},
        {"status", {{"conditions", std::move(conditions)}}}};
    auto patched = pods.PatchStatus(StringField(meta, "name"), kube::PatchType::kMerge, patch);
    if (!patched.ok()) {
      if (patched.status().IsNotFound()) return kube::Action::AwaitChange();
      return patched.status();  // a conflict retries soon with the fresher pod
    }
    events.Record(WithTypeMeta(pod), kube::EventType::kWarning, "FailedScheduling", message);
    return kube::Action::RequeueAfter(delay);
  }

  std::shared_ptr<kube::Client> client;
  SchedulerConfig config;
  std::vector<std::unique_ptr<HttpExtender>> extenders;
  std::vector<const HttpExtender*> extender_ptrs;
  kube::EventRecorder events;
  std::mutex mu;                               // guards the two maps below
  std::map<std::string, int> attempts_by_pod;  // pod key -> failed attempts in a row
  std::map<std::string, std::pair<std::string, ResourceMilli>> assumed;  // key -> node, requests
  // Last: destroyed (stopped and joined) first, while everything its reconciles use still lives.
  kube::Controller controller;
};

Scheduler::Scheduler(std::shared_ptr<kube::Client> client, SchedulerConfig config)
    : impl_(std::make_unique<Impl>(std::move(client), std::move(config))) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Run() {
  log::Info("scheduler starting",
            {{"profiles", static_cast<unsigned long>(impl_->config.profiles.size())},
             {"extenders", static_cast<unsigned long>(impl_->extenders.size())}});
  impl_->controller.Run([this](const kube::ObjectKey& key, const std::optional<json>& pod) {
    return impl_->Reconcile(key, pod);
  });
}

void Scheduler::Stop() { impl_->controller.Stop(); }

}  // namespace aidi::devcluster
