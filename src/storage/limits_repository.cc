#include "storage/limits_repository.h"

namespace gh::storage {
namespace {
Status Done(const Result<int64_t>& r) { return r.ok() ? Status::Ok() : r.status(); }
Value Opt(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(); }
}  // namespace

namespace plans {
Status Upsert(Tx& tx, const StoredPlan& p) {
  return Done(
      tx.Exec("INSERT INTO plans (name, definition, updated_at, version) VALUES (?, ?, ?, ?) "
              "ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, "
              "updated_at = excluded.updated_at, version = excluded.version",
              {p.name, p.definition, p.updated_at, p.version}));
}
Result<std::vector<StoredPlan>> List(Tx& tx) {
  GH_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT name, definition, updated_at, version FROM plans ORDER BY name"));
  std::vector<StoredPlan> out;
  for (const auto& r : rows) out.push_back({r.Text(0), r.Text(1), r.Int(2), r.Int(3)});
  return out;
}
Result<int64_t> MaxVersion(Tx& tx) {
  GH_ASSIGN_OR_RETURN(auto row, tx.QueryOne("SELECT COALESCE(MAX(version), 0) FROM plans"));
  return row ? row->Int(0) : 0;
}
}  // namespace plans

namespace user_caps {
Result<UserCaps> Get(Tx& tx, const TenantId& tenant, const UserId& user) {
  GH_ASSIGN_OR_RETURN(
      auto row,
      tx.QueryOne("SELECT messages_per_day, messages_per_month, tokens_per_month, "
                  "budget_micros_per_month FROM user_limits WHERE tenant_id = ? AND user_id = ?",
                  {tenant.value(), user.value()}));
  UserCaps c;
  if (row) {
    c.messages_per_day = row->OptInt(0);
    c.messages_per_month = row->OptInt(1);
    c.tokens_per_month = row->OptInt(2);
    c.budget_micros_per_month = row->OptInt(3);
  }
  return c;
}
Status Set(Tx& tx, const TenantId& tenant, const UserId& user, const UserCaps& c) {
  if (!c.any()) return Delete(tx, tenant, user);
  return Done(tx.Exec(
      "INSERT INTO user_limits (tenant_id, user_id, messages_per_day, messages_per_month, "
      "tokens_per_month, budget_micros_per_month) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT "
      "(tenant_id, "
      "user_id) DO UPDATE SET messages_per_day = excluded.messages_per_day, messages_per_month = "
      "excluded.messages_per_month, tokens_per_month = excluded.tokens_per_month, "
      "budget_micros_per_month = excluded.budget_micros_per_month",
      {tenant.value(), user.value(), Opt(c.messages_per_day), Opt(c.messages_per_month),
       Opt(c.tokens_per_month), Opt(c.budget_micros_per_month)}));
}
Status Delete(Tx& tx, const TenantId& tenant, const UserId& user) {
  return Done(tx.Exec("DELETE FROM user_limits WHERE tenant_id = ? AND user_id = ?",
                      {tenant.value(), user.value()}));
}
}  // namespace user_caps

namespace rate_limits {
Result<int64_t> Admit(Tx& tx, const TenantId& tenant, const std::string& bucket, int64_t now_ms,
                      int64_t interval_ms, int64_t tolerance_ms) {
  GH_RETURN_IF_ERROR(
      Done(tx.Exec("INSERT INTO rate_limits (tenant_id, bucket, tat_ms) VALUES (?, ?, 0) "
                   "ON CONFLICT DO NOTHING",
                   {tenant.value(), bucket})));
  // tat' = max(tat, now) + interval, admitted only if tat' - tolerance - interval <= now.
  GH_ASSIGN_OR_RETURN(
      int64_t changed,
      tx.Exec("UPDATE rate_limits SET tat_ms = (CASE WHEN tat_ms > ? THEN tat_ms ELSE ? END) + ? "
              "WHERE tenant_id = ? AND bucket = ? AND (CASE WHEN tat_ms > ? THEN tat_ms ELSE ? "
              "END) - ? <= ?",
              {now_ms, now_ms, interval_ms, tenant.value(), bucket, now_ms, now_ms, tolerance_ms,
               now_ms}));
  if (changed == 1) return int64_t(0);
  GH_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("SELECT tat_ms FROM rate_limits WHERE tenant_id = ? AND bucket = ?",
                            {tenant.value(), bucket}));
  int64_t tat = row ? row->Int(0) : now_ms;
  return std::max<int64_t>(1, tat - tolerance_ms - now_ms);
}
}  // namespace rate_limits

namespace operators {
Status Add(Tx& tx, const std::string& email, int64_t now) {
  return Done(tx.Exec(
      "INSERT INTO platform_operators (email, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
      {email, now}));
}
Status Remove(Tx& tx, const std::string& email) {
  return Done(tx.Exec("DELETE FROM platform_operators WHERE email = ?", {email}));
}
Result<std::vector<std::string>> List(Tx& tx) {
  GH_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT email FROM platform_operators ORDER BY email"));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.Text(0));
  return out;
}
Result<bool> Contains(Tx& tx, const std::string& email) {
  GH_ASSIGN_OR_RETURN(auto row,
                      tx.QueryOne("SELECT 1 FROM platform_operators WHERE email = ?", {email}));
  return row.has_value();
}
}  // namespace operators

namespace user_admin {
Status RemoveUser(Tx& tx, const TenantId& tenant, const UserId& user, int64_t now) {
  std::vector<Value> p = {tenant.value(), user.value()};
  GH_RETURN_IF_ERROR(
      Done(tx.Exec("DELETE FROM user_groups WHERE tenant_id = ? AND user_id = ?", p)));
  GH_RETURN_IF_ERROR(
      Done(tx.Exec("DELETE FROM verification_codes WHERE tenant_id = ? AND user_id = ?", p)));
  GH_RETURN_IF_ERROR(
      Done(tx.Exec("DELETE FROM user_limits WHERE tenant_id = ? AND user_id = ?", p)));
  GH_RETURN_IF_ERROR(Done(
      tx.Exec("UPDATE refresh_tokens SET revoked = 1 WHERE tenant_id = ? AND user_id = ?", p)));
  GH_RETURN_IF_ERROR(
      Done(tx.Exec("UPDATE chat_sessions SET ended_at = ? WHERE tenant_id = ? AND user_id = ? AND "
                   "ended_at IS NULL",
                   {now, tenant.value(), user.value()})));
  return Done(tx.Exec("DELETE FROM users WHERE tenant_id = ? AND id = ?", p));
}
Status RemoveGroup(Tx& tx, const TenantId& tenant, const UserId& user, const std::string& group) {
  return Done(tx.Exec("DELETE FROM user_groups WHERE tenant_id = ? AND user_id = ? AND grp = ?",
                      {tenant.value(), user.value(), group}));
}
Result<int64_t> CountAdmins(Tx& tx, const TenantId& tenant) {
  GH_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("SELECT COUNT(*) FROM user_groups WHERE tenant_id = ? AND grp = ?",
                            {tenant.value(), tenant.value() + "-admins"}));
  return row ? row->Int(0) : 0;
}
Status SetTimezone(Tx& tx, const TenantId& tenant, const std::string& timezone) {
  return Done(tx.Exec("UPDATE tenants SET timezone = ? WHERE id = ?", {timezone, tenant.value()}));
}
}  // namespace user_admin

}  // namespace gh::storage
