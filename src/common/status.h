// Status and Result<T>: errors are values.
//
// A Status is a category (StatusCode, which decides the HTTP status at the edge), a stable
// machine-readable error code ("quota_exceeded", "invalid_request", ...), a human message, and
// optional details that travel to the JSON error body (e.g. limit, retry_after). OK is cheap.
// Result<T> holds either a T or a non-OK Status. Both are [[nodiscard]]. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gh {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // 400: malformed input, missing field
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kNotFound,            // 404
  kMethodNotAllowed,    // 405
  kConflict,            // 409: duplicate, busy
  kPayloadTooLarge,     // 413
  kUnsupportedMedia,    // 415
  kUnprocessable,       // 422: well-formed but semantically invalid
  kResourceExhausted,   // 429: quotas, rate limits, lockouts
  kFailedPrecondition,  // 412-ish states; mapped to 409
  kUnavailable,         // 503: dependency down
  kDeadlineExceeded,    // 504
  kBadGateway,          // 502: an upstream answered badly
  kCancelled,           // client went away
  kInternal,            // 500: never leaks details to clients
};

// One detail value carried to the JSON error body.
using DetailValue = std::variant<std::string, int64_t>;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string error_code, std::string message)
      : code_(code), error_code_(std::move(error_code)), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg, std::string code = "invalid_request") {
    return {StatusCode::kInvalidArgument, std::move(code), std::move(msg)};
  }
  static Status Unauthenticated(std::string msg, std::string code = "unauthenticated") {
    return {StatusCode::kUnauthenticated, std::move(code), std::move(msg)};
  }
  static Status PermissionDenied(std::string msg, std::string code = "forbidden") {
    return {StatusCode::kPermissionDenied, std::move(code), std::move(msg)};
  }
  static Status NotFound(std::string msg, std::string code = "not_found") {
    return {StatusCode::kNotFound, std::move(code), std::move(msg)};
  }
  static Status Conflict(std::string msg, std::string code = "conflict") {
    return {StatusCode::kConflict, std::move(code), std::move(msg)};
  }
  static Status Unprocessable(std::string msg, std::string code = "unprocessable") {
    return {StatusCode::kUnprocessable, std::move(code), std::move(msg)};
  }
  static Status ResourceExhausted(std::string msg, std::string code = "quota_exceeded") {
    return {StatusCode::kResourceExhausted, std::move(code), std::move(msg)};
  }
  static Status FailedPrecondition(std::string msg, std::string code = "failed_precondition") {
    return {StatusCode::kFailedPrecondition, std::move(code), std::move(msg)};
  }
  static Status Unavailable(std::string msg, std::string code = "unavailable") {
    return {StatusCode::kUnavailable, std::move(code), std::move(msg)};
  }
  static Status BadGateway(std::string msg, std::string code = "upstream_error") {
    return {StatusCode::kBadGateway, std::move(code), std::move(msg)};
  }
  static Status DeadlineExceeded(std::string msg, std::string code = "timeout") {
    return {StatusCode::kDeadlineExceeded, std::move(code), std::move(msg)};
  }
  static Status Cancelled(std::string msg, std::string code = "cancelled") {
    return {StatusCode::kCancelled, std::move(code), std::move(msg)};
  }
  static Status Internal(std::string msg, std::string code = "internal") {
    return {StatusCode::kInternal, std::move(code), std::move(msg)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& error_code() const { return error_code_; }
  const std::string& message() const { return message_; }
  const std::vector<std::pair<std::string, DetailValue>>& details() const { return details_; }
  std::optional<int64_t> retry_after_seconds() const { return retry_after_; }

  Status& WithDetail(std::string key, DetailValue value) & {
    details_.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  Status&& WithDetail(std::string key, DetailValue value) && {
    details_.emplace_back(std::move(key), std::move(value));
    return std::move(*this);
  }
  Status&& WithRetryAfter(int64_t seconds) && {
    retry_after_ = seconds;
    return std::move(*this);
  }
  // Prefixes the message with context, keeping the code.
  Status&& Annotate(std::string_view context) && {
    message_ = std::string(context) + ": " + message_;
    return std::move(*this);
  }

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string error_code_;
  std::string message_;
  std::vector<std::pair<std::string, DetailValue>> details_;
  std::optional<int64_t> retry_after_;
};

std::string_view StatusCodeName(StatusCode code);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  const Status& status() const& {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  Status status() && { return ok() ? Status() : std::move(std::get<1>(v_)); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace gh

#define GH_CONCAT_INNER(a, b) a##b
#define GH_CONCAT(a, b) GH_CONCAT_INNER(a, b)

#define GH_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::gh::Status gh_status_ = (expr);        \
    if (!gh_status_.ok()) return gh_status_; \
  } while (0)

#define GH_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()

#define GH_ASSIGN_OR_RETURN(lhs, expr) \
  GH_ASSIGN_OR_RETURN_IMPL(GH_CONCAT(gh_result_, __LINE__), lhs, expr)

// Coroutine flavours.
#define GH_CO_RETURN_IF_ERROR(expr)             \
  do {                                          \
    ::gh::Status gh_status_ = (expr);           \
    if (!gh_status_.ok()) co_return gh_status_; \
  } while (0)

#define GH_CO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) co_return std::move(tmp).status(); \
  lhs = std::move(tmp).value()

#define GH_CO_ASSIGN_OR_RETURN(lhs, expr) \
  GH_CO_ASSIGN_OR_RETURN_IMPL(GH_CONCAT(gh_result_, __LINE__), lhs, expr)
