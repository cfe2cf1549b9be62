// GraphView: what one request sees of a store: the model version it resolved against, the
// store's tuples, and optionally the request's contextual tuples (an Overlay with its own small
// id space above kOverlayBase). All ids are the store's interned ids. Borrowed references only:
// the Store keeps everything alive and holds its read lock for the request's duration.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authz/interner.h"
#include "authz/tuple_index.h"
#include "authz/typesystem.h"

namespace gh::authz {

constexpr uint32_t kOverlayBase = 0x80000000u;
constexpr uint32_t kUnknownObject = 0xFFFFFFFFu;  // a user never seen in any tuple

// Per object id: its type name id (low 16 bits) and whether it is a wildcard (bit 16).
constexpr uint32_t kWildcardBit = 1u << 16;

// Contextual tuples of one request, indexed like the store's tuples. Objects not known to the
// store get ids from kOverlayBase up.
struct Overlay {
  Interner objects;
  std::vector<uint32_t> info;
  TupleIndex index;
};

class GraphView {
 public:
  GraphView(const TypeSystem& ts, const Interner& names, const Interner& objects,
            const std::vector<uint32_t>& info, const TupleIndex& index, const Overlay* overlay)
      : ts_(ts), names_(names), objects_(objects), info_(info), index_(index), overlay_(overlay) {}

  const TypeSystem& ts() const { return ts_; }
  const Interner& names() const { return names_; }
  const Overlay* overlay() const { return overlay_; }

  std::optional<uint32_t> FindObject(std::string_view s) const {
    return FindObject(Interner::MakeKey(s));
  }
  std::optional<uint32_t> FindObject(const Interner::Key& key) const {
    if (auto id = objects_.Find(key)) return id;
    if (overlay_) {
      if (auto id = overlay_->objects.Find(key)) return kOverlayBase + *id;
    }
    return std::nullopt;
  }
  std::optional<uint16_t> FindName(std::string_view s) const {
    auto id = names_.Find(s);
    if (!id) return std::nullopt;
    return static_cast<uint16_t>(*id);
  }
  uint32_t Info(uint32_t id) const {
    return id >= kOverlayBase ? overlay_->info[id - kOverlayBase] : info_[id];
  }
  uint16_t TypeOf(uint32_t id) const { return static_cast<uint16_t>(Info(id) & 0xFFFF); }
  bool IsWildcard(uint32_t id) const { return Info(id) & kWildcardBit; }
  std::string_view ObjectName(uint32_t id) const {
    return id >= kOverlayBase ? overlay_->objects.Str(id - kOverlayBase) : objects_.Str(id);
  }
  std::string_view Name(uint16_t id) const { return names_.Str(id); }
  // "group:x#member" / "user:anne"
  std::string SubjectName(uint64_t packed) const {
    std::string out(ObjectName(TupleIndex::SubjectObject(packed)));
    uint16_t rel = TupleIndex::SubjectRelation(packed);
    if (rel) {
      out += '#';
      out += Name(rel);
    }
    return out;
  }

  template <typename Fn>
  void ForEachDirect(uint32_t object, uint16_t relation, Fn&& fn) const {
    for (uint64_t s : index_.Direct(object, relation)) fn(s, index_);
    if (overlay_) {
      for (uint64_t s : overlay_->index.Direct(object, relation)) fn(s, overlay_->index);
    }
  }
  template <typename Fn>
  void ForEachUserset(uint32_t object, uint16_t relation, Fn&& fn) const {
    for (uint64_t s : index_.Usersets(object, relation)) fn(s, index_);
    if (overlay_) {
      for (uint64_t s : overlay_->index.Usersets(object, relation)) fn(s, overlay_->index);
    }
  }
  template <typename Fn>
  void ForEachObject(SubjectRef subject, uint16_t relation, Fn&& fn) const {
    for (uint32_t o : index_.Objects(subject, relation)) fn(o);
    if (overlay_) {
      for (uint32_t o : overlay_->index.Objects(subject, relation)) fn(o);
    }
  }
  // The packed subject and the index holding it, when the tuple exists.
  std::optional<std::pair<uint64_t, const TupleIndex*>> Find(uint32_t object, uint16_t relation,
                                                             SubjectRef subject) const {
    if (auto s = index_.Find(object, relation, subject)) return std::make_pair(*s, &index_);
    if (overlay_) {
      if (auto s = overlay_->index.Find(object, relation, subject)) {
        return std::make_pair(*s, &overlay_->index);
      }
    }
    return std::nullopt;
  }

 private:
  const TypeSystem& ts_;
  const Interner& names_;
  const Interner& objects_;
  const std::vector<uint32_t>& info_;
  const TupleIndex& index_;
  const Overlay* overlay_;
};

}  // namespace gh::authz
