#include "storage/api_key_repository.h"

namespace gh::storage {
namespace {

constexpr const char* kCols =
    "id, tenant_id, user_id, name, prefix, key_hash, created_at, last_used_at, revoked_at";

ApiKeyRecord Map(const Row& r) {
  return {r.Text(0), TenantId(r.Text(1)), UserId(r.Text(2)), r.Text(3), r.Text(4), r.Text(5),
          r.Int(6),  r.OptInt(7),         r.OptInt(8)};
}

Value Opt(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(); }

Result<std::optional<ApiKeyRecord>> One(Result<std::optional<Row>> row) {
  if (!row.ok()) return std::move(row).status();
  if (!*row) return std::optional<ApiKeyRecord>();
  return std::optional<ApiKeyRecord>(Map(**row));
}

Result<std::vector<ApiKeyRecord>> Many(Result<std::vector<Row>> rows) {
  if (!rows.ok()) return std::move(rows).status();
  std::vector<ApiKeyRecord> out;
  out.reserve(rows->size());
  for (const Row& r : *rows) out.push_back(Map(r));
  return out;
}

}  // namespace

namespace api_keys {

Status Insert(Tx& tx, const ApiKeyRecord& k) {
  auto r = tx.Exec(
      "INSERT INTO api_keys (id, tenant_id, user_id, name, prefix, key_hash, created_at, "
      "last_used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {k.id, k.tenant_id.value(), k.user_id.value(), k.name, k.prefix, k.key_hash, k.created_at,
       Opt(k.last_used_at), Opt(k.revoked_at)});
  return r.ok() ? Status::Ok() : r.status();
}

Result<std::optional<ApiKeyRecord>> FindByHash(Tx& tx, const std::string& key_hash) {
  static const std::string q = std::string("SELECT ") + kCols + " FROM api_keys WHERE key_hash = ?";
  return One(tx.QueryOne(q, {key_hash}));
}

Result<std::optional<ApiKeyRecord>> Get(Tx& tx, const TenantId& tenant, const std::string& id) {
  static const std::string q =
      std::string("SELECT ") + kCols + " FROM api_keys WHERE tenant_id = ? AND id = ?";
  return One(tx.QueryOne(q, {tenant.value(), id}));
}

Result<std::vector<ApiKeyRecord>> ListForUser(Tx& tx, const TenantId& tenant, const UserId& user) {
  static const std::string q = std::string("SELECT ") + kCols +
                               " FROM api_keys WHERE tenant_id = ? AND user_id = ? "
                               "ORDER BY created_at DESC, id";
  return Many(tx.Query(q, {tenant.value(), user.value()}));
}

Result<std::vector<ApiKeyRecord>> ListForTenant(Tx& tx, const TenantId& tenant) {
  static const std::string q = std::string("SELECT ") + kCols +
                               " FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC, id";
  return Many(tx.Query(q, {tenant.value()}));
}

Result<int64_t> CountActiveForUser(Tx& tx, const TenantId& tenant, const UserId& user) {
  GH_ASSIGN_OR_RETURN(auto row, tx.QueryOne("SELECT COUNT(*) FROM api_keys WHERE tenant_id = ? AND "
                                            "user_id = ? AND revoked_at IS NULL",
                                            {tenant.value(), user.value()}));
  return row ? row->Int(0) : 0;
}

Result<bool> Revoke(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now) {
  GH_ASSIGN_OR_RETURN(int64_t changed,
                      tx.Exec("UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? "
                              "AND revoked_at IS NULL",
                              {now, tenant.value(), id}));
  return changed > 0;
}

Result<bool> TouchLastUsed(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now,
                           int64_t min_interval_ms) {
  GH_ASSIGN_OR_RETURN(int64_t changed,
                      tx.Exec("UPDATE api_keys SET last_used_at = ? WHERE tenant_id = ? AND id = ? "
                              "AND (last_used_at IS NULL OR last_used_at <= ?)",
                              {now, tenant.value(), id, now - min_interval_ms}));
  return changed > 0;
}

}  // namespace api_keys
}  // namespace gh::storage
