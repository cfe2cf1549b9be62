#include "storage/repositories.h"

#include "storage/row_mapping.h"

#include <set>

namespace gh::storage {
namespace {

using namespace row_mapping;

constexpr const char* kTenantCols = "id, name, tier, status, timezone, created_at";
TenantRecord MapTenant(const Row& r) {
  return {TenantId(r.Text(0)), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Int(5)};
}

constexpr const char* kUserCols =
    "id, tenant_id, email, password_hash, role, verified, failed_logins, locked_until, created_at";
UserRecord MapUser(const Row& r) {
  return {UserId(r.Text(0)), TenantId(r.Text(1)), r.Text(2), r.Text(3),
          r.Text(4),         r.Int(5) != 0,       r.Int(6),  r.Int(7),
          r.Int(8)};
}

constexpr const char* kSessionCols =
    "id, tenant_id, user_id, title, created_at, last_active_at, expires_at, ended_at, "
    "message_count, busy_until";
SessionRecord MapSession(const Row& r) {
  return {SessionId(r.Text(0)),
          TenantId(r.Text(1)),
          UserId(r.Text(2)),
          r.Text(3),
          r.Int(4),
          r.Int(5),
          r.Int(6),
          r.OptInt(7),
          r.Int(8),
          r.Int(9)};
}

std::string Sql(const char* head, const char* cols, const char* tail) {
  return std::string(head) + cols + tail;
}

}  // namespace

// ---- tenants ----
namespace tenants {
Status Insert(Tx& tx, const TenantRecord& t) {
  return Done(
      tx.Exec("INSERT INTO tenants (id, name, tier, status, timezone, created_at) VALUES (?, ?, ?, "
              "?, ?, ?)",
              {t.id.value(), t.name, t.tier, t.status, t.timezone, t.created_at}));
}
Result<std::optional<TenantRecord>> Get(Tx& tx, const TenantId& id) {
  static const std::string q = Sql("SELECT ", kTenantCols, " FROM tenants WHERE id = ?");
  return One<TenantRecord>(tx.QueryOne(q, {id.value()}), MapTenant);
}
Result<std::vector<TenantRecord>> ListAll(Tx& tx) {
  static const std::string q = Sql("SELECT ", kTenantCols, " FROM tenants ORDER BY id");
  return Many<TenantRecord>(tx.Query(q), MapTenant);
}
Status SetTier(Tx& tx, const TenantId& id, const std::string& tier) {
  return Done(tx.Exec("UPDATE tenants SET tier = ? WHERE id = ?", {tier, id.value()}));
}
Status SetStatus(Tx& tx, const TenantId& id, const std::string& status) {
  return Done(tx.Exec("UPDATE tenants SET status = ? WHERE id = ?", {status, id.value()}));
}
}  // namespace tenants

// ---- users ----
namespace external_identities {
Result<std::optional<ExternalIdentityRecord>> Find(Tx& tx, const std::string& issuer,
                                                   const std::string& subject) {
  return One<ExternalIdentityRecord>(
      tx.QueryOne("SELECT issuer, subject, tenant_id, user_id, created_at FROM external_identities "
                  "WHERE issuer = ? AND subject = ?",
                  {issuer, subject}),
      [](const Row& r) {
        return ExternalIdentityRecord{r.Text(0), r.Text(1), TenantId(r.Text(2)), UserId(r.Text(3)),
                                      r.Int(4)};
      });
}
Result<bool> InsertIfAbsent(Tx& tx, const ExternalIdentityRecord& r) {
  GH_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("INSERT INTO external_identities (issuer, subject, tenant_id, user_id, "
              "created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (issuer, subject) DO NOTHING",
              {r.issuer, r.subject, r.tenant_id.value(), r.user_id.value(), r.created_at}));
  return n > 0;
}
}  // namespace external_identities

