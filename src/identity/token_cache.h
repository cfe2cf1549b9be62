// CachingTokenVerifier: remembers access tokens that verified, so a client presenting the same
// token again skips the ES256 verification (~100 µs) and the JSON parsing.
//
// What makes it safe:
//   - the key is the exact token string: a token that differs in any byte (another signature,
//     another claim) is a miss and goes through the full verification;
//   - only successes are cached; every failure is verified afresh each time;
//   - every hit re-checks expiry against the clock: an entry is served only while now <= exp, and
//     from then on the token goes back to the full verifier (which applies its leeway and refuses
//     it once that is over), so caching never extends a token's life;
//   - the cache is bounded (least recently used entries are evicted per shard) and sharded, each
//     shard behind its own mutex, so concurrent requests rarely contend.
// The verifier it wraps is the source of truth; tokens are immutable, so what verified once
// verifies again until it expires (signing keys are fixed for the life of the process).
// Thread-safe.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "identity/jwt.h"

namespace gh::identity {

struct TokenCacheOptions {
  size_t capacity = 8192;  // tokens, over all shards
  size_t shards = 16;
};

class CachingTokenVerifier {
 public:
  // `verify` is the full verification (usually TokenVerifier::Verify); it is called on every miss
  // and must be safe to call concurrently.
  using VerifyFn = std::function<Result<AccessClaims>(std::string_view token)>;

  CachingTokenVerifier(VerifyFn verify, const Clock& clock, TokenCacheOptions options = {});

  Result<AccessClaims> Verify(std::string_view token) const;

  size_t size() const;  // entries held now (for tests)

 private:
  struct Shard {
    using Lru = std::list<const std::string*>;  // the map's keys, most recently used first
    struct Entry {
      AccessClaims claims;
      Lru::iterator position;
    };
    mutable std::mutex mu;
    Lru lru;
    std::unordered_map<std::string, Entry> entries;
  };

  Shard& ShardFor(std::string_view token) const;

  VerifyFn verify_;
  const Clock& clock_;
  size_t per_shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
  size_t shard_count_;
};

}  // namespace gh::identity
