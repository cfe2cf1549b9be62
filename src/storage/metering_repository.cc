#include "storage/metering_repository.h"

#include <fmt/format.h>

#include "common/strings.h"
#include "common/time_util.h"
#include "storage/row_mapping.h"

namespace gh::storage {

CostTotals& CostTotals::operator+=(const CostTotals& o) {
  events += o.events;
  input_tokens += o.input_tokens;
  output_tokens += o.output_tokens;
  cache_read_tokens += o.cache_read_tokens;
  cache_write_tokens += o.cache_write_tokens;
  quantity += o.quantity;
  list_cost_micros += o.list_cost_micros;
  cost_micros += o.cost_micros;
  return *this;
}

namespace {

using namespace row_mapping;

constexpr const char* kTotalsCols =
    "events, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, quantity, "
    "list_cost_micros, cost_micros";
constexpr const char* kTotalsSums =
    "CAST(COALESCE(SUM(events), 0) AS BIGINT), CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT), "
    "CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(cache_read_tokens), 0) AS "
    "BIGINT), "
    "CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT), CAST(COALESCE(SUM(quantity), 0) AS "
    "BIGINT), "
    "CAST(COALESCE(SUM(list_cost_micros), 0) AS BIGINT), CAST(COALESCE(SUM(cost_micros), 0) AS "
    "BIGINT)";

std::string AddTotals(const char* table) {
  return fmt::format(
      " DO UPDATE SET events = {0}.events + excluded.events, input_tokens = {0}.input_tokens + "
      "excluded.input_tokens, "
      "output_tokens = {0}.output_tokens + excluded.output_tokens, cache_read_tokens = "
      "{0}.cache_read_tokens + "
      "excluded.cache_read_tokens, cache_write_tokens = {0}.cache_write_tokens + "
      "excluded.cache_write_tokens, "
      "quantity = {0}.quantity + excluded.quantity, list_cost_micros = {0}.list_cost_micros + "
      "excluded.list_cost_micros, cost_micros = {0}.cost_micros + excluded.cost_micros",
      table);
}

void BindTotals(const CostTotals& t, std::vector<Value>& p) {
  p.insert(p.end(), {t.events, t.input_tokens, t.output_tokens, t.cache_read_tokens,
                     t.cache_write_tokens, t.quantity, t.list_cost_micros, t.cost_micros});
}

// Reads the 8 totals starting at column `first`.
CostTotals Totals(const Row& r, size_t first) {
  return {r.Int(first),     r.Int(first + 1), r.Int(first + 2), r.Int(first + 3),
          r.Int(first + 4), r.Int(first + 5), r.Int(first + 6), r.Int(first + 7)};
}

// A report query: SELECT <group columns>, <sums> ... GROUP BY <group columns>; `fill` maps the
// group columns onto a CostRow.
template <typename Fill>
Result<std::vector<CostRow>> Grouped(Tx& tx, const std::string& groups, size_t ngroups,
                                     const std::string& from_where,
                                     const std::vector<Value>& params, Fill fill) {
  std::string sql = fmt::format("SELECT {}, {} FROM {} GROUP BY {} ORDER BY {}", groups,
                                kTotalsSums, from_where, groups, groups);
  return Many<CostRow>(tx.Query(sql, params), [&](const Row& r) {
    CostRow row;
    fill(r, row);
    row.totals = Totals(r, ngroups);
    return row;
  });
}

std::string JoinInts(const std::vector<int64_t>& v) {
  std::string out;
  for (int64_t x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

std::vector<int64_t> SplitInts(const std::string& s) {
  std::vector<int64_t> out;
  for (auto part : Split(s, ','))
    if (!Trim(part).empty())
      out.push_back(std::strtoll(std::string(Trim(part)).c_str(), nullptr, 10));
  return out;
}

}  // namespace

// ---- usage events ----
namespace metering_groups {
Result<bool> Claim(Tx& tx, const std::string& id, int64_t now_ms) {
  GH_ASSIGN_OR_RETURN(int64_t n,
                      tx.Exec("INSERT INTO metering_groups (id, created_at) VALUES (?, ?)"
                              " ON CONFLICT (id) DO NOTHING",
                              {id, now_ms}));
  return n == 1;
}
Result<int64_t> PurgeBefore(Tx& tx, int64_t cutoff_ms) {
  return tx.Exec("DELETE FROM metering_groups WHERE created_at < ?", {cutoff_ms});
}
}  // namespace metering_groups

namespace usage_events {
namespace {
constexpr const char* kCols =
    "event_id, tenant_id, user_id, session_id, trace_id, span_id, service, resource, input_tokens, "
    "output_tokens, "
    "cache_read_tokens, cache_write_tokens, quantity, list_cost_micros, cost_micros, "
    "catalog_version, status, day, "
    "created_at";
}  // namespace

Status InsertMany(Tx& tx, const std::vector<UsageEventRow>& rows) {
  return InsertChunked(
      tx, std::string("INSERT INTO usage_events (") + kCols + ")", "", 19, rows,
      [](const UsageEventRow& e, std::vector<Value>& p) {
        p.insert(p.end(), {e.event_id, e.tenant_id.value(), e.user_id.value(), e.session_id.value(),
                           e.trace_id.value(), e.span_id, e.service, e.resource, e.input_tokens,
                           e.output_tokens, e.cache_read_tokens, e.cache_write_tokens, e.quantity,
                           e.list_cost_micros, e.cost_micros, e.catalog_version, e.status, e.day,
                           e.created_at});
      });
}

Result<std::vector<UsageEventRow>> List(Tx& tx, const TenantId& tenant, int64_t from_ms,
                                        int64_t to_ms, int64_t limit) {
  return Many<UsageEventRow>(tx.Query(fmt::format("SELECT {} FROM usage_events WHERE tenant_id = ? "
                                                  "AND created_at >= ? AND created_at < ? "
                                                  "ORDER BY created_at, event_id LIMIT ?",
                                                  kCols),
                                      {tenant.value(), from_ms, to_ms, limit}),
                             [](const Row& r) {
                               return UsageEventRow{r.Text(0),          TenantId(r.Text(1)),
                                                    UserId(r.Text(2)),  SessionId(r.Text(3)),
                                                    TraceId(r.Text(4)), r.Text(5),
                                                    r.Text(6),          r.Text(7),
                                                    r.Int(8),           r.Int(9),
                                                    r.Int(10),          r.Int(11),
                                                    r.Int(12),          r.Int(13),
                                                    r.Int(14),          r.Text(15),
                                                    r.Text(16),         r.Text(17),
                                                    r.Int(18)};
                             });
}

Result<int64_t> PurgeBefore(Tx& tx, const std::string& id_cutoff, int64_t limit) {
  return tx.Exec(
      "DELETE FROM usage_events WHERE event_id IN (SELECT event_id FROM usage_events WHERE "
      "event_id < ? "
      "ORDER BY event_id LIMIT ?)",
      {id_cutoff, limit});
}
}  // namespace usage_events

// ---- cost roll-ups ----
namespace cost_rollups {

Status AddDailyUser(Tx& tx, const TenantId& tenant, const std::vector<CostRow>& rows) {
  return InsertChunked(
      tx,
      std::string("INSERT INTO cost_daily_user (tenant_id, day, user_id, service, resource, ") +
          kTotalsCols + ")",
      " ON CONFLICT (tenant_id, day, user_id, service, resource)" + AddTotals("cost_daily_user"),
      13, rows, [&](const CostRow& c, std::vector<Value>& p) {
        p.insert(p.end(), {tenant.value(), c.day, c.user_id, c.service, c.resource});
        BindTotals(c.totals, p);
      });
}

Status AddMonthlyUser(Tx& tx, const TenantId& tenant, const std::vector<CostRow>& rows) {
  return InsertChunked(
      tx,
      std::string("INSERT INTO cost_monthly_user (tenant_id, month, user_id, service, resource, ") +
          kTotalsCols + ")",
      " ON CONFLICT (tenant_id, month, user_id, service, resource)" +
          AddTotals("cost_monthly_user"),
      13, rows, [&](const CostRow& c, std::vector<Value>& p) {
        p.insert(p.end(), {tenant.value(), c.day, c.user_id, c.service, c.resource});
        BindTotals(c.totals, p);
      });
}

Status AddDailyTenant(Tx& tx, const TenantId& tenant, const std::vector<CostRow>& rows) {
  return InsertChunked(
      tx,
      std::string("INSERT INTO cost_daily_tenant (tenant_id, day, service, resource, ") +
          kTotalsCols + ")",
      " ON CONFLICT (tenant_id, day, service, resource)" + AddTotals("cost_daily_tenant"), 12, rows,
      [&](const CostRow& c, std::vector<Value>& p) {
        p.insert(p.end(), {tenant.value(), c.day, c.service, c.resource});
        BindTotals(c.totals, p);
      });
}

Status AddMonthly(Tx& tx, const TenantId& tenant, const std::string& month, const CostTotals& t) {
  return Done(tx.Exec(
      "INSERT INTO cost_monthly_tenant (tenant_id, month, events, list_cost_micros, cost_micros) "
      "VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (tenant_id, month) DO UPDATE SET events = cost_monthly_tenant.events + "
      "excluded.events, "
      "list_cost_micros = cost_monthly_tenant.list_cost_micros + excluded.list_cost_micros, "
      "cost_micros = cost_monthly_tenant.cost_micros + excluded.cost_micros",
      {tenant.value(), month, t.events, t.list_cost_micros, t.cost_micros}));
}

Result<CostTotals> Month(Tx& tx, const TenantId& tenant, const std::string& month) {
  GH_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("SELECT events, list_cost_micros, cost_micros FROM cost_monthly_tenant "
                            "WHERE tenant_id = ? AND month = ?",
                            {tenant.value(), month}));
  CostTotals t;
  if (row) {
    t.events = row->Int(0);
    t.list_cost_micros = row->Int(1);
    t.cost_micros = row->Int(2);
  }
  return t;
}

std::vector<RangePart> SplitIntoMonths(const std::string& from_day, const std::string& to_day) {
  const std::vector<RangePart> days_only = {{false, from_day, to_day}};
  const auto from = ParseDate(from_day);
  const auto to = ParseDate(to_day);
  if (!from || !to || DayKey(*from) != from_day || DayKey(*to) != to_day || *from > *to)
    return days_only;
  constexpr auto kDay = std::chrono::hours(24);
  // The 28th plus four days is always in the next month; the 1st minus one day in the previous.
  const auto next_month = [&](const std::string& month) {
    return MonthKey(*ParseDate(month + "-28") + 4 * kDay);
  };
  const auto prev_month = [&](const std::string& month) {
    return MonthKey(*ParseDate(month + "-01") - kDay);
  };
  // The first whole month starts on `from` if that is a 1st; the last one ends on `to` if the next
  // day is a 1st.
  const std::string first =
      from_day.ends_with("-01") ? MonthKey(*from) : next_month(MonthKey(*from));
  const std::string last =
      DayKey(*to + kDay).ends_with("-01") ? MonthKey(*to) : prev_month(MonthKey(*to));
  if (first > last) return days_only;
  std::vector<RangePart> parts;
  if (from_day < first + "-01")
    parts.push_back({false, from_day, DayKey(*ParseDate(first + "-01") - kDay)});
  parts.push_back({true, first, last});
  const std::string after = next_month(last) + "-01";
  if (after <= to_day) parts.push_back({false, after, to_day});
  return parts;
}

namespace {

// A per-user report query over [from_day, to_day] (`where` selects the tenant, and the user if
// any): one index range scan per part of SplitIntoMonths, summed by `groups`.
template <typename Fill>
Result<std::vector<CostRow>> GroupedUserRollups(Tx& tx, const std::string& groups, size_t ngroups,
                                                const std::string& where,
                                                const std::vector<Value>& where_params,
                                                const std::string& from_day,
                                                const std::string& to_day, Fill fill) {
  const std::vector<RangePart> parts = SplitIntoMonths(from_day, to_day);
  std::vector<Value> params;
  if (parts.size() == 1 && !parts.front().months) {
    params = where_params;
    params.insert(params.end(), {from_day, to_day});
    return Grouped(tx, groups, ngroups,
                   "cost_daily_user WHERE " + where + " AND day >= ? AND day <= ?", params, fill);
  }
  std::string branches;
  for (const RangePart& part : parts) {
    if (!branches.empty()) branches += " UNION ALL ";
    branches += fmt::format("SELECT {0}, {1} FROM {2} WHERE {3} AND {4} >= ? AND {4} <= ?", groups,
                            kTotalsCols, part.months ? "cost_monthly_user" : "cost_daily_user",
                            where, part.months ? "month" : "day");
    params.insert(params.end(), where_params.begin(), where_params.end());
    params.insert(params.end(), {part.from, part.to});
  }
  return Grouped(tx, groups, ngroups, "(" + branches + ") AS parts", params, fill);
}

}  // namespace

Result<std::vector<CostRow>> TenantByServiceResource(Tx& tx, const TenantId& tenant,
                                                     const std::string& from_day,
                                                     const std::string& to_day) {
  return Grouped(tx, "service, resource", 2,
                 "cost_daily_tenant WHERE tenant_id = ? AND day >= ? AND day <= ?",
                 {tenant.value(), from_day, to_day}, [](const Row& r, CostRow& c) {
                   c.service = r.Text(0);
                   c.resource = r.Text(1);
                 });
}

Result<std::vector<CostRow>> TenantByDayService(Tx& tx, const TenantId& tenant,
                                                const std::string& from_day,
                                                const std::string& to_day) {
  return Grouped(tx, "day, service", 2,
                 "cost_daily_tenant WHERE tenant_id = ? AND day >= ? AND day <= ?",
                 {tenant.value(), from_day, to_day}, [](const Row& r, CostRow& c) {
                   c.day = r.Text(0);
                   c.service = r.Text(1);
                 });
}

Result<std::vector<CostRow>> ByUserService(Tx& tx, const TenantId& tenant,
                                           const std::string& from_day, const std::string& to_day) {
  return GroupedUserRollups(tx, "user_id, service", 2, "tenant_id = ?", {tenant.value()}, from_day,
                            to_day, [](const Row& r, CostRow& c) {
                              c.user_id = r.Text(0);
                              c.service = r.Text(1);
                            });
}

Result<std::vector<CostRow>> UserByServiceResource(Tx& tx, const TenantId& tenant,
                                                   const UserId& user, const std::string& from_day,
                                                   const std::string& to_day) {
  return GroupedUserRollups(tx, "service, resource", 2, "tenant_id = ? AND user_id = ?",
                            {tenant.value(), user.value()}, from_day, to_day,
                            [](const Row& r, CostRow& c) {
                              c.service = r.Text(0);
                              c.resource = r.Text(1);
                            });
}

Result<std::vector<CostRow>> UserByDayService(Tx& tx, const TenantId& tenant, const UserId& user,
                                              const std::string& from_day,
                                              const std::string& to_day) {
  return Grouped(tx, "day, service", 2,
                 "cost_daily_user WHERE tenant_id = ? AND user_id = ? AND day >= ? AND day <= ?",
                 {tenant.value(), user.value(), from_day, to_day}, [](const Row& r, CostRow& c) {
                   c.day = r.Text(0);
                   c.service = r.Text(1);
                 });
}

Status PurgeBefore(Tx& tx, const std::string& day_cutoff) {
  GH_RETURN_IF_ERROR(Done(tx.Exec("DELETE FROM cost_daily_user WHERE day < ?", {day_cutoff})));
  GH_RETURN_IF_ERROR(Done(tx.Exec("DELETE FROM cost_daily_tenant WHERE day < ?", {day_cutoff})));
  return Done(
      tx.Exec("DELETE FROM cost_monthly_tenant WHERE month < ?", {day_cutoff.substr(0, 7)}));
}

Status PurgeMonthlyUserBefore(Tx& tx, const std::string& month_cutoff) {
  return Done(tx.Exec("DELETE FROM cost_monthly_user WHERE month < ?", {month_cutoff}));
}

}  // namespace cost_rollups

// ---- budgets and alerts ----
namespace cost_budgets {

Result<std::optional<BudgetRow>> Get(Tx& tx, const TenantId& tenant) {
  GH_ASSIGN_OR_RETURN(
      auto row, tx.QueryOne("SELECT monthly_budget_micros, thresholds, updated_at, updated_by FROM "
                            "cost_budgets WHERE tenant_id = ?",
                            {tenant.value()}));
  if (!row) return std::optional<BudgetRow>();
  return std::optional<BudgetRow>(
      BudgetRow{tenant, row->Int(0), SplitInts(row->Text(1)), row->Int(2), row->Text(3)});
}

Status Put(Tx& tx, const BudgetRow& b) {
  return Done(tx.Exec(
      "INSERT INTO cost_budgets (tenant_id, monthly_budget_micros, thresholds, updated_at, "
      "updated_by) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET monthly_budget_micros = "
      "excluded.monthly_budget_micros, thresholds = excluded.thresholds, updated_at = "
      "excluded.updated_at, updated_by = excluded.updated_by",
      {b.tenant_id.value(), b.monthly_budget_micros, JoinInts(b.thresholds), b.updated_at,
       b.updated_by}));
}

Status Delete(Tx& tx, const TenantId& tenant) {
  return Done(tx.Exec("DELETE FROM cost_budgets WHERE tenant_id = ?", {tenant.value()}));
}

Result<bool> InsertAlert(Tx& tx, const AlertRow& a) {
  GH_ASSIGN_OR_RETURN(
      int64_t n,
      tx.Exec("INSERT INTO cost_alerts (tenant_id, month, threshold_percent, spend_micros, "
              "budget_micros, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
              {a.tenant_id.value(), a.month, a.threshold_percent, a.spend_micros, a.budget_micros,
               a.created_at}));
  return n == 1;
}

Status MarkAlert(Tx& tx, const TenantId& tenant, const std::string& month, int64_t threshold,
                 std::optional<int64_t> delivered_at, std::optional<std::string> error) {
  return Done(
      tx.Exec("UPDATE cost_alerts SET delivered_at = ?, delivery_error = ? WHERE tenant_id = ? AND "
              "month = ? "
              "AND threshold_percent = ?",
              {Opt(delivered_at), Opt(error), tenant.value(), month, threshold}));
}

Result<std::vector<AlertRow>> ListAlerts(Tx& tx, const TenantId& tenant, int64_t limit) {
  return Many<AlertRow>(tx.Query("SELECT month, threshold_percent, spend_micros, budget_micros, "
                                 "created_at, delivered_at, delivery_error "
                                 "FROM cost_alerts WHERE tenant_id = ? ORDER BY created_at DESC, "
                                 "threshold_percent DESC LIMIT ?",
                                 {tenant.value(), limit}),
                        [&](const Row& r) {
                          return AlertRow{tenant,   r.Text(0), r.Int(1),    r.Int(2),
                                          r.Int(3), r.Int(4),  r.OptInt(5), r.OptText(6)};
                        });
}

}  // namespace cost_budgets

// ---- traces ----
namespace traces {
namespace {
constexpr const char* kTraceCols =
    "tenant_id, trace_id, user_id, session_id, name, model, started_us, ended_us, status, "
    "cost_micros, span_count";
TraceRow MapTrace(const Row& r) {
  return {TenantId(r.Text(0)), TraceId(r.Text(1)), r.Text(2), r.Text(3),
          r.Text(4),           r.Text(5),          r.Int(6),  r.Int(7),
          r.Text(8),           r.Int(9),           r.Int(10)};
}
constexpr const char* kSpanCols =
    "tenant_id, trace_id, span_id, parent_span_id, name, kind, start_us, end_us, status, "
    "status_message, attributes, "
    "cost_micros";
}  // namespace

Status UpsertSummaries(Tx& tx, const std::vector<TraceRow>& rows) {
  auto keep = [](const char* col) {
    return fmt::format("{0} = CASE WHEN excluded.{0} <> '' THEN excluded.{0} ELSE traces.{0} END",
                       col);
  };
  const std::string suffix = " ON CONFLICT (tenant_id, trace_id) DO UPDATE SET " + keep("user_id") +
                             ", " + keep("session_id") + ", " + keep("name") + ", " +
                             keep("model") +
                             ", started_us = CASE WHEN excluded.started_us < traces.started_us "
                             "THEN excluded.started_us ELSE "
                             "traces.started_us END, ended_us = CASE WHEN excluded.ended_us > "
                             "traces.ended_us THEN excluded.ended_us ELSE "
                             "traces.ended_us END, status = CASE WHEN excluded.status = 'error' "
                             "THEN 'error' ELSE traces.status END, "
                             "cost_micros = traces.cost_micros + excluded.cost_micros, span_count "
                             "= traces.span_count + excluded.span_count";
  return InsertChunked(tx, std::string("INSERT INTO traces (") + kTraceCols + ")", suffix, 11, rows,
                       [](const TraceRow& t, std::vector<Value>& p) {
                         p.insert(p.end(), {t.tenant_id.value(), t.trace_id.value(), t.user_id,
                                            t.session_id, t.name, t.model, t.started_us, t.ended_us,
                                            t.status, t.cost_micros, t.span_count});
                       });
}

Status InsertSpans(Tx& tx, const std::vector<SpanRow>& rows) {
  // A span written twice (a retried batch) keeps its first version.
  return InsertChunked(
      tx, std::string("INSERT INTO trace_spans (") + kSpanCols + ")", " ON CONFLICT DO NOTHING", 12,
      rows, [](const SpanRow& s, std::vector<Value>& p) {
        p.insert(p.end(), {s.tenant_id.value(), s.trace_id.value(), s.span_id, s.parent_span_id,
                           s.name, s.kind, s.start_us, s.end_us, s.status, s.status_message,
                           s.attributes, s.cost_micros});
      });
}

Result<std::optional<TraceRow>> Get(Tx& tx, const TenantId& tenant, const TraceId& trace) {
  GH_ASSIGN_OR_RETURN(
      auto row,
      tx.QueryOne(
          fmt::format("SELECT {} FROM traces WHERE tenant_id = ? AND trace_id = ?", kTraceCols),
          {tenant.value(), trace.value()}));
  if (!row) return std::optional<TraceRow>();
  return std::optional<TraceRow>(MapTrace(*row));
}

Result<std::vector<SpanRow>> Spans(Tx& tx, const TenantId& tenant, const TraceId& trace) {
  return Many<SpanRow>(tx.Query(fmt::format("SELECT {} FROM trace_spans WHERE tenant_id = ? AND "
                                            "trace_id = ? ORDER BY start_us, end_us "
                                            "DESC, span_id",
                                            kSpanCols),
                                {tenant.value(), trace.value()}),
                       [](const Row& r) {
                         return SpanRow{
                             TenantId(r.Text(0)), TraceId(r.Text(1)), r.Text(2),  r.Text(3),
                             r.Text(4),           r.Text(5),          r.Int(6),   r.Int(7),
                             r.Text(8),           r.Text(9),          r.Text(10), r.Int(11)};
                       });
}

Result<std::vector<TraceRow>> List(Tx& tx, const TenantId& tenant, const TraceFilter& f) {
  std::string sql = fmt::format("SELECT {} FROM traces WHERE tenant_id = ?", kTraceCols);
  std::vector<Value> p = {tenant.value()};
  if (f.user_id) sql += " AND user_id = ?", p.push_back(*f.user_id);
  if (f.session_id) sql += " AND session_id = ?", p.push_back(*f.session_id);
  if (f.from_us) sql += " AND started_us >= ?", p.push_back(*f.from_us);
  if (f.to_us) sql += " AND started_us < ?", p.push_back(*f.to_us);
  if (f.before_us) sql += " AND started_us < ?", p.push_back(*f.before_us);
  if (f.status) sql += " AND status = ?", p.push_back(*f.status);
  if (f.min_cost_micros) sql += " AND cost_micros >= ?", p.push_back(*f.min_cost_micros);
  sql += " ORDER BY started_us DESC, trace_id LIMIT ?";
  p.push_back(f.limit);
  return Many<TraceRow>(tx.Query(sql, p), MapTrace);
}

Result<std::vector<TraceRow>> TopByCost(Tx& tx, const TenantId& tenant, int64_t from_us,
                                        int64_t to_us, const std::optional<UserId>& user,
                                        int64_t limit) {
  std::string sql = fmt::format(
      "SELECT {} FROM traces WHERE tenant_id = ? AND started_us >= ? AND started_us < ?",
      kTraceCols);
  std::vector<Value> p = {tenant.value(), from_us, to_us};
  if (user) sql += " AND user_id = ?", p.push_back(user->value());
  // One user: their traces in the range (tenant, user, time index), sorted. The whole tenant: the
  // (tenant, cost) index from the top down. The unary plus keeps SQLite's planner off the cost
  // index when a user is given (it would walk all the tenant's traces to find theirs).
  sql += user ? " AND +cost_micros > 0" : " AND cost_micros > 0";
  sql += " ORDER BY cost_micros DESC, started_us DESC LIMIT ?";
  p.push_back(limit);
  return Many<TraceRow>(tx.Query(sql, p), MapTrace);
}

Result<int64_t> PurgeBefore(Tx& tx, int64_t cutoff_us, int64_t limit) {
  GH_ASSIGN_OR_RETURN(
      auto rows, tx.Query("SELECT tenant_id, trace_id FROM traces WHERE started_us < ? ORDER BY "
                          "started_us LIMIT ?",
                          {cutoff_us, limit}));
  for (const auto& r : rows) {
    std::vector<Value> key = {r.Text(0), r.Text(1)};
    GH_RETURN_IF_ERROR(
        Done(tx.Exec("DELETE FROM trace_spans WHERE tenant_id = ? AND trace_id = ?", key)));
    GH_RETURN_IF_ERROR(
        Done(tx.Exec("DELETE FROM traces WHERE tenant_id = ? AND trace_id = ?", key)));
  }
  return static_cast<int64_t>(rows.size());
}

}  // namespace traces

// ---- audit log ----
namespace audit_log {
namespace {
constexpr const char* kCols =
    "seq, at_ms, tenant_id, actor, action, target, outcome, detail, prev_hash, hash";
AuditRow MapAudit(const Row& r) {
  return {r.Int(0),  r.Int(1),  r.Text(2), r.Text(3), r.Text(4),
          r.Text(5), r.Text(6), r.Text(7), r.Text(8), r.Text(9)};
}
}  // namespace

Status LockHead(Tx& tx) { return Done(tx.Exec("UPDATE audit_head SET seq = seq WHERE id = 1")); }

Result<std::optional<std::pair<int64_t, std::string>>> Head(Tx& tx) {
  GH_ASSIGN_OR_RETURN(auto row, tx.QueryOne("SELECT seq, hash FROM audit_head WHERE id = 1"));
  if (!row) return std::optional<std::pair<int64_t, std::string>>();
  return std::optional<std::pair<int64_t, std::string>>(std::pair{row->Int(0), row->Text(1)});
}

Status Append(Tx& tx, const std::vector<AuditRow>& rows) {
  if (rows.empty()) return Status::Ok();
  GH_RETURN_IF_ERROR(InsertChunked(tx, std::string("INSERT INTO audit_log (") + kCols + ")", "", 10,
                                   rows, [](const AuditRow& a, std::vector<Value>& p) {
                                     p.insert(p.end(),
                                              {a.seq, a.at_ms, a.tenant_id, a.actor, a.action,
                                               a.target, a.outcome, a.detail, a.prev_hash, a.hash});
                                   }));
  return Done(
      tx.Exec("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE "
              "SET seq = "
              "excluded.seq, hash = excluded.hash",
              {rows.back().seq, rows.back().hash}));
}

Result<std::vector<AuditRow>> ListAfter(Tx& tx, int64_t after_seq, int64_t limit) {
  return Many<AuditRow>(
      tx.Query(fmt::format("SELECT {} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", kCols),
               {after_seq, limit}),
      MapAudit);
}

Result<std::vector<AuditRow>> ListForTenant(Tx& tx, const TenantId& tenant, int64_t limit) {
  return Many<AuditRow>(
      tx.Query(fmt::format("SELECT {} FROM audit_log WHERE tenant_id = ? ORDER BY seq DESC LIMIT ?",
                           kCols),
               {tenant.value(), limit}),
      MapAudit);
}

}  // namespace audit_log

}  // namespace gh::storage
