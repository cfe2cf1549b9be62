// Each module's schema lives in its own migrations_<area>.cc, adding its migrations here, so
// modules evolve their tables without touching one another's files. Version numbers are global
// and unique: core 1-99, limits 100-199, metering 200-299, vault/approvals 300-399, authz 400-499,
// API keys 500-549, providers and tenant agent settings 550-599.
#pragma once

#include <vector>

#include "storage/database.h"

namespace gh::storage {

void AddCoreMigrations(std::vector<Migration>& out);
void AddLimitsMigrations(std::vector<Migration>& out);
void AddAuthzMigrations(std::vector<Migration>& out);
void AddVaultMigrations(std::vector<Migration>& out);
void AddMeteringMigrations(std::vector<Migration>& out);
void AddApiKeyMigrations(std::vector<Migration>& out);
void AddTenantSettingsMigrations(std::vector<Migration>& out);

}  // namespace gh::storage
