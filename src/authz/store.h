// Store: one OpenFGA store (one tenant's authorization data): immutable authorization model
// versions and the relationship tuples, kept in memory (interned, indexed) and written through
// AuthzPersistence before a write returns, so a check after a returned write sees it.
//
// The operations mirror OpenFGA's API: WriteAuthorizationModel / model lookup (a request may pin
// a model id; otherwise the latest is used), Write (writes and deletes in one all-or-nothing
// transaction), Read, Check, BatchCheck, ListObjects (complete, paginated with a continuation
// token), ListUsers and Expand. Errors are gh::Status values whose error_code() is OpenFGA's
// ("validation_error", "type_not_found", "relation_not_found", "invalid_tuple",
// "write_failed_due_to_invalid_input", "authorization_model_not_found", ...).
//
// Thread-safety: all methods may be called concurrently. Queries share a reader lock; writes and
// model writes take it exclusively (writes to one store are serialised).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "authz/checker.h"
#include "authz/interner.h"
#include "authz/model.h"
#include "authz/persistence.h"
#include "authz/tuple.h"
#include "authz/tuple_index.h"
#include "authz/typesystem.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"

namespace gh::authz {

struct StoreLimits {
  size_t max_tuples_per_write = 100;  // OpenFGA's default
  size_t max_contextual_tuples = 100;
  size_t max_checks_per_batch = 50;
  size_t default_list_objects_page = 1000;
  size_t default_read_page = 50;
};

struct CheckRequest {
  std::string user;
  std::string relation;
  std::string object;
  std::vector<TupleKey> contextual_tuples;
  boost::json::object context;
  std::string model_id;  // empty: the latest model
};

struct ListObjectsRequest {
  std::string user;
  std::string relation;
  std::string type;
  std::vector<TupleKey> contextual_tuples;
  boost::json::object context;
  std::string model_id;
  size_t page_size = 0;  // 0: StoreLimits::default_list_objects_page
  std::string continuation_token;
};

struct ListObjectsResponse {
  std::vector<std::string> objects;  // sorted; the next page continues after the last
  std::string continuation_token;    // empty on the last page
};

struct UserTypeFilter {
  std::string type;
  std::string relation;  // empty: objects of the type (and its wildcard)
};

struct ListUsersRequest {
  std::string object;
  std::string relation;
  std::vector<UserTypeFilter> user_filters;  // exactly one, as OpenFGA requires
  std::vector<TupleKey> contextual_tuples;
  boost::json::object context;
  std::string model_id;
};

struct ListUsersResponse {
  std::vector<std::string> users;  // "user:anne", "user:*", "group:eng#member"; sorted
};

struct WriteRequest {
  std::vector<TupleKey> writes;
  std::vector<TupleKey> deletes;
  std::string model_id;
  // OpenFGA's `on_duplicate: "ignore"`: a write of a tuple that exists with the same condition is
  // skipped (with another condition it still fails).
  bool ignore_duplicate_writes = false;
  // OpenFGA's `on_missing: "ignore"`: a delete of a tuple that does not exist is skipped.
  bool ignore_missing_deletes = false;
};

// Read filter, as OpenFGA's Read: object may be "type:" (all objects of a type) or "type:id";
// empty fields do not filter. Without an object, a type-only filter needs user or nothing.
struct ReadRequest {
  std::string object;
  std::string relation;
  std::string user;
  size_t page_size = 0;
  std::string continuation_token;
};

struct ReadResponse {
  std::vector<TupleKey> tuples;
  std::string continuation_token;
};

class Store {
 public:
  // persistence may be null (an in-memory store, e.g. for `fga test`).
  Store(StoreRecord record, AuthzPersistence* persistence, const Clock& clock, Random& random,
        StoreLimits limits = {});
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreRecord& record() const { return record_; }

  // Validates (OpenFGA's model rules and condition compilation), assigns a ULID, persists.
  Result<std::string> WriteAuthorizationModel(Model model);
  // The model with this id, or the latest when id is empty.
  Result<std::shared_ptr<const TypeSystem>> ResolveModel(std::string_view model_id) const;
  // Newest first.
  std::vector<std::shared_ptr<const TypeSystem>> Models() const;

  Status Write(const WriteRequest& request);
  Result<ReadResponse> Read(const ReadRequest& request) const;

  Result<bool> Check(const CheckRequest& request) const;
  // One result per request, in order; request-level errors are per item, as OpenFGA's BatchCheck.
  Result<std::vector<Result<bool>>> BatchCheck(const std::vector<CheckRequest>& requests) const;
  Result<ListObjectsResponse> ListObjects(const ListObjectsRequest& request) const;
  Result<ListUsersResponse> ListUsers(const ListUsersRequest& request) const;
  // OpenFGA's Expand response body: {"tree": {"root": {...}}}.
  Result<boost::json::value> Expand(const std::string& object, const std::string& relation,
                                    const std::string& model_id = "") const;

  // Loading at start (and bulk loading in tools and benchmarks): no persistence, no model checks.
  Status LoadModel(const Model& model);
  Status LoadTuples(const std::vector<TupleKey>& tuples);

  // Keeping up with other processes that share the store's persistence: applies the changes they
  // persisted (from the change log, in order), idempotently and without persisting them again: a
  // write replaces the tuple (its condition), a delete of an absent tuple does nothing.
  Status ApplyChanges(const std::vector<TupleChange>& changes);
  bool HasModel(std::string_view model_id) const;
  // Orders the loaded models as `ids` (oldest first), so that the latest is the last persisted;
  // loaded models missing from `ids` keep their place after those listed.
  void OrderModels(const std::vector<std::string>& ids);

  size_t TupleCount() const;
  size_t MemoryBytes() const;

 private:
  struct Resolved;
  // Under the lock: the model's position in models_, and the model itself (borrowed: models_
  // keeps it alive while the lock is held, so the hot path copies no shared_ptr).
  Result<size_t> ModelIndexLocked(std::string_view model_id) const;
  Result<const TypeSystem*> ResolveModelLocked(std::string_view model_id) const;
  Status ValidateTuple(const TypeSystem& ts, const TupleKey& t, bool for_write) const;
  Result<std::unique_ptr<Overlay>> BuildOverlay(const TypeSystem& ts,
                                                const std::vector<TupleKey>& tuples) const;
  Result<RequestUser> ResolveUser(const GraphView& view, const std::string& user) const;
  // `object` is the user's "type:id" part, hashed (p.object).
  Result<RequestUser> ResolveParsedUser(const GraphView& view, const ParsedUser& p,
                                        const Interner::Key& object) const;
  Status InsertLocked(const TupleKey& t);
  Result<bool> CheckLocked(const TypeSystem& ts, const CheckRequest& request) const;

  StoreRecord record_;
  AuthzPersistence* persistence_;
  const Clock& clock_;
  Random& random_;
  StoreLimits limits_;

  mutable std::shared_mutex mu_;
  Interner names_;
  Interner objects_;
  std::vector<uint32_t> object_info_;
  TupleIndex index_;
  std::vector<std::shared_ptr<const TypeSystem>> models_;  // oldest first
};

}  // namespace gh::authz
