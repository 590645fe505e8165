// Research note: what real clients read from the OpenAPI documents (kubectl v1.32).
//
// * Discovery of documents (k8s.io/client-go/openapi/client.go, openapi3/root.go): GET
//   /openapi/v3 -> {"paths": {"apis/<group>/<version>" | "api/v1": {"serverRelativeURL": ...}}};
//   GVSpec(gv) GETs that URL (Accept: application/json) and unmarshals a kube-openapi
//   spec3.OpenAPI. A group-version missing from the index is a GroupVersionNotFoundError.
// * fieldValidation support (k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go,
//   used by kubectl's Factory.Validator for --validate=strict|warn): supportsQueryParamV3 walks
//   doc.Paths, takes the FIRST path whose PATCH operation carries
//   x-kubernetes-group-version-kind == the object's GVK (a single object {group,kind,version},
//   read with Extensions.GetObject into map[string]string) and answers whether that operation's
//   own `parameters` contain one NAMED "fieldValidation" (a $ref parameter has no name there,
//   so it must be inline). Every PATCH for the GVK (main and /status) therefore carries it.
//   If the GV is absent and the kind is a CRD, the core/v1 document's Namespace PATCH decides.
//   When support is missing, strict mode falls back to client-side validation against the
//   protobuf OpenAPI v2 (/openapi/v2), which this server does not serve as protobuf: so every
//   group-version the server serves, built-ins included, must be listed with its PATCH ops.
// * kubectl apply (k8s.io/kubectl/pkg/cmd/apply/patcher.go): gvkSupportsPatchOpenAPIV3 looks
//   for the PATCH op with the GVK and "application/strategic-merge-patch+json" in its
//   requestBody content; only then buildStrategicMergePatchFromOpenAPIV3 searches
//   components.schemas for a schema whose x-kubernetes-group-version-kind ARRAY contains the
//   GVK and computes the patch from it (x-kubernetes-patch-merge-key/strategy, read from the
//   field's own schema before its allOf/$ref is resolved). With no such schema it returns no
//   patch and kubectl falls back to OpenAPI v2 and then to its compiled-in Go types. A lookup
//   failure ("unable to find api field", for a field absent from `properties` whose old and new
//   values differ) is printed as "warning: error calculating patch from openapi v3 spec" before
//   the fallback. Decision: built-in kinds are published with their full schemas
//   (devcluster/builtin_schemas: every field, upstream's patch extensions), tagged with their
//   GVK, so kubectl computes the same strategic merge patches from them as from its compiled-in
//   types; a kind without a generated schema gets an untagged permissive schema (a field-less
//   tagged one would fail every lookup). Maps of structs are reached only through atomic lists
//   (a CRD's versions[].schema), whose items kubectl never looks into. Custom resources
//   advertise only json-patch, merge-patch and apply-patch (as apiextensions-apiserver does),
//   so kubectl uses a JSON merge patch for them.
// * kubectl explain (k8s.io/kubectl/pkg/explain/v2/explain.go, templates/plaintext.tmpl):
//   fetches the GV document, finds the GVK on the get/post/put/patch/delete operation of
//   /apis/<g>/<v>/<plural>, .../<plural>/{name}, .../namespaces/{namespace}/<plural>[/{name}],
//   then the components.schemas entry whose x-kubernetes-group-version-kind array `contains`
//   that same map (so both carry exactly group, kind and version), then walks `properties`,
//   `items`, `additionalProperties` and `allOf`/`$ref` for the field path.
// * CRD schemas are published as apiextensions-apiserver's
//   pkg/controller/openapi/builder/builder.go does: named ToRESTFriendlyName("<group>/<version>.
//   <Kind>") (dev.aidi.v1alpha1.Pipeline), metadata -> ObjectMeta ref with "Standard object's
//   metadata" description, apiVersion/kind from TypeMeta's docs, x-kubernetes-int-or-string
//   unfolded to anyOf integer/string, embedded resources given apiVersion/kind/metadata, a
//   <Kind>List schema with items and ListMeta; routes list/create/deletecollection on the
//   collection, get/replace/delete/patch on {name}, get/replace/patch on {name}/status.
// * Hash (k8s.io/kube-openapi/pkg/handler3): the ?hash= is the upper-case hex SHA-512 of the
//   served JSON; clients only use it as a cache key.
#include "devcluster/crd/openapi.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <set>

#include "devcluster/builtin_schemas/builtin_schemas.h"

using nlohmann::json;