namespace users {
Status Insert(Tx& tx, const UserRecord& u) {
  return Done(
      tx.Exec("INSERT INTO users (id, tenant_id, email, password_hash, role, verified, "
              "failed_logins, locked_until, "
              "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {u.id.value(), u.tenant_id.value(), u.email, u.password_hash, u.role,
               int64_t(u.verified), u.failed_logins, u.locked_until, u.created_at}));
}
Result<std::optional<UserRecord>> FindByEmail(Tx& tx, const std::string& email) {
  static const std::string q = Sql("SELECT ", kUserCols, " FROM users WHERE email = ?");
  return One<UserRecord>(tx.QueryOne(q, {email}), MapUser);
}
Result<std::optional<UserRecord>> Get(Tx& tx, const TenantId& tenant, const UserId& id) {
  static const std::string q =
      Sql("SELECT ", kUserCols, " FROM users WHERE tenant_id = ? AND id = ?");
  return One<UserRecord>(tx.QueryOne(q, {tenant.value(), id.value()}), MapUser);
}
Result<std::vector<UserRecord>> List(Tx& tx, const TenantId& tenant) {
  static const std::string q =
      Sql("SELECT ", kUserCols, " FROM users WHERE tenant_id = ? ORDER BY created_at");
  return Many<UserRecord>(tx.Query(q, {tenant.value()}), MapUser);
}
Status SetVerified(Tx& tx, const TenantId& tenant, const UserId& id) {
  return Done(tx.Exec("UPDATE users SET verified = 1 WHERE tenant_id = ? AND id = ?",
                      {tenant.value(), id.value()}));
}
Status SetRole(Tx& tx, const TenantId& tenant, const UserId& id, const std::string& role) {
  return Done(tx.Exec("UPDATE users SET role = ? WHERE tenant_id = ? AND id = ?",
                      {role, tenant.value(), id.value()}));
}
Status SetLoginFailures(Tx& tx, const TenantId& tenant, const UserId& id, int64_t failures,
                        int64_t locked_until) {
  return Done(
      tx.Exec("UPDATE users SET failed_logins = ?, locked_until = ? WHERE tenant_id = ? AND id = ?",
              {failures, locked_until, tenant.value(), id.value()}));
}
Status AddGroup(Tx& tx, const TenantId& tenant, const UserId& id, const std::string& group) {
  return Done(tx.Exec(
      "INSERT INTO user_groups (tenant_id, user_id, grp) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      {tenant.value(), id.value(), group}));
}
Result<std::vector<std::string>> Groups(Tx& tx, const TenantId& tenant, const UserId& id) {
  return Many<std::string>(
      tx.Query("SELECT grp FROM user_groups WHERE tenant_id = ? AND user_id = ? ORDER BY grp",
               {tenant.value(), id.value()}),
      [](const Row& r) { return r.Text(0); });
}
Result<int64_t> CountInTenant(Tx& tx, const TenantId& tenant) {
  GH_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("SELECT COUNT(*) FROM users WHERE tenant_id = ?", {tenant.value()}));
  return row ? row->Int(0) : 0;
}
}  // namespace users

// ---- verification codes ----
namespace verification {
Status Upsert(Tx& tx, const VerificationCodeRecord& v) {
  return Done(tx.Exec(
      "INSERT INTO verification_codes (user_id, tenant_id, code_hash, expires_at, attempts, "
      "sent_at) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET code_hash = "
      "excluded.code_hash, "
      "expires_at = excluded.expires_at, attempts = excluded.attempts, sent_at = excluded.sent_at",
      {v.user_id.value(), v.tenant_id.value(), v.code_hash, v.expires_at, v.attempts, v.sent_at}));
}
Result<std::optional<VerificationCodeRecord>> Get(Tx& tx, const TenantId& tenant,
                                                  const UserId& user) {
  return One<VerificationCodeRecord>(
      tx.QueryOne("SELECT user_id, tenant_id, code_hash, expires_at, attempts, sent_at FROM "
                  "verification_codes "
                  "WHERE tenant_id = ? AND user_id = ?",
                  {tenant.value(), user.value()}),
      [](const Row& r) {
        return VerificationCodeRecord{
            UserId(r.Text(0)), TenantId(r.Text(1)), r.Text(2), r.Int(3), r.Int(4), r.Int(5)};
      });
}
Status SetAttempts(Tx& tx, const TenantId& tenant, const UserId& user, int64_t attempts) {
  return Done(
      tx.Exec("UPDATE verification_codes SET attempts = ? WHERE tenant_id = ? AND user_id = ?",
              {attempts, tenant.value(), user.value()}));
}
Status Delete(Tx& tx, const TenantId& tenant, const UserId& user) {
  return Done(tx.Exec("DELETE FROM verification_codes WHERE tenant_id = ? AND user_id = ?",
                      {tenant.value(), user.value()}));
}
}  // namespace verification

