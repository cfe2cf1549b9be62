// SqlAuthzPersistence: authz::AuthzPersistence over storage::Database for one tenant. Every row it
// reads or writes carries that tenant, so a store id of another tenant is as absent as an unknown
// one. Each call is one unit of work: AppendChanges writes the tuples and their change-log entries
// together or not at all. The change log and model versions share one per-store sequence number
// (authz_stores.seq), which orders model versions on load and pages the change log.
//
// Thread-safe (the Database is); the engine serialises calls for one store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "authz/persistence.h"
#include "common/ids.h"
#include "storage/database.h"

namespace gh::authz_store {

class SqlAuthzPersistence final : public authz::AuthzPersistence {
 public:
  // db is borrowed and must outlive this object.
  SqlAuthzPersistence(storage::Database& db, TenantId tenant)
      : db_(db), tenant_(std::move(tenant)) {}

  const TenantId& tenant() const { return tenant_; }

  Status CreateStore(const authz::StoreRecord& store) override;
  Status DeleteStore(const std::string& store_id) override;
  Status SaveModel(const std::string& store_id, const authz::ModelRecord& model) override;
  Status AppendChanges(const std::string& store_id,
                       const std::vector<authz::TupleChange>& changes) override;
  Result<std::vector<authz::StoreSnapshot>> LoadAll() override;
  Result<authz::ChangesPage> ReadChanges(const std::string& store_id, const std::string& type,
                                         size_t page_size,
                                         const std::string& continuation_token) override;

  // ReadChanges with OpenFGA's start_time: only changes at or after `start_time_ms` (0: all).
  Result<authz::ChangesPage> ReadChangesSince(const std::string& store_id, const std::string& type,
                                              int64_t start_time_ms, size_t page_size,
                                              const std::string& continuation_token);
  // When each tuple was written (unix ms), 0 for a tuple the database does not hold.
  Result<std::vector<int64_t>> WrittenAt(const std::string& store_id,
                                         const std::vector<authz::TupleKey>& tuples);

  // Keeping up with other processes (TenantStores::Refresh).
  // One store as persisted; NotFound when it is gone.
  Result<authz::StoreSnapshot> LoadStore(const std::string& store_id);
  struct Delta {
    std::vector<authz::ModelRecord> models;   // every model of the store, oldest first
    bool new_models = false;                  // some model has a number after the one given
    std::vector<authz::TupleChange> changes;  // the changes numbered after it, in order
    int64_t last_seq = 0;                     // the last number read (the one given if none)
  };
  Result<Delta> ReadSince(const std::string& store_id, int64_t after_seq);

 private:
  storage::Database& db_;
  const TenantId tenant_;
};

}  // namespace gh::authz_store
