// Schema for plans and limits: editable plans, per-user caps, rate-limit state, platform operators.
#include "storage/migrations.h"

namespace gh::storage {

void AddLimitsMigrations(std::vector<Migration>& out) {
  out.push_back({100, "plans, per-user caps, rate limits, platform operators", R"SQL(
CREATE TABLE plans (
  name TEXT PRIMARY KEY, definition TEXT NOT NULL, updated_at BIGINT NOT NULL, version BIGINT NOT NULL);
CREATE TABLE user_limits (
  tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, messages_per_day BIGINT, messages_per_month BIGINT,
  tokens_per_month BIGINT, budget_micros_per_month BIGINT, PRIMARY KEY (tenant_id, user_id));
CREATE TABLE rate_limits (
  tenant_id TEXT NOT NULL, bucket TEXT NOT NULL, tat_ms BIGINT NOT NULL, PRIMARY KEY (tenant_id, bucket));
CREATE TABLE platform_operators (email TEXT PRIMARY KEY, created_at BIGINT NOT NULL)
)SQL"});
}

}  // namespace gh::storage
