// Random: the seam for randomness. OsRandom draws from OpenSSL's CSPRNG (the only source used for
// keys, tokens and codes in production); SeededRandom is deterministic for tests.
// OsRandom is thread-safe; SeededRandom is guarded by a mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <span>
#include <string>

namespace gh {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;

  std::string Bytes(size_t n);
  uint64_t Uint64();
  // Uniform in [0, bound) without modulo bias.
  uint64_t Uniform(uint64_t bound);
  // n random bytes, base64url without padding: for tokens and identifiers.
  std::string Token(size_t n_bytes = 32);
  // Random UUID (version 4), lowercase.
  std::string Uuid();
  // RFC 9562 UUIDv7: `now_ms` (Unix milliseconds) in the first 48 bits, 74 random bits after. For
  // rows keyed by id, ids that grow with time append to the B-tree instead of touching a random
  // page each.
  std::string TimeOrderedUuid(int64_t now_ms);
  // n decimal digits, e.g. a verification code.
  std::string Digits(int n);
};

class OsRandom final : public Random {
 public:
  void Fill(std::span<uint8_t> out) override;
  static OsRandom& Instance();
};

class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : rng_(seed) {}
  void Fill(std::span<uint8_t> out) override;

 private:
  std::mutex mu_;
  std::mt19937_64 rng_;
};

}  // namespace gh
