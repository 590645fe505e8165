// The scheduler's configuration: a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)
// read strictly, field by field, as kube-scheduler's own decoder does (unknown and duplicate
// fields are errors). Upstream: staging/src/k8s.io/kube-scheduler/config/v1/types.go.
#include "devcluster/agents/scheduler.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "devcluster/agents/scheduler_internal.h"
#include "devcluster/api_server_internal.h"
#include "kube/core/json_fields.h"

namespace aidi::devcluster {

using json = nlohmann::json;
using kube::Field;
using kube::StringField;

namespace {

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

}  // namespace aidi::devcluster
