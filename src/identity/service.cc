#include "identity/service.h"

#include <fmt/format.h>

#include "common/log.h"
#include "common/strings.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/master_key.h"
#include "storage/limits_repository.h"
#include "storage/repositories.h"

namespace gh::identity {

namespace st = gh::storage;

Result<std::string> NormalizeEmail(std::string_view raw) {
  std::string email = ToLower(Trim(raw));
  size_t at = email.find('@');
  bool ok = email.size() >= 3 && email.size() <= 254 && at != std::string::npos && at > 0 &&
            email.find('@', at + 1) == std::string::npos &&
            email.find('.', at) != std::string::npos && email.back() != '.' &&
            email.find_first_of(" \t\r\n<>,;\"\\()[]") == std::string::npos;
  if (!ok) return Status::Unprocessable("email address is not valid", "invalid_email");
  return email;
}

IdentityService::IdentityService(IdentityConfig config, storage::Database& db, const Clock& clock,
                                 Random& random, mail::Mailer& mailer,
                                 std::function<tenancy::PlanCatalogPtr()> plans, Secret master_key)
    : config_(std::move(config)),
      db_(db),
      clock_(clock),
      random_(random),
      mailer_(mailer),
      plans_(std::move(plans)),
      master_key_(std::move(master_key)),
      code_key_(crypto::DeriveKey(master_key_, "verification-codes")) {}

Status IdentityService::Init(std::optional<std::string> issuer) {
  if (issuer) config_.issuer = *issuer;
  std::vector<st::SigningKeyRecord> keys;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(keys, st::signing_keys::ListActive(tx));
    if (!keys.empty()) return Status::Ok();
    GH_ASSIGN_OR_RETURN(auto key, crypto::SigningKey::GenerateEs256());
    auto pub = key.Public();
    std::string kid = Base64UrlEncode(crypto::Sha256(pub.EcX() + pub.EcY()).substr(0, 12));
    GH_ASSIGN_OR_RETURN(std::string sealed, crypto::Seal(master_key_, key.ToPem().reveal(),
                                                         "signing-key:" + kid, random_));
    st::SigningKeyRecord rec{kid, "ES256", Base64Encode(sealed), clock_.NowUnixMillis(), {}};
    GH_RETURN_IF_ERROR(st::signing_keys::Insert(tx, rec));
    keys.push_back(rec);
    log::Info("generated token signing key", {{"kid", kid}});
    return Status::Ok();
  }));
  std::map<std::string, crypto::VerifyingKey> by_kid;
  public_keys_.clear();
  for (const auto& rec : keys) {
    auto sealed = Base64Decode(rec.sealed_key);
    if (!sealed) return Status::Internal("stored signing key is corrupt");
    auto pem = crypto::Open(master_key_, *sealed, "signing-key:" + rec.kid);
    if (!pem.ok())
      return Status::Internal(
          "cannot unseal the token signing key: is this the master key the data was created with?");
    GH_ASSIGN_OR_RETURN(auto key, crypto::SigningKey::FromPem(*pem));
    by_kid.emplace(rec.kid, key.Public());
    public_keys_.push_back({rec.kid, key.Public()});
    signer_ = std::make_unique<TokenSigner>(rec.kid, key);  // the newest key signs
  }
  verifier_ = std::make_unique<TokenVerifier>(
      VerifierOptions{config_.issuer, config_.audience, 30, 8192, "at+jwt"}, std::move(by_kid),
      clock_);
  GH_ASSIGN_OR_RETURN(dummy_hash_, crypto::HashPassword(Secret("dummy-password-for-timing"),
                                                        random_, config_.password_hash));
  return Status::Ok();
}

std::vector<PublicKeyInfo> IdentityService::PublicKeys() const { return public_keys_; }

std::string IdentityService::CodeHash(const UserId& user, const std::string& code) const {
  return HexEncode(crypto::HmacSha256(code_key_.reveal(), user.value() + ":" + code));
}

Status IdentityService::SendCode(const std::string& email, const TenantId& tenant,
                                 const UserId& user) {
  std::string code = random_.Digits(6);
  const int64_t now = clock_.NowUnixMillis();
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) {
    return st::verification::Upsert(tx, {user, tenant, CodeHash(user, code),
                                         now + config_.verification_ttl_seconds * 1000, 0, now});
  }));
  Status sent =
      mailer_.Send({email, "Your Gatehouse verification code",
                    fmt::format("Welcome to Gatehouse.\n\nYour verification code is {}\n\n"
                                "It is valid for {} minutes.\n",
                                code, config_.verification_ttl_seconds / 60)});
  if (!sent.ok()) log::Error("verification mail failed", {{"error", sent.message()}});
  return Status::Ok();
}