namespace aidi::devcluster {
namespace {

// ---------------------------------------------------------------------------------------------
// SHA-512 (FIPS 180-4), for the document hash only.

constexpr uint64_t kK[80] = {
    0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
    0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
    0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
    0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
    0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
    0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
    0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
    0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
    0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
    0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
    0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
    0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
    0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
    0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
    0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
    0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
    0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
    0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
    0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
    0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};
constexpr uint64_t kH0[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};
uint64_t Rotr(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

void Sha512Block(const unsigned char* p, uint64_t h[8]) {
  uint64_t w[80];
  for (int i = 0; i < 16; ++i) {
    w[i] = 0;
    for (int k = 0; k < 8; ++k) w[i] = (w[i] << 8) | p[i * 8 + k];
  }
  for (int i = 16; i < 80; ++i) {
    uint64_t s0 = Rotr(w[i - 15], 1) ^ Rotr(w[i - 15], 8) ^ (w[i - 15] >> 7);
    uint64_t s1 = Rotr(w[i - 2], 19) ^ Rotr(w[i - 2], 61) ^ (w[i - 2] >> 6);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint64_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 80; ++i) {
    uint64_t s1 = Rotr(e, 14) ^ Rotr(e, 18) ^ Rotr(e, 41);
    uint64_t ch = (e & f) ^ (~e & g);
    uint64_t t1 = hh + s1 + ch + kK[i] + w[i];
    uint64_t s0 = Rotr(a, 28) ^ Rotr(a, 34) ^ Rotr(a, 39);
    uint64_t maj = (a & b) ^ (a & c) ^ (b & c);
    uint64_t t2 = s0 + maj;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

std::string Sha512Hex(const std::string& data) {
  uint64_t h[8];
  for (int i = 0; i < 8; ++i) h[i] = kH0[i];
  std::string msg = data;
  uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 128 != 112) msg.push_back('\0');
  msg.append(8, '\0');  // the high 64 bits of the 128-bit length
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bits >> (i * 8)) & 0xFF));
  for (std::size_t off = 0; off < msg.size(); off += 128) {
    Sha512Block(reinterpret_cast<const unsigned char*>(msg.data()) + off, h);
  }
  std::string out;
  char buf[17];
  for (uint64_t v : h) {
    std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(v));
    out += buf;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Names and small builders.

const char* const kMetaPrefix = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const char* const kConventions =
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md";

struct Style {
  bool v3;
  std::string Ref(const std::string& name) const {
    return (v3 ? "#/components/schemas/" : "#/definitions/") + name;
  }
  // A reference with a description: OpenAPI 3 ignores siblings of $ref, so kube-openapi's
  // builder3 wraps the reference in allOf.
  json RefWith(const std::string& name, const std::string& description) const {
    if (v3) return {{"allOf", json::array({{{"$ref", Ref(name)}}})}, {"description", description}};
    return {{"$ref", Ref(name)}, {"description", description}};
  }
  json RefOnly(const std::string& name) const { return {{"$ref", Ref(name)}}; }
};

std::string Meta(const char* type) { return std::string(kMetaPrefix) + type; }

json Gvk(const std::string& group, const std::string& version, const std::string& kind) {
  return {{"group", group}, {"kind", kind}, {"version", version}};
}

// util.ToRESTFriendlyName: "aidi.dev/v1alpha1.Pipeline" -> "dev.aidi.v1alpha1.Pipeline".
std::string RestFriendlyName(const std::string& group, const std::string& version,
                             const std::string& kind) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = group.find('.', start);
    parts.push_back(
        group.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string reversed;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (!reversed.empty()) reversed += ".";
    reversed += *it;
  }
  return reversed + "." + version + "." + kind;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Definition names as kube-apiserver names its built-in types (io.k8s.api.<group>.<v>.<Kind>).
std::string BuiltinName(const std::string& group, const std::string& version,
                        const std::string& kind) {
  if (group.empty()) return "io.k8s.api.core." + version + "." + kind;
  if (group == "apiextensions.k8s.io") {
    return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions." + version + "." + kind;
  }
  if (EndsWith(group, ".k8s.io") || group.find('.') == std::string::npos) {
    return "io.k8s.api." + group.substr(0, group.find('.')) + "." + version + "." + kind;
  }
  return RestFriendlyName(group, version, kind);
}

bool IsCustom(const OpenApiResource& r) { return !r.schema.is_null(); }

std::string DefinitionName(const OpenApiResource& r, const std::string& kind) {
  return IsCustom(r) ? RestFriendlyName(r.group, r.version, kind)
                     : BuiltinName(r.group, r.version, kind);
}

// endpoints/openapi.ToValidOperationID.
std::string OperationIdPart(const std::string& s, bool capitalize_first) {
  std::string out;
  bool capitalize = capitalize_first;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isalpha(c) || c == '_' || (i != 0 && std::isdigit(c))) {
      out.push_back(capitalize ? static_cast<char>(std::toupper(c)) : static_cast<char>(c));
      capitalize = false;
    } else {
      capitalize = true;
    }
  }
  return out;
}

std::string GroupForIds(const std::string& group) {
  std::string g = group.empty() ? "core" : group;
  if (EndsWith(g, ".k8s.io")) g = g.substr(0, g.size() - 7);
  return g;
}

// endpoints.GetArticleForNoun.
std::string Article(const std::string& noun) {
  if (noun.empty() || (EndsWith(noun, "s") && !EndsWith(noun, "ss"))) return " ";
  char c = static_cast<char>(std::tolower(static_cast<unsigned char>(noun[0])));
  bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  return vowel ? " an " : " a ";
}

json Param(const Style& st, const std::string& name, const std::string& in,
           const std::string& description, const std::string& type = "string",
           bool required = false) {
  json p = {{"name", name}, {"in", in}, {"description", description}};
  json schema = {{"type", type}, {"uniqueItems", true}};
  if (st.v3) {
    p["schema"] = schema;
  } else {
    p.update(schema);
  }
  if (required) p["required"] = true;
  return p;
}

json DryRun(const Style& st) {
  return Param(st, "dryRun", "query",
               "When present, indicates that modifications should not be persisted. An invalid "
               "or unrecognized dryRun directive will result in an error response and no "
               "further processing of the request. Valid values are: - All: all dry run stages "
               "will be processed");
}

json FieldManager(const Style& st, bool patch) {
  std::string d =
      "fieldManager is a name associated with the actor or entity that is making these "
      "changes. The value must be less than or 128 characters long, and only contain printable "
      "characters, as defined by https://golang.org/pkg/unicode/#IsPrint.";
  if (patch) {
    d += " This field is required for apply requests (application/apply-patch) but optional for "
         "non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).";
  }
  return Param(st, "fieldManager", "query", d);
}

json FieldValidation(const Style& st) {
  return Param(
      st, "fieldValidation", "query",
      "fieldValidation instructs the server on how to handle objects in the request "
      "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This "
      "will ignore any unknown fields that are silently dropped from the object, and will "
      "ignore all but the last duplicate field that the decoder encounters. This is the default "
      "behavior prior to v1.23. - Warn: This will send a warning via the standard warning "
      "response header for each unknown field that is dropped from the object, and for each "
      "duplicate field that is encountered. The request will still succeed if there are no "
      "other errors, and will only persist the last of any duplicate fields. This is the "
      "default in v1.23+ - Strict: This will fail the request with a BadRequest error if any "
      "unknown fields would be dropped from the object, or if any duplicate fields are "
      "present. The error returned from the server will contain all unknown and duplicate "
      "fields encountered.");
}

