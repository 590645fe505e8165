// Patch application: RFC 7386 merge patch, RFC 6902 JSON patch, and Kubernetes' strategic merge
// patch (apply half of k8s.io/apimachinery/pkg/util/strategicpatch/patch.go).
//
// The strategic merge code is a port of upstream's mergeMap/mergeSlice family, function for
// function, so that edge cases (ordering of merged lists, `$setElementOrder` validation, what
// `$patch: delete` leaves behind) come out the way a real API server produces them. Upstream
// reads patch metadata from Go struct tags; here a small static schema per kind stands in for
// the tags (see `Schemas`). Go's interface equality (an int64 never equals a float64) and
// `sort.SliceStable` (whose comparator upstream is not a strict order) are reproduced too,
// because both decide the order of merged lists.
#include "kube/core/patch.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aidi::kube {
namespace {

using Json = nlohmann::json;

// Nesting deeper than this is refused rather than recursed into. Kubernetes objects are a few
// dozen levels deep at most; the limit keeps every recursive walk below well inside the stack.
constexpr size_t kMaxDepth = 1000;
// Upstream (apiserver) limit on the number of JSON patch operations in one request.
constexpr size_t kMaxJsonPatchOperations = 10000;
// Bounds the values that `copy` operations may duplicate (counted in JSON nodes), so that a
// small patch cannot double a document over and over (the role of evanphx/json-patch's
// AccumulatedCopySizeLimit).
constexpr size_t kMaxCopiedNodes = 1 << 20;

// Dumps without throwing on invalid UTF-8 (nlohmann's default would throw).
std::string Dump(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Depth of a JSON value (a scalar is 1), computed without recursion so that it is safe to call
// on any input before the recursive algorithms run.
size_t Depth(const Json& root) {
  size_t max_depth = 0;
  std::vector<std::pair<const Json*, size_t>> stack = {{&root, 1}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    max_depth = std::max(max_depth, depth);
    if (node->is_structured()) {
      for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
    }
  }
  return max_depth;
}

size_t CountNodes(const Json& root) {
  size_t count = 0;
  std::vector<const Json*> stack = {&root};
  while (!stack.empty()) {
    const Json* node = stack.back();
    stack.pop_back();
    ++count;
    if (node->is_structured()) {
      for (const auto& child : *node) stack.push_back(&child);
    }
  }
  return count;
}

Status CheckDepth(const Json& v, std::string_view what) {
  if (Depth(v) > kMaxDepth) {
    return Status::InvalidArgument(std::string(what) + " is nested more than " +
                                   std::to_string(kMaxDepth) + " levels deep");
  }
  return Status::Ok();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// =============================================================================================
// RFC 7386 merge patch
//
// Exactly the RFC's algorithm. (evanphx/json-patch, behind the API server, also prunes nulls
// from objects nested in arrays of newly added values, and rejects non-object patches; the RFC
// keeps arrays verbatim and lets any non-object patch replace the target.)

void MergePatchInto(Json& target, const Json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = Json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      target.erase(key);
    } else {
      MergePatchInto(target[key], value);  // a missing member starts as null, i.e. not an object
    }
  }
}

void DiffInto(const Json& from, const Json& to, Json& patch) {
  for (const auto& [key, value] : from.items()) {
    if (!to.contains(key)) patch[key] = nullptr;
  }
  for (const auto& [key, value] : to.items()) {
    const auto it = from.find(key);
    if (it == from.end()) {
      patch[key] = value;
    } else if (it->is_object() && value.is_object()) {
      Json nested = Json::object();
      DiffInto(*it, value, nested);
      if (!nested.empty()) patch[key] = std::move(nested);
    } else if (*it != value) {
      patch[key] = value;  // numbers compare by value, as in evanphx/json-patch (all float64)
    }
  }
}

// =============================================================================================
// RFC 6902 JSON patch with RFC 6901 pointers
//
// Strictly the RFCs, where evanphx/json-patch v4 (behind the API server) is lenient: pointers
// must start with '/', array indices are `0|[1-9][0-9]*` (no signs, no negative indices), `test`
// on a missing path fails, and `test` compares numbers by value. "" addresses the whole
// document for add, replace, test, move and copy.

struct Pointer {
  std::string text;
  std::vector<std::string> tokens;
};

StatusOr<Pointer> ParsePointer(std::string text) {
  Pointer ptr{std::move(text), {}};
  const std::string& s = ptr.text;
  if (s.empty()) return ptr;
  if (s[0] != '/') {
    return Status::InvalidArgument("JSON pointer " + Dump(s) + " must be empty or start with '/'");
  }
  std::string token;
  for (size_t i = 1; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '/') {
      ptr.tokens.push_back(std::move(token));
      token.clear();
    } else if (s[i] == '~') {
      const char next = i + 1 < s.size() ? s[i + 1] : '\0';
      if (next != '0' && next != '1') {
        return Status::InvalidArgument("JSON pointer " + Dump(s) +
                                       " has an invalid escape: '~' must be followed by 0 or 1");
      }
      token += next == '0' ? '~' : '/';
      ++i;
    } else {
      token += s[i];
    }
  }
  return ptr;
}

// RFC 6901 array index: "0" or a digit sequence without a leading zero.
std::optional<size_t> ParseArrayIndex(std::string_view token) {
  if (token.empty() || token.size() > 18) return std::nullopt;
  if (token.size() > 1 && token[0] == '0') return std::nullopt;
  size_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value;
}

enum class OpKind { kAdd, kRemove, kReplace, kMove, kCopy, kTest };

struct Operation {
  OpKind kind;
  std::string name;
  Pointer path;
  Pointer from;         // move and copy
  const Json* value{};  // add, replace and test; points into the caller's patch
};

// Failure to apply an operation (422), naming the operation and its path.
Status OpError(size_t index, const Operation& op, std::string_view problem) {
  return Status::Invalid("json patch operation " + std::to_string(index) + " (" + op.name + " " +
                         Dump(op.path.text) + "): " + std::string(problem));
}

