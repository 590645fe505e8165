#include "kube/core/api_status.h"

using nlohmann::json;

namespace aidi::kube {
namespace {

json BaseBody(int code, std::string_view reason, std::string_view message) {
  json body = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
               {"status", "Failure"}, {"message", message}, {"reason", reason},
               {"code", code}};
  return body;
}

json Details(const GroupResource& gr, std::string_view name) {
  json d = json::object();
  if (!name.empty()) d["name"] = name;
  if (!gr.group.empty()) d["group"] = gr.group;
  d["kind"] = gr.resource;
  return d;
}

std::string Quote(std::string_view s) {
  // Go's %q for the plain names Kubernetes allows; escapes quotes and backslashes otherwise.
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace

ApiError NewNotFound(const GroupResource& gr, std::string_view name) {
  ApiError e{404, BaseBody(404, "NotFound", gr.String() + " " + Quote(name) + " not found"), {}};
  e.body["details"] = Details(gr, name);
  return e;
}

ApiError NewAlreadyExists(const GroupResource& gr, std::string_view name) {
  ApiError e{
      409, BaseBody(409, "AlreadyExists", gr.String() + " " + Quote(name) + " already exists"), {}};
  e.body["details"] = Details(gr, name);
  return e;
}

ApiError NewConflict(const GroupResource& gr, std::string_view name, std::string_view why) {
  std::string msg = "Operation cannot be fulfilled on " + gr.String() + " " + Quote(name) + ": ";
  msg += why;
  ApiError e{409, BaseBody(409, "Conflict", msg), {}};
  e.body["details"] = Details(gr, name);
  return e;
}

ApiError NewResourceVersionConflict(const GroupResource& gr, std::string_view name) {
  return NewConflict(gr, name,
                     "the object has been modified; please apply your changes to the latest "
                     "version and try again");
}

ApiError NewInvalid(std::string_view group, std::string_view kind, std::string_view name,
                    const std::vector<StatusCause>& causes) {
  std::string qualified(kind);
  if (!group.empty()) qualified += "." + std::string(group);
  std::string msg = qualified + " " + Quote(name) + " is invalid: ";
  if (causes.size() == 1) {
    msg += causes[0].field.empty() ? causes[0].message : causes[0].field + ": " + causes[0].message;
  } else {
    msg += "[";
    for (std::size_t i = 0; i < causes.size(); ++i) {
      if (i) msg += ", ";
      msg +=
          causes[i].field.empty() ? causes[i].message : causes[i].field + ": " + causes[i].message;
    }
    msg += "]";
  }
  ApiError e{422, BaseBody(422, "Invalid", msg), {}};
  json details = json::object();
  if (!name.empty()) details["name"] = name;
  if (!group.empty()) details["group"] = group;
  details["kind"] = kind;
  json arr = json::array();
  for (const auto& c : causes) {
    arr.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
  }
  details["causes"] = arr;
  e.body["details"] = details;
  return e;
}

ApiError NewBadRequest(std::string_view message) {
  return {400, BaseBody(400, "BadRequest", message), {}};
}

ApiError NewUnauthorized(std::string_view message) {
  return {401, BaseBody(401, "Unauthorized", message), {}};
}

ApiError NewForbidden(const GroupResource& gr, std::string_view name, std::string_view why) {
  std::string msg = gr.String();
  if (!name.empty()) msg += " " + Quote(name);
  msg += " is forbidden: ";
  msg += why;
  ApiError e{403, BaseBody(403, "Forbidden", msg), {}};
  e.body["details"] = Details(gr, name);
  return e;
}

ApiError NewMethodNotAllowed() {
  return {405,
          BaseBody(405, "MethodNotAllowed",
                   "the server does not allow this method on the requested resource"),
          {}};
}

ApiError NewNotAcceptable(std::string_view message) {
  return {406, BaseBody(406, "NotAcceptable", message), {}};
}

ApiError NewUnsupportedMediaType(std::string_view message) {
  return {415, BaseBody(415, "UnsupportedMediaType", message), {}};
}

ApiError NewRequestEntityTooLarge(std::size_t limit_bytes) {
  return {413,
          BaseBody(413, "RequestEntityTooLarge",
                   "Request entity too large: limit is " + std::to_string(limit_bytes)),
          {}};
}

ApiError NewGone(std::string_view message) { return {410, BaseBody(410, "Gone", message), {}}; }

ApiError NewResourceExpired(std::string_view message) {
  return {410, BaseBody(410, "Expired", message), {}};
}

ApiError NewTooManyRequests(std::string_view message, int retry_after_seconds) {
  ApiError e{429, BaseBody(429, "TooManyRequests", message), retry_after_seconds};
  e.body["details"] = {{"retryAfterSeconds", retry_after_seconds}};
  return e;
}

ApiError NewInternalError(std::string_view message) {
  ApiError e{
      500, BaseBody(500, "InternalError", "Internal error occurred: " + std::string(message)), {}};
  e.body["details"] = {{"causes", json::array({{{"message", message}}})}};
  return e;
}

ApiError NewServerTimeout(std::string_view message, int retry_after_seconds) {
  ApiError e{504, BaseBody(504, "Timeout", message), retry_after_seconds};
  e.body["details"] = {{"retryAfterSeconds", retry_after_seconds}};
  return e;
}

ApiError NewServiceUnavailable(std::string_view message) {
  return {503, BaseBody(503, "ServiceUnavailable", message), {}};
}

ApiError NewNoResource() {
  ApiError e{
      404, BaseBody(404, "NotFound", "the server could not find the requested resource"), {}};
  e.body["details"] = json::object();
  return e;
}

StatusCode StatusCodeFromReason(std::string_view reason, int http_code) {
  if (reason == "NotFound") return StatusCode::kNotFound;
  if (reason == "AlreadyExists") return StatusCode::kAlreadyExists;
  if (reason == "Conflict") return StatusCode::kConflict;
  if (reason == "Invalid") return StatusCode::kInvalid;
  if (reason == "Expired" || reason == "Gone") return StatusCode::kExpired;
  if (reason == "Unauthorized") return StatusCode::kUnauthorized;
  if (reason == "Forbidden") return StatusCode::kForbidden;
  if (reason == "TooManyRequests") return StatusCode::kTooManyRequests;
  if (reason == "BadRequest") return StatusCode::kInvalidArgument;
  if (reason == "MethodNotAllowed") return StatusCode::kMethodNotAllowed;
  if (reason == "NotAcceptable") return StatusCode::kNotAcceptable;
  if (reason == "UnsupportedMediaType") return StatusCode::kUnsupportedMediaType;
  if (reason == "RequestEntityTooLarge") return StatusCode::kRequestEntityTooLarge;
  if (reason == "Timeout") return StatusCode::kTimeout;
  if (reason == "ServiceUnavailable") return StatusCode::kUnavailable;
  if (reason == "InternalError") return StatusCode::kInternal;
  switch (http_code) {
    case 400:
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthorized;
    case 403:
      return StatusCode::kForbidden;
    case 404:
      return StatusCode::kNotFound;
    case 405:
      return StatusCode::kMethodNotAllowed;
    case 406:
      return StatusCode::kNotAcceptable;
    case 409:
      return StatusCode::kConflict;
    case 410:
      return StatusCode::kExpired;
    case 413:
      return StatusCode::kRequestEntityTooLarge;
    case 415:
      return StatusCode::kUnsupportedMediaType;
    case 422:
      return StatusCode::kInvalid;
    case 429:
      return StatusCode::kTooManyRequests;
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kTimeout;
    default:
      return StatusCode::kInternal;
  }
}

Status StatusFromResponse(int http_code, std::string_view body) {
  if (http_code >= 200 && http_code < 300) return Status::Ok();
  std::string reason;
  std::string message;
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  // Not value("kind", ""): it throws when "kind" is not a string, and bodies come off the network.
  if (parsed.is_object() && parsed.contains("kind") && parsed["kind"] == "Status") {
    if (parsed.contains("reason") && parsed["reason"].is_string()) reason = parsed["reason"];
    if (parsed.contains("message") && parsed["message"].is_string()) message = parsed["message"];
  }
  if (message.empty()) {
    message = "HTTP " + std::to_string(http_code);
    if (!body.empty()) message += ": " + std::string(body.substr(0, 256));
  }
  return {StatusCodeFromReason(reason, http_code), message};
}

}  // namespace aidi::kube
