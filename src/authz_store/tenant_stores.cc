#include "authz_store/tenant_stores.h"

#include <mutex>
#include <set>

#include "authz/errors.h"
#include "authz/model_json.h"
#include "common/log.h"
#include "storage/authz_repository.h"

namespace gh::authz_store {

TenantStores::TenantStores(storage::Database& db, const Clock& clock, Random& random,
                           authz::StoreLimits limits)
    : db_(db), clock_(clock), random_(random), limits_(limits) {}

std::unique_ptr<TenantStores::Tenant> TenantStores::MakeTenant(const TenantId& tenant) const {
  auto t = std::make_unique<Tenant>();
  t->persistence = std::make_unique<SqlAuthzPersistence>(db_, tenant);
  t->registry =
      std::make_unique<authz::StoreRegistry>(t->persistence.get(), clock_, random_, limits_);
  return t;
}

TenantStores::~TenantStores() {
  {
    std::lock_guard<std::mutex> lock(thread_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

Status TenantStores::Load() {
  std::lock_guard<std::mutex> refreshing(refresh_mu_);
  // The sequence numbers are read before the stores: a change made in between is in memory and
  // applied again by the next refresh, which is harmless.
  std::vector<storage::AuthzStoreState> states;
  std::vector<TenantId> tenants;
  GH_RETURN_IF_ERROR(db_.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(states, storage::authz_stores::States(tx));
    GH_ASSIGN_OR_RETURN(tenants, storage::authz_stores::TenantsWithStores(tx));
    return Status::Ok();
  }));
  std::map<TenantId, std::unique_ptr<Tenant>> loaded;
  for (const auto& id : tenants) {
    auto t = MakeTenant(id);
    if (Status st = t->registry->LoadFromPersistence(); !st.ok()) {
      return std::move(st).Annotate("loading the authorization stores of tenant " + id.value());
    }
    loaded[id] = std::move(t);
  }
  for (const auto& s : states) {
    auto it = loaded.find(s.tenant_id);
    if (it != loaded.end()) it->second->applied[s.store_id] = s.seq;
  }
  std::unique_lock lock(mu_);
  tenants_ = std::move(loaded);
  return Status::Ok();
}

Status TenantStores::Refresh() {
  std::lock_guard<std::mutex> refreshing(refresh_mu_);
  // Only stores known before the database is read may be forgotten: one created here meanwhile
  // is persisted before it is registered, but may be missing from what was read.
  std::map<TenantId, std::vector<std::string>> known;
  {
    std::shared_lock lock(mu_);
    for (const auto& [tenant, t] : tenants_) {
      for (const auto& record : t->registry->ListStores()) known[tenant].push_back(record.id);
    }
  }
  std::vector<storage::AuthzStoreState> states;
  GH_RETURN_IF_ERROR(db_.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(states, storage::authz_stores::States(tx));
    return Status::Ok();
  }));
  Status first_error;
  std::map<TenantId, std::set<std::string>> present;
  for (const auto& s : states) {
    present[s.tenant_id].insert(s.store_id);
    Status st = RefreshStore(FindOrCreate(s.tenant_id), s.store_id, s.seq);
    if (!st.ok() && first_error.ok()) {
      first_error = std::move(st).Annotate("refreshing authorization store " + s.store_id);
    }
  }
  for (const auto& [tenant, ids] : known) {
    Tenant* t = Find(tenant);
    const auto& still = present[tenant];
    for (const auto& id : ids) {
      if (still.count(id)) continue;
      t->registry->Forget(id);  // deleted by another process
      t->applied.erase(id);
    }
  }
  return first_error;
}

