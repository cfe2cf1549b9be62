// GET /metrics: Prometheus text exposition. Open by default (like most exporters, it is meant for
// a scraper on the operator's network and carries no tenant data); with metrics.bearer_token set
// it requires `Authorization: Bearer <token>`.
#include "api/observability_api.h"
#include "common/strings.h"

namespace gh::api {

using pipeline::RequestContext;

void RegisterMetricsRoutes(pipeline::Router& r, metering::Metering& m,
                           ObservabilityOptions options) {
  r.Add({.method = "GET",
         .pattern = "/metrics",
         .auth = pipeline::Auth::kNone,
         .sync = [&m, token = options.metrics_bearer_token](RequestContext& ctx) -> Status {
           if (!token.empty()) {
             auto h = ctx.request.Header("authorization");
             if (!h || !ConstantTimeEquals(*h, "Bearer " + token))
               return Status::Unauthenticated("the metrics endpoint needs its bearer token",
                                              "invalid_token");
           }
           ctx.response = http::Response::Text(200, m.metrics().Serialize(),
                                               "text/plain; version=0.0.4; charset=utf-8");
           return Status::Ok();
         }});
}

}  // namespace gh::api