StatusOr<Operation> DecodeOperation(const Json& raw, size_t index) {
  const std::string where = "json patch operation " + std::to_string(index);
  if (!raw.is_object()) return Status::InvalidArgument(where + " is not a JSON object");
  const auto op_it = raw.find("op");
  if (op_it == raw.end() || !op_it->is_string()) {
    return Status::InvalidArgument(where + " has no \"op\" string");
  }
  static const std::pair<std::string_view, OpKind> kKinds[] = {
      {"add", OpKind::kAdd},   {"remove", OpKind::kRemove}, {"replace", OpKind::kReplace},
      {"move", OpKind::kMove}, {"copy", OpKind::kCopy},     {"test", OpKind::kTest}};
  Operation op;
  op.name = op_it->get<std::string>();
  const auto kind = std::find_if(std::begin(kKinds), std::end(kKinds),
                                 [&](const auto& k) { return k.first == op.name; });
  if (kind == std::end(kKinds)) {
    return Status::InvalidArgument(where + " has an unknown op " + Dump(op.name));
  }
  op.kind = kind->second;
  const auto path_it = raw.find("path");
  if (path_it == raw.end() || !path_it->is_string()) {
    return Status::InvalidArgument(where + " (" + op.name + ") has no \"path\" string");
  }
  AIDI_ASSIGN_OR_RETURN(op.path, ParsePointer(path_it->get<std::string>()));
  if (op.kind == OpKind::kMove || op.kind == OpKind::kCopy) {
    const auto from_it = raw.find("from");
    if (from_it == raw.end() || !from_it->is_string()) {
      return Status::InvalidArgument(where + " (" + op.name + " " + Dump(op.path.text) +
                                     ") has no \"from\" string");
    }
    AIDI_ASSIGN_OR_RETURN(op.from, ParsePointer(from_it->get<std::string>()));
  }
  if (op.kind == OpKind::kAdd || op.kind == OpKind::kReplace || op.kind == OpKind::kTest) {
    const auto value_it = raw.find("value");
    if (value_it == raw.end()) {
      return Status::InvalidArgument(where + " (" + op.name + " " + Dump(op.path.text) +
                                     ") has no \"value\"");
    }
    op.value = &*value_it;
  }
  return op;
}

// Resolves a pointer to an existing value; `what` explains the failure otherwise.
Json* Resolve(Json& doc, const std::vector<std::string>& tokens, size_t count, std::string& what) {
  Json* node = &doc;
  for (size_t i = 0; i < count; ++i) {
    const std::string& token = tokens[i];
    if (node->is_object()) {
      const auto it = node->find(token);
      if (it == node->end()) {
        what = "member " + Dump(token) + " does not exist";
        return nullptr;
      }
      node = &*it;
    } else if (node->is_array()) {
      const auto index = ParseArrayIndex(token);
      if (!index) {
        what = "invalid array index " + Dump(token);
        return nullptr;
      }
      if (*index >= node->size()) {
        what =
            "array index " + token + " is out of range (size " + std::to_string(node->size()) + ")";
        return nullptr;
      }
      node = &(*node)[*index];
    } else {
      what = "cannot descend into a " + std::string(node->type_name()) + " with " + Dump(token);
      return nullptr;
    }
  }
  return node;
}

// add: creates or replaces an object member, inserts into an array ("-" appends).
std::optional<std::string> AddValue(Json& doc, const std::vector<std::string>& tokens, Json value) {
  if (tokens.empty()) {
    doc = std::move(value);
    return std::nullopt;
  }
  std::string what;
  Json* parent = Resolve(doc, tokens, tokens.size() - 1, what);
  if (parent == nullptr) return "the parent does not exist: " + what;
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    (*parent)[last] = std::move(value);
    return std::nullopt;
  }
  if (parent->is_array()) {
    if (last == "-") {
      parent->push_back(std::move(value));
      return std::nullopt;
    }
    const auto index = ParseArrayIndex(last);
    if (!index) return "invalid array index " + Dump(last);
    if (*index > parent->size()) {
      return "array index " + last + " is out of range (size " + std::to_string(parent->size()) +
             ")";
    }
    parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(*index), std::move(value));
    return std::nullopt;
  }
  return "the parent is a " + std::string(parent->type_name()) + ", not an object or array";
}

// remove: takes the value out and returns it (for move).
std::optional<std::string> RemoveValue(Json& doc, const std::vector<std::string>& tokens,
                                       Json* removed) {
  if (tokens.empty()) return std::string("cannot remove the whole document");
  std::string what;
  Json* parent = Resolve(doc, tokens, tokens.size() - 1, what);
  if (parent == nullptr) return "the path does not exist: " + what;
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    const auto it = parent->find(last);
    if (it == parent->end()) return "member " + Dump(last) + " does not exist";
    if (removed != nullptr) *removed = std::move(*it);
    parent->erase(it);
    return std::nullopt;
  }
  if (parent->is_array()) {
    const auto index = ParseArrayIndex(last);
    if (!index) return "invalid array index " + Dump(last);
    if (*index >= parent->size()) {
      return "array index " + last + " is out of range (size " + std::to_string(parent->size()) +
             ")";
    }
    if (removed != nullptr) *removed = std::move((*parent)[*index]);
    parent->erase(*index);
    return std::nullopt;
  }
  return "the parent is a " + std::string(parent->type_name()) + ", not an object or array";
}

