// Traces: a tenant's chat traces (list with filters, one trace with its spans in order, each with
// the cost it incurred) and its audit trail. Users see their own traces; tenant admins everyone's
// in the tenant.
#include <fmt/format.h>
#include <boost/json.hpp>

#include <charconv>

#include "api/json_io.h"
#include "api/observability_api.h"
#include "common/time_util.h"
#include "metering/usage_event.h"

namespace gh::api {

using pipeline::RequestContext;

namespace {

// A time bound: RFC 3339, or a date (its midnight UTC). Microseconds.
Result<std::optional<int64_t>> TimeParam(const RequestContext& ctx, std::string_view name) {
  auto v = ctx.request.Query(name);
  if (!v || v->empty()) return std::optional<int64_t>();
  std::optional<Timestamp> t = v->size() == 10 ? ParseDate(*v) : ParseRfc3339(*v);
  if (!t)
    return Status::InvalidArgument(
        fmt::format("`{}` must be a date or an RFC 3339 time, in the years {} to {}", name,
                    kMinYear, kMaxYear),
        "invalid_date");
  return std::optional<int64_t>(ToUnixMillis(*t) * 1000);
}

Result<std::optional<int64_t>> IntParam(const RequestContext& ctx, std::string_view name,
                                        int64_t min, int64_t max) {
  auto v = ctx.request.Query(name);
  if (!v || v->empty()) return std::optional<int64_t>();
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < min || out > max)
    return Status::InvalidArgument(
        fmt::format("`{}` must be an integer from {} to {}", name, min, max));
  return std::optional<int64_t>(out);
}

std::string UsIso(int64_t us) { return FormatRfc3339Millis(FromUnixMillis(us / 1000)); }

bj::object TraceJson(const storage::TraceRow& t) {
  return bj::object{{"trace_id", t.trace_id.value()},
                    {"user_id", t.user_id},
                    {"session_id", t.session_id},
                    {"name", t.name},
                    {"model", t.model},
                    {"started_at", UsIso(t.started_us)},
                    {"ended_at", UsIso(t.ended_us)},
                    {"duration_ms", (t.ended_us - t.started_us) / 1000},
                    {"status", t.status},
                    {"span_count", t.span_count},
                    {"cost_micros", t.cost_micros},
                    {"cost_usd", metering::FormatUsd(t.cost_micros)}};
}

bj::object SpanJson(const storage::SpanRow& s) {
  boost::system::error_code ec;
  bj::value attrs = bj::parse(s.attributes, ec);
  if (ec || !attrs.is_object()) attrs = bj::object();
  return bj::object{{"span_id", s.span_id},
                    {"parent_span_id",
                     s.parent_span_id.empty() ? bj::value(nullptr) : bj::value(s.parent_span_id)},
                    {"name", s.name},
                    {"kind", s.kind},
                    {"start_time_unix_us", s.start_us},
                    {"end_time_unix_us", s.end_us},
                    {"started_at", UsIso(s.start_us)},
                    {"duration_us", s.end_us - s.start_us},
                    {"status", s.status},
                    {"status_message", s.status_message},
                    {"cost_micros", s.cost_micros},
                    {"cost_usd", metering::FormatUsd(s.cost_micros)},
                    {"attributes", std::move(attrs)}};
}

}  // namespace

