// Repository for per-user API keys. Every function runs inside the caller's transaction and takes
// the TenantId — except FindByHash, the one lookup that cannot know the tenant yet: the SHA-256 of
// a presented key is itself the credential (as with refresh tokens), and the row it finds names
// its tenant. No plaintext key ever reaches this layer. Times are unix milliseconds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "storage/database.h"

namespace gh::storage {

struct ApiKeyRecord {
  std::string id;  // public identifier (a UUID): what lists show and DELETE names
  TenantId tenant_id;
  UserId user_id;
  std::string name;
  std::string prefix;    // the key's first characters, for display; not enough to use it
  std::string key_hash;  // hex SHA-256 of the whole key
  int64_t created_at = 0;
  std::optional<int64_t> last_used_at;
  std::optional<int64_t> revoked_at;
};

namespace api_keys {
Status Insert(Tx& tx, const ApiKeyRecord& k);
// Across tenants, by the hash of the presented key (see above). Revoked keys are found too.
Result<std::optional<ApiKeyRecord>> FindByHash(Tx& tx, const std::string& key_hash);
Result<std::optional<ApiKeyRecord>> Get(Tx& tx, const TenantId& tenant, const std::string& id);
// Newest first; revoked keys included.
Result<std::vector<ApiKeyRecord>> ListForUser(Tx& tx, const TenantId& tenant, const UserId& user);
Result<std::vector<ApiKeyRecord>> ListForTenant(Tx& tx, const TenantId& tenant);
Result<int64_t> CountActiveForUser(Tx& tx, const TenantId& tenant, const UserId& user);
// Marks the key revoked at `now`; false when it does not exist in the tenant or was revoked
// already.
Result<bool> Revoke(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now);
// Sets last_used_at = now unless it was set less than `min_interval_ms` ago: one conditional
// statement (safe at READ COMMITTED). Returns whether the row changed.
Result<bool> TouchLastUsed(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now,
                           int64_t min_interval_ms);
}  // namespace api_keys

}  // namespace gh::storage
