// TenantFilter: resolves the caller's tenant and its current plan (read per request, so a plan
// change takes effect on the next request), refuses suspended tenants (403 tenant_suspended),
// keeps callers inside their own tenant on /tenants/{tenant_id}/ paths (403), and enforces the
// route's role requirement (tenant admin, platform operator).
#pragma once

#include <functional>

#include "pipeline/filter.h"
#include "storage/database.h"

namespace gh::filters {

class TenantFilter final : public pipeline::Filter {
 public:
  TenantFilter(storage::Database& db, std::function<tenancy::PlanCatalogPtr()> plans)
      : db_(db), plans_(std::move(plans)) {}
  std::string_view name() const override { return "tenant"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext& ctx) override;

 private:
  storage::Database& db_;
  std::function<tenancy::PlanCatalogPtr()> plans_;
};

}  // namespace gh::filters
