// Schema for per-tenant agent settings (versions 550-599, the providers' half of 500-599): what a
// tenant admin sets for the tenant's agent, such as the system prompt template. One row per
// tenant, created on first write. Portable SQL only (see database.h). Never edit a migration that
// has shipped; add a new one.
#include "storage/migrations.h"

namespace gh::storage {

void AddTenantSettingsMigrations(std::vector<Migration>& out) {
  out.push_back({550, "per-tenant agent settings", R"SQL(
CREATE TABLE tenant_settings (
  tenant_id TEXT PRIMARY KEY, system_prompt_template TEXT, updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL)
)SQL"});
}

}  // namespace gh::storage
