// Write verbs: create, update (PUT), patch (merge, JSON, strategic, apply), delete,
// deletecollection, pods/binding; and the CRD lifecycle that follows CRD writes.
#include <algorithm>

#include "base/log.h"
#include "devcluster/api_server.h"
#include "devcluster/api_server_internal.h"
#include "devcluster/crd_types.h"
#include "devcluster/managed_fields.h"
#include "devcluster/object_writer.h"
#include "kube/core/patch.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

const char* kCrdKey = "apiextensions.k8s.io/customresourcedefinitions";

std::variant<kube::ApiError, FieldValidation> ParseFieldValidation(const ApiServer::Ctx& c) {
  std::string v = c.req.Query("fieldValidation").value_or("");
  if (v.empty() || v == "Warn") return FieldValidation::kWarn;
  if (v == "Strict") return FieldValidation::kStrict;
  if (v == "Ignore") return FieldValidation::kIgnore;
  return kube::NewBadRequest("fieldValidation: Unsupported value: \"" + v +
                             "\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
}

// Who is writing, for managedFields: ?fieldManager=, else the user agent's product name, as
// the apiserver derives it ("kubectl", "OpenAPI-Generator").
ManagerWrite Writer(const ApiServer::Ctx& c, const ResourceType& rt, const std::string& operation) {
  std::string manager = c.req.Query("fieldManager").value_or("");
  if (manager.empty()) {
    std::string ua = c.req.Header("user-agent");
    manager = ua.substr(0, ua.find('/'));
    if (manager.empty()) manager = "unknown";
  }
  return {manager, operation, rt.api_version(), FormatRfc3339(c.now)};
}

// Records field ownership for a non-apply write that produced `m` from `old` (null on create).
void RecordWrite(const ApiServer::Ctx& c, const ResourceType& rt, const json& old,
                 std::variant<kube::ApiError, Mutation>& m) {
  auto* mutation = std::get_if<Mutation>(&m);
  if (!mutation || mutation->kind != Mutation::Kind::kPut) return;
  RecordUpdate(old, mutation->object, Writer(c, rt, "Update"));
}

kube::ApiError ApplyConflictError(const ResourceType& rt, const std::string& name,
                                  const std::vector<ApplyConflict>& conflicts) {
  kube::ApiError e = kube::NewConflict(rt.group_resource(), name, "");
  e.body["message"] = ConflictMessage(conflicts);
  json causes = json::array();
  for (const auto& c : conflicts) {
    causes.push_back({{"reason", "FieldManagerConflict"},
                      {"message", "conflict with \"" + c.manager + "\" using " + c.api_version},
                      {"field", c.path}});
  }
  e.body["details"]["causes"] = causes;
  return e;
}

// Whether the request body was JSON (not YAML or protobuf).
bool IsJsonBody(const ApiServer::Ctx& c) {
  std::string type = ParseMediaType(c.req.Header("content-type")).type;
  return type == "application/json" || type.empty();
}

bool IsDryRun(const ApiServer::Ctx& c) {
  auto [lo, hi] = c.req.query.equal_range("dryRun");
  for (auto it = lo; it != hi; ++it) {
    if (it->second == "All") return true;
  }
  return false;
}

kube::ApiError TerminatingNamespace(const ResourceType& rt, const std::string& ns,
                                    const std::string& name) {
  kube::ApiError e = kube::NewForbidden(
      rt.group_resource(), name,
      "unable to create new content in namespace " + ns + " because it is being terminated");
  e.body["details"]["causes"] =
      json::array({{{"reason", "NamespaceTerminating"},
                    {"message", "namespace " + ns + " is being terminated"},
                    {"field", "metadata.namespace"}}});
  return e;
}

json SuccessStatus(const ResourceType& rt, const ObjectPtr& obj) {
  json details = {{"name", obj->name}, {"kind", rt.plural}, {"uid", obj->uid}};
  if (!rt.group.empty()) details["group"] = rt.group;
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Success"},
          {"details", details}};
}

struct DeleteOptions {
  std::string propagation;  // Background (default), Foreground, Orphan
  std::optional<std::string> uid;
  std::optional<std::string> rv;
  std::optional<bool> orphan_dependents;
  bool dry_run = false;
};