json Force(const Style& st) {
  return Param(st, "force", "query",
               "Force is going to \"force\" Apply requests. It means user will re-acquire "
               "conflicting fields owned by other people. Force flag must be unset for "
               "non-apply patch requests.",
               "boolean");
}

std::vector<json> ListParams(const Style& st) {
  return {
      Param(st, "allowWatchBookmarks", "query",
            "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do "
            "not implement bookmarks may ignore this flag and bookmarks are sent at the "
            "server's discretion.",
            "boolean"),
      Param(st, "continue", "query",
            "The continue option should be set when retrieving more results from the server. "
            "Since this value is server defined, clients may only use the continue value from "
            "a previous query result with identical query parameters (except for the value of "
            "continue)."),
      Param(st, "fieldSelector", "query",
            "A selector to restrict the list of returned objects by their fields. Defaults to "
            "everything."),
      Param(st, "labelSelector", "query",
            "A selector to restrict the list of returned objects by their labels. Defaults to "
            "everything."),
      Param(st, "limit", "query",
            "limit is a maximum number of responses to return for a list call. If more items "
            "exist, the server will set the `continue` field on the list metadata to a value "
            "that can be used with the same initial query to retrieve the next set of results.",
            "integer"),
      Param(st, "resourceVersion", "query",
            "resourceVersion sets a constraint on what resource versions a request may be "
            "served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/"
            "#resource-versions for details.\n\nDefaults to unset"),
      Param(st, "resourceVersionMatch", "query",
            "resourceVersionMatch determines how resourceVersion is applied to list calls. It "
            "is highly recommended that resourceVersionMatch be set for list calls where "
            "resourceVersion is set.\n\nDefaults to unset"),
      Param(st, "sendInitialEvents", "query",
            "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the "
            "watch stream will begin with synthetic events to produce the current state of "
            "objects in the collection.",
            "boolean"),
      Param(st, "timeoutSeconds", "query",
            "Timeout for the list/watch call. This limits the duration of the call, regardless "
            "of any activity or inactivity.",
            "integer"),
      Param(st, "watch", "query",
            "Watch for changes to the described resources and return them as a stream of add, "
            "update, and remove notifications. Specify resourceVersion.",
            "boolean"),
  };
}

std::vector<json> DeleteParams(const Style& st) {
  return {
      DryRun(st),
      Param(st, "gracePeriodSeconds", "query",
            "The duration in seconds before the object should be deleted. Value must be "
            "non-negative integer. The value zero indicates delete immediately.",
            "integer"),
      Param(st, "orphanDependents", "query",
            "Deprecated: please use the PropagationPolicy, this field will be deprecated in "
            "1.7. Should the dependent objects be orphaned.",
            "boolean"),
      Param(st, "propagationPolicy", "query",
            "Whether and how garbage collection will be performed. Either this field or "
            "OrphanDependents may be set, but not both. Acceptable values are: 'Orphan' - "
            "orphan the dependents; 'Background' - allow the garbage collector to delete the "
            "dependents in the background; 'Foreground' - a cascading policy that deletes all "
            "dependents in the foreground."),
  };
}

// ---------------------------------------------------------------------------------------------
// Schemas.

json TypeMetaApiVersion() {
  return {{"description",
           "APIVersion defines the versioned schema of this representation of an object. "
           "Servers should convert recognized schemas to the latest internal value, and may "
           "reject unrecognized values. More info: " +
               std::string(kConventions) + "#resources"},
          {"type", "string"}};
}

json TypeMetaKind() {
  return {{"description",
           "Kind is a string value representing the REST resource this object represents. "
           "Servers may infer this from the endpoint the client submits requests to. Cannot be "
           "updated. In CamelCase. More info: " +
               std::string(kConventions) + "#types-kinds"},
          {"type", "string"}};
}

std::string ObjectMetaDescription() {
  return "Standard object's metadata. More info: " + std::string(kConventions) + "#metadata";
}

json StringProp(const std::string& description) {
  return {{"description", description}, {"type", "string"}};
}

