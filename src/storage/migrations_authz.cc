// Schema for fine-grained authorization (versions 400-499): OpenFGA stores, their model versions,
// relationship tuples and change log; the audit log of tool authorization decisions; and the
// per-tenant document collection the agent searches. Every row carries its tenant. Portable SQL
// only (see database.h). Never edit a migration that has shipped; add a new one.
#include "storage/migrations.h"

namespace gh::storage {

void AddAuthzMigrations(std::vector<Migration>& out) {
  out.push_back({400, "authorization stores, models, tuples, changes, decisions, documents", R"SQL(
CREATE TABLE authz_stores (
  tenant_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL, seq BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (tenant_id, id));
CREATE UNIQUE INDEX authz_stores_id ON authz_stores(id);
CREATE TABLE authz_models (
  tenant_id TEXT NOT NULL, store_id TEXT NOT NULL, id TEXT NOT NULL, seq BIGINT NOT NULL,
  definition TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, store_id, id));
CREATE TABLE authz_tuples (
  tenant_id TEXT NOT NULL, store_id TEXT NOT NULL, object TEXT NOT NULL, relation TEXT NOT NULL,
  subject TEXT NOT NULL, condition_name TEXT NOT NULL DEFAULT '', condition_context TEXT,
  created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, store_id, object, relation, subject));
CREATE TABLE authz_changes (
  tenant_id TEXT NOT NULL, store_id TEXT NOT NULL, seq BIGINT NOT NULL, object_type TEXT NOT NULL,
  object TEXT NOT NULL, relation TEXT NOT NULL, subject TEXT NOT NULL,
  condition_name TEXT NOT NULL DEFAULT '', condition_context TEXT, operation TEXT NOT NULL,
  created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, store_id, seq));
CREATE INDEX authz_changes_type ON authz_changes(tenant_id, store_id, object_type, seq);
CREATE TABLE authz_decisions (
  tenant_id TEXT NOT NULL, id TEXT NOT NULL, created_at BIGINT NOT NULL, user_id TEXT NOT NULL,
  session_id TEXT NOT NULL DEFAULT '', trace_id TEXT NOT NULL DEFAULT '', tool TEXT NOT NULL,
  decision TEXT NOT NULL, fga_user TEXT NOT NULL DEFAULT '', relation TEXT NOT NULL DEFAULT '',
  object TEXT NOT NULL DEFAULT '', store_id TEXT NOT NULL DEFAULT '',
  model_id TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '', PRIMARY KEY (tenant_id, id));
CREATE INDEX authz_decisions_time ON authz_decisions(tenant_id, created_at);
CREATE TABLE documents (
  tenant_id TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, content TEXT NOT NULL,
  created_by TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, id))
)SQL"});
}

}  // namespace gh::storage
