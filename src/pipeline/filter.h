// A filter does one thing — authenticate, resolve the tenant, reserve quota, meter — and either
// continues the chain or ends it with a reply. OnRequest runs in chain order; OnResponse runs in
// reverse order for every filter whose OnRequest ran, whatever the outcome, so metering sees
// rejections too. Filters never throw. One filter object serves all requests concurrently.
#pragma once

#include <string_view>

#include "pipeline/context.h"

namespace gh::pipeline {

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  virtual FilterStatus OnRequest(RequestContext& ctx) = 0;
  virtual void OnResponse(RequestContext& ctx) {}
};

}  // namespace gh::pipeline