Status TenantStores::RefreshStore(Tenant& t, const std::string& store_id, int64_t seq) {
  auto store = t.registry->GetStore(store_id);
  if (!store.ok()) {
    // Created by another process: load it whole.
    auto snapshot = t.persistence->LoadStore(store_id);
    if (!snapshot.ok()) {
      if (snapshot.status().code() == StatusCode::kNotFound) return Status::Ok();  // gone again
      return std::move(snapshot).status();
    }
    GH_ASSIGN_OR_RETURN(auto built, t.registry->BuildStore(*snapshot));
    t.registry->Adopt(std::move(built));
    t.applied[store_id] = seq;
    return Status::Ok();
  }
  int64_t& applied = t.applied[store_id];
  if (seq <= applied) return Status::Ok();
  GH_ASSIGN_OR_RETURN(auto delta, t.persistence->ReadSince(store_id, applied));
  if (delta.new_models) {
    std::vector<std::string> order;
    for (const auto& m : delta.models) {
      order.push_back(m.id);
      if ((*store)->HasModel(m.id)) continue;
      GH_ASSIGN_OR_RETURN(authz::Model model, authz::ModelFromJsonString(m.json));
      model.id = m.id;
      GH_RETURN_IF_ERROR((*store)->LoadModel(model));
    }
    (*store)->OrderModels(order);
  }
  if (!delta.changes.empty()) GH_RETURN_IF_ERROR((*store)->ApplyChanges(delta.changes));
  applied = delta.last_seq;
  return Status::Ok();
}

void TenantStores::StartRefreshing(std::chrono::milliseconds interval) {
  std::lock_guard<std::mutex> lock(thread_mu_);
  if (refresher_.joinable()) return;
  refresher_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(thread_mu_);
    while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
      lock.unlock();
      if (Status st = Refresh(); !st.ok()) {
        log::Warn("authorization refresh failed", {{"error", st.message()}});
      }
      lock.lock();
    }
  });
}

TenantStores::Tenant* TenantStores::Find(const TenantId& tenant) const {
  std::shared_lock lock(mu_);
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? nullptr : it->second.get();
}

TenantStores::Tenant& TenantStores::FindOrCreate(const TenantId& tenant) {
  if (Tenant* t = Find(tenant)) return *t;
  std::unique_lock lock(mu_);
  auto& slot = tenants_[tenant];
  if (!slot) slot = MakeTenant(tenant);
  return *slot;
}

Result<std::shared_ptr<authz::Store>> TenantStores::CreateStore(const TenantId& tenant,
                                                                const std::string& name) {
  return FindOrCreate(tenant).registry->CreateStore(name);
}

Result<std::shared_ptr<authz::Store>> TenantStores::GetStore(const TenantId& tenant,
                                                             const std::string& store_id) const {
  Tenant* t = Find(tenant);
  if (!t) return authz::errors::StoreNotFound(store_id);
  return t->registry->GetStore(store_id);
}

Status TenantStores::DeleteStore(const TenantId& tenant, const std::string& store_id) {
  Tenant* t = Find(tenant);
  if (!t) return authz::errors::StoreNotFound(store_id);
  return t->registry->DeleteStore(store_id);
}

std::vector<authz::StoreRecord> TenantStores::ListStores(const TenantId& tenant) const {
  Tenant* t = Find(tenant);
  if (!t) return {};
  return t->registry->ListStores();
}

std::shared_ptr<authz::Store> TenantStores::AgentStore(const TenantId& tenant) const {
  Tenant* t = Find(tenant);
  if (!t) return nullptr;
  // ListStores is ordered by id; a store deleted in between simply yields the next call's answer.
  for (const auto& record : t->registry->ListStores()) {
    auto store = t->registry->GetStore(record.id);
    if (store.ok()) return *store;
  }
  return nullptr;
}

Result<authz::ChangesPage> TenantStores::ReadChanges(const TenantId& tenant,
                                                     const std::string& store_id,
                                                     const std::string& type, int64_t start_time_ms,
                                                     size_t page_size,
                                                     const std::string& continuation_token) {
  Tenant* t = Find(tenant);
  if (!t) return authz::errors::StoreNotFound(store_id);
  GH_RETURN_IF_ERROR(t->registry->GetStore(store_id).status());
  return t->persistence->ReadChangesSince(store_id, type, start_time_ms, page_size,
                                          continuation_token);
}

Result<std::vector<int64_t>> TenantStores::WrittenAt(const TenantId& tenant,
                                                     const std::string& store_id,
                                                     const std::vector<authz::TupleKey>& tuples) {
  Tenant* t = Find(tenant);
  if (!t) return authz::errors::StoreNotFound(store_id);
  return t->persistence->WrittenAt(store_id, tuples);
}

}  // namespace gh::authz_store
