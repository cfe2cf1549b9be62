// Tools the agent can call. A tool declares its name, description, argument schema and the plan
// feature it needs; the registry answers which tools a plan offers. Tools get the TenantContext of
// the call and must scope whatever they touch to it. Tools are shared and called concurrently.
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

class Tool {
 public:
  virtual ~Tool() = default;
  virtual const ToolSpec& spec() const = 0;
  // Whether a plan grants this tool at all (checked before offering and again before running).
  virtual bool AllowedBy(const tenancy::Plan& plan) const = 0;
  virtual Awaitable<ToolResult> Run(const TenantContext& context, const boost::json::object& arguments) = 0;
};

class ToolRegistry {
 public:
  void Add(std::shared_ptr<Tool> tool);
  std::vector<std::shared_ptr<Tool>> AllowedFor(const tenancy::Plan& plan) const;
  std::shared_ptr<Tool> Find(const std::string& name) const;

 private:
  std::map<std::string, std::shared_ptr<Tool>> tools_;
};

// Checks an arguments object against the subset of JSON Schema our tools use (type object,
// properties with type string/number/integer/boolean, required, enum, minLength/maxLength,
// minimum/maximum, additionalProperties false). Returns a message naming the first problem.
Status ValidateArguments(const boost::json::object& args, std::string_view schema_json);

}  // namespace gh::agent