bool IsProperPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& of) {
  return prefix.size() < of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

// Inserting `value` at `tokens` must keep the document within kMaxDepth.
std::optional<std::string> CheckInsertDepth(const std::vector<std::string>& tokens,
                                            const Json& value) {
  if (tokens.size() + Depth(value) > kMaxDepth) {
    return "the result would be nested more than " + std::to_string(kMaxDepth) + " levels deep";
  }
  return std::nullopt;
}

std::optional<std::string> ApplyOperation(Json& doc, const Operation& op, size_t& copied_nodes) {
  const auto& path = op.path.tokens;
  std::string what;
  switch (op.kind) {
    case OpKind::kAdd:
      if (auto err = CheckInsertDepth(path, *op.value)) return err;
      return AddValue(doc, path, *op.value);
    case OpKind::kRemove:
      return RemoveValue(doc, path, nullptr);
    case OpKind::kReplace: {
      if (auto err = CheckInsertDepth(path, *op.value)) return err;
      Json* target = Resolve(doc, path, path.size(), what);
      if (target == nullptr) return "the path does not exist: " + what;
      *target = *op.value;
      return std::nullopt;
    }
    case OpKind::kMove: {
      if (IsProperPrefix(op.from.tokens, path)) {
        return "cannot move " + Dump(op.from.text) + " into one of its own children";
      }
      if (Resolve(doc, op.from.tokens, op.from.tokens.size(), what) == nullptr) {
        return "the from path " + Dump(op.from.text) + " does not exist: " + what;
      }
      if (op.from.tokens == path) return std::nullopt;
      Json value;
      if (auto err = RemoveValue(doc, op.from.tokens, &value)) return err;
      if (auto err = CheckInsertDepth(path, value)) return err;
      return AddValue(doc, path, std::move(value));
    }
    case OpKind::kCopy: {
      const Json* source = Resolve(doc, op.from.tokens, op.from.tokens.size(), what);
      if (source == nullptr)
        return "the from path " + Dump(op.from.text) + " does not exist: " + what;
      copied_nodes += CountNodes(*source);
      if (copied_nodes > kMaxCopiedNodes) {
        return "copy operations duplicated more than " + std::to_string(kMaxCopiedNodes) +
               " JSON values in total";
      }
      if (auto err = CheckInsertDepth(path, *source)) return err;
      return AddValue(doc, path, *source);
    }
    case OpKind::kTest: {
      const Json* target = Resolve(doc, path, path.size(), what);
      if (target == nullptr) {
        // The API server's library (evanphx/json-patch v4) lets null match a member missing
        // from an existing object: finalizer helpers test "/metadata/finalizers" == null.
        std::string parent_what;
        const Json* parent =
            path.empty() ? nullptr : Resolve(doc, path, path.size() - 1, parent_what);
        if (op.value->is_null() && parent != nullptr && parent->is_object()) return std::nullopt;
        return "the path does not exist: " + what;
      }
      // RFC 6902 4.6: numbers compare by value, objects ignore member order.
      if (*target != *op.value) return "test failed: the value is " + Dump(*target);
      return std::nullopt;
    }
  }
  return std::string("unknown operation");  // unreachable: DecodeOperation checks the op name
}

// =============================================================================================
// Strategic merge patch

constexpr std::string_view kDirectiveMarker = "$patch";
constexpr std::string_view kDeleteDirective = "delete";
constexpr std::string_view kReplaceDirective = "replace";
constexpr std::string_view kMergeDirective = "merge";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";

// --- Patch metadata: what upstream reads from struct tags -------------------------------------

struct Schema;

// patchStrategy/patchMergeKey of one field, and the schema of its value (of its elements, for
// a list).
struct FieldMeta {
  bool merge = false;
  std::string_view merge_key;
  const Schema* schema = nullptr;
};

struct Schema {
  std::string_view name;
  std::map<std::string_view, FieldMeta, std::less<>> fields;
  // Unknown kinds: fields not listed are looked up by name in the heuristic table, so that
  // `containers`, `env`, `conditions`, ... merge wherever they appear.
  bool heuristic = false;

  FieldMeta Lookup(std::string_view field) const;
};

// All schemas, built once. Field names and merge keys follow k8s.io/api struct tags.
struct Schemas {
  Schema opaque{"opaque", {}, false};  // a known type's unlisted field: lists are replaced
  Schema heuristic{"object", {}, true};
  Schema object_meta{"ObjectMeta", {}, false};
  Schema container{"Container", {}, false};
  Schema pod_spec{"PodSpec", {}, false};
  Schema pod_status{"PodStatus", {}, false};
  Schema pod_template_spec{"PodTemplateSpec", {}, false};
  Schema pod{"Pod", {}, false};
  Schema pod_template{"PodTemplate", {}, false};
  Schema conditions_status{"Status", {}, false};
  Schema workload_spec{"Spec", {}, false};
  Schema workload{"Workload", {}, false};
  Schema job_template_spec{"JobTemplateSpec", {}, false};
  Schema cron_job_spec{"CronJobSpec", {}, false};
  Schema cron_job{"CronJob", {}, false};
  Schema service_spec{"ServiceSpec", {}, false};
  Schema service{"Service", {}, false};
  Schema node_spec{"NodeSpec", {}, false};
  Schema node_status{"NodeStatus", {}, false};
  Schema node{"Node", {}, false};
  Schema with_conditions{"Object", {}, false};  // metadata + status.conditions
  Schema service_account{"ServiceAccount", {}, false};
  Schema plain{"Object", {}, false};                           // metadata only
  std::map<std::string_view, FieldMeta, std::less<>> by_name;  // the heuristic table
  std::map<std::string_view, const Schema*, std::less<>> kinds;

  Schemas() {
    const FieldMeta meta{false, "", &object_meta};
    object_meta.fields = {{"finalizers", {true, "", &opaque}},
                          {"ownerReferences", {true, "uid", &opaque}}};
    container.fields = {{"ports", {true, "containerPort", &opaque}},
                        {"env", {true, "name", &opaque}},
                        {"volumeMounts", {true, "mountPath", &opaque}},
                        {"volumeDevices", {true, "devicePath", &opaque}}};
    pod_spec.fields = {{"volumes", {true, "name", &opaque}},
                       {"initContainers", {true, "name", &container}},
                       {"containers", {true, "name", &container}},
                       {"ephemeralContainers", {true, "name", &container}},
                       {"imagePullSecrets", {true, "name", &opaque}},
                       {"hostAliases", {true, "ip", &opaque}},
                       {"topologySpreadConstraints", {true, "topologyKey", &opaque}},
                       {"resourceClaims", {true, "name", &opaque}},
                       {"schedulingGates", {true, "name", &opaque}}};
    pod_status.fields = {{"conditions", {true, "type", &opaque}},
                         {"podIPs", {true, "ip", &opaque}},
                         {"hostIPs", {true, "ip", &opaque}},
                         {"resourceClaimStatuses", {true, "name", &opaque}}};
    pod_template_spec.fields = {{"metadata", meta}, {"spec", {false, "", &pod_spec}}};
    pod.fields = {
        {"metadata", meta}, {"spec", {false, "", &pod_spec}}, {"status", {false, "", &pod_status}}};
    pod_template.fields = {{"metadata", meta}, {"template", {false, "", &pod_template_spec}}};
    conditions_status.fields = {{"conditions", {true, "type", &opaque}}};
    workload_spec.fields = {{"template", {false, "", &pod_template_spec}}};
    workload.fields = {{"metadata", meta},
                       {"spec", {false, "", &workload_spec}},
                       {"status", {false, "", &conditions_status}}};
    job_template_spec.fields = {{"metadata", meta}, {"spec", {false, "", &workload_spec}}};
    cron_job_spec.fields = {{"jobTemplate", {false, "", &job_template_spec}}};
    cron_job.fields = {{"metadata", meta}, {"spec", {false, "", &cron_job_spec}}};
    service_spec.fields = {{"ports", {true, "port", &opaque}}};
    service.fields = {{"metadata", meta},
                      {"spec", {false, "", &service_spec}},
                      {"status", {false, "", &conditions_status}}};
    // NodeSpec.taints carries no patch strategy upstream (+listType=atomic): it is replaced.
    node_spec.fields = {{"podCIDRs", {true, "", &opaque}}};
    node_status.fields = {{"conditions", {true, "type", &opaque}},
                          {"addresses", {true, "type", &opaque}}};
    node.fields = {{"metadata", meta},
                   {"spec", {false, "", &node_spec}},
                   {"status", {false, "", &node_status}}};
    with_conditions.fields = {{"metadata", meta}, {"status", {false, "", &conditions_status}}};
    service_account.fields = {{"metadata", meta}, {"secrets", {true, "name", &opaque}}};
    plain.fields = {{"metadata", meta}};

    // Items of these lists in an unknown kind are of unknown types too, hence `heuristic`.
    by_name = {{"metadata", meta},
               {"finalizers", {true, "", &heuristic}},
               {"ownerReferences", {true, "uid", &heuristic}},
               {"containers", {true, "name", &container}},
               {"initContainers", {true, "name", &container}},
               {"ephemeralContainers", {true, "name", &container}},
               {"volumes", {true, "name", &heuristic}},
               {"imagePullSecrets", {true, "name", &heuristic}},
               {"env", {true, "name", &heuristic}},
               {"volumeMounts", {true, "mountPath", &heuristic}},
               {"volumeDevices", {true, "devicePath", &heuristic}},
               {"hostAliases", {true, "ip", &heuristic}},
               {"topologySpreadConstraints", {true, "topologyKey", &heuristic}},
               {"conditions", {true, "type", &heuristic}}};

    kinds = {{"Pod", &pod},
             {"PodTemplate", &pod_template},
             {"Deployment", &workload},
             {"ReplicaSet", &workload},
             {"StatefulSet", &workload},
             {"DaemonSet", &workload},
             {"ReplicationController", &workload},
             {"Job", &workload},
             {"CronJob", &cron_job},
             {"Service", &service},
             {"Node", &node},
             {"Namespace", &with_conditions},
             {"PersistentVolumeClaim", &with_conditions},
             {"HorizontalPodAutoscaler", &with_conditions},
             {"PodDisruptionBudget", &with_conditions},
             {"ServiceAccount", &service_account},
             {"ConfigMap", &plain},
             {"Secret", &plain},
             {"Endpoints", &plain},
             {"Event", &plain},
             {"Lease", &plain},
             {"PersistentVolume", &plain}};
  }
};

const Schemas& AllSchemas() {
  static const Schemas schemas;  // immutable after construction: safe to share
  return schemas;
}

FieldMeta Schema::Lookup(std::string_view field) const {
  const Schemas& all = AllSchemas();
  if (const auto it = fields.find(field); it != fields.end()) return it->second;
  if (heuristic) {
    if (const auto it = all.by_name.find(field); it != all.by_name.end()) return it->second;
    return FieldMeta{false, "", &all.heuristic};
  }
  return FieldMeta{false, "", &all.opaque};
}

const Schema& SchemaForKind(std::string_view kind) {
  const Schemas& all = AllSchemas();
  const auto it = all.kinds.find(kind);
  return it != all.kinds.end() ? *it->second : all.heuristic;
}

// --- Go value semantics ------------------------------------------------------------------------

// The dynamic Go type a decoded JSON value would have on the API server (integers are int64,
// other numbers float64: the server decodes with UnmarshalCaseSensitivePreserveInts).
enum class GoKind { kNil, kBool, kInt, kFloat, kString, kMap, kSlice };

GoKind KindOf(const Json& v) {
  switch (v.type()) {
    case Json::value_t::boolean:
      return GoKind::kBool;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return GoKind::kInt;
    case Json::value_t::number_float:
      return GoKind::kFloat;
    case Json::value_t::string:
      return GoKind::kString;
    case Json::value_t::object:
      return GoKind::kMap;
    case Json::value_t::array:
      return GoKind::kSlice;
    default:
      return GoKind::kNil;
  }
}

// Go's == on interface{} values: equal dynamic types and equal values. (Go panics comparing
// maps or slices; deep equality is the useful answer for those here.)
bool GoEqual(const Json& a, const Json& b) { return KindOf(a) == KindOf(b) && a == b; }

std::string GoTypeName(const Json& v) {
  switch (KindOf(v)) {
    case GoKind::kNil:
      return "%!s(<nil>)";
    case GoKind::kBool:
      return "bool";
    case GoKind::kInt:
      return "int64";
    case GoKind::kFloat:
      return "float64";
    case GoKind::kString:
      return "string";
    case GoKind::kMap:
      return "map[string]interface {}";
    case GoKind::kSlice:
      return "[]interface {}";
  }
  return "";
}

// fmt's %v, as upstream error messages print values ("map[name:a port:80]").
void AppendGoValue(const Json& v, std::string& out) {
  switch (KindOf(v)) {
    case GoKind::kNil:
      out += "<nil>";
      return;
    case GoKind::kString:
      out += v.get_ref<const std::string&>();
      return;
    case GoKind::kMap: {
      out += "map[";
      bool first = true;
      for (const auto& [key, value] : v.items()) {
        if (!first) out += ' ';
        first = false;
        out += key;
        out += ':';
        AppendGoValue(value, out);
      }
      out += ']';
      return;
    }
    case GoKind::kSlice: {
      out += '[';
      bool first = true;
      for (const auto& value : v) {
        if (!first) out += ' ';
        first = false;
        AppendGoValue(value, out);
      }
      out += ']';
      return;
    }
    default:
      out += Dump(v);
      return;
  }
}

std::string GoValue(const Json& v) {
  std::string out;
  AppendGoValue(v, out);
  return out;
}

// --- Upstream error values (k8s.io/apimachinery/pkg/util/mergepatch/errors.go) -----------------

Status ErrBadArgType(std::string_view expected, const Json& actual) {
  return Status::InvalidArgument("expected a " + std::string(expected) + ", but received a " +
                                 GoTypeName(actual));
}
Status ErrBadArgTypeMap(const Json& actual) {
  return ErrBadArgType("map[string]interface {}", actual);
}
Status ErrBadArgTypeSlice(const Json& actual) { return ErrBadArgType("[]interface {}", actual); }
Status ErrNoMergeKey(const Json& m, std::string_view key) {
  return Status::InvalidArgument("map: " + GoValue(m) +
                                 " does not contain declared merge key: " + std::string(key));
}
Status ErrBadPatchType(const Json& type, const Json& m) {
  const std::string rendered = type.is_string()
                                   ? type.get<std::string>()
                                   : "%!s(" + GoTypeName(type) + "=" + GoValue(type) + ")";
  return Status::InvalidArgument("unknown patch type: " + rendered + " in map: " + GoValue(m));
}
Status ErrNoListOfLists() { return Status::Invalid("lists of lists are not supported"); }
Status ErrBadPatchFormatForPrimitiveList() {
  return Status::InvalidArgument("invalid patch format of primitive list");
}
Status ErrBadPatchFormatForRetainKeys() {
  return Status::InvalidArgument("invalid patch format of retainKeys");
}
Status ErrBadPatchFormatForSetElementOrderList() {
  return Status::InvalidArgument("invalid patch format of setElementOrder list");
}

// --- Go's sort.SliceStable, reproduced step for step ------------------------------------------
//
// Upstream sorts with a comparator that is not a strict weak order (it answers "less" whenever
// an item is missing from the reference order), so the result depends on the exact algorithm:
// insertion sort on blocks of 20, then SymMerge (Go's zsortfunc.go).

class GoStableSorter {
 public:
  GoStableSorter(std::vector<Json>& data, std::function<bool(const Json&, const Json&)> less)
      : data_(data), less_(std::move(less)) {}

  void Sort() {
    const int n = static_cast<int>(data_.size());
    int block = 20;
    int a = 0;
    int b = block;
    while (b <= n) {
      InsertionSort(a, b);
      a = b;
      b += block;
    }
    InsertionSort(a, n);
    while (block < n) {
      a = 0;
      b = 2 * block;
      while (b <= n) {
        SymMerge(a, a + block, b);
        a = b;
        b += 2 * block;
      }
      if (const int m = a + block; m < n) SymMerge(a, m, n);
      block *= 2;
    }
  }

 private:
  bool Less(int i, int j) const {
    return less_(data_[static_cast<size_t>(i)], data_[static_cast<size_t>(j)]);
  }
  void Swap(int i, int j) {
    std::swap(data_[static_cast<size_t>(i)], data_[static_cast<size_t>(j)]);
  }

  void InsertionSort(int a, int b) {
    for (int i = a + 1; i < b; ++i) {
      for (int j = i; j > a && Less(j, j - 1); --j) Swap(j, j - 1);
    }
  }

  void SymMerge(int a, int m, int b) {
    if (m - a == 1) {
      int i = m;
      int j = b;
      while (i < j) {
        const int h = static_cast<int>(static_cast<unsigned>(i + j) >> 1);
        if (Less(h, a)) {
          i = h + 1;
        } else {
          j = h;
        }
      }
      for (int k = a; k < i - 1; ++k) Swap(k, k + 1);
      return;
    }
    if (b - m == 1) {
      int i = a;
      int j = m;
      while (i < j) {
        const int h = static_cast<int>(static_cast<unsigned>(i + j) >> 1);
        if (!Less(m, h)) {
          i = h + 1;
        } else {
          j = h;
        }
      }
      for (int k = m; k > i; --k) Swap(k, k - 1);
      return;
    }
    const int mid = static_cast<int>(static_cast<unsigned>(a + b) >> 1);
    const int n = mid + m;
    int start;
    int r;
    if (m > mid) {
      start = n - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const int p = n - 1;
    while (start < r) {
      const int c = static_cast<int>(static_cast<unsigned>(start + r) >> 1);
      if (!Less(p - c, c)) {
        start = c + 1;
      } else {
        r = c;
      }
    }
    const int end = n - start;
    if (start < m && m < end) Rotate(start, m, end);
    if (a < start && start < mid) SymMerge(a, start, mid);
    if (mid < end && end < b) SymMerge(mid, end, b);
  }

  void SwapRange(int a, int b, int n) {
    for (int i = 0; i < n; ++i) Swap(a + i, b + i);
  }

  void Rotate(int a, int m, int b) {
    int i = m - a;
    int j = b - m;
    while (i != j) {
      if (i > j) {
        SwapRange(m - i, m, j);
        i -= j;
      } else {
        SwapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    SwapRange(m - i, m, i);
  }

  std::vector<Json>& data_;
  std::function<bool(const Json&, const Json&)> less_;
};

// --- List helpers ------------------------------------------------------------------------------

using List = std::vector<Json>;

List ToList(const Json& array) { return List(array.begin(), array.end()); }

Json ToJson(List list) {
  Json out = Json::array();
  for (auto& v : list) out.push_back(std::move(v));
  return out;
}

// sliceElementType: every element has the same Go type, and it is not a list.
StatusOr<GoKind> SliceElementType(std::initializer_list<const List*> lists) {
  std::optional<GoKind> prev;
  for (const List* list : lists) {
    for (const Json& v : *list) {
      const GoKind kind = KindOf(v);
      if (!prev) {
        if (kind == GoKind::kSlice) return ErrNoListOfLists();
        // Upstream panics on a null first element; refuse it instead.
        if (kind == GoKind::kNil) return Status::InvalidArgument("list elements must not be null");
        prev = kind;
      } else if (*prev != kind) {
        std::string rendered = "[";
        bool first = true;
        for (const List* l : lists) {
          if (!first) rendered += ' ';
          first = false;
          rendered += GoValue(ToJson(*l));
        }
        return Status::InvalidArgument("list element types are not identical: " + rendered + "]");
      }
    }
  }
  if (!prev) return Status::InvalidArgument("no elements in any of the given slices");
  return *prev;
}

// The value an item is ordered by: its merge key for maps, itself otherwise (upstream `index`).
const Json* OrderValue(const Json& item, std::string_view merge_key, GoKind kind) {
  static const Json kNull;
  if (kind != GoKind::kMap) return &item;
  if (!item.is_object()) return &kNull;
  const auto it = item.find(merge_key);
  return it == item.end() ? &kNull : &*it;
}

int Index(const List& list, const Json& value, std::string_view merge_key, GoKind kind) {
  const Json& wanted = *OrderValue(value, merge_key, kind);
  for (size_t i = 0; i < list.size(); ++i) {
    if (GoEqual(wanted, *OrderValue(list[i], merge_key, kind))) return static_cast<int>(i);
  }
  return -1;
}

// findMapInSliceBasedOnKeyValue: the first map whose `key` equals `value`.
StatusOr<std::optional<size_t>> FindMapInSlice(const List& list, std::string_view key,
                                               const Json& value) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) {
      return Status::InvalidArgument("value for key " + std::to_string(i) + " is not a map");
    }
    const auto it = list[i].find(key);
    if (it != list[i].end() && GoEqual(*it, value)) return std::optional<size_t>(i);
  }
  return std::optional<size_t>();
}

bool IsString(const Json& v, std::string_view s) {
  return v.is_string() && v.get_ref<const std::string&>() == s;
}

bool HasDirective(const Json& v, std::string_view directive) {
  if (!v.is_object()) return false;
  const auto it = v.find(kDirectiveMarker);
  return it != v.end() && IsString(*it, directive);
}

bool ContainsDirectiveMarker(const Json& v) {
  return v.is_object() && v.contains(kDirectiveMarker);
}

// extractToDeleteItems: splits off the `$patch: delete` items.
Status ExtractToDeleteItems(const List& list, List& non_delete, List& to_delete) {
  for (const Json& v : list) {
    if (!v.is_object()) return ErrBadArgTypeMap(v);
    (HasDirective(v, kDeleteDirective) ? to_delete : non_delete).push_back(v);
  }
  return Status::Ok();
}

Status ValidateMergeKeyInLists(std::string_view merge_key,
                               std::initializer_list<const List*> lists) {
  for (const List* list : lists) {
    for (const Json& item : *list) {
      if (!item.is_object()) return ErrBadArgTypeMap(item);
      if (!item.contains(merge_key)) return ErrNoMergeKey(item, merge_key);
    }
  }
  return Status::Ok();
}

// normalizeSliceOrder: sorts `to_sort` by the position of each item in `order`.
StatusOr<List> NormalizeSliceOrder(List to_sort, const List& order, std::string_view merge_key,
                                   GoKind kind) {
  List to_delete;
  if (kind == GoKind::kMap) {
    AIDI_RETURN_IF_ERROR(ValidateMergeKeyInLists(merge_key, {&to_sort, &order}));
    List non_delete;
    AIDI_RETURN_IF_ERROR(ExtractToDeleteItems(to_sort, non_delete, to_delete));
    to_sort = std::move(non_delete);
  }
  GoStableSorter(to_sort, [&](const Json& a, const Json& b) {
    const int ia = Index(order, a, merge_key, kind);
    if (ia >= 0) {
      const int ib = Index(order, b, merge_key, kind);
      if (ib >= 0) return ia < ib;
    }
    return true;
  }).Sort();
  for (auto& v : to_delete) to_sort.push_back(std::move(v));
  return to_sort;
}

// mergeSortedSlice: interleaves server-only items (`left`) into the patch items (`right`),
// keeping the relative order of each and using the live list to decide between them.
List MergeSortedSlice(List left, List right, const List& server_order, std::string_view merge_key,
                      GoKind kind) {
  List out;
  size_t i = 0;
  size_t j = 0;
  while (i < left.size() && j < right.size()) {
    const int li = Index(server_order, left[i], merge_key, kind);
    const int ri = Index(server_order, right[j], merge_key, kind);
    if (li >= 0 && ri >= 0 && li < ri) {
      out.push_back(std::move(left[i++]));
    } else {
      out.push_back(std::move(right[j++]));
    }
  }
  for (; i < left.size(); ++i) out.push_back(std::move(left[i]));
  for (; j < right.size(); ++j) out.push_back(std::move(right[j]));
  return out;
}

StatusOr<List> NormalizeElementOrder(List patch, List server_only, const List& patch_order,
                                     const List& server_order, std::string_view merge_key,
                                     GoKind kind) {
  AIDI_ASSIGN_OR_RETURN(patch, NormalizeSliceOrder(std::move(patch), patch_order, merge_key, kind));
  AIDI_ASSIGN_OR_RETURN(server_only,
                        NormalizeSliceOrder(std::move(server_only), server_order, merge_key, kind));
  return MergeSortedSlice(std::move(server_only), std::move(patch), server_order, merge_key, kind);
}

void PartitionPrimitives(const List& merged, const List& by, List& in, List& out) {
  for (const Json& v : merged) {
    const bool present =
        std::any_of(by.begin(), by.end(), [&](const Json& b) { return GoEqual(b, v); });
    (present ? in : out).push_back(v);
  }
}

Status PartitionMaps(const List& merged, const List& by, std::string_view merge_key, List& in,
                     List& out) {
  for (const Json& v : merged) {
    if (!v.is_object()) return ErrBadArgTypeMap(v);
    const auto key = v.find(merge_key);
    if (key == v.end()) return ErrNoMergeKey(v, merge_key);
    AIDI_ASSIGN_OR_RETURN(auto found, FindMapInSlice(by, merge_key, *key));
    (found ? in : out).push_back(v);
  }
  return Status::Ok();
}

// deduplicateScalars, including its order-scrambling swap with the last element.
List DeduplicateScalars(List s) {
  if (s.empty()) return s;
  size_t length = s.size() - 1;
  for (size_t i = 0; i < length; ++i) {
    for (size_t j = i + 1; j <= length; ++j) {
      if (GoEqual(s[i], s[j])) {
        s[j] = s[length];
        s.resize(length);
        --length;
        --j;
      }
    }
  }
  return s;
}

List DeleteFromSlice(const List& current, const List& to_delete) {
  List out;
  for (const Json& v : current) {
    const bool drop = std::any_of(to_delete.begin(), to_delete.end(),
                                  [&](const Json& d) { return GoEqual(d, v); });
    if (!drop) out.push_back(v);
  }
  return out;
}

// removeDirectives: a map carrying `$patch` is dropped entirely (returns false).
bool RemoveDirectives(Json& v) {
  if (v.is_object()) {
    if (v.contains(kDirectiveMarker)) return false;
    for (auto it = v.begin(); it != v.end();) {
      if (!RemoveDirectives(it.value())) {
        it = v.erase(it);
      } else {
        ++it;
      }
    }
  } else if (v.is_array()) {
    Json kept = Json::array();
    for (auto& item : v) {
      if (RemoveDirectives(item)) kept.push_back(std::move(item));
    }
    v = std::move(kept);
  }
  return true;
}

void DiscardNullValues(Json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it->is_null()) {
        it = v.erase(it);
      } else {
        DiscardNullValues(it.value());
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v) DiscardNullValues(item);
  }
}

