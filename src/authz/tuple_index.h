// TupleIndex: the in-memory indexes of a store's relationship tuples, over interned ids.
//
//   forward:  (object, relation) -> sorted subjects, split into direct subjects (objects and
//             wildcards) and usersets, so a direct check is one hash lookup plus a binary search
//   reverse:  (subject, relation) -> objects, for ListObjects
//   conditions: only for the tuples that carry one
//
// A subject is packed in 64 bits: subject object id (32) | subject relation id (16) | flags
// (16, bit 0 = has a condition). Lists hold one element inline and spill to the heap, which keeps
// a tuple's cost to roughly two list entries plus its share of two hash slots.
//
// Not synchronised: Store holds a reader/writer lock around it.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "authz/cel/value.h"
#include "authz/tuple.h"

namespace gh::authz {

// A tuple's condition as stored: its name, the context as written (for reads), and the context
// converted to CEL values (for evaluation).
struct StoredCondition {
  std::string name;
  boost::json::object context_json;
  std::vector<std::pair<std::string, cel::Value>> context;
};

template <typename T>
class SmallSortedVec {
 public:
  SmallSortedVec() : one_() {}
  SmallSortedVec(const SmallSortedVec&) = delete;
  SmallSortedVec& operator=(const SmallSortedVec&) = delete;
  SmallSortedVec(SmallSortedVec&& o) noexcept : size_(o.size_), cap_(o.cap_) {
    if (cap_) {
      heap_ = o.heap_;
    } else {
      one_ = o.one_;
    }
    o.size_ = o.cap_ = 0;
  }
  SmallSortedVec& operator=(SmallSortedVec&& o) noexcept {
    if (this != &o) {
      if (cap_) delete[] heap_;
      size_ = o.size_;
      cap_ = o.cap_;
      if (cap_) {
        heap_ = o.heap_;
      } else {
        one_ = o.one_;
      }
      o.size_ = o.cap_ = 0;
    }
    return *this;
  }
  ~SmallSortedVec() {
    if (cap_) delete[] heap_;
  }

  std::span<const T> span() const {
    return cap_ ? std::span<const T>(heap_, size_) : std::span<const T>(&one_, size_);
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t HeapBytes() const { return cap_ * sizeof(T); }

  // Inserts keeping order; `pos` from LowerBound.
  void InsertAt(size_t pos, T v);
  void EraseAt(size_t pos);
  template <typename Less>
  size_t LowerBound(const T& v, Less less) const {
    auto s = span();
    size_t lo = 0, hi = s.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (less(s[mid], v)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

 private:
  uint32_t size_ = 0;
  uint32_t cap_ = 0;  // 0: the element (if any) is inline
  union {
    T one_;
    T* heap_;
  };
};

struct SubjectRef {
  uint32_t object = 0;
  uint16_t relation = 0;  // 0 unless a userset
};

class TupleIndex {
 public:
  static constexpr uint64_t kHasCondition = 1;
  static uint64_t Pack(uint32_t obj, uint16_t rel, uint16_t flags = 0) {
    return (uint64_t(obj) << 32) | (uint64_t(rel) << 16) | flags;
  }
  static uint32_t SubjectObject(uint64_t s) { return uint32_t(s >> 32); }
  static uint16_t SubjectRelation(uint64_t s) { return uint16_t(s >> 16); }
  static bool SubjectHasCondition(uint64_t s) { return s & kHasCondition; }

  // False when the tuple is already present.
  bool Insert(uint32_t object, uint16_t relation, SubjectRef subject,
              std::shared_ptr<const StoredCondition> condition);
  // False when the tuple is absent.
  bool Erase(uint32_t object, uint16_t relation, SubjectRef subject);
  // The packed subject when present (flags tell whether it has a condition).
  std::optional<uint64_t> Find(uint32_t object, uint16_t relation, SubjectRef subject) const;

  std::span<const uint64_t> Direct(uint32_t object, uint16_t relation) const {
    return List(ForwardKey(object, relation, false));
  }
  std::span<const uint64_t> Usersets(uint32_t object, uint16_t relation) const {
    return List(ForwardKey(object, relation, true));
  }
  std::span<const uint32_t> Objects(SubjectRef subject, uint16_t relation) const {
    auto it = reverse_.find(ReverseKey(subject, relation));
    return it == reverse_.end() ? std::span<const uint32_t>() : it->second.span();
  }
  const StoredCondition* Condition(uint32_t object, uint16_t relation, uint64_t subject) const;

  size_t size() const { return size_; }
  size_t MemoryBytes() const;

  // Visits every tuple: (object, relation, packed subject).
  void ForEach(const std::function<void(uint32_t, uint16_t, uint64_t)>& fn) const;

 private:
  static uint64_t ForwardKey(uint32_t object, uint16_t relation, bool userset) {
    return (uint64_t(object) << 32) | (uint64_t(relation) << 1) | (userset ? 1 : 0);
  }
  static uint64_t ReverseKey(SubjectRef s, uint16_t relation) {
    return (uint64_t(s.object) << 32) | (uint64_t(s.relation) << 16) | relation;
  }
  std::span<const uint64_t> List(uint64_t key) const {
    auto it = forward_.find(key);
    return it == forward_.end() ? std::span<const uint64_t>() : it->second.span();
  }
  struct CondKey {
    uint64_t forward;
    uint64_t subject;
    bool operator==(const CondKey&) const = default;
  };
  struct CondKeyHash {
    size_t operator()(const CondKey& k) const {
      return std::hash<uint64_t>()(k.forward * 0x9E3779B97F4A7C15ULL ^ k.subject);
    }
  };

  boost::unordered_flat_map<uint64_t, SmallSortedVec<uint64_t>> forward_;
  boost::unordered_flat_map<uint64_t, SmallSortedVec<uint32_t>> reverse_;
  boost::unordered_flat_map<CondKey, std::shared_ptr<const StoredCondition>, CondKeyHash>
      conditions_;
  size_t size_ = 0;
};

}  // namespace gh::authz
