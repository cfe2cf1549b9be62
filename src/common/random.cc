#include "common/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

namespace {

void RandBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    // A CSPRNG failure is not recoverable: continuing would hand out guessable secrets.
    std::fputs("fatal: OpenSSL RAND_bytes failed\n", stderr);
    std::abort();
  }
}

// Small draws (a request makes a dozen: request, trace, span, event and record ids) come from a
// per-thread buffer of CSPRNG output, filled 4 KiB at a time: one RAND_bytes call (~1 us, locks
// and all) per few hundred ids instead of one each. Bytes are wiped from the buffer as they are
// handed out; a forked child starts a fresh buffer, so it never repeats its parent's bytes.
std::atomic<uint64_t> fork_generation{0};
[[maybe_unused]] const bool fork_handler_installed = [] {
  pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); });
  return true;
}();

struct Buffered {
  static constexpr size_t kSize = 4096;
  std::array<uint8_t, kSize> bytes;
  size_t left = 0;  // the unused bytes are bytes[0, left)
  uint64_t generation = 0;
  ~Buffered() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};
thread_local Buffered buffered;

}  // namespace

void OsRandom::Fill(std::span<uint8_t> out) {
  if (out.empty()) return;
  if (out.size() > 256) {
    RandBytes(out.data(), out.size());
    return;
  }
  Buffered& b = buffered;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (b.generation != generation || b.left < out.size()) {
    RandBytes(b.bytes.data(), b.bytes.size());
    b.left = b.bytes.size();
    b.generation = generation;
  }
  b.left -= out.size();
  std::memcpy(out.data(), b.bytes.data() + b.left, out.size());
  OPENSSL_cleanse(b.bytes.data() + b.left, out.size());
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
