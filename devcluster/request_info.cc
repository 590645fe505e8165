#include "devcluster/request_info.h"

#include <algorithm>
#include <set>

namespace aidi::devcluster {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Fills namespace, resource, name and subresource from the segments after the group-version.
void FillResourceParts(std::vector<std::string> rest, RequestInfo& info) {
  if (rest[0] == "namespaces" && rest.size() > 1) {
    info.ns = rest[1];
    static const std::set<std::string> kNamespaceSubresources = {"status", "finalize"};
    if (rest.size() > 2 && !kNamespaceSubresources.count(rest[2])) {
      rest.erase(rest.begin(), rest.begin() + 2);
    } else {
      // /namespaces/<name>[/status]: the namespace object itself.
      info.ns.clear();
      info.resource = "namespaces";
      info.name = rest[1];
      if (rest.size() > 2) info.subresource = rest[2];
      if (rest.size() > 3) info.is_resource_request = false;
      return;
    }
  }
  info.resource = rest[0];
  if (rest.size() > 1) info.name = rest[1];
  if (rest.size() > 2) info.subresource = rest[2];
  if (rest.size() > 3) info.is_resource_request = false;  // too deep: not a known shape
}

}  // namespace

bool QueryBool(const std::optional<std::string>& value) {
  if (!value) return false;
  std::string v = Lower(*value);
  return v != "false" && v != "0";
}

RequestInfo ParseRequestInfo(const std::string& method, const std::string& path,
                             const std::optional<std::string>& watch_param) {
  RequestInfo info;
  std::vector<std::string> p = SplitPath(path);
  if (p.empty() || (p[0] != "api" && p[0] != "apis")) return info;
  info.api_prefix = p[0];
  std::size_t i = 1;
  if (info.api_prefix == "apis") {
    if (p.size() < 3) return info;  // /apis or /apis/<group>: discovery
    info.group = p[1];
    i = 2;
  } else if (p.size() < 2) {
    return info;  // /api
  }
  info.version = p[i++];
  std::vector<std::string> rest(p.begin() + static_cast<long>(i), p.end());
  info.parts = rest;
  if (rest.empty()) return info;  // /api/v1: discovery
  info.is_resource_request = true;
  bool watch_path = false;
  if (rest[0] == "watch") {
    watch_path = true;
    rest.erase(rest.begin());
    if (rest.empty()) {
      info.is_resource_request = false;
      return info;
    }
  }
  FillResourceParts(rest, info);
  bool watch = watch_path || QueryBool(watch_param);
  if (method == "GET" || method == "HEAD") {
    if (info.name.empty()) {
      info.verb = watch ? "watch" : "list";
    } else {
      info.verb = watch ? "watch" : "get";
    }
  } else if (method == "POST") {
    info.verb = "create";
  } else if (method == "PUT") {
    info.verb = "update";
  } else if (method == "PATCH") {
    info.verb = "patch";
  } else if (method == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  } else {
    info.verb = Lower(method);
  }
  return info;
}

MediaType ParseMediaType(const std::string& value) {
  MediaType mt;
  std::size_t semi = value.find(';');
  mt.type = Lower(Trim(value.substr(0, semi)));
  while (semi != std::string::npos) {
    std::size_t next = value.find(';', semi + 1);
    std::string kv = Trim(
        value.substr(semi + 1, next == std::string::npos ? std::string::npos : next - semi - 1));
    std::size_t eq = kv.find('=');
    if (eq != std::string::npos) {
      std::string v = Trim(kv.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      mt.params[Lower(Trim(kv.substr(0, eq)))] = v;
    }
    semi = next;
  }
  return mt;
}

std::vector<MediaType> ParseAccept(const std::string& header) {
  std::vector<MediaType> out;
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t comma = header.find(',', start);
    std::string item =
        header.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!Trim(item).empty()) {
      MediaType mt = ParseMediaType(item);
      if (mt.Param("q") != "0") out.push_back(std::move(mt));
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace aidi::devcluster
