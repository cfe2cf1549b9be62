// Interner: an append-only table of strings <-> dense uint32 ids, stored compactly (the bytes in
// 64 KiB arena blocks, an open-addressing index of ids). Used for object names ("document:1"),
// type and relation names. Ids are never reused. Not synchronised: the owner (Store) serialises
// Intern() with its write lock; Find()/Str() may run concurrently with each other.
#pragma once

#include <boost/unordered/unordered_flat_set.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace gh::authz {

class Interner {
 public:
  Interner();
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  std::optional<uint32_t> Find(std::string_view s) const;
  uint32_t Intern(std::string_view s);
  std::string_view Str(uint32_t id) const {
    const Entry& e = entries_[id];
    return std::string_view(blocks_[e.block].get() + e.offset, e.length);
  }
  size_t size() const { return entries_.size(); }
  size_t MemoryBytes() const;

 private:
  struct Entry {
    uint32_t block;
    uint32_t offset;
    uint32_t length;
  };
  struct Hash {
    using is_transparent = void;
    const Interner* owner;
    size_t operator()(uint32_t id) const;
    size_t operator()(std::string_view s) const;
  };
  struct Eq {
    using is_transparent = void;
    const Interner* owner;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(std::string_view s, uint32_t id) const { return owner->Str(id) == s; }
    bool operator()(uint32_t id, std::string_view s) const { return owner->Str(id) == s; }
  };

  static constexpr uint32_t kBlockSize = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  uint32_t used_in_block_ = kBlockSize;
  std::vector<Entry> entries_;
  boost::unordered_flat_set<uint32_t, Hash, Eq> index_;
};

}  // namespace gh::authz
