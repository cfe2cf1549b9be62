// QuotaService: limits that stay exact under concurrency and across processes sharing a database.
//
// A chat turn reserves before it runs, at every level at once: the user's request rate (GCRA, a
// smooth limit), and one message against the tenant's and the user's daily and monthly counters.
// Before each model call it reserves that call's worst case (input bound plus the maximum output
// tokens, at the model's price) against the monthly token and spend limits, and settles to the
// real figures right after. Each reservation is one write transaction of conditional UPDATEs
// (`used + n <= limit`): all or nothing, never read-then-write — which is also why these units may
// run at READ COMMITTED on PostgreSQL (a blocked UPDATE re-checks its WHERE on the new row). When the turn ends the message is
// kept (settled) or given back (released) inside the turn's final transaction.
// Windows are the calendar day and month in the tenant's time zone. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/timezone.h"
#include "storage/database.h"
#include "storage/limits_repository.h"
#include "storage/records.h"
#include "tenancy/plan.h"

namespace gh::tenancy {

struct Windows {
  std::string day;    // "2026-11-22", local to the tenant
  std::string month;  // "2026-11"
  int64_t seconds_to_day_end = 0;
  int64_t seconds_to_month_end = 0;
};
// The calendar windows containing `now` in `zone`.
Windows WindowsAt(Timestamp now, const TimeZone& zone);

// What a (tenant, user) may consume: the tenant's plan and the user's caps within it.
struct Limits {
  const Plan* plan = nullptr;
  storage::UserCaps caps;
  const TimeZone* zone = nullptr;  // null: UTC
};

struct Reservation {
  TenantId tenant;
  UserId user;
  Windows windows;
  Limits limits;
  std::vector<storage::CounterDelta> message_deltas;
  bool open = false;  // the message reservation awaits settle/release
  std::optional<int64_t> remaining_day;    // messages left after this one (most restrictive level)
  std::optional<int64_t> remaining_month;
  // The model call in flight, reserved at its worst case.
  std::vector<storage::CounterDelta> call_deltas;
  int64_t call_tokens = 0;
  int64_t call_cost = 0;
};

struct UsageWindow {
  std::string period;
  int64_t messages = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t spend_micros = 0;
  std::optional<int64_t> limit;
  std::optional<int64_t> remaining;
  int64_t resets_in_seconds = 0;
};

struct UsageSnapshot {
  UsageWindow day;
  UsageWindow month;
  std::optional<int64_t> tokens_limit;
  std::optional<int64_t> budget_micros_limit;
};

class QuotaService {
 public:
  QuotaService(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Reads the user's caps, and resolves the tenant's zone (cached).
  Result<Limits> LimitsFor(const storage::TenantRecord& tenant, const UserId& user, const Plan& plan);

  // Admits one chat turn: the rate limit (429 rate_limited), then one message at tenant and user,
  // day and month (429 quota_exceeded naming the limit). Retry-After tells when to come back.
  Result<Reservation> ReserveTurn(const TenantId& tenant, const UserId& user, const Limits& limits);
  // Reserves one model call's worst case: tokens (429 quota_exceeded, tokens_per_month) and spend
  // (429 budget_exceeded). Call SettleModelCall after the call, whatever its outcome.
  Status ReserveModelCall(Reservation& r, int64_t max_tokens, int64_t max_cost_micros);
  Status SettleModelCall(Reservation& r, int64_t input_tokens, int64_t output_tokens, int64_t cost_micros);
  // Reserves a fixed charge (a tool execution) against the spend limit.
  Status Charge(Reservation& r, int64_t cost_micros);

  // End of turn, inside the caller's transaction: keep the message, or give it back.
  static Status SettleIn(storage::Tx& tx, Reservation& r);
  static Status ReleaseIn(storage::Tx& tx, Reservation& r);
  Status Release(Reservation& r);

  // Usage against the limits, for the tenant (user empty) or one user.
  Result<UsageSnapshot> Usage(const TenantId& tenant, const std::optional<UserId>& user, const Limits& limits);

 private:
  storage::Database& db_;
  const Clock& clock_;
  std::mutex zones_mu_;
  std::map<std::string, std::unique_ptr<TimeZone>> zones_;
};

// Counter scope names.
std::string TenantScope();
std::string UserScope(const UserId& user);

}  // namespace gh::tenancy
