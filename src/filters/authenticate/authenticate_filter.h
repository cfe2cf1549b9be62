// AuthenticateFilter: turns `Authorization: Bearer <token>` into a Principal, or ends the request
// with 401 and `WWW-Authenticate: Bearer`. Routes marked Auth::kNone pass untouched.
#pragma once

#include "identity/service.h"
#include "pipeline/filter.h"

namespace gh::filters {

class AuthenticateFilter final : public pipeline::Filter {
 public:
  explicit AuthenticateFilter(const identity::IdentityService& identity) : identity_(identity) {}
  std::string_view name() const override { return "authenticate"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext& ctx) override;

 private:
  const identity::IdentityService& identity_;
};

}  // namespace gh::filters
