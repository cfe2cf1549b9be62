// Core schema (identity, tenants, chat, usage). Portable SQL only (see database.h). Never edit a
// migration that has shipped; add a new one.
#include "storage/migrations.h"

namespace gh::storage {

void AddCoreMigrations(std::vector<Migration>& out) {
  // usage_records is no longer written (nothing ever read it: usage events hold what a turn
  // consumed, its trace its outcome). It stays while replicas of the release that still inserts
  // into it may share the database during a rolling upgrade or a rollback; a later migration drops
  // it.
  out.push_back({1, "identity, tenants, chat, usage", R"SQL(
CREATE TABLE tenants (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, tier TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active', timezone TEXT NOT NULL DEFAULT 'UTC',
  created_at BIGINT NOT NULL);
CREATE TABLE users (
  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL, role TEXT NOT NULL, verified BIGINT NOT NULL DEFAULT 0,
  failed_logins BIGINT NOT NULL DEFAULT 0, locked_until BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL);
CREATE INDEX users_tenant ON users(tenant_id);
CREATE TABLE user_groups (
  tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, grp TEXT NOT NULL,
  PRIMARY KEY (tenant_id, user_id, grp));
CREATE TABLE verification_codes (
  user_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, code_hash TEXT NOT NULL,
  expires_at BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0, sent_at BIGINT NOT NULL);
CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL,
  family_id TEXT NOT NULL, expires_at BIGINT NOT NULL, rotated BIGINT NOT NULL DEFAULT 0,
  revoked BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL);
CREATE INDEX refresh_family ON refresh_tokens(tenant_id, family_id);
CREATE TABLE invitations (
  code_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, created_by TEXT NOT NULL, role TEXT NOT NULL,
  expires_at BIGINT NOT NULL, used_by TEXT, used_at BIGINT, revoked BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL);
CREATE INDEX invitations_tenant ON invitations(tenant_id);
CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY, alg TEXT NOT NULL, sealed_key TEXT NOT NULL, created_at BIGINT NOT NULL,
  retired_at BIGINT);
CREATE TABLE chat_sessions (
  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL, last_active_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  ended_at BIGINT, message_count BIGINT NOT NULL DEFAULT 0, busy_until BIGINT NOT NULL DEFAULT 0);
CREATE INDEX sessions_tenant_user ON chat_sessions(tenant_id, user_id, created_at);
CREATE TABLE messages (
  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, session_id TEXT NOT NULL, user_id TEXT NOT NULL,
  seq BIGINT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, tool_calls TEXT, tool_call_id TEXT,
  created_at BIGINT NOT NULL);
CREATE INDEX messages_session ON messages(tenant_id, session_id, seq);
CREATE TABLE usage_records (
  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
  message_id TEXT NOT NULL, trace_id TEXT NOT NULL, model TEXT NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, tool_calls BIGINT NOT NULL,
  latency_ms BIGINT NOT NULL, status TEXT NOT NULL, day TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX usage_tenant_day ON usage_records(tenant_id, day);
CREATE TABLE quota_counters (
  tenant_id TEXT NOT NULL, scope TEXT NOT NULL, period TEXT NOT NULL, metric TEXT NOT NULL,
  used BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (tenant_id, scope, period, metric))
)SQL"});
  // Users who sign in with an external identity provider (Auth0, Cognito, Keycloak, ...): the
  // issuer's subject, linked to the Gatehouse user created for it on first sign-in.
  out.push_back({2, "external identities", R"SQL(
CREATE TABLE external_identities (
  issuer TEXT NOT NULL, subject TEXT NOT NULL, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL,
  created_at BIGINT NOT NULL, PRIMARY KEY (issuer, subject));
CREATE INDEX external_identities_user ON external_identities(tenant_id, user_id)
)SQL"});
  // SQLite: the usage records and quota counters as WITHOUT ROWID tables, clustered on their
  // primary key. A rowid table with a TEXT or composite primary key keeps the key in an index of
  // its own besides the table, so each insert wrote two B-tree pages where this writes one; every
  // completion inserts a usage record and adjusts counters in the recorder's group transaction,
  // whose WAL frames are all written and synced before the response (bench/gateway).
  out.push_back({3, "usage records and quota counters clustered on their keys (SQLite)", R"SQL(
CREATE TABLE usage_records_v3 (
  id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
  message_id TEXT NOT NULL, trace_id TEXT NOT NULL, model TEXT NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, tool_calls BIGINT NOT NULL,
  latency_ms BIGINT NOT NULL, status TEXT NOT NULL, day TEXT NOT NULL, created_at BIGINT NOT NULL)
  WITHOUT ROWID;
INSERT INTO usage_records_v3 SELECT * FROM usage_records;
DROP TABLE usage_records;
ALTER TABLE usage_records_v3 RENAME TO usage_records;
CREATE INDEX usage_tenant_day ON usage_records(tenant_id, day);
CREATE TABLE quota_counters_v3 (
  tenant_id TEXT NOT NULL, scope TEXT NOT NULL, period TEXT NOT NULL, metric TEXT NOT NULL,
  used BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (tenant_id, scope, period, metric)) WITHOUT ROWID;
INSERT INTO quota_counters_v3 SELECT * FROM quota_counters;
DROP TABLE quota_counters;
ALTER TABLE quota_counters_v3 RENAME TO quota_counters
)SQL",
                 Dialect::kSqlite});
}

}  // namespace gh::storage
