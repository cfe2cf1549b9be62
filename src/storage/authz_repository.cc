#include "storage/authz_repository.h"

#include <algorithm>

#include "storage/row_mapping.h"

namespace gh::storage {
namespace {

using namespace row_mapping;

std::string TypeOf(const std::string& object) { return object.substr(0, object.find(':')); }

constexpr const char* kTupleColumns =
    "object, relation, subject, condition_name, condition_context, created_at";

AuthzTupleRow TupleFrom(const Row& r, size_t first) {
  return AuthzTupleRow{r.Text(first),     r.Text(first + 1),    r.Text(first + 2),
                       r.Text(first + 3), r.OptText(first + 4), r.Int(first + 5)};
}

}  // namespace

namespace authz_stores {

Status Insert(Tx& tx, const TenantId& tenant, const AuthzStoreRow& s) {
  return Done(
      tx.Exec("INSERT INTO authz_stores (tenant_id, id, name, created_at, updated_at) VALUES (?, "
              "?, ?, ?, ?)",
              {tenant.value(), s.id, s.name, s.created_at, s.updated_at}));
}

Result<std::vector<AuthzStoreRow>> List(Tx& tx, const TenantId& tenant) {
  GH_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, name, created_at, updated_at, seq FROM "
                                          "authz_stores WHERE tenant_id = ? ORDER BY id",
                                          {tenant.value()}));
  std::vector<AuthzStoreRow> out;
  for (const auto& r : rows) out.push_back({r.Text(0), r.Text(1), r.Int(2), r.Int(3), r.Int(4)});
  return out;
}

Result<std::vector<AuthzStoreState>> States(Tx& tx) {
  GH_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT tenant_id, id, seq FROM authz_stores"));
  std::vector<AuthzStoreState> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back({TenantId(r.Text(0)), r.Text(1), r.Int(2)});
  return out;
}

Result<std::vector<TenantId>> TenantsWithStores(Tx& tx) {
  GH_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT DISTINCT tenant_id FROM authz_stores ORDER BY tenant_id"));
  std::vector<TenantId> out;
  for (const auto& r : rows) out.emplace_back(r.Text(0));
  return out;
}

Result<bool> Delete(Tx& tx, const TenantId& tenant, const std::string& store_id) {
  for (const char* sql : {"DELETE FROM authz_models WHERE tenant_id = ? AND store_id = ?",
                          "DELETE FROM authz_tuples WHERE tenant_id = ? AND store_id = ?",
                          "DELETE FROM authz_changes WHERE tenant_id = ? AND store_id = ?"}) {
    GH_RETURN_IF_ERROR(Done(tx.Exec(sql, {tenant.value(), store_id})));
  }
  GH_ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM authz_stores WHERE tenant_id = ? AND id = ?",
                                         {tenant.value(), store_id}));
  return n > 0;
}

Result<int64_t> ReserveSeq(Tx& tx, const TenantId& tenant, const std::string& store_id,
                           int64_t count, int64_t now) {
  GH_ASSIGN_OR_RETURN(auto row,
                      tx.QueryOne("UPDATE authz_stores SET seq = seq + ?, updated_at = ? WHERE "
                                  "tenant_id = ? AND id = ? RETURNING seq",
                                  {count, now, tenant.value(), store_id}));
  if (!row) return Status::NotFound("store '" + store_id + "' not found", "store_id_not_found");
  return row->Int(0);
}

}  // namespace authz_stores

namespace authz_models {

Status Insert(Tx& tx, const TenantId& tenant, const std::string& store_id, int64_t seq,
              const AuthzModelRow& m) {
  return Done(tx.Exec(
      "INSERT INTO authz_models (tenant_id, store_id, id, seq, definition, created_at) VALUES "
      "(?, ?, ?, ?, ?, ?)",
      {tenant.value(), store_id, m.id, seq, m.definition, m.created_at}));
}

Result<std::vector<AuthzModelRow>> List(Tx& tx, const TenantId& tenant,
                                        const std::string& store_id) {
  GH_ASSIGN_OR_RETURN(auto rows,
                      tx.Query("SELECT id, definition, created_at, seq FROM authz_models WHERE "
                               "tenant_id = ? AND store_id = ? ORDER BY seq",
                               {tenant.value(), store_id}));
  std::vector<AuthzModelRow> out;
  for (const auto& r : rows) out.push_back({r.Text(0), r.Text(1), r.Int(2), r.Int(3)});
  return out;
}

}  // namespace authz_models

