#include "crypto/aead.h"

#include <openssl/evp.h>

#include <memory>

namespace gh::crypto {
namespace {
constexpr size_t kNonce = 12, kTag = 16;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;
}  // namespace

Result<std::string> Seal(const Secret& key, std::string_view plaintext, std::string_view aad,
                         Random& random) {
  if (key.reveal().size() != kAeadKeySize)
    return Status::Internal("AES-256-GCM key must be 32 bytes");
  std::string nonce = random.Bytes(kNonce);
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out = nonce;
  out.resize(kNonce + plaintext.size() + kTag);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, total = 0;
  bool ok = EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                               reinterpret_cast<const unsigned char*>(key.reveal().data()),
                               reinterpret_cast<const unsigned char*>(nonce.data())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), o + kNonce, &len,
                              reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1;
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), o + kNonce + total, &len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag,
                                 o + kNonce + plaintext.size()) == 1;
  if (!ok) return Status::Internal("encryption failed");
  return out;
}

Result<Secret> Open(const Secret& key, std::string_view sealed, std::string_view aad) {
  if (key.reveal().size() != kAeadKeySize)
    return Status::Internal("AES-256-GCM key must be 32 bytes");
  if (sealed.size() < kNonce + kTag)
    return Status::Internal("ciphertext too short", "decrypt_failed");
  size_t n = sealed.size() - kNonce - kTag;
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string out(n, '\0');
  int len = 0;
  auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string tag(sealed.substr(kNonce + n));
  bool ok =
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.reveal().data()), in) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in + kNonce,
                        static_cast<int>(n)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  if (!ok) return Status::Internal("ciphertext does not authenticate", "decrypt_failed");
  return Secret(std::move(out));
}

}  // namespace gh::crypto
