// Access and ID tokens: compact JWS signed with ES256, and their strict verification.
//
// Verification never trusts the token to choose how it is checked: the key is found by `kid`, and
// the algorithm is the key's own. Rejected (all as kUnauthenticated, code "invalid_token" or
// "token_expired"): malformed or oversized tokens, unknown kid, alg other than the key's (`none`,
// HS256 with the public key, ...), bad signature, wrong `typ`, `crit` headers, wrong issuer or
// audience, expired, not yet valid, issued in the future, missing required claims.
// TokenVerifier is immutable after construction and safe to share between threads.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/keys.h"
#include "identity/principal.h"

namespace gh::identity {

struct AccessClaims {
  std::string issuer;
  std::string audience;
  Principal principal;  // sub, tenant_id, email, tier, groups
  int64_t issued_at = 0;
  int64_t expires_at = 0;
  std::string jti;
  bool email_verified = false;  // the issuer says it checked the email (claim email_verified)
};

// Signs tokens with the current key.
class TokenSigner {
 public:
  TokenSigner(std::string kid, crypto::SigningKey key)
      : kid_(std::move(kid)), key_(std::move(key)) {}
  // header {alg: ES256, typ, kid}; payload is the serialized JSON object of claims.
  Result<std::string> Sign(std::string_view typ, std::string_view payload_json) const;
  const std::string& kid() const { return kid_; }
  crypto::VerifyingKey PublicKey() const { return key_.Public(); }

 private:
  std::string kid_;
  crypto::SigningKey key_;
};

std::string AccessTokenPayload(const AccessClaims& c);
std::string IdTokenPayload(const AccessClaims& c, bool email_verified);

// Where a token carries what a Principal needs. Gatehouse's own tokens use the defaults; an
// external issuer names its own claims (Cognito `custom:tenant_id` and `cognito:groups`, an Auth0
// namespaced `https://example.com/tenant_id`, Keycloak's nested `realm_access.roles`). A name is
// looked up as a top-level claim first, then, if it has dots, as a path into nested objects.
struct ClaimMapping {
  std::string tenant = "tenant_id";
  std::string email = "email";
  std::string groups = "groups";
  bool require_jti = true;  // without one, the token id is derived from sub and iat
  // A token without `aud` whose `client_id` is the audience is accepted (Cognito access tokens).
  bool client_id_as_audience = false;
};

struct VerifierOptions {
  std::string issuer;
  std::string audience;
  int64_t leeway_seconds = 30;
  size_t max_token_bytes = 8192;
  std::string required_typ = "at+jwt";  // empty: any typ
  ClaimMapping claims;
};

class TokenVerifier {
 public:
  TokenVerifier(VerifierOptions options, std::map<std::string, crypto::VerifyingKey> keys_by_kid,
                const Clock& clock)
      : opt_(std::move(options)), keys_(std::move(keys_by_kid)), clock_(clock) {}
  Result<AccessClaims> Verify(std::string_view token) const;
  bool HasKey(std::string_view kid) const { return keys_.count(std::string(kid)) > 0; }

 private:
  VerifierOptions opt_;
  std::map<std::string, crypto::VerifyingKey> keys_;
  const Clock& clock_;
};

}  // namespace gh::identity
