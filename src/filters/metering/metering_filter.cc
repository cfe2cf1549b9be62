#include "filters/metering/metering_filter.h"

#include "pipeline/router.h"

namespace gh::filters {

void MeteringFilter::OnResponse(pipeline::RequestContext& ctx) {
  auto& f = ctx.response.log_fields;
  if (ctx.route) f.emplace_back("route", ctx.route->pattern);
  if (ctx.principal) {
    f.emplace_back("tenant_id", ctx.principal->tenant_id.value());
    f.emplace_back("user_id", ctx.principal->user_id.value());
  }
  if (!ctx.trace_id.empty()) f.emplace_back("trace_id", ctx.trace_id.value());
  if (!ctx.outcome.ok() && ctx.stream.begun()) f.emplace_back("stream_error", ctx.outcome.error_code());
}

}  // namespace gh::filters
