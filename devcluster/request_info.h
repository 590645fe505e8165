// RequestInfo: what an API request is about (verb, group, version, namespace, resource, name,
// subresource), parsed from its method and path exactly as kube-apiserver's
// RequestInfoFactory does; plus media-type negotiation for Accept and Content-Type.
// Pure functions.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aidi::devcluster {

struct RequestInfo {
  bool is_resource_request = false;
  std::string verb;        // get list watch create update patch delete deletecollection
  std::string api_prefix;  // "api" or "apis"
  std::string group;
  std::string version;
  std::string ns;
  std::string resource;
  std::string name;
  std::string subresource;
  std::vector<std::string> parts;  // path segments after the group-version
};

// A boolean query parameter as the apiserver converts it: absent is false; present, anything
// but "false" or "0" (any case) is true — so `watch=True` and even `watch=` mean watch.
bool QueryBool(const std::optional<std::string>& value);

// `watch_param` is the ?watch= parameter, if present.
RequestInfo ParseRequestInfo(const std::string& method, const std::string& path,
                             const std::optional<std::string>& watch_param);

struct MediaType {
  std::string type;                           // "application/json"
  std::map<std::string, std::string> params;  // "as" -> "Table", "g" -> "meta.k8s.io", ...
  std::string Param(const std::string& k) const {
    auto it = params.find(k);
    return it == params.end() ? "" : it->second;
  }
};

// Splits an Accept header into media types (in order; q-values ignored beyond q=0 removal).
std::vector<MediaType> ParseAccept(const std::string& header);
// Parses one Content-Type value.
MediaType ParseMediaType(const std::string& value);

}  // namespace aidi::devcluster
