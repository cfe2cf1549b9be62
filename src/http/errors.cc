#include "http/errors.h"

#include <fmt/format.h>

#include "common/log.h"

namespace gh::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kMethodNotAllowed:
      return 405;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnsupportedMedia:
      return 415;
    case StatusCode::kUnprocessable:
      return 422;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kBadGateway:
      return 502;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
  }
  return 500;
}

std::string ErrorBody(const Status& status) {
  const bool internal = status.code() == StatusCode::kInternal;
  std::string out =
      fmt::format(R"({{"error":{{"code":"{}","message":"{}")",
                  log::JsonEscape(internal ? "internal" : status.error_code()),
                  log::JsonEscape(internal ? "internal server error" : status.message()));
  if (!internal) {
    for (const auto& [k, v] : status.details()) {
      out += fmt::format(R"(,"{}":)", log::JsonEscape(k));
      if (auto* s = std::get_if<std::string>(&v))
        out += "\"" + log::JsonEscape(*s) + "\"";
      else
        out += std::to_string(std::get<int64_t>(v));
    }
    if (status.retry_after_seconds())
      out += fmt::format(R"(,"retry_after":{})", *status.retry_after_seconds());
  }
  out += "}}";
  return out;
}

Response ErrorResponse(const Status& status) {
  Response r = Response::Json(HttpStatusFor(status.code()), ErrorBody(status));
  if (status.retry_after_seconds())
    r.headers.Set("retry-after", std::to_string(*status.retry_after_seconds()));
  r.log_fields.emplace_back(
      "error_code", status.code() == StatusCode::kInternal ? "internal" : status.error_code());
  if (status.code() == StatusCode::kInternal)
    log::Error("internal error", {{"detail", status.message()}});
  return r;
}

Response ErrorResponse(int http_status, std::string_view code, std::string_view message) {
  Response r =
      Response::Json(http_status, fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})",
                                              log::JsonEscape(code), log::JsonEscape(message)));
  r.log_fields.emplace_back("error_code", std::string(code));
  return r;
}

}  // namespace gh::http
