#include "authz_agent/runtime.h"

#include "authz_agent/document_tools.h"

namespace gh::authz_agent {

AuthzRuntime::AuthzRuntime(storage::Database& db, const Clock& clock, Random& random,
                           authz::StoreLimits limits)
    : db_(db),
      clock_(clock),
      random_(random),
      stores_(db, clock, random, limits),
      documents_(db, stores_, clock, random) {}

Result<std::unique_ptr<AuthzRuntime>> AuthzRuntime::Open(
    storage::Database& db, const Clock& clock, Random& random, authz::StoreLimits limits,
    std::chrono::milliseconds refresh_interval) {
  auto runtime = std::make_unique<AuthzRuntime>(db, clock, random, limits);
  GH_RETURN_IF_ERROR(runtime->stores_.Load());
  runtime->stores_.StartRefreshing(refresh_interval);
  return runtime;
}

void AuthzRuntime::InstallTools(agent::ToolRegistry& tools) {
  tools.Add(MakeSearchDocumentsTool(documents_));
  tools.Add(MakeReadDocumentTool(documents_));
  tools.SetAuthorizer(std::make_shared<FgaToolAuthorizer>(stores_, db_, clock_, random_));
}

}  // namespace gh::authz_agent