json MetaSchemas(const Style& st, const std::string& group, const std::string& version) {
  json s = json::object();
  s[Meta("Time")] = {{"description",
                      "Time is a wrapper around time.Time which supports correct marshaling to "
                      "YAML and JSON.  Wrappers are provided for many of the factory methods "
                      "that the time package offers."},
                     {"type", "string"},
                     {"format", "date-time"}};
  s[Meta("FieldsV1")] = {
      {"description",
       "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.\n\nEach "
       "key is either a '.' representing the field itself, and will always map to an empty set, "
       "or a string representing a sub-field or item. The string will follow one of these four "
       "formats: 'f:<name>', 'v:<value>', 'i:<index>' and 'k:<keys>'."},
      {"type", "object"}};
  s[Meta("ManagedFieldsEntry")] = {
      {"description",
       "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource "
       "that the fieldset applies to."},
      {"type", "object"},
      {"properties",
       {{"apiVersion", StringProp("APIVersion defines the version of this resource that this "
                                  "field set applies to.")},
        {"fieldsType", StringProp("FieldsType is the discriminator for the different fields "
                                  "format and version. There is currently only one possible "
                                  "value: \"FieldsV1\"")},
        {"fieldsV1", st.RefWith(Meta("FieldsV1"),
                                "FieldsV1 holds the first JSON version format as described in "
                                "the \"FieldsV1\" type.")},
        {"manager", StringProp("Manager is an identifier of the workflow managing these "
                               "fields.")},
        {"operation", StringProp("Operation is the type of operation which lead to this "
                                 "ManagedFieldsEntry being created. The only valid values for "
                                 "this field are 'Apply' and 'Update'.")},
        {"subresource", StringProp("Subresource is the name of the subresource used to update "
                                   "that object, or empty string if the object was updated "
                                   "through the main resource.")},
        {"time", st.RefWith(Meta("Time"),
                            "Time is the timestamp of when the ManagedFields entry was added.")}}}};
  s[Meta("OwnerReference")] = {
      {"description",
       "OwnerReference contains enough information to let you identify an owning object. An "
       "owning object must be in the same namespace as the dependent, or be cluster-scoped, so "
       "there is no namespace field."},
      {"type", "object"},
      {"required", {"apiVersion", "kind", "name", "uid"}},
      {"properties",
       {{"apiVersion", StringProp("API version of the referent.")},
        {"blockOwnerDeletion",
         {{"description",
           "If true, AND if the owner has the \"foregroundDeletion\" finalizer, then the owner "
           "cannot be deleted from the key-value store until this reference is removed."},
          {"type", "boolean"}}},
        {"controller",
         {{"description", "If true, this reference points to the managing controller."},
          {"type", "boolean"}}},
        {"kind", StringProp("Kind of the referent. More info: " + std::string(kConventions) +
                            "#types-kinds")},
        {"name", StringProp("Name of the referent. More info: https://kubernetes.io/docs/"
                            "concepts/overview/working-with-objects/names#names")},
        {"uid", StringProp("UID of the referent. More info: https://kubernetes.io/docs/"
                           "concepts/overview/working-with-objects/names#uids")}}},
      {"x-kubernetes-map-type", "atomic"}};
  json string_map = {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}};
  json labels = string_map;
  labels["description"] =
      "Map of string keys and values that can be used to organize and categorize (scope and "
      "select) objects. May match selectors of replication controllers and services. More info: "
      "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels";
  json annotations = string_map;
  annotations["description"] =
      "Annotations is an unstructured key value map stored with a resource that may be set by "
      "external tools to store and retrieve arbitrary metadata. They are not queryable and "
      "should be preserved when modifying objects. More info: "
      "https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations";
  s[Meta("ObjectMeta")] = {
      {"description",
       "ObjectMeta is metadata that all persisted resources must have, which includes all "
       "objects users must create."},
      {"type", "object"},
      {"properties",
       {{"annotations", annotations},
        {"creationTimestamp",
         st.RefWith(Meta("Time"),
                    "CreationTimestamp is a timestamp representing the server time when this "
                    "object was created. It is not guaranteed to be set in happens-before order "
                    "across separate operations. Clients may not set this value. It is "
                    "represented in RFC3339 form and is in UTC.\n\nPopulated by the system. "
                    "Read-only. Null for lists. More info: " +
                        std::string(kConventions) + "#metadata")},
        {"deletionGracePeriodSeconds",
         {{"description",
           "Number of seconds allowed for this object to gracefully terminate before it will "
           "be removed from the system. Only set when deletionTimestamp is also set. May only "
           "be shortened. Read-only."},
          {"type", "integer"},
          {"format", "int64"}}},
        {"deletionTimestamp",
         st.RefWith(Meta("Time"),
                    "DeletionTimestamp is RFC 3339 date and time at which this resource will be "
                    "deleted. This field is set by the server when a graceful deletion is "
                    "requested by the user, and is not directly settable by a client.\n\n"
                    "Populated by the system when a graceful deletion is requested. Read-only. "
                    "More info: " +
                        std::string(kConventions) + "#metadata")},
        {"finalizers",
         {{"description",
           "Must be empty before the object is deleted from the registry. Each entry is an "
           "identifier for the responsible component that will remove the entry from the list. "
           "If the deletionTimestamp of the object is non-nil, entries in this list can only be "
           "removed."},
          {"type", "array"},
          {"items", {{"type", "string"}, {"default", ""}}},
          {"x-kubernetes-list-type", "set"},
          {"x-kubernetes-patch-strategy", "merge"}}},
        {"generateName",
         StringProp("GenerateName is an optional prefix, used by the server, to generate a "
                    "unique name ONLY IF the Name field has not been provided. If this field is "
                    "used, the name returned to the client will be different than the name "
                    "passed. This value will also be combined with a unique suffix.\n\nApplied "
                    "only if Name is not specified. More info: " +
                    std::string(kConventions) + "#idempotency")},
        {"generation",
         {{"description",
           "A sequence number representing a specific generation of the desired state. "
           "Populated by the system. Read-only."},
          {"type", "integer"},
          {"format", "int64"}}},
        {"labels", labels},
        {"managedFields",
         {{"description",
           "ManagedFields maps workflow-id and version to the set of fields that are managed by "
           "that workflow. This is mostly for internal housekeeping, and users typically "
           "shouldn't need to set or understand this field."},
          {"type", "array"},
          {"items", st.RefOnly(Meta("ManagedFieldsEntry"))},
          {"x-kubernetes-list-type", "atomic"}}},
        {"name",
         StringProp("Name must be unique within a namespace. Is required when creating "
                    "resources, although some resources may allow a client to request the "
                    "generation of an appropriate name automatically. Name is primarily "
                    "intended for creation idempotence and configuration definition. Cannot be "
                    "updated. More info: https://kubernetes.io/docs/concepts/overview/"
                    "working-with-objects/names#names")},
        {"namespace",
         StringProp("Namespace defines the space within which each name must be unique. An "
                    "empty namespace is equivalent to the \"default\" namespace, but "
                    "\"default\" is the canonical representation. Not all objects are required "
                    "to be scoped to a namespace - the value of this field for those objects "
                    "will be empty.\n\nMust be a DNS_LABEL. Cannot be updated. More info: "
                    "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
                    "namespaces")},
        {"ownerReferences",
         {{"description",
           "List of objects depended by this object. If ALL objects in the list have been "
           "deleted, this object will be garbage collected. If this object is managed by a "
           "controller, then an entry in this list will point to this controller, with the "
           "controller field set to true. There cannot be more than one managing controller."},
          {"type", "array"},
          {"items", st.RefOnly(Meta("OwnerReference"))},
          {"x-kubernetes-list-map-keys", {"uid"}},
          {"x-kubernetes-list-type", "map"},
          {"x-kubernetes-patch-merge-key", "uid"},
          {"x-kubernetes-patch-strategy", "merge"}}},
        {"resourceVersion",
         StringProp("An opaque value that represents the internal version of this object that "
                    "can be used by clients to determine when objects have changed. May be used "
                    "for optimistic concurrency, change detection, and the watch operation on a "
                    "resource or set of resources. Clients must treat these values as opaque "
                    "and passed unmodified back to the server.\n\nPopulated by the system. "
                    "Read-only. More info: " +
                    std::string(kConventions) + "#concurrency-control-and-consistency")},
        {"selfLink", StringProp("Deprecated: selfLink is a legacy read-only field that is no "
                                "longer populated by the system.")},
        {"uid", StringProp("UID is the unique in time and space value for this object. It is "
                           "typically generated by the server on successful creation of a resource "
                           "and is not allowed to change on PUT operations.\n\nPopulated by the "
                           "system. Read-only. More info: https://kubernetes.io/docs/concepts/"
                           "overview/working-with-objects/names#uids")}}}};
  s[Meta("ListMeta")] = {
      {"description",
       "ListMeta describes metadata that synthetic resources must have, including lists and "
       "various status objects. A resource may have only one of {ObjectMeta, ListMeta}."},
      {"type", "object"},
      {"properties",
       {{"continue", StringProp("continue may be set if the user set a limit on the number of "
                                "items returned, and indicates that the server has more data "
                                "available.")},
        {"remainingItemCount",
         {{"description",
           "remainingItemCount is the number of subsequent items in the list which are not "
           "included in this list response."},
          {"type", "integer"},
          {"format", "int64"}}},
        {"resourceVersion",
         StringProp("String that identifies the server's internal version of this object that "
                    "can be used by clients to determine when objects have changed. Value must "
                    "be treated as opaque by clients and passed unmodified back to the server. "
                    "Populated by the system. Read-only. More info: " +
                    std::string(kConventions) + "#concurrency-control-and-consistency")},
        {"selfLink", StringProp("Deprecated: selfLink is a legacy read-only field that is no "
                                "longer populated by the system.")}}}};
  s[Meta("StatusCause")] = {
      {"description",
       "StatusCause provides more information about an api.Status failure, including cases "
       "when multiple errors are encountered."},
      {"type", "object"},
      {"properties",
       {{"field", StringProp("The field of the resource that has caused this error, as named by "
                             "its JSON serialization. May include dot and postfix notation for "
                             "nested attributes. Arrays are zero-indexed.")},
        {"message", StringProp("A human-readable description of the cause of the error.  This "
                               "field may be presented as-is to a reader.")},
        {"reason", StringProp("A machine-readable description of the cause of the error. If "
                              "this value is empty there is no information available.")}}}};
  s[Meta("StatusDetails")] = {
      {"description",
       "StatusDetails is a set of additional properties that MAY be set by the server to "
       "provide additional information about a response."},
      {"type", "object"},
      {"properties",
       {{"causes",
         {{"description",
           "The Causes array includes more details associated with the StatusReason failure. "
           "Not all StatusReasons may provide detailed causes."},
          {"type", "array"},
          {"items", st.RefOnly(Meta("StatusCause"))},
          {"x-kubernetes-list-type", "atomic"}}},
        {"group", StringProp("The group attribute of the resource associated with the status "
                             "StatusReason.")},
        {"kind", StringProp("The kind attribute of the resource associated with the status "
                            "StatusReason.")},
        {"name", StringProp("The name attribute of the resource associated with the status "
                            "StatusReason (when there is a single name which can be "
                            "described).")},
        {"retryAfterSeconds",
         {{"description",
           "If specified, the time in seconds before the operation should be retried."},
          {"type", "integer"},
          {"format", "int32"}}},
        {"uid", StringProp("UID of the resource. (when there is a single resource which can be "
                           "described).")}}}};
  s[Meta("Status")] = {
      {"description", "Status is a return value for calls that don't return other objects."},
      {"type", "object"},
      {"properties",
       {{"apiVersion", TypeMetaApiVersion()},
        {"code",
         {{"description", "Suggested HTTP return code for this status, 0 if not set."},
          {"type", "integer"},
          {"format", "int32"}}},
        {"details", st.RefWith(Meta("StatusDetails"),
                               "Extended data associated with the reason.  Each reason may "
                               "define its own extended details.")},
        {"kind", TypeMetaKind()},
        {"message", StringProp("A human-readable description of the status of this "
                               "operation.")},
        {"metadata", st.RefWith(Meta("ListMeta"), "Standard list metadata. More info: " +
                                                      std::string(kConventions) + "#types-kinds")},
        {"reason", StringProp("A machine-readable description of why this operation is in the "
                              "\"Failure\" status.")},
        {"status", StringProp("Status of the operation. One of: \"Success\" or \"Failure\". "
                              "More info: " +
                              std::string(kConventions) + "#spec-and-status")}}},
      {"x-kubernetes-group-version-kind", json::array({Gvk("", "v1", "Status")})}};
  s[Meta("Preconditions")] = {
      {"description",
       "Preconditions must be fulfilled before an operation (update, delete, etc.) is carried "
       "out."},
      {"type", "object"},
      {"properties",
       {{"resourceVersion", StringProp("Specifies the target ResourceVersion")},
        {"uid", StringProp("Specifies the target UID.")}}}};
  json delete_gvks = json::array({Gvk("", "v1", "DeleteOptions")});
  if (!group.empty()) delete_gvks.push_back(Gvk(group, version, "DeleteOptions"));
  s[Meta("DeleteOptions")] = {
      {"description", "DeleteOptions may be provided when deleting an API object."},
      {"type", "object"},
      {"properties",
       {{"apiVersion", TypeMetaApiVersion()},
        {"dryRun",
         {{"description",
           "When present, indicates that modifications should not be persisted. Valid values "
           "are: - All: all dry run stages will be processed"},
          {"type", "array"},
          {"items", {{"type", "string"}, {"default", ""}}},
          {"x-kubernetes-list-type", "atomic"}}},
        {"gracePeriodSeconds",
         {{"description",
           "The duration in seconds before the object should be deleted. Value must be "
           "non-negative integer. The value zero indicates delete immediately."},
          {"type", "integer"},
          {"format", "int64"}}},
        {"kind", TypeMetaKind()},
        {"orphanDependents",
         {{"description",
           "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. "
           "Should the dependent objects be orphaned."},
          {"type", "boolean"}}},
        {"preconditions", st.RefWith(Meta("Preconditions"),
                                     "Must be fulfilled before a deletion is carried out. If not "
                                     "possible, a 409 Conflict status will be returned.")},
        {"propagationPolicy",
         StringProp("Whether and how garbage collection will be performed. Acceptable values "
                    "are: 'Orphan', 'Background', 'Foreground'.")}}},
      {"x-kubernetes-group-version-kind", delete_gvks}};
  s[Meta("Patch")] = {
      {"description",
       "Patch is provided to give a concrete name and type to the Kubernetes PATCH request "
       "body."},
      {"type", "object"}};
  return s;
}

