#include "storage/vault_repository.h"

#include "storage/row_mapping.h"

namespace gh::storage {
namespace {

using namespace row_mapping;

// ---- column lists and row mappers ----

constexpr const char* kConnectionCols =
    "tenant_id, id, display_name, preset, issuer, authorization_endpoint, token_endpoint, "
    "revocation_endpoint, "
    "client_id, client_secret_sealed, scopes, auth_params, token_auth_method, created_at, "
    "updated_at";

ConnectionRecord MapConnection(const Row& r) {
  return {TenantId(r.Text(0)), r.Text(1),  r.Text(2),  r.Text(3), r.Text(4),
          r.Text(5),           r.Text(6),  r.Text(7),  r.Text(8), r.Text(9),
          r.Text(10),          r.Text(11), r.Text(12), r.Int(13), r.Int(14)};
}

constexpr const char* kAccountCols =
    "tenant_id, user_id, connection_id, status, access_token_sealed, refresh_token_sealed, "
    "token_type, scope, "
    "expires_at, connected_at, refreshed_at, updated_at, version, refresh_lease_until, last_error";

AccountRecord MapAccount(const Row& r) {
  return {TenantId(r.Text(0)), UserId(r.Text(1)), r.Text(2), r.Text(3), r.Text(4),
          r.Text(5),           r.Text(6),         r.Text(7), r.Int(8),  r.Int(9),
          r.OptInt(10),        r.Int(11),         r.Int(12), r.Int(13), r.Text(14)};
}

constexpr const char* kStateCols =
    "state_hash, tenant_id, user_id, connection_id, verifier_sealed, binding_hash, return_to, "
    "expires_at, created_at";

OAuthStateRecord MapState(const Row& r) {
  return {r.Text(0), TenantId(r.Text(1)), UserId(r.Text(2)), r.Text(3), r.Text(4),
          r.Text(5), r.Text(6),           r.Int(7),          r.Int(8)};
}

constexpr const char* kClientCols =
    "client_id, tenant_id, name, secret_hash, grant_types, created_at, revoked_at";

OAuthClientRecord MapClient(const Row& r) {
  return {r.Text(0), TenantId(r.Text(1)), r.Text(2), r.Text(3), r.Text(4), r.Int(5), r.OptInt(6)};
}

constexpr const char* kApprovalCols =
    "tenant_id, id, user_id, kind, state, client_id, auth_req_hash, scope, binding_message, "
    "authorization_details, "
    "tool_name, arguments, arguments_hash, session_id, tool_call_id, trace_id, poll_interval, "
    "last_polled_at, "
    "result, result_is_error, resumed, lease_until, created_at, expires_at, decided_at, "
    "finished_at, client_name";

ApprovalRecord MapApproval(const Row& r) {
  ApprovalRecord a;
  a.tenant_id = TenantId(r.Text(0));
  a.id = r.Text(1);
  a.user_id = UserId(r.Text(2));
  a.kind = r.Text(3);
  a.state = r.Text(4);
  a.client_id = r.Text(5);
  a.auth_req_hash = r.OptText(6);
  a.scope = r.Text(7);
  a.binding_message = r.Text(8);
  a.authorization_details = r.Text(9);
  a.tool_name = r.Text(10);
  a.arguments = r.Text(11);
  a.arguments_hash = r.Text(12);
  a.session_id = r.Text(13);
  a.tool_call_id = r.Text(14);
  a.trace_id = r.Text(15);
  a.poll_interval = r.Int(16);
  a.last_polled_at = r.Int(17);
  a.result = r.Text(18);
  a.result_is_error = r.Int(19) != 0;
  a.resumed = r.Int(20) != 0;
  a.lease_until = r.Int(21);
  a.created_at = r.Int(22);
  a.expires_at = r.Int(23);
  a.decided_at = r.OptInt(24);
  a.finished_at = r.OptInt(25);
  a.client_name = r.Text(26);
  return a;
}

std::string Sql(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out += p;
  return out;
}

}  // namespace

// ---- tenant data keys ----
namespace vault_keys {
Result<std::optional<DataKeyRecord>> Get(Tx& tx, const TenantId& tenant) {
  return One<DataKeyRecord>(
      tx.QueryOne("SELECT tenant_id, wrapped_key, master_key_id, created_at, rewrapped_at FROM "
                  "vault_data_keys "
                  "WHERE tenant_id = ?",
                  {tenant.value()}),
      [](const Row& r) {
        return DataKeyRecord{TenantId(r.Text(0)), r.Text(1), r.Text(2), r.Int(3), r.OptInt(4)};
      });
}
Result<bool> InsertIfAbsent(Tx& tx, const DataKeyRecord& k) {
  GH_ASSIGN_OR_RETURN(int64_t n,
                      tx.Exec("INSERT INTO vault_data_keys (tenant_id, wrapped_key, master_key_id, "
                              "created_at) VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO NOTHING",
                              {k.tenant_id.value(), k.wrapped_key, k.master_key_id, k.created_at}));
  return n == 1;
}
Result<std::vector<DataKeyRecord>> ListAll(Tx& tx) {
  return Many<DataKeyRecord>(
      tx.Query("SELECT tenant_id, wrapped_key, master_key_id, created_at, rewrapped_at FROM "
               "vault_data_keys "
               "ORDER BY tenant_id"),
      [](const Row& r) {
        return DataKeyRecord{TenantId(r.Text(0)), r.Text(1), r.Text(2), r.Int(3), r.OptInt(4)};
      });
}
Status Rewrap(Tx& tx, const TenantId& tenant, const std::string& wrapped_key,
              const std::string& master_key_id, int64_t now) {
  return Done(
      tx.Exec("UPDATE vault_data_keys SET wrapped_key = ?, master_key_id = ?, rewrapped_at = ? "
              "WHERE tenant_id = ?",
              {wrapped_key, master_key_id, now, tenant.value()}));
}
}  // namespace vault_keys

// ---- connections ----
namespace vault_connections {
Status Insert(Tx& tx, const ConnectionRecord& c) {
  static const std::string q = Sql({"INSERT INTO vault_connections (", kConnectionCols,
                                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"});
  return Done(tx.Exec(
      q, {c.tenant_id.value(), c.id, c.display_name, c.preset, c.issuer, c.authorization_endpoint,
          c.token_endpoint, c.revocation_endpoint, c.client_id, c.client_secret_sealed, c.scopes,
          c.auth_params, c.token_auth_method, c.created_at, c.updated_at}));
}
Status Update(Tx& tx, const ConnectionRecord& c) {
  return Done(tx.Exec(
      "UPDATE vault_connections SET display_name = ?, preset = ?, issuer = ?, "
      "authorization_endpoint = ?, "
      "token_endpoint = ?, revocation_endpoint = ?, client_id = ?, client_secret_sealed = ?, "
      "scopes = ?, "
      "auth_params = ?, token_auth_method = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
      {c.display_name, c.preset, c.issuer, c.authorization_endpoint, c.token_endpoint,
       c.revocation_endpoint, c.client_id, c.client_secret_sealed, c.scopes, c.auth_params,
       c.token_auth_method, c.updated_at, c.tenant_id.value(), c.id}));
}
Result<std::optional<ConnectionRecord>> Get(Tx& tx, const TenantId& tenant, const std::string& id) {
  static const std::string q =
      Sql({"SELECT ", kConnectionCols, " FROM vault_connections WHERE tenant_id = ? AND id = ?"});
  return One<ConnectionRecord>(tx.QueryOne(q, {tenant.value(), id}), MapConnection);
}
Result<std::vector<ConnectionRecord>> List(Tx& tx, const TenantId& tenant) {
  static const std::string q =
      Sql({"SELECT ", kConnectionCols, " FROM vault_connections WHERE tenant_id = ? ORDER BY id"});
  return Many<ConnectionRecord>(tx.Query(q, {tenant.value()}), MapConnection);
}
Status Delete(Tx& tx, const TenantId& tenant, const std::string& id) {
  return Done(tx.Exec("DELETE FROM vault_connections WHERE tenant_id = ? AND id = ?",
                      {tenant.value(), id}));
}
}  // namespace vault_connections

// ---- connected accounts ----
namespace vault_accounts {
Status Upsert(Tx& tx, const AccountRecord& a) {
  static const std::string q = Sql({"INSERT INTO vault_accounts (", kAccountCols,
                                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON "
                                    "CONFLICT (tenant_id, user_id, connection_id) DO UPDATE "
                                    "SET status = excluded.status, access_token_sealed = "
                                    "excluded.access_token_sealed, refresh_token_sealed = "
                                    "excluded.refresh_token_sealed, token_type = "
                                    "excluded.token_type, scope = excluded.scope, expires_at = "
                                    "excluded.expires_at, connected_at = excluded.connected_at, "
                                    "refreshed_at = excluded.refreshed_at, updated_at = "
                                    "excluded.updated_at, version = vault_accounts.version + 1, "
                                    "refresh_lease_until = 0, last_error = ''"});
  return Done(tx.Exec(
      q, {a.tenant_id.value(), a.user_id.value(), a.connection_id, a.status, a.access_token_sealed,
          a.refresh_token_sealed, a.token_type, a.scope, a.expires_at, a.connected_at,
          Opt(a.refreshed_at), a.updated_at, a.version, a.refresh_lease_until, a.last_error}));
}
Result<std::optional<AccountRecord>> Get(Tx& tx, const TenantId& tenant, const UserId& user,
                                         const std::string& connection_id) {
  static const std::string q =
      Sql({"SELECT ", kAccountCols,
           " FROM vault_accounts WHERE tenant_id = ? AND user_id = ? AND connection_id = ?"});
  return One<AccountRecord>(tx.QueryOne(q, {tenant.value(), user.value(), connection_id}),
                            MapAccount);
}
Result<std::vector<AccountRecord>> ListForUser(Tx& tx, const TenantId& tenant, const UserId& user) {
  static const std::string q =
      Sql({"SELECT ", kAccountCols,
           " FROM vault_accounts WHERE tenant_id = ? AND user_id = ? ORDER BY connection_id"});
  return Many<AccountRecord>(tx.Query(q, {tenant.value(), user.value()}), MapAccount);
}
Result<std::vector<AccountRecord>> ListForConnection(Tx& tx, const TenantId& tenant,
                                                     const std::string& connection_id) {
  static const std::string q =
      Sql({"SELECT ", kAccountCols,
           " FROM vault_accounts WHERE tenant_id = ? AND connection_id = ? ORDER BY user_id"});
  return Many<AccountRecord>(tx.Query(q, {tenant.value(), connection_id}), MapAccount);
}
Result<bool> TryLease(Tx& tx, const TenantId& tenant, const UserId& user,
                      const std::string& connection_id, int64_t now, int64_t until) {
  GH_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("UPDATE vault_accounts SET refresh_lease_until = ? WHERE tenant_id = ? AND "
              "user_id = ? AND connection_id = ? AND refresh_lease_until <= ?",
              {until, tenant.value(), user.value(), connection_id, now}));
  return n == 1;
}
Result<bool> StoreRefreshed(Tx& tx, const AccountRecord& a, int64_t expected_version) {
  GH_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("UPDATE vault_accounts SET status = ?, access_token_sealed = ?, refresh_token_sealed "
              "= ?, token_type = ?, "
              "scope = ?, expires_at = ?, refreshed_at = ?, updated_at = ?, version = version + 1, "
              "refresh_lease_until = 0, last_error = '' WHERE tenant_id = ? AND user_id = ? AND "
              "connection_id = ? AND "
              "version = ?",
              {a.status, a.access_token_sealed, a.refresh_token_sealed, a.token_type, a.scope,
               a.expires_at, Opt(a.refreshed_at), a.updated_at, a.tenant_id.value(),
               a.user_id.value(), a.connection_id, expected_version}));
  return n == 1;
}
Status SetStatus(Tx& tx, const TenantId& tenant, const UserId& user,
                 const std::string& connection_id, const std::string& status,
                 const std::string& last_error, int64_t now) {
  return Done(
      tx.Exec("UPDATE vault_accounts SET status = ?, last_error = ?, updated_at = ?, "
              "refresh_lease_until = 0 "
              "WHERE tenant_id = ? AND user_id = ? AND connection_id = ?",
              {status, last_error, now, tenant.value(), user.value(), connection_id}));
}
Status ReleaseLease(Tx& tx, const TenantId& tenant, const UserId& user,
                    const std::string& connection_id) {
  return Done(tx.Exec(
      "UPDATE vault_accounts SET refresh_lease_until = 0 WHERE tenant_id = ? AND user_id = ? AND "
      "connection_id = ?",
      {tenant.value(), user.value(), connection_id}));
}
Status Delete(Tx& tx, const TenantId& tenant, const UserId& user,
              const std::string& connection_id) {
  return Done(tx.Exec(
      "DELETE FROM vault_accounts WHERE tenant_id = ? AND user_id = ? AND connection_id = ?",
      {tenant.value(), user.value(), connection_id}));
}
}  // namespace vault_accounts

// ---- authorization code flows in progress ----
namespace vault_states {
Status Insert(Tx& tx, const OAuthStateRecord& s) {
  static const std::string q =
      Sql({"INSERT INTO vault_oauth_states (", kStateCols, ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"});
  return Done(
      tx.Exec(q, {s.state_hash, s.tenant_id.value(), s.user_id.value(), s.connection_id,
                  s.verifier_sealed, s.binding_hash, s.return_to, s.expires_at, s.created_at}));
}
Result<std::optional<OAuthStateRecord>> Find(Tx& tx, const std::string& state_hash) {
  static const std::string q =
      Sql({"SELECT ", kStateCols, " FROM vault_oauth_states WHERE state_hash = ?"});
  return One<OAuthStateRecord>(tx.QueryOne(q, {state_hash}), MapState);
}
Result<bool> Consume(Tx& tx, const TenantId& tenant, const std::string& state_hash) {
  GH_ASSIGN_OR_RETURN(
      int64_t n, tx.Exec("DELETE FROM vault_oauth_states WHERE tenant_id = ? AND state_hash = ?",
                         {tenant.value(), state_hash}));
  return n == 1;
}
Status DeleteExpired(Tx& tx, int64_t now) {
  return Done(tx.Exec("DELETE FROM vault_oauth_states WHERE expires_at <= ?", {now}));
}
}  // namespace vault_states

// ---- trusted backend clients ----
namespace oauth_clients {
Status Insert(Tx& tx, const OAuthClientRecord& c) {
  static const std::string q =
      Sql({"INSERT INTO oauth_clients (", kClientCols, ") VALUES (?, ?, ?, ?, ?, ?, ?)"});
  return Done(tx.Exec(q, {c.client_id, c.tenant_id.value(), c.name, c.secret_hash, c.grant_types,
                          c.created_at, Opt(c.revoked_at)}));
}
Result<std::optional<OAuthClientRecord>> Find(Tx& tx, const std::string& client_id) {
  static const std::string q =
      Sql({"SELECT ", kClientCols, " FROM oauth_clients WHERE client_id = ?"});
  return One<OAuthClientRecord>(tx.QueryOne(q, {client_id}), MapClient);
}
Result<std::vector<OAuthClientRecord>> List(Tx& tx, const TenantId& tenant) {
  static const std::string q =
      Sql({"SELECT ", kClientCols,
           " FROM oauth_clients WHERE tenant_id = ? ORDER BY created_at, client_id"});
  return Many<OAuthClientRecord>(tx.Query(q, {tenant.value()}), MapClient);
}
Result<bool> Revoke(Tx& tx, const TenantId& tenant, const std::string& client_id, int64_t now) {
  GH_ASSIGN_OR_RETURN(int64_t n,
                      tx.Exec("UPDATE oauth_clients SET revoked_at = ? WHERE tenant_id = ? AND "
                              "client_id = ? AND revoked_at IS NULL",
                              {now, tenant.value(), client_id}));
  return n == 1;
}
}  // namespace oauth_clients

// ---- approval requests ----
namespace approvals {
Status Insert(Tx& tx, const ApprovalRecord& a) {
  static const std::string q = Sql({"INSERT INTO approval_requests (", kApprovalCols,
                                    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"});
  return Done(tx.Exec(q, {a.tenant_id.value(),
                          a.id,
                          a.user_id.value(),
                          a.kind,
                          a.state,
                          a.client_id,
                          Opt(a.auth_req_hash),
                          a.scope,
                          a.binding_message,
                          a.authorization_details,
                          a.tool_name,
                          a.arguments,
                          a.arguments_hash,
                          a.session_id,
                          a.tool_call_id,
                          a.trace_id,
                          a.poll_interval,
                          a.last_polled_at,
                          a.result,
                          int64_t(a.result_is_error),
                          int64_t(a.resumed),
                          a.lease_until,
                          a.created_at,
                          a.expires_at,
                          Opt(a.decided_at),
                          Opt(a.finished_at),
                          a.client_name}));
}
Result<std::optional<ApprovalRecord>> Get(Tx& tx, const TenantId& tenant, const std::string& id) {
  static const std::string q =
      Sql({"SELECT ", kApprovalCols, " FROM approval_requests WHERE tenant_id = ? AND id = ?"});
  return One<ApprovalRecord>(tx.QueryOne(q, {tenant.value(), id}), MapApproval);
}
Result<std::optional<ApprovalRecord>> FindByAuthReq(Tx& tx, const TenantId& tenant,
                                                    const std::string& auth_req_hash) {
  static const std::string q =
      Sql({"SELECT ", kApprovalCols,
           " FROM approval_requests WHERE tenant_id = ? AND auth_req_hash = ?"});
  return One<ApprovalRecord>(tx.QueryOne(q, {tenant.value(), auth_req_hash}), MapApproval);
}
Result<std::vector<ApprovalRecord>> ListForUser(Tx& tx, const TenantId& tenant, const UserId& user,
                                                int64_t limit) {
  static const std::string q = Sql({"SELECT ", kApprovalCols,
                                    " FROM approval_requests WHERE tenant_id = ? AND user_id = ? "
                                    "ORDER BY (CASE WHEN state = 'pending' THEN 0 "
                                    "ELSE 1 END), created_at DESC, id LIMIT ?"});
  return Many<ApprovalRecord>(tx.Query(q, {tenant.value(), user.value(), limit}), MapApproval);
}
Result<bool> Transition(Tx& tx, const TenantId& tenant, const std::string& id,
                        const std::string& from, const std::string& to, int64_t now) {
  const bool decision = to == "approved" || to == "denied";
  GH_ASSIGN_OR_RETURN(
      int64_t n, tx.Exec("UPDATE approval_requests SET state = ?, decided_at = (CASE WHEN ? = 1 "
                         "THEN ? ELSE decided_at "
                         "END) WHERE tenant_id = ? AND id = ? AND state = ? AND (? <> 'pending' OR "
                         "? = 'expired' OR "
                         "expires_at > ?)",
                         {to, int64_t(decision), now, tenant.value(), id, from, from, to, now}));
  return n == 1;
}
Result<bool> ClaimForExecution(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now,
                               int64_t lease_until) {
  GH_ASSIGN_OR_RETURN(
      int64_t n, tx.Exec("UPDATE approval_requests SET state = 'executing', lease_until = ? WHERE "
                         "tenant_id = ? AND id = ? AND state = 'approved'",
                         {lease_until, tenant.value(), id}));
  (void)now;
  return n == 1;
}
Status Finish(Tx& tx, const TenantId& tenant, const std::string& id, const std::string& state,
              const std::string& result, bool is_error, int64_t now) {
  return Done(tx.Exec(
      "UPDATE approval_requests SET state = ?, result = ?, result_is_error = ?, finished_at = ?, "
      "lease_until = 0 WHERE tenant_id = ? AND id = ?",
      {state, result, int64_t(is_error), now, tenant.value(), id}));
}
Status RecordPoll(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now,
                  int64_t interval) {
  return Done(
      tx.Exec("UPDATE approval_requests SET last_polled_at = ?, poll_interval = ? WHERE tenant_id "
              "= ? AND id = ?",
              {now, interval, tenant.value(), id}));
}
Result<bool> LeaseResume(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now,
                         int64_t until) {
  GH_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("UPDATE approval_requests SET lease_until = ? WHERE tenant_id = ? AND id = ? "
              "AND resumed = 0 AND lease_until <= ? AND state IN ('denied', 'expired', "
              "'completed', 'failed', 'interrupted')",
              {until, tenant.value(), id, now}));
  return n == 1;
}
Status MarkResumed(Tx& tx, const TenantId& tenant, const std::string& id) {
  return Done(tx.Exec(
      "UPDATE approval_requests SET resumed = 1, lease_until = 0 WHERE tenant_id = ? AND id = ?",
      {tenant.value(), id}));
}
Status ReleaseResume(Tx& tx, const TenantId& tenant, const std::string& id) {
  return Done(tx.Exec(
      "UPDATE approval_requests SET lease_until = 0 WHERE tenant_id = ? AND id = ? AND resumed = 0",
      {tenant.value(), id}));
}
Result<std::vector<ApprovalRecord>> ListDue(Tx& tx, int64_t now, int64_t limit) {
  static const std::string q = Sql({"SELECT ", kApprovalCols,
                                    " FROM approval_requests WHERE (state = 'pending' AND "
                                    "expires_at <= ?) OR (kind = 'tool_call' AND resumed = 0 "
                                    "AND lease_until <= ? AND state IN ('approved', 'denied', "
                                    "'expired', 'completed', 'failed', 'interrupted')) "
                                    "ORDER BY created_at LIMIT ?"});
  return Many<ApprovalRecord>(tx.Query(q, {now, now, limit}), MapApproval);
}
Result<std::vector<ApprovalRecord>> ListStaleExecutions(Tx& tx, int64_t now, int64_t limit) {
  static const std::string q =
      Sql({"SELECT ", kApprovalCols,
           " FROM approval_requests WHERE state = 'executing' AND lease_until <= ? "
           "ORDER BY created_at LIMIT ?"});
  return Many<ApprovalRecord>(tx.Query(q, {now, limit}), MapApproval);
}
}  // namespace approvals

// ---- approval policies ----
namespace approval_policies {
Result<std::vector<ApprovalPolicyRecord>> List(Tx& tx, const TenantId& tenant) {
  return Many<ApprovalPolicyRecord>(
      tx.Query("SELECT tenant_id, id, tool_name, when_expr, binding_message, expires_in_seconds, "
               "created_at FROM "
               "approval_policies WHERE tenant_id = ? ORDER BY created_at, id",
               {tenant.value()}),
      [](const Row& r) {
        return ApprovalPolicyRecord{TenantId(r.Text(0)), r.Text(1), r.Text(2), r.Text(3),
                                    r.Text(4),           r.Int(5),  r.Int(6)};
      });
}
Status Replace(Tx& tx, const TenantId& tenant, const std::vector<ApprovalPolicyRecord>& policies) {
  GH_RETURN_IF_ERROR(
      Done(tx.Exec("DELETE FROM approval_policies WHERE tenant_id = ?", {tenant.value()})));
  for (const auto& p : policies) {
    GH_RETURN_IF_ERROR(Done(
        tx.Exec("INSERT INTO approval_policies (tenant_id, id, tool_name, when_expr, "
                "binding_message, expires_in_seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                {tenant.value(), p.id, p.tool_name, p.when_expr, p.binding_message,
                 p.expires_in_seconds, p.created_at})));
  }
  return Status::Ok();
}
}  // namespace approval_policies

// ---- HTTP API tools ----
namespace http_tools {
Status Upsert(Tx& tx, const HttpToolRecord& t) {
  return Done(tx.Exec(
      "INSERT INTO http_tools (tenant_id, name, definition, created_at, updated_at) VALUES (?, ?, "
      "?, ?, ?) "
      "ON CONFLICT (tenant_id, name) DO UPDATE SET definition = excluded.definition, updated_at = "
      "excluded.updated_at",
      {t.tenant_id.value(), t.name, t.definition, t.created_at, t.updated_at}));
}
Result<std::optional<HttpToolRecord>> Get(Tx& tx, const TenantId& tenant, const std::string& name) {
  return One<HttpToolRecord>(
      tx.QueryOne("SELECT tenant_id, name, definition, created_at, updated_at FROM http_tools "
                  "WHERE tenant_id = ? AND name = ?",
                  {tenant.value(), name}),
      [](const Row& r) {
        return HttpToolRecord{TenantId(r.Text(0)), r.Text(1), r.Text(2), r.Int(3), r.Int(4)};
      });
}
Result<std::vector<HttpToolRecord>> List(Tx& tx, const TenantId& tenant) {
  return Many<HttpToolRecord>(
      tx.Query("SELECT tenant_id, name, definition, created_at, updated_at FROM http_tools "
               "WHERE tenant_id = ? ORDER BY name",
               {tenant.value()}),
      [](const Row& r) {
        return HttpToolRecord{TenantId(r.Text(0)), r.Text(1), r.Text(2), r.Int(3), r.Int(4)};
      });
}
Result<bool> Delete(Tx& tx, const TenantId& tenant, const std::string& name) {
  GH_ASSIGN_OR_RETURN(int64_t n, tx.Exec("DELETE FROM http_tools WHERE tenant_id = ? AND name = ?",
                                         {tenant.value(), name}));
  return n == 1;
}
}  // namespace http_tools

// ---- signing keys (master-key rotation) ----
namespace signing_key_seals {
Result<std::vector<SigningKeySeal>> ListAll(Tx& tx) {
  return Many<SigningKeySeal>(tx.Query("SELECT kid, sealed_key FROM signing_keys ORDER BY kid"),
                              [](const Row& r) {
                                return SigningKeySeal{r.Text(0), r.Text(1)};
                              });
}
Status Update(Tx& tx, const std::string& kid, const std::string& sealed_key) {
  return Done(tx.Exec("UPDATE signing_keys SET sealed_key = ? WHERE kid = ?", {sealed_key, kid}));
}
}  // namespace signing_key_seals

}  // namespace gh::storage
