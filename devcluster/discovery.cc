// Discovery (/version, /api, /apis, /api/v1, /apis/<g>[/<v>]) in both the legacy form and the
// aggregated form (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) that kubectl 1.32 asks for
// first; and the OpenAPI v2/v3 documents. Everything is derived from the Registry, so a new CRD
// shows up on the next request.
#include <algorithm>
#include <regex>
#include <set>

#include "devcluster/api_server.h"
#include "devcluster/api_server_internal.h"
#include "devcluster/crd/openapi.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

// Kubernetes version priority: GA before beta before alpha, higher numbers first, then other
// strings alphabetically (k8s.io/apimachinery/pkg/version.CompareKubeAwareVersionStrings).
bool VersionBefore(const std::string& a, const std::string& b) {
  static const std::regex kRe(R"(^v(\d+)(?:(alpha|beta)(\d+))?$)");
  std::smatch ma, mb;
  bool ka = std::regex_match(a, ma, kRe), kb = std::regex_match(b, mb, kRe);
  if (ka != kb) return ka;
  if (!ka) return a < b;
  auto stability = [](const std::smatch& m) { return m[2].matched ? (m[2] == "beta" ? 1 : 0) : 2; };
  if (stability(ma) != stability(mb)) return stability(ma) > stability(mb);
  if (std::stoi(ma[1]) != std::stoi(mb[1])) return std::stoi(ma[1]) > std::stoi(mb[1]);
  if (ma[3].matched && mb[3].matched) return std::stoi(ma[3]) > std::stoi(mb[3]);
  return false;
}