bool IsDirectiveKey(std::string_view key) {
  return key == kDirectiveMarker || key == kRetainKeysDirective ||
         StartsWith(key, kSetElementOrderPrefix) || StartsWith(key, kDeleteFromPrimitiveListPrefix);
}

// The API server decodes the merged map into a typed object, which drops the directive keys
// upstream leaves in values it copied verbatim (e.g. new list items). We store JSON as is, so
// drop them explicitly.
void StripDirectiveKeys(Json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (IsDirectiveKey(it.key())) {
        it = v.erase(it);
      } else {
        StripDirectiveKeys(it.value());
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v) StripDirectiveKeys(item);
  }
}

// extractKey: "$prefix/field" -> "field".
StatusOr<std::string> ExtractKey(std::string_view s, std::string_view prefix) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos || s.substr(0, slash) != prefix) {
    if (prefix == kDeleteFromPrimitiveListPrefix) return ErrBadPatchFormatForPrimitiveList();
    return ErrBadPatchFormatForSetElementOrderList();
  }
  return std::string(s.substr(slash + 1));
}

StatusOr<bool> MergeKeyValueEqual(const Json& left, const Json& right, std::string_view key) {
  if (key.empty()) return GoEqual(left, right);
  if (!left.is_object()) return ErrBadArgTypeMap(left);
  if (!right.is_object()) return ErrBadArgTypeMap(right);
  const auto l = left.find(key);
  if (l == left.end()) return ErrNoMergeKey(left, key);
  const auto r = right.find(key);
  if (r == right.end()) return ErrNoMergeKey(right, key);
  return GoEqual(*l, *r);
}

