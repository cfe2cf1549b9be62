#include "filters/authenticate/authenticate_filter.h"

#include <algorithm>

#include "common/strings.h"
#include "pipeline/router.h"

namespace gh::filters {

using pipeline::FilterStatus;

AuthenticateFilter::AuthenticateFilter(const identity::IdentityService& identity,
                                       identity::ApiKeyService* api_keys, const Clock& clock,
                                       ExternalAuth external)
    : api_keys_(api_keys),
      tokens_(
          [&identity,
           external = std::move(external)](std::string_view t) -> Result<identity::AccessClaims> {
            if (!external.issuers.empty()) {
              const std::string iss = identity::UnverifiedIssuer(t);
              for (const auto& issuer : external.issuers) {
                if (iss != issuer->options().issuer) continue;
                GH_ASSIGN_OR_RETURN(identity::AccessClaims claims, issuer->Verify(t));
                GH_ASSIGN_OR_RETURN(claims.principal,
                                    external.identities->Resolve(issuer->options(), claims));
                return claims;
              }
            }
            return identity.verifier().Verify(t);
          },
          clock) {}

FilterStatus AuthenticateFilter::OnRequest(pipeline::RequestContext& ctx) {
  if (ctx.route->auth == pipeline::Auth::kNone) return FilterStatus::kContinue;
  auto header = ctx.request.Header("authorization");
  auto challenge = [&](Status st) {
    ctx.Fail(std::move(st));
    ctx.response.headers.Set("www-authenticate", "Bearer realm=\"gatehouse\"");
    return FilterStatus::kStop;
  };
  if (!header) return challenge(Status::Unauthenticated("missing bearer token"));
  std::string_view value = Trim(*header);
  if (value.size() < 7 || ToLower(value.substr(0, 7)) != "bearer ")
    return challenge(Status::Unauthenticated("authorization must use the Bearer scheme"));
  const std::string_view credential = Trim(value.substr(7));
  identity::Principal p;
  if (identity::ApiKeyService::LooksLikeApiKey(credential)) {
    if (!api_keys_)
      return challenge(Status::Unauthenticated("the API key is not valid", "invalid_api_key"));
    auto resolved = api_keys_->Authenticate(credential);
    if (!resolved.ok()) return challenge(std::move(resolved).status());
    p = std::move(resolved).value();
  } else {
    auto claims = tokens_.Verify(credential);
    if (!claims.ok()) return challenge(std::move(claims).status());
    p = std::move(claims->principal);
  }
  p.platform_operator =
      std::find(p.groups.begin(), p.groups.end(), "platform-operators") != p.groups.end();
  ctx.principal = std::move(p);
  return FilterStatus::kContinue;
}

}  // namespace gh::filters
