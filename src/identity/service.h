// IdentityService: Gatehouse's built-in OpenID Connect issuer. Registration (new tenant, or joining
// one by invitation), email verification by 6-digit code, login with progressive lockout, refresh
// token rotation with reuse detection, logout, invitations and group membership. Knows nothing of
// HTTP: handlers translate. Thread-safe; every method runs its own storage transaction(s).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "crypto/password.h"
#include "identity/jwt.h"
#include "mail/mailer.h"
#include "storage/database.h"
#include "tenancy/directory.h"
#include "tenancy/plan.h"

namespace gh::identity {

struct IdentityConfig {
  std::string issuer = "http://127.0.0.1:8000";
  std::string audience = "gatehouse";
  int64_t access_token_ttl_seconds = 900;
  int64_t refresh_token_ttl_seconds = 30 * 86400;
  int64_t verification_ttl_seconds = 15 * 60;
  int64_t max_verification_attempts = 5;
  int64_t resend_interval_seconds = 30;
  int64_t invitation_ttl_seconds = 7 * 86400;
  // Failures before the slow-down starts, and before the long lock.
  int64_t slowdown_after_failures = 3;
  int64_t lock_after_failures = 6;
  int64_t lock_seconds = 15 * 60;
  crypto::PasswordHashParams password_hash;
  std::vector<std::string> platform_operators;  // emails
};

struct Registration {
  UserId user_id;
  TenantId tenant_id;
  std::string email;
  std::string role;
};

struct Tokens {
  std::string access_token;
  std::string id_token;
  std::string refresh_token;
  int64_t expires_in = 0;
};

struct Invitation {
  std::string code;
  int64_t expires_at = 0;  // unix seconds
};

struct PublicKeyInfo {
  std::string kid;
  crypto::VerifyingKey key;
};

class IdentityService {
 public:
  IdentityService(IdentityConfig config, storage::Database& db, const Clock& clock, Random& random,
                  mail::Mailer& mailer, std::function<tenancy::PlanCatalogPtr()> plans,
                  Secret master_key);

  // Loads the signing key, or creates and stores it (sealed with the master key) at first start.
  // `issuer`, when given, replaces the configured one (it may depend on the port bound at start).
  Status Init(std::optional<std::string> issuer = std::nullopt);

  Result<Registration> RegisterTenant(const std::string& email, const Secret& password,
                                      const std::string& tenant_name, const std::string& tier);
  Result<Registration> RegisterWithInvitation(const std::string& email, const Secret& password,
                                              const std::string& invite_code);
  Status Verify(const std::string& email, const std::string& code);
  Status Resend(const std::string& email);
  Result<Tokens> Login(const std::string& email, const Secret& password);
  Result<Tokens> Refresh(const Secret& refresh_token);
  Status Logout(const Secret& refresh_token);

  Result<Invitation> CreateInvitation(const Principal& admin, const TenantId& tenant);
  Result<std::vector<std::string>> AddToGroup(const Principal& admin, const std::string& email,
                                              const std::string& group);
  // Told of group and role changes (AddToGroup), so cached principals see them at once. Optional.
  void SetDirectory(tenancy::Directory* directory) { directory_ = directory; }

  const TokenVerifier& verifier() const { return *verifier_; }
  std::vector<PublicKeyInfo> PublicKeys() const;
  const IdentityConfig& config() const { return config_; }
  // Mints tokens for a user directly (demo seeding, operators' CLI).
  Result<Tokens> IssueTokensFor(const TenantId& tenant, const UserId& user);
  // Mints an access token and an ID token for a user on behalf of one of the tenant's trusted
  // backend clients (CIBA): the ID token's audience is the client. No refresh token is returned.
  Result<Tokens> IssueTokensForClient(const TenantId& tenant, const UserId& user,
                                      const std::string& client_id);
  // Creates a verified user, and the tenant when it does not exist yet (demo seeding, operators'
  // CLI). The tenant id is the slug of the name.
  Result<Registration> CreateVerifiedUser(const std::string& tenant_name, const std::string& tier,
                                          const std::string& email, const Secret& password,
                                          const std::string& role);

 private:
  Result<Tokens> Issue(const TenantId& tenant, const UserId& user, const std::string& family_id,
                       const std::string& id_token_audience = "");
  Status SendCode(const std::string& email, const TenantId& tenant, const UserId& user);
  std::string CodeHash(const UserId& user, const std::string& code) const;

  IdentityConfig config_;
  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  mail::Mailer& mailer_;
  std::function<tenancy::PlanCatalogPtr()> plans_;
  Secret master_key_;
  Secret code_key_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<TokenVerifier> verifier_;
  std::vector<PublicKeyInfo> public_keys_;
  std::string dummy_hash_;  // verified against for unknown emails, to keep timing even
  tenancy::Directory* directory_ = nullptr;
};

// Normalises and checks an email address: trimmed, lower-cased, one '@', a dotted domain.
Result<std::string> NormalizeEmail(std::string_view email);

}  // namespace gh::identity