// validatePatchWithSetOrderList: the patch items must appear in `$setElementOrder` in the same
// relative order.
Status ValidatePatchWithSetOrderList(const List& patch, const List& order,
                                     std::string_view merge_key) {
  if (order.empty() || patch.empty()) return Status::Ok();
  List non_delete;
  List to_delete;
  if (!merge_key.empty()) {
    AIDI_RETURN_IF_ERROR(ExtractToDeleteItems(patch, non_delete, to_delete));
  } else {
    non_delete = patch;
  }
  size_t pi = 0;
  size_t si = 0;
  while (pi < non_delete.size() && si < order.size()) {
    if (ContainsDirectiveMarker(non_delete[pi])) {
      ++pi;
      continue;
    }
    AIDI_ASSIGN_OR_RETURN(bool equal, MergeKeyValueEqual(non_delete[pi], order[si], merge_key));
    if (equal) ++pi;
    ++si;
  }
  if (pi < non_delete.size() && si >= order.size()) {
    return Status::InvalidArgument("the order in patch list:\n" + GoValue(ToJson(patch)) +
                                   "\n doesn't match $setElementOrder list:\n" +
                                   GoValue(ToJson(order)));
  }
  return Status::Ok();
}

StatusOr<Json> MergeMap(Json original, Json patch, const Schema& schema);

