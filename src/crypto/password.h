// Password hashing with argon2id (libargon2), in the PHC string format, and a minimum strength
// policy. Hashing is deliberately slow (tens of milliseconds); callers keep it off hot paths.
#pragma once

#include <string>
#include <string_view>

#include "common/random.h"
#include "common/secret.h"
#include "common/status.h"

namespace gh::crypto {

struct PasswordHashParams {
  uint32_t t_cost = 2;
  uint32_t m_cost_kib = 19 * 1024;  // OWASP's argon2id minimum
  uint32_t parallelism = 1;
};

Result<std::string> HashPassword(const Secret& password, Random& random,
                                 const PasswordHashParams& params = {});
bool VerifyPassword(const Secret& password, const std::string& encoded_hash);
// At least 10 characters, three character classes, not all one character.
Status CheckPasswordStrength(const Secret& password);

}  // namespace gh::crypto
