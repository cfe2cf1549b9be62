// Hashes and MACs over OpenSSL 3 (EVP). Outputs are raw bytes in std::string; hex helpers are in
// common/strings.h. Stateless and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gh::crypto {

std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
uint32_t Crc32(std::string_view data, uint32_t seed = 0);

}  // namespace gh::crypto