// Structural's Unfold: x-kubernetes-int-or-string becomes anyOf integer/string (or an allOf
// entry when anyOf is taken); embedded resources get apiVersion, kind and metadata
// (addEmbeddedProperties). Recurses along properties, items and additionalProperties.
void Decorate(json& s, const Style& st, bool v2, int depth) {
  if (!s.is_object() || depth > 256) return;
  if (s.value("x-kubernetes-int-or-string", false) && !v2) {
    json any = json::array({{{"type", "integer"}}, {{"type", "string"}}});
    if (!s.contains("anyOf")) {
      s["anyOf"] = any;
    } else if (s["anyOf"] != any) {
      json all = json::array({{{"anyOf", any}}});
      if (s.contains("allOf") && s["allOf"].is_array()) {
        for (const json& e : s["allOf"]) all.push_back(e);
      }
      s["allOf"] = all;
    }
  }
  if (s.contains("properties") && s["properties"].is_object()) {
    for (auto& [k, v] : s["properties"].items()) Decorate(v, st, v2, depth + 1);
  }
  if (s.contains("items")) Decorate(s["items"], st, v2, depth + 1);
  if (s.contains("additionalProperties")) Decorate(s["additionalProperties"], st, v2, depth + 1);
  if (s.value("x-kubernetes-embedded-resource", false)) {
    json& props = s["properties"];
    if (!props.is_object()) props = json::object();
    props["apiVersion"] = StringProp(
        "apiVersion defines the versioned schema of this representation of an object. More "
        "info: " +
        std::string(kConventions) + "#resources");
    props["kind"] = StringProp(
        "kind is a string value representing the type of this object. In CamelCase. More "
        "info: " +
        std::string(kConventions) + "#types-kinds");
    props["metadata"] = st.RefWith(Meta("ObjectMeta"), ObjectMetaDescription());
    json& req = s["required"];
    if (!req.is_array()) req = json::array();
    for (const char* k : {"kind", "apiVersion"}) {
      if (std::find(req.begin(), req.end(), k) == req.end()) req.push_back(k);
    }
  }
}