Result<Registration> IdentityService::RegisterTenant(const std::string& raw_email,
                                                     const Secret& password,
                                                     const std::string& tenant_name,
                                                     const std::string& tier) {
  GH_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(raw_email));
  GH_RETURN_IF_ERROR(crypto::CheckPasswordStrength(password));
  auto plans = plans_();
  if (!plans->Find(tier))
    return Status::Unprocessable(fmt::format("unknown subscription tier '{}'", Printable(tier, 40)),
                                 "invalid_tier");
  std::string name(Trim(tenant_name));
  std::string slug = Slugify(name);
  if (name.size() > 100 || slug.empty())
    return Status::Unprocessable(
        "tenant name must have letters or digits and at most 100 characters",
        "invalid_tenant_name");
  GH_ASSIGN_OR_RETURN(std::string hash,
                      crypto::HashPassword(password, random_, config_.password_hash));
  Registration reg{UserId(random_.Uuid()), TenantId(), email, "admin"};
  const int64_t now = clock_.NowUnixMillis();
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto existing, st::users::FindByEmail(tx, email));
    if (existing)
      return Status::Conflict("an account with this email already exists", "email_taken");
    for (int n = 1;; ++n) {
      std::string candidate = n == 1 ? slug : fmt::format("{}-{}", slug, n);
      GH_ASSIGN_OR_RETURN(auto taken, st::tenants::Get(tx, TenantId(candidate)));
      if (!taken) {
        reg.tenant_id = TenantId(candidate);
        break;
      }
    }
    GH_RETURN_IF_ERROR(st::tenants::Insert(tx, {reg.tenant_id, name, tier, "active", "UTC", now}));
    GH_RETURN_IF_ERROR(st::users::Insert(
        tx, {reg.user_id, reg.tenant_id, email, hash, "admin", false, 0, 0, now}));
    return st::users::AddGroup(tx, reg.tenant_id, reg.user_id, reg.tenant_id.value() + "-admins");
  }));
  GH_RETURN_IF_ERROR(SendCode(email, reg.tenant_id, reg.user_id));
  log::Info("tenant registered",
            {{"tenant_id", reg.tenant_id.value()}, {"user_id", reg.user_id.value()}});
  return reg;
}

Result<Registration> IdentityService::RegisterWithInvitation(const std::string& raw_email,
                                                             const Secret& password,
                                                             const std::string& invite_code) {
  GH_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(raw_email));
  GH_RETURN_IF_ERROR(crypto::CheckPasswordStrength(password));
  GH_ASSIGN_OR_RETURN(std::string hash,
                      crypto::HashPassword(password, random_, config_.password_hash));
  Registration reg{UserId(random_.Uuid()), TenantId(), email, "user"};
  const int64_t now = clock_.NowUnixMillis();
  const std::string code_hash = crypto::Sha256Hex(invite_code);
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto inv, st::invitations::FindByHash(tx, code_hash));
    if (!inv) return Status::Unprocessable("invitation code is not valid", "invalid_invitation");
    GH_ASSIGN_OR_RETURN(auto existing, st::users::FindByEmail(tx, email));
    if (existing)
      return Status::Conflict("an account with this email already exists", "email_taken");
    GH_ASSIGN_OR_RETURN(bool consumed,
                        st::invitations::Consume(tx, inv->tenant_id, code_hash, reg.user_id, now));
    if (!consumed)
      return Status::Unprocessable("invitation code has expired, been used or been revoked",
                                   "invalid_invitation");
    GH_ASSIGN_OR_RETURN(auto tenant, st::tenants::Get(tx, inv->tenant_id));
    if (!tenant || tenant->status != "active")
      return Status::Unprocessable("the inviting organisation is not active", "invalid_invitation");
    reg.tenant_id = inv->tenant_id;
    reg.role = inv->role;
    GH_RETURN_IF_ERROR(st::users::Insert(
        tx, {reg.user_id, reg.tenant_id, email, hash, reg.role, false, 0, 0, now}));
    if (reg.role == "admin") {
      GH_RETURN_IF_ERROR(
          st::users::AddGroup(tx, reg.tenant_id, reg.user_id, reg.tenant_id.value() + "-admins"));
    }
    return Status::Ok();
  }));
  GH_RETURN_IF_ERROR(SendCode(email, reg.tenant_id, reg.user_id));
  log::Info("user joined by invitation",
            {{"tenant_id", reg.tenant_id.value()}, {"user_id", reg.user_id.value()}});
  return reg;
}

