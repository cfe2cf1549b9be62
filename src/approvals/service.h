// ApprovalService: everything that waits for a user's yes or no.
//
// Two kinds of request share one table and one page in the UI:
//  - CIBA (OpenID Client-Initiated Backchannel Authentication, poll mode): a tenant's trusted
//    backend client asks for a user's consent (binding message, scope, RFC 9396 authorization
//    details) and polls the token endpoint with an auth_req_id (256 random bits, stored hashed,
//    single use) until the user approves (tokens), denies (access_denied) or the request expires
//    (expired_token); polling faster than the interval earns slow_down and a 5-second longer
//    interval.
//  - Tool calls the agent holds (this is the agent's ApprovalGate): by the tool's own requirement
//  or
//    a tenant policy ("send_email always", "payment when arguments.amount > 100"). The call is
//    stored with the SHA-256 of its canonical arguments; the ApprovalRunner runs it once after
//    approval.
//
// Only the user a request names may decide it, logged in. Decisions, new requests and expiries are
// pushed to the user's feed. Thread-safe; every method runs its own storage transactions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/tool.h"
#include "approvals/user_feed.h"
#include "common/clock.h"
#include "common/random.h"
#include "storage/database.h"
#include "storage/vault_repository.h"

namespace gh::approvals {

struct ApprovalOptions {
  int64_t ciba_default_expiry_seconds = 300;
  int64_t ciba_max_expiry_seconds = 3600;
  int64_t ciba_interval_seconds = 5;
  int64_t tool_default_expiry_seconds = 3600;
  int64_t tool_max_expiry_seconds = 7 * 86400;
};

// OAuth-style failures carry the OAuth error code as the Status error code (invalid_request,
// unknown_user_id, authorization_pending, slow_down, expired_token, access_denied, invalid_grant).
struct BackchannelRequest {
  std::string login_hint;       // the user's email (or user id) in the client's tenant
  std::string binding_message;  // shown to the user
  std::string scope;            // must include openid
  std::optional<int64_t> requested_expiry;
  std::string authorization_details;  // RFC 9396 JSON array text, or empty
};

struct BackchannelStarted {
  std::string auth_req_id;
  int64_t expires_in = 0;
  int64_t interval = 0;
};

struct PolicyInput {
  std::string tool;  // a tool name, or "*" for every tool
  std::string when;  // "always" or a condition
  std::string binding_message;
  int64_t expires_in_seconds = 0;
};

class ApprovalService final : public agent::ApprovalGate {
 public:
  ApprovalService(ApprovalOptions options, storage::Database& db, const Clock& clock,
                  Random& random, UserFeed& feed);

  // ---- the agent's gate ----
  Result<agent::ApprovalHold> Check(const agent::TenantContext& context, const agent::Tool& tool,
                                    const agent::ToolCall& call,
                                    const boost::json::object& arguments) override;

  // ---- CIBA ----
  Result<BackchannelStarted> StartBackchannel(const storage::OAuthClientRecord& client,
                                              const BackchannelRequest& r);
  // The approved request (now consumed) when tokens may be issued; otherwise the OAuth error.
  Result<storage::ApprovalRecord> PollBackchannel(const storage::OAuthClientRecord& client,
                                                  const std::string& auth_req_id);

  // ---- the user's decisions ----
  Result<std::vector<storage::ApprovalRecord>> ListForUser(const TenantId& tenant,
                                                           const UserId& user);
  Result<storage::ApprovalRecord> Get(const TenantId& tenant, const UserId& user,
                                      const std::string& id);
  // `arguments_hash`, when given, must match the stored call's (what the user saw is what runs).
  Result<storage::ApprovalRecord> Decide(const TenantId& tenant, const UserId& user,
                                         const std::string& id, bool approve,
                                         const std::optional<std::string>& arguments_hash);

  // ---- tenant policies ----
  Result<std::vector<storage::ApprovalPolicyRecord>> Policies(const TenantId& tenant);
  Result<std::vector<storage::ApprovalPolicyRecord>> SetPolicies(
      const TenantId& tenant, const std::vector<PolicyInput>& policies);

  // Marks a pending request expired (the runner's sweep); false when it was not pending.
  Result<bool> Expire(const storage::ApprovalRecord& rec);
  // Publishes the request's current state to its user's feed.
  void PublishUpdate(const storage::ApprovalRecord& rec,
                     const std::string& event = "approval_updated");

  // Called after a decision on a tool call (the runner wakes up).
  void set_on_decided(std::function<void()> fn) { on_decided_ = std::move(fn); }
  UserFeed& feed() { return feed_; }
  const ApprovalOptions& options() const { return options_; }

 private:
  ApprovalOptions options_;
  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  UserFeed& feed_;
  std::function<void()> on_decided_;
};

// The user-facing JSON of a request (API answers and feed events). Never holds a secret: the
// auth_req_id is stored hashed and not returned.
boost::json::object ApprovalJson(const storage::ApprovalRecord& rec);

}  // namespace gh::approvals
