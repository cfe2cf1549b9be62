#include "identity/token_cache.h"

#include <algorithm>

namespace gh::identity {

CachingTokenVerifier::CachingTokenVerifier(VerifyFn verify, const Clock& clock,
                                           TokenCacheOptions options)
    : verify_(std::move(verify)),
      clock_(clock),
      per_shard_capacity_(
          std::max<size_t>(1, options.capacity / std::max<size_t>(1, options.shards))),
      shards_(std::make_unique<Shard[]>(std::max<size_t>(1, options.shards))),
      shard_count_(std::max<size_t>(1, options.shards)) {}

CachingTokenVerifier::Shard& CachingTokenVerifier::ShardFor(std::string_view token) const {
  return shards_[std::hash<std::string_view>()(token) % shard_count_];
}

Result<AccessClaims> CachingTokenVerifier::Verify(std::string_view token) const {
  Shard& shard = ShardFor(token);
  std::string key(token);
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(key);
    if (it != shard.entries.end()) {
      if (clock_.NowUnixSeconds() <= it->second.claims.expires_at) {
        shard.lru.splice(shard.lru.begin(), shard.lru, it->second.position);
        return it->second.claims;
      }
      // Expired: forget it; the full verifier decides (leeway included) and it is not cached again.
      shard.lru.erase(it->second.position);
      shard.entries.erase(it);
    }
  }

  Result<AccessClaims> verified = verify_(token);
  if (!verified.ok() || clock_.NowUnixSeconds() > verified->expires_at) return verified;

  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.entries.try_emplace(std::move(key), Shard::Entry{*verified, {}});
  if (!inserted) return verified;  // another request cached it meanwhile
  shard.lru.push_front(&it->first);
  it->second.position = shard.lru.begin();
  while (shard.entries.size() > per_shard_capacity_) {
    auto oldest = shard.entries.find(*shard.lru.back());
    shard.lru.pop_back();
    shard.entries.erase(oldest);
  }
  return verified;
}

size_t CachingTokenVerifier::size() const {
  size_t n = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mu);
    n += shards_[i].entries.size();
  }
  return n;
}

}  // namespace gh::identity