// OpenAPI v2 publishes CRD schemas without value validations and nullable
// (builder.Options{StripValueValidation, StripNullable}).
void StripForV2(json& s, int depth) {
  if (!s.is_object() || depth > 256) return;
  static const char* kDrop[] = {"nullable",      "format",
                                "maximum",       "exclusiveMaximum",
                                "minimum",       "exclusiveMinimum",
                                "maxLength",     "minLength",
                                "pattern",       "maxItems",
                                "minItems",      "uniqueItems",
                                "multipleOf",    "enum",
                                "maxProperties", "minProperties",
                                "allOf",         "anyOf",
                                "oneOf",         "not"};
  for (const char* k : kDrop) s.erase(k);
  if (s.contains("properties") && s["properties"].is_object()) {
    for (auto& [k, v] : s["properties"].items()) StripForV2(v, depth + 1);
  }
  if (s.contains("items")) StripForV2(s["items"], depth + 1);
  if (s.contains("additionalProperties")) StripForV2(s["additionalProperties"], depth + 1);
}

// ---------------------------------------------------------------------------------------------
// Built-in kinds: definitions from devcluster/builtin_schemas, whose references are
// {"$ref": "<name>", <siblings>}.

// The generated definition name of a built-in kind, or "" when there is none.
std::string BuiltinDefinition(const OpenApiResource& r) {
  for (const json& k : BuiltinSchemas().at("kinds")) {
    if (k.at("group") == r.group && k.at("version") == r.version && k.at("kind") == r.kind) {
      return k.at("definition").get<std::string>();
    }
  }
  return "";
}

// One generated schema as published: references in the document's style (v3 wraps a reference
// with siblings in allOf, as kube-openapi's builder3 does), IntOrString/Quantity as the strings
// upstream publishes. `refs` collects the definitions referred to.
json PublishedSchema(const json& s, const Style& st, std::set<std::string>& refs, int depth) {
  if (!s.is_object() || depth > 64) return s;
  if (auto ref = s.find("$ref"); ref != s.end()) {
    const std::string name = ref->get<std::string>();
    refs.insert(name);
    json siblings = s;
    siblings.erase("$ref");
    if (siblings.empty()) return st.RefOnly(name);
    json out = st.v3 ? json{{"allOf", json::array({st.RefOnly(name)})}} : st.RefOnly(name);
    for (auto it = siblings.begin(); it != siblings.end(); ++it) out[it.key()] = it.value();
    return out;
  }
  json out = s;
  if (out.value("x-kubernetes-int-or-string", false)) {
    out.erase("x-kubernetes-int-or-string");
    out["type"] = "string";
  }
  if (out.contains("properties") && out["properties"].is_object()) {
    for (auto& [k, v] : out["properties"].items()) v = PublishedSchema(v, st, refs, depth + 1);
  }
  for (const char* k : {"items", "additionalProperties"}) {
    if (out.contains(k)) out[k] = PublishedSchema(out[k], st, refs, depth + 1);
  }
  return out;
}