Status IdentityService::Verify(const std::string& raw_email, const std::string& code) {
  auto email = NormalizeEmail(raw_email);
  const Status invalid = Status::InvalidArgument("verification code is not valid", "invalid_code");
  if (!email.ok()) return invalid;
  if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string::npos) return invalid;
  const int64_t now = clock_.NowUnixMillis();
  Status outcome;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    outcome = Status::Ok();  // a backend may run this unit more than once
    GH_ASSIGN_OR_RETURN(auto user, st::users::FindByEmail(tx, *email));
    if (!user) {
      outcome = invalid;
      return Status::Ok();
    }
    if (user->verified) return Status::Ok();
    GH_ASSIGN_OR_RETURN(auto rec, st::verification::Get(tx, user->tenant_id, user->id));
    if (!rec) {
      outcome = invalid;
      return Status::Ok();
    }
    if (rec->attempts >= config_.max_verification_attempts) {
      outcome = Status::ResourceExhausted("too many wrong codes; request a new code",
                                          "too_many_attempts");
      return Status::Ok();
    }
    if (rec->expires_at <= now) {
      outcome = Status::InvalidArgument("verification code has expired; request a new code",
                                        "code_expired");
      return Status::Ok();
    }
    if (!ConstantTimeEquals(rec->code_hash, CodeHash(user->id, code))) {
      GH_RETURN_IF_ERROR(
          st::verification::SetAttempts(tx, user->tenant_id, user->id, rec->attempts + 1));
      outcome = Status(invalid).WithDetail("attempts_remaining",
                                           config_.max_verification_attempts - rec->attempts - 1);
      return Status::Ok();  // commit the attempt count
    }
    GH_RETURN_IF_ERROR(st::users::SetVerified(tx, user->tenant_id, user->id));
    return st::verification::Delete(tx, user->tenant_id, user->id);
  }));
  return outcome;
}

Status IdentityService::Resend(const std::string& raw_email) {
  auto email = NormalizeEmail(raw_email);
  if (!email.ok()) return email.status();
  std::optional<st::UserRecord> user;
  std::optional<st::VerificationCodeRecord> rec;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(user, st::users::FindByEmail(tx, *email));
    if (!user) return Status::Ok();
    GH_ASSIGN_OR_RETURN(rec, st::verification::Get(tx, user->tenant_id, user->id));
    return Status::Ok();
  }));
  // The same answer whether or not the account exists; only unverified accounts get mail, and at
  // most one message per resend interval.
  if (!user || user->verified) return Status::Ok();
  if (rec && clock_.NowUnixMillis() - rec->sent_at < config_.resend_interval_seconds * 1000)
    return Status::Ok();
  return SendCode(*email, user->tenant_id, user->id);
}

Result<Tokens> IdentityService::Login(const std::string& raw_email, const Secret& password) {
  const Status bad = Status::Unauthenticated("email or password is wrong", "invalid_credentials");
  auto email = NormalizeEmail(raw_email);
  std::optional<st::UserRecord> user;
  if (email.ok()) {
    GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
      GH_ASSIGN_OR_RETURN(user, st::users::FindByEmail(tx, *email));
      return Status::Ok();
    }));
  }
  if (!user) {
    (void)crypto::VerifyPassword(password, dummy_hash_);
    return bad;
  }
  const int64_t now = clock_.NowUnixMillis();
  if (user->locked_until > now) {
    int64_t wait = (user->locked_until - now + 999) / 1000;
    return Status::ResourceExhausted("too many failed logins; try again later", "account_locked")
        .WithRetryAfter(wait);
  }
  if (!crypto::VerifyPassword(password, user->password_hash)) {
    int64_t failures = user->failed_logins + 1;
    int64_t lock_ms = 0;
    if (failures >= config_.lock_after_failures)
      lock_ms = config_.lock_seconds * 1000;
    else if (failures >= config_.slowdown_after_failures)
      lock_ms = (int64_t(1) << (failures - config_.slowdown_after_failures + 1)) *
                1000;  // 2 s, 4 s, 8 s ...
    GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) {
      return st::users::SetLoginFailures(tx, user->tenant_id, user->id, failures,
                                         lock_ms ? now + lock_ms : 0);
    }));
    if (failures >= config_.lock_after_failures)
      log::Warn("account locked after failed logins",
                {{"tenant_id", user->tenant_id.value()}, {"user_id", user->id.value()}});
    return bad;
  }
  if (!user->verified)
    return Status::PermissionDenied("verify your email address before logging in",
                                    "email_not_verified");
  if (user->failed_logins != 0 || user->locked_until != 0) {
    GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) {
      return st::users::SetLoginFailures(tx, user->tenant_id, user->id, 0, 0);
    }));
  }
  return Issue(user->tenant_id, user->id, random_.Token(16));
}

