// Asymmetric keys for JWS: an ES256 signing key (P-256, generated with OpenSSL's CSPRNG) and a
// verifying key that is ES256 or RS256. The algorithm belongs to the key, never to the token being
// verified. Keys are immutable after construction and safe to share across threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/secret.h"
#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace gh::crypto {

enum class JwsAlg { kES256, kRS256 };
std::string_view JwsAlgName(JwsAlg alg);

class VerifyingKey {
 public:
  static Result<VerifyingKey> FromEcPoint(std::string_view x,
                                          std::string_view y);  // raw 32-byte coords
  static Result<VerifyingKey> FromRsa(std::string_view n, std::string_view e);  // raw big-endian
  JwsAlg alg() const { return alg_; }
  // `signature` is JWS form: r||s (64 bytes) for ES256, PKCS#1 v1.5 for RS256.
  bool Verify(std::string_view data, std::string_view signature) const;
  // Raw public coordinates (ES256 only), for publishing a JWK.
  std::string EcX() const;
  std::string EcY() const;

 private:
  friend class SigningKey;
  VerifyingKey(std::shared_ptr<EVP_PKEY> key, JwsAlg alg) : key_(std::move(key)), alg_(alg) {}
  std::shared_ptr<EVP_PKEY> key_;
  JwsAlg alg_;
};

class SigningKey {
 public:
  static Result<SigningKey> GenerateEs256();
  static Result<SigningKey> FromPem(const Secret& pem);
  Secret ToPem() const;
  Result<std::string> Sign(std::string_view data) const;  // r||s, 64 bytes
  VerifyingKey Public() const;

 private:
  explicit SigningKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace gh::crypto