// ---- refresh tokens ----
namespace refresh_tokens {
Status Insert(Tx& tx, const RefreshTokenRecord& r) {
  return Done(
      tx.Exec("INSERT INTO refresh_tokens (token_hash, tenant_id, user_id, family_id, expires_at, "
              "rotated, revoked, "
              "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {r.token_hash, r.tenant_id.value(), r.user_id.value(), r.family_id, r.expires_at,
               int64_t(r.rotated), int64_t(r.revoked), r.created_at}));
}
Result<std::optional<RefreshTokenRecord>> FindByHash(Tx& tx, const std::string& token_hash) {
  return One<RefreshTokenRecord>(tx.QueryOne("SELECT token_hash, tenant_id, user_id, family_id, "
                                             "expires_at, rotated, revoked, created_at "
                                             "FROM refresh_tokens WHERE token_hash = ?",
                                             {token_hash}),
                                 [](const Row& r) {
                                   return RefreshTokenRecord{
                                       r.Text(0), TenantId(r.Text(1)), UserId(r.Text(2)), r.Text(3),
                                       r.Int(4),  r.Int(5) != 0,       r.Int(6) != 0,     r.Int(7)};
                                 });
}
Result<bool> MarkRotated(Tx& tx, const TenantId& tenant, const std::string& token_hash) {
  GH_ASSIGN_OR_RETURN(int64_t n,
                      tx.Exec("UPDATE refresh_tokens SET rotated = 1 WHERE tenant_id = ? AND "
                              "token_hash = ? AND rotated = 0 AND revoked = 0",
                              {tenant.value(), token_hash}));
  return n == 1;
}
Status RevokeFamily(Tx& tx, const TenantId& tenant, const std::string& family_id) {
  return Done(tx.Exec("UPDATE refresh_tokens SET revoked = 1 WHERE tenant_id = ? AND family_id = ?",
                      {tenant.value(), family_id}));
}
Status RevokeAllForUser(Tx& tx, const TenantId& tenant, const UserId& user) {
  return Done(tx.Exec("UPDATE refresh_tokens SET revoked = 1 WHERE tenant_id = ? AND user_id = ?",
                      {tenant.value(), user.value()}));
}
}  // namespace refresh_tokens

// ---- invitations ----
namespace invitations {
namespace {
InvitationRecord MapInvitation(const Row& r) {
  return {r.Text(0), TenantId(r.Text(1)), UserId(r.Text(2)), r.Text(3),
          r.Int(4),  r.OptText(5),        r.Int(6) != 0,     r.Int(7)};
}
constexpr const char* kCols =
    "code_hash, tenant_id, created_by, role, expires_at, used_by, revoked, created_at";
}  // namespace
Status Insert(Tx& tx, const InvitationRecord& i) {
  return Done(
      tx.Exec("INSERT INTO invitations (code_hash, tenant_id, created_by, role, expires_at, "
              "used_by, revoked, created_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {i.code_hash, i.tenant_id.value(), i.created_by.value(), i.role, i.expires_at,
               Opt(i.used_by), int64_t(i.revoked), i.created_at}));
}
Result<std::optional<InvitationRecord>> FindByHash(Tx& tx, const std::string& code_hash) {
  static const std::string q = Sql("SELECT ", kCols, " FROM invitations WHERE code_hash = ?");
  return One<InvitationRecord>(tx.QueryOne(q, {code_hash}), MapInvitation);
}
Result<bool> Consume(Tx& tx, const TenantId& tenant, const std::string& code_hash,
                     const UserId& user, int64_t now) {
  GH_ASSIGN_OR_RETURN(
      int64_t n, tx.Exec("UPDATE invitations SET used_by = ?, used_at = ? WHERE tenant_id = ? AND "
                         "code_hash = ? AND used_by IS NULL AND revoked = 0 AND expires_at > ?",
                         {user.value(), now, tenant.value(), code_hash, now}));
  return n == 1;
}
Result<std::vector<InvitationRecord>> List(Tx& tx, const TenantId& tenant) {
  static const std::string q =
      Sql("SELECT ", kCols, " FROM invitations WHERE tenant_id = ? ORDER BY created_at");
  return Many<InvitationRecord>(tx.Query(q, {tenant.value()}), MapInvitation);
}
Status Revoke(Tx& tx, const TenantId& tenant, const std::string& code_hash) {
  return Done(tx.Exec("UPDATE invitations SET revoked = 1 WHERE tenant_id = ? AND code_hash = ?",
                      {tenant.value(), code_hash}));
}
}  // namespace invitations

