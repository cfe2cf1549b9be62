// Schema for per-user API keys. Versions 500-549. Only a key's SHA-256 is stored, never the key;
// `prefix` is a short, non-secret start of the key for people to recognise it by.
// Portable SQL only (see database.h). Never edit a migration that has shipped; add a new one.
#include "storage/migrations.h"

namespace gh::storage {

void AddApiKeyMigrations(std::vector<Migration>& out) {
  out.push_back({500, "per-user API keys", R"SQL(
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, name TEXT NOT NULL,
  prefix TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL,
  last_used_at BIGINT, revoked_at BIGINT);
CREATE INDEX api_keys_tenant_user ON api_keys(tenant_id, user_id)
)SQL"});
}

}  // namespace gh::storage
