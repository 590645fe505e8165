#include "devcluster/api_server.h"

#include <yaml-cpp/yaml.h>

#include <random>

#include "base/json_nesting.h"
#include "base/log.h"
#include "devcluster/api_server_internal.h"
#include "devcluster/builtin_types.h"
#include "devcluster/crd_types.h"
#include "devcluster/protobuf.h"
#include "devcluster/reviews.h"

using nlohmann::json;

namespace aidi::devcluster {

// ---- response and body helpers ----

http::ResponseWriter::Headers ResponseHeaders(const ApiServer::Ctx& c,
                                              std::string_view content_type) {
  http::ResponseWriter::Headers h;
  h.emplace_back("Content-Type", std::string(content_type));
  h.emplace_back("Cache-Control", "no-cache, private");
  h.emplace_back("X-Kubernetes-Pf-Flowschema-Uid", "aidi-devcluster");
  for (const auto& warning : c.warnings) {
    std::string escaped;
    for (char ch : warning) {
      if (ch == '"' || ch == '\\') escaped += '\\';
      escaped += ch;
    }
    h.emplace_back("Warning", "299 - \"" + escaped + "\"");
  }
  return h;
}

std::string DumpForResponse(const json& body) {
  // Error messages quote what the client sent (names, selectors), which may not be UTF-8;
  // encoding must not fail on them.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

void SendRaw(ApiServer::Ctx& c, int code, std::string_view content_type, std::string_view body) {
  c.w.Send(code, ResponseHeaders(c, content_type), body);
}

void SendJson(ApiServer::Ctx& c, int code, const json& body, std::string_view content_type) {
  SendRaw(c, code, content_type, DumpForResponse(body));
}

void SendError(ApiServer::Ctx& c, const kube::ApiError& e) {
  auto headers = ResponseHeaders(c, "application/json");
  if (e.retry_after_seconds)
    headers.emplace_back("Retry-After", std::to_string(*e.retry_after_seconds));
  c.w.Send(e.code, headers, DumpForResponse(e.body));
}

namespace {

// Bodies nest at most this deep. Parsing, copying and encoding JSON recurse, so a 3 MiB body of
// '[' would otherwise exhaust the stack; real objects stay far below it.
constexpr std::size_t kMaxBodyNesting = 1000;

json YamlScalar(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return s;  // quoted: a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  // Integers and floats as YAML 1.2's core schema reads them.
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(s.c_str(), &end, 10);
  if (end && *end == '\0' && errno == 0 && (std::isdigit(s[0]) || s[0] == '-' || s[0] == '+')) {
    return i;
  }
  bool numeric_start = std::isdigit(static_cast<unsigned char>(s[0])) ||
                       ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s.size() > 1);
  if (numeric_start) {
    double d = std::strtod(s.c_str(), &end);
    if (end && *end == '\0') return d;
  }
  return s;
}

json YamlNodeToJson(const YAML::Node& n, int depth, bool reject_duplicate_keys = false) {
  if (depth > 200) throw std::runtime_error("nesting too deep");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return YamlScalar(n);
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : n) {
        arr.push_back(YamlNodeToJson(item, depth + 1, reject_duplicate_keys));
      }
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : n) {
        std::string key = kv.first.as<std::string>();
        if (reject_duplicate_keys && obj.contains(key)) {
          throw std::runtime_error("duplicate field \"" + key + "\"");
        }
        obj[key] = YamlNodeToJson(kv.second, depth + 1, reject_duplicate_keys);
      }
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

std::variant<std::string, json> YamlToJson(const std::string& text, bool reject_duplicate_keys) {
  try {
    return YamlNodeToJson(YAML::Load(text), 0, reject_duplicate_keys);
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

std::variant<std::string, std::vector<json>> YamlStreamToJson(const std::string& text) {
  try {
    std::vector<json> docs;
    for (const YAML::Node& doc : YAML::LoadAll(text)) {
      if (doc.IsNull()) continue;  // an empty document between two "---"
      docs.push_back(YamlNodeToJson(doc, 0));
    }
    return docs;
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

std::variant<kube::ApiError, json> DecodeBody(const ApiServer::Ctx& c, bool allow_yaml) {
  MediaType mt = ParseMediaType(c.req.Header("content-type"));
  json body;
  if (mt.type == "application/json" || mt.type.empty()) {
    body = json::parse(c.req.body, nullptr, false);
    if (body.is_discarded()) {
      // Locate the problem for the message, as Go's decoder does.
      try {
        [[maybe_unused]] json located = json::parse(c.req.body);
      } catch (const json::parse_error& e) {
        return kube::NewBadRequest("the object provided is unrecognized (invalid JSON at byte " +
                                   std::to_string(e.byte) + ": " + e.what() + ")");
      }
      return kube::NewBadRequest("the object provided is unrecognized (invalid JSON)");
    }
  } else if (mt.type == "application/vnd.kubernetes.protobuf") {
    // kubectl's typed commands (create namespace, create configmap, ...) send protobuf.
    auto decoded = DecodeKubernetesProtobuf(c.req.body);
    if (auto* err = std::get_if<std::string>(&decoded)) {
      return kube::NewBadRequest("the object provided is unrecognized (" + *err + ")");
    }
    body = std::get<json>(std::move(decoded));
  } else if (allow_yaml && (mt.type == "application/yaml" || mt.type == "application/x-yaml" ||
                            mt.type == "text/yaml")) {
    auto parsed = YamlToJson(c.req.body);
    if (auto* err = std::get_if<std::string>(&parsed)) {
      return kube::NewBadRequest("the object provided is unrecognized (invalid YAML: " + *err +
                                 ")");
    }
    body = std::get<json>(std::move(parsed));
    try {
      [[maybe_unused]] std::string encoded = body.dump();  // JSON is UTF-8; YAML input may not be
    } catch (const json::type_error&) {
      return kube::NewBadRequest("the object provided is unrecognized (invalid UTF-8 in YAML)");
    }
  } else {
    return kube::NewUnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf");
  }
  if (!body.is_object()) {
    return kube::NewBadRequest("the object provided is unrecognized (expected a JSON object, got " +
                               std::string(body.type_name()) + ")");
  }
  return body;
}

std::string NewUid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFFF),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFULL));
  return buf;
}

std::string GenerateName(const std::string& prefix) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  thread_local std::mt19937 rng{std::random_device{}()};
  std::string base = prefix.size() > 58 ? prefix.substr(0, 58) : prefix;
  for (int i = 0; i < 5; ++i) base += kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return base;
}

