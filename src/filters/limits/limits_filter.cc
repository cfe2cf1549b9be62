#include "filters/limits/limits_filter.h"

#include "common/log.h"
#include "pipeline/router.h"

namespace gh::filters {

using pipeline::FilterStatus;

FilterStatus LimitsFilter::OnRequest(pipeline::RequestContext& ctx) {
  if (!ctx.route->chat_quota || !ctx.principal || !ctx.plan) return FilterStatus::kContinue;
  auto limits = quota_.LimitsFor(*ctx.tenant, ctx.principal->user_id, *ctx.plan);
  if (!limits.ok()) return ctx.Fail(std::move(limits).status());
  if (ctx.route
          ->admit_with_model_call) {  // admitted (or refused) by the handler's first model call
    ctx.reservation = quota_.PrepareTurn(ctx.principal->tenant_id, ctx.principal->user_id, *limits);
    return FilterStatus::kContinue;
  }
  auto r = quota_.ReserveTurn(ctx.principal->tenant_id, ctx.principal->user_id, *limits);
  if (!r.ok()) return ctx.Fail(std::move(r).status());
  ctx.reservation = std::move(*r);
  return FilterStatus::kContinue;
}

void LimitsFilter::OnResponse(pipeline::RequestContext& ctx) {
  if (!ctx.reservation || (!ctx.reservation->open && ctx.reservation->pending_adjust.empty()))
    return;
  Status st = quota_.Release(*ctx.reservation);
  if (!st.ok()) log::Error("releasing a quota reservation failed", {{"error", st.message()}});
}

}  // namespace gh::filters
