#include "authz_store/tenant_stores.h"

#include <mutex>

#include "authz/errors.h"
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

Status TenantStores::Load() {
  std::vector<TenantId> tenants;
  GH_RETURN_IF_ERROR(db_.Read([&](storage::Tx& tx) -> Status {
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
  std::unique_lock lock(mu_);
  tenants_ = std::move(loaded);
  return Status::Ok();
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
                                                     const std::string& type,
                                                     int64_t start_time_ms, size_t page_size,
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