// ---- ApiServer ----

ApiServer::ApiServer(ApiServerOptions options, Store& store, Clock& clock)
    : options_(std::move(options)), store_(store), clock_(clock), token_(options_.token) {}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Init() {
  for (auto& t : BuiltinResourceTypes()) registry_.Add(t);
  for (auto& t : ReviewResourceTypes()) registry_.Add(t);
  // Serve every CRD already stored (after a restart on a state directory), and recompute
  // each restored object's selectable fields now that types are known.
  for (const ObjectPtr& crd :
       store_.List("apiextensions.k8s.io/customresourcedefinitions", "").items) {
    auto types = ResourceTypesForCrd(crd->Parse());
    if (!types.ok()) {
      log::Warn("not serving stored CRD",
                {{"crd", crd->name}, {"error", types.status().message()}});
      continue;
    }
    registry_.ReplaceCrd(crd->name, *types);
  }
  for (const ObjectPtr& o : store_.All()) {
    ResourceTypePtr rt = registry_.FindByStorageKey(o->storage_key);
    if (!rt || rt->selectable_fields.empty()) continue;
    store_.Restore(MakeStoredObject(o->storage_key, o->Parse(), o->rv, &rt->selectable_fields));
  }
  store_.SetChangeListener([this](const WatchEvent& ev) {
    if (ev.type == EventType::kDeleted ||
        ev.object->json.find("\"deletionTimestamp\"") != std::string::npos) {
      GcNotify();
    }
  });
  EnsureDefaultNamespaces();
  gc_thread_ = std::thread([this] { GcLoop(); });
  return Status::Ok();
}

void ApiServer::Stop() {
  if (stopping_.exchange(true)) return;
  GcNotify();
  if (gc_thread_.joinable()) gc_thread_.join();
  store_.DropAllWatchers();
}

void ApiServer::SetPodLogSource(PodLogSource source) {
  std::lock_guard lock(mu_);
  log_source_ = std::move(source);
}

void ApiServer::SetTokenRotatedCallback(std::function<void(const std::string&)> cb) {
  std::lock_guard lock(mu_);
  on_token_rotated_ = std::move(cb);
}

void ApiServer::SetServerAddress(std::string address) {
  std::lock_guard lock(mu_);
  options_.server_address = std::move(address);
}

std::string ApiServer::token() const {
  std::lock_guard lock(mu_);
  return token_;
}

bool ApiServer::Authenticate(const http::Request& req) const {
  std::string auth = req.Header("authorization");
  const std::string prefix = "Bearer ";
  if (auth.size() <= prefix.size() || auth.compare(0, prefix.size(), prefix) != 0) return false;
  std::string presented = auth.substr(prefix.size());
  std::string expected = token();
  // Constant-time comparison: do not leak how much of the token matched.
  if (presented.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) diff |= presented[i] ^ expected[i];
  return diff == 0;
}

