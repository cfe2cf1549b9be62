// Demo content for `serve --demo`: two tenants on different plans, an admin and a user in each.
// Created once; their logins are printed only when they are created.
#pragma once

#include <string>

#include "common/random.h"
#include "identity/service.h"
#include "storage/database.h"

namespace gh::app {

Status SeedDemo(identity::IdentityService& identity, storage::Database& db, Random& random,
                const std::string& base_url);

}  // namespace gh::app