// A Go slice's backing array as the caller's slice header still sees it. Upstream deletes list
// items with `append(s[:i], s[i+1:]...)`, which shifts the caller's array in place, and then
// appends new items into the slots that frees. mergePatchIntoOriginal later orders the merged
// list by that (mutated) array, so the mutation is observable and reproduced here. Appends past
// the original length never show: they land in spare capacity or in a new array. (Lists of
// primitives can alias too, but only depending on the Go slice's spare capacity, which nothing
// here can know; that case is not reproduced.)
struct Backing {
  List items;      // the caller's view: the original length, never resized
  size_t len = 0;  // the working slice's length
};

// mergeSliceWithSpecialElements: applies `$patch: delete|replace` items. Returns the patch
// without them; `replaced` tells whether the patch list replaces the original outright.
StatusOr<List> MergeSliceWithSpecialElements(Backing& original, List patch,
                                             std::string_view merge_key, bool& replaced) {
  List plain;
  replaced = false;
  for (Json& v : patch) {
    const auto directive = v.find(kDirectiveMarker);
    if (directive == v.end()) {
      plain.push_back(std::move(v));
      continue;
    }
    if (IsString(*directive, kDeleteDirective)) {
      const auto key = v.find(merge_key);
      if (key == v.end()) return ErrNoMergeKey(v, merge_key);
      while (true) {
        const List view(original.items.begin(),
                        original.items.begin() + static_cast<std::ptrdiff_t>(original.len));
        AIDI_ASSIGN_OR_RETURN(auto found, FindMapInSlice(view, merge_key, *key));
        if (!found) break;
        // append(s[:i], s[i+1:]...): copy left; the last slot keeps its old value.
        const auto first = original.items.begin() + static_cast<std::ptrdiff_t>(*found);
        std::copy(first + 1, original.items.begin() + static_cast<std::ptrdiff_t>(original.len),
                  first);
        --original.len;
      }
    } else if (IsString(*directive, kReplaceDirective)) {
      replaced = true;  // keep going: the other `$patch` items are pruned too
    } else if (IsString(*directive, kMergeDirective)) {
      return Status::InvalidArgument("merging lists cannot yet be specified in the patch");
    } else {
      return ErrBadPatchType(*directive, v);
    }
  }
  return plain;
}

