// Token exchange (RFC 8693) for a tenant's trusted backend clients: the client presents a user's
// Gatehouse access token (the subject token, verified by the caller against the issuer) and names
// one of the tenant's connections as the audience; the answer is that user's access token at the
// connection, from the vault (refreshed first when it is about to expire).
//
// Errors carry the RFC's codes as the Status error code: invalid_request (missing or malformed
// parameters, unsupported token types), unauthorized_client (the client may not exchange),
// invalid_grant (the subject token is not valid for this client), invalid_target (no such
// connection, or the user has no usable account there), invalid_scope (more than the account
// holds). Stateless apart from the vault; thread-safe.
#pragma once

#include <string>

#include "common/ids.h"
#include "storage/vault_repository.h"
#include "vault/vault.h"

namespace gh::vault {

inline constexpr const char* kTokenExchangeGrant =
    "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr const char* kAccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

struct ExchangeRequest {
  TenantId subject_tenant;  // from the verified subject token
  UserId subject_user;
  std::string subject_token_type;
  std::string requested_token_type;  // empty: access_token
  std::string audience;              // the connection id
  std::string resource;              // alternatively: urn:gatehouse:connection:<id>, or the id
  std::string scope;                 // optional: must be within the account's scope
};

struct ExchangeResult {
  Secret access_token;
  std::string issued_token_type = kAccessTokenType;
  std::string token_type = "Bearer";
  std::optional<int64_t> expires_in;
  std::string scope;
};

Awaitable<Result<ExchangeResult>> ExchangeForConnection(TokenVault& vault,
                                                        const storage::OAuthClientRecord& client,
                                                        const ExchangeRequest& request,
                                                        const Clock& clock);

}  // namespace gh::vault
