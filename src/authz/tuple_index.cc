#include "authz/tuple_index.h"

#include <algorithm>
#include <cstring>

namespace gh::authz {

template <typename T>
void SmallSortedVec<T>::InsertAt(size_t pos, T v) {
  if (cap_ == 0 && size_ == 0) {
    one_ = v;
    size_ = 1;
    return;
  }
  if (cap_ == 0) {  // spill the inline element
    T first = one_;
    T* heap = new T[4];
    heap[0] = first;
    heap_ = heap;
    cap_ = 4;
  } else if (size_ == cap_) {
    uint32_t ncap = cap_ * 2;
    T* heap = new T[ncap];
    std::memcpy(heap, heap_, size_ * sizeof(T));
    delete[] heap_;
    heap_ = heap;
    cap_ = ncap;
  }
  std::memmove(heap_ + pos + 1, heap_ + pos, (size_ - pos) * sizeof(T));
  heap_[pos] = v;
  ++size_;
}

template <typename T>
void SmallSortedVec<T>::EraseAt(size_t pos) {
  if (cap_ == 0) {
    size_ = 0;
    return;
  }
  std::memmove(heap_ + pos, heap_ + pos + 1, (size_ - pos - 1) * sizeof(T));
  --size_;
  if (size_ == 1) {  // back to inline
    T only = heap_[0];
    delete[] heap_;
    cap_ = 0;
    one_ = only;
  } else if (size_ == 0) {
    delete[] heap_;
    cap_ = 0;
  }
}

template class SmallSortedVec<uint64_t>;
template class SmallSortedVec<uint32_t>;

namespace {
// Subjects compare by (object, relation); the flags bits do not take part.
bool SubjectLess(uint64_t a, uint64_t b) { return (a >> 16) < (b >> 16); }
bool ObjectLess(uint32_t a, uint32_t b) { return a < b; }
}  // namespace

bool TupleIndex::Insert(uint32_t object, uint16_t relation, SubjectRef subject,
                        std::shared_ptr<const StoredCondition> condition) {
  uint64_t packed = Pack(subject.object, subject.relation, condition ? kHasCondition : 0);
  uint64_t fkey = ForwardKey(object, relation, subject.relation != 0);
  auto& list = forward_[fkey];
  size_t pos = list.LowerBound(packed, SubjectLess);
  auto s = list.span();
  if (pos < s.size() && (s[pos] >> 16) == (packed >> 16)) return false;
  list.InsertAt(pos, packed);
  auto& objects = reverse_[ReverseKey(subject, relation)];
  size_t opos = objects.LowerBound(object, ObjectLess);
  objects.InsertAt(opos, object);
  if (condition) conditions_[CondKey{fkey, packed >> 16}] = std::move(condition);
  ++size_;
  return true;
}

bool TupleIndex::Erase(uint32_t object, uint16_t relation, SubjectRef subject) {
  uint64_t packed = Pack(subject.object, subject.relation);
  uint64_t fkey = ForwardKey(object, relation, subject.relation != 0);
  auto it = forward_.find(fkey);
  if (it == forward_.end()) return false;
  size_t pos = it->second.LowerBound(packed, SubjectLess);
  auto s = it->second.span();
  if (pos >= s.size() || (s[pos] >> 16) != (packed >> 16)) return false;
  bool had_condition = s[pos] & kHasCondition;
  it->second.EraseAt(pos);
  if (it->second.empty()) forward_.erase(it);
  auto rit = reverse_.find(ReverseKey(subject, relation));
  if (rit != reverse_.end()) {
    size_t opos = rit->second.LowerBound(object, ObjectLess);
    auto os = rit->second.span();
    if (opos < os.size() && os[opos] == object) rit->second.EraseAt(opos);
    if (rit->second.empty()) reverse_.erase(rit);
  }
  if (had_condition) conditions_.erase(CondKey{fkey, packed >> 16});
  --size_;
  return true;
}

std::optional<uint64_t> TupleIndex::Find(uint32_t object, uint16_t relation,
                                         SubjectRef subject) const {
  uint64_t packed = Pack(subject.object, subject.relation);
  auto it = forward_.find(ForwardKey(object, relation, subject.relation != 0));
  if (it == forward_.end()) return std::nullopt;
  size_t pos = it->second.LowerBound(packed, SubjectLess);
  auto s = it->second.span();
  if (pos >= s.size() || (s[pos] >> 16) != (packed >> 16)) return std::nullopt;
  return s[pos];
}

const StoredCondition* TupleIndex::Condition(uint32_t object, uint16_t relation,
                                             uint64_t subject) const {
  bool userset = SubjectRelation(subject) != 0;
  auto it = conditions_.find(CondKey{ForwardKey(object, relation, userset), subject >> 16});
  return it == conditions_.end() ? nullptr : it->second.get();
}

size_t TupleIndex::MemoryBytes() const {
  size_t bytes =
      forward_.bucket_count() * (sizeof(uint64_t) + sizeof(SmallSortedVec<uint64_t>) + 1) +
      reverse_.bucket_count() * (sizeof(uint64_t) + sizeof(SmallSortedVec<uint32_t>) + 1);
  for (const auto& [k, v] : forward_) bytes += v.HeapBytes();
  for (const auto& [k, v] : reverse_) bytes += v.HeapBytes();
  bytes += conditions_.size() * (sizeof(CondKey) + 16 + sizeof(StoredCondition));
  return bytes;
}

void TupleIndex::ForEach(const std::function<void(uint32_t, uint16_t, uint64_t)>& fn) const {
  for (const auto& [key, list] : forward_) {
    uint32_t object = uint32_t(key >> 32);
    uint16_t relation = uint16_t((key >> 1) & 0x7FFF);
    for (uint64_t s : list.span()) fn(object, relation, s);
  }
}

}  // namespace gh::authz
