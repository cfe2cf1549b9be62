// Tenant endpoints: invitations, groups, the subscription (plan), usage against its limits, and
// the tenant's agent settings (the system prompt template).
#include <chrono>

#include "api/json_io.h"
#include "api/services.h"
#include "chat/system_prompt.h"
#include "common/time_util.h"
#include "storage/repositories.h"
#include "storage/tenant_settings_repository.h"

namespace gh::api {

using pipeline::RequestContext;

namespace {

bj::object WindowJson(const tenancy::UsageWindow& w, const char* period_key) {
  return bj::object{{period_key, w.period},
                    {"messages", w.messages},
                    {"input_tokens", w.input_tokens},
                    {"output_tokens", w.output_tokens},
                    {"spend_micros", w.spend_micros},
                    {"limit", OptionalInt(w.limit)},
                    {"remaining", OptionalInt(w.remaining)},
                    {"resets_in_seconds", w.resets_in_seconds}};
}

bj::object SnapshotJson(const tenancy::UsageSnapshot& u) {
  return bj::object{{"day", WindowJson(u.day, "date")},
                    {"month", WindowJson(u.month, "month")},
                    {"tokens_per_month", OptionalInt(u.tokens_limit)},
                    {"budget_micros_per_month", OptionalInt(u.budget_micros_limit)}};
}

// Daily messages and tokens over the last `days` days, oldest first, zero-filled.
Result<bj::array> History(Services& s, const TenantId& tenant, const tenancy::Limits& limits,
                          int days) {
  static const TimeZone kUtc = TimeZone::Utc();
  const TimeZone& zone = limits.zone ? *limits.zone : kUtc;
  auto now = s.clock.Now();
  auto day_of = [&](int back) {
    return tenancy::WindowsAt(now - std::chrono::hours(24) * back, zone).day;
  };
  std::string to = "d:" + day_of(0);
  std::string from = "d:" + day_of(days - 1);
  std::vector<std::pair<storage::CounterKey, int64_t>> rows;
  GH_RETURN_IF_ERROR(s.db.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(rows, storage::counters::ListRange(tx, tenant, "tenant", from, to));
    return Status::Ok();
  }));
  bj::array out;
  for (int i = days - 1; i >= 0; --i) {
    std::string day = day_of(i);
    bj::object o{{"date", day}, {"messages", 0}, {"input_tokens", 0}, {"output_tokens", 0}};
    for (const auto& [key, used] : rows)
      if (key.period == "d:" + day) o[key.metric] = used;
    out.push_back(std::move(o));
  }
  return out;
}

bj::object SettingsJson(const TenantId& tenant,
                        const std::optional<storage::TenantSettingsRecord>& rec) {
  bj::object o{{"tenant_id", tenant.value()},
               {"system_prompt_template", nullptr},
               {"updated_at", nullptr},
               {"placeholders", bj::array{"tenant_name", "tenant_id", "user_email", "user_id",
                                          "tier", "role", "date"}}};
  if (rec) {
    if (rec->system_prompt_template) o["system_prompt_template"] = *rec->system_prompt_template;
    o["updated_at"] = Iso(rec->updated_at);
  }
  return o;
}

}  // namespace

void RegisterTenantRoutes(pipeline::Router& r, Services& s) {
  r.Add({.method = "POST",
         .pattern = "/api/tenants/{tenant_id}/invitations",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(
               auto inv, s.identity.CreateInvitation(*ctx.principal, ctx.principal->tenant_id));
           ReplyJson(
               ctx, 201,
               bj::object{{"invite_code", inv.code}, {"expires_at", Iso(inv.expires_at * 1000)}});
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/admin/add-to-group",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string email, json::RequiredString(body, "email", 254));
           GH_ASSIGN_OR_RETURN(std::string group, json::RequiredString(body, "group", 100));
           GH_ASSIGN_OR_RETURN(auto groups, s.identity.AddToGroup(*ctx.principal, email, group));
           bj::array g;
           for (const auto& x : groups) g.emplace_back(x);
           ReplyJson(ctx, 200, bj::object{{"email", email}, {"groups", std::move(g)}});
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/subscription",
         .sync = [](RequestContext& ctx) -> Status {
           ReplyJson(ctx, 200,
                     bj::object{{"tenant_id", ctx.tenant->id.value()},
                                {"tenant_name", ctx.tenant->name},
                                {"subscription_tier", ctx.tenant->tier},
                                {"status", ctx.tenant->status},
                                {"plan", tenancy::PlanToJson(*ctx.plan)}});
           return Status::Ok();
         }});
  // Agent settings: tenant admins only (the tenant filter refuses another tenant's id with 403).
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/settings",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           std::optional<storage::TenantSettingsRecord> rec;
           GH_RETURN_IF_ERROR(s.db.Read([&](storage::Tx& tx) -> Status {
             GH_ASSIGN_OR_RETURN(rec, storage::tenant_settings::Get(tx, ctx.tenant->id));
             return Status::Ok();
           }));
           ReplyJson(ctx, 200, SettingsJson(ctx.tenant->id, rec));
           return Status::Ok();
         }});
  r.Add({.method = "PUT",
         .pattern = "/api/tenants/{tenant_id}/settings",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           const bj::value* v = body.if_contains("system_prompt_template");
           if (!v)
             return Status::InvalidArgument(
                 "system_prompt_template is required (a string, or null for the "
                 "built-in prompt)",
                 "missing_field");
           if (!v->is_string() && !v->is_null())
             return Status::InvalidArgument("system_prompt_template must be a string or null",
                                            "invalid_field");
           for (const auto& [key, _] : body)
             if (key != "system_prompt_template")
               return Status::InvalidArgument("unknown setting '" + std::string(key) + "'",
                                              "invalid_field");
           storage::TenantSettingsRecord rec{ctx.tenant->id, std::nullopt, s.clock.NowUnixMillis(),
                                             ctx.principal->user_id};
           if (v->is_string() && !v->get_string().empty()) {
             std::string tmpl(v->get_string());
             GH_RETURN_IF_ERROR(chat::ValidatePromptTemplate(tmpl));
             rec.system_prompt_template = std::move(tmpl);
           }
           GH_RETURN_IF_ERROR(s.db.Write(
               [&](storage::Tx& tx) { return storage::tenant_settings::Upsert(tx, rec); }));
           if (s.directory)
             s.directory->ForgetSettings(ctx.tenant->id);  // the next turn uses the new prompt
           ReplyJson(ctx, 200, SettingsJson(ctx.tenant->id, rec));
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/usage",
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto limits,
                               s.quota.LimitsFor(*ctx.tenant, ctx.principal->user_id, *ctx.plan));
           GH_ASSIGN_OR_RETURN(auto usage, s.quota.Usage(ctx.tenant->id, std::nullopt, limits));
           GH_ASSIGN_OR_RETURN(auto mine,
                               s.quota.Usage(ctx.tenant->id, ctx.principal->user_id, limits));
           GH_ASSIGN_OR_RETURN(auto history, History(s, ctx.tenant->id, limits, 14));
           bj::object out = SnapshotJson(usage);
           out["tenant_id"] = ctx.tenant->id.value();
           out["subscription_tier"] = ctx.tenant->tier;
           out["timezone"] = ctx.tenant->timezone;
           out["user"] = SnapshotJson(mine);
           out["history"] = std::move(history);
           ReplyJson(ctx, 200, out);
           return Status::Ok();
         }});
}

}  // namespace gh::api
