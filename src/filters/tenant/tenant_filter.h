// TenantFilter: resolves the caller's tenant and its current plan (through the tenancy::Directory:
// a change made through this process takes effect on the next request, one made by another
// process within the directory's TTL), refuses suspended tenants (403 tenant_suspended),
// keeps callers inside their own tenant on /tenants/{tenant_id}/ paths (403), and enforces the
// route's role requirement (tenant admin, platform operator).
#pragma once

#include <functional>

#include "pipeline/filter.h"
#include "tenancy/directory.h"

namespace gh::filters {

class TenantFilter final : public pipeline::Filter {
 public:
  TenantFilter(tenancy::Directory& directory, std::function<tenancy::PlanCatalogPtr()> plans)
      : directory_(directory), plans_(std::move(plans)) {}
  std::string_view name() const override { return "tenant"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext& ctx) override;

 private:
  tenancy::Directory& directory_;
  std::function<tenancy::PlanCatalogPtr()> plans_;
};

}  // namespace gh::filters