std::variant<kube::ApiError, DeleteOptions> ParseDeleteOptions(const ApiServer::Ctx& c) {
  DeleteOptions o;
  o.dry_run = IsDryRun(c);
  json body = json::object();
  if (!c.req.body.empty()) {
    body = json::parse(c.req.body, nullptr, false);
    if (!body.is_object())
      return kube::NewBadRequest("the DeleteOptions body is not a JSON object");
  }
  try {
    o.propagation = body.value("propagationPolicy", c.req.Query("propagationPolicy").value_or(""));
    if (body.contains("orphanDependents") && body["orphanDependents"].is_boolean()) {
      o.orphan_dependents = body["orphanDependents"].get<bool>();
    } else if (auto od = c.req.Query("orphanDependents")) {
      o.orphan_dependents = QueryBool(od);
    }
    if (body.contains("preconditions") && body["preconditions"].is_object()) {
      const json& p = body["preconditions"];
      if (p.contains("uid") && p["uid"].is_string()) o.uid = p["uid"].get<std::string>();
      if (p.contains("resourceVersion") && p["resourceVersion"].is_string()) {
        o.rv = p["resourceVersion"].get<std::string>();
      }
    }
    if (body.contains("dryRun") && body["dryRun"].is_array()) {
      for (const json& d : body["dryRun"]) o.dry_run |= d == "All";
    }
  } catch (const std::exception& e) {
    return kube::NewBadRequest(std::string("invalid DeleteOptions: ") + e.what());
  }
  if (o.orphan_dependents && !o.propagation.empty()) {
    return kube::NewInvalid("meta.k8s.io", "DeleteOptions", "",
                            {{"FieldValueInvalid",
                              "Invalid value: \"" + o.propagation +
                                  "\": orphanDependents and deletionPropagation cannot be both set",
                              "propagationPolicy"}});
  }
  if (o.orphan_dependents) o.propagation = *o.orphan_dependents ? "Orphan" : "Background";
  if (!o.propagation.empty() && o.propagation != "Background" && o.propagation != "Foreground" &&
      o.propagation != "Orphan") {
    return kube::NewInvalid(
        "meta.k8s.io", "DeleteOptions", "",
        {{"FieldValueNotSupported",
          "Unsupported value: \"" + o.propagation +
              "\": supported values: \"Foreground\", \"Background\", \"Orphan\"",
          "propagationPolicy"}});
  }
  return o;
}

// The request body as an object of type `rt`: decoded, apiVersion/kind checked, metadata an
// object.
std::variant<kube::ApiError, json> DecodeObject(const ApiServer::Ctx& c, const ResourceType& rt) {
  auto decoded = DecodeBody(c);
  if (auto* e = std::get_if<kube::ApiError>(&decoded)) return *e;
  json body = std::get<json>(std::move(decoded));
  if (auto e = CheckMetaTypes(rt, body)) return *e;
  if (auto e = CheckTypeMeta(rt, body)) return *e;
  if (!body.contains("metadata") || !body["metadata"].is_object()) {
    body["metadata"] = json::object();
  }
  return body;
}

}  // namespace

void ApiServer::HandleCreate(Ctx& c) {
  auto fv = ParseFieldValidation(c);
  if (auto* e = std::get_if<kube::ApiError>(&fv)) return SendError(c, *e);
  const ResourceType& rt = *c.rt;
  auto decoded = DecodeObject(c, rt);
  if (auto* e = std::get_if<kube::ApiError>(&decoded)) return SendError(c, *e);
  json body = std::get<json>(std::move(decoded));
  json& meta = body["metadata"];
  if (rt.namespaced) {
    std::string body_ns = meta.contains("namespace") && meta["namespace"].is_string()
                              ? meta["namespace"].get<std::string>()
                              : "";
    if (!body_ns.empty() && body_ns != c.info.ns) {
      return SendError(c, kube::NewBadRequest("the namespace of the provided object does not match "
                                              "the namespace sent on the request"));
    }
    meta["namespace"] = c.info.ns;
  } else {
    meta.erase("namespace");
  }
  if (meta.contains("resourceVersion") && meta["resourceVersion"].is_string() &&
      !meta["resourceVersion"].get<std::string>().empty()) {
    return SendError(
        c, kube::NewBadRequest("resourceVersion should not be set on objects to be created"));
  }
  std::string name =
      meta.contains("name") && meta["name"].is_string() ? meta["name"].get<std::string>() : "";
  if (name.empty() && meta.contains("generateName") && meta["generateName"].is_string() &&
      !meta["generateName"].get<std::string>().empty()) {
    name = GenerateName(meta["generateName"].get<std::string>());
    meta["name"] = name;
  }
  if (rt.namespaced) {
    ObjectPtr ns = store_.Get("/namespaces", "", c.info.ns);
    if (!ns) return SendError(c, kube::NewNotFound({"", "namespaces"}, c.info.ns));
    if (ns->json.find("\"deletionTimestamp\"") != std::string::npos) {
      return SendError(c, TerminatingNamespace(rt, c.info.ns, name));
    }
  }
  WriteContext wc{rt, c.now, std::get<FieldValidation>(fv), &c.warnings};
  if (IsJsonBody(c)) wc.json_body = c.req.body;
  auto prepared = PrepareCreate(wc, std::move(body));
  if (auto* e = std::get_if<kube::ApiError>(&prepared)) return SendError(c, *e);
  json obj = std::get<json>(std::move(prepared));
  RecordUpdate(nullptr, obj, Writer(c, rt, "Update"));
  if (IsDryRun(c)) {
    if (store_.Get(rt.storage_key(), c.info.ns, name)) {
      return SendError(c, kube::NewAlreadyExists(rt.group_resource(), name));
    }
    return SendJson(c, 201, obj);
  }
  auto result =
      store_.Mutate(rt.storage_key(), rt.namespaced ? c.info.ns : "", name,
                    [&](const ObjectPtr& current) -> std::variant<kube::ApiError, Mutation> {
                      if (current) return kube::NewAlreadyExists(rt.group_resource(), name);
                      Mutation m;
                      m.kind = Mutation::Kind::kPut;
                      m.object = obj;
                      m.selectable_fields = &rt.selectable_fields;
                      return m;
                    });
  if (auto* e = std::get_if<kube::ApiError>(&result)) return SendError(c, *e);
  ObjectPtr stored = std::get<ObjectPtr>(result);
  if (rt.storage_key() == kCrdKey) OnCrdWritten(stored);
  if (rt.storage_key() == "/namespaces") EnsureDefaultNamespaces();
  SendRaw(c, 201, "application/json", stored->json);
}

