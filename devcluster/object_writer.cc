#include "devcluster/object_writer.h"

#include <algorithm>
#include <map>
#include <set>

#include "devcluster/api_server_internal.h"
#include "devcluster/builtin_types.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

// Sorts unknown-field paths ("spec.a", "m[0].b") by where they appear in `body` (JSON), as Go's
// decoder reports them; paths not found there keep their order, after the others.
void SortByDocumentOrder(std::string_view body, std::vector<std::string>& paths) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(body, nullptr, false);
  if (doc.is_discarded()) return;
  std::map<std::string, std::size_t> position;
  std::vector<std::pair<const nlohmann::ordered_json*, std::string>> stack = {{&doc, ""}};
  while (!stack.empty() && position.size() < 100000) {
    auto [v, path] = stack.back();
    stack.pop_back();
    position.emplace(path, position.size());
    std::vector<std::pair<const nlohmann::ordered_json*, std::string>> children;
    if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        children.push_back({&it.value(), path.empty() ? it.key() : path + "." + it.key()});
      }
    } else if (v->is_array()) {
      for (std::size_t i = 0; i < v->size(); ++i) {
        children.push_back({&(*v)[i], path + "[" + std::to_string(i) + "]"});
      }
    }
    // Depth first, in document order: a field's descendants come before its next sibling.
    stack.insert(stack.end(), children.rbegin(), children.rend());
  }
  auto rank = [&](const std::string& p) {
    auto it = position.find(p);
    return it == position.end() ? position.size() : it->second;
  };
  std::stable_sort(paths.begin(), paths.end(),
                   [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
}

// Applies the schema: drop unknown fields (reporting them per the field validation mode); for
// custom resources also fill defaults and collect validation errors.
//
// Built-in kinds (schemas from devcluster/builtin_schemas) are only pruned, metadata included:
// upstream decodes them into Go structs, which drops unknown fields (strict decoding reports
// them) but neither defaults from nor validates against the OpenAPI schema. Their defaults and
// validation are the strategies' in builtin_types.cc. A value of the wrong JSON type (upstream:
// 400 `json: cannot unmarshal string into Go struct field ...`) is not checked.
std::optional<kube::ApiError> ApplySchema(const WriteContext& wc, json& obj, FieldErrorList& errs) {
  if (!wc.rt.schema) return std::nullopt;
  std::vector<std::string> pruned = wc.rt.schema->Prune(obj);
  // ObjectMeta is pruned for every kind, custom resources included, as upstream does.
  std::vector<std::string> meta = PruneBuiltinMetadata(obj);
  pruned.insert(pruned.end(), meta.begin(), meta.end());
  std::sort(pruned.begin(), pruned.end());
  if (pruned.size() > 1 && !wc.json_body.empty()) SortByDocumentOrder(wc.json_body, pruned);
  if (!pruned.empty() && wc.field_validation != FieldValidation::kIgnore) {
    std::string joined;
    for (auto& p : pruned) {
      if (!p.empty() && p[0] == '.') p = p.substr(1);
      if (wc.field_validation == FieldValidation::kWarn && wc.warnings) {
        wc.warnings->push_back("unknown field \"" + p + "\"");
      }
      joined += (joined.empty() ? "" : ", ") + std::string("unknown field \"") + p + "\"";
    }
    if (wc.field_validation == FieldValidation::kStrict) {
      return kube::NewBadRequest(wc.rt.kind + " in version \"" + wc.rt.version +
                                 "\" cannot be handled as a " + wc.rt.kind +
                                 ": strict decoding error: " + joined);
    }
  }
  if (!wc.rt.is_custom()) return std::nullopt;
  wc.rt.schema->ApplyDefaults(obj);
  for (const FieldError& e : wc.rt.schema->Validate(obj)) {
    errs.Add(e.reason, e.field, e.message);
  }
  return std::nullopt;
}

kube::ApiError InvalidError(const ResourceType& rt, const json& obj, const FieldErrorList& errs) {
  return kube::NewInvalid(rt.group, rt.kind, obj["metadata"].value("name", ""), errs.causes);
}

// Everything but metadata and status: a change here bumps metadata.generation.
json SpecPart(const json& obj) {
  json copy = obj;
  copy.erase("metadata");
  copy.erase("status");
  copy.erase("apiVersion");
  copy.erase("kind");
  return copy;
}

std::vector<std::string> Finalizers(const json& obj) {
  std::vector<std::string> out;
  if (obj["metadata"].contains("finalizers") && obj["metadata"]["finalizers"].is_array()) {
    for (const json& f : obj["metadata"]["finalizers"]) {
      if (f.is_string()) out.push_back(f.get<std::string>());
    }
  }
  return out;
}

}  // namespace