// Adds `name` and every definition it refers to, but not over the hand-written meta schemas.
void AddBuiltinDefinitions(const std::string& name, const Style& st, json& schemas) {
  const json& defs = BuiltinSchemas().at("definitions");
  std::vector<std::string> todo = {name};
  std::set<std::string> seen;
  while (!todo.empty()) {
    std::string n = todo.back();
    todo.pop_back();
    if (!seen.insert(n).second || schemas.contains(n) || !defs.contains(n)) continue;
    std::set<std::string> refs;
    json s = PublishedSchema(defs.at(n), st, refs, 0);
    if (n == "io.k8s.apimachinery.pkg.util.intstr.IntOrString") s["format"] = "int-or-string";
    schemas[n] = std::move(s);
    todo.insert(todo.end(), refs.begin(), refs.end());
  }
}

json ResourceSchema(const OpenApiResource& r, const Style& st) {
  if (!IsCustom(r)) {
    // Untagged on purpose (see the note at the top): a permissive schema for response refs.
    return {{"description", r.kind + " is a built-in kind served by aidi-devcluster."},
            {"type", "object"},
            {"properties",
             {{"apiVersion", TypeMetaApiVersion()},
              {"kind", TypeMetaKind()},
              {"metadata", st.RefWith(Meta("ObjectMeta"), ObjectMetaDescription())}}},
            {"x-kubernetes-preserve-unknown-fields", true}};
  }
  json s = r.schema.is_object() ? r.schema : json{{"type", "object"}};
  Decorate(s, st, !st.v3, 0);
  if (!st.v3) StripForV2(s, 0);
  json& props = s["properties"];
  if (!props.is_object()) props = json::object();
  props["metadata"] = st.RefWith(Meta("ObjectMeta"), ObjectMetaDescription());
  props["apiVersion"] = TypeMetaApiVersion();
  props["kind"] = TypeMetaKind();
  s["x-kubernetes-group-version-kind"] = json::array({Gvk(r.group, r.version, r.kind)});
  return s;
}

json ListSchema(const OpenApiResource& r, const Style& st) {
  std::string list_kind = r.kind + "List";
  json s = {{"description", list_kind + " is a list of " + r.kind},
            {"type", "object"},
            {"required", {"items"}},
            {"properties",
             {{"apiVersion", TypeMetaApiVersion()},
              {"items",
               {{"description", "List of " + r.plural + ". More info: " + kConventions},
                {"type", "array"},
                {"items", st.RefOnly(DefinitionName(r, r.kind))}}},
              {"kind", TypeMetaKind()},
              {"metadata",
               st.RefWith(Meta("ListMeta"), "Standard list metadata. More info: " +
                                                std::string(kConventions) + "#types-kinds")}}}};
  if (IsCustom(r)) {
    s["x-kubernetes-group-version-kind"] = json::array({Gvk(r.group, r.version, list_kind)});
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Paths.

struct Route {
  std::string verb;    // list, create, deletecollection, read, replace, delete, patch
  std::string action;  // x-kubernetes-action: list, post, deletecollection, get, put, ...
  std::string subresource;
  bool all_namespaces = false;
};

class PathBuilder {
 public:
  PathBuilder(const OpenApiResource& r, const Style& st) : r_(r), st_(st) {}

  void AddTo(json& paths) {
    std::string prefix =
        r_.group.empty() ? "/api/" + r_.version : "/apis/" + r_.group + "/" + r_.version;
    std::string cluster = prefix + "/" + r_.plural;
    std::string root = cluster;
    if (r_.namespaced) {
      paths[cluster]["get"] = Operation({"list", "list", "", true});
      paths[cluster]["parameters"] = json::array({Pretty()});
      root = prefix + "/namespaces/{namespace}/" + r_.plural;
    }
    json& collection = paths[root];
    collection["get"] = Operation({"list", "list", "", false});
    collection["post"] = Operation({"create", "post", "", false});
    collection["delete"] = Operation({"deletecollection", "deletecollection", "", false});
    collection["parameters"] = PathParams(false);
    json& item = paths[root + "/{name}"];
    item["get"] = Operation({"read", "get", "", false});
    item["put"] = Operation({"replace", "put", "", false});
    item["delete"] = Operation({"delete", "delete", "", false});
    item["patch"] = Operation({"patch", "patch", "", false});
    item["parameters"] = PathParams(true);
    if (r_.has_status) {
      json& status = paths[root + "/{name}/status"];
      status["get"] = Operation({"read", "get", "status", false});
      status["put"] = Operation({"replace", "put", "status", false});
      status["patch"] = Operation({"patch", "patch", "status", false});
      status["parameters"] = PathParams(true);
    }
  }

 private:
  json Pretty() const {
    return Param(st_, "pretty", "query",
                 "If 'true', then the output is pretty printed. Defaults to 'false' unless the "
                 "user-agent indicates a browser or command-line HTTP tool (curl and wget).");
  }

  json PathParams(bool named) const {
    json params = json::array();
    if (named)
      params.push_back(Param(st_, "name", "path", "name of the " + r_.kind, "string", true));
    if (r_.namespaced) {
      params.push_back(Param(st_, "namespace", "path",
                             "object name and auth scope, such as for teams and projects", "string",
                             true));
    }
    params.push_back(Pretty());
    return params;
  }

  std::string Description(const Route& rt) const {
    std::string sub = rt.subresource.empty() ? "" : " " + rt.subresource + " of";
    if (rt.verb == "patch") return "partially update" + sub + " the specified " + r_.kind;
    if (rt.verb == "deletecollection") return "delete collection of " + r_.kind;
    if (rt.verb == "list") return "list" + sub + " objects of kind " + r_.kind;
    if (rt.verb == "read" || rt.verb == "replace") {
      return rt.verb + sub + " the specified " + r_.kind;
    }
    return rt.verb + sub + Article(r_.kind) + r_.kind;  // create, delete
  }

  std::string OperationId(const Route& rt) const {
    std::string sub = rt.subresource;
    if (!sub.empty()) sub[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sub[0])));
    std::string rest = (r_.namespaced && !rt.all_namespaces ? "Namespaced" : "") + r_.kind + sub +
                       (rt.all_namespaces ? "ForAllNamespaces" : "");
    return rt.verb + OperationIdPart(GroupForIds(r_.group), true) +
           OperationIdPart(r_.version, true) + rest;
  }

  std::string Tag() const {
    return OperationIdPart(GroupForIds(r_.group), false) + "_" + OperationIdPart(r_.version, false);
  }

  json Content(const std::vector<std::string>& types, const json& schema) const {
    json c = json::object();
    for (const std::string& t : types) c[t] = {{"schema", schema}};
    return c;
  }

  json Response(const std::string& description, const std::string& definition) const {
    json ref = st_.RefOnly(definition);
    if (!st_.v3) return {{"description", description}, {"schema", ref}};
    return {{"description", description},
            {"content", Content({"application/json", "application/yaml"}, ref)}};
  }

  json Operation(const Route& rt) const {
    const std::string self = DefinitionName(r_, r_.kind);
    const std::string list = DefinitionName(r_, r_.kind + "List");
    json op = {{"tags", {Tag()}},
               {"description", Description(rt)},
               {"operationId", OperationId(rt)},
               {"x-kubernetes-action", rt.action},
               {"x-kubernetes-group-version-kind", Gvk(r_.group, r_.version, r_.kind)}};
    json params = json::array();
    std::string body;
    std::vector<std::string> consumes = {"application/json", "application/yaml"};
    json responses = json::object();
    if (rt.verb == "list") {
      for (json& p : ListParams(st_)) params.push_back(std::move(p));
      responses["200"] = Response("OK", list);
    } else if (rt.verb == "deletecollection") {
      for (json& p : DeleteParams(st_)) params.push_back(std::move(p));
      for (json& p : ListParams(st_)) params.push_back(std::move(p));
      body = Meta("DeleteOptions");
      responses["200"] = Response("OK", Meta("Status"));
    } else if (rt.verb == "read") {
      params.push_back(Param(st_, "resourceVersion", "query",
                             "resourceVersion sets a constraint on what resource versions a "
                             "request may be served from."));
      responses["200"] = Response("OK", self);
    } else if (rt.verb == "create" || rt.verb == "replace") {
      params = {DryRun(st_), FieldManager(st_, false), FieldValidation(st_)};
      body = self;
      responses["200"] = Response("OK", self);
      responses["201"] = Response("Created", self);
      if (rt.verb == "create") responses["202"] = Response("Accepted", self);
    } else if (rt.verb == "delete") {
      params = DeleteParams(st_);
      body = Meta("DeleteOptions");
      responses["200"] = Response("OK", Meta("Status"));
      responses["202"] = Response("Accepted", Meta("Status"));
    } else if (rt.verb == "patch") {
      params = {DryRun(st_), FieldManager(st_, true), FieldValidation(st_), Force(st_)};
      body = Meta("Patch");
      consumes = {"application/json-patch+json", "application/merge-patch+json",
                  "application/apply-patch+yaml"};
      // Built-in kinds take strategic merge patches; custom resources do not.
      if (!IsCustom(r_)) consumes.push_back("application/strategic-merge-patch+json");
      responses["200"] = Response("OK", self);
      responses["201"] = Response("Created", self);
    }
    responses["401"] = {{"description", "Unauthorized"}};
    op["responses"] = responses;
    if (!params.empty()) op["parameters"] = params;
    if (!body.empty()) {
      if (st_.v3) {
        op["requestBody"] = {{"content", Content(consumes, st_.RefOnly(body))},
                             {"required", rt.verb != "delete" && rt.verb != "deletecollection"}};
      } else {
        op["consumes"] = consumes;
        json b = {{"name", "body"}, {"in", "body"}, {"schema", st_.RefOnly(body)}};
        if (rt.verb != "delete" && rt.verb != "deletecollection") b["required"] = true;
        op["parameters"].push_back(b);
      }
    }
    if (!st_.v3) {
      op["produces"] = {"application/json", "application/yaml"};
      op["schemes"] = {"https"};
      if (!op.contains("consumes")) op["consumes"] = {"*/*"};
    }
    return op;
  }

  const OpenApiResource& r_;
  const Style& st_;
};