Result<Registration> IdentityService::CreateVerifiedUser(const std::string& tenant_name,
                                                         const std::string& tier,
                                                         const std::string& raw_email,
                                                         const Secret& password,
                                                         const std::string& role) {
  GH_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(raw_email));
  GH_RETURN_IF_ERROR(crypto::CheckPasswordStrength(password));
  if (!plans_()->Find(tier))
    return Status::Unprocessable("unknown subscription tier '" + tier + "'", "invalid_tier");
  if (role != "admin" && role != "user")
    return Status::Unprocessable("role must be admin or user", "invalid_role");
  GH_ASSIGN_OR_RETURN(std::string hash,
                      crypto::HashPassword(password, random_, config_.password_hash));
  Registration reg{UserId(random_.Uuid()), TenantId(Slugify(tenant_name)), email, role};
  if (reg.tenant_id.empty())
    return Status::Unprocessable("tenant name has no letters or digits", "invalid_tenant_name");
  const int64_t now = clock_.NowUnixMillis();
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto existing, st::users::FindByEmail(tx, email));
    if (existing)
      return Status::Conflict("an account with this email already exists", "email_taken");
    GH_ASSIGN_OR_RETURN(auto tenant, st::tenants::Get(tx, reg.tenant_id));
    if (!tenant)
      GH_RETURN_IF_ERROR(
          st::tenants::Insert(tx, {reg.tenant_id, tenant_name, tier, "active", "UTC", now}));
    GH_RETURN_IF_ERROR(
        st::users::Insert(tx, {reg.user_id, reg.tenant_id, email, hash, role, true, 0, 0, now}));
    if (role == "admin") {
      GH_RETURN_IF_ERROR(
          st::users::AddGroup(tx, reg.tenant_id, reg.user_id, reg.tenant_id.value() + "-admins"));
    }
    return Status::Ok();
  }));
  return reg;
}

Result<Tokens> IdentityService::IssueTokensFor(const TenantId& tenant, const UserId& user) {
  return Issue(tenant, user, random_.Token(16));
}

Result<Tokens> IdentityService::IssueTokensForClient(const TenantId& tenant, const UserId& user,
                                                     const std::string& client_id) {
  GH_ASSIGN_OR_RETURN(Tokens t, Issue(tenant, user, random_.Token(16), client_id));
  t.refresh_token.clear();
  return t;
}

Result<Tokens> IdentityService::Issue(const TenantId& tenant_id, const UserId& user_id,
                                      const std::string& family,
                                      const std::string& id_token_audience) {
  std::optional<st::UserRecord> user;
  std::optional<st::TenantRecord> tenant;
  std::vector<std::string> groups;
  bool operator_in_db = false;
  const int64_t now_ms = clock_.NowUnixMillis();
  std::string refresh = random_.Token(32);
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(user, st::users::Get(tx, tenant_id, user_id));
    GH_ASSIGN_OR_RETURN(tenant, st::tenants::Get(tx, tenant_id));
    if (!user || !tenant)
      return Status::Unauthenticated("account no longer exists", "invalid_grant");
    if (tenant->status != "active")
      return Status::PermissionDenied("this organisation is suspended", "tenant_suspended");
    GH_ASSIGN_OR_RETURN(groups, st::users::Groups(tx, tenant_id, user_id));
    GH_ASSIGN_OR_RETURN(operator_in_db, st::operators::Contains(tx, user->email));
    return st::refresh_tokens::Insert(
        tx, {crypto::Sha256Hex(refresh), tenant_id, user_id, family,
             now_ms + config_.refresh_token_ttl_seconds * 1000, false, false, now_ms});
  }));
  AccessClaims c;
  c.issuer = config_.issuer;
  c.audience = config_.audience;
  c.issued_at = now_ms / 1000;
  c.expires_at = c.issued_at + config_.access_token_ttl_seconds;
  c.jti = random_.Token(16);
  c.principal.user_id = user_id;
  c.principal.tenant_id = tenant_id;
  c.principal.email = user->email;
  c.principal.subscription_tier = tenant->tier;
  c.principal.groups = groups;
  bool is_operator = operator_in_db;
  for (const auto& op : config_.platform_operators) is_operator |= op == user->email;
  if (is_operator) c.principal.groups.push_back("platform-operators");
  Tokens t;
  GH_ASSIGN_OR_RETURN(t.access_token, signer_->Sign("at+jwt", AccessTokenPayload(c)));
  AccessClaims id_claims = c;
  if (!id_token_audience.empty()) id_claims.audience = id_token_audience;
  GH_ASSIGN_OR_RETURN(t.id_token, signer_->Sign("JWT", IdTokenPayload(id_claims, user->verified)));
  t.refresh_token = std::move(refresh);
  t.expires_in = config_.access_token_ttl_seconds;
  return t;
}

