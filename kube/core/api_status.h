// metav1.Status bodies: the exact error bodies kube-apiserver sends, and the reverse mapping
// from a response back to a named aidi::Status code.
//
// The server side (devcluster) builds bodies with the helpers below so clients see the same
// reasons, messages and details a real cluster gives (k8s.io/apimachinery/pkg/api/errors). The
// client side turns any non-2xx response into a Status whose code is the reason
// (NotFound, Conflict, AlreadyExists, Invalid, Expired, TooManyRequests, ...). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace aidi::kube {

// A group-qualified resource ("pods", "pipelines.aidi.dev") as errors name it.
struct GroupResource {
  std::string group;
  std::string resource;
  std::string String() const { return group.empty() ? resource : resource + "." + group; }
};

// An API error ready to send: HTTP code plus the Status body.
struct ApiError {
  int code = 500;
  nlohmann::json body;  // {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",...}
  std::optional<int> retry_after_seconds;  // Retry-After header for 429/503/504
};

// One cause inside details.causes (a field error).
struct StatusCause {
  std::string reason;  // "FieldValueInvalid"
  std::string message;
  std::string field;
};

ApiError NewNotFound(const GroupResource& gr, std::string_view name);
ApiError NewAlreadyExists(const GroupResource& gr, std::string_view name);
// "Operation cannot be fulfilled on pods \"x\": <why>"
ApiError NewConflict(const GroupResource& gr, std::string_view name, std::string_view why);
// The standard optimistic-concurrency conflict message.
ApiError NewResourceVersionConflict(const GroupResource& gr, std::string_view name);
// `kind` is the group-qualified kind ("Pipeline.aidi.dev", or "Pod"); causes in document order.
ApiError NewInvalid(std::string_view group, std::string_view kind, std::string_view name,
                    const std::vector<StatusCause>& causes);
ApiError NewBadRequest(std::string_view message);
ApiError NewUnauthorized(std::string_view message = "Unauthorized");
ApiError NewForbidden(const GroupResource& gr, std::string_view name, std::string_view why);
ApiError NewMethodNotAllowed();
ApiError NewNotAcceptable(std::string_view message);
ApiError NewUnsupportedMediaType(std::string_view message);
ApiError NewRequestEntityTooLarge(std::size_t limit_bytes);
ApiError NewGone(std::string_view message);             // 410 reason Gone (rare)
ApiError NewResourceExpired(std::string_view message);  // 410 reason Expired
ApiError NewTooManyRequests(std::string_view message, int retry_after_seconds);
ApiError NewInternalError(std::string_view message);
ApiError NewServerTimeout(std::string_view message, int retry_after_seconds);  // 504 Timeout
ApiError NewServiceUnavailable(std::string_view message);
// The 404 for a path that names no resource at all.
ApiError NewNoResource();

// Maps an HTTP response to a Status. A Status body's reason wins; otherwise the HTTP code
// decides. 2xx returns OK.
Status StatusFromResponse(int http_code, std::string_view body);

// The Status code for a metav1 StatusReason ("NotFound" -> kNotFound); kInternal if unknown.
StatusCode StatusCodeFromReason(std::string_view reason, int http_code);

}  // namespace aidi::kube
