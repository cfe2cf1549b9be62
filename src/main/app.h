// App: owns and wires every part of a running Gatehouse (storage, identity, models, tools, the
// filter chain, the HTTP server) from a Config. Only main/ knows every module.
#pragma once

#include <memory>

#include "main/config.h"
#include "storage/database.h"

namespace gh::app {

// Opens the configured database (SQLite in the data directory by default) and runs migrations.
Result<std::unique_ptr<storage::Database>> OpenStorage(const Config& config);

// Runs `gatehouse serve` until SIGTERM/SIGINT drains it. Returns the process exit code.
int Serve(const Config& config);

}  // namespace gh::app