void AddResource(const OpenApiResource& r, const Style& st, json& paths, json& schemas) {
  PathBuilder(r, st).AddTo(paths);
  const std::string builtin = IsCustom(r) ? "" : BuiltinDefinition(r);
  if (!builtin.empty() && builtin == DefinitionName(r, r.kind)) {
    schemas.erase(builtin);
    AddBuiltinDefinitions(builtin, st, schemas);
  } else {
    schemas[DefinitionName(r, r.kind)] = ResourceSchema(r, st);
  }
  schemas[DefinitionName(r, r.kind + "List")] = ListSchema(r, st);
}

}  // namespace

json BuildOpenApiV3Document(const std::string& group, const std::string& version,
                            const std::vector<OpenApiResource>& resources) {
  Style st{true};
  json paths = json::object();
  json schemas = MetaSchemas(st, group, version);
  for (const OpenApiResource& r : resources) {
    if (r.group != group || r.version != version) continue;
    AddResource(r, st, paths, schemas);
  }
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "unversioned"}}},
          {"paths", paths},
          {"components",
           {{"schemas", schemas},
            {"securitySchemes",
             {{"BearerToken",
               {{"type", "apiKey"},
                {"description", "Bearer Token authentication"},
                {"name", "authorization"},
                {"in", "header"}}}}}}},
          {"security", json::array({{{"BearerToken", json::array()}}})}};
}

std::string OpenApiDocumentHash(const json& document) { return Sha512Hex(document.dump()); }

json BuildOpenApiV2Document(const std::vector<OpenApiResource>& resources) {
  Style st{false};
  json paths = json::object();
  json definitions = MetaSchemas(st, "", "v1");
  for (const OpenApiResource& r : resources) AddResource(r, st, paths, definitions);
  return {{"swagger", "2.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "unversioned"}}},
          {"paths", paths},
          {"definitions", definitions},
          {"securityDefinitions",
           {{"BearerToken",
             {{"type", "apiKey"},
              {"description", "Bearer Token authentication"},
              {"name", "authorization"},
              {"in", "header"}}}}},
          {"security", json::array({{{"BearerToken", json::array()}}})}};
}

}  // namespace aidi::devcluster
