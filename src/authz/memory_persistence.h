// MemoryPersistence: AuthzPersistence kept in process memory, for tests, tools and benchmarks.
// It stores what a database would (stores, model JSON, tuples, the change log) and can be told
// to fail the next call, to test that a failed write leaves the engine unchanged.
// Thread-safe (one mutex).
#pragma once

#include <map>
#include <mutex>

#include "authz/persistence.h"

namespace gh::authz {

class MemoryPersistence final : public AuthzPersistence {
 public:
  Status CreateStore(const StoreRecord& store) override;
  Status DeleteStore(const std::string& store_id) override;
  Status SaveModel(const std::string& store_id, const ModelRecord& model) override;
  Status AppendChanges(const std::string& store_id,
                       const std::vector<TupleChange>& changes) override;
  Result<std::vector<StoreSnapshot>> LoadAll() override;
  Result<ChangesPage> ReadChanges(const std::string& store_id, const std::string& type,
                                  size_t page_size, const std::string& continuation_token) override;

  // The next call fails with Unavailable (once).
  void FailNextCall() {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_ = true;
  }

 private:
  struct StoreData {
    StoreRecord record;
    std::vector<ModelRecord> models;
    std::map<std::string, TupleKey> tuples;  // by ToString()
    std::vector<TupleChange> changes;
  };
  Status MaybeFail();

  std::mutex mu_;
  std::map<std::string, StoreData> stores_;
  bool fail_next_ = false;
};

}  // namespace gh::authz
