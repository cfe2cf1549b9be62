// The one place where a Status becomes an HTTP status and a stable JSON error body:
// {"error":{"code":"...","message":"...", ...details}}. Internal errors never leak their message.
#pragma once

#include "common/status.h"
#include "http/message.h"

namespace gh::http {

int HttpStatusFor(StatusCode code);
std::string ErrorBody(const Status& status);
Response ErrorResponse(const Status& status);
Response ErrorResponse(int http_status, std::string_view code, std::string_view message);

}  // namespace gh::http
