#include "crypto/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

namespace gh::crypto {
namespace {

std::shared_ptr<EVP_PKEY> Wrap(EVP_PKEY* k) { return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free); }

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

std::string BnToFixed(const BIGNUM* bn, int len) {
  std::string out(static_cast<size_t>(len), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), len);
  return out;
}

Bn BinToBn(std::string_view bytes) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                      static_cast<int>(bytes.size()), nullptr));
}

Result<std::shared_ptr<EVP_PKEY>> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  bool ok = params && ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) return Status::InvalidArgument("invalid public key", "invalid_key");
  return Wrap(pkey);
}

}  // namespace

std::string_view JwsAlgName(JwsAlg alg) { return alg == JwsAlg::kES256 ? "ES256" : "RS256"; }

Result<VerifyingKey> VerifyingKey::FromEcPoint(std::string_view x, std::string_view y) {
  if (x.size() != 32 || y.size() != 32)
    return Status::InvalidArgument("EC P-256 coordinates must be 32 bytes", "invalid_key");
  std::string point = "\x04";
  point.append(x);
  point.append(y);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  auto key = FromParams("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  if (!key.ok()) return key.status();
  return VerifyingKey(std::move(*key), JwsAlg::kES256);
}

Result<VerifyingKey> VerifyingKey::FromRsa(std::string_view n, std::string_view e) {
  if (n.size() < 256)
    return Status::InvalidArgument("RSA keys under 2048 bits are refused", "invalid_key");
  Bn bn_n = BinToBn(n), bn_e = BinToBn(e);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  auto key = FromParams("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  if (!key.ok()) return key.status();
  return VerifyingKey(std::move(*key), JwsAlg::kRS256);
}

bool VerifyingKey::Verify(std::string_view data, std::string_view signature) const {
  std::string der;
  if (alg_ == JwsAlg::kES256) {
    if (signature.size() != 64) return false;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BinToBn(signature.substr(0, 32)).release(),
                   BinToBn(signature.substr(32)).release());
    unsigned char* buf = nullptr;
    int len = i2d_ECDSA_SIG(sig, &buf);
    ECDSA_SIG_free(sig);
    if (len <= 0) return false;
    der.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    signature = der;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string VerifyingKey::EcX() const {
  BIGNUM* x = nullptr;
  EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x);
  std::string out = BnToFixed(x, 32);
  BN_free(x);
  return out;
}

std::string VerifyingKey::EcY() const {
  BIGNUM* y = nullptr;
  EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y);
  std::string out = BnToFixed(y, 32);
  BN_free(y);
  return out;
}

Result<SigningKey> SigningKey::GenerateEs256() {
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!k) return Status::Internal("EC key generation failed");
  return SigningKey(Wrap(k));
}

Result<SigningKey> SigningKey::FromPem(const Secret& pem) {
  BIO* bio = BIO_new_mem_buf(pem.reveal().data(), static_cast<int>(pem.reveal().size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) {
    EVP_PKEY_free(k);
    return Status::Internal("signing key is not a valid EC private key");
  }
  return SigningKey(Wrap(k));
}

Secret SigningKey::ToPem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  Secret out(std::string(data, static_cast<size_t>(len)));
  BIO_free(bio);
  return out;
}

Result<std::string> SigningKey::Sign(std::string_view data) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  std::string der;
  bool ok = EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                           data.size()) == 1;
  if (ok) {
    der.resize(len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                        reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    der.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::Internal("signing failed");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return Status::Internal("signing produced an invalid signature");
  std::string raw = BnToFixed(ECDSA_SIG_get0_r(sig), 32) + BnToFixed(ECDSA_SIG_get0_s(sig), 32);
  ECDSA_SIG_free(sig);
  return raw;
}

VerifyingKey SigningKey::Public() const { return VerifyingKey(key_, JwsAlg::kES256); }

}  // namespace gh::crypto