void ApiServer::HandleUpdate(Ctx& c) {
  auto fv = ParseFieldValidation(c);
  if (auto* e = std::get_if<kube::ApiError>(&fv)) return SendError(c, *e);
  const ResourceType& rt = *c.rt;
  auto decoded = DecodeObject(c, rt);
  if (auto* e = std::get_if<kube::ApiError>(&decoded)) return SendError(c, *e);
  json body = std::get<json>(std::move(decoded));
  std::string body_name = body["metadata"].value("name", "");
  if (body_name != c.info.name) {
    return SendError(
        c, kube::NewBadRequest("the name of the object (" + body_name +
                               ") does not match the name on the URL (" + c.info.name + ")"));
  }
  std::string body_ns = body["metadata"].value("namespace", "");
  if (rt.namespaced && !body_ns.empty() && body_ns != c.info.ns) {
    return SendError(c, kube::NewBadRequest("the namespace of the provided object does not match "
                                            "the namespace sent on the request"));
  }
  WriteContext wc{rt, c.now, std::get<FieldValidation>(fv), &c.warnings};
  if (IsJsonBody(c)) wc.json_body = c.req.body;
  const bool dry_run = IsDryRun(c);
  json dry_result;
  auto result =
      store_.Mutate(rt.storage_key(), c.info.ns, c.info.name,
                    [&](const ObjectPtr& current) -> std::variant<kube::ApiError, Mutation> {
                      if (!current) return kube::NewNotFound(rt.group_resource(), c.info.name);
                      auto m = PrepareUpdate(wc, *current, body, c.info.subresource);
                      RecordWrite(c, rt, current->Parse(), m);
                      if (dry_run && std::holds_alternative<Mutation>(m)) {
                        dry_result = std::get<Mutation>(m).object;
                        return Mutation{};
                      }
                      return m;
                    });
  if (auto* e = std::get_if<kube::ApiError>(&result)) return SendError(c, *e);
  if (dry_run)
    return SendJson(c, 200,
                    dry_result.is_null() ? std::get<ObjectPtr>(result)->Parse() : dry_result);
  ObjectPtr stored = std::get<ObjectPtr>(result);
  if (rt.storage_key() == kCrdKey && c.info.subresource.empty()) OnCrdWritten(stored);
  SendRaw(c, 200, "application/json", stored->json);
}