namespace authz_tuples {

Status Upsert(Tx& tx, const TenantId& tenant, const std::string& store_id, const AuthzTupleRow& t) {
  return Done(tx.Exec(
      "INSERT INTO authz_tuples (tenant_id, store_id, object, relation, subject, condition_name, "
      "condition_context, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, "
      "store_id, object, relation, subject) DO UPDATE SET condition_name = "
      "excluded.condition_name, "
      "condition_context = excluded.condition_context, created_at = excluded.created_at",
      {tenant.value(), store_id, t.object, t.relation, t.subject, t.condition_name,
       Opt(t.condition_context), t.created_at}));
}

Status Delete(Tx& tx, const TenantId& tenant, const std::string& store_id,
              const std::string& object, const std::string& relation, const std::string& subject) {
  return Done(
      tx.Exec("DELETE FROM authz_tuples WHERE tenant_id = ? AND store_id = ? AND object = ? AND "
              "relation = ? AND subject = ?",
              {tenant.value(), store_id, object, relation, subject}));
}

Result<std::vector<AuthzTupleRow>> List(Tx& tx, const TenantId& tenant,
                                        const std::string& store_id) {
  GH_ASSIGN_OR_RETURN(auto rows, tx.Query(std::string("SELECT ") + kTupleColumns +
                                              " FROM authz_tuples WHERE tenant_id = ? AND "
                                              "store_id = ?",
                                          {tenant.value(), store_id}));
  std::vector<AuthzTupleRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(TupleFrom(r, 0));
  return out;
}

Result<std::optional<int64_t>> WrittenAt(Tx& tx, const TenantId& tenant,
                                         const std::string& store_id, const std::string& object,
                                         const std::string& relation, const std::string& subject) {
  GH_ASSIGN_OR_RETURN(auto row,
                      tx.QueryOne("SELECT created_at FROM authz_tuples WHERE tenant_id = ? AND "
                                  "store_id = ? AND object = ? AND relation = ? AND subject = ?",
                                  {tenant.value(), store_id, object, relation, subject}));
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(row->Int(0));
}

}  // namespace authz_tuples

namespace authz_changes {

Status Insert(Tx& tx, const TenantId& tenant, const std::string& store_id,
              const AuthzChangeRow& c) {
  const AuthzTupleRow& t = c.tuple;
  return Done(tx.Exec(
      "INSERT INTO authz_changes (tenant_id, store_id, seq, object_type, object, relation, "
      "subject, condition_name, condition_context, operation, created_at) VALUES (?, ?, ?, ?, ?, "
      "?, ?, ?, ?, ?, ?)",
      {tenant.value(), store_id, c.seq, TypeOf(t.object), t.object, t.relation, t.subject,
       t.condition_name, Opt(t.condition_context), c.deleted ? "delete" : "write", c.created_at}));
}

Result<std::vector<AuthzChangeRow>> ListAfter(Tx& tx, const TenantId& tenant,
                                              const std::string& store_id,
                                              const std::string& object_type, int64_t after_seq,
                                              int64_t min_time, int64_t limit) {
  std::string sql = std::string("SELECT seq, operation, ") + kTupleColumns +
                    " FROM authz_changes WHERE tenant_id = ? AND store_id = ? AND seq > ?";
  std::vector<Value> params = {tenant.value(), store_id, after_seq};
  if (!object_type.empty()) {
    sql += " AND object_type = ?";
    params.emplace_back(object_type);
  }
  if (min_time > 0) {
    sql += " AND created_at >= ?";
    params.emplace_back(min_time);
  }
  sql += " ORDER BY seq LIMIT ?";
  params.emplace_back(limit);
  GH_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<AuthzChangeRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    AuthzTupleRow t = TupleFrom(r, 2);
    int64_t at = t.created_at;
    out.push_back({r.Int(0), std::move(t), r.Text(1) == "delete", at});
  }
  return out;
}

}  // namespace authz_changes

namespace authz_decisions {

Status Insert(Tx& tx, const AuthzDecisionRow& d) {
  return Done(tx.Exec(
      "INSERT INTO authz_decisions (tenant_id, id, created_at, user_id, session_id, trace_id, "
      "tool, decision, fga_user, relation, object, store_id, model_id, reason) VALUES (?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {d.tenant_id.value(), d.id, d.created_at, d.user_id.value(), d.session_id, d.trace_id, d.tool,
       d.decision, d.fga_user, d.relation, d.object, d.store_id, d.model_id, d.reason}));
}

