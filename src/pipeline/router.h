// Routes and the router. A route is a method, a path pattern with {named} segments, what the route
// requires of the caller (read by the filters), and a handler. Matching distinguishes "no such
// path" (404) from "path exists, method does not" (405 with Allow). Built once at start-up, then
// read-only and shared.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/stream.h"
#include "pipeline/context.h"

namespace gh::pipeline {

enum class Auth { kNone, kRequired };

using SyncHandler = std::function<Status(RequestContext&)>;
using AsyncHandler = std::function<http::Awaitable<Status>(RequestContext&)>;

struct RouteSpec {
  std::string method;
  std::string pattern;  // e.g. /api/tenants/{tenant_id}/usage
  Auth auth = Auth::kRequired;
  bool tenant_admin = false;       // caller must administer the tenant
  bool platform_operator = false;  // caller must be a platform operator
  bool chat_quota = false;         // a chat turn: reserve a message before the handler
  // With chat_quota: the limits filter only prepares the turn, and the handler's first model call
  // admits it in the same transaction as the call's reservation
  // (tenancy::QuotaService::PrepareTurn). For handlers that reserve a model call before they send
  // anything.
  bool admit_with_model_call = false;
  bool form_body = false;  // the body is application/x-www-form-urlencoded (OAuth endpoints)
  // How this route's errors look, the filters' refusals included; unset: Gatehouse's shape
  // (http::ErrorResponse). The OpenFGA-compatible routes answer in OpenFGA's shape.
  std::function<http::Response(const Status&)> error_response;
  SyncHandler sync;
  AsyncHandler async;
  bool has_json_body() const { return method == "POST" || method == "PUT" || method == "PATCH"; }
};

struct Match {
  const RouteSpec* route = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;  // methods on the path, when the method did not match
};

class Router {
 public:
  void Add(RouteSpec spec);
  Match Find(const std::string& method, const std::vector<std::string>& segments) const;
  const std::vector<std::unique_ptr<RouteSpec>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<RouteSpec>> routes_;
  std::vector<std::vector<std::string>> patterns_;  // split patterns, parallel to routes_
};

}  // namespace gh::pipeline
