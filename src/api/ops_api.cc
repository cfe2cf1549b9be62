// Operational endpoints: liveness and readiness.
#include "api/json_io.h"
#include "api/services.h"

namespace gh::api {

using pipeline::Auth;
using pipeline::RequestContext;

void RegisterOpsRoutes(pipeline::Router& r, Services& s) {
  r.Add({.method = "GET",
         .pattern = "/healthz",
         .auth = Auth::kNone,
         .sync = [](RequestContext& ctx) -> Status {
           ReplyJson(ctx, 200, bj::object{{"status", "ok"}});
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/readyz",
         .auth = Auth::kNone,
         .sync = [&s](RequestContext& ctx) -> Status {
           Status st = s.db.Ping();
           if (!st.ok()) return Status::Unavailable("storage is not reachable", "not_ready");
           ReplyJson(ctx, 200, bj::object{{"status", "ready"}});
           return Status::Ok();
         }});
}

}  // namespace gh::api