void ApiServer::Handle(const http::Request& req, http::ResponseWriter& w) {
  Ctx c{req, w, {}, nullptr, clock_.Now(), {}};
  const std::string& path = req.path;
  // Health probes are public, as kube-apiserver grants them to system:unauthenticated.
  if (path == "/healthz" || path == "/readyz" || path == "/livez") {
    SendRaw(c, stopping_ ? 503 : 200, "text/plain; charset=utf-8",
            stopping_ ? "shutting down" : "ok");
    return;
  }
  if (!Authenticate(req)) {
    SendError(c, kube::NewUnauthorized());
    return;
  }
  if (req.body_too_large) {
    SendError(c, kube::NewRequestEntityTooLarge(options_.max_body_bytes));
    c.w.CloseAfterResponse();
    return;
  }
  if (!req.body.empty() && JsonNestingDepth(req.body) > kMaxBodyNesting) {
    SendError(c, kube::NewBadRequest("the object provided is unrecognized (nested deeper than " +
                                     std::to_string(kMaxBodyNesting) + " levels)"));
    return;
  }
  c.info = ParseRequestInfo(req.method, path, req.Query("watch"));
  if (path.rfind("/devcluster/", 0) == 0) {
    HandleAdmin(c);
    return;
  }
  std::string resource_label = c.info.resource.empty() ? path : c.info.resource;
  if (!c.info.subresource.empty()) resource_label += "/" + c.info.subresource;
  std::string verb = c.info.is_resource_request ? c.info.verb : req.method;
  // Per client too, named as managedFields names a manager: the User-Agent's product.
  const std::string user_agent = req.Header("user-agent");
  std::string agent = user_agent.substr(0, user_agent.find('/'));
  faults_.RecordRequest(verb, resource_label, agent.empty() ? "unknown" : agent);
  if (options_.enable_faults && c.info.is_resource_request) {
    if (auto d = faults_.Delay(verb, c.info.resource); d.count() > 0) {
      std::this_thread::sleep_for(d);
    }
    if (auto e = faults_.MaybeFail(verb, c.info.resource)) {
      SendError(c, *e);
      return;
    }
  }
  try {
    Dispatch(c);
  } catch (const std::exception& e) {
    // Every handler validates its input; reaching here is a bug, reported as a 500 rather
    // than taking the server down.
    log::Error("handler failed", {{"path", path}, {"method", req.method}, {"error", e.what()}});
    if (!w.Closed()) SendError(c, kube::NewInternalError(e.what()));
  }
}

void ApiServer::Dispatch(Ctx& c) {
  if (!c.info.is_resource_request) {
    HandleNonResource(c);
    return;
  }
  c.rt = registry_.Find(c.info.group, c.info.version, c.info.resource);
  if (!c.rt) {
    SendError(c, kube::NewNoResource());
    return;
  }
  if (c.rt->create_only) return HandleReview(c);
  const std::string& sub = c.info.subresource;
  const std::string& verb = c.info.verb;
  if (!c.rt->namespaced && !c.info.ns.empty()) {
    SendError(c, kube::NewNoResource());
    return;
  }
  if (!sub.empty()) {
    bool known = (sub == "status" && c.rt->has_status) || (sub == "binding" && c.rt->has_binding) ||
                 (sub == "log" && c.rt->has_log) ||
                 (sub == "scale" && !c.rt->spec_replicas_path.empty());
    if (!known) {
      SendError(c, kube::NewNoResource());
      return;
    }
    if (sub == "binding") {
      if (verb != "create") return SendError(c, kube::NewMethodNotAllowed());
      return HandleBinding(c);
    }
    if (sub == "scale") {
      if (verb != "get" && verb != "update" && verb != "patch") {
        return SendError(c, kube::NewMethodNotAllowed());
      }
      return HandleScale(c);
    }
    if (sub == "log") {
      if (verb != "get") return SendError(c, kube::NewMethodNotAllowed());
      return HandlePodLog(c);
    }
    if (verb == "get") return HandleGet(c);
    if (verb == "update") return HandleUpdate(c);
    if (verb == "patch") return HandlePatch(c);
    return SendError(c, kube::NewMethodNotAllowed());
  }
  if (c.rt->namespaced && c.info.ns.empty() && !c.info.name.empty()) {
    SendError(c, kube::NewNoResource());
    return;
  }
  if (verb == "get") return HandleGet(c);
  if (verb == "list") return HandleList(c);
  if (verb == "watch") return HandleWatch(c);
  if (verb == "create") {
    if (!c.info.name.empty()) return SendError(c, kube::NewMethodNotAllowed());
    if (c.rt->namespaced && c.info.ns.empty()) return SendError(c, kube::NewNoResource());
    return HandleCreate(c);
  }
  if ((verb == "update" || verb == "patch") && c.info.name.empty()) {
    return SendError(c, kube::NewMethodNotAllowed());
  }
  if (verb == "update") return HandleUpdate(c);
  if (verb == "patch") return HandlePatch(c);
  if (verb == "delete") return HandleDelete(c);
  if (verb == "deletecollection") return HandleDeleteCollection(c);
  SendError(c, kube::NewMethodNotAllowed());
}

