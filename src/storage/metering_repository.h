// Repositories for metering and observability: usage events and the cost roll-ups maintained from
// them, budgets and alerts, traces and spans, and the audit log. Every query on tenant data takes
// the TenantId; the exceptions, named so, are retention purges and the audit chain's verification
// (platform maintenance over all tenants). Batch writers take many rows per statement.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "storage/database.h"

namespace gh::storage {

struct UsageEventRow {
  std::string event_id;  // time-ordered (see metering::NewEventId)
  TenantId tenant_id;
  UserId user_id;
  SessionId session_id;
  TraceId trace_id;
  std::string span_id;
  std::string service;   // model | agent_runtime | tool | guardrail
  std::string resource;  // the model, the tool, or "orchestration"
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t quantity = 0;  // calls, invocations, executions
  int64_t list_cost_micros = 0;
  int64_t cost_micros = 0;  // with the tenant's markup: what reports show
  std::string catalog_version;
  std::string status;  // ok | error
  std::string day;     // UTC "YYYY-MM-DD"
  int64_t created_at = 0;
};

struct CostTotals {
  int64_t events = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t quantity = 0;
  int64_t list_cost_micros = 0;
  int64_t cost_micros = 0;
  CostTotals& operator+=(const CostTotals& o);
  bool operator==(const CostTotals&) const = default;
};

// One roll-up row, or one group of a report query. Fields a query does not group by are empty.
struct CostRow {
  std::string day;  // or month
  std::string user_id;
  std::string service;
  std::string resource;
  CostTotals totals;
};

struct BudgetRow {
  TenantId tenant_id;
  int64_t monthly_budget_micros = 0;
  std::vector<int64_t> thresholds;  // percent, ascending
  int64_t updated_at = 0;
  std::string updated_by;
};

struct AlertRow {
  TenantId tenant_id;
  std::string month;
  int64_t threshold_percent = 0;
  int64_t spend_micros = 0;
  int64_t budget_micros = 0;
  int64_t created_at = 0;
  std::optional<int64_t> delivered_at;
  std::optional<std::string> delivery_error;
};

struct SpanRow {
  TenantId tenant_id;
  TraceId trace_id;
  std::string span_id;
  std::string parent_span_id;
  std::string name;
  std::string kind;
  int64_t start_us = 0;
  int64_t end_us = 0;
  std::string status;  // ok | error
  std::string status_message;
  std::string attributes;  // JSON object
  int64_t cost_micros = 0;
};

// A trace's summary. Written by more than one party (the request filter, the chat turn): rows with
// the same id merge (earliest start, latest end, error wins, costs and span counts add up,
// non-empty text fields win).
struct TraceRow {
  TenantId tenant_id;
  TraceId trace_id;
  std::string user_id;
  std::string session_id;
  std::string name;
  std::string model;
  int64_t started_us = 0;
  int64_t ended_us = 0;
  std::string status;
  int64_t cost_micros = 0;
  int64_t span_count = 0;
};

struct TraceFilter {
  std::optional<std::string> user_id;
  std::optional<std::string> session_id;
  std::optional<int64_t> from_us;  // inclusive
  std::optional<int64_t> to_us;    // exclusive
  std::optional<std::string> status;
  std::optional<int64_t> min_cost_micros;
  std::optional<int64_t> before_us;  // paging: traces that started before this
  int64_t limit = 50;
};

struct AuditRow {
  int64_t seq = 0;
  int64_t at_ms = 0;
  std::string tenant_id;  // empty for platform actions
  std::string actor;
  std::string action;
  std::string target;
  std::string outcome;
  std::string detail;  // JSON object
  std::string prev_hash;
  std::string hash;
};

namespace metering_groups {
// Marks the recorder group `id` as written in this transaction: false when it already was (an
// earlier run of the same group committed), and nothing of it may be applied again.
Result<bool> Claim(Tx& tx, const std::string& id, int64_t now_ms);
Result<int64_t> PurgeBefore(Tx& tx, int64_t cutoff_ms);
}  // namespace metering_groups

namespace usage_events {
Status InsertMany(Tx& tx, const std::vector<UsageEventRow>& rows);
Result<std::vector<UsageEventRow>> List(Tx& tx, const TenantId& tenant, int64_t from_ms,
                                        int64_t to_ms, int64_t limit);
// Retention, all tenants: deletes up to `limit` events whose id sorts before `id_cutoff`.
Result<int64_t> PurgeBefore(Tx& tx, const std::string& id_cutoff, int64_t limit);
}  // namespace usage_events

namespace cost_rollups {
// Adds to the daily roll-ups (rows keyed by day, user, service, resource; each key once per call),
// to the tenant's daily roll-up without the user, to the per-user monthly roll-up (rows keyed by
// month "YYYY-MM" in CostRow::day, user, service, resource; each key once per call), and to the
// tenant's month totals.
Status AddDailyUser(Tx& tx, const TenantId& tenant, const std::vector<CostRow>& rows);
Status AddDailyTenant(Tx& tx, const TenantId& tenant, const std::vector<CostRow>& rows);
Status AddMonthlyUser(Tx& tx, const TenantId& tenant, const std::vector<CostRow>& rows);
Status AddMonthly(Tx& tx, const TenantId& tenant, const std::string& month,
                  const CostTotals& totals);
Result<CostTotals> Month(Tx& tx, const TenantId& tenant, const std::string& month);

// How the per-user queries read [from_day, to_day]: the calendar months that lie wholly inside it
// from the monthly roll-up, the days before and after them from the daily one. Each part is an
// inclusive key range: days "YYYY-MM-DD", or months "YYYY-MM" when `months`.
struct RangePart {
  bool months = false;
  std::string from;
  std::string to;
  bool operator==(const RangePart&) const = default;
};
std::vector<RangePart> SplitIntoMonths(const std::string& from_day, const std::string& to_day);

// Reports over [from_day, to_day] (inclusive "YYYY-MM-DD"). Tenant-wide figures read the tenant
// roll-up; per-user figures by user or by service the per-user roll-ups (whole months from the
// monthly one, see SplitIntoMonths); a user's daily trend the daily per-user roll-up.
Result<std::vector<CostRow>> TenantByServiceResource(Tx& tx, const TenantId& tenant,
                                                     const std::string& from_day,
                                                     const std::string& to_day);
Result<std::vector<CostRow>> TenantByDayService(Tx& tx, const TenantId& tenant,
                                                const std::string& from_day,
                                                const std::string& to_day);
Result<std::vector<CostRow>> ByUserService(Tx& tx, const TenantId& tenant,
                                           const std::string& from_day, const std::string& to_day);
Result<std::vector<CostRow>> UserByServiceResource(Tx& tx, const TenantId& tenant,
                                                   const UserId& user, const std::string& from_day,
                                                   const std::string& to_day);
Result<std::vector<CostRow>> UserByDayService(Tx& tx, const TenantId& tenant, const UserId& user,
                                              const std::string& from_day,
                                              const std::string& to_day);
// Retention, all tenants: daily roll-up days before `day_cutoff`, and the tenants' month totals of
// the months before its month.
Status PurgeBefore(Tx& tx, const std::string& day_cutoff);
// Retention of the per-user monthly roll-up, all tenants: months before `month_cutoff` ("YYYY-MM").
Status PurgeMonthlyUserBefore(Tx& tx, const std::string& month_cutoff);
}  // namespace cost_rollups

namespace cost_budgets {
Result<std::optional<BudgetRow>> Get(Tx& tx, const TenantId& tenant);
Status Put(Tx& tx, const BudgetRow& b);
Status Delete(Tx& tx, const TenantId& tenant);
// True when this call recorded the alert (it did not exist): the caller then notifies, once.
Result<bool> InsertAlert(Tx& tx, const AlertRow& a);
Status MarkAlert(Tx& tx, const TenantId& tenant, const std::string& month, int64_t threshold,
                 std::optional<int64_t> delivered_at, std::optional<std::string> error);
Result<std::vector<AlertRow>> ListAlerts(Tx& tx, const TenantId& tenant, int64_t limit);
}  // namespace cost_budgets

namespace traces {
Status UpsertSummaries(Tx& tx, const std::vector<TraceRow>& rows);
Status InsertSpans(Tx& tx, const std::vector<SpanRow>& rows);
Result<std::optional<TraceRow>> Get(Tx& tx, const TenantId& tenant, const TraceId& trace);
Result<std::vector<SpanRow>> Spans(Tx& tx, const TenantId& tenant, const TraceId& trace);
Result<std::vector<TraceRow>> List(Tx& tx, const TenantId& tenant, const TraceFilter& filter);
Result<std::vector<TraceRow>> TopByCost(Tx& tx, const TenantId& tenant, int64_t from_us,
                                        int64_t to_us, const std::optional<UserId>& user,
                                        int64_t limit);
// Retention, all tenants: up to `limit` traces (with their spans) that started before `cutoff_us`.
Result<int64_t> PurgeBefore(Tx& tx, int64_t cutoff_us, int64_t limit);
}  // namespace traces

namespace audit_log {
// Takes the chain's write lock: the first statement of a unit that appends (concurrent appenders
// then queue, or on PostgreSQL fail with a serialization failure and are re-run).
Status LockHead(Tx& tx);
// The chain's head: the last record's seq and hash (0 and the genesis hash for an empty log).
Result<std::optional<std::pair<int64_t, std::string>>> Head(Tx& tx);
// Appends rows whose seq and hashes the caller computed from Head, and moves the head.
Status Append(Tx& tx, const std::vector<AuditRow>& rows);
// Verification, all tenants: records with seq > after_seq, in order.
Result<std::vector<AuditRow>> ListAfter(Tx& tx, int64_t after_seq, int64_t limit);
Result<std::vector<AuditRow>> ListForTenant(Tx& tx, const TenantId& tenant, int64_t limit);
}  // namespace audit_log

}  // namespace gh::storage
