// Rows as the domain sees them. Times are unix milliseconds. Every tenant-owned record carries its
// TenantId, and every repository function that touches tenant data takes the tenant first.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"

namespace gh::storage {

struct TenantRecord {
  TenantId id;
  std::string name;
  std::string tier;
  std::string status = "active";  // active | suspended
  std::string timezone = "UTC";
  int64_t created_at = 0;
};

struct UserRecord {
  UserId id;
  TenantId tenant_id;
  std::string email;
  std::string password_hash;
  std::string role;  // admin | user
  bool verified = false;
  int64_t failed_logins = 0;
  int64_t locked_until = 0;
  int64_t created_at = 0;
};

// A subject of an external identity provider, linked to a Gatehouse user.
struct ExternalIdentityRecord {
  std::string issuer;
  std::string subject;
  TenantId tenant_id;
  UserId user_id;
  int64_t created_at = 0;
};

struct VerificationCodeRecord {
  UserId user_id;
  TenantId tenant_id;
  std::string code_hash;
  int64_t expires_at = 0;
  int64_t attempts = 0;
  int64_t sent_at = 0;
};

struct RefreshTokenRecord {
  std::string token_hash;
  TenantId tenant_id;
  UserId user_id;
  std::string family_id;
  int64_t expires_at = 0;
  bool rotated = false;
  bool revoked = false;
  int64_t created_at = 0;
};

struct InvitationRecord {
  std::string code_hash;
  TenantId tenant_id;
  UserId created_by;
  std::string role;
  int64_t expires_at = 0;
  std::optional<std::string> used_by;
  bool revoked = false;
  int64_t created_at = 0;
};

struct SigningKeyRecord {
  std::string kid;
  std::string alg;
  std::string sealed_key;  // base64 of AES-GCM sealed PEM
  int64_t created_at = 0;
  std::optional<int64_t> retired_at;
};

struct SessionRecord {
  SessionId id;
  TenantId tenant_id;
  UserId user_id;
  std::string title;
  int64_t created_at = 0;
  int64_t last_active_at = 0;
  int64_t expires_at = 0;
  std::optional<int64_t> ended_at;
  int64_t message_count = 0;
  int64_t busy_until = 0;
};

struct MessageRecord {
  MessageId id;
  TenantId tenant_id;
  SessionId session_id;
  UserId user_id;
  int64_t seq = 0;
  std::string role;  // user | assistant | tool
  std::string content;
  std::optional<std::string> tool_calls;  // JSON array, for assistant turns that called tools
  std::optional<std::string> tool_call_id;
  int64_t created_at = 0;
};

// One counter in a quota window: scope "tenant" or "user:<id>", period "d:2026-11-22" or
// "m:2026-11", metric "messages" / "input_tokens" / ...
struct CounterKey {
  std::string scope;
  std::string period;
  std::string metric;
  auto operator<=>(const CounterKey&) const = default;
};

struct CounterDelta {
  CounterKey key;
  int64_t amount = 0;
  std::optional<int64_t> limit;  // when set, the increment applies only if used + amount <= limit
};

}  // namespace gh::storage
