// Requests as values: turns "get pod x in ns y" into method, path, query and body, without
// sending anything (kube-rs kube-core/src/request.rs is the model). kube/client sends them;
// tests compare them exactly, with no sockets.
//
//   RequestBuilder pods(resources::kPods, "default");
//   HttpRequest r = pods.List({.label_selector = "app=web", .limit = 500});
//   // r.method == "GET", r.Target() ==
//   "/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=500"
//
// Plain values; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kube/core/resource.h"

namespace aidi::kube {

struct HttpRequest {
  std::string method = "GET";
  std::string path;  // absolute path, already escaped: "/api/v1/namespaces/default/pods/x"
  std::vector<std::pair<std::string, std::string>> query;  // unescaped; order kept
  std::string body;
  std::string content_type;  // "" when there is no body
  std::string accept = "application/json";
  bool watch = false;  // a streaming watch: the response body is a sequence of events

  // path plus the escaped query: "/api/v1/pods?labelSelector=app%3Dweb".
  std::string Target() const;
  // The value of a query parameter, if present.
  std::optional<std::string> Query(const std::string& key) const;
};

// Percent-encodes everything outside RFC 3986's unreserved set.
std::string UrlEncode(std::string_view s);

struct ListParams {
  std::string label_selector;
  std::string field_selector;
  int limit = 0;                       // 0: unlimited (one response)
  std::string continue_token;          // from the previous page's metadata.continue
  std::string resource_version;        // "" (most recent, quorum), "0" (any), or an RV
  std::string resource_version_match;  // "NotOlderThan" | "Exact" | ""
};

struct WatchParams {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // resume point; "" starts at "now" with synthetic ADDEDs
  int timeout_seconds = 290;     // server closes the stream after this (client-go: 5-10 min)
  bool allow_bookmarks = true;
};

struct PostParams {
  std::string field_manager;  // "" leaves it to the server
  bool dry_run = false;
};

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386)
  kJson,            // application/json-patch+json (RFC 6902)
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  kApply,           // application/apply-patch+yaml: server-side apply (field_manager required)
};
std::string PatchContentType(PatchType type);

struct PatchParams {
  std::string field_manager;
  bool force = false;  // apply only: take ownership of conflicting fields
  bool dry_run = false;
};

struct DeleteParams {
  std::string propagation_policy;  // "Foreground" | "Background" | "Orphan" | "" (default)
  std::optional<int> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

// Builds requests for one resource, scoped to one namespace ("" = all namespaces for lists and
// watches of namespaced resources; ignored for cluster-scoped ones).
class RequestBuilder {
 public:
  RequestBuilder(ResourceRef resource, std::string ns)
      : resource_(std::move(resource)), ns_(std::move(ns)) {}

  const ResourceRef& resource() const { return resource_; }
  const std::string& ns() const { return ns_; }

  HttpRequest Get(const std::string& name) const;
  HttpRequest List(const ListParams& params) const;
  HttpRequest Watch(const WatchParams& params) const;
  HttpRequest Create(std::string body, const PostParams& params = {}) const;
  HttpRequest Replace(const std::string& name, std::string body,
                      const PostParams& params = {}) const;
  HttpRequest Patch(const std::string& name, PatchType type, std::string body,
                    const PatchParams& params = {}) const;
  HttpRequest Delete(const std::string& name, const DeleteParams& params = {}) const;
  HttpRequest DeleteCollection(const ListParams& selector, const DeleteParams& params = {}) const;

  // Subresources ("status", "scale"): get, replace and patch.
  HttpRequest GetSubresource(const std::string& name, const std::string& sub) const;
  HttpRequest ReplaceSubresource(const std::string& name, const std::string& sub, std::string body,
                                 const PostParams& params = {}) const;
  HttpRequest PatchSubresource(const std::string& name, const std::string& sub, PatchType type,
                               std::string body, const PatchParams& params = {}) const;

  // "/api/v1/namespaces/ns/pods" (or "/api/v1/pods" for all namespaces / cluster scope).
  std::string CollectionPath() const;
  std::string ObjectPath(const std::string& name) const;

 private:
  ResourceRef resource_;
  std::string ns_;
};

}  // namespace aidi::kube