void ApiServer::HandlePatch(Ctx& c) {
  auto fv = ParseFieldValidation(c);
  if (auto* e = std::get_if<kube::ApiError>(&fv)) return SendError(c, *e);
  const ResourceType& rt = *c.rt;
  MediaType mt = ParseMediaType(c.req.Header("content-type"));
  const std::string& type = mt.type;
  const bool is_apply = type == "application/apply-patch+yaml";
  const bool is_smp = type == "application/strategic-merge-patch+json";
  if (type != "application/json-patch+json" && type != "application/merge-patch+json" && !is_smp &&
      !is_apply) {
    return SendError(
        c, kube::NewUnsupportedMediaType(
               "the body of the request was in an unknown format - accepted media types "
               "include: application/json-patch+json, application/merge-patch+json, "
               "application/apply-patch+yaml" +
               std::string(rt.is_custom() ? "" : ", application/strategic-merge-patch+json")));
  }
  if (is_smp && rt.is_custom()) {
    return SendError(c,
                     kube::NewUnsupportedMediaType(
                         "the body of the request was in an unknown format - accepted media types "
                         "include: application/json-patch+json, application/merge-patch+json, "
                         "application/apply-patch+yaml"));
  }
  json patch;
  if (is_apply) {
    auto parsed = YamlToJson(c.req.body);
    if (auto* err = std::get_if<std::string>(&parsed)) {
      return SendError(c, kube::NewBadRequest("error decoding YAML: " + *err));
    }
    patch = std::get<json>(std::move(parsed));
    if (!patch.is_object())
      return SendError(c, kube::NewBadRequest("apply patch must be an object"));
    if (c.req.Query("fieldManager").value_or("").empty()) {
      return SendError(
          c, kube::NewInvalid("meta.k8s.io", "PatchOptions", "",
                              {{"FieldValueRequired", "Required value: is required for apply patch",
                                "fieldManager"}}));
    }
    if (auto e = CheckMetaTypes(rt, patch)) return SendError(c, *e);
    if (auto e = CheckTypeMeta(rt, patch)) return SendError(c, *e);
  } else {
    patch = json::parse(c.req.body, nullptr, false);
    if (patch.is_discarded()) {
      return SendError(c, kube::NewBadRequest("error decoding patch: invalid JSON"));
    }
  }
  WriteContext wc{rt, c.now, std::get<FieldValidation>(fv), &c.warnings};
  const bool dry_run = IsDryRun(c);
  json dry_result;
  bool created = false;
  // Read before taking the store's write lock in Mutate (reads inside it would deadlock).
  const bool namespace_exists =
      !rt.namespaced || store_.Get("/namespaces", "", c.info.ns) != nullptr;
  auto result = store_.Mutate(
      rt.storage_key(), c.info.ns, c.info.name,
      [&](const ObjectPtr& current) -> std::variant<kube::ApiError, Mutation> {
        if (!current) {
          if (!is_apply || !c.info.subresource.empty()) {
            return kube::NewNotFound(rt.group_resource(), c.info.name);
          }
          // Server-side apply creates what does not exist yet.
          if (!namespace_exists) return kube::NewNotFound({"", "namespaces"}, c.info.ns);
          json obj;
          (void)Apply(nullptr, patch, Writer(c, rt, "Apply"), true, obj);
          json owners = obj["metadata"].value("managedFields", json());
          obj["metadata"]["name"] = c.info.name;
          if (rt.namespaced) obj["metadata"]["namespace"] = c.info.ns;
          auto prepared = PrepareCreate(wc, std::move(obj));
          if (auto* e = std::get_if<kube::ApiError>(&prepared)) return *e;
          created = true;
          Mutation m;
          m.kind = Mutation::Kind::kPut;
          m.object = std::get<json>(std::move(prepared));
          if (!owners.is_null()) m.object["metadata"]["managedFields"] = owners;
          m.selectable_fields = &rt.selectable_fields;
          if (dry_run) {
            dry_result = m.object;
            return Mutation{};
          }
          return m;
        }
        json original = current->Parse();
        StatusOr<json> patched = Status::Internal("unreachable");
        if (is_apply) {
          json merged;
          auto conflicts = Apply(original, patch, Writer(c, rt, "Apply"),
                                 QueryBool(c.req.Query("force")), merged);
          if (!conflicts.empty()) return ApplyConflictError(rt, c.info.name, conflicts);
          patched = std::move(merged);
        } else if (type == "application/json-patch+json") {
          patched = kube::ApplyJsonPatch(original, patch);
        } else if (type == "application/merge-patch+json") {
          patched = kube::ApplyMergePatch(original, patch);
        } else {
          patched = kube::ApplyStrategicMergePatch(original, patch, rt.kind);
        }
        if (!patched.ok()) {
          if (patched.status().code() == StatusCode::kInvalid) {
            return kube::NewInvalid(rt.group, rt.kind, c.info.name,
                                    {{"FieldValueInvalid", patched.status().message(), ""}});
          }
          return kube::NewBadRequest(patched.status().message());
        }
        if (!patched->is_object()) {
          return kube::NewBadRequest("the patch produced a " + std::string(patched->type_name()) +
                                     ", not an object");
        }
        if (auto e = CheckMetaTypes(rt, *patched)) return *e;
        json& pm = (*patched)["metadata"];
        if (!pm.is_object()) pm = json::object();
        // Name and namespace come from the URL, whatever the patch said.
        if (pm.value("name", c.info.name) != c.info.name) {
          return kube::NewBadRequest("the name of the object (" + pm.value("name", "") +
                                     ") does not match the name on the URL (" + c.info.name + ")");
        }
        auto m = PrepareUpdate(wc, *current, std::move(patched).value(), c.info.subresource);
        if (!is_apply) RecordWrite(c, rt, original, m);
        if (dry_run && std::holds_alternative<Mutation>(m)) {
          dry_result = std::get<Mutation>(m).object;
          return Mutation{};
        }
        return m;
      });
  if (auto* e = std::get_if<kube::ApiError>(&result)) return SendError(c, *e);
  if (dry_run) {
    return SendJson(c, created ? 201 : 200,
                    dry_result.is_null() ? std::get<ObjectPtr>(result)->Parse() : dry_result);
  }
  ObjectPtr stored = std::get<ObjectPtr>(result);
  if (rt.storage_key() == kCrdKey && c.info.subresource.empty()) OnCrdWritten(stored);
  SendRaw(c, created ? 201 : 200, "application/json", stored->json);
}

