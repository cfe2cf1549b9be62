// AES-256-GCM authenticated encryption for data at rest.
// Seal output layout: 12-byte random nonce || ciphertext || 16-byte tag. The associated data (AAD)
// binds a ciphertext to its context (tenant, user, row), so it does not open anywhere else.
// Stateless and thread-safe; the nonce comes from the Random passed in.
#pragma once

#include <string>
#include <string_view>

#include "common/random.h"
#include "common/secret.h"
#include "common/status.h"

namespace gh::crypto {

constexpr size_t kAeadKeySize = 32;

Result<std::string> Seal(const Secret& key, std::string_view plaintext, std::string_view aad,
                         Random& random);
Result<Secret> Open(const Secret& key, std::string_view sealed, std::string_view aad);

}  // namespace gh::crypto
