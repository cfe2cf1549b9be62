// Services: the domain objects the HTTP handlers translate to, borrowed from main/ (which owns
// them). Each Register*Routes function adds one area's routes to the router.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "chat/chat_service.h"
#include "common/clock.h"
#include "common/random.h"
#include "identity/service.h"
#include "pipeline/router.h"
#include "storage/database.h"
#include "tenancy/admin_service.h"
#include "tenancy/directory.h"
#include "tenancy/plan.h"
#include "tenancy/plan_store.h"
#include "tenancy/quota.h"

namespace gh::api {

struct Services {
  storage::Database& db;
  const Clock& clock;
  Random& random;
  identity::IdentityService& identity;
  tenancy::QuotaService& quota;
  chat::ChatService& chat;
  tenancy::PlanStore& plan_store;
  tenancy::AdminService& admin;
  // A comment line goes out on a stream quiet this long, so proxies keep it open and a client that
  // went away is noticed (and its upstream call cancelled) even before the first token.
  std::chrono::milliseconds sse_keepalive{15'000};
  // Told of changes to cached rows (tenant settings); may be null.
  tenancy::Directory* directory = nullptr;
};

void RegisterAuthRoutes(pipeline::Router& router, Services& s);
void RegisterTenantRoutes(pipeline::Router& router, Services& s);
void RegisterChatRoutes(pipeline::Router& router, Services& s);
void RegisterOpsRoutes(pipeline::Router& router, Services& s);
void RegisterAdminRoutes(pipeline::Router& router, Services& s);

}  // namespace gh::api