std::variant<kube::ApiError, ObjectPtr> ApiServer::DeleteObject(const ResourceTypePtr& rt,
                                                                const std::string& ns,
                                                                const std::string& name,
                                                                const std::string& propagation,
                                                                bool* deleted_now) {
  const std::string now = FormatRfc3339(clock_.Now());
  *deleted_now = false;
  auto result = store_.Mutate(
      rt->storage_key(), ns, name,
      [&](const ObjectPtr& current) -> std::variant<kube::ApiError, Mutation> {
        if (!current) return kube::NewNotFound(rt->group_resource(), name);
        json obj = current->Parse();
        json& meta = obj["metadata"];
        Mutation m;
        m.selectable_fields = &rt->selectable_fields;
        if (meta.contains("deletionTimestamp")) {
          return Mutation{};  // already being deleted: nothing more to do
        }
        auto add_finalizer = [&](const std::string& f) {
          if (!meta.contains("finalizers") || !meta["finalizers"].is_array())
            meta["finalizers"] = json::array();
          for (const json& x : meta["finalizers"]) {
            if (x == f) return;
          }
          meta["finalizers"].push_back(f);
        };
        if (propagation == "Orphan") add_finalizer("orphan");
        if (propagation == "Foreground") add_finalizer("foregroundDeletion");
        bool has_finalizers = meta.contains("finalizers") && meta["finalizers"].is_array() &&
                              !meta["finalizers"].empty();
        bool is_namespace = rt->storage_key() == "/namespaces";
        if (is_namespace) {
          // Namespaces empty themselves before they go (the namespace controller's job).
          obj["status"]["phase"] = "Terminating";
          has_finalizers = true;
        }
        if (has_finalizers) {
          meta["deletionTimestamp"] = now;
          meta["deletionGracePeriodSeconds"] = 0;
          m.kind = Mutation::Kind::kPut;
          m.object = std::move(obj);
          return m;
        }
        m.kind = Mutation::Kind::kDelete;
        *deleted_now = true;
        return m;
      });
  if (std::holds_alternative<ObjectPtr>(result)) GcNotify();
  return result;
}

void ApiServer::HandleDelete(Ctx& c) {
  auto opts_or = ParseDeleteOptions(c);
  if (auto* e = std::get_if<kube::ApiError>(&opts_or)) return SendError(c, *e);
  const DeleteOptions& opts = std::get<DeleteOptions>(opts_or);
  const ResourceTypePtr rt = c.rt;
  if (rt->storage_key() == "/namespaces" &&
      (c.info.name == "default" || c.info.name == "kube-system" || c.info.name == "kube-public")) {
    return SendError(c, kube::NewForbidden(rt->group_resource(), c.info.name,
                                           "this namespace may not be deleted"));
  }
  ObjectPtr current = store_.Get(rt->storage_key(), c.info.ns, c.info.name);
  if (!current) return SendError(c, kube::NewNotFound(rt->group_resource(), c.info.name));
  if (opts.uid && *opts.uid != current->uid) {
    return SendError(c, kube::NewConflict(rt->group_resource(), c.info.name,
                                          "Precondition failed: UID in precondition: " + *opts.uid +
                                              ", UID in object meta: " + current->uid));
  }
  if (opts.rv && *opts.rv != std::to_string(current->rv)) {
    return SendError(
        c,
        kube::NewConflict(rt->group_resource(), c.info.name,
                          "Precondition failed: ResourceVersion in precondition: " + *opts.rv +
                              ", ResourceVersion in object meta: " + std::to_string(current->rv)));
  }
  if (opts.dry_run) return SendRaw(c, 200, "application/json", current->json);
  bool deleted_now = false;
  auto result = DeleteObject(rt, c.info.ns, c.info.name, opts.propagation, &deleted_now);
  if (auto* e = std::get_if<kube::ApiError>(&result)) return SendError(c, *e);
  ObjectPtr obj = std::get<ObjectPtr>(result);
  if (deleted_now && rt->storage_key() == kCrdKey) OnCrdDeleted(obj->Parse());
  if (!deleted_now) {
    int code = opts.orphan_dependents && !*opts.orphan_dependents ? 202 : 200;
    return SendRaw(c, code, "application/json", obj->json);
  }
  if (rt->return_deleted_object) return SendRaw(c, 200, "application/json", obj->json);
  SendJson(c, 200, SuccessStatus(*rt, obj));
}

