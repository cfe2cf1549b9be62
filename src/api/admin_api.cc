// Administration endpoints. Tenant admins, on their own tenant: users (with usage, role, removal,
// per-user caps), invitations, time zone. Platform operators: tenants (create, plan, suspend,
// resume) and plans. Anyone: the tenants they administer.
#include <fmt/format.h>

#include "api/json_io.h"
#include "api/services.h"
#include "common/strings.h"

namespace gh::api {

using pipeline::RequestContext;

namespace {

bj::object UsageJson(const tenancy::UsageSnapshot& u) {
  return bj::object{{"day", bj::object{{"date", u.day.period},
                                       {"messages", u.day.messages},
                                       {"input_tokens", u.day.input_tokens},
                                       {"output_tokens", u.day.output_tokens}}},
                    {"month", bj::object{{"month", u.month.period},
                                         {"messages", u.month.messages},
                                         {"input_tokens", u.month.input_tokens},
                                         {"output_tokens", u.month.output_tokens},
                                         {"spend_micros", u.month.spend_micros}}}};
}

bj::object CapsJson(const storage::UserCaps& c) {
  return bj::object{{"messages_per_day", OptionalInt(c.messages_per_day)},
                    {"messages_per_month", OptionalInt(c.messages_per_month)},
                    {"tokens_per_month", OptionalInt(c.tokens_per_month)},
                    {"budget_micros_per_month", OptionalInt(c.budget_micros_per_month)}};
}

Result<std::optional<int64_t>> CapField(const bj::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<int64_t>();
  if (v->is_int64() && v->get_int64() >= 0) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= uint64_t(INT64_MAX))
    return std::optional<int64_t>(int64_t(v->get_uint64()));
  return Status::InvalidArgument(
      fmt::format("field '{}' must be a non-negative integer or null", key));
}

}  // namespace

