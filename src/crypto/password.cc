#include "crypto/password.h"

#include <argon2.h>

#include <cctype>
#include <vector>

namespace gh::crypto {

Result<std::string> HashPassword(const Secret& password, Random& random,
                                 const PasswordHashParams& p) {
  std::string salt = random.Bytes(16);
  size_t len = argon2_encodedlen(p.t_cost, p.m_cost_kib, p.parallelism, salt.size(), 32, Argon2_id);
  std::vector<char> encoded(len);
  int rc = argon2id_hash_encoded(p.t_cost, p.m_cost_kib, p.parallelism, password.reveal().data(),
                                 password.reveal().size(), salt.data(), salt.size(), 32,
                                 encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return Status::Internal("password hashing failed");
  return std::string(encoded.data());
}

bool VerifyPassword(const Secret& password, const std::string& encoded_hash) {
  return argon2id_verify(encoded_hash.c_str(), password.reveal().data(),
                         password.reveal().size()) == ARGON2_OK;
}

Status CheckPasswordStrength(const Secret& password) {
  const std::string& p = password.reveal();
  if (p.size() < 10)
    return Status::Unprocessable("password must be at least 10 characters long", "weak_password");
  if (p.size() > 256)
    return Status::Unprocessable("password must be at most 256 characters long", "weak_password");
  int lower = 0, upper = 0, digit = 0, other = 0;
  for (unsigned char c : p) {
    if (std::islower(c))
      lower = 1;
    else if (std::isupper(c))
      upper = 1;
    else if (std::isdigit(c))
      digit = 1;
    else
      other = 1;
  }
  if (lower + upper + digit + other < 3)
    return Status::Unprocessable(
        "password must mix at least three of: lower case, upper case, digits, symbols",
        "weak_password");
  if (p.find_first_not_of(p[0]) == std::string::npos)
    return Status::Unprocessable("password must not repeat one character", "weak_password");
  return Status::Ok();
}

}  // namespace gh::crypto