Result<std::vector<AuthzDecisionRow>> List(Tx& tx, const TenantId& tenant,
                                           const DecisionFilter& filter) {
  std::string sql =
      "SELECT id, created_at, user_id, session_id, trace_id, tool, decision, fga_user, relation, "
      "object, store_id, model_id, reason FROM authz_decisions WHERE tenant_id = ?";
  std::vector<Value> params = {tenant.value()};
  if (!filter.decision.empty()) {
    sql += " AND decision = ?";
    params.emplace_back(filter.decision);
  }
  if (filter.user_id) {
    sql += " AND user_id = ?";
    params.emplace_back(filter.user_id->value());
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
  params.emplace_back(filter.limit);
  GH_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
  std::vector<AuthzDecisionRow> out;
  for (const auto& r : rows) {
    out.push_back({tenant, r.Text(0), r.Int(1), UserId(r.Text(2)), r.Text(3), r.Text(4), r.Text(5),
                   r.Text(6), r.Text(7), r.Text(8), r.Text(9), r.Text(10), r.Text(11), r.Text(12)});
  }
  return out;
}

}  // namespace authz_decisions

namespace documents {

Result<bool> Upsert(Tx& tx, const DocumentRow& d) {
  GH_ASSIGN_OR_RETURN(auto existing,
                      tx.QueryOne("SELECT 1 FROM documents WHERE tenant_id = ? AND id = ?",
                                  {d.tenant_id.value(), d.id}));
  GH_RETURN_IF_ERROR(Done(tx.Exec(
      "INSERT INTO documents (tenant_id, id, title, content, created_by, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, id) DO UPDATE SET title = "
      "excluded.title, content = excluded.content, updated_at = excluded.updated_at",
      {d.tenant_id.value(), d.id, d.title, d.content, d.created_by.value(), d.created_at,
       d.updated_at})));
  return !existing.has_value();
}

Result<std::optional<DocumentRow>> Get(Tx& tx, const TenantId& tenant, const std::string& id) {
  GH_ASSIGN_OR_RETURN(auto row, tx.QueryOne("SELECT id, title, content, created_by, created_at, "
                                            "updated_at FROM documents WHERE tenant_id = ? AND "
                                            "id = ?",
                                            {tenant.value(), id}));
  if (!row) return std::optional<DocumentRow>();
  return std::optional<DocumentRow>(DocumentRow{tenant, row->Text(0), row->Text(1), row->Text(2),
                                                UserId(row->Text(3)), row->Int(4), row->Int(5)});
}

Result<std::vector<DocumentRow>> List(Tx& tx, const TenantId& tenant) {
  GH_ASSIGN_OR_RETURN(auto rows, tx.Query("SELECT id, title, created_by, created_at, updated_at "
                                          "FROM documents WHERE tenant_id = ? ORDER BY id",
                                          {tenant.value()}));
  std::vector<DocumentRow> out;
  for (const auto& r : rows) {
    out.push_back({tenant, r.Text(0), r.Text(1), "", UserId(r.Text(2)), r.Int(3), r.Int(4)});
  }
  return out;
}

Result<std::vector<DocumentRow>> GetMany(Tx& tx, const TenantId& tenant,
                                         const std::vector<std::string>& ids) {
  constexpr size_t kChunk = 100;
  std::vector<DocumentRow> out;
  for (size_t start = 0; start < ids.size(); start += kChunk) {
    size_t end = std::min(ids.size(), start + kChunk);
    std::string sql =
        "SELECT id, title, content, created_by, created_at, updated_at FROM documents WHERE "
        "tenant_id = ? AND id IN (";
    std::vector<Value> params = {tenant.value()};
    for (size_t i = start; i < end; ++i) {
      sql += i == start ? "?" : ", ?";
      params.emplace_back(ids[i]);
    }
    sql += ")";
    GH_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
    for (const auto& r : rows) {
      out.push_back(
          {tenant, r.Text(0), r.Text(1), r.Text(2), UserId(r.Text(3)), r.Int(4), r.Int(5)});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

Result<bool> Delete(Tx& tx, const TenantId& tenant, const std::string& id) {
  GH_ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM documents WHERE tenant_id = ? AND id = ?",
                                         {tenant.value(), id}));
  return n > 0;
}

}  // namespace documents

}  // namespace gh::storage
