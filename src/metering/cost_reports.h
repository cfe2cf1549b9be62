// CostReports: the cost reports of seed 004, read from the roll-ups (never from raw events), so a
// report costs the same whether a tenant has a thousand events or ten million. Every figure is a
// sum of integer micro-dollar event costs: a report equals the sum of its events exactly. All
// reports are scoped to one tenant; per-user reports to one user of it. Dates are UTC days,
// inclusive. Thread-safe; stateless over the database.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/status.h"
#include "storage/database.h"
#include "storage/metering_repository.h"

namespace gh::metering {

using storage::CostTotals;

struct DateRange {
  std::string from;  // "YYYY-MM-DD", inclusive
  std::string to;    // inclusive
};

// From the `from` / `to` query parameters: both optional (default: the current UTC month up to
// today); InvalidArgument for a malformed date, from after to, or more than 366 days.
Result<DateRange> ParseDateRange(const std::optional<std::string>& from,
                                 const std::optional<std::string>& to, Timestamp now);

struct Breakdown {
  std::string key;  // a service, a resource (model / tool), a user id or a day
  CostTotals totals;
  std::vector<Breakdown> parts;  // e.g. a service's resources, a day's services
};

struct CostReport {
  DateRange range;
  std::optional<std::string> user_id;  // for a user's report
  CostTotals total;
  std::vector<Breakdown> services;  // service -> resources (models, tools)
  std::vector<Breakdown> daily;     // day -> services, oldest first, days with costs only
  std::vector<Breakdown> users;     // user -> services, most expensive first (tenant reports)
  std::vector<storage::TraceRow> top_traces;  // most expensive traces first
};

class CostReports {
 public:
  explicit CostReports(storage::Database& db) : db_(db) {}

  // Total with the breakdown by service and resource.
  Result<CostReport> Overall(const TenantId& tenant, const DateRange& range);
  // By service with the daily trend.
  Result<CostReport> ServiceWise(const TenantId& tenant, const DateRange& range);
  // By user (and service within each user).
  Result<CostReport> PerUser(const TenantId& tenant, const DateRange& range);
  // One user: by service and resource, daily trend, their most expensive traces.
  Result<CostReport> ForUser(const TenantId& tenant, const UserId& user, const DateRange& range,
                             int top_traces = 10);
  // Everything above for the tenant, and its most expensive traces, from one snapshot.
  Result<CostReport> Comprehensive(const TenantId& tenant, const DateRange& range,
                                   int top_traces = 10);

 private:
  storage::Database& db_;
};

}  // namespace gh::metering
