// MeteringFilter: runs last on the way out for every request, rejections included, and annotates
// the access-log line with the tenant, the user and the error code. (Prometheus metrics and usage
// events hang off this filter as they arrive.)
#pragma once

#include "pipeline/filter.h"

namespace gh::filters {

class MeteringFilter final : public pipeline::Filter {
 public:
  std::string_view name() const override { return "metering"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext&) override { return pipeline::FilterStatus::kContinue; }
  void OnResponse(pipeline::RequestContext& ctx) override;
};

}  // namespace gh::filters
