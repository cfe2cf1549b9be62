// QuotaService: message and token limits that stay exact under concurrency and across processes.
// A chat first reserves what it may consume at every level at once (one conditional UPDATE per
// counter inside one write transaction: all or nothing), then settles to the real figures when it
// ends — or releases the reservation when it failed before consuming anything. Windows are the
// calendar day and month in the tenant's time zone. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "storage/database.h"
#include "storage/records.h"
#include "tenancy/plan.h"

namespace gh::tenancy {

struct Windows {
  std::string day;    // "2026-11-22"
  std::string month;  // "2026-11"
  int64_t seconds_to_day_end = 0;
  int64_t seconds_to_month_end = 0;
};
// The calendar windows containing `now` for a fixed UTC offset.
Windows WindowsAt(Timestamp now, int64_t utc_offset_seconds);

struct Reservation {
  TenantId tenant;
  UserId user;
  Windows windows;
  std::vector<storage::CounterDelta> deltas;  // what was added
  bool open = false;
  // Messages left in each window after this reservation (unset when unlimited).
  std::optional<int64_t> remaining_day;
  std::optional<int64_t> remaining_month;
};

struct UsageWindow {
  std::string period;
  int64_t messages = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  std::optional<int64_t> limit;
  std::optional<int64_t> remaining;
  int64_t resets_in_seconds = 0;
};

struct UsageSnapshot {
  UsageWindow day;
  UsageWindow month;
};

class QuotaService {
 public:
  QuotaService(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // Reserves one message against the plan's daily and monthly limits. 429 quota_exceeded (with the
  // limit's name and Retry-After until the window resets) when any limit is reached.
  Result<Reservation> ReserveMessage(const TenantId& tenant, const UserId& user, const Plan& plan);
  // Gives back everything the reservation took (the chat did not happen).
  Status Release(Reservation& r);
  // Keeps the message and records the tokens actually used.
  Status Settle(Reservation& r, int64_t input_tokens, int64_t output_tokens);
  // The same, inside a caller's transaction, so the chat's records and its counters commit together.
  static Status ReleaseIn(storage::Tx& tx, Reservation& r);
  static Status SettleIn(storage::Tx& tx, Reservation& r, int64_t input_tokens, int64_t output_tokens);
  Result<UsageSnapshot> Usage(const TenantId& tenant, const Plan& plan);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace gh::tenancy
