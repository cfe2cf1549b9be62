#include "authz/interner.h"

#include <cstring>
#include <functional>

namespace gh::authz {

namespace {
size_t HashBytes(std::string_view s) {
  // FNV-1a 64: cheap for short names; the flat set mixes the result further.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<size_t>(h);
}
}  // namespace

size_t Interner::Hash::operator()(uint32_t id) const { return HashBytes(owner->Str(id)); }
size_t Interner::Hash::operator()(std::string_view s) const { return HashBytes(s); }

Interner::Interner() : index_(0, Hash{this}, Eq{this}) {}

std::optional<uint32_t> Interner::Find(std::string_view s) const {
  auto it = index_.find(s);
  if (it == index_.end()) return std::nullopt;
  return *it;
}

uint32_t Interner::Intern(std::string_view s) {
  if (auto it = index_.find(s); it != index_.end()) return *it;
  uint32_t len = static_cast<uint32_t>(s.size());
  if (len > kBlockSize) {
    // Oversized strings get a block of their own.
    blocks_.emplace_back(new char[len]);
    std::memcpy(blocks_.back().get(), s.data(), len);
    entries_.push_back(Entry{static_cast<uint32_t>(blocks_.size() - 1), 0, len});
    used_in_block_ = kBlockSize;
  } else {
    if (blocks_.empty() || used_in_block_ + len > kBlockSize) {
      blocks_.emplace_back(new char[kBlockSize]);
      used_in_block_ = 0;
    }
    std::memcpy(blocks_.back().get() + used_in_block_, s.data(), len);
    entries_.push_back(Entry{static_cast<uint32_t>(blocks_.size() - 1), used_in_block_, len});
    used_in_block_ += len;
  }
  uint32_t id = static_cast<uint32_t>(entries_.size() - 1);
  index_.insert(id);
  return id;
}

size_t Interner::MemoryBytes() const {
  return blocks_.size() * kBlockSize + entries_.capacity() * sizeof(Entry) +
         index_.bucket_count() * (sizeof(uint32_t) + 1);
}

}  // namespace gh::authz
