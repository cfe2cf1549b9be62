#include "authz/interner.h"

namespace gh::authz {

uint64_t Interner::Hash(std::string_view s) {
  // FNV-1a over 8 bytes at a time (object names are short), then a multiplicative mix so that
  // the slot (top bits) and the fragment (low bits) are independent.
  uint64_t h = 1469598103934665603ULL ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 1099511628211ULL;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 1099511628211ULL;
  h ^= h >> 32;
  return h * 0x9E3779B97F4A7C15ULL;
}

std::optional<uint32_t> Interner::Find(const Key& key) const {
  if (slots_.empty()) return std::nullopt;
  const std::string_view s = key.text;
  const uint64_t h = key.hash;
  const uint64_t fragment = Fragment(h);
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(h);; i = (i + 1) & mask) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return std::nullopt;
    if ((slot & ~kAddressMask) != fragment) continue;
    const char* record = Address(slot);
    if (RecordString(record) == s) return RecordId(record);
  }
}

void Interner::PrefetchRecord(const Key& key) const {
  if (slots_.empty()) return;
  const uint64_t h = key.hash;
  const uint64_t slot = slots_[Home(h)];
  if (slot != 0 && (slot & ~kAddressMask) == Fragment(h)) __builtin_prefetch(Address(slot));
}

const char* Interner::Append(std::string_view s, uint32_t id) {
  const size_t need = kHeader + s.size();
  char* record;
  if (need > kBlockSize) {
    // Oversized strings get a block of their own.
    blocks_.emplace_back(new char[need]);
    record = blocks_.back().get();
    used_in_block_ = kBlockSize;
  } else {
    if (blocks_.empty() || used_in_block_ + need > kBlockSize) {
      blocks_.emplace_back(new char[kBlockSize]);
      used_in_block_ = 0;
    }
    record = blocks_.back().get() + used_in_block_;
    used_in_block_ += static_cast<uint32_t>(need);
  }
  const uint32_t len = static_cast<uint32_t>(s.size());
  std::memcpy(record, &id, sizeof(id));
  std::memcpy(record + sizeof(id), &len, sizeof(len));
  if (!s.empty()) std::memcpy(record + kHeader, s.data(), s.size());
  return record;
}

void Interner::Grow() {
  const size_t capacity = slots_.empty() ? 16 : slots_.size() * 2;
  slots_.assign(capacity, 0);
  shift_ = 64;
  for (size_t c = capacity; c > 1; c >>= 1) --shift_;
  const size_t mask = capacity - 1;
  for (const char* record : records_) {
    const uint64_t h = Hash(RecordString(record));
    size_t i = Home(h);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = Slot(h, record);
  }
}

uint32_t Interner::Intern(std::string_view s) {
  const Key key = MakeKey(s);
  if (auto id = Find(key)) return *id;
  // Keep the table at most 3/4 full, so that probe sequences stay short.
  if ((records_.size() + 1) * 4 > slots_.size() * 3) Grow();
  const uint32_t id = static_cast<uint32_t>(records_.size());
  const char* record = Append(s, id);
  records_.push_back(record);
  const uint64_t h = key.hash;
  const size_t mask = slots_.size() - 1;
  size_t i = Home(h);
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = Slot(h, record);
  return id;
}

size_t Interner::MemoryBytes() const {
  size_t bytes = slots_.capacity() * sizeof(uint64_t) + records_.capacity() * sizeof(const char*);
  for (size_t i = 0; i < blocks_.size(); ++i)
    bytes += kBlockSize;  // oversized blocks: close enough
  return bytes;
}

}  // namespace gh::authz
