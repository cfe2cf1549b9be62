#include "common/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/strings.h"

namespace gh {

std::string Random::Bytes(size_t n) {
  std::string s(n, '\0');
  Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), n));
  return s;
}

uint64_t Random::Uint64() {
  uint64_t v = 0;
  Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof v));
  return v;
}

uint64_t Random::Uniform(uint64_t bound) {
  if (bound <= 1) return 0;
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    uint64_t v = Uint64();
    if (v < limit) return v % bound;
  }
}

std::string Random::Token(size_t n_bytes) { return Base64UrlEncode(Bytes(n_bytes)); }

std::string Random::Uuid() {
  std::string b = Bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string Random::TimeOrderedUuid(int64_t now_ms) {
  std::string b = Bytes(16);
  const uint64_t ms = static_cast<uint64_t>(std::max<int64_t>(0, now_ms));
  for (int i = 0; i < 6; ++i) b[i] = static_cast<char>((ms >> (8 * (5 - i))) & 0xff);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string Random::Digits(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + Uniform(10)));
  return s;
}

void OsRandom::Fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    // A CSPRNG failure is not recoverable: continuing would hand out guessable secrets.
    std::fputs("fatal: OpenSSL RAND_bytes failed\n", stderr);
    std::abort();
  }
}

OsRandom& OsRandom::Instance() {
  static OsRandom r;
  return r;
}

void SeededRandom::Fill(std::span<uint8_t> out) {
  std::lock_guard lock(mu_);
  for (auto& b : out) b = static_cast<uint8_t>(rng_());
}

}  // namespace gh