// mergeSliceWithoutSpecialElements: merges items with equal merge keys, appends the rest.
StatusOr<List> MergeSliceWithoutSpecialElements(List original, const List& patch,
                                                std::string_view merge_key, const Schema& schema) {
  for (const Json& v : patch) {
    const auto key = v.find(merge_key);
    if (key == v.end()) return ErrNoMergeKey(v, merge_key);
    AIDI_ASSIGN_OR_RETURN(auto found, FindMapInSlice(original, merge_key, *key));
    if (found) {
      AIDI_ASSIGN_OR_RETURN(original[*found], MergeMap(std::move(original[*found]), v, schema));
    } else {
      original.push_back(v);
    }
  }
  return original;
}

// mergeSlice: merges a list with patch strategy "merge". `aliased`, when given, receives the
// original list as the caller's slice header sees it afterwards (see Backing).
StatusOr<List> MergeSlice(List original, List patch, const FieldMeta& meta, bool is_delete_list,
                          List* aliased) {
  if (aliased != nullptr) *aliased = original;
  if (original.empty() && patch.empty()) return original;
  AIDI_ASSIGN_OR_RETURN(GoKind kind, SliceElementType({&original, &patch}));
  const std::string_view merge_key = meta.merge_key;
  List merged;
  if (kind != GoKind::kMap) {
    if (is_delete_list) return DeleteFromSlice(original, patch);
    merged = original;
    merged.insert(merged.end(), patch.begin(), patch.end());
    merged = DeduplicateScalars(std::move(merged));
  } else {
    if (merge_key.empty()) {
      return Status::InvalidArgument("cannot merge lists without merge key for " +
                                     std::string(meta.schema->name));
    }
    Backing backing{original, original.size()};
    bool replaced = false;
    AIDI_ASSIGN_OR_RETURN(
        patch, MergeSliceWithSpecialElements(backing, std::move(patch), merge_key, replaced));
    if (replaced) {
      original = std::move(patch);
      patch.clear();
    } else {
      original.assign(backing.items.begin(),
                      backing.items.begin() + static_cast<std::ptrdiff_t>(backing.len));
    }
    AIDI_ASSIGN_OR_RETURN(
        merged, MergeSliceWithoutSpecialElements(original, patch, merge_key, *meta.schema));
    if (!replaced) {
      // Appended items fill the slots the deletions freed in the caller's array.
      for (size_t i = original.size(); i < merged.size() && backing.len < backing.items.size();
           ++i) {
        backing.items[backing.len++] = merged[i];
      }
    }
    if (aliased != nullptr) *aliased = std::move(backing.items);
  }
  List patch_items;
  List server_only;
  if (merge_key.empty()) {
    PartitionPrimitives(merged, patch, patch_items, server_only);
  } else {
    AIDI_RETURN_IF_ERROR(PartitionMaps(merged, patch, merge_key, patch_items, server_only));
  }
  return NormalizeElementOrder(std::move(patch_items), std::move(server_only), patch, original,
                               merge_key, kind);
}

StatusOr<Json> MergeSliceHandler(const Json& original, const Json& patch, const FieldMeta& meta,
                                 bool is_delete_list, List* aliased = nullptr) {
  if (!original.is_array()) return ErrBadArgTypeSlice(original);
  if (!patch.is_array()) return ErrBadArgTypeSlice(patch);
  // Deletion lists are processed the same way whatever the field's strategy.
  if (!meta.merge && !is_delete_list) {
    if (aliased != nullptr) *aliased = ToList(original);
    return patch;
  }
  AIDI_ASSIGN_OR_RETURN(List merged,
                        MergeSlice(ToList(original), ToList(patch), meta, is_delete_list, aliased));
  return ToJson(std::move(merged));
}

// handleDirectiveInMergeMap: `$patch` on a map.
StatusOr<Json> HandleDirectiveInMergeMap(Json patch) {
  const Json& directive = patch[std::string(kDirectiveMarker)];
  if (IsString(directive, kReplaceDirective)) {
    patch.erase(std::string(kDirectiveMarker));
    return patch;
  }
  if (IsString(directive, kDeleteDirective)) return Json::object();
  return ErrBadPatchType(directive, patch);
}

// applyRetainKeysDirective: clears the fields of `original` that `$retainKeys` does not list.
Status ApplyRetainKeysDirective(Json& original, Json& patch) {
  const auto it = patch.find(kRetainKeysDirective);
  if (it == patch.end()) return Status::Ok();
  const Json retain = std::move(*it);
  patch.erase(it);
  if (!retain.is_array()) return ErrBadPatchFormatForRetainKeys();
  const auto retained = [&](const std::string& key) {
    return std::any_of(retain.begin(), retain.end(),
                       [&](const Json& k) { return IsString(k, key); });
  };
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null() || StartsWith(key, kDeleteFromPrimitiveListPrefix) ||
        StartsWith(key, kSetElementOrderPrefix)) {
      continue;
    }
    if (!retained(key)) return ErrBadPatchFormatForRetainKeys();
  }
  for (auto field = original.begin(); field != original.end();) {
    if (retained(field.key())) {
      ++field;
    } else {
      field = original.erase(field);
    }
  }
  return Status::Ok();
}

