#include "kube/core/request.h"

#include <nlohmann/json.hpp>

namespace aidi::kube {

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string HttpRequest::Target() const {
  std::string target = path;
  char sep = '?';
  for (const auto& [key, value] : query) {
    target += sep;
    target += UrlEncode(key);
    target += '=';
    target += UrlEncode(value);
    sep = '&';
  }
  return target;
}

std::optional<std::string> HttpRequest::Query(const std::string& key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::string PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";  // unreachable: the switch covers every enumerator
}

namespace {

void AddIf(HttpRequest& r, const char* key, const std::string& value) {
  if (!value.empty()) r.query.emplace_back(key, value);
}

void AddDryRun(HttpRequest& r, bool dry_run) {
  if (dry_run) r.query.emplace_back("dryRun", "All");
}

void AddSelectors(HttpRequest& r, const std::string& labels, const std::string& fields) {
  AddIf(r, "labelSelector", labels);
  AddIf(r, "fieldSelector", fields);
}

}  // namespace

std::string RequestBuilder::CollectionPath() const {
  std::string path = resource_.GroupVersionPath();
  if (resource_.namespaced && !ns_.empty()) path += "/namespaces/" + UrlEncode(ns_);
  return path + "/" + resource_.resource;
}

std::string RequestBuilder::ObjectPath(const std::string& name) const {
  return CollectionPath() + "/" + UrlEncode(name);
}

HttpRequest RequestBuilder::Get(const std::string& name) const {
  HttpRequest r;
  r.path = ObjectPath(name);
  return r;
}

HttpRequest RequestBuilder::List(const ListParams& p) const {
  HttpRequest r;
  r.path = CollectionPath();
  AddSelectors(r, p.label_selector, p.field_selector);
  if (p.limit > 0) r.query.emplace_back("limit", std::to_string(p.limit));
  AddIf(r, "continue", p.continue_token);
  // A continue token already pins the snapshot: the server rejects a resourceVersion with it.
  if (p.continue_token.empty()) {
    AddIf(r, "resourceVersion", p.resource_version);
    if (!p.resource_version.empty()) AddIf(r, "resourceVersionMatch", p.resource_version_match);
  }
  return r;
}

HttpRequest RequestBuilder::Watch(const WatchParams& p) const {
  HttpRequest r;
  r.path = CollectionPath();
  r.watch = true;
  r.query.emplace_back("watch", "true");
  AddSelectors(r, p.label_selector, p.field_selector);
  AddIf(r, "resourceVersion", p.resource_version);
  if (p.timeout_seconds > 0)
    r.query.emplace_back("timeoutSeconds", std::to_string(p.timeout_seconds));
  if (p.allow_bookmarks) r.query.emplace_back("allowWatchBookmarks", "true");
  return r;
}

HttpRequest RequestBuilder::Create(std::string body, const PostParams& p) const {
  HttpRequest r;
  r.method = "POST";
  r.path = CollectionPath();
  r.body = std::move(body);
  r.content_type = "application/json";
  AddIf(r, "fieldManager", p.field_manager);
  AddDryRun(r, p.dry_run);
  return r;
}

HttpRequest RequestBuilder::Replace(const std::string& name, std::string body,
                                    const PostParams& p) const {
  HttpRequest r;
  r.method = "PUT";
  r.path = ObjectPath(name);
  r.body = std::move(body);
  r.content_type = "application/json";
  AddIf(r, "fieldManager", p.field_manager);
  AddDryRun(r, p.dry_run);
  return r;
}

HttpRequest RequestBuilder::Patch(const std::string& name, PatchType type, std::string body,
                                  const PatchParams& p) const {
  HttpRequest r;
  r.method = "PATCH";
  r.path = ObjectPath(name);
  r.body = std::move(body);
  r.content_type = PatchContentType(type);
  AddIf(r, "fieldManager", p.field_manager);
  if (p.force && type == PatchType::kApply) r.query.emplace_back("force", "true");
  AddDryRun(r, p.dry_run);
  return r;
}

namespace {
std::string DeleteOptionsBody(const DeleteParams& p) {
  nlohmann::json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!p.propagation_policy.empty()) body["propagationPolicy"] = p.propagation_policy;
  if (p.grace_period_seconds) body["gracePeriodSeconds"] = *p.grace_period_seconds;
  if (!p.precondition_uid.empty()) body["preconditions"]["uid"] = p.precondition_uid;
  if (!p.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = p.precondition_resource_version;
  }
  if (p.dry_run) body["dryRun"] = nlohmann::json::array({"All"});
  return body.dump();
}
}  // namespace

HttpRequest RequestBuilder::Delete(const std::string& name, const DeleteParams& p) const {
  HttpRequest r;
  r.method = "DELETE";
  r.path = ObjectPath(name);
  r.body = DeleteOptionsBody(p);
  r.content_type = "application/json";
  return r;
}

HttpRequest RequestBuilder::DeleteCollection(const ListParams& selector,
                                             const DeleteParams& p) const {
  HttpRequest r;
  r.method = "DELETE";
  r.path = CollectionPath();
  AddSelectors(r, selector.label_selector, selector.field_selector);
  r.body = DeleteOptionsBody(p);
  r.content_type = "application/json";
  return r;
}

HttpRequest RequestBuilder::GetSubresource(const std::string& name, const std::string& sub) const {
  HttpRequest r = Get(name);
  r.path += "/" + sub;
  return r;
}

HttpRequest RequestBuilder::ReplaceSubresource(const std::string& name, const std::string& sub,
                                               std::string body, const PostParams& p) const {
  HttpRequest r = Replace(name, std::move(body), p);
  r.path += "/" + sub;
  return r;
}

HttpRequest RequestBuilder::PatchSubresource(const std::string& name, const std::string& sub,
                                             PatchType type, std::string body,
                                             const PatchParams& p) const {
  HttpRequest r = Patch(name, type, std::move(body), p);
  r.path += "/" + sub;
  return r;
}

}  // namespace aidi::kube
