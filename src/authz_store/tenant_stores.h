// TenantStores: every tenant's OpenFGA stores, kept in memory by the authz engine and durably in
// the database. Each tenant has its own StoreRegistry over its own SqlAuthzPersistence, so
// isolation is structural: a tenant's lookups only ever see that tenant's stores, and a store id
// of another tenant answers store_id_not_found exactly like an unknown one. Checks never touch the
// database; writes go through to it before they return.
//
// The agent's store: a tenant may hold several stores (as OpenFGA allows); the agent authorizes
// tools and filters documents against the tenant's oldest store (the smallest ULID), so scratch
// stores created later do not change what the agent allows.
//
// Several processes on one database (replicas on PostgreSQL): each keeps its own memory, and
// Refresh (run every interval by StartRefreshing) catches up with what the others persisted —
// stores created and deleted, model versions, tuple writes and deletes, read from the change log
// after the last sequence number applied. A write is visible at once in the process that made it
// and within one refresh interval in the others; checks never wait for the database.
//
// Thread-safe: the tenant map is guarded by a reader/writer lock; registries and stores are
// thread-safe themselves; Refresh is serialised with itself. Registries live as long as this
// object.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "authz/store.h"
#include "authz/store_registry.h"
#include "authz_store/sql_persistence.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/random.h"
#include "storage/database.h"

namespace gh::authz_store {

class TenantStores {
 public:
  // db, clock and random are borrowed and must outlive this object.
  TenantStores(storage::Database& db, const Clock& clock, Random& random,
               authz::StoreLimits limits = {});
  TenantStores(const TenantStores&) = delete;
  TenantStores& operator=(const TenantStores&) = delete;
  ~TenantStores();  // stops the refresh thread, if started

  // Loads every tenant's stores (models and tuples) into memory; at start, before serving.
  Status Load();
  // Applies what other processes persisted since the last Load or Refresh (see above). A store
  // that fails to refresh is retried next time; the first error is returned.
  Status Refresh();
  // Calls Refresh every `interval` on a background thread until this object is destroyed.
  void StartRefreshing(std::chrono::milliseconds interval);

  Result<std::shared_ptr<authz::Store>> CreateStore(const TenantId& tenant,
                                                    const std::string& name);
  Result<std::shared_ptr<authz::Store>> GetStore(const TenantId& tenant,
                                                 const std::string& store_id) const;
  Status DeleteStore(const TenantId& tenant, const std::string& store_id);
  // By id (ULIDs: oldest first).
  std::vector<authz::StoreRecord> ListStores(const TenantId& tenant) const;
  // The store the agent uses (see above); null when the tenant has none.
  std::shared_ptr<authz::Store> AgentStore(const TenantId& tenant) const;

  // The store's change log (OpenFGA ReadChanges), from the database.
  Result<authz::ChangesPage> ReadChanges(const TenantId& tenant, const std::string& store_id,
                                         const std::string& type, int64_t start_time_ms,
                                         size_t page_size, const std::string& continuation_token);
  // When each tuple was written (unix ms; 0 if unknown), for OpenFGA Read's timestamps.
  Result<std::vector<int64_t>> WrittenAt(const TenantId& tenant, const std::string& store_id,
                                         const std::vector<authz::TupleKey>& tuples);

 private:
  struct Tenant {
    std::unique_ptr<SqlAuthzPersistence> persistence;
    std::unique_ptr<authz::StoreRegistry> registry;
    // Per store: the last sequence number whose change is in memory (guarded by refresh_mu_).
    std::map<std::string, int64_t> applied;
  };
  Status RefreshStore(Tenant& tenant, const std::string& store_id, int64_t seq);
  std::unique_ptr<Tenant> MakeTenant(const TenantId& tenant) const;
  // Null when the tenant has no registry yet.
  Tenant* Find(const TenantId& tenant) const;
  Tenant& FindOrCreate(const TenantId& tenant);

  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  authz::StoreLimits limits_;
  mutable std::shared_mutex mu_;
  std::map<TenantId, std::unique_ptr<Tenant>> tenants_;

  std::mutex refresh_mu_;
  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace gh::authz_store
