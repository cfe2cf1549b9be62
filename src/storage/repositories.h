// Repositories: every SQL statement of Gatehouse lives behind these functions. They run inside a
// caller's transaction (Database::Read / Write), so a domain operation that touches several tables
// commits or rolls back as one. Functions on tenant data take the TenantId and filter by it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/records.h"

namespace gh::storage {

namespace tenants {
Status Insert(Tx& tx, const TenantRecord& t);
Result<std::optional<TenantRecord>> Get(Tx& tx, const TenantId& id);
Result<std::vector<TenantRecord>> ListAll(Tx& tx);  // platform operators only
Status SetTier(Tx& tx, const TenantId& id, const std::string& tier);
Status SetStatus(Tx& tx, const TenantId& id, const std::string& status);
}  // namespace tenants

namespace users {
Status Insert(Tx& tx, const UserRecord& u);
// Login and registration look users up by email before the tenant is known.
Result<std::optional<UserRecord>> FindByEmail(Tx& tx, const std::string& email);
Result<std::optional<UserRecord>> Get(Tx& tx, const TenantId& tenant, const UserId& id);
Result<std::vector<UserRecord>> List(Tx& tx, const TenantId& tenant);
Status SetVerified(Tx& tx, const TenantId& tenant, const UserId& id);
Status SetRole(Tx& tx, const TenantId& tenant, const UserId& id, const std::string& role);
Status SetLoginFailures(Tx& tx, const TenantId& tenant, const UserId& id, int64_t failures,
                        int64_t locked_until);
Status AddGroup(Tx& tx, const TenantId& tenant, const UserId& id, const std::string& group);
Result<std::vector<std::string>> Groups(Tx& tx, const TenantId& tenant, const UserId& id);
Result<int64_t> CountInTenant(Tx& tx, const TenantId& tenant);
}  // namespace users

namespace external_identities {
// Looked up by (issuer, subject) before the tenant is known: the verified token names both.
Result<std::optional<ExternalIdentityRecord>> Find(Tx& tx, const std::string& issuer,
                                                   const std::string& subject);
// Inserts unless (issuer, subject) is linked already; returns whether it inserted.
Result<bool> InsertIfAbsent(Tx& tx, const ExternalIdentityRecord& r);
}  // namespace external_identities

namespace verification {
Status Upsert(Tx& tx, const VerificationCodeRecord& v);
Result<std::optional<VerificationCodeRecord>> Get(Tx& tx, const TenantId& tenant,
                                                  const UserId& user);
Status SetAttempts(Tx& tx, const TenantId& tenant, const UserId& user, int64_t attempts);
Status Delete(Tx& tx, const TenantId& tenant, const UserId& user);
}  // namespace verification

namespace refresh_tokens {
Status Insert(Tx& tx, const RefreshTokenRecord& r);
// Looked up by the hash of the presented token, before the tenant is known.
Result<std::optional<RefreshTokenRecord>> FindByHash(Tx& tx, const std::string& token_hash);
// Marks a token rotated only if it was not rotated or revoked already; false when it was.
Result<bool> MarkRotated(Tx& tx, const TenantId& tenant, const std::string& token_hash);
Status RevokeFamily(Tx& tx, const TenantId& tenant, const std::string& family_id);
Status RevokeAllForUser(Tx& tx, const TenantId& tenant, const UserId& user);
}  // namespace refresh_tokens

namespace invitations {
Status Insert(Tx& tx, const InvitationRecord& i);
Result<std::optional<InvitationRecord>> FindByHash(Tx& tx, const std::string& code_hash);
// Consumes an unused, unrevoked, unexpired invitation; false when it cannot be used.
Result<bool> Consume(Tx& tx, const TenantId& tenant, const std::string& code_hash,
                     const UserId& user, int64_t now);
Result<std::vector<InvitationRecord>> List(Tx& tx, const TenantId& tenant);
Status Revoke(Tx& tx, const TenantId& tenant, const std::string& code_hash);
}  // namespace invitations

namespace signing_keys {
Status Insert(Tx& tx, const SigningKeyRecord& k);
Result<std::vector<SigningKeyRecord>> ListActive(Tx& tx);
}  // namespace signing_keys

namespace sessions {
Status Insert(Tx& tx, const SessionRecord& s);
Result<std::optional<SessionRecord>> Get(Tx& tx, const TenantId& tenant, const SessionId& id);
Result<std::vector<SessionRecord>> ListForUser(Tx& tx, const TenantId& tenant, const UserId& user,
                                               int64_t limit);
Result<std::vector<SessionRecord>> ListForTenant(Tx& tx, const TenantId& tenant, int64_t limit);
// Counts sessions of a user that are open (not ended, not expired, not idle past idle_cutoff).
Result<int64_t> CountOpen(Tx& tx, const TenantId& tenant, const UserId& user, int64_t now,
                          int64_t idle_cutoff);
// Marks a session busy until `until` if it is not busy now; false when another turn holds it.
Result<bool> TryMarkBusy(Tx& tx, const TenantId& tenant, const SessionId& id, int64_t now,
                         int64_t until);
Status FinishTurn(Tx& tx, const TenantId& tenant, const SessionId& id, int64_t now,
                  int64_t added_messages, const std::string& title_if_empty);
Status End(Tx& tx, const TenantId& tenant, const SessionId& id, int64_t now);
}  // namespace sessions

namespace messages {
Status Insert(Tx& tx, const MessageRecord& m);
Result<std::vector<MessageRecord>> ListForSession(Tx& tx, const TenantId& tenant,
                                                  const SessionId& session, int64_t limit);
Result<int64_t> NextSeq(Tx& tx, const TenantId& tenant, const SessionId& session);
}  // namespace messages

namespace counters {
// Applies all deltas or none: returns the index of the first delta whose limit would be exceeded
// (and changes nothing), or nullopt when all were applied.
Result<std::optional<size_t>> TryApply(Tx& tx, const TenantId& tenant,
                                       const std::vector<CounterDelta>& deltas);
// Unconditional adjustments (settling, releasing); never drives a counter below zero.
Status Adjust(Tx& tx, const TenantId& tenant, const std::vector<CounterDelta>& deltas);
Result<int64_t> Get(Tx& tx, const TenantId& tenant, const CounterKey& key);
// Every counter of a scope whose period sorts within [from_period, to_period].
Result<std::vector<std::pair<CounterKey, int64_t>>> ListRange(Tx& tx, const TenantId& tenant,
                                                              const std::string& scope,
                                                              const std::string& from_period,
                                                              const std::string& to_period);
}  // namespace counters

}  // namespace gh::storage