// mergePatchIntoOriginal: merges each list that has a `$setElementOrder/<field>` and orders it:
// `$setElementOrder` first, then the patch's order, then the live object's.
Status MergePatchIntoOriginal(Json& original, Json& patch, const Schema& schema) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : patch.items()) {
    if (StartsWith(key, kSetElementOrderPrefix)) keys.push_back(key);
  }
  for (const std::string& key : keys) {
    const Json order_json = std::move(patch[key]);
    patch.erase(key);
    if (!order_json.is_array()) return ErrBadArgTypeSlice(order_json);
    const List order = ToList(order_json);
    AIDI_ASSIGN_OR_RETURN(const std::string field, ExtractKey(key, kSetElementOrderPrefix));

    const auto original_it = original.find(field);
    const auto patch_it = patch.find(field);
    const bool found_original = original_it != original.end();
    const bool found_patch = patch_it != patch.end();
    if (found_original && !original_it->is_array()) return ErrBadArgTypeSlice(*original_it);
    if (found_patch && !patch_it->is_array()) return ErrBadArgTypeSlice(*patch_it);
    const List original_list = found_original ? ToList(*original_it) : List{};
    const List patch_list = found_patch ? ToList(*patch_it) : List{};

    const FieldMeta meta = schema.Lookup(field);
    AIDI_RETURN_IF_ERROR(ValidatePatchWithSetOrderList(patch_list, order, meta.merge_key));

    List merged;
    // What upstream's originalFieldValue shows after merging (it aliases the merged slice).
    List server_order = original_list;
    if (found_original && found_patch) {
      AIDI_ASSIGN_OR_RETURN(Json m,
                            MergeSliceHandler(*original_it, *patch_it, meta, false, &server_order));
      merged = ToList(m);
    } else if (found_original) {
      merged = original_list;
    } else if (found_patch) {
      Json added = *patch_it;
      RemoveDirectives(added);
      merged = ToList(added);
    } else {
      continue;
    }

    List patch_items;
    List server_only;
    if (meta.merge_key.empty()) {
      PartitionPrimitives(merged, order, patch_items, server_only);
    } else {
      AIDI_RETURN_IF_ERROR(PartitionMaps(merged, order, meta.merge_key, patch_items, server_only));
    }
    AIDI_ASSIGN_OR_RETURN(GoKind kind, SliceElementType({&original_list, &patch_list}));
    AIDI_ASSIGN_OR_RETURN(
        List both, NormalizeElementOrder(std::move(patch_items), std::move(server_only), order,
                                         server_order, meta.merge_key, kind));
    original[field] = ToJson(std::move(both));
    patch.erase(field);
  }
  return Status::Ok();
}

// A value taken from the patch as is: nulls mean nothing there, and maps with `$patch` go.
void SetFromPatch(Json& original, const std::string& key, Json value) {
  DiscardNullValues(value);
  if (RemoveDirectives(value)) {
    original[key] = std::move(value);
  } else {
    original.erase(key);
  }
}

// mergeMap, with MergeParallelList and IgnoreUnmatchedNulls set as StrategicMergePatch does.
StatusOr<Json> MergeMap(Json original, Json patch, const Schema& schema) {
  if (patch.contains(kDirectiveMarker)) return HandleDirectiveInMergeMap(std::move(patch));
  if (!original.is_object()) original = Json::object();

  AIDI_RETURN_IF_ERROR(ApplyRetainKeysDirective(original, patch));
  AIDI_RETURN_IF_ERROR(MergePatchIntoOriginal(original, patch, schema));

  for (auto& [patch_key, patch_value] : patch.items()) {
    std::string key = patch_key;
    bool is_delete_list = false;
    if (StartsWith(key, kDeleteFromPrimitiveListPrefix)) {
      AIDI_ASSIGN_OR_RETURN(std::string field, ExtractKey(key, kDeleteFromPrimitiveListPrefix));
      is_delete_list = true;
      if (!field.empty()) key = std::move(field);
    }
    if (patch_value.is_null()) {
      original.erase(key);
      continue;
    }
    const auto it = original.find(key);
    if (it == original.end() || KindOf(*it) != KindOf(patch_value)) {
      if (!is_delete_list) SetFromPatch(original, key, std::move(patch_value));
      continue;
    }
    switch (KindOf(*it)) {
      case GoKind::kMap: {
        const FieldMeta meta = schema.Lookup(key);
        AIDI_ASSIGN_OR_RETURN(*it, MergeMap(std::move(*it), std::move(patch_value), *meta.schema));
        break;
      }
      case GoKind::kSlice: {
        const FieldMeta meta = schema.Lookup(key);
        AIDI_ASSIGN_OR_RETURN(*it, MergeSliceHandler(*it, patch_value, meta, is_delete_list));
        break;
      }
      default:
        *it = std::move(patch_value);
        break;
    }
  }
  return original;
}

}  // namespace

StatusOr<Json> ApplyMergePatch(const Json& target, const Json& patch) {
  AIDI_RETURN_IF_ERROR(CheckDepth(target, "the document"));
  AIDI_RETURN_IF_ERROR(CheckDepth(patch, "the merge patch"));
  Json result = target;
  MergePatchInto(result, patch);
  return result;
}

StatusOr<Json> ApplyJsonPatch(const Json& target, const Json& ops) {
  if (!ops.is_array()) {
    return Status::InvalidArgument("a json patch must be a JSON array of operations");
  }
  if (ops.size() > kMaxJsonPatchOperations) {
    return Status(StatusCode::kRequestEntityTooLarge,
                  "The allowed number of operations in a JSON patch is " +
                      std::to_string(kMaxJsonPatchOperations) +
                      ", the number of operations in this patch is " + std::to_string(ops.size()));
  }
  AIDI_RETURN_IF_ERROR(CheckDepth(target, "the document"));
  AIDI_RETURN_IF_ERROR(CheckDepth(ops, "the json patch"));
  // Validate every operation before touching the document: a malformed patch is a 400 whatever
  // the document holds.
  std::vector<Operation> decoded;
  decoded.reserve(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    AIDI_ASSIGN_OR_RETURN(Operation op, DecodeOperation(ops[i], i));
    decoded.push_back(std::move(op));
  }
  Json doc = target;
  size_t copied_nodes = 0;
  for (size_t i = 0; i < decoded.size(); ++i) {
    if (auto problem = ApplyOperation(doc, decoded[i], copied_nodes)) {
      return OpError(i, decoded[i], *problem);
    }
  }
  return doc;
}

StatusOr<Json> ApplyStrategicMergePatch(const Json& original, const Json& patch,
                                        std::string_view kind) {
  // Upstream unmarshals both into map[string]interface{}: null is an empty map, and anything
  // but an object is a bad document.
  if (!original.is_object() && !original.is_null()) {
    return Status::InvalidArgument("invalid JSON document: the object is not a JSON object");
  }
  if (!patch.is_object() && !patch.is_null()) {
    return Status::InvalidArgument("invalid JSON document: the patch is not a JSON object");
  }
  AIDI_RETURN_IF_ERROR(CheckDepth(original, "the document"));
  AIDI_RETURN_IF_ERROR(CheckDepth(patch, "the strategic merge patch"));
  Json base = original.is_null() ? Json::object() : original;
  if (patch.is_null()) return base;
  AIDI_ASSIGN_OR_RETURN(Json merged, MergeMap(std::move(base), patch, SchemaForKind(kind)));
  StripDirectiveKeys(merged);
  return merged;
}

Json CreateMergePatch(const Json& from, const Json& to) {
  if (!from.is_object() || !to.is_object()) return to;
  Json patch = Json::object();
  DiffInto(from, to, patch);
  return patch;
}

}  // namespace aidi::kube
