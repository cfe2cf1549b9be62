#include "storage/migrations.h"

#include <algorithm>

namespace gh::storage {

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = [] {
    std::vector<Migration> all;
    AddCoreMigrations(all);
    AddLimitsMigrations(all);
    AddAuthzMigrations(all);
    AddVaultMigrations(all);
    AddMeteringMigrations(all);
    AddApiKeyMigrations(all);
    AddTenantSettingsMigrations(all);
    std::sort(all.begin(), all.end(),
              [](const Migration& a, const Migration& b) { return a.version < b.version; });
    return all;
  }();
  return kMigrations;
}

}  // namespace gh::storage