void RegisterAdminRoutes(pipeline::Router& r, Services& s) {
  // ---- tenant admins ----
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/users",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto users, s.admin.ListUsers(*ctx.tenant, *ctx.plan));
           bj::array out;
           for (const auto& u : users) {
             bj::array groups;
             for (const auto& g : u.groups) groups.emplace_back(g);
             const bool admin = std::find(u.groups.begin(), u.groups.end(),
                                          ctx.tenant->id.value() + "-admins") != u.groups.end();
             out.push_back(bj::object{{"user_id", u.user.id.value()},
                                      {"email", u.user.email},
                                      {"role", admin ? "admin" : "user"},
                                      {"verified", u.user.verified},
                                      {"created_at", Iso(u.user.created_at)},
                                      {"groups", std::move(groups)},
                                      {"limits", CapsJson(u.caps)},
                                      {"usage", UsageJson(u.usage)}});
           }
           ReplyJson(ctx, 200, bj::object{{"users", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "PATCH",
         .pattern = "/api/tenants/{tenant_id}/users/{user_id}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string role, json::RequiredString(body, "role", 16));
           GH_RETURN_IF_ERROR(s.admin.SetRole(ctx.tenant->id, ctx.principal->user_id,
                                              UserId(ctx.Param("user_id")), role));
           ReplyJson(ctx, 200, bj::object{{"user_id", ctx.Param("user_id")}, {"role", role}});
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/tenants/{tenant_id}/users/{user_id}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(s.admin.RemoveUser(ctx.tenant->id, ctx.principal->user_id,
                                                 UserId(ctx.Param("user_id"))));
           ctx.response = http::Response::NoContent();
           return Status::Ok();
         }});
  r.Add({.method = "PUT",
         .pattern = "/api/tenants/{tenant_id}/users/{user_id}/limits",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           for (const auto& [k, v] : body)
             if (k != "messages_per_day" && k != "messages_per_month" && k != "tokens_per_month" &&
                 k != "budget_micros_per_month")
               return Status::InvalidArgument(fmt::format("unknown limit '{}'", Printable(k, 40)));
           storage::UserCaps caps;
           GH_ASSIGN_OR_RETURN(caps.messages_per_day, CapField(body, "messages_per_day"));
           GH_ASSIGN_OR_RETURN(caps.messages_per_month, CapField(body, "messages_per_month"));
           GH_ASSIGN_OR_RETURN(caps.tokens_per_month, CapField(body, "tokens_per_month"));
           GH_ASSIGN_OR_RETURN(caps.budget_micros_per_month,
                               CapField(body, "budget_micros_per_month"));
           GH_RETURN_IF_ERROR(
               s.admin.SetUserCaps(ctx.tenant->id, *ctx.plan, UserId(ctx.Param("user_id")), caps));
           ReplyJson(ctx, 200,
                     bj::object{{"user_id", ctx.Param("user_id")}, {"limits", CapsJson(caps)}});
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/invitations",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto invs, s.admin.ListInvitations(ctx.tenant->id));
           bj::array out;
           for (const auto& i : invs)
             out.push_back(bj::object{{"invitation_id", i.id},
                                      {"role", i.role},
                                      {"created_at", Iso(i.created_at)},
                                      {"expires_at", Iso(i.expires_at)},
                                      {"used", i.used},
                                      {"revoked", i.revoked}});
           ReplyJson(ctx, 200, bj::object{{"invitations", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/tenants/{tenant_id}/invitations/{invitation_id}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(s.admin.RevokeInvitation(ctx.tenant->id, ctx.Param("invitation_id")));
           ctx.response = http::Response::NoContent();
           return Status::Ok();
         }});
  r.Add({.method = "PATCH",
         .pattern = "/api/tenants/{tenant_id}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string tz, json::RequiredString(body, "timezone", 64));
           GH_RETURN_IF_ERROR(s.admin.SetTimezone(ctx.tenant->id, tz));
           GH_ASSIGN_OR_RETURN(auto t, s.admin.GetTenant(ctx.tenant->id));
           ReplyJson(ctx, 200, TenantJson(*t));
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/admin/my-tenants",
         .sync = [&s](RequestContext& ctx) -> Status {
           bj::array out;
           if (ctx.principal->platform_operator) {
             GH_ASSIGN_OR_RETURN(auto all, s.admin.ListTenants());
             for (const auto& t : all) out.push_back(TenantJson(t));
           } else if (ctx.principal->IsTenantAdmin()) {
             out.push_back(TenantJson(*ctx.tenant));
           }
           ReplyJson(ctx, 200, bj::object{{"tenants", std::move(out)}});
           return Status::Ok();
         }});

  // ---- platform operators ----
  r.Add({.method = "GET",
         .pattern = "/api/admin/tenants",
         .platform_operator = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto all, s.admin.ListTenants());
           bj::array out;
           for (const auto& t : all) out.push_back(TenantJson(t));
           ReplyJson(ctx, 200, bj::object{{"tenants", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/admin/tenants",
         .platform_operator = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string name, json::RequiredString(body, "name", 200));
           GH_ASSIGN_OR_RETURN(std::string tier,
                               json::RequiredString(body, "subscription_tier", 64));
           GH_ASSIGN_OR_RETURN(auto tz, json::OptionalString(body, "timezone", 64));
           GH_ASSIGN_OR_RETURN(auto t, s.admin.CreateTenant(name, tier, tz.value_or("UTC")));
           ReplyJson(ctx, 201, TenantJson(t));
           return Status::Ok();
         }});
  r.Add({.method = "PUT",
         .pattern = "/api/admin/tenants/{tenant_id}/plan",
         .platform_operator = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string tier,
                               json::RequiredString(body, "subscription_tier", 64));
           TenantId id(ctx.Param("tenant_id"));
           GH_RETURN_IF_ERROR(s.admin.SetTenantPlan(id, tier));
           GH_ASSIGN_OR_RETURN(auto t, s.admin.GetTenant(id));
           ReplyJson(ctx, 200, TenantJson(*t));
           return Status::Ok();
         }});
  for (const char* action : {"suspend", "resume"}) {
    const std::string status = std::string(action) == "suspend" ? "suspended" : "active";
    r.Add({.method = "POST",
           .pattern = fmt::format("/api/admin/tenants/{{tenant_id}}/{}", action),
           .platform_operator = true,
           .sync = [&s, status](RequestContext& ctx) -> Status {
             TenantId id(ctx.Param("tenant_id"));
             GH_RETURN_IF_ERROR(s.admin.SetTenantStatus(id, status));
             GH_ASSIGN_OR_RETURN(auto t, s.admin.GetTenant(id));
             ReplyJson(ctx, 200, TenantJson(*t));
             return Status::Ok();
           }});
  }
  r.Add({.method = "GET",
         .pattern = "/api/admin/plans",
         .platform_operator = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           bj::array out;
           for (const auto& [name, plan] : s.plan_store.Current()->plans())
             out.push_back(tenancy::PlanToJson(plan));
           ReplyJson(ctx, 200, bj::object{{"plans", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "PUT",
         .pattern = "/api/admin/plans/{name}",
         .platform_operator = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           const std::string& name = ctx.Param("name");
           if (Slugify(name) != name || name.size() > 40)
             return Status::Unprocessable("plan names are lower-case letters, digits and dashes",
                                          "invalid_plan");
           auto current = s.plan_store.Current();
           tenancy::Plan plan = current->Find(name)
                                    ? *current->Find(name)
                                    : tenancy::PlanCatalog::Defaults().plans().at("basic");
           plan.name = name;
           GH_RETURN_IF_ERROR(tenancy::ApplyPlanJson(body, plan));
           GH_RETURN_IF_ERROR(s.plan_store.Put(plan));
           ReplyJson(ctx, 200, tenancy::PlanToJson(plan));
           return Status::Ok();
         }});
}

}  // namespace gh::api
