// Interner: an append-only table of strings <-> dense uint32 ids, built for lookups that miss
// the CPU caches as little as possible (a check interns-looks-up its object and user among
// millions of names). Each string lives in a 64 KiB arena block as a record [id][length][bytes];
// the lookup table is open addressing with linear probing over 8-byte slots, each holding a
// 16-bit fragment of the string's hash and the record's address. A lookup reads one slot (or a
// few neighbours) and then the one record it points to, so a hit costs about two cache misses.
// Used for object names ("document:1"), type and relation names. Ids are never reused.
//
// Not synchronised: the owner (Store) serialises Intern() with its write lock; Find()/Str() may
// run concurrently with each other.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace gh::authz {

class Interner {
 public:
  Interner() = default;
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  // A key hashed once, for lookups that overlap their cache misses (see Prefetch).
  struct Key {
    std::string_view text;
    uint64_t hash = 0;
  };
  static Key MakeKey(std::string_view s) { return Key{s, Hash(s)}; }

  std::optional<uint32_t> Find(std::string_view s) const { return Find(MakeKey(s)); }
  std::optional<uint32_t> Find(const Key& key) const;
  uint32_t Intern(std::string_view s);

  // Lookups that are about to happen can overlap their cache misses: Prefetch(key) starts
  // loading the slot Find(key) reads first; PrefetchRecord(key), called a little later, reads that
  // slot and starts loading the record it points to. Both are hints: they change no result.
  void Prefetch(const Key& key) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Home(key.hash)]);
  }
  void PrefetchRecord(const Key& key) const;
  std::string_view Str(uint32_t id) const { return RecordString(records_[id]); }
  size_t size() const { return records_.size(); }
  size_t MemoryBytes() const;

 private:
  static constexpr uint32_t kBlockSize = 64 * 1024;
  static constexpr size_t kHeader = 2 * sizeof(uint32_t);  // id, length
  // Record addresses are user-space pointers, which fit in 48 bits on the 64-bit targets we
  // build for; the slot's top 16 bits hold the hash fragment.
  static constexpr uint64_t kAddressMask = (uint64_t(1) << 48) - 1;
  static_assert(sizeof(void*) == 8, "the slot layout needs 64-bit pointers");

  static uint32_t RecordId(const char* r) {
    uint32_t id;
    std::memcpy(&id, r, sizeof(id));
    return id;
  }
  static std::string_view RecordString(const char* r) {
    uint32_t len;
    std::memcpy(&len, r + sizeof(uint32_t), sizeof(len));
    return std::string_view(r + kHeader, len);
  }
  static uint64_t Hash(std::string_view s);
  // The slot for a hash, the fragment kept in the slot, and the slot value for a record.
  size_t Home(uint64_t hash) const { return static_cast<size_t>(hash >> shift_); }
  static uint64_t Fragment(uint64_t hash) { return (hash & 0xFFFF) << 48; }
  static uint64_t Slot(uint64_t hash, const char* record) {
    return Fragment(hash) | (reinterpret_cast<uint64_t>(record) & kAddressMask);
  }
  static const char* Address(uint64_t slot) {
    return reinterpret_cast<const char*>(slot & kAddressMask);
  }
  const char* Append(std::string_view s, uint32_t id);
  void Grow();

  std::vector<std::unique_ptr<char[]>> blocks_;
  uint32_t used_in_block_ = kBlockSize;
  std::vector<const char*> records_;  // by id
  std::vector<uint64_t> slots_;       // 0: empty; size a power of two (or 0)
  int shift_ = 64;                    // 64 - log2(slots_.size())
};

}  // namespace gh::authz
