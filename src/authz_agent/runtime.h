// AuthzRuntime: everything fine-grained authorization adds to a running Gatehouse, built once at
// start by main/: every tenant's OpenFGA stores loaded from the database, the document
// collection, the document tools and the tool authorizer. The HTTP layer (api/fga_api.h) borrows
// it. Owns what it builds; the database, clock and random are borrowed and must outlive it, and
// the runtime must outlive the tool registry it installs into and the server. Thread-safe after
// Open.
#pragma once

#include <chrono>
#include <memory>

#include "agent/tool.h"
#include "authz/store.h"
#include "authz_agent/documents.h"
#include "authz_agent/tool_authorizer.h"
#include "authz_store/tenant_stores.h"
#include "common/clock.h"
#include "common/random.h"
#include "storage/database.h"

namespace gh::authz_agent {

class AuthzRuntime {
 public:
  // Loads every tenant's stores (fails when they cannot be read or a stored model is invalid) and
  // starts catching up, every `refresh_interval`, with what other processes sharing the database
  // write (see authz_store/tenant_stores.h).
  static Result<std::unique_ptr<AuthzRuntime>> Open(
      storage::Database& db, const Clock& clock, Random& random, authz::StoreLimits limits = {},
      std::chrono::milliseconds refresh_interval = std::chrono::seconds(1));

  // Adds search_documents and read_document and makes the authorizer decide which tools are
  // offered and which calls run. Call once, at start-up.
  void InstallTools(agent::ToolRegistry& tools);

  authz_store::TenantStores& stores() { return stores_; }
  DocumentCollection& documents() { return documents_; }
  storage::Database& db() { return db_; }
  const Clock& clock() const { return clock_; }

  AuthzRuntime(storage::Database& db, const Clock& clock, Random& random,
               authz::StoreLimits limits);

 private:
  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  authz_store::TenantStores stores_;
  DocumentCollection documents_;
};

}  // namespace gh::authz_agent