// ---- signing keys ----
namespace signing_keys {
Status Insert(Tx& tx, const SigningKeyRecord& k) {
  return Done(
      tx.Exec("INSERT INTO signing_keys (kid, alg, sealed_key, created_at, retired_at) VALUES (?, "
              "?, ?, ?, ?)",
              {k.kid, k.alg, k.sealed_key, k.created_at, Opt(k.retired_at)}));
}
Result<std::vector<SigningKeyRecord>> ListActive(Tx& tx) {
  return Many<SigningKeyRecord>(
      tx.Query("SELECT kid, alg, sealed_key, created_at, retired_at FROM signing_keys WHERE "
               "retired_at IS NULL "
               "ORDER BY created_at"),
      [](const Row& r) {
        return SigningKeyRecord{r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.OptInt(4)};
      });
}
}  // namespace signing_keys

// ---- sessions ----
namespace sessions {
Status Insert(Tx& tx, const SessionRecord& s) {
  return Done(
      tx.Exec("INSERT INTO chat_sessions (id, tenant_id, user_id, title, created_at, "
              "last_active_at, expires_at, ended_at, "
              "message_count, busy_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {s.id.value(), s.tenant_id.value(), s.user_id.value(), s.title, s.created_at,
               s.last_active_at, s.expires_at, Opt(s.ended_at), s.message_count, s.busy_until}));
}
Result<std::optional<SessionRecord>> Get(Tx& tx, const TenantId& tenant, const SessionId& id) {
  static const std::string q =
      Sql("SELECT ", kSessionCols, " FROM chat_sessions WHERE tenant_id = ? AND id = ?");
  return One<SessionRecord>(tx.QueryOne(q, {tenant.value(), id.value()}), MapSession);
}
Result<std::vector<SessionRecord>> ListForUser(Tx& tx, const TenantId& tenant, const UserId& user,
                                               int64_t limit) {
  static const std::string q = Sql("SELECT ", kSessionCols,
                                   " FROM chat_sessions WHERE tenant_id = ? AND user_id = ? "
                                   "ORDER BY created_at DESC LIMIT ?");
  return Many<SessionRecord>(tx.Query(q, {tenant.value(), user.value(), limit}), MapSession);
}
Result<std::vector<SessionRecord>> ListForTenant(Tx& tx, const TenantId& tenant, int64_t limit) {
  static const std::string q =
      Sql("SELECT ", kSessionCols,
          " FROM chat_sessions WHERE tenant_id = ? ORDER BY created_at DESC LIMIT ?");
  return Many<SessionRecord>(tx.Query(q, {tenant.value(), limit}), MapSession);
}
Result<int64_t> CountOpen(Tx& tx, const TenantId& tenant, const UserId& user, int64_t now,
                          int64_t idle_cutoff) {
  GH_ASSIGN_OR_RETURN(
      auto row,
      tx.QueryOne("SELECT COUNT(*) FROM chat_sessions WHERE tenant_id = ? AND user_id = ? "
                  "AND ended_at IS NULL AND expires_at > ? AND last_active_at > ?",
                  {tenant.value(), user.value(), now, idle_cutoff}));
  return row ? row->Int(0) : 0;
}
Result<bool> TryMarkBusy(Tx& tx, const TenantId& tenant, const SessionId& id, int64_t now,
                         int64_t until) {
  GH_ASSIGN_OR_RETURN(
      int64_t n, tx.Exec("UPDATE chat_sessions SET busy_until = ? WHERE tenant_id = ? AND id = ? "
                         "AND busy_until <= ?",
                         {until, tenant.value(), id.value(), now}));
  return n == 1;
}
Status FinishTurn(Tx& tx, const TenantId& tenant, const SessionId& id, int64_t now,
                  int64_t added_messages, const std::string& title_if_empty) {
  return Done(
      tx.Exec("UPDATE chat_sessions SET busy_until = 0, last_active_at = ?, message_count = "
              "message_count + ?, "
              "title = CASE WHEN title = '' THEN ? ELSE title END WHERE tenant_id = ? AND id = ?",
              {now, added_messages, title_if_empty, tenant.value(), id.value()}));
}
Status End(Tx& tx, const TenantId& tenant, const SessionId& id, int64_t now) {
  return Done(tx.Exec(
      "UPDATE chat_sessions SET ended_at = ? WHERE tenant_id = ? AND id = ? AND ended_at IS NULL",
      {now, tenant.value(), id.value()}));
}
}  // namespace sessions

