// Status and StatusOr: how every fallible call in aidi reports failure.
//
// A Status is a code plus a human message. The codes mirror the handful of outcomes Kubernetes
// API calls and our own components care about (NotFound, Conflict, Expired, ...), so callers
// branch on named predicates (`IsNotFound()`) rather than on HTTP numbers. StatusOr<T> holds a
// value or a non-OK Status. Both are plain values: copy them freely; they are not synchronised,
// so share one between threads only behind your own lock.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace aidi {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,        // malformed input: 400 BadRequest
  kNotFound,               // 404
  kAlreadyExists,          // 409 on create
  kConflict,               // 409 on a stale write
  kInvalid,                // 422: well-formed but fails validation
  kExpired,                // 410: resourceVersion or continue token too old
  kUnauthorized,           // 401
  kForbidden,              // 403
  kTooManyRequests,        // 429
  kMethodNotAllowed,       // 405
  kUnsupportedMediaType,   // 415
  kNotAcceptable,          // 406
  kRequestEntityTooLarge,  // 413
  kTimeout,                // 504 / a deadline passed
  kUnavailable,            // 503, connection refused, the server is going away
  kInternal,               // 500 and "cannot happen"
  kCancelled,              // the caller asked to stop
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status Invalid(std::string m) { return {StatusCode::kInvalid, std::move(m)}; }
  static Status Expired(std::string m) { return {StatusCode::kExpired, std::move(m)}; }
  static Status Unauthorized(std::string m) { return {StatusCode::kUnauthorized, std::move(m)}; }
  static Status Forbidden(std::string m) { return {StatusCode::kForbidden, std::move(m)}; }
  static Status TooManyRequests(std::string m) {
    return {StatusCode::kTooManyRequests, std::move(m)};
  }
  static Status Timeout(std::string m) { return {StatusCode::kTimeout, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsConflict() const { return code_ == StatusCode::kConflict; }
  bool IsInvalid() const { return code_ == StatusCode::kInvalid; }
  bool IsExpired() const { return code_ == StatusCode::kExpired; }
  bool IsTooManyRequests() const { return code_ == StatusCode::kTooManyRequests; }
  bool IsUnauthorized() const { return code_ == StatusCode::kUnauthorized; }

  // "NotFound: pods \"x\" not found"; "OK" when ok.
  std::string ToString() const;

  // Prefixes the message with where it happened, keeping the code.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    // An OK status carries no value: that is a programming error, not a runtime condition.
    assert(!std::get<Status>(v_).ok());
  }
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace aidi

// Returns from the current function when `expr` (a Status) is not OK.
#define AIDI_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::aidi::Status aidi_status_ = (expr);        \
    if (!aidi_status_.ok()) return aidi_status_; \
  } while (0)

#define AIDI_CONCAT_INNER(a, b) a##b
#define AIDI_CONCAT(a, b) AIDI_CONCAT_INNER(a, b)
// AIDI_ASSIGN_OR_RETURN(auto x, Fn()): binds the value or returns the error.
#define AIDI_ASSIGN_OR_RETURN(lhs, expr) \
  AIDI_ASSIGN_OR_RETURN_IMPL(AIDI_CONCAT(aidi_or_, __LINE__), lhs, expr)
#define AIDI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()
