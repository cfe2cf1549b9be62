#include "authz_agent/tool_authorizer.h"

#include <fmt/format.h>

#include "authz/ulid.h"
#include "common/log.h"
#include "storage/authz_repository.h"

namespace gh::authz_agent {
namespace {

namespace bj = boost::json;

// The tenant's agent store and its latest model; both null when the tenant has none.
struct Resolved {
  std::shared_ptr<authz::Store> store;
  std::shared_ptr<const authz::TypeSystem> model;
};

Resolved Resolve(const authz_store::TenantStores& stores, const TenantId& tenant) {
  Resolved r;
  r.store = stores.AgentStore(tenant);
  if (!r.store) return r;
  auto model = r.store->ResolveModel("");
  if (model.ok()) r.model = *model;
  return r;
}

bool Defines(const Resolved& r, std::string_view type, std::string_view relation) {
  if (!r.model) return false;
  const authz::TypeDefinition* t = r.model->model().FindType(type);
  return t && t->FindRelation(relation);
}

std::string_view TemplateType(std::string_view object_template) {
  return object_template.substr(0, object_template.find(':'));
}

bool DefinesAll(const Resolved& r, const std::vector<std::string>& needs) {
  for (const auto& need : needs) {
    std::string_view n = need;
    size_t hash = n.find('#');
    if (hash == std::string_view::npos || !Defines(r, n.substr(0, hash), n.substr(hash + 1))) {
      return false;
    }
  }
  return true;
}

bool UseCheckApplies(const Resolved& r, const agent::AuthzCheck& use) {
  return !use.empty() && Defines(r, TemplateType(use.object), use.relation);
}

}  // namespace

Result<std::string> ExpandObjectTemplate(std::string_view object_template,
                                         std::string_view tool_name, const bj::object& arguments) {
  std::string out;
  size_t i = 0;
  while (i < object_template.size()) {
    size_t open = object_template.find('{', i);
    if (open == std::string_view::npos) {
      out.append(object_template.substr(i));
      break;
    }
    out.append(object_template.substr(i, open - i));
    size_t close = object_template.find('}', open);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unterminated placeholder in '" +
                                     std::string(object_template) + "'");
    }
    std::string_view name = object_template.substr(open + 1, close - open - 1);
    if (name == "name") {
      out.append(tool_name);
    } else if (name.starts_with("arguments.")) {
      std::string_view arg = name.substr(std::string_view("arguments.").size());
      const bj::value* v = arguments.if_contains(arg);
      if (v && v->is_string() && !v->get_string().empty()) {
        out.append(v->get_string().data(), v->get_string().size());
      } else if (v && v->is_int64()) {
        out.append(std::to_string(v->get_int64()));
      } else if (v && v->is_uint64()) {
        out.append(std::to_string(v->get_uint64()));
      } else {
        return Status::InvalidArgument(
            fmt::format("argument '{}' must be a non-empty string or an integer", arg));
      }
    } else {
      return Status::InvalidArgument(fmt::format("unknown placeholder '{{{}}}'", name));
    }
    i = close + 1;
  }
  return out;
}

std::string FgaUser(const UserId& user) { return "user:" + user.value(); }

bool FgaToolAuthorizer::MayOffer(const agent::TenantContext& context, const agent::Tool& tool) {
  const agent::ToolAuthorization& a = tool.authorization();
  Resolved r = Resolve(stores_, context.tenant_id);
  if (!DefinesAll(r, a.needs)) return false;
  if (!a.call.empty() && !Defines(r, TemplateType(a.call.object), a.call.relation)) return false;
  if (!UseCheckApplies(r, a.use)) return true;
  auto object = ExpandObjectTemplate(a.use.object, tool.spec().name, {});
  if (!object.ok()) return false;
  auto allowed = r.store->Check(authz::CheckRequest{
      FgaUser(context.user_id), a.use.relation, *object, {}, {}, r.model->id()});
  return allowed.ok() && *allowed;
}

agent::AuthzDecision FgaToolAuthorizer::AuthorizeCall(const agent::TenantContext& context,
                                                      const agent::Tool& tool,
                                                      const bj::object& arguments) {
  const agent::ToolAuthorization& a = tool.authorization();
  Resolved r = Resolve(stores_, context.tenant_id);
  agent::AuthzDecision d;
  if (r.store) d.store_id = r.store->record().id;
  if (r.model) d.model_id = r.model->id();
  auto deny = [&](std::string reason) {
    d.allowed = false;
    d.reason = std::move(reason);
    Record(context, tool, d);
    return d;
  };
  // Asks one tuple; false (with the decision filled in) when it does not hold.
  auto ask = [&](const agent::AuthzCheck& check, const bj::object& args) -> bool {
    d.user = FgaUser(context.user_id);
    d.relation = check.relation;
    d.object = check.object;
    auto object = ExpandObjectTemplate(check.object, tool.spec().name, args);
    if (!object.ok()) {
      d.allowed = false;
      d.reason = object.status().message();
      return false;
    }
    d.object = *object;
    auto allowed =
        r.store->Check(authz::CheckRequest{d.user, d.relation, d.object, {}, {}, r.model->id()});
    if (!allowed.ok()) {
      d.allowed = false;
      d.reason = allowed.status().message();
      return false;
    }
    if (!*allowed) {
      d.allowed = false;
      d.reason = fmt::format("{} is not {} of {}", d.user, d.relation, d.object);
      return false;
    }
    return true;
  };

  if (!DefinesAll(r, a.needs)) {
    return deny("the tenant's authorization model does not define what this tool needs");
  }
  const bool use_applies = UseCheckApplies(r, a.use);
  if (use_applies && !ask(a.use, {})) return deny(d.reason);
  if (!a.call.empty()) {
    if (!Defines(r, TemplateType(a.call.object), a.call.relation)) {
      d.user = FgaUser(context.user_id);
      d.relation = a.call.relation;
      d.object = a.call.object;
      return deny(fmt::format("the tenant's authorization model does not define {}#{}",
                              TemplateType(a.call.object), a.call.relation));
    }
    if (!ask(a.call, arguments)) return deny(d.reason);
  }
  d.allowed = true;
  if (use_applies || !a.call.empty()) Record(context, tool, d);
  return d;
}

void FgaToolAuthorizer::Record(const agent::TenantContext& context, const agent::Tool& tool,
                               agent::AuthzDecision& d) {
  storage::AuthzDecisionRow row{context.tenant_id,
                                authz::NewUlid(clock_, random_),
                                clock_.NowUnixMillis(),
                                context.user_id,
                                context.session_id.value(),
                                context.trace_id.value(),
                                tool.spec().name,
                                d.allowed ? "allow" : "deny",
                                d.user,
                                d.relation,
                                d.object,
                                d.store_id,
                                d.model_id,
                                d.reason};
  Status st = db_.Write([&](storage::Tx& tx) { return storage::authz_decisions::Insert(tx, row); });
  if (!st.ok()) {
    log::Error("recording an authorization decision failed",
               {{"tenant", context.tenant_id.value()}, {"error", st.message()}});
    d.allowed = false;
    d.reason = "the decision could not be recorded";
  }
}

}  // namespace gh::authz_agent
