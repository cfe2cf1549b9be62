// AuthenticateFilter: turns `Authorization: Bearer <credential>` into a Principal, or ends the
// request with 401 and `WWW-Authenticate: Bearer`. Routes marked Auth::kNone pass untouched.
// The credential is an API key when it starts with `gh_` (resolved by ApiKeyService, groups read
// from the database; 401 `invalid_api_key`), else an ES256 access token, verified through a
// CachingTokenVerifier (successes cached by exact token, expiry re-checked on every hit). A token
// whose `iss` is a configured external identity provider (identity/external_idp.h) is verified
// with that provider's keys and resolved to a Gatehouse user of the tenant it names (cached the
// same way: the provider's user is looked up or created on a miss only).
#pragma once

#include <memory>
#include <vector>

#include "common/clock.h"
#include "identity/api_keys.h"
#include "identity/external_idp.h"
#include "identity/service.h"
#include "identity/token_cache.h"
#include "pipeline/filter.h"

namespace gh::filters {

struct ExternalAuth {
  std::vector<std::shared_ptr<identity::ExternalIssuer>> issuers;
  identity::ExternalIdentities* identities = nullptr;  // required when there are issuers
};

class AuthenticateFilter final : public pipeline::Filter {
 public:
  // `api_keys` may be null: API keys are then refused like any invalid token. The identity
  // service's verifier is looked up per miss (it exists only once the service is initialised).
  AuthenticateFilter(const identity::IdentityService& identity, identity::ApiKeyService* api_keys,
                     const Clock& clock, ExternalAuth external = {});
  std::string_view name() const override { return "authenticate"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext& ctx) override;

 private:
  identity::ApiKeyService* api_keys_;
  identity::CachingTokenVerifier tokens_;
};

}  // namespace gh::filters