std::optional<kube::ApiError> CheckTypeMeta(const ResourceType& rt, json& body) {
  std::string api_version = body.value("apiVersion", "");
  std::string kind = body.value("kind", "");
  if (kind.empty() && api_version.empty()) {
    // Like the apiserver's decoder, default the type from the endpoint.
    body["apiVersion"] = rt.api_version();
    body["kind"] = rt.kind;
    return std::nullopt;
  }
  if (kind.empty())
    return kube::NewBadRequest("Object 'Kind' is missing in '" + body.dump().substr(0, 200) + "'");
  if (api_version.empty()) {
    return kube::NewBadRequest("Object 'apiVersion' is missing in '" + body.dump().substr(0, 200) +
                               "'");
  }
  // Another served version of the same group and kind is accepted (stored as this one).
  std::string group = api_version.find('/') == std::string::npos
                          ? ""
                          : api_version.substr(0, api_version.find('/'));
  if (group != rt.group) {
    return kube::NewBadRequest("the API version in the data (" + api_version +
                               ") does not match the expected API version (" + rt.api_version() +
                               ")");
  }
  if (kind != rt.kind) {
    return kube::NewBadRequest("the kind in the data (" + kind +
                               ") does not match the expected kind (" + rt.kind + ")");
  }
  body["apiVersion"] = rt.api_version();
  return std::nullopt;
}

namespace {

std::variant<kube::ApiError, json> PrepareCreateImpl(const WriteContext& wc, json obj);
std::variant<kube::ApiError, Mutation> PrepareUpdateImpl(const WriteContext& wc,
                                                         const StoredObject& current, json incoming,
                                                         const std::string& subresource);

// What kube-apiserver's decoder answers for a value of the wrong JSON type.
kube::ApiError WrongType(const ResourceType& rt, const std::string& what) {
  return kube::NewBadRequest(rt.kind + " in version \"" + rt.version +
                             "\" cannot be handled as a " + rt.kind + ": " + what);
}

}  // namespace

