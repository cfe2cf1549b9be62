// Repositories for the token vault, asynchronous approvals and tenants' HTTP API tools. Every
// function runs inside the caller's transaction; every function on tenant data takes the TenantId
// and filters by it. Sealed columns hold base64 AES-256-GCM output and are opaque here: this
// layer never sees a plaintext token. Times are unix milliseconds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "storage/database.h"
#include "storage/records.h"

namespace gh::storage {

// A tenant's data key, wrapped by the master key.
struct DataKeyRecord {
  TenantId tenant_id;
  std::string wrapped_key;    // base64 of Seal(master, key, aad)
  std::string master_key_id;  // which master key wrapped it
  int64_t created_at = 0;
  std::optional<int64_t> rewrapped_at;
};

// An OAuth 2.0 / OIDC provider a tenant admin configured.
struct ConnectionRecord {
  TenantId tenant_id;
  std::string id;
  std::string display_name;
  std::string preset;  // google | microsoft | ... | custom
  std::string issuer;  // empty when endpoints were given directly
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string revocation_endpoint;  // empty: the provider cannot revoke
  std::string client_id;
  std::string client_secret_sealed;
  std::string scopes;             // space-separated
  std::string auth_params;        // JSON object of extra authorization request parameters
  std::string token_auth_method;  // client_secret_basic | client_secret_post
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

// A user's connected account at one connection: their tokens, sealed.
struct AccountRecord {
  TenantId tenant_id;
  UserId user_id;
  std::string connection_id;
  std::string status;  // connected | reconsent_required
  std::string access_token_sealed;
  std::string refresh_token_sealed;  // empty when the provider gave none
  std::string token_type;
  std::string scope;
  int64_t expires_at = 0;  // 0: unknown
  int64_t connected_at = 0;
  std::optional<int64_t> refreshed_at;
  int64_t updated_at = 0;
  int64_t version = 0;  // bumped on every token change (compare-and-swap)
  int64_t refresh_lease_until = 0;
  std::string last_error;
};

// An authorization code flow in progress.
struct OAuthStateRecord {
  std::string state_hash;
  TenantId tenant_id;
  UserId user_id;
  std::string connection_id;
  std::string verifier_sealed;
  std::string binding_hash;  // hash of the browser-binding cookie set when the flow started
  std::string return_to;
  int64_t expires_at = 0;
  int64_t created_at = 0;
};

// A trusted backend client of a tenant (CIBA, token exchange).
struct OAuthClientRecord {
  std::string client_id;
  TenantId tenant_id;
  std::string name;
  std::string secret_hash;
  std::string grant_types;  // space-separated: ciba token_exchange
  int64_t created_at = 0;
  std::optional<int64_t> revoked_at;
};

// A request for the user's approval: a CIBA backchannel request or a tool call held by the agent.
struct ApprovalRecord {
  TenantId tenant_id;
  std::string id;
  UserId user_id;
  std::string kind;   // ciba | tool_call
  std::string state;  // pending | approved | denied | expired | executing | completed | failed |
                      // interrupted | consumed
  std::string client_id;
  std::string client_name;  // the CIBA client's name when the request was made
  std::optional<std::string> auth_req_hash;
  std::string scope;
  std::string binding_message;
  std::string authorization_details;  // JSON array text, or empty
  std::string tool_name;
  std::string arguments;       // JSON object text
  std::string arguments_hash;  // hex SHA-256 of the canonical arguments
  std::string session_id;
  std::string tool_call_id;
  std::string trace_id;
  int64_t poll_interval = 5;  // seconds
  int64_t last_polled_at = 0;
  std::string result;
  bool result_is_error = false;
  bool resumed = false;  // the conversation went on after the decision
  int64_t lease_until = 0;
  int64_t created_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> decided_at;
  std::optional<int64_t> finished_at;
};

struct ApprovalPolicyRecord {
  TenantId tenant_id;
  std::string id;
  std::string tool_name;
  std::string when_expr;  // "always" or a CEL condition over `arguments`
  std::string binding_message;
  int64_t expires_in_seconds = 0;
  int64_t created_at = 0;
};

struct HttpToolRecord {
  TenantId tenant_id;
  std::string name;
  std::string definition;  // JSON
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

struct SigningKeySeal {
  std::string kid;
  std::string sealed_key;  // base64
};

namespace vault_keys {
Result<std::optional<DataKeyRecord>> Get(Tx& tx, const TenantId& tenant);
// Inserts the tenant's first data key; false when another writer inserted one first.
Result<bool> InsertIfAbsent(Tx& tx, const DataKeyRecord& k);
// Master-key rotation reads every tenant's wrapped key and rewrites it.
Result<std::vector<DataKeyRecord>> ListAll(Tx& tx);
Status Rewrap(Tx& tx, const TenantId& tenant, const std::string& wrapped_key,
              const std::string& master_key_id, int64_t now);
}  // namespace vault_keys

namespace vault_connections {
Status Insert(Tx& tx, const ConnectionRecord& c);
Status Update(Tx& tx, const ConnectionRecord& c);
Result<std::optional<ConnectionRecord>> Get(Tx& tx, const TenantId& tenant, const std::string& id);
Result<std::vector<ConnectionRecord>> List(Tx& tx, const TenantId& tenant);
Status Delete(Tx& tx, const TenantId& tenant, const std::string& id);
}  // namespace vault_connections

namespace vault_accounts {
Status Upsert(Tx& tx, const AccountRecord& a);
Result<std::optional<AccountRecord>> Get(Tx& tx, const TenantId& tenant, const UserId& user,
                                         const std::string& connection_id);
Result<std::vector<AccountRecord>> ListForUser(Tx& tx, const TenantId& tenant, const UserId& user);
Result<std::vector<AccountRecord>> ListForConnection(Tx& tx, const TenantId& tenant,
                                                     const std::string& connection_id);
// Takes the refresh lease when nobody holds it; false when another refresher does.
Result<bool> TryLease(Tx& tx, const TenantId& tenant, const UserId& user,
                      const std::string& connection_id, int64_t now, int64_t until);
// Stores refreshed tokens if the row is still at `expected_version`, and releases the lease.
Result<bool> StoreRefreshed(Tx& tx, const AccountRecord& a, int64_t expected_version);
Status SetStatus(Tx& tx, const TenantId& tenant, const UserId& user,
                 const std::string& connection_id, const std::string& status,
                 const std::string& last_error, int64_t now);
Status ReleaseLease(Tx& tx, const TenantId& tenant, const UserId& user,
                    const std::string& connection_id);
Status Delete(Tx& tx, const TenantId& tenant, const UserId& user, const std::string& connection_id);
}  // namespace vault_accounts

namespace vault_states {
Status Insert(Tx& tx, const OAuthStateRecord& s);
// The state is looked up by its hash before the tenant is known (the provider's redirect).
Result<std::optional<OAuthStateRecord>> Find(Tx& tx, const std::string& state_hash);
// Consumes the state once; false when it was consumed already.
Result<bool> Consume(Tx& tx, const TenantId& tenant, const std::string& state_hash);
Status DeleteExpired(Tx& tx, int64_t now);
}  // namespace vault_states

namespace oauth_clients {
Status Insert(Tx& tx, const OAuthClientRecord& c);
// Clients authenticate before their tenant is known.
Result<std::optional<OAuthClientRecord>> Find(Tx& tx, const std::string& client_id);
Result<std::vector<OAuthClientRecord>> List(Tx& tx, const TenantId& tenant);
Result<bool> Revoke(Tx& tx, const TenantId& tenant, const std::string& client_id, int64_t now);
}  // namespace oauth_clients

namespace approvals {
Status Insert(Tx& tx, const ApprovalRecord& a);
Result<std::optional<ApprovalRecord>> Get(Tx& tx, const TenantId& tenant, const std::string& id);
Result<std::optional<ApprovalRecord>> FindByAuthReq(Tx& tx, const TenantId& tenant,
                                                    const std::string& auth_req_hash);
// Pending requests first, then the most recent others.
Result<std::vector<ApprovalRecord>> ListForUser(Tx& tx, const TenantId& tenant, const UserId& user,
                                                int64_t limit);
// Moves a request from one state to another if it is in `from` (and, for a pending one, not
// expired at `now`); false otherwise. Records the decision time for decisions.
Result<bool> Transition(Tx& tx, const TenantId& tenant, const std::string& id,
                        const std::string& from, const std::string& to, int64_t now);
Result<bool> ClaimForExecution(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now,
                               int64_t lease_until);
Status Finish(Tx& tx, const TenantId& tenant, const std::string& id, const std::string& state,
              const std::string& result, bool is_error, int64_t now);
Status RecordPoll(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now,
                  int64_t interval);
// The tool-call conversation lease: taken before the conversation goes on after a decision.
Result<bool> LeaseResume(Tx& tx, const TenantId& tenant, const std::string& id, int64_t now,
                         int64_t until);
Status MarkResumed(Tx& tx, const TenantId& tenant, const std::string& id);
Status ReleaseResume(Tx& tx, const TenantId& tenant, const std::string& id);
// Background work across tenants: pending requests past their expiry, and decided tool calls whose
// conversation has not gone on yet (lease free).
Result<std::vector<ApprovalRecord>> ListDue(Tx& tx, int64_t now, int64_t limit);
// Executions whose lease ran out: the process running them stopped midway.
Result<std::vector<ApprovalRecord>> ListStaleExecutions(Tx& tx, int64_t now, int64_t limit);
}  // namespace approvals

namespace approval_policies {
Result<std::vector<ApprovalPolicyRecord>> List(Tx& tx, const TenantId& tenant);
// Replaces the tenant's policies with `policies`.
Status Replace(Tx& tx, const TenantId& tenant, const std::vector<ApprovalPolicyRecord>& policies);
}  // namespace approval_policies

namespace http_tools {
Status Upsert(Tx& tx, const HttpToolRecord& t);
Result<std::optional<HttpToolRecord>> Get(Tx& tx, const TenantId& tenant, const std::string& name);
Result<std::vector<HttpToolRecord>> List(Tx& tx, const TenantId& tenant);
Result<bool> Delete(Tx& tx, const TenantId& tenant, const std::string& name);
}  // namespace http_tools

// Master-key rotation also re-seals the token signing keys (identity's table).
namespace signing_key_seals {
Result<std::vector<SigningKeySeal>> ListAll(Tx& tx);
Status Update(Tx& tx, const std::string& kid, const std::string& sealed_key);
}  // namespace signing_key_seals

}  // namespace gh::storage