// ---- messages ----
namespace messages {
Status Insert(Tx& tx, const MessageRecord& m) {
  return Done(
      tx.Exec("INSERT INTO messages (id, tenant_id, session_id, user_id, seq, role, content, "
              "tool_calls, tool_call_id, "
              "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {m.id.value(), m.tenant_id.value(), m.session_id.value(), m.user_id.value(), m.seq,
               m.role, m.content, Opt(m.tool_calls), Opt(m.tool_call_id), m.created_at}));
}
Result<std::vector<MessageRecord>> ListForSession(Tx& tx, const TenantId& tenant,
                                                  const SessionId& session, int64_t limit) {
  // The most recent `limit` messages, oldest first.
  return Many<MessageRecord>(tx.Query("SELECT id, tenant_id, session_id, user_id, seq, role, "
                                      "content, tool_calls, tool_call_id, created_at "
                                      "FROM (SELECT * FROM messages WHERE tenant_id = ? AND "
                                      "session_id = ? ORDER BY seq DESC LIMIT ?) "
                                      "AS recent ORDER BY seq",
                                      {tenant.value(), session.value(), limit}),
                             [](const Row& r) {
                               return MessageRecord{MessageId(r.Text(0)),
                                                    TenantId(r.Text(1)),
                                                    SessionId(r.Text(2)),
                                                    UserId(r.Text(3)),
                                                    r.Int(4),
                                                    r.Text(5),
                                                    r.Text(6),
                                                    r.OptText(7),
                                                    r.OptText(8),
                                                    r.Int(9)};
                             });
}
Result<int64_t> NextSeq(Tx& tx, const TenantId& tenant, const SessionId& session) {
  GH_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE tenant_id = ? "
                            "AND session_id = ?",
                            {tenant.value(), session.value()}));
  return row ? row->Int(0) : 1;
}
}  // namespace messages

