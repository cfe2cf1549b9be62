// Cost reports (seed 004): a user's own costs, and the tenant admin's reports (overall, per user,
// per service with the daily trend, one user's services, everything at once) when the plan
// includes cost reports; budgets and their alerts. `from` / `to` (YYYY-MM-DD, inclusive, UTC)
// choose the days; `?format=csv` answers text/csv.
#include <fmt/format.h>

#include <map>

#include "api/json_io.h"
#include "api/observability_api.h"
#include "common/time_util.h"
#include "metering/usage_event.h"
#include "storage/repositories.h"

namespace gh::api {

using metering::Breakdown;
using metering::CostReport;
using pipeline::RequestContext;

namespace {

std::optional<std::string> Query(const RequestContext& ctx, std::string_view name) {
  auto v = ctx.request.Query(name);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

Result<metering::DateRange> RangeOf(const RequestContext& ctx, const Clock& clock) {
  return metering::ParseDateRange(Query(ctx, "from"), Query(ctx, "to"), clock.Now());
}

Result<bool> WantsCsv(const RequestContext& ctx) {
  auto f = ctx.request.Query("format");
  if (!f || *f == "json") return false;
  if (*f == "csv") return true;
  return Status::InvalidArgument("format must be json or csv", "invalid_format");
}

Status RequireCostReports(const RequestContext& ctx) {
  if (ctx.plan->cost_reports != "admin")
    return Status::PermissionDenied(
        fmt::format("the {} plan does not include cost reports", ctx.plan->name),
        "plan_lacks_cost_reports");
  return Status::Ok();
}

bj::object TotalsJson(const storage::CostTotals& t) {
  return bj::object{{"cost_micros", t.cost_micros},
                    {"cost_usd", metering::FormatUsd(t.cost_micros)},
                    {"list_cost_micros", t.list_cost_micros},
                    {"events", t.events},
                    {"quantity", t.quantity},
                    {"input_tokens", t.input_tokens},
                    {"output_tokens", t.output_tokens},
                    {"cache_read_tokens", t.cache_read_tokens},
                    {"cache_write_tokens", t.cache_write_tokens}};
}

bj::array BreakdownJson(const std::vector<Breakdown>& v, const char* key,
                        const char* parts_name = nullptr, const char* part_key = nullptr,
                        const std::map<std::string, std::string>* emails = nullptr) {
  bj::array out;
  for (const auto& b : v) {
    bj::object o{{key, b.key}};
    if (emails) {
      auto it = emails->find(b.key);
      o["email"] = it == emails->end() ? bj::value(nullptr) : bj::value(it->second);
    }
    for (auto& [k, val] : TotalsJson(b.totals)) o[k] = val;
    if (parts_name) o[parts_name] = BreakdownJson(b.parts, part_key);
    out.push_back(std::move(o));
  }
  return out;
}

bj::object TraceSummaryJson(const storage::TraceRow& t) {
  return bj::object{{"trace_id", t.trace_id.value()},
                    {"user_id", t.user_id},
                    {"session_id", t.session_id},
                    {"name", t.name},
                    {"model", t.model},
                    {"started_at", FormatRfc3339Millis(FromUnixMillis(t.started_us / 1000))},
                    {"duration_ms", (t.ended_us - t.started_us) / 1000},
                    {"status", t.status},
                    {"span_count", t.span_count},
                    {"cost_micros", t.cost_micros},
                    {"cost_usd", metering::FormatUsd(t.cost_micros)}};
}

bj::object ReportJson(const RequestContext& ctx, const CostReport& r,
                      const std::map<std::string, std::string>& emails, bool services, bool daily,
                      bool users, bool traces) {
  bj::object o{{"tenant_id", ctx.principal->tenant_id.value()},
               {"from", r.range.from},
               {"to", r.range.to},
               {"currency", "USD"},
               {"total", TotalsJson(r.total)}};
  if (r.user_id) {
    o["user_id"] = *r.user_id;
    auto it = emails.find(*r.user_id);
    o["email"] = it == emails.end() ? bj::value(nullptr) : bj::value(it->second);
  }
  if (services) o["services"] = BreakdownJson(r.services, "service", "resources", "resource");
  if (daily) o["daily"] = BreakdownJson(r.daily, "date", "services", "service");
  if (users) o["users"] = BreakdownJson(r.users, "user_id", "services", "service", &emails);
  if (traces) {
    bj::array t;
    for (const auto& tr : r.top_traces) t.push_back(TraceSummaryJson(tr));
    o["top_traces"] = std::move(t);
  }
  return o;
}

// CSV: one row per figure, in one shape for every report (section says what the row is).
std::string CsvCell(std::string_view v) {
  std::string s(v);
  // A cell a spreadsheet would run as a formula is neutralised.
  if (!s.empty() &&
      (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
    s.insert(s.begin(), '\'');
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string ReportCsv(const CostReport& r, const std::map<std::string, std::string>& emails,
                      bool services, bool daily, bool users) {
  std::string out =
      "section,from,to,date,user_id,email,service,resource,events,quantity,input_tokens,output_"
      "tokens,"
      "cache_read_tokens,cache_write_tokens,list_cost_micros,cost_micros,cost_usd\r\n";
  auto row = [&](std::string_view section, std::string_view date, std::string_view user,
                 std::string_view service, std::string_view resource,
                 const storage::CostTotals& t) {
    std::string email;
    if (!user.empty())
      if (auto it = emails.find(std::string(user)); it != emails.end()) email = it->second;
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n", section,
                       r.range.from, r.range.to, date, CsvCell(user), CsvCell(email),
                       CsvCell(service), CsvCell(resource), t.events, t.quantity, t.input_tokens,
                       t.output_tokens, t.cache_read_tokens, t.cache_write_tokens,
                       t.list_cost_micros, t.cost_micros, metering::FormatUsd(t.cost_micros));
  };
  row("total", "", r.user_id.value_or(""), "", "", r.total);
  if (services)
    for (const auto& s : r.services) {
      row("service", "", r.user_id.value_or(""), s.key, "", s.totals);
      for (const auto& p : s.parts)
        row("resource", "", r.user_id.value_or(""), s.key, p.key, p.totals);
    }
  if (daily)
    for (const auto& d : r.daily)
      for (const auto& p : d.parts)
        row("daily", d.key, r.user_id.value_or(""), p.key, "", p.totals);
  if (users)
    for (const auto& u : r.users) {
      row("user", "", u.key, "", "", u.totals);
      for (const auto& p : u.parts) row("user_service", "", u.key, p.key, "", p.totals);
    }
  return out;
}

Result<std::map<std::string, std::string>> Emails(metering::Metering& m, const TenantId& tenant) {
  std::map<std::string, std::string> out;
  GH_RETURN_IF_ERROR(m.db().Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto users, storage::users::List(tx, tenant));
    for (const auto& u : users) out[u.id.value()] = u.email;
    return Status::Ok();
  }));
  return out;
}

enum Parts : unsigned { kServices = 1, kDaily = 2, kUsers = 4, kTraces = 8 };

// Renders a report as JSON or CSV.
Status Reply(RequestContext& ctx, metering::Metering& m, const char* name, const CostReport& r,
             unsigned parts) {
  GH_ASSIGN_OR_RETURN(bool csv, WantsCsv(ctx));
  std::map<std::string, std::string> emails;
  if ((parts & kUsers) || r.user_id) {
    GH_ASSIGN_OR_RETURN(emails, Emails(m, ctx.principal->tenant_id));
  }
  if (!csv) {
    ReplyJson(ctx, 200,
              ReportJson(ctx, r, emails, parts & kServices, parts & kDaily, parts & kUsers,
                         parts & kTraces));
    return Status::Ok();
  }
  ctx.response = http::Response::Text(
      200, ReportCsv(r, emails, parts & kServices, parts & kDaily, parts & kUsers),
      "text/csv; charset=utf-8");
  ctx.response.headers.Set("content-disposition",
                           fmt::format("attachment; filename=\"{}-{}-{}-{}.csv\"", name,
                                       ctx.principal->tenant_id.value(), r.range.from, r.range.to));
  return Status::Ok();
}

// A user may read their own costs; a tenant admin anyone's in the tenant.
Status MayReadUser(const RequestContext& ctx, const std::string& user_id) {
  if (user_id == ctx.principal->user_id.value() || ctx.principal->IsTenantAdmin())
    return Status::Ok();
  return Status::PermissionDenied("you can only read your own costs", "forbidden");
}

bj::object BudgetJson(const metering::BudgetStatus& b) {
  bj::object o{{"month", b.month},
               {"spend_micros", b.spend_micros},
               {"spend_usd", metering::FormatUsd(b.spend_micros)}};
  if (b.budget) {
    bj::array th;
    for (int64_t t : b.budget->thresholds) th.push_back(t);
    o["budget"] =
        bj::object{{"monthly_budget_micros", b.budget->monthly_budget_micros},
                   {"monthly_budget_usd", metering::FormatUsd(b.budget->monthly_budget_micros)},
                   {"thresholds", std::move(th)},
                   {"updated_at", Iso(b.budget->updated_at)},
                   {"updated_by", b.budget->updated_by}};
  } else {
    o["budget"] = nullptr;
  }
  bj::array alerts;
  for (const auto& a : b.alerts)
    alerts.push_back(bj::object{
        {"month", a.month},
        {"threshold_percent", a.threshold_percent},
        {"spend_micros", a.spend_micros},
        {"budget_micros", a.budget_micros},
        {"created_at", Iso(a.created_at)},
        {"delivered_at", a.delivered_at ? bj::value(Iso(*a.delivered_at)) : bj::value(nullptr)},
        {"delivery_error", a.delivery_error ? bj::value(*a.delivery_error) : bj::value(nullptr)}});
  o["alerts"] = std::move(alerts);
  return o;
}

// Reports listing top traces: what this process recorded so far is visible first (a request's
// spans and trace summary linger up to metering.trace_linger_ms for a group commit).
Status TracesVisible(metering::Metering& m) { return m.recorder().Flush(); }

}  // namespace

void RegisterCostRoutes(pipeline::Router& r, metering::Metering& m) {
  // ---- user level ----
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/costs",
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto range, RangeOf(ctx, m.clock()));
           GH_RETURN_IF_ERROR(TracesVisible(m));
           GH_ASSIGN_OR_RETURN(auto rep, m.reports().ForUser(ctx.principal->tenant_id,
                                                             ctx.principal->user_id, range));
           return Reply(ctx, m, "costs", rep, kServices | kDaily | kTraces);
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/users/{user_id}/costs",
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(MayReadUser(ctx, ctx.Param("user_id")));
           GH_ASSIGN_OR_RETURN(auto range, RangeOf(ctx, m.clock()));
           GH_RETURN_IF_ERROR(TracesVisible(m));
           GH_ASSIGN_OR_RETURN(auto rep, m.reports().ForUser(ctx.principal->tenant_id,
                                                             UserId(ctx.Param("user_id")), range));
           return Reply(ctx, m, "user-costs", rep, kServices | kDaily | kTraces);
         }});

  // ---- tenant admins, on a plan with cost reports ----
  r.Add({.method = "GET",
         .pattern = "/api/admin/tenants/{tenant_id}/overall-cost",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(RequireCostReports(ctx));
           GH_ASSIGN_OR_RETURN(auto range, RangeOf(ctx, m.clock()));
           GH_ASSIGN_OR_RETURN(auto rep, m.reports().Overall(ctx.principal->tenant_id, range));
           return Reply(ctx, m, "overall-cost", rep, kServices);
         }});
  r.Add({.method = "GET",
         .pattern = "/api/admin/tenants/{tenant_id}/per-user-cost",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(RequireCostReports(ctx));
           GH_ASSIGN_OR_RETURN(auto range, RangeOf(ctx, m.clock()));
           GH_ASSIGN_OR_RETURN(auto rep, m.reports().PerUser(ctx.principal->tenant_id, range));
           return Reply(ctx, m, "per-user-cost", rep, kUsers);
         }});
  r.Add({.method = "GET",
         .pattern = "/api/admin/tenants/{tenant_id}/service-wise-cost",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(RequireCostReports(ctx));
           GH_ASSIGN_OR_RETURN(auto range, RangeOf(ctx, m.clock()));
           GH_ASSIGN_OR_RETURN(auto rep, m.reports().ServiceWise(ctx.principal->tenant_id, range));
           return Reply(ctx, m, "service-wise-cost", rep, kServices | kDaily);
         }});
  r.Add({.method = "GET",
         .pattern = "/api/admin/tenants/{tenant_id}/users/{user_id}/service-cost",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(RequireCostReports(ctx));
           GH_ASSIGN_OR_RETURN(auto range, RangeOf(ctx, m.clock()));
           GH_RETURN_IF_ERROR(TracesVisible(m));
           GH_ASSIGN_OR_RETURN(auto rep, m.reports().ForUser(ctx.principal->tenant_id,
                                                             UserId(ctx.Param("user_id")), range));
           return Reply(ctx, m, "service-cost", rep, kServices | kDaily | kTraces);
         }});
  r.Add({.method = "GET",
         .pattern = "/api/admin/tenants/{tenant_id}/comprehensive-report",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(RequireCostReports(ctx));
           GH_ASSIGN_OR_RETURN(auto range, RangeOf(ctx, m.clock()));
           GH_RETURN_IF_ERROR(TracesVisible(m));
           GH_ASSIGN_OR_RETURN(auto rep,
                               m.reports().Comprehensive(ctx.principal->tenant_id, range));
           return Reply(ctx, m, "comprehensive-report", rep, kServices | kDaily | kUsers | kTraces);
         }});

  // ---- budgets ----
  r.Add({.method = "GET",
         .pattern = "/api/admin/tenants/{tenant_id}/budget",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto b, m.budgets().Get(ctx.principal->tenant_id));
           ReplyJson(ctx, 200, BudgetJson(b));
           return Status::Ok();
         }});
  r.Add({.method = "PUT",
         .pattern = "/api/admin/tenants/{tenant_id}/budget",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           auto* budget = body.if_contains("monthly_budget_micros");
           if (!budget || !budget->is_int64() || budget->get_int64() <= 0)
             return Status::InvalidArgument("monthly_budget_micros must be a positive integer",
                                            "invalid_budget");
           std::vector<int64_t> thresholds;
           if (auto* t = body.if_contains("thresholds"); t && !t->is_null()) {
             if (!t->is_array())
               return Status::InvalidArgument("thresholds must be a list of percentages",
                                              "invalid_budget");
             for (const auto& x : t->get_array()) {
               if (!x.is_int64())
                 return Status::InvalidArgument("thresholds must be integers", "invalid_budget");
               thresholds.push_back(x.get_int64());
             }
           }
           GH_RETURN_IF_ERROR(m.budgets().Set(ctx.principal->tenant_id, budget->get_int64(),
                                              thresholds,
                                              "user:" + ctx.principal->user_id.value()));
           GH_ASSIGN_OR_RETURN(auto b, m.budgets().Get(ctx.principal->tenant_id));
           ReplyJson(ctx, 200, BudgetJson(b));
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/admin/tenants/{tenant_id}/budget",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(m.budgets().Clear(ctx.principal->tenant_id));
           ReplyJson(ctx, 200, bj::object{{"deleted", true}});
           return Status::Ok();
         }});
}

}  // namespace gh::api
