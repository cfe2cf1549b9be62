// FgaToolAuthorizer: agent::ToolAuthorizer over each tenant's OpenFGA store (the tenant's agent
// store, see authz_store/tenant_stores.h). The caller is the FGA user `user:<user id>`.
//
//  - Offering: a tool is offered when the tenant's latest model defines every "type#relation" the
//    tool relies on (its call check and `needs`), and, where the model defines the tool's "may
//    use" check (e.g. `tool#can_use`), that check allows the caller.
//  - Calling: the same rules plus the call check, with `{arguments.X}` filled from the call.
//    Anything that prevents a decision (no store, no model, an argument that does not name a
//    valid object, an engine error) denies. Every decision that asked a tuple, and every denial,
//    is recorded in the audit log (authz_decisions): decision, user, tenant, the tuple asked,
//    store and model ids, tool, session, trace and time. A decision that cannot be recorded is a
//    denial: the audit log is part of the contract.
//
// Checks are answered from memory; only recording touches the database. Thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "agent/tool.h"
#include "authz_store/tenant_stores.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "storage/database.h"

namespace gh::authz_agent {

// Fills an object template: `{name}` with the tool's name, `{arguments.X}` with the call's string
// (or integer) argument X. InvalidArgument for an unknown placeholder or a missing, empty or
// non-scalar argument. The result is not yet validated as an object.
Result<std::string> ExpandObjectTemplate(std::string_view object_template,
                                         std::string_view tool_name,
                                         const boost::json::object& arguments);

// The FGA user for a Gatehouse user.
std::string FgaUser(const UserId& user);

class FgaToolAuthorizer final : public agent::ToolAuthorizer {
 public:
  // All borrowed; they must outlive the authorizer.
  FgaToolAuthorizer(const authz_store::TenantStores& stores, storage::Database& db,
                    const Clock& clock, Random& random)
      : stores_(stores), db_(db), clock_(clock), random_(random) {}

  bool MayOffer(const agent::TenantContext& context, const agent::Tool& tool) override;
  agent::AuthzDecision AuthorizeCall(const agent::TenantContext& context, const agent::Tool& tool,
                                     const boost::json::object& arguments) override;

 private:
  void Record(const agent::TenantContext& context, const agent::Tool& tool,
              agent::AuthzDecision& decision);

  const authz_store::TenantStores& stores_;
  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace gh::authz_agent