// ---- quota counters ----
namespace counters {
namespace {
// One statement per counter: the row is created on first use. With a limit, the increment (or the
// first insert) happens only if it keeps the counter within the limit; changes() tells which.
constexpr const char* kIncrementWithin =
    "INSERT INTO quota_counters (tenant_id, scope, period, metric, used) SELECT ?, ?, ?, ?, ? "
    "WHERE ? <= ? "
    "ON CONFLICT (tenant_id, scope, period, metric) DO UPDATE SET used = quota_counters.used + "
    "excluded.used "
    "WHERE quota_counters.used + excluded.used <= ?";
constexpr const char* kIncrement =
    "INSERT INTO quota_counters (tenant_id, scope, period, metric, used) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant_id, scope, period, metric) DO UPDATE SET used = quota_counters.used + "
    "excluded.used";
// Adjustments never drive a counter below zero.
constexpr const char* kAdjust =
    "INSERT INTO quota_counters (tenant_id, scope, period, metric, used) VALUES (?, ?, ?, ?, CASE "
    "WHEN ? < 0 THEN 0 "
    "ELSE ? END) ON CONFLICT (tenant_id, scope, period, metric) DO UPDATE SET used = CASE WHEN "
    "quota_counters.used + ? "
    "< 0 THEN 0 ELSE quota_counters.used + ? END";
}  // namespace

Result<std::optional<size_t>> TryApply(Tx& tx, const TenantId& tenant,
                                       const std::vector<CounterDelta>& deltas) {
  for (size_t i = 0; i < deltas.size(); ++i) {
    const CounterDelta& d = deltas[i];
    if (d.amount == 0 && !d.limit) continue;  // changes nothing: an absent counter reads as 0
    int64_t changed;
    if (d.limit) {
      GH_ASSIGN_OR_RETURN(changed, tx.Exec(kIncrementWithin,
                                           {tenant.value(), d.key.scope, d.key.period, d.key.metric,
                                            d.amount, d.amount, *d.limit, *d.limit}));
    } else {
      GH_ASSIGN_OR_RETURN(changed, tx.Exec(kIncrement, {tenant.value(), d.key.scope, d.key.period,
                                                        d.key.metric, d.amount}));
    }
    if (changed != 1) {
      // Undo what this call applied, so a refusal changes nothing even if the caller commits.
      std::vector<CounterDelta> undo(deltas.begin(), deltas.begin() + static_cast<long>(i));
      for (auto& u : undo) {
        u.amount = -u.amount;
        u.limit.reset();
      }
      GH_RETURN_IF_ERROR(Adjust(tx, tenant, undo));
      return std::optional<size_t>(i);
    }
  }
  return std::optional<size_t>();
}

Status Adjust(Tx& tx, const TenantId& tenant, const std::vector<CounterDelta>& deltas) {
  // The increments of distinct counters (a settlement's tallies, a recorder group's sums) in one
  // statement, rows in the given order (the lock order on PostgreSQL); a decrement, which must
  // not go below zero, or a counter named twice, one statement each, in order.
  std::set<CounterKey> seen;
  bool batchable = true;
  for (const CounterDelta& d : deltas)
    if (d.amount != 0 && (d.amount < 0 || !seen.insert(d.key).second)) batchable = false;
  if (!batchable || seen.size() < 2) {
    for (const CounterDelta& d : deltas) {
      if (d.amount == 0) continue;
      GH_RETURN_IF_ERROR(
          Done(tx.Exec(kAdjust, {tenant.value(), d.key.scope, d.key.period, d.key.metric, d.amount,
                                 d.amount, d.amount, d.amount})));
    }
    return Status::Ok();
  }
  std::vector<const CounterDelta*> increments;
  for (const CounterDelta& d : deltas)
    if (d.amount != 0) increments.push_back(&d);
  return InsertChunked(
      tx, "INSERT INTO quota_counters (tenant_id, scope, period, metric, used)",
      " ON CONFLICT (tenant_id, scope, period, metric) DO UPDATE SET used = quota_counters.used + "
      "excluded.used",
      5, increments, [&](const CounterDelta* d, std::vector<Value>& p) {
        p.insert(p.end(), {tenant.value(), d->key.scope, d->key.period, d->key.metric, d->amount});
      });
}

Result<int64_t> Get(Tx& tx, const TenantId& tenant, const CounterKey& k) {
  GH_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("SELECT used FROM quota_counters WHERE tenant_id = ? AND scope = ? AND "
                            "period = ? AND metric = ?",
                            {tenant.value(), k.scope, k.period, k.metric}));
  return row ? row->Int(0) : 0;
}
Result<std::vector<std::pair<CounterKey, int64_t>>> ListRange(Tx& tx, const TenantId& tenant,
                                                              const std::string& scope,
                                                              const std::string& from_period,
                                                              const std::string& to_period) {
  return Many<std::pair<CounterKey, int64_t>>(
      tx.Query("SELECT scope, period, metric, used FROM quota_counters WHERE tenant_id = ? AND "
               "scope = ? AND "
               "period >= ? AND period <= ? ORDER BY period, metric",
               {tenant.value(), scope, from_period, to_period}),
      [](const Row& r) {
        return std::make_pair(CounterKey{r.Text(0), r.Text(1), r.Text(2)}, r.Int(3));
      });
}
}  // namespace counters

}  // namespace gh::storage