void ApiServer::HandleDeleteCollection(Ctx& c) {
  auto opts_or = ParseDeleteOptions(c);
  if (auto* e = std::get_if<kube::ApiError>(&opts_or)) return SendError(c, *e);
  const DeleteOptions& opts = std::get<DeleteOptions>(opts_or);
  ObjectFilter filter;
  if (auto ls = c.req.Query("labelSelector"); ls && !ls->empty()) {
    auto parsed = kube::LabelSelector::Parse(*ls);
    if (!parsed.ok()) return SendError(c, kube::NewBadRequest(parsed.status().message()));
    filter.labels = *parsed;
  }
  if (auto fs = c.req.Query("fieldSelector"); fs && !fs->empty()) {
    auto parsed = kube::FieldSelector::Parse(*fs);
    if (!parsed.ok()) return SendError(c, kube::NewBadRequest(parsed.status().message()));
    filter.fields = *parsed;
  }
  auto listed = store_.List(c.rt->storage_key(), c.rt->namespaced ? c.info.ns : "");
  std::string items;
  for (const ObjectPtr& o : listed.items) {
    if (!filter.Matches(*o)) continue;
    if (opts.dry_run) {
      items += (items.empty() ? "" : ",") + o->json;
      continue;
    }
    bool deleted_now = false;
    auto r = DeleteObject(c.rt, o->ns, o->name, opts.propagation, &deleted_now);
    if (auto* obj = std::get_if<ObjectPtr>(&r)) {
      items += (items.empty() ? "" : ",") + (*obj)->json;
      if (deleted_now && c.rt->storage_key() == kCrdKey) OnCrdDeleted((*obj)->Parse());
    }
  }
  SendRaw(c, 200, "application/json",
          R"({"kind":")" + c.rt->list_kind + R"(","apiVersion":")" + c.rt->api_version() +
              R"(","metadata":{"resourceVersion":")" + std::to_string(store_.CurrentRv()) +
              R"("},"items":[)" + items + "]}");
}

void ApiServer::HandleBinding(Ctx& c) {
  auto decoded = DecodeBody(c);
  if (auto* e = std::get_if<kube::ApiError>(&decoded)) return SendError(c, *e);
  json binding = std::get<json>(std::move(decoded));
  std::string target = binding.contains("/target/name"_json_pointer) &&
                               binding.at("/target/name"_json_pointer).is_string()
                           ? binding.at("/target/name"_json_pointer).get<std::string>()
                           : "";
  if (target.empty()) {
    return SendError(c,
                     kube::NewInvalid("", "Binding", c.info.name,
                                      {{"FieldValueRequired", "Required value", "target.name"}}));
  }
  const ResourceType& rt = *c.rt;
  const std::string now = FormatRfc3339(c.now);
  auto result = store_.Mutate(
      rt.storage_key(), c.info.ns, c.info.name,
      [&](const ObjectPtr& current) -> std::variant<kube::ApiError, Mutation> {
        if (!current) return kube::NewNotFound(rt.group_resource(), c.info.name);
        json pod = current->Parse();
        kube::GroupResource binding_gr{"", "pods/binding"};
        if (pod["metadata"].contains("deletionTimestamp")) {
          return kube::NewConflict(
              binding_gr, c.info.name,
              "pod " + c.info.name + " is being deleted, cannot be assigned to a host");
        }
        std::string bound = pod["spec"].value("nodeName", "");
        if (!bound.empty()) {
          return kube::NewConflict(
              binding_gr, c.info.name,
              "pod " + c.info.name + " is already assigned to node \"" + bound + "\"");
        }
        pod["spec"]["nodeName"] = target;
        if (binding.contains("/metadata/annotations"_json_pointer) &&
            binding.at("/metadata/annotations"_json_pointer).is_object()) {
          for (auto& [k, v] : binding.at("/metadata/annotations"_json_pointer).items()) {
            pod["metadata"]["annotations"][k] = v;
          }
        }
        json& conds = pod["status"]["conditions"];
        if (!conds.is_array()) conds = json::array();
        conds.erase(
            std::remove_if(conds.begin(), conds.end(),
                           [](const json& x) { return x.value("type", "") == "PodScheduled"; }),
            conds.end());
        conds.push_back({{"type", "PodScheduled"},
                         {"status", "True"},
                         {"lastProbeTime", nullptr},
                         {"lastTransitionTime", now}});
        Mutation m;
        m.kind = Mutation::Kind::kPut;
        m.object = std::move(pod);
        m.selectable_fields = &rt.selectable_fields;
        return m;
      });
  if (auto* e = std::get_if<kube::ApiError>(&result)) return SendError(c, *e);
  SendJson(c, 201,
           {{"kind", "Status"},
            {"apiVersion", "v1"},
            {"metadata", json::object()},
            {"status", "Success"},
            {"code", 201}});
}

