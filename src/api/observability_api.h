// Cost reports, budgets, traces, the audit trail and Prometheus metrics over HTTP (see
// docs/api.md). The handlers translate between the wire and metering::Metering; tenant isolation
// comes from the tenant filter (a caller stays inside their own /tenants/{tenant_id}/) and from
// every query taking the caller's tenant.
#pragma once

#include <string>

#include "metering/metering.h"
#include "pipeline/router.h"

namespace gh::api {

struct ObservabilityOptions {
  std::string metrics_bearer_token;  // when set, GET /metrics requires it
};

void RegisterCostRoutes(pipeline::Router& router, metering::Metering& metering);
void RegisterTraceRoutes(pipeline::Router& router, metering::Metering& metering);
void RegisterMetricsRoutes(pipeline::Router& router, metering::Metering& metering,
                           ObservabilityOptions options = {});

}  // namespace gh::api