std::optional<kube::ApiError> CheckMetaTypes(const ResourceType& rt, json& obj) {
  for (const char* f : {"apiVersion", "kind"}) {
    if (obj.contains(f) && !obj[f].is_string()) {
      return WrongType(rt, std::string("json: cannot unmarshal ") + obj[f].type_name() +
                               " into Go struct field TypeMeta." + f + " of type string");
    }
  }
  if (!obj.contains("metadata") || obj["metadata"].is_null()) obj["metadata"] = json::object();
  json& meta = obj["metadata"];
  if (!meta.is_object()) {
    return WrongType(rt, std::string("json: cannot unmarshal ") + meta.type_name() +
                             " into Go struct field .metadata of type v1.ObjectMeta");
  }
  // null means absent, as for the apiserver's decoder.
  for (auto it = meta.begin(); it != meta.end();) {
    it = it->is_null() ? meta.erase(it) : std::next(it);
  }
  for (const char* f : {"name", "generateName", "namespace", "uid", "resourceVersion",
                        "creationTimestamp", "deletionTimestamp", "selfLink"}) {
    if (meta.contains(f) && !meta[f].is_string()) {
      return WrongType(rt, std::string("json: cannot unmarshal ") + meta[f].type_name() +
                               " into Go struct field ObjectMeta.metadata." + f +
                               " of type string");
    }
  }
  for (const char* f : {"generation", "deletionGracePeriodSeconds"}) {
    if (meta.contains(f) && !meta[f].is_number_integer()) {
      return WrongType(rt, std::string("json: cannot unmarshal ") + meta[f].type_name() +
                               " into Go struct field ObjectMeta.metadata." + f + " of type int64");
    }
  }
  for (const char* f : {"labels", "annotations"}) {
    if (!meta.contains(f)) continue;
    bool ok = meta[f].is_object();
    if (ok) {
      for (auto& [k, v] : meta[f].items()) ok = ok && v.is_string();
    }
    if (!ok) {
      return WrongType(
          rt, std::string("json: cannot unmarshal into Go struct field ObjectMeta.metadata.") + f +
                  " of type map[string]string");
    }
  }
  if (meta.contains("finalizers")) {
    bool ok = meta["finalizers"].is_array();
    if (ok) {
      for (const json& v : meta["finalizers"]) ok = ok && v.is_string();
    }
    if (!ok) {
      return WrongType(rt,
                       "json: cannot unmarshal into Go struct field "
                       "ObjectMeta.metadata.finalizers of type []string");
    }
  }
  return std::nullopt;
}

std::variant<kube::ApiError, json> PrepareCreate(const WriteContext& wc, json obj) {
  if (auto e = CheckMetaTypes(wc.rt, obj)) return *e;
  try {
    return PrepareCreateImpl(wc, std::move(obj));
  } catch (const json::exception& e) {
    // A field of the wrong JSON type deep in the object (the strategies read typed fields).
    return WrongType(wc.rt, std::string("a field has the wrong type (") + e.what() + ")");
  }
}

std::variant<kube::ApiError, Mutation> PrepareUpdate(const WriteContext& wc,
                                                     const StoredObject& current, json incoming,
                                                     const std::string& subresource) {
  if (auto e = CheckMetaTypes(wc.rt, incoming)) return *e;
  try {
    return PrepareUpdateImpl(wc, current, std::move(incoming), subresource);
  } catch (const json::exception& e) {
    return WrongType(wc.rt, std::string("a field has the wrong type (") + e.what() + ")");
  }
}

