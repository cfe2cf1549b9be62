#include "authz/memory_persistence.h"

#include "authz/errors.h"

namespace gh::authz {

Status MemoryPersistence::MaybeFail() {
  if (fail_next_) {
    fail_next_ = false;
    return Status::Unavailable("persistence unavailable (injected failure)");
  }
  return Status::Ok();
}

Status MemoryPersistence::CreateStore(const StoreRecord& store) {
  std::lock_guard<std::mutex> lock(mu_);
  GH_RETURN_IF_ERROR(MaybeFail());
  if (stores_.count(store.id)) return Status::Conflict("store already exists");
  stores_[store.id].record = store;
  return Status::Ok();
}

Status MemoryPersistence::DeleteStore(const std::string& store_id) {
  std::lock_guard<std::mutex> lock(mu_);
  GH_RETURN_IF_ERROR(MaybeFail());
  stores_.erase(store_id);
  return Status::Ok();
}

Status MemoryPersistence::SaveModel(const std::string& store_id, const ModelRecord& model) {
  std::lock_guard<std::mutex> lock(mu_);
  GH_RETURN_IF_ERROR(MaybeFail());
  auto it = stores_.find(store_id);
  if (it == stores_.end()) return errors::StoreNotFound(store_id);
  it->second.models.push_back(model);
  return Status::Ok();
}

Status MemoryPersistence::AppendChanges(const std::string& store_id,
                                        const std::vector<TupleChange>& changes) {
  std::lock_guard<std::mutex> lock(mu_);
  GH_RETURN_IF_ERROR(MaybeFail());
  auto it = stores_.find(store_id);
  if (it == stores_.end()) return errors::StoreNotFound(store_id);
  for (const auto& c : changes) {
    if (c.operation == TupleOperation::kWrite) {
      it->second.tuples[c.tuple.ToString()] = c.tuple;
    } else {
      it->second.tuples.erase(c.tuple.ToString());
    }
    it->second.changes.push_back(c);
  }
  return Status::Ok();
}

Result<std::vector<StoreSnapshot>> MemoryPersistence::LoadAll() {
  std::lock_guard<std::mutex> lock(mu_);
  GH_RETURN_IF_ERROR(MaybeFail());
  std::vector<StoreSnapshot> out;
  for (const auto& [id, data] : stores_) {
    StoreSnapshot s;
    s.store = data.record;
    s.models = data.models;
    for (const auto& [k, t] : data.tuples) s.tuples.push_back(t);
    out.push_back(std::move(s));
  }
  return out;
}

Result<ChangesPage> MemoryPersistence::ReadChanges(const std::string& store_id,
                                                   const std::string& type, size_t page_size,
                                                   const std::string& continuation_token) {
  std::lock_guard<std::mutex> lock(mu_);
  GH_RETURN_IF_ERROR(MaybeFail());
  auto it = stores_.find(store_id);
  if (it == stores_.end()) return errors::StoreNotFound(store_id);
  size_t start = 0;
  if (!continuation_token.empty()) {
    try {
      start = std::stoull(continuation_token);
    } catch (...) {
      return errors::InvalidContinuationToken();
    }
  }
  if (page_size == 0) page_size = 50;
  ChangesPage page;
  const auto& changes = it->second.changes;
  size_t i = start;
  for (; i < changes.size() && page.changes.size() < page_size; ++i) {
    const auto& c = changes[i];
    if (!type.empty() && c.tuple.object.compare(0, type.size() + 1, type + ":") != 0) continue;
    page.changes.push_back(c);
  }
  // OpenFGA returns a token even at the end, so that clients can poll for later changes.
  page.continuation_token = std::to_string(i);
  return page;
}

}  // namespace gh::authz
