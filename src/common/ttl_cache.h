// TtlCache: this process's short-lived copies of values that are read on every request and
// rarely change (tenant rows, per-user caps, resolved API keys), so a request need not go to the
// database for them.
//
// When a cached value may be stale, and for how long:
//   - an entry is served only while 0 <= now - filled_at < ttl on the injected Clock: a change made
//     by another process (a replica, `gatehouse admin`) is seen within `ttl`;
//   - a change made by this process calls Invalidate / InvalidateAll AFTER its transaction
//     committed, and is seen at once. A reader that read the old row before that commit but stores
//     it after the invalidation must not put it back: Put takes the generation the reader observed
//     BEFORE its database read, and any invalidation since then (of any key) makes the Put a no-op;
//   - bounded: at capacity, expired entries are dropped first, then everything (a miss only costs
//     the read the cache saves).
// A ttl of zero disables the cache (every Get misses, Put does nothing).
// Thread-safe: one mutex, held for a hash-map operation at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/clock.h"

namespace gh {

template <class K, class V, class Hash = std::hash<K>>
class TtlCache {
 public:
  TtlCache(const Clock& clock, Duration ttl, size_t capacity = 10'000)
      : clock_(clock), ttl_(ttl), capacity_(capacity == 0 ? 1 : capacity) {}

  bool enabled() const { return ttl_ > Duration::zero(); }

  // Read this before reading the database; hand it to Put.
  uint64_t generation() const {
    std::lock_guard lock(mu_);
    return generation_;
  }

  std::optional<V> Get(const K& key) const {
    if (!enabled()) return std::nullopt;
    const Timestamp now = clock_.Now();
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || !Fresh(it->second, now)) return std::nullopt;
    return it->second.value;
  }

  // Stores what a reader read, unless something was invalidated since `generation_before_read`.
  void Put(const K& key, V value, uint64_t generation_before_read) {
    if (!enabled()) return;
    const Timestamp now = clock_.Now();
    std::lock_guard lock(mu_);
    if (generation_before_read != generation_) return;
    if (entries_.size() >= capacity_ && !entries_.contains(key)) {
      std::erase_if(entries_, [&](const auto& e) { return !Fresh(e.second, now); });
      if (entries_.size() >= capacity_) entries_.clear();
    }
    entries_.insert_or_assign(key, Entry{std::move(value), now});
  }

  void Invalidate(const K& key) {
    std::lock_guard lock(mu_);
    ++generation_;
    entries_.erase(key);
  }

  void InvalidateAll() {
    std::lock_guard lock(mu_);
    ++generation_;
    entries_.clear();
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }

 private:
  struct Entry {
    V value;
    Timestamp filled_at;
  };
  bool Fresh(const Entry& e, Timestamp now) const {
    const Duration age = now - e.filled_at;
    return age >= Duration::zero() && age < ttl_;  // a clock stepped back counts as stale
  }

  const Clock& clock_;
  const Duration ttl_;
  const size_t capacity_;
  mutable std::mutex mu_;
  uint64_t generation_ = 0;
  std::unordered_map<K, Entry, Hash> entries_;
};

}  // namespace gh
