// StoreRegistry: every OpenFGA store of the gateway (one per tenant), by store id. Creates and
// deletes stores through AuthzPersistence and rebuilds all stores from it at start
// (LoadFromPersistence). The HTTP layer resolves a request's store here, then calls the Store.
//
// Thread-safe: the map is guarded by a reader/writer lock; Stores are shared_ptr and stay valid
// for requests in flight after a delete.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "authz/persistence.h"
#include "authz/store.h"

namespace gh::authz {

class StoreRegistry {
 public:
  // persistence may be null (memory only).
  StoreRegistry(AuthzPersistence* persistence, const Clock& clock, Random& random,
                StoreLimits limits = {});

  Status LoadFromPersistence();
  // A store as persisted (its models in order and its tuples), not yet registered.
  Result<std::shared_ptr<Store>> BuildStore(const StoreSnapshot& snapshot) const;
  // Keeping up with other processes sharing the persistence: registers a store one of them
  // created (already persisted), and forgets one that was deleted (without persisting anything).
  void Adopt(std::shared_ptr<Store> store);
  void Forget(const std::string& store_id);
  Result<std::shared_ptr<Store>> CreateStore(const std::string& name);
  Result<std::shared_ptr<Store>> GetStore(const std::string& store_id) const;
  Status DeleteStore(const std::string& store_id);
  std::vector<StoreRecord> ListStores() const;

 private:
  AuthzPersistence* persistence_;
  const Clock& clock_;
  Random& random_;
  StoreLimits limits_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<Store>> stores_;
};

}  // namespace gh::authz
