// ClientRegistry: a tenant's trusted backend clients — services of the tenant that call
// Gatehouse's OAuth endpoints (CIBA at /bc-authorize, token exchange at /oauth/token). A tenant
// admin creates one with a name and the grants it may use; the secret (32 random bytes) is shown
// once and stored as its SHA-256 (it is random and long, so a slow hash adds nothing). A client
// acts only within its own tenant. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "storage/database.h"
#include "storage/vault_repository.h"

namespace gh::vault {

inline constexpr const char* kGrantCiba = "ciba";
inline constexpr const char* kGrantTokenExchange = "token_exchange";

struct CreatedClient {
  storage::OAuthClientRecord record;
  Secret secret;  // shown once
};

class ClientRegistry {
 public:
  ClientRegistry(storage::Database& db, const Clock& clock, Random& random)
      : db_(db), clock_(clock), random_(random) {}

  // `grants`: any of "ciba", "token_exchange" (at least one).
  Result<CreatedClient> Create(const TenantId& tenant, const std::string& name,
                               const std::vector<std::string>& grants);
  Result<std::vector<storage::OAuthClientRecord>> List(const TenantId& tenant);
  Status Revoke(const TenantId& tenant, const std::string& client_id);
  // Checks a client's credentials (constant time): Unauthenticated "invalid_client" for an unknown,
  // revoked or wrong one — all alike.
  Result<storage::OAuthClientRecord> Authenticate(const std::string& client_id,
                                                  const Secret& secret);

  static bool Allows(const storage::OAuthClientRecord& client, std::string_view grant);

 private:
  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace gh::vault
