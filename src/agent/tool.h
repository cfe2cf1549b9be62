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

class Tool;

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
  virtual Awaitable<ToolResult> Run(const TenantContext& context, const boost::json::object& arguments) = 0;
};

// Built at start-up (Add, SetAuthorizer), then read-only and shared.
class ToolRegistry {
 public:
  void Add(std::shared_ptr<Tool> tool);
  void SetAuthorizer(std::shared_ptr<ToolAuthorizer> authorizer) { authorizer_ = std::move(authorizer); }
  std::vector<std::shared_ptr<Tool>> AllowedFor(const tenancy::Plan& plan) const;
  // The tools the plan grants that the caller's authorization lets them use.
  std::vector<std::shared_ptr<Tool>> OfferedTo(const tenancy::Plan& plan, const TenantContext& context) const;
  // Allowed when no authorizer is installed.
  AuthzDecision Authorize(const TenantContext& context, const Tool& tool, const boost::json::object& arguments) const;
  std::shared_ptr<Tool> Find(const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<Tool>> tools_;
  std::shared_ptr<ToolAuthorizer> authorizer_;
};

// Checks an arguments object against the subset of JSON Schema our tools use (type object,
// properties with type string/number/integer/boolean, required, enum, minLength/maxLength,
// minimum/maximum, additionalProperties false). Returns a message naming the first problem.
Status ValidateArguments(const boost::json::object& args, std::string_view schema_json);

}  // namespace gh::agent
