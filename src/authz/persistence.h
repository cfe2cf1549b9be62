// AuthzPersistence: the seam between the authorization engine and durable storage. The engine
// keeps every store's models and tuples in memory and writes through this interface before a
// write returns; at start it loads everything back. The storage module implements it for SQLite
// and PostgreSQL; MemoryPersistence (memory_persistence.h) serves tests and tools.
//
// Contract for implementations: each call is atomic (AppendChanges writes all of its changes or
// none), calls for one store arrive serialised, and implementations must be safe to call from
// any thread. Errors are Status values (never exceptions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authz/tuple.h"
#include "common/status.h"

namespace gh::authz {

struct StoreRecord {
  std::string id;
  std::string name;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct ModelRecord {
  std::string id;
  std::string json;  // ModelToJson, including the id
  int64_t created_at_ms = 0;
};

enum class TupleOperation { kWrite, kDelete };

struct TupleChange {
  TupleKey tuple;
  TupleOperation operation = TupleOperation::kWrite;
  int64_t timestamp_ms = 0;
};

struct StoreSnapshot {
  StoreRecord store;
  std::vector<ModelRecord> models;  // oldest first
  std::vector<TupleKey> tuples;
};

struct ChangesPage {
  std::vector<TupleChange> changes;
  std::string continuation_token;  // empty when there are no more
};

class AuthzPersistence {
 public:
  virtual ~AuthzPersistence() = default;

  virtual Status CreateStore(const StoreRecord& store) = 0;
  virtual Status DeleteStore(const std::string& store_id) = 0;
  virtual Status SaveModel(const std::string& store_id, const ModelRecord& model) = 0;
  // Appends one transaction: the tuple writes and deletes, and their change-log entries.
  virtual Status AppendChanges(const std::string& store_id,
                               const std::vector<TupleChange>& changes) = 0;
  virtual Result<std::vector<StoreSnapshot>> LoadAll() = 0;
  // The change log in write order; `type` filters on the object type when not empty. The token
  // is opaque to callers.
  virtual Result<ChangesPage> ReadChanges(const std::string& store_id, const std::string& type,
                                          size_t page_size,
                                          const std::string& continuation_token) = 0;
};

}  // namespace gh::authz
