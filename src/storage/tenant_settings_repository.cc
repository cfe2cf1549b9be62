#include "storage/tenant_settings_repository.h"

namespace gh::storage::tenant_settings {

Result<std::optional<TenantSettingsRecord>> Get(Tx& tx, const TenantId& tenant) {
  GH_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("SELECT tenant_id, system_prompt_template, updated_at, updated_by "
                            "FROM tenant_settings WHERE tenant_id = ?",
                            {tenant.value()}));
  if (!row) return std::optional<TenantSettingsRecord>();
  return std::optional<TenantSettingsRecord>(TenantSettingsRecord{
      TenantId(row->Text(0)), row->OptText(1), row->Int(2), UserId(row->Text(3))});
}

Status Upsert(Tx& tx, const TenantSettingsRecord& s) {
  const Value prompt = s.system_prompt_template ? Value(*s.system_prompt_template) : Value();
  auto r = tx.Exec(
      "INSERT INTO tenant_settings (tenant_id, system_prompt_template, updated_at, updated_by) "
      "VALUES (?, ?, ?, ?) "
      "ON CONFLICT (tenant_id) DO UPDATE SET system_prompt_template = "
      "excluded.system_prompt_template, "
      "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
      {s.tenant_id.value(), prompt, s.updated_at, s.updated_by.value()});
  return r.ok() ? Status::Ok() : r.status();
}

}  // namespace gh::storage::tenant_settings