std::vector<std::string> VerbsFor(const ResourceType& t) {
  if (t.create_only) return {"create"};
  return {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
}

// group -> versions in priority order -> types.
std::map<std::string, std::map<std::string, std::vector<ResourceTypePtr>>> ByGroup(
    const Registry& registry) {
  std::map<std::string, std::map<std::string, std::vector<ResourceTypePtr>>> out;
  for (const auto& t : registry.All()) out[t->group][t->version].push_back(t);
  return out;
}

std::vector<std::string> SortedVersions(
    const std::map<std::string, std::vector<ResourceTypePtr>>& vs) {
  std::vector<std::string> out;
  for (const auto& [v, types] : vs) out.push_back(v);
  std::sort(out.begin(), out.end(), VersionBefore);
  return out;
}

json LegacyResources(const std::vector<ResourceTypePtr>& types) {
  json resources = json::array();
  for (const auto& t : types) {
    json r = {{"name", t->plural},
              {"singularName", t->singular},
              {"namespaced", t->namespaced},
              {"kind", t->kind},
              {"verbs", VerbsFor(*t)}};
    if (!t->short_names.empty()) r["shortNames"] = t->short_names;
    if (!t->categories.empty()) r["categories"] = t->categories;
    resources.push_back(r);
    if (t->has_status) {
      resources.push_back({{"name", t->plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"kind", t->kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (t->has_binding) {
      resources.push_back({{"name", t->plural + "/binding"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"kind", "Binding"},
                           {"verbs", {"create"}}});
    }
    if (!t->spec_replicas_path.empty()) {
      resources.push_back({{"name", t->plural + "/scale"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
    }
    if (t->has_log) {
      resources.push_back({{"name", t->plural + "/log"},
                           {"singularName", ""},
                           {"namespaced", t->namespaced},
                           {"kind", t->kind},
                           {"verbs", {"get"}}});
    }
  }
  return resources;
}

json AggregatedVersion(const std::string& version, const std::vector<ResourceTypePtr>& types) {
  json resources = json::array();
  for (const auto& t : types) {
    json kind = {{"group", t->group}, {"version", t->version}, {"kind", t->kind}};
    json r = {{"resource", t->plural},
              {"responseKind", kind},
              {"scope", t->namespaced ? "Namespaced" : "Cluster"},
              {"singularResource", t->singular},
              {"verbs", VerbsFor(*t)}};
    if (!t->short_names.empty()) r["shortNames"] = t->short_names;
    if (!t->categories.empty()) r["categories"] = t->categories;
    json subs = json::array();
    if (t->has_status) {
      subs.push_back({{"subresource", "status"},
                      {"responseKind", kind},
                      {"verbs", {"get", "patch", "update"}}});
    }
    if (t->has_binding) {
      subs.push_back({{"subresource", "binding"},
                      {"responseKind", {{"group", ""}, {"version", "v1"}, {"kind", "Binding"}}},
                      {"verbs", {"create"}}});
    }
    if (!t->spec_replicas_path.empty()) {
      subs.push_back(
          {{"subresource", "scale"},
           {"responseKind", {{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}},
           {"verbs", {"get", "patch", "update"}}});
    }
    if (t->has_log) {
      subs.push_back({{"subresource", "log"},
                      {"responseKind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                      {"verbs", {"get"}}});
    }
    if (!subs.empty()) r["subresources"] = subs;
    resources.push_back(r);
  }
  std::sort(resources.begin(), resources.end(),
            [](const json& a, const json& b) { return a["resource"] < b["resource"]; });
  return {{"version", version}, {"resources", resources}, {"freshness", "Current"}};
}

// Whether the client asked for the aggregated discovery document (and which version).
std::string WantsAggregated(const ApiServer::Ctx& c) {
  for (const auto& mt : ParseAccept(c.req.Header("accept"))) {
    if (mt.Param("g") == "apidiscovery.k8s.io" && mt.Param("as") == "APIGroupDiscoveryList" &&
        (mt.Param("v") == "v2" || mt.Param("v") == "v2beta1")) {
      return mt.Param("v");
    }
  }
  return "";
}

void SendAggregated(ApiServer::Ctx& c, const std::string& version, json items) {
  json doc = {{"kind", "APIGroupDiscoveryList"},
              {"apiVersion", "apidiscovery.k8s.io/" + version},
              {"metadata", json::object()},
              {"items", std::move(items)}};
  SendJson(c, 200, doc,
           "application/json;g=apidiscovery.k8s.io;v=" + version + ";as=APIGroupDiscoveryList");
}

}  // namespace

void ApiServer::ServeVersion(Ctx& c) {
  SendJson(c, 200,
           {{"major", "1"},
            {"minor", "32"},
            {"gitVersion", "v1.32.0-aidi-devcluster"},
            {"gitCommit", "0000000000000000000000000000000000000000"},
            {"gitTreeState", "clean"},
            {"buildDate", "2026-11-27T00:00:00Z"},
            {"goVersion", "go1.23.4"},
            {"compiler", "gc"},
            {"platform", "linux/amd64"}});
}

void ApiServer::ServeApiVersions(Ctx& c) {
  if (std::string v = WantsAggregated(c); !v.empty()) {
    auto groups = ByGroup(registry_);
    json versions = json::array();
    for (const auto& version : SortedVersions(groups[""])) {
      versions.push_back(AggregatedVersion(version, groups[""][version]));
    }
    SendAggregated(c, v, json::array({{{"metadata", json::object()}, {"versions", versions}}}));
    return;
  }
  std::string address;
  {
    std::lock_guard lock(mu_);
    address = options_.server_address;
  }
  SendJson(c, 200,
           {{"kind", "APIVersions"},
            {"versions", {"v1"}},
            {"serverAddressByClientCIDRs",
             {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", address}}}}});
}

void ApiServer::ServeApiGroupList(Ctx& c) {
  auto groups = ByGroup(registry_);
  std::string agg = WantsAggregated(c);
  json items = json::array();
  for (const auto& [group, versions] : groups) {
    if (group.empty()) continue;
    auto sorted = SortedVersions(versions);
    if (!agg.empty()) {
      json vs = json::array();
      for (const auto& v : sorted) vs.push_back(AggregatedVersion(v, versions.at(v)));
      items.push_back({{"metadata", {{"name", group}}}, {"versions", vs}});
    } else {
      json vs = json::array();
      for (const auto& v : sorted)
        vs.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
      items.push_back({{"name", group}, {"versions", vs}, {"preferredVersion", vs[0]}});
    }
  }
  if (!agg.empty()) return SendAggregated(c, agg, items);
  SendJson(c, 200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", items}});
}

void ApiServer::ServeApiGroup(Ctx& c, const std::string& group) {
  auto groups = ByGroup(registry_);
  auto it = groups.find(group);
  if (group.empty() || it == groups.end()) return SendError(c, kube::NewNoResource());
  json vs = json::array();
  for (const auto& v : SortedVersions(it->second)) {
    vs.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  }
  SendJson(c, 200,
           {{"kind", "APIGroup"},
            {"apiVersion", "v1"},
            {"name", group},
            {"versions", vs},
            {"preferredVersion", vs[0]}});
}

void ApiServer::ServeResourceList(Ctx& c, const std::string& group, const std::string& version) {
  std::vector<ResourceTypePtr> types;
  for (const auto& t : registry_.All()) {
    if (t->group == group && t->version == version) types.push_back(t);
  }
  if (types.empty()) return SendError(c, kube::NewNoResource());
  SendJson(c, 200,
           {{"kind", "APIResourceList"},
            {"apiVersion", "v1"},
            {"groupVersion", group.empty() ? version : group + "/" + version},
            {"resources", LegacyResources(types)}});
}

namespace {

std::vector<OpenApiResource> OpenApiResources(const Registry& registry) {
  std::vector<OpenApiResource> out;
  for (const auto& t : registry.All()) {
    OpenApiResource r;
    r.group = t->group;
    r.version = t->version;
    r.kind = t->kind;
    r.plural = t->plural;
    r.namespaced = t->namespaced;
    r.has_status = t->has_status;
    // Built-in kinds' schemas come from devcluster/builtin_schemas (see openapi.h).
    if (t->schema && t->is_custom()) r.schema = t->schema->raw();
    out.push_back(std::move(r));
  }
  return out;
}

bool AcceptsJson(const ApiServer::Ctx& c) {
  auto accept = ParseAccept(c.req.Header("accept"));
  if (accept.empty()) return true;
  for (const auto& mt : accept) {
    if (mt.type == "application/json" || mt.type == "*/*" || mt.type == "application/*")
      return true;
  }
  return false;
}

}  // namespace

void ApiServer::RefreshOpenApiV3Locked() {
  if (openapi_generation_ == registry_.generation()) return;
  openapi_v3_docs_.clear();
  openapi_v3_hashes_.clear();
  std::map<std::pair<std::string, std::string>, std::vector<OpenApiResource>> by_gv;
  for (auto& r : OpenApiResources(registry_)) by_gv[{r.group, r.version}].push_back(r);
  for (const auto& [gv, resources] : by_gv) {
    std::string key = gv.first.empty() ? "api/" + gv.second : "apis/" + gv.first + "/" + gv.second;
    json doc = BuildOpenApiV3Document(gv.first, gv.second, resources);
    openapi_v3_docs_[key] = doc.dump();
    openapi_v3_hashes_[key] = OpenApiDocumentHash(doc);
  }
  openapi_generation_ = registry_.generation();
}

void ApiServer::ServeOpenApiV3Index(Ctx& c) {
  json paths = json::object();
  {
    std::lock_guard lock(mu_);
    RefreshOpenApiV3Locked();
    for (const auto& [key, hash] : openapi_v3_hashes_) {
      paths[key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hash}};
    }
  }
  SendJson(c, 200, {{"paths", paths}});
}

void ApiServer::ServeOpenApiV3Doc(Ctx& c, const std::string& gv_path) {
  if (!AcceptsJson(c)) {
    return SendError(c, kube::NewNotAcceptable("only application/json is served"));
  }
  std::string doc;
  {
    std::lock_guard lock(mu_);
    RefreshOpenApiV3Locked();
    auto it = openapi_v3_docs_.find(gv_path);
    if (it != openapi_v3_docs_.end()) doc = it->second;
  }
  if (doc.empty()) return SendError(c, kube::NewNoResource());
  SendRaw(c, 200, "application/json", doc);
}

void ApiServer::ServeOpenApiV2(Ctx& c) {
  if (!AcceptsJson(c)) {
    return SendError(c, kube::NewNotAcceptable("only application/json is served"));
  }
  SendJson(c, 200, BuildOpenApiV2Document(OpenApiResources(registry_)));
}

}  // namespace aidi::devcluster
