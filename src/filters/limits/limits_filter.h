// LimitsFilter: before a chat turn runs, admits it against the user's request rate and reserves
// one message at tenant and user, day and month (429 rate_limited / quota_exceeded with
// Retry-After when a limit is reached). On routes marked admit_with_model_call it only prepares
// the turn, and the handler's first model call admits it in the same transaction (one write
// instead of two; the refusals are the same, answered by the handler). The handler settles the
// reservation in its final transaction; whatever is still open when the response leaves (a
// failure before the model ran) is released here. Nothing is half-recorded.
#pragma once

#include "pipeline/filter.h"
#include "tenancy/quota.h"

namespace gh::filters {

class LimitsFilter final : public pipeline::Filter {
 public:
  explicit LimitsFilter(tenancy::QuotaService& quota) : quota_(quota) {}
  std::string_view name() const override { return "limits"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext& ctx) override;
  void OnResponse(pipeline::RequestContext& ctx) override;

 private:
  tenancy::QuotaService& quota_;
};

}  // namespace gh::filters
