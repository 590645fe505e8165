// Internals shared by the ApiServer's source files: the per-request context and the helpers
// that encode responses and decode bodies. Not for use outside devcluster/api_server*.cc,
// discovery.cc, handlers_*.cc and gc.cc.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "devcluster/api_server.h"
#include "kube/core/selectors.h"

namespace aidi::devcluster {

struct ApiServer::Ctx {
  const http::Request& req;
  http::ResponseWriter& w;
  RequestInfo info;
  ResourceTypePtr rt;
  Clock::WallTime now;
  std::vector<std::string> warnings;  // sent as `Warning: 299 - "..."` headers
};

// Encodes a response body, replacing invalid UTF-8 rather than failing.
std::string DumpForResponse(const nlohmann::json& body);
void SendRaw(ApiServer::Ctx& c, int code, std::string_view content_type, std::string_view body);
void SendJson(ApiServer::Ctx& c, int code, const nlohmann::json& body,
              std::string_view content_type = "application/json");
void SendError(ApiServer::Ctx& c, const kube::ApiError& e);
http::ResponseWriter::Headers ResponseHeaders(const ApiServer::Ctx& c,
                                              std::string_view content_type);

// Decodes a JSON or YAML request body into an object; 415 for other content types, 400 for
// malformed input (naming the line/offset).
std::variant<kube::ApiError, nlohmann::json> DecodeBody(const ApiServer::Ctx& c,
                                                        bool allow_yaml = true);
// Parses YAML text (one document) into JSON, Kubernetes-style: unquoted scalars become
// numbers, booleans or null when they look like one.
std::variant<std::string, nlohmann::json> YamlToJson(const std::string& text,
                                                     bool reject_duplicate_keys = false);
// Every non-empty document of a YAML stream ("---" separated), or the parser's error.
std::variant<std::string, std::vector<nlohmann::json>> YamlStreamToJson(const std::string& text);

// Which stored objects a list, watch or deletecollection selects: namespace (empty: all),
// label selector, field selector (metadata.name, metadata.namespace and the type's selectable
// fields captured at write time).
struct ObjectFilter {
  std::string ns;
  kube::LabelSelector labels;
  kube::FieldSelector fields;

  bool Matches(const StoredObject& o) const {
    if (!ns.empty() && o.ns != ns) return false;
    if (!labels.Matches(o.labels)) return false;
    if (fields.Empty()) return true;
    return fields.Matches([&](std::string_view f) -> std::optional<std::string> {
      if (f == "metadata.name") return o.name;
      if (f == "metadata.namespace") return o.ns;
      auto it = o.fields.find(f);
      return it == o.fields.end() ? std::string() : it->second;
    });
  }
};

// How the client wants objects rendered.
enum class Rendering { kObject, kTable, kPartialMetadata };
struct OutputFormat {
  Rendering rendering = Rendering::kObject;
  std::string table_api_version = "meta.k8s.io/v1";
  std::string include_object = "Metadata";  // Table rows: None | Metadata | Object
};
std::variant<kube::ApiError, OutputFormat> NegotiateOutput(const ApiServer::Ctx& c);

// A Table (kind Table) for `objects` of type `rt`; `with_columns` false omits columnDefinitions
// (watch events after the first).
nlohmann::json BuildTable(const ResourceType& rt, const std::vector<nlohmann::json>& objects,
                          const OutputFormat& fmt, Clock::WallTime now, bool with_columns,
                          const std::string& rv, const std::string& cont);
nlohmann::json PartialMetadata(const nlohmann::json& obj);

std::string NewUid();
// generateName + 5 random characters from Kubernetes' alphabet.
std::string GenerateName(const std::string& prefix);

}  // namespace aidi::devcluster
