// Repositories for fine-grained authorization and the agent's document collection: OpenFGA stores,
// model versions, relationship tuples and their change log (the durable side of the in-memory
// authz engine, see authz/persistence.h), the audit log of tool authorization decisions, and
// per-tenant documents. Plain rows of strings and numbers: storage knows nothing of the engine.
// Every function on tenant data takes the TenantId and filters by it; a store id of another
// tenant is as absent as an unknown one. Run inside a caller's Database::Read / Write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "storage/database.h"

namespace gh::storage {

struct AuthzStoreRow {
  std::string id;
  std::string name;
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t seq = 0;  // the last number of the store's sequence in use (set by reads)
};

struct AuthzStoreState {
  TenantId tenant_id;
  std::string store_id;
  int64_t seq = 0;
};

struct AuthzModelRow {
  std::string id;
  std::string definition;  // the model as OpenFGA JSON
  int64_t created_at = 0;
  int64_t seq = 0;  // set by reads
};

struct AuthzTupleRow {
  std::string object;  // "document:1"
  std::string relation;
  std::string subject;         // the tuple's user: "user:anne", "group:eng#member", "user:*"
  std::string condition_name;  // empty: unconditional
  std::optional<std::string> condition_context;  // JSON object text
  int64_t created_at = 0;
};

struct AuthzChangeRow {
  int64_t seq = 0;  // per store, increasing in write order
  AuthzTupleRow tuple;
  bool deleted = false;  // a delete; otherwise a write
  int64_t created_at = 0;
};

struct AuthzDecisionRow {
  TenantId tenant_id;
  std::string id;
  int64_t created_at = 0;
  UserId user_id;
  std::string session_id;
  std::string trace_id;
  std::string tool;
  std::string decision;  // allow | deny
  std::string fga_user;  // the tuple asked: user, relation, object (empty when none was asked)
  std::string relation;
  std::string object;
  std::string store_id;
  std::string model_id;
  std::string reason;  // why, for a denial
};

struct DecisionFilter {
  int64_t limit = 100;
  std::string decision;  // empty: both
  std::optional<UserId> user_id;
};

struct DocumentRow {
  TenantId tenant_id;
  std::string id;
  std::string title;
  std::string content;  // empty in listings
  UserId created_by;
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

namespace authz_stores {
Status Insert(Tx& tx, const TenantId& tenant, const AuthzStoreRow& store);
// The tenant's stores, by id (ULIDs: creation order).
Result<std::vector<AuthzStoreRow>> List(Tx& tx, const TenantId& tenant);
// Tenants that own at least one store: loading every tenant's stores at start-up only.
Result<std::vector<TenantId>> TenantsWithStores(Tx& tx);
// Every tenant's stores with their sequence numbers: for a process to notice what others
// changed (the in-memory engine's refresh), never to answer a tenant.
Result<std::vector<AuthzStoreState>> States(Tx& tx);
// Deletes the store with its models, tuples and change log. False when the tenant has no such
// store.
Result<bool> Delete(Tx& tx, const TenantId& tenant, const std::string& store_id);
// Reserves `count` numbers of the store's sequence (shared by model versions and changes) and marks
// the store updated; returns the last number reserved. NotFound when the tenant has no such store.
Result<int64_t> ReserveSeq(Tx& tx, const TenantId& tenant, const std::string& store_id,
                           int64_t count, int64_t now);
}  // namespace authz_stores

namespace authz_models {
Status Insert(Tx& tx, const TenantId& tenant, const std::string& store_id, int64_t seq,
              const AuthzModelRow& model);
// Oldest first.
Result<std::vector<AuthzModelRow>> List(Tx& tx, const TenantId& tenant,
                                        const std::string& store_id);
}  // namespace authz_models

namespace authz_tuples {
// Inserts the tuple, or replaces its condition when the key exists.
Status Upsert(Tx& tx, const TenantId& tenant, const std::string& store_id,
              const AuthzTupleRow& tuple);
Status Delete(Tx& tx, const TenantId& tenant, const std::string& store_id,
              const std::string& object, const std::string& relation, const std::string& subject);
Result<std::vector<AuthzTupleRow>> List(Tx& tx, const TenantId& tenant,
                                        const std::string& store_id);
// When the tuple was written; nullopt when it does not exist.
Result<std::optional<int64_t>> WrittenAt(Tx& tx, const TenantId& tenant,
                                         const std::string& store_id, const std::string& object,
                                         const std::string& relation, const std::string& subject);
}  // namespace authz_tuples

namespace authz_changes {
Status Insert(Tx& tx, const TenantId& tenant, const std::string& store_id,
              const AuthzChangeRow& change);
// Changes with seq > after_seq, in order, at most `limit`; `object_type` filters when not empty,
// `min_time` (unix ms) when not zero.
Result<std::vector<AuthzChangeRow>> ListAfter(Tx& tx, const TenantId& tenant,
                                              const std::string& store_id,
                                              const std::string& object_type, int64_t after_seq,
                                              int64_t min_time, int64_t limit);
}  // namespace authz_changes

namespace authz_decisions {
Status Insert(Tx& tx, const AuthzDecisionRow& decision);
// Newest first.
Result<std::vector<AuthzDecisionRow>> List(Tx& tx, const TenantId& tenant,
                                           const DecisionFilter& filter);
}  // namespace authz_decisions

namespace documents {
// Creates the document or replaces its title and content (created_at and created_by stay).
// Returns true when it was created.
Result<bool> Upsert(Tx& tx, const DocumentRow& document);
Result<std::optional<DocumentRow>> Get(Tx& tx, const TenantId& tenant, const std::string& id);
// Every document of the tenant without its content, by id.
Result<std::vector<DocumentRow>> List(Tx& tx, const TenantId& tenant);
// The documents among `ids` that exist, with their content, by id.
Result<std::vector<DocumentRow>> GetMany(Tx& tx, const TenantId& tenant,
                                         const std::vector<std::string>& ids);
// False when there was no such document.
Result<bool> Delete(Tx& tx, const TenantId& tenant, const std::string& id);
}  // namespace documents

}  // namespace gh::storage
