// Schema for the token vault (tenant data keys, connections, connected accounts, OAuth
// authorization states, trusted backend clients), asynchronous approvals (CIBA requests and tool
// calls waiting for the user, approval policies) and tenants' HTTP API tools. Versions 300-399.
// Portable SQL only (see database.h). Never edit a migration that has shipped; add a new one.
#include "storage/migrations.h"

namespace gh::storage {

void AddVaultMigrations(std::vector<Migration>& out) {
  out.push_back({300, "token vault, approvals, HTTP API tools", R"SQL(
CREATE TABLE vault_data_keys (
  tenant_id TEXT PRIMARY KEY, wrapped_key TEXT NOT NULL, master_key_id TEXT NOT NULL,
  created_at BIGINT NOT NULL, rewrapped_at BIGINT);
CREATE TABLE vault_connections (
  tenant_id TEXT NOT NULL, id TEXT NOT NULL, display_name TEXT NOT NULL, preset TEXT NOT NULL,
  issuer TEXT NOT NULL, authorization_endpoint TEXT NOT NULL, token_endpoint TEXT NOT NULL,
  revocation_endpoint TEXT NOT NULL, client_id TEXT NOT NULL, client_secret_sealed TEXT NOT NULL,
  scopes TEXT NOT NULL, auth_params TEXT NOT NULL, token_auth_method TEXT NOT NULL,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE vault_accounts (
  tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, connection_id TEXT NOT NULL, status TEXT NOT NULL,
  access_token_sealed TEXT NOT NULL, refresh_token_sealed TEXT NOT NULL, token_type TEXT NOT NULL,
  scope TEXT NOT NULL, expires_at BIGINT NOT NULL, connected_at BIGINT NOT NULL, refreshed_at BIGINT,
  updated_at BIGINT NOT NULL, version BIGINT NOT NULL, refresh_lease_until BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', PRIMARY KEY (tenant_id, user_id, connection_id));
CREATE INDEX vault_accounts_connection ON vault_accounts(tenant_id, connection_id);
CREATE TABLE vault_oauth_states (
  state_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, connection_id TEXT NOT NULL,
  verifier_sealed TEXT NOT NULL, binding_hash TEXT NOT NULL, return_to TEXT NOT NULL,
  expires_at BIGINT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE oauth_clients (
  client_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, secret_hash TEXT NOT NULL,
  grant_types TEXT NOT NULL, created_at BIGINT NOT NULL, revoked_at BIGINT);
CREATE INDEX oauth_clients_tenant ON oauth_clients(tenant_id);
CREATE TABLE approval_requests (
  tenant_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
  client_id TEXT NOT NULL DEFAULT '', auth_req_hash TEXT, scope TEXT NOT NULL DEFAULT '',
  binding_message TEXT NOT NULL DEFAULT '', authorization_details TEXT NOT NULL DEFAULT '',
  tool_name TEXT NOT NULL DEFAULT '', arguments TEXT NOT NULL DEFAULT '', arguments_hash TEXT NOT NULL DEFAULT '',
  session_id TEXT NOT NULL DEFAULT '', tool_call_id TEXT NOT NULL DEFAULT '', trace_id TEXT NOT NULL DEFAULT '',
  poll_interval BIGINT NOT NULL DEFAULT 5, last_polled_at BIGINT NOT NULL DEFAULT 0,
  result TEXT NOT NULL DEFAULT '', result_is_error BIGINT NOT NULL DEFAULT 0,
  resumed BIGINT NOT NULL DEFAULT 0, lease_until BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, decided_at BIGINT, finished_at BIGINT,
  PRIMARY KEY (tenant_id, id));
CREATE UNIQUE INDEX approval_requests_auth_req ON approval_requests(auth_req_hash);
CREATE INDEX approval_requests_user ON approval_requests(tenant_id, user_id, created_at);
CREATE INDEX approval_requests_work ON approval_requests(resumed, state, expires_at);
CREATE TABLE approval_policies (
  tenant_id TEXT NOT NULL, id TEXT NOT NULL, tool_name TEXT NOT NULL, when_expr TEXT NOT NULL,
  binding_message TEXT NOT NULL, expires_in_seconds BIGINT NOT NULL, created_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id));
CREATE TABLE http_tools (
  tenant_id TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL, created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, name))
)SQL"});
  // The requesting application's name, shown to the user deciding a CIBA request.
  out.push_back({301, "approval requests name their client", R"SQL(
ALTER TABLE approval_requests ADD COLUMN client_name TEXT NOT NULL DEFAULT ''
)SQL"});
}

}  // namespace gh::storage