std::variant<kube::ApiError, ObjectPtr> ApiServer::ModifyObject(
    const ResourceTypePtr& rt, const std::string& ns, const std::string& name,
    const std::function<bool(json&)>& edit) {
  return store_.Mutate(rt->storage_key(), ns, name,
                       [&](const ObjectPtr& current) -> std::variant<kube::ApiError, Mutation> {
                         if (!current) return kube::NewNotFound(rt->group_resource(), name);
                         json obj = current->Parse();
                         if (!edit(obj)) return Mutation{};
                         Mutation m;
                         m.selectable_fields = &rt->selectable_fields;
                         const json& meta = obj["metadata"];
                         bool no_finalizers =
                             !meta.contains("finalizers") || meta["finalizers"].empty();
                         if (meta.contains("deletionTimestamp") && no_finalizers &&
                             rt->storage_key() != "/namespaces") {
                           m.kind = Mutation::Kind::kDelete;
                           m.object = std::move(obj);
                           return m;
                         }
                         m.kind = Mutation::Kind::kPut;
                         m.object = std::move(obj);
                         return m;
                       });
}

void ApiServer::OnCrdWritten(const ObjectPtr& crd_obj) {
  json crd = crd_obj->Parse();
  if (crd["metadata"].contains("deletionTimestamp")) return;
  auto types = ResourceTypesForCrd(crd);
  if (!types.ok()) {
    log::Warn("CRD not served", {{"crd", crd_obj->name}, {"error", types.status().message()}});
    return;
  }
  registry_.ReplaceCrd(crd_obj->name, *types);
  log::Info("serving custom resource",
            {{"crd", crd_obj->name}, {"versions", static_cast<int>(types->size())}});
  const std::string now = FormatRfc3339(clock_.Now());
  auto crd_type = registry_.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  (void)ModifyObject(crd_type, "", crd_obj->name, [&](json& obj) {
    json status = EstablishedCrdStatus(obj, now);
    if (obj.value("status", json::object()) == status) return false;
    obj["status"] = status;
    return true;
  });
}

void ApiServer::OnCrdDeleted(const json& crd) {
  std::string name = crd["metadata"].value("name", "");
  std::string storage_key =
      crd["spec"].value("group", "") + "/" + crd["spec"]["names"].value("plural", "");
  registry_.RemoveCrd(name);
  // Instances go with their definition.
  for (const ObjectPtr& o : store_.List(storage_key, "").items) {
    (void)store_.Mutate(storage_key, o->ns, o->name,
                        [](const ObjectPtr& cur) -> std::variant<kube::ApiError, Mutation> {
                          if (!cur) return Mutation{};
                          Mutation m;
                          m.kind = Mutation::Kind::kDelete;
                          return m;
                        });
  }
  log::Info("stopped serving custom resource", {{"crd", name}});
}

}  // namespace aidi::devcluster