void RegisterTraceRoutes(pipeline::Router& r, metering::Metering& m) {
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/traces",
         .sync = [&m](RequestContext& ctx) -> Status {
           const auto& who = *ctx.principal;
           storage::TraceFilter f;
           if (auto u = ctx.request.Query("user_id"); u && !u->empty()) f.user_id = std::string(*u);
           if (!who.IsTenantAdmin()) {
             if (f.user_id && *f.user_id != who.user_id.value())
               return Status::PermissionDenied("you can only list your own traces", "forbidden");
             f.user_id = who.user_id.value();
           }
           if (auto s = ctx.request.Query("session_id"); s && !s->empty())
             f.session_id = std::string(*s);
           if (auto s = ctx.request.Query("status"); s && !s->empty()) {
             if (*s != "ok" && *s != "error")
               return Status::InvalidArgument("status must be ok or error");
             f.status = std::string(*s);
           }
           GH_ASSIGN_OR_RETURN(f.from_us, TimeParam(ctx, "from"));
           GH_ASSIGN_OR_RETURN(f.to_us, TimeParam(ctx, "to"));
           GH_ASSIGN_OR_RETURN(f.before_us, TimeParam(ctx, "before"));
           GH_ASSIGN_OR_RETURN(f.min_cost_micros, IntParam(ctx, "min_cost_micros", 0, INT64_MAX));
           GH_ASSIGN_OR_RETURN(auto limit, IntParam(ctx, "limit", 1, 200));
           f.limit = limit.value_or(50);
           GH_RETURN_IF_ERROR(
               m.recorder().Flush());  // what this process recorded so far is visible
           std::vector<storage::TraceRow> rows;
           GH_RETURN_IF_ERROR(m.db().Read([&](storage::Tx& tx) -> Status {
             GH_ASSIGN_OR_RETURN(rows, storage::traces::List(tx, who.tenant_id, f));
             return Status::Ok();
           }));
           bj::array out;
           for (const auto& t : rows) out.push_back(TraceJson(t));
           bj::object body{{"traces", std::move(out)}};
           if (static_cast<int64_t>(rows.size()) == f.limit)
             body["next_before"] = UsIso(rows.back().started_us);
           ReplyJson(ctx, 200, body);
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/traces/{trace_id}",
         .sync = [&m](RequestContext& ctx) -> Status {
           const auto& who = *ctx.principal;
           const TraceId id(ctx.Param("trace_id"));
           GH_RETURN_IF_ERROR(m.recorder().Flush());
           std::optional<storage::TraceRow> trace;
           std::vector<storage::SpanRow> spans;
           GH_RETURN_IF_ERROR(m.db().Read([&](storage::Tx& tx) -> Status {
             GH_ASSIGN_OR_RETURN(trace, storage::traces::Get(tx, who.tenant_id, id));
             if (trace) {
               GH_ASSIGN_OR_RETURN(spans, storage::traces::Spans(tx, who.tenant_id, id));
             }
             return Status::Ok();
           }));
           // Another user's trace is reported exactly like a missing one.
           if (!trace || (trace->user_id != who.user_id.value() && !who.IsTenantAdmin()))
             return Status::NotFound("no such trace", "trace_not_found");
           bj::object body = TraceJson(*trace);
           bj::array s;
           for (const auto& sp : spans) s.push_back(SpanJson(sp));
           body["spans"] = std::move(s);
           ReplyJson(ctx, 200, body);
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/audit",
         .tenant_admin = true,
         .sync = [&m](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto limit, IntParam(ctx, "limit", 1, 1000));
           GH_RETURN_IF_ERROR(m.recorder().Flush());
           std::vector<storage::AuditRow> rows;
           GH_RETURN_IF_ERROR(m.db().Read([&](storage::Tx& tx) -> Status {
             GH_ASSIGN_OR_RETURN(rows, storage::audit_log::ListForTenant(
                                           tx, ctx.principal->tenant_id, limit.value_or(100)));
             return Status::Ok();
           }));
           bj::array out;
           for (const auto& a : rows) {
             boost::system::error_code ec;
             bj::value detail = bj::parse(a.detail, ec);
             if (ec) detail = bj::object();
             out.push_back(bj::object{{"seq", a.seq},
                                      {"at", FormatRfc3339Millis(FromUnixMillis(a.at_ms))},
                                      {"actor", a.actor},
                                      {"action", a.action},
                                      {"target", a.target},
                                      {"outcome", a.outcome},
                                      {"detail", std::move(detail)},
                                      {"hash", a.hash}});
           }
           ReplyJson(ctx, 200, bj::object{{"records", std::move(out)}});
           return Status::Ok();
         }});
}

}  // namespace gh::api