namespace {

std::variant<kube::ApiError, json> PrepareCreateImpl(const WriteContext& wc, json obj) {
  json& meta = obj["metadata"];
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = FormatRfc3339(wc.now);
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta.erase("selfLink");
  meta.erase("managedFields");
  if (wc.rt.has_generation) {
    meta["generation"] = 1;
  } else {
    meta.erase("generation");
  }
  // With a status subresource, status is not set through the main endpoint, creation included.
  if (wc.rt.has_status && wc.rt.is_custom()) obj.erase("status");
  FieldErrorList errs;
  if (auto e = ApplySchema(wc, obj, errs)) return *e;
  if (wc.rt.strategy.prepare_for_create) wc.rt.strategy.prepare_for_create(obj);
  ValidateObjectMeta(obj["metadata"], wc.rt.namespaced, wc.rt.name_is_dns_label, errs);
  if (wc.rt.strategy.validate) wc.rt.strategy.validate(obj, errs);
  if (!errs.empty()) return InvalidError(wc.rt, obj, errs);
  return obj;
}

std::variant<kube::ApiError, Mutation> PrepareUpdateImpl(const WriteContext& wc,
                                                         const StoredObject& current, json incoming,
                                                         const std::string& subresource) {
  const json old = current.Parse();
  const ResourceType& rt = wc.rt;
  if (!incoming.contains("metadata") || !incoming["metadata"].is_object()) {
    incoming["metadata"] = json::object();
  }
  json& meta = incoming["metadata"];
  // Optimistic concurrency: a resourceVersion in the request must be the stored one.
  if (meta.contains("resourceVersion") && meta["resourceVersion"].is_string() &&
      !meta["resourceVersion"].get<std::string>().empty() &&
      meta["resourceVersion"].get<std::string>() != std::to_string(current.rv)) {
    return kube::NewResourceVersionConflict(rt.group_resource(), current.name);
  }
  if (meta.contains("uid") && meta["uid"].is_string() && !meta["uid"].get<std::string>().empty() &&
      meta["uid"] != old["metadata"]["uid"]) {
    return kube::NewConflict(
        rt.group_resource(), current.name,
        "Precondition failed: UID in precondition: " + meta["uid"].get<std::string>() +
            ", UID in object meta: " + old["metadata"].value("uid", ""));
  }
  json obj;
  if (subresource == "status") {
    // The status endpoint changes status and nothing else.
    obj = old;
    if (incoming.contains("status")) {
      obj["status"] = incoming["status"];
    } else {
      obj.erase("status");
    }
  } else {
    obj = std::move(incoming);
    // Server-managed metadata is kept from the stored object.
    json& m = obj["metadata"];
    for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp",
                          "deletionGracePeriodSeconds", "generation", "namespace", "name"}) {
      if (old["metadata"].contains(f)) {
        m[f] = old["metadata"][f];
      } else {
        m.erase(f);
      }
    }
    m.erase("selfLink");
    // Field ownership is the server's record: kept from the stored object unless the writer
    // sends its own (as server-side apply does, and as upstream lets clients reset it).
    if (!m.contains("managedFields") && old["metadata"].contains("managedFields")) {
      m["managedFields"] = old["metadata"]["managedFields"];
    }
    if (rt.has_status) {
      if (old.contains("status")) {
        obj["status"] = old["status"];
      } else {
        obj.erase("status");
      }
    }
  }
  obj["apiVersion"] = rt.api_version();
  obj["kind"] = rt.kind;

  FieldErrorList errs;
  if (auto e = ApplySchema(wc, obj, errs)) return *e;
  if (subresource != "status" && rt.strategy.prepare_for_update)
    rt.strategy.prepare_for_update(obj, old);

  // While an object is being deleted, finalizers may only be removed.
  if (old["metadata"].contains("deletionTimestamp")) {
    std::vector<std::string> before = Finalizers(old), after = Finalizers(obj);
    std::vector<std::string> added;
    for (const auto& f : after) {
      if (std::find(before.begin(), before.end(), f) == before.end()) added.push_back(f);
    }
    if (!added.empty()) {
      std::string list;
      for (const auto& f : added) list += (list.empty() ? "" : ", ") + ("\"" + f + "\"");
      errs.Forbidden("metadata.finalizers",
                     "no new finalizers can be added if the object is being deleted, found new "
                     "finalizers []string{" +
                         list + "}");
    }
  }
  ValidateObjectMeta(obj["metadata"], rt.namespaced, rt.name_is_dns_label, errs);
  if (rt.strategy.validate) rt.strategy.validate(obj, errs);
  if (rt.strategy.validate_update) rt.strategy.validate_update(obj, old, errs);
  if (!errs.empty()) return InvalidError(rt, obj, errs);

  if (rt.has_generation && SpecPart(obj) != SpecPart(old)) {
    obj["metadata"]["generation"] = old["metadata"].value("generation", 1) + 1;
  }
  Mutation m;
  m.selectable_fields = &rt.selectable_fields;
  const bool namespace_pending = rt.storage_key() == "/namespaces" &&
                                 obj.contains("/spec/finalizers"_json_pointer) &&
                                 !obj.at("/spec/finalizers"_json_pointer).empty();
  if (obj["metadata"].contains("deletionTimestamp") && Finalizers(obj).empty() &&
      !namespace_pending) {
    m.kind = Mutation::Kind::kDelete;
    m.object = std::move(obj);  // the final state, carried by the DELETED event
    return m;
  }
  m.kind = Mutation::Kind::kPut;
  m.object = std::move(obj);
  return m;
}

}  // namespace

}  // namespace aidi::devcluster
