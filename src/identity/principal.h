// Principal: who is calling, as proven by a verified access token (or API key). Travels with the
// request through the pipeline, the agent and every tool call.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "common/ids.h"

namespace gh::identity {

struct Principal {
  UserId user_id;
  TenantId tenant_id;
  std::string email;
  std::string subscription_tier;
  std::vector<std::string> groups;
  std::string token_id;    // jti of the access token, or the API key id
  int64_t expires_at = 0;  // unix seconds; 0 for an API key (valid until revoked)
  bool api_key = false;    // authenticated by an API key rather than an access token
  bool platform_operator = false;

  bool IsTenantAdmin() const {
    const std::string admins = tenant_id.value() + "-admins";
    return std::find(groups.begin(), groups.end(), admins) != groups.end();
  }
  std::string role() const { return IsTenantAdmin() ? "admin" : "user"; }
};

}  // namespace gh::identity
