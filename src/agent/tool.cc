#include "agent/tool.h"

#include <cmath>

#include <fmt/format.h>
#include <boost/json.hpp>

namespace gh::agent {

namespace bj = boost::json;

void ToolRegistry::Add(std::shared_ptr<Tool> tool) { tools_[tool->spec().name] = std::move(tool); }

std::vector<std::shared_ptr<Tool>> ToolRegistry::AllowedFor(const tenancy::Plan& plan) const {
  std::vector<std::shared_ptr<Tool>> out;
  for (const auto& [name, tool] : tools_)
    if (tool->AllowedBy(plan)) out.push_back(tool);
  return out;
}

std::vector<std::shared_ptr<Tool>> ToolRegistry::OfferedTo(const tenancy::Plan& plan,
                                                           const TenantContext& context) const {
  std::vector<std::shared_ptr<Tool>> out;
  for (const auto& [name, tool] : tools_)
    if (tool->AllowedBy(plan) && (!authorizer_ || authorizer_->MayOffer(context, *tool)))
      out.push_back(tool);
  if (tenant_tools_)
    for (auto& tool : tenant_tools_->ToolsFor(context))
      if (!tools_.count(tool->spec().name) && tool->AllowedBy(plan) &&
          (!authorizer_ || authorizer_->MayOffer(context, *tool)))
        out.push_back(std::move(tool));
  return out;
}

AuthzDecision ToolRegistry::Authorize(const TenantContext& context, const Tool& tool,
                                      const bj::object& arguments) const {
  if (!authorizer_) return AuthzDecision{};
  return authorizer_->AuthorizeCall(context, tool, arguments);
}

const ToolAuthorization& Tool::authorization() const {
  static const ToolAuthorization kDefault;
  return kDefault;
}

const ApprovalRequirement& Tool::approval() const {
  static const ApprovalRequirement kNever;
  return kNever;
}

std::shared_ptr<Tool> ToolRegistry::Find(const std::string& name) const {
  auto it = tools_.find(name);
  return it == tools_.end() ? nullptr : it->second;
}

std::shared_ptr<Tool> ToolRegistry::Find(const TenantContext& context,
                                         const std::string& name) const {
  if (auto tool = Find(name)) return tool;
  if (!tenant_tools_) return nullptr;
  for (auto& tool : tenant_tools_->ToolsFor(context))
    if (tool->spec().name == name) return tool;
  return nullptr;
}

namespace {

bool TypeMatches(const bj::value& v, std::string_view type) {
  if (type == "string") return v.is_string();
  if (type == "integer") {  // a whole double in int64's range (1e300 is none: no cast of it)
    if (v.is_int64() || v.is_uint64()) return true;
    if (!v.is_double()) return false;
    const double d = v.get_double();
    return d >= -9.2233720368547758e18 && d < 9.2233720368547758e18 && d == std::trunc(d);
  }
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_bool();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "null") return v.is_null();
  return true;
}

Status Check(const bj::value& v, const bj::object& schema, const std::string& path) {
  auto bad = [&](std::string msg) {
    return Status::InvalidArgument(fmt::format("argument '{}' {}", path, msg), "invalid_arguments");
  };
  if (auto* t = schema.if_contains("type"); t && t->is_string() && !TypeMatches(v, t->get_string()))
    return bad(fmt::format("must be of type {}", std::string_view(t->get_string())));
  if (auto* e = schema.if_contains("enum"); e && e->is_array()) {
    bool found = false;
    for (const auto& option : e->get_array()) found |= option == v;
    if (!found) return bad("is not one of the allowed values");
  }
  if (v.is_string()) {
    size_t len = v.get_string().size();
    if (auto* m = schema.if_contains("minLength");
        m && m->is_number() && len < m->to_number<double>())
      return bad("is too short");
    if (auto* m = schema.if_contains("maxLength");
        m && m->is_number() && len > m->to_number<double>())
      return bad("is too long");
  }
  if (v.is_number()) {
    double d = v.to_number<double>();
    if (auto* m = schema.if_contains("minimum"); m && m->is_number() && d < m->to_number<double>())
      return bad("is too small");
    if (auto* m = schema.if_contains("maximum"); m && m->is_number() && d > m->to_number<double>())
      return bad("is too large");
  }
  if (v.is_object()) {
    const auto& obj = v.get_object();
    const bj::object* props = nullptr;
    if (auto* p = schema.if_contains("properties"); p && p->is_object()) props = &p->get_object();
    if (auto* r = schema.if_contains("required"); r && r->is_array())
      for (const auto& name : r->get_array())
        if (name.is_string() && !obj.contains(name.get_string()))
          return Status::InvalidArgument(
              fmt::format("missing required argument '{}'", std::string_view(name.get_string())),
              "invalid_arguments");
    bool closed = false;
    if (auto* a = schema.if_contains("additionalProperties"); a && a->is_bool())
      closed = !a->get_bool();
    for (const auto& [k, val] : obj) {
      const bj::value* sub = props ? props->if_contains(k) : nullptr;
      if (!sub) {
        if (closed)
          return Status::InvalidArgument(fmt::format("unknown argument '{}'", std::string_view(k)),
                                         "invalid_arguments");
        continue;
      }
      if (sub->is_object())
        GH_RETURN_IF_ERROR(Check(val, sub->get_object(),
                                 path.empty() ? std::string(k) : path + "." + std::string(k)));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateArguments(const bj::object& args, std::string_view schema_json) {
  boost::system::error_code ec;
  bj::value schema = bj::parse(schema_json, ec);
  if (ec || !schema.is_object()) return Status::Internal("tool schema is not valid JSON");
  return Check(bj::value(args), schema.get_object(), "");
}

}  // namespace gh::agent
