// External identity providers: access tokens issued by Auth0, Amazon Cognito, Keycloak or any
// OpenID Connect provider are accepted beside Gatehouse's own.
//
// An ExternalIssuer holds the provider's signing keys, read from its JWKS (the `jwks_uri`, or the
// one its discovery document names), and verifies tokens with them exactly as Gatehouse verifies
// its own (jwt.h: the algorithm is the key's, RS256 or ES256; issuer, audience, expiry checked),
// with the provider's own claim names for the tenant, the email and the groups. Keys are refreshed
// in the background (RefreshLoop): every `refresh_interval`, and soon after a token names a key id
// it does not know (the provider rotated its keys), at most once per `min_refresh_interval`.
//
// ExternalIdentities turns verified claims into a Principal of Gatehouse: the tenant named by the
// token must exist and be active; the provider's subject is linked, on first sign-in, to a
// Gatehouse user of that tenant created for it (or, when the provider vouches for the email with
// `email_verified`, to the existing user with that email in the same tenant); a subject never
// moves to another tenant. Membership of one of `admin_groups` makes the user a tenant admin.
// Thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "http/client.h"
#include "identity/jwt.h"
#include "storage/database.h"

namespace gh::identity {

struct ExternalIssuerOptions {
  std::string name;      // the config key, for logs and errors
  std::string issuer;    // exactly the tokens' `iss`
  std::string jwks_uri;  // empty: from <issuer>/.well-known/openid-configuration
  std::string audience;  // the tokens' `aud` must contain it
  ClaimMapping claims{.tenant = "tenant_id",
                      .email = "email",
                      .groups = "groups",
                      .require_jti = false,
                      .client_id_as_audience = true};
  std::vector<std::string> admin_groups{"admin"};
  bool allow_insecure_http = false;  // http:// endpoints (development and tests only)
  std::chrono::seconds refresh_interval{600};
  std::chrono::seconds min_refresh_interval{30};
  std::chrono::milliseconds http_timeout{10'000};
};

// The signing keys of a JWKS document that Gatehouse can verify with: RSA (RS256) and EC P-256
// (ES256) keys meant for signatures (no `use`, or `use: sig`); others are skipped. A key without
// `kid` is skipped too (tokens are matched to keys by kid).
Result<std::map<std::string, crypto::VerifyingKey>> ParseJwks(std::string_view json);

class ExternalIssuer {
 public:
  ExternalIssuer(ExternalIssuerOptions options, std::shared_ptr<http::HttpClient> client,
                 const Clock& clock);

  const ExternalIssuerOptions& options() const { return opt_; }

  // Reads the keys now (discovery first when there is no jwks_uri). On failure the keys held so
  // far stay in use.
  http::Awaitable<Status> Refresh();
  // Refreshes in the background until `stop` is set: on schedule, and soon after an unknown key id.
  http::Awaitable<void> RefreshLoop(std::shared_ptr<std::atomic<bool>> stop);
  // Runs RefreshLoop on `executor` (detached).
  void StartRefreshing(const boost::asio::any_io_executor& executor,
                       std::shared_ptr<std::atomic<bool>> stop);
  // Installs keys directly (tests).
  void SetKeys(std::map<std::string, crypto::VerifyingKey> keys);

  // Verifies a token with the keys held now. 401 invalid_token when it does not verify; an
  // unknown key id also asks the refresh loop to look for new keys.
  Result<AccessClaims> Verify(std::string_view token) const;
  size_t key_count() const;

 private:
  ExternalIssuerOptions opt_;
  std::shared_ptr<http::HttpClient> client_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::shared_ptr<const TokenVerifier> verifier_;
  size_t keys_ = 0;
  mutable bool unknown_kid_seen_ = false;
  std::string jwks_uri_;  // resolved
};

// The `iss` of a compact JWS, read without verifying anything: only to choose the verifier.
std::string UnverifiedIssuer(std::string_view token);

class ExternalIdentities {
 public:
  ExternalIdentities(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  // The Principal for verified claims of `issuer`; 403 unknown_tenant / tenant_suspended /
  // tenant_mismatch, 409 email_in_use (the email belongs to another Gatehouse account the
  // provider does not vouch for, or to another tenant).
  Result<Principal> Resolve(const ExternalIssuerOptions& issuer, const AccessClaims& claims);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace gh::identity
