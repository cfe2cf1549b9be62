// RequestContext: everything one request accumulates on its way through the filter chain — the
// route and its parameters, the authenticated principal, the tenant and its plan, a quota
// reservation — and the response. Owned by the chain for the duration of one request; filters and
// handlers borrow it. One thread at a time (the connection's).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "http/errors.h"
#include "http/message.h"
#include "http/stream.h"
#include "identity/principal.h"
#include "storage/records.h"
#include "tenancy/plan.h"
#include "tenancy/quota.h"

namespace gh::pipeline {

struct RouteSpec;

enum class FilterStatus { kContinue, kStop };

struct RequestContext {
  RequestContext(http::Request& req, http::Response& resp, http::ResponseStream& s)
      : request(req), response(resp), stream(s) {}

  http::Request& request;
  http::Response& response;
  http::ResponseStream& stream;
  const RouteSpec* route = nullptr;
  std::map<std::string, std::string> params;
  std::optional<identity::Principal> principal;
  std::optional<storage::TenantRecord> tenant;
  tenancy::PlanCatalogPtr plans;        // the snapshot this request uses
  const tenancy::Plan* plan = nullptr;  // points into `plans`
  std::optional<tenancy::Reservation> reservation;
  TraceId trace_id;
  Status outcome;  // the error that ended the request, if any
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  const std::string& Param(const std::string& name) const {
    static const std::string kEmpty;
    auto it = params.find(name);
    return it == params.end() ? kEmpty : it->second;
  }
  // Ends the request with an error response, in the route's error shape.
  FilterStatus Fail(Status status);
  void Reply(int status, std::string json_body) {
    response = http::Response::Json(status, std::move(json_body));
  }
};

}  // namespace gh::pipeline