void ApiServer::HandleNonResource(Ctx& c) {
  const std::string& p = c.req.path;
  if (c.req.method != "GET" && c.req.method != "HEAD") {
    SendError(c, kube::NewMethodNotAllowed());
    return;
  }
  std::string trimmed = p.size() > 1 && p.back() == '/' ? p.substr(0, p.size() - 1) : p;
  if (trimmed == "/version") return ServeVersion(c);
  if (trimmed == "/api") return ServeApiVersions(c);
  if (trimmed == "/apis") return ServeApiGroupList(c);
  if (trimmed == "/openapi/v2") return ServeOpenApiV2(c);
  if (trimmed == "/openapi/v3") return ServeOpenApiV3Index(c);
  if (trimmed.rfind("/openapi/v3/", 0) == 0) return ServeOpenApiV3Doc(c, trimmed.substr(12));
  if (c.info.api_prefix == "api" && c.info.version == "v1" && c.info.parts.empty()) {
    return ServeResourceList(c, "", "v1");
  }
  if (c.info.api_prefix == "apis" && !c.info.group.empty() && c.info.parts.empty()) {
    return ServeResourceList(c, c.info.group, c.info.version);
  }
  if (trimmed.rfind("/apis/", 0) == 0 && trimmed.find('/', 6) == std::string::npos) {
    return ServeApiGroup(c, trimmed.substr(6));
  }
  SendError(c, kube::NewNoResource());
}

void ApiServer::HandleAdmin(Ctx& c) {
  if (!options_.enable_faults) {
    SendError(c, kube::NewNoResource());
    return;
  }
  const std::string& p = c.req.path;
  const std::string& m = c.req.method;
  auto body = json::parse(c.req.body.empty() ? "{}" : c.req.body, nullptr, false);
  if (p == "/devcluster/requests") {
    if (m == "GET") return SendJson(c, 200, faults_.RequestCounts());
    if (m == "DELETE") {
      faults_.ResetRequestCounts();
      return SendJson(c, 200, {{"reset", true}});
    }
  } else if (p == "/devcluster/faults" && m == "DELETE") {
    faults_.Clear();
    return SendJson(c, 200, {{"cleared", true}});
  } else if (p == "/devcluster/faults/drop-watches" && m == "POST") {
    std::size_t n = store_.WatcherCount();
    store_.DropAllWatchers();
    log::Info("fault: dropped all watches", {{"watches", n}});
    return SendJson(c, 200, {{"dropped", n}});
  } else if (p == "/devcluster/faults/compact" && m == "POST") {
    store_.CompactHistory();
    store_.DropAllWatchers();
    {
      std::lock_guard lock(mu_);
      list_snapshots_.clear();
    }
    log::Info("fault: compacted watch history", {{"rv", store_.CurrentRv()}});
    return SendJson(c, 200, {{"compactedAt", std::to_string(store_.CurrentRv())}});
  } else if (p == "/devcluster/faults/errors" && m == "POST") {
    auto rule = Faults::ParseErrorRule(body);
    if (!rule.ok()) return SendError(c, kube::NewBadRequest(rule.status().message()));
    faults_.AddErrorRule(*rule);
    return SendJson(c, 201, {{"added", true}});
  } else if (p == "/devcluster/faults/latency" && m == "POST") {
    auto rule = Faults::ParseLatencyRule(body);
    if (!rule.ok()) return SendError(c, kube::NewBadRequest(rule.status().message()));
    faults_.AddLatencyRule(*rule);
    return SendJson(c, 201, {{"added", true}});
  } else if (p == "/devcluster/faults/expire-token" && m == "POST") {
    std::string fresh = NewUid() + NewUid();
    fresh.erase(std::remove(fresh.begin(), fresh.end(), '-'), fresh.end());
    std::function<void(const std::string&)> cb;
    {
      std::lock_guard lock(mu_);
      token_ = fresh;
      cb = on_token_rotated_;
    }
    if (cb) cb(fresh);
    log::Info("fault: token expired and rotated", {{"token", log::Redact(fresh)}});
    return SendJson(c, 200, {{"token", fresh}});
  }
  SendError(c, kube::NewNoResource());
}

}  // namespace aidi::devcluster
