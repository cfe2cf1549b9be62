#include "agent/tool.h"

#include <cmath>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "common/log.h"
#include "common/strings.h"

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

// The schema's "type": a name, or a list of names any of which will do (["string", "null"]).
// The name matched, or nullptr when none does; "" when the schema names no type.
const char* MatchedType(const bj::value& v, const bj::object& schema) {
  const bj::value* t = schema.if_contains("type");
  if (!t) return "";
  if (t->is_string()) return TypeMatches(v, t->get_string()) ? t->get_string().c_str() : nullptr;
  if (!t->is_array()) return "";
  for (const auto& name : t->get_array())
    if (name.is_string() && TypeMatches(v, name.get_string())) return name.get_string().c_str();
  return nullptr;
}

std::string TypeNames(const bj::value& t) {
  if (t.is_string()) return std::string(t.get_string());
  std::string out;
  for (const auto& name : t.get_array())
    if (name.is_string()) out += (out.empty() ? "" : " or ") + std::string(name.get_string());
  return out;
}

bool AtLeast(const bj::object& schema, std::string_view key, double n) {
  const bj::value* m = schema.if_contains(key);
  return !m || !m->is_number() || n >= m->to_number<double>();
}
bool AtMost(const bj::object& schema, std::string_view key, double n) {
  const bj::value* m = schema.if_contains(key);
  return !m || !m->is_number() || n <= m->to_number<double>();
}

// Checks `v` against `schema` and gives a whole number where an integer is asked for as one
// (3.0 becomes 3), so a tool reading it with as_int64() gets what the schema promised.
Status Check(bj::value& v, const bj::object& schema, const std::string& path) {
  auto bad = [&](std::string msg) {
    return Status::InvalidArgument(fmt::format("argument '{}' {}", path, msg), "invalid_arguments");
  };
  const char* type = MatchedType(v, schema);
  if (!type) return bad(fmt::format("must be of type {}", TypeNames(schema.at("type"))));
  if (std::string_view(type) == "integer" && v.is_double())
    v = static_cast<int64_t>(v.get_double());  // in range: TypeMatches checked it
  if (auto* e = schema.if_contains("enum"); e && e->is_array()) {
    bool found = false;
    for (const auto& option : e->get_array())
      found |= option == v || (option.is_number() && v.is_number() &&
                               option.to_number<double>() == v.to_number<double>());
    if (!found) return bad("is not one of the allowed values");
  }
  if (v.is_string()) {
    const double len = static_cast<double>(v.get_string().size());
    if (!AtLeast(schema, "minLength", len)) return bad("is too short");
    if (!AtMost(schema, "maxLength", len)) return bad("is too long");
  }
  if (v.is_number()) {
    const double d = v.to_number<double>();
    if (!AtLeast(schema, "minimum", d)) return bad("is too small");
    if (!AtMost(schema, "maximum", d)) return bad("is too large");
  }
  if (v.is_array()) {
    auto& items = v.get_array();
    const double n = static_cast<double>(items.size());
    if (!AtLeast(schema, "minItems", n)) return bad("has too few items");
    if (!AtMost(schema, "maxItems", n)) return bad("has too many items");
    if (auto* each = schema.if_contains("items"); each && each->is_object())
      for (size_t i = 0; i < items.size(); ++i)
        GH_RETURN_IF_ERROR(Check(items[i], each->get_object(), fmt::format("{}[{}]", path, i)));
  }
  if (v.is_object()) {
    auto& obj = v.get_object();
    const bj::object* props = nullptr;
    if (auto* p = schema.if_contains("properties"); p && p->is_object()) props = &p->get_object();
    if (auto* r = schema.if_contains("required"); r && r->is_array())
      for (const auto& name : r->get_array())
        if (name.is_string() && !obj.contains(name.get_string()))
          return Status::InvalidArgument(
              fmt::format("missing required argument '{}'",
                          path.empty() ? std::string(name.get_string())
                                       : path + "." + std::string(name.get_string())),
              "invalid_arguments");
    bool closed = false;
    if (auto* a = schema.if_contains("additionalProperties"); a && a->is_bool())
      closed = !a->get_bool();
    for (auto& [k, val] : obj) {
      const std::string name = path.empty() ? std::string(k) : path + "." + std::string(k);
      const bj::value* sub = props ? props->if_contains(k) : nullptr;
      if (!sub) {
        if (closed)
          return Status::InvalidArgument(fmt::format("unknown argument '{}'", name),
                                         "invalid_arguments");
        continue;
      }
      if (sub->is_object()) GH_RETURN_IF_ERROR(Check(val, sub->get_object(), name));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateArguments(bj::object& args, std::string_view schema_json) {
  boost::system::error_code ec;
  bj::value schema = bj::parse(schema_json, ec);
  if (ec || !schema.is_object()) return Status::Internal("tool schema is not valid JSON");
  bj::value checked(std::move(args));
  Status st = Check(checked, schema.get_object(), "");
  args = std::move(checked.get_object());
  return st;
}

// What a tool threw is for the operator's log, not for the model and the conversation: an
// unexpected failure's text may quote anything the tool held (a connection string, a token,
// another tenant's row).
Awaitable<ToolResult> RunTool(Tool& tool, const TenantContext& context, const bj::object& args) {
  std::string failure;
  try {
    co_return co_await tool.Run(context, args);
  } catch (const std::exception& e) {
    failure = Printable(e.what(), 300);
  }
  log::Error(
      "a tool failed unexpectedly",
      {{"tool", tool.spec().name}, {"tenant", context.tenant_id.value()}, {"error", failure}});
  co_return ToolResult{bj::serialize(bj::object{
                           {"error", "the tool failed unexpectedly; it may be tried again later"}}),
                       true};
}

}  // namespace gh::agent
