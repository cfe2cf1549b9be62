// `gatehouse admin ...`: operator commands that work directly on a data directory (no server
// needed): tenants (list, create, set-plan, suspend, resume), plans (list, set), operators
// (add, remove, list), keys (rotate-master), audit (verify). They go through the same domain
// services as the HTTP API.
#pragma once

#include <string>
#include <vector>

#include "main/config.h"

namespace CLI {
class App;
}

namespace gh::app {

struct AdminCommand {
  std::vector<std::string> path;  // e.g. {"tenants", "create"}
  std::vector<std::string> args;
  std::string tier, timezone, json;
};

// Adds the subcommands to `admin`, writing what was parsed into `cmd`.
void AddAdminCommands(CLI::App& admin, AdminCommand& cmd);
// Runs the parsed command. Returns the exit code (0 ok, 1 refused, 2 bad usage).
int RunAdmin(const Config& config, const AdminCommand& cmd);

}  // namespace gh::app
