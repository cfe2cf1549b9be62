// AuthenticateFilter: turns `Authorization: Bearer <credential>` into a Principal, or ends the
// request with 401 and `WWW-Authenticate: Bearer`. Routes marked Auth::kNone pass untouched.
// The credential is an API key when it starts with `gh_` (resolved by ApiKeyService, groups read
// from the database; 401 `invalid_api_key`), else an ES256 access token, verified through a
// CachingTokenVerifier (successes cached by exact token, expiry re-checked on every hit).
#pragma once

#include "common/clock.h"
#include "identity/api_keys.h"
#include "identity/service.h"
#include "identity/token_cache.h"
#include "pipeline/filter.h"

namespace gh::filters {

class AuthenticateFilter final : public pipeline::Filter {
 public:
  // `api_keys` may be null: API keys are then refused like any invalid token. The identity
  // service's verifier is looked up per miss (it exists only once the service is initialised).
  AuthenticateFilter(const identity::IdentityService& identity, identity::ApiKeyService* api_keys,
                     const Clock& clock)
      : api_keys_(api_keys),
        tokens_([&identity](std::string_view t) { return identity.verifier().Verify(t); }, clock) {}
  std::string_view name() const override { return "authenticate"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext& ctx) override;

 private:
  identity::ApiKeyService* api_keys_;
  identity::CachingTokenVerifier tokens_;
};

}  // namespace gh::filters
