// Tools the agent can call. A tool declares its name, description, argument schema, the plan
// feature it needs and its authorization requirements; the registry answers which tools a plan
// (and, through the ToolAuthorizer, the caller's authorization) offers. Tools get the
// TenantContext of the call and must scope whatever they touch to it. Tools are shared and called
// concurrently.
//
// Authorization is a domain seam: the agent knows only the ToolAuthorizer interface; an
// implementation over the tenant's relationship store (OpenFGA) is installed by main/. Without an
// authorizer every tool a plan grants is offered and runs.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/model.h"
#include "tenancy/plan.h"

namespace gh::agent {

struct ToolResult {
  std::string content;  // JSON text or plain text given back to the model
  bool is_error = false;
};

// A relation the caller must have on an object, for example `viewer` on
// `document:{arguments.document_id}`. The object is a template: `{name}` is the tool's name,
// `{arguments.X}` the call's string or integer argument X.
struct AuthzCheck {
  std::string relation;
  std::string object;
  bool empty() const { return relation.empty(); }
};

struct ToolAuthorization {
  // May the caller use the tool at all: checked when choosing the tools to offer and again before
  // each call. It applies only when the tenant's authorization model defines the object's type
  // and the relation, so a tenant opts in to gating tools by defining e.g. `type tool` with
  // `define can_use: [user, group#member]`.
  AuthzCheck use{"can_use", "tool:{name}"};
  // Checked before each call with the call's arguments. The tool is offered only when the
  // tenant's model defines the object's type and the relation; a call is denied otherwise.
  AuthzCheck call;
  // Further "type#relation" the tool relies on (e.g. a search that filters its results by
  // "document#viewer"): the tool is offered only when the tenant's model defines them.
  std::vector<std::string> needs;
};

// The outcome of authorizing one tool call, with what was asked (for the audit record).
struct AuthzDecision {
  bool allowed = true;
  std::string user;  // the tuple asked; empty when no check applied
  std::string relation;
  std::string object;
  std::string store_id;
  std::string model_id;  // the authorization model that decided
  std::string reason;    // why a call was denied
};

// Whether a call must wait for the user's approval before it runs. `when` is empty (never),
// "always", or a CEL condition over the call's `arguments` (e.g. `arguments.amount > 100`).
// `binding_message` is what the user is asked, with `{arguments.X}` replaced by the argument.
struct ApprovalRequirement {
  std::string when;
  std::string binding_message;
  int64_t expires_in_seconds = 0;  // 0: the deployment's default
  bool empty() const { return when.empty(); }
};

// The outcome of asking whether a validated, authorized call may run now.
struct ApprovalHold {
  bool held = false;        // the call waits for the user; it was stored, it must not run now
  std::string approval_id;  // the stored request
  std::string notice;       // what the user is told in the chat
  std::string tool_result;  // what the model is told instead of the tool's result (JSON)
};

class Tool;

// Holds tool calls that need the user's approval (by the tool's own requirement or a tenant
// policy): stores the call bound to the hash of its exact arguments, and the agent ends the turn
// without running it; the call runs later, once, if the user approves. Failing to decide holds
// nothing and returns the error (the agent then refuses the call). Thread-safe.
class ApprovalGate {
 public:
  virtual ~ApprovalGate() = default;
  virtual Result<ApprovalHold> Check(const TenantContext& context, const Tool& tool,
                                     const ToolCall& call,
                                     const boost::json::object& arguments) = 0;
};

// Tools that exist per tenant, defined at run time (e.g. HTTP API tools a tenant admin registers).
// Asked on every turn; implementations answer from a cache and must be thread-safe.
class TenantToolSource {
 public:
  virtual ~TenantToolSource() = default;
  virtual std::vector<std::shared_ptr<Tool>> ToolsFor(const TenantContext& context) = 0;
};

// Decides which tools a caller is offered and whether a call may run. Called on the agent's path
// for every turn and tool call, so implementations answer from memory and must be thread-safe.
// Failing to decide (no store, an invalid argument, an engine error) denies.
class ToolAuthorizer {
 public:
  virtual ~ToolAuthorizer() = default;
  virtual bool MayOffer(const TenantContext& context, const Tool& tool) = 0;
  // Decides a call about to run and records the decision for audit.
  virtual AuthzDecision AuthorizeCall(const TenantContext& context, const Tool& tool,
                                      const boost::json::object& arguments) = 0;
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual const ToolSpec& spec() const = 0;
  // Whether a plan grants this tool at all (checked before offering and again before running).
  virtual bool AllowedBy(const tenancy::Plan& plan) const = 0;
  // What the caller's authorization must allow; by default only the opt-in "may use" check.
  virtual const ToolAuthorization& authorization() const;
  // Whether a call must wait for the user's approval; by default never (tenant policies may still
  // require it).
  virtual const ApprovalRequirement& approval() const;
  virtual Awaitable<ToolResult> Run(const TenantContext& context,
                                    const boost::json::object& arguments) = 0;
};

// Built at start-up (Add, SetAuthorizer), then read-only and shared.
class ToolRegistry {
 public:
  void Add(std::shared_ptr<Tool> tool);
  void SetAuthorizer(std::shared_ptr<ToolAuthorizer> authorizer) {
    authorizer_ = std::move(authorizer);
  }
  void SetApprovalGate(std::shared_ptr<ApprovalGate> gate) { approval_gate_ = std::move(gate); }
  void SetTenantTools(std::shared_ptr<TenantToolSource> source) {
    tenant_tools_ = std::move(source);
  }
  // Null when no approvals are configured.
  ApprovalGate* approval_gate() const { return approval_gate_.get(); }
  std::vector<std::shared_ptr<Tool>> AllowedFor(const tenancy::Plan& plan) const;
  // The tools the plan grants that the caller's authorization lets them use.
  std::vector<std::shared_ptr<Tool>> OfferedTo(const tenancy::Plan& plan,
                                               const TenantContext& context) const;
  // Allowed when no authorizer is installed.
  AuthzDecision Authorize(const TenantContext& context, const Tool& tool,
                          const boost::json::object& arguments) const;
  std::shared_ptr<Tool> Find(const std::string& name) const;
  // The built-in tool of that name, else the caller's tenant's tool of that name.
  std::shared_ptr<Tool> Find(const TenantContext& context, const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<Tool>> tools_;
  std::shared_ptr<ToolAuthorizer> authorizer_;
  std::shared_ptr<ApprovalGate> approval_gate_;
  std::shared_ptr<TenantToolSource> tenant_tools_;
};

// Checks an arguments object against the subset of JSON Schema tools use (type, as a name or a
// list of names; properties, required and additionalProperties false, nested; items, minItems and
// maxItems; enum; minLength/maxLength; minimum/maximum; other keywords are not checked). Returns a
// message naming the first problem, with its path ("filters[1].field"). A whole number given where
// an integer is asked for (3.0) is made one (3) in `args`, so the tool gets the type it declared.
Status ValidateArguments(boost::json::object& args, std::string_view schema_json);

// Runs one tool call. A tool that throws (none should: errors are values) fails its call with a
// fixed error result, which the model is told of, not the turn; what it threw goes to the log.
Awaitable<ToolResult> RunTool(Tool& tool, const TenantContext& context,
                              const boost::json::object& args);

}  // namespace gh::agent