Result<Tokens> IdentityService::Refresh(const Secret& token) {
  const Status invalid = Status::Unauthenticated("refresh token is not valid", "invalid_grant");
  if (token.empty() || token.reveal().size() > 256) return invalid;
  const std::string hash = crypto::Sha256Hex(token.reveal());
  const int64_t now = clock_.NowUnixMillis();
  std::optional<st::RefreshTokenRecord> rec;
  bool reuse = false;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    reuse = false;  // a backend may run this unit more than once
    GH_ASSIGN_OR_RETURN(rec, st::refresh_tokens::FindByHash(tx, hash));
    if (!rec || rec->revoked || rec->expires_at <= now) return Status::Ok();
    GH_ASSIGN_OR_RETURN(bool rotated, st::refresh_tokens::MarkRotated(tx, rec->tenant_id, hash));
    if (!rotated) {
      // A rotated token came back: someone holds a stolen copy. Revoke the whole family.
      reuse = true;
      return st::refresh_tokens::RevokeFamily(tx, rec->tenant_id, rec->family_id);
    }
    return Status::Ok();
  }));
  if (reuse) {
    log::Warn("refresh token reuse detected; family revoked",
              {{"tenant_id", rec->tenant_id.value()}, {"user_id", rec->user_id.value()}});
    return invalid;
  }
  if (!rec || rec->revoked || rec->expires_at <= now) return invalid;
  return Issue(rec->tenant_id, rec->user_id, rec->family_id);
}

Status IdentityService::Logout(const Secret& token) {
  const std::string hash = crypto::Sha256Hex(token.reveal());
  return db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto rec, st::refresh_tokens::FindByHash(tx, hash));
    if (!rec) return Status::Ok();
    return st::refresh_tokens::RevokeFamily(tx, rec->tenant_id, rec->family_id);
  });
}

Result<Invitation> IdentityService::CreateInvitation(const Principal& admin,
                                                     const TenantId& tenant) {
  if (admin.tenant_id != tenant || !admin.IsTenantAdmin())
    return Status::PermissionDenied("only the tenant's admins can invite users");
  Invitation inv{random_.Token(16), 0};
  const int64_t now = clock_.NowUnixMillis();
  inv.expires_at = now / 1000 + config_.invitation_ttl_seconds;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) {
    return st::invitations::Insert(tx, {crypto::Sha256Hex(inv.code),
                                        tenant,
                                        admin.user_id,
                                        "user",
                                        inv.expires_at * 1000,
                                        {},
                                        false,
                                        now});
  }));
  return inv;
}

Result<std::vector<std::string>> IdentityService::AddToGroup(const Principal& admin,
                                                             const std::string& raw_email,
                                                             const std::string& group) {
  if (!admin.IsTenantAdmin())
    return Status::PermissionDenied("only the tenant's admins can change groups");
  GH_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(raw_email));
  const std::string prefix = admin.tenant_id.value() + "-";
  if (group.size() <= prefix.size() || group.rfind(prefix, 0) != 0 || group.size() > 100 ||
      Slugify(group) != group)
    return Status::PermissionDenied("groups must belong to your own tenant (" + prefix + "...)",
                                    "forbidden_group");
  std::vector<std::string> groups;
  UserId changed;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto user, st::users::FindByEmail(tx, email));
    // A user of another tenant is reported exactly like a missing one.
    if (!user || user->tenant_id != admin.tenant_id)
      return Status::NotFound("no such user in this tenant", "user_not_found");
    GH_RETURN_IF_ERROR(st::users::AddGroup(tx, user->tenant_id, user->id, group));
    if (group == admin.tenant_id.value() + "-admins") {
      GH_RETURN_IF_ERROR(st::users::SetRole(tx, user->tenant_id, user->id, "admin"));
    }
    GH_ASSIGN_OR_RETURN(groups, st::users::Groups(tx, user->tenant_id, user->id));
    changed = user->id;
    return Status::Ok();
  }));
  if (directory_) directory_->ForgetUser(admin.tenant_id, changed);
  return groups;
}

}  // namespace gh::identity