namespace aidi::devcluster {
namespace {

json::json_pointer PointerFor(const std::string& json_path) {
  std::string p = json_path;
  if (!p.empty() && p[0] == '.') p = p.substr(1);
  std::replace(p.begin(), p.end(), '.', '/');
  return json::json_pointer("/" + p);
}

// The autoscaling/v1 Scale view of an object with a scale subresource.
json ScaleOf(const ResourceType& rt, const json& obj) {
  json scale = {{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"}};
  json meta = json::object();
  for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (obj["metadata"].contains(f)) meta[f] = obj["metadata"][f];
  }
  scale["metadata"] = meta;
  auto spec_ptr = PointerFor(rt.spec_replicas_path);
  scale["spec"] = {{"replicas", obj.contains(spec_ptr) ? obj.at(spec_ptr) : json(0)}};
  json status = {{"replicas", 0}};
  if (!rt.status_replicas_path.empty() && obj.contains(PointerFor(rt.status_replicas_path))) {
    status["replicas"] = obj.at(PointerFor(rt.status_replicas_path));
  }
  if (rt.kind == "Deployment" && obj.contains("/spec/selector/matchLabels"_json_pointer)) {
    std::string sel;
    for (auto& [k, v] : obj.at("/spec/selector/matchLabels"_json_pointer).items()) {
      sel += (sel.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    }
    status["selector"] = sel;
  } else if (!rt.label_selector_path.empty() && obj.contains(PointerFor(rt.label_selector_path))) {
    status["selector"] = obj.at(PointerFor(rt.label_selector_path));
  }
  scale["status"] = status;
  return scale;
}

}  // namespace

void ApiServer::HandleScale(Ctx& c) {
  const ResourceType& rt = *c.rt;
  if (c.info.verb == "get") {
    ObjectPtr obj = store_.Get(rt.storage_key(), c.info.ns, c.info.name);
    if (!obj) return SendError(c, kube::NewNotFound(rt.group_resource(), c.info.name));
    return SendJson(c, 200, ScaleOf(rt, obj->Parse()));
  }
  json body;
  std::string type = ParseMediaType(c.req.Header("content-type")).type;
  if (c.info.verb == "update") {
    auto decoded = DecodeBody(c);
    if (auto* e = std::get_if<kube::ApiError>(&decoded)) return SendError(c, *e);
    body = std::get<json>(std::move(decoded));
  } else {
    if (type != "application/json-patch+json" && type != "application/merge-patch+json" &&
        type != "application/strategic-merge-patch+json") {
      return SendError(c,
                       kube::NewUnsupportedMediaType(
                           "the body of the request was in an unknown format - accepted media "
                           "types include: application/json-patch+json, "
                           "application/merge-patch+json, application/strategic-merge-patch+json"));
    }
    body = json::parse(c.req.body, nullptr, false);
    if (body.is_discarded())
      return SendError(c, kube::NewBadRequest("error decoding patch: invalid JSON"));
  }
  WriteContext wc{rt, c.now, FieldValidation::kIgnore, &c.warnings};
  auto result = store_.Mutate(
      rt.storage_key(), c.info.ns, c.info.name,
      [&](const ObjectPtr& current) -> std::variant<kube::ApiError, Mutation> {
        if (!current) return kube::NewNotFound(rt.group_resource(), c.info.name);
        json obj = current->Parse();
        json scale = ScaleOf(rt, obj);
        json wanted = body;
        if (c.info.verb == "patch") {
          auto patched = type == "application/json-patch+json" ? kube::ApplyJsonPatch(scale, body)
                                                               : kube::ApplyMergePatch(scale, body);
          if (!patched.ok()) return kube::NewBadRequest(patched.status().message());
          wanted = *patched;
        }
        if (wanted.contains("/metadata/resourceVersion"_json_pointer) &&
            wanted.at("/metadata/resourceVersion"_json_pointer) != std::to_string(current->rv)) {
          return kube::NewResourceVersionConflict(rt.group_resource(), c.info.name);
        }
        if (!wanted.contains("/spec/replicas"_json_pointer) ||
            !wanted.at("/spec/replicas"_json_pointer).is_number_integer() ||
            wanted.at("/spec/replicas"_json_pointer).get<long>() < 0) {
          json got = wanted.contains("/spec/replicas"_json_pointer)
                         ? wanted.at("/spec/replicas"_json_pointer)
                         : json();
          return kube::NewInvalid(
              "autoscaling", "Scale", c.info.name,
              {{"FieldValueInvalid",
                "Invalid value: " + got.dump() + ": must be greater than or equal to 0",
                "spec.replicas"}});
        }
        obj[PointerFor(rt.spec_replicas_path)] = wanted.at("/spec/replicas"_json_pointer);
        return PrepareUpdate(wc, *current, std::move(obj), "");
      });
  if (auto* e = std::get_if<kube::ApiError>(&result)) return SendError(c, *e);
  SendJson(c, 200, ScaleOf(rt, std::get<ObjectPtr>(result)->Parse()));
}

}  // namespace aidi::devcluster
