#include "filters/tenant/tenant_filter.h"

#include "pipeline/router.h"

namespace gh::filters {

using pipeline::FilterStatus;

FilterStatus TenantFilter::OnRequest(pipeline::RequestContext& ctx) {
  if (!ctx.principal) return FilterStatus::kContinue;
  const identity::Principal& who = *ctx.principal;
  auto found = directory_.Tenant(who.tenant_id);
  if (!found.ok()) return ctx.Fail(std::move(found).status());
  std::optional<storage::TenantRecord> tenant = std::move(found).value();
  if (!tenant)
    return ctx.Fail(Status::Unauthenticated("the token's tenant does not exist", "invalid_token"));
  if (tenant->status == "suspended")
    return ctx.Fail(Status::PermissionDenied("this organisation is suspended", "tenant_suspended"));
  ctx.plans = plans_();
  ctx.plan = ctx.plans->Find(tenant->tier);
  if (!ctx.plan)
    return ctx.Fail(
        Status::Internal("tenant " + tenant->id.value() + " has unknown plan " + tenant->tier));
  ctx.principal->subscription_tier = tenant->tier;
  ctx.tenant = std::move(tenant);

  if (ctx.route->platform_operator) {
    if (!who.platform_operator)
      return ctx.Fail(Status::PermissionDenied("platform operators only"));
    return FilterStatus::kContinue;
  }
  auto it = ctx.params.find("tenant_id");
  if (it != ctx.params.end() && it->second != who.tenant_id.value())
    return ctx.Fail(Status::PermissionDenied("you can only access your own tenant"));
  if (ctx.route->tenant_admin && !who.IsTenantAdmin())
    return ctx.Fail(Status::PermissionDenied("tenant admins only"));
  return FilterStatus::kContinue;
}

}  // namespace gh::filters
