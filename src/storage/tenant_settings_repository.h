// Repository for per-tenant agent settings (table tenant_settings). Every function runs inside the
// caller's transaction and takes the TenantId. Times are unix milliseconds.
#pragma once

#include <optional>
#include <string>

#include "common/ids.h"
#include "storage/database.h"

namespace gh::storage {

struct TenantSettingsRecord {
  TenantId tenant_id;
  std::optional<std::string> system_prompt_template;  // unset: the built-in prompt
  int64_t updated_at = 0;
  UserId updated_by;
};

namespace tenant_settings {
// Nullopt when the tenant never saved settings.
Result<std::optional<TenantSettingsRecord>> Get(Tx& tx, const TenantId& tenant);
Status Upsert(Tx& tx, const TenantSettingsRecord& settings);
}  // namespace tenant_settings

}  // namespace gh::storage
