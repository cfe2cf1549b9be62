// The authorization endpoints.
//
// RegisterFgaRoutes: an OpenFGA-compatible HTTP API under /fga (so the official SDKs work with
// `apiUrl: https://gatehouse.example/fga` and the caller's Gatehouse access token as their API
// token): stores, authorization models, write, read, read changes, check, batch-check,
// list-objects, list-users and expand, with OpenFGA's paths, JSON shapes and error shape
// ({"code": "validation_error", "message": "..."} with OpenFGA's HTTP status), for the caller's
// tenant only: another tenant's store id answers 404 store_id_not_found, as an unknown one.
// Who may call what (OpenFGA itself has no per-user roles):
//  - tenant admins: everything;
//  - other members of the tenant: list and read stores and models, and check, batch-check and
//    list-objects about themselves only (user `user:<their user id>`, no contextual tuples), so
//    an application acting for a user can ask "may I?" without reading the tenant's
//    relationship graph; reads of tuples, changes, expand and list-users reveal the graph and
//    are for admins.
//
// RegisterAuthzRoutes: Gatehouse-shaped endpoints of the agent integration:
//  - POST /api/tenants/{tenant_id}/documents {document_id?, title, content} (tenant admin),
//    GET .../documents (what the caller may view; everything for an admin), GET and DELETE
//    .../documents/{document_id};
//  - GET /api/tenants/{tenant_id}/authz/decisions (tenant admin): the tool authorization audit log.
//
// InstallAuthz does everything main/ needs in one call: opens the runtime (loads every tenant's
// stores), installs the document tools and the tool authorizer into `tools`, and registers both
// route sets. The runtime must outlive the server.
#pragma once

#include <memory>

#include "agent/tool.h"
#include "authz_agent/runtime.h"
#include "common/clock.h"
#include "common/random.h"
#include "pipeline/router.h"
#include "storage/database.h"

namespace gh::api {

void RegisterFgaRoutes(pipeline::Router& router, authz_agent::AuthzRuntime& authz);
void RegisterAuthzRoutes(pipeline::Router& router, authz_agent::AuthzRuntime& authz);

Result<std::unique_ptr<authz_agent::AuthzRuntime>> InstallAuthz(pipeline::Router& router,
                                                                agent::ToolRegistry& tools,
                                                                storage::Database& db,
                                                                const Clock& clock, Random& random);

}  // namespace gh::api
