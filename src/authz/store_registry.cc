#include "authz/store_registry.h"

#include <mutex>

#include "authz/errors.h"
#include "authz/model_json.h"
#include "authz/ulid.h"

namespace gh::authz {

StoreRegistry::StoreRegistry(AuthzPersistence* persistence, const Clock& clock, Random& random,
                             StoreLimits limits)
    : persistence_(persistence), clock_(clock), random_(random), limits_(limits) {}

Result<std::shared_ptr<Store>> StoreRegistry::BuildStore(const StoreSnapshot& snap) const {
  auto store = std::make_shared<Store>(snap.store, persistence_, clock_, random_, limits_);
  for (const auto& m : snap.models) {
    GH_ASSIGN_OR_RETURN(Model model, ModelFromJsonString(m.json));
    model.id = m.id;
    GH_RETURN_IF_ERROR(store->LoadModel(model));
  }
  GH_RETURN_IF_ERROR(store->LoadTuples(snap.tuples));
  return store;
}

Status StoreRegistry::LoadFromPersistence() {
  if (!persistence_) return Status::Ok();
  GH_ASSIGN_OR_RETURN(auto snapshots, persistence_->LoadAll());
  std::map<std::string, std::shared_ptr<Store>> loaded;
  for (const auto& snap : snapshots) {
    GH_ASSIGN_OR_RETURN(loaded[snap.store.id], BuildStore(snap));
  }
  std::unique_lock lock(mu_);
  stores_ = std::move(loaded);
  return Status::Ok();
}

void StoreRegistry::Adopt(std::shared_ptr<Store> store) {
  std::unique_lock lock(mu_);
  stores_.emplace(store->record().id, std::move(store));
}

void StoreRegistry::Forget(const std::string& store_id) {
  std::unique_lock lock(mu_);
  stores_.erase(store_id);
}

Result<std::shared_ptr<Store>> StoreRegistry::CreateStore(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return errors::ValidationError(
        "invalid CreateStoreRequest.Name: value length must be between 3 and 64 runes");
  }
  StoreRecord record{NewUlid(clock_, random_), name, clock_.NowUnixMillis(),
                     clock_.NowUnixMillis()};
  if (persistence_) GH_RETURN_IF_ERROR(persistence_->CreateStore(record));
  auto store = std::make_shared<Store>(record, persistence_, clock_, random_, limits_);
  std::unique_lock lock(mu_);
  stores_[record.id] = store;
  return store;
}

Result<std::shared_ptr<Store>> StoreRegistry::GetStore(const std::string& store_id) const {
  std::shared_lock lock(mu_);
  auto it = stores_.find(store_id);
  if (it == stores_.end()) return errors::StoreNotFound(store_id);
  return it->second;
}

Status StoreRegistry::DeleteStore(const std::string& store_id) {
  std::unique_lock lock(mu_);
  if (!stores_.count(store_id)) return errors::StoreNotFound(store_id);
  if (persistence_) GH_RETURN_IF_ERROR(persistence_->DeleteStore(store_id));
  stores_.erase(store_id);
  return Status::Ok();
}

std::vector<StoreRecord> StoreRegistry::ListStores() const {
  std::shared_lock lock(mu_);
  std::vector<StoreRecord> out;
  for (const auto& [id, s] : stores_) out.push_back(s->record());
  return out;
}

}  // namespace gh::authz
