// Schema for metering and observability: usage events (raw, kept for a retention period), the
// cost roll-ups reports read (per tenant/user/service/resource/day and /month, per
// tenant/service/resource/day, per tenant/month), budgets and their alerts, traces with their
// spans, and the hash-chained audit log. Event ids are time-ordered, so retention deletes walk the
// primary key. Shipped migrations are never edited: a change is a new version.
#include "storage/migrations.h"

namespace gh::storage {

void AddMeteringMigrations(std::vector<Migration>& out) {
  out.push_back({200, "usage events, cost roll-ups, budgets and alerts", R"SQL(
CREATE TABLE usage_events (
  event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, service TEXT NOT NULL, resource TEXT NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
  cache_write_tokens BIGINT NOT NULL, quantity BIGINT NOT NULL, list_cost_micros BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL, catalog_version TEXT NOT NULL, status TEXT NOT NULL, day TEXT NOT NULL,
  created_at BIGINT NOT NULL);
CREATE INDEX usage_events_tenant_time ON usage_events(tenant_id, created_at);
CREATE TABLE cost_daily_user (
  tenant_id TEXT NOT NULL, day TEXT NOT NULL, user_id TEXT NOT NULL, service TEXT NOT NULL, resource TEXT NOT NULL,
  events BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL, quantity BIGINT NOT NULL,
  list_cost_micros BIGINT NOT NULL, cost_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, day, user_id, service, resource));
CREATE INDEX cost_daily_user_by_user ON cost_daily_user(tenant_id, user_id, day);
CREATE TABLE cost_daily_tenant (
  tenant_id TEXT NOT NULL, day TEXT NOT NULL, service TEXT NOT NULL, resource TEXT NOT NULL,
  events BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL, quantity BIGINT NOT NULL,
  list_cost_micros BIGINT NOT NULL, cost_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, day, service, resource));
CREATE TABLE cost_monthly_tenant (
  tenant_id TEXT NOT NULL, month TEXT NOT NULL, events BIGINT NOT NULL, list_cost_micros BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL, PRIMARY KEY (tenant_id, month));
CREATE TABLE cost_budgets (
  tenant_id TEXT PRIMARY KEY, monthly_budget_micros BIGINT NOT NULL, thresholds TEXT NOT NULL,
  updated_at BIGINT NOT NULL, updated_by TEXT NOT NULL);
CREATE TABLE cost_alerts (
  tenant_id TEXT NOT NULL, month TEXT NOT NULL, threshold_percent BIGINT NOT NULL, spend_micros BIGINT NOT NULL,
  budget_micros BIGINT NOT NULL, created_at BIGINT NOT NULL, delivered_at BIGINT, delivery_error TEXT,
  PRIMARY KEY (tenant_id, month, threshold_percent))
)SQL"});
  out.push_back({201, "traces and spans", R"SQL(
CREATE TABLE traces (
  tenant_id TEXT NOT NULL, trace_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
  name TEXT NOT NULL, model TEXT NOT NULL, started_us BIGINT NOT NULL, ended_us BIGINT NOT NULL,
  status TEXT NOT NULL, cost_micros BIGINT NOT NULL, span_count BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, trace_id));
CREATE INDEX traces_tenant_time ON traces(tenant_id, started_us);
CREATE INDEX traces_time ON traces(started_us);
CREATE TABLE trace_spans (
  tenant_id TEXT NOT NULL, trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT NOT NULL,
  name TEXT NOT NULL, kind TEXT NOT NULL, start_us BIGINT NOT NULL, end_us BIGINT NOT NULL, status TEXT NOT NULL,
  status_message TEXT NOT NULL, attributes TEXT NOT NULL, cost_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, trace_id, span_id))
)SQL"});
  out.push_back({202, "hash-chained audit log", R"SQL(
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY, at_ms BIGINT NOT NULL, tenant_id TEXT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, seq);
CREATE TABLE audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000')
)SQL"});
  // Report queries served from indexes alone (bench/metering: a tenant with hundreds of thousands
  // of events a quarter). The per-user roll-up is read by tenant and day (per-user-cost,
  // comprehensive-report) and by user and day (a user's costs): one covering index for each order,
  // so a range of days is one contiguous index scan without a table lookup per row. A user's most
  // expensive traces come from (tenant, user, time); a tenant's from (tenant, cost), walked from
  // the most expensive down until enough fall inside the range.
  out.push_back({203, "covering indexes for cost reports and top traces", R"SQL(
CREATE INDEX cost_daily_user_by_day_cover ON cost_daily_user(tenant_id, day, user_id, service, resource, events,
  input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, quantity, list_cost_micros, cost_micros);
DROP INDEX cost_daily_user_by_user;
CREATE INDEX cost_daily_user_by_user_cover ON cost_daily_user(tenant_id, user_id, day, service, resource, events,
  input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, quantity, list_cost_micros, cost_micros);
CREATE INDEX traces_tenant_user_time ON traces(tenant_id, user_id, started_us);
CREATE INDEX traces_tenant_cost ON traces(tenant_id, cost_micros, started_us)
)SQL"});
  // The per-user roll-up by calendar month (UTC, like the days): per-user reports read the whole
  // months of their range from it and only the days at the edges from the daily one, so a 90-day
  // per-user report of a large tenant reads about a third of the rows (bench/metering). Covering
  // indexes in both orders, as for the daily roll-up. Existing installations get the months summed
  // from the daily roll-up they still hold (a month whose first days are already past the daily
  // roll-up's retention gets only the days left).
  out.push_back({204, "per-user monthly cost roll-up", R"SQL(
CREATE TABLE cost_monthly_user (
  tenant_id TEXT NOT NULL, month TEXT NOT NULL, user_id TEXT NOT NULL, service TEXT NOT NULL, resource TEXT NOT NULL,
  events BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL, quantity BIGINT NOT NULL,
  list_cost_micros BIGINT NOT NULL, cost_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, month, user_id, service, resource));
CREATE INDEX cost_monthly_user_by_month_cover ON cost_monthly_user(tenant_id, month, user_id, service, resource,
  events, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, quantity, list_cost_micros, cost_micros);
CREATE INDEX cost_monthly_user_by_user_cover ON cost_monthly_user(tenant_id, user_id, month, service, resource,
  events, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, quantity, list_cost_micros, cost_micros);
INSERT INTO cost_monthly_user (tenant_id, month, user_id, service, resource, events, input_tokens, output_tokens,
  cache_read_tokens, cache_write_tokens, quantity, list_cost_micros, cost_micros)
SELECT tenant_id, substr(day, 1, 7), user_id, service, resource, CAST(SUM(events) AS BIGINT),
  CAST(SUM(input_tokens) AS BIGINT), CAST(SUM(output_tokens) AS BIGINT), CAST(SUM(cache_read_tokens) AS BIGINT),
  CAST(SUM(cache_write_tokens) AS BIGINT), CAST(SUM(quantity) AS BIGINT), CAST(SUM(list_cost_micros) AS BIGINT),
  CAST(SUM(cost_micros) AS BIGINT)
FROM cost_daily_user GROUP BY tenant_id, substr(day, 1, 7), user_id, service, resource
)SQL"});
  // One row per committed recorder group (not tenant data): a group whose COMMIT outcome was
  // unknown and is run again finds its row and is not applied twice. Kept for a day.
  out.push_back({205, "recorder group markers", R"SQL(
CREATE TABLE metering_groups (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL)
)SQL"});
  // SQLite: the usage events, roll-ups and group markers as WITHOUT ROWID tables, clustered on
  // their primary key. A rowid table with a TEXT or composite primary key keeps the key in an
  // index of its own besides the table: each insert wrote two B-tree pages where this writes one,
  // and the recorder's group transaction writes every page it touches before the response
  // (bench/gateway). The per-user roll-ups, clustered on (tenant, day or month, user, ...), are
  // themselves the covering index in that order, which is dropped (one page less per update); the
  // one by user stays. Traces and spans stay rowid tables: their keys hold random trace ids, and
  // clustered on those every insert would land its whole row on a random page (measured: more
  // pages per group, not fewer). PostgreSQL keeps heap tables and all their indexes.
  out.push_back({206, "metering tables clustered on their keys (SQLite)", R"SQL(
CREATE TABLE usage_events_v206 (
  event_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, service TEXT NOT NULL, resource TEXT NOT NULL,
  input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL,
  cache_write_tokens BIGINT NOT NULL, quantity BIGINT NOT NULL, list_cost_micros BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL, catalog_version TEXT NOT NULL, status TEXT NOT NULL, day TEXT NOT NULL,
  created_at BIGINT NOT NULL) WITHOUT ROWID;
INSERT INTO usage_events_v206 SELECT * FROM usage_events;
DROP TABLE usage_events;
ALTER TABLE usage_events_v206 RENAME TO usage_events;
CREATE INDEX usage_events_tenant_time ON usage_events(tenant_id, created_at);
CREATE TABLE cost_daily_user_v206 (
  tenant_id TEXT NOT NULL, day TEXT NOT NULL, user_id TEXT NOT NULL, service TEXT NOT NULL, resource TEXT NOT NULL,
  events BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL, quantity BIGINT NOT NULL,
  list_cost_micros BIGINT NOT NULL, cost_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, day, user_id, service, resource)) WITHOUT ROWID;
INSERT INTO cost_daily_user_v206 SELECT * FROM cost_daily_user;
DROP TABLE cost_daily_user;
ALTER TABLE cost_daily_user_v206 RENAME TO cost_daily_user;
CREATE INDEX cost_daily_user_by_user_cover ON cost_daily_user(tenant_id, user_id, day, service, resource, events,
  input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, quantity, list_cost_micros, cost_micros);
CREATE TABLE cost_monthly_user_v206 (
  tenant_id TEXT NOT NULL, month TEXT NOT NULL, user_id TEXT NOT NULL, service TEXT NOT NULL, resource TEXT NOT NULL,
  events BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL, quantity BIGINT NOT NULL,
  list_cost_micros BIGINT NOT NULL, cost_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, month, user_id, service, resource)) WITHOUT ROWID;
INSERT INTO cost_monthly_user_v206 SELECT * FROM cost_monthly_user;
DROP TABLE cost_monthly_user;
ALTER TABLE cost_monthly_user_v206 RENAME TO cost_monthly_user;
CREATE INDEX cost_monthly_user_by_user_cover ON cost_monthly_user(tenant_id, user_id, month, service, resource,
  events, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, quantity, list_cost_micros, cost_micros);
CREATE TABLE cost_daily_tenant_v206 (
  tenant_id TEXT NOT NULL, day TEXT NOT NULL, service TEXT NOT NULL, resource TEXT NOT NULL,
  events BIGINT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
  cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL, quantity BIGINT NOT NULL,
  list_cost_micros BIGINT NOT NULL, cost_micros BIGINT NOT NULL,
  PRIMARY KEY (tenant_id, day, service, resource)) WITHOUT ROWID;
INSERT INTO cost_daily_tenant_v206 SELECT * FROM cost_daily_tenant;
DROP TABLE cost_daily_tenant;
ALTER TABLE cost_daily_tenant_v206 RENAME TO cost_daily_tenant;
CREATE TABLE cost_monthly_tenant_v206 (
  tenant_id TEXT NOT NULL, month TEXT NOT NULL, events BIGINT NOT NULL, list_cost_micros BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL, PRIMARY KEY (tenant_id, month)) WITHOUT ROWID;
INSERT INTO cost_monthly_tenant_v206 SELECT * FROM cost_monthly_tenant;
DROP TABLE cost_monthly_tenant;
ALTER TABLE cost_monthly_tenant_v206 RENAME TO cost_monthly_tenant;
CREATE TABLE metering_groups_v206 (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL) WITHOUT ROWID;
INSERT INTO metering_groups_v206 SELECT * FROM metering_groups;
DROP TABLE metering_groups;
ALTER TABLE metering_groups_v206 RENAME TO metering_groups
)SQL",
                 Dialect::kSqlite});
}

}  // namespace gh::storage
