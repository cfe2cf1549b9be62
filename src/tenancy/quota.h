// QuotaService: limits that stay exact under concurrency and across processes sharing a database.
//
// A chat turn reserves before it runs, at every level at once: the user's request rate (GCRA, a
// smooth limit), and one message against the tenant's and the user's daily and monthly counters.
// Before each model call it reserves that call's worst case (input bound plus the maximum output
// tokens, at the model's price) against the monthly token and spend limits, and settles to the
// real figures after. Each reservation is one write transaction of conditional UPDATEs
// (`used + n <= limit`): all or nothing, never read-then-write — which is also why these units may
// run at READ COMMITTED on PostgreSQL (a blocked UPDATE re-checks its WHERE on the new row). When
// the turn ends the message is kept (settled) or given back (released) inside the turn's final
// transaction. Windows are the calendar day and month in the tenant's time zone. Thread-safe.
//
// Fewer transactions per turn (issue 4, "Performance"): every write here is serialised in the
// database, so a turn takes as few as it can without loosening a limit.
// - PrepareTurn + the first ReserveModelCall: a route whose handler knows its first model call
//   before anything is sent (the OpenAI-compatible completion) takes the rate slot, the message,
//   any Charge made meanwhile and that call's worst case in ONE transaction. A refusal of any of
//   them rolls all of them back (nothing is half-taken).
// - SettleModelCallLater: the call's settlement (worst case -> real figures, token counters) is
//   kept in the Reservation and written by the next unit that touches it — the next
//   ReserveModelCall or Charge, or the turn's final transaction (SettleIn / ReleaseIn), or Flush /
//   Release. Until then the worst case stays reserved, which can only refuse a concurrent request
//   early, never admit one past a limit.
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
#include "tenancy/directory.h"
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
  // PrepareTurn: the rate slot and the message are still to be taken, with the first
  // ReserveModelCall (which sets `open`); Charge meanwhile adds to `pending_charge`.
  bool admission_pending = false;
  int64_t pending_charge = 0;
  // Settlements not written yet (SettleModelCallLater): unconditional adjustments, written first
  // by the next unit that touches this reservation.
  std::vector<storage::CounterDelta> pending_adjust;
  std::optional<int64_t> remaining_day;  // messages left after this one (most restrictive level)
  std::optional<int64_t> remaining_month;
  // Counters with no limit are tallies: nothing to check, so they are not written when the turn
  // is admitted but with its settlement (no write at all on the way in when a plan limits
  // nothing). The message's tallies are kept by SettleIn and dropped by ReleaseIn, as the limited
  // message counters are kept or given back.
  std::vector<storage::CounterDelta> message_tallies;
  bool message_tallied = false;  // KeepMessageLater moved them on: a release gives them back
  // The model call in flight, reserved at its worst case: the limited counters only
  // (`call_deltas`, applied); the unlimited ones' worst case (`call_tallies`) is written only if
  // the call never settles (SettleIn keeps the worst case then, as for the limited ones).
  std::vector<storage::CounterDelta> call_deltas;
  std::vector<storage::CounterDelta> call_tallies;
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
  // `directory` (may be null: read the caps from the database every time) caches the user's caps.
  QuotaService(storage::Database& db, const Clock& clock, Directory* directory = nullptr)
      : db_(db), clock_(clock), directory_(directory) {}

  // Reads the user's caps (through the Directory when there is one), and resolves the tenant's
  // zone (cached).
  Result<Limits> LimitsFor(const storage::TenantRecord& tenant, const UserId& user,
                           const Plan& plan);

  // Admits one chat turn: the rate limit (429 rate_limited), then one message at tenant and user,
  // day and month (429 quota_exceeded naming the limit). Retry-After tells when to come back.
  Result<Reservation> ReserveTurn(const TenantId& tenant, const UserId& user, const Limits& limits);
  // The same turn, not yet admitted (no database work): the first ReserveModelCall admits it, in
  // its own transaction, with the same refusals as ReserveTurn. Until then it holds nothing.
  Reservation PrepareTurn(const TenantId& tenant, const UserId& user, const Limits& limits) const;
  // Reserves one model call's worst case: tokens (429 quota_exceeded, tokens_per_month) and spend
  // (429 budget_exceeded); first, when the turn is only prepared, admits it (see PrepareTurn) and
  // takes the pending charge. Call SettleModelCall(Later) after the call, whatever its outcome.
  Status ReserveModelCall(Reservation& r, int64_t max_tokens, int64_t max_cost_micros);
  // Settles the call in flight to the real figures, in a transaction of its own.
  Status SettleModelCall(Reservation& r, int64_t input_tokens, int64_t output_tokens,
                         int64_t cost_micros);
  // The same settlement, written by the next unit that touches `r` (no database work now).
  void SettleModelCallLater(Reservation& r, int64_t input_tokens, int64_t output_tokens,
                            int64_t cost_micros);
  // Reserves a fixed charge (a tool execution, an invocation fee) against the spend limit. On a
  // prepared turn it is only noted, and taken (or refused) with the turn's admission.
  Status Charge(Reservation& r, int64_t cost_micros);

  // End of turn, inside the caller's transaction: write pending settlements, then keep the
  // message, or give it back.
  static Status SettleIn(storage::Tx& tx, Reservation& r);
  static Status ReleaseIn(storage::Tx& tx, Reservation& r);
  // The turn will be kept: its message's tallies join the pending settlements (the next unit,
  // e.g. Flush, writes them), so that a final transaction that must not touch hot counter rows
  // (the serialisable one of an /api/chat turn) has none to write. A release after this gives
  // them back.
  static void KeepMessageLater(Reservation& r);
  // What SettleIn / ReleaseIn would write, for a caller that writes it elsewhere (the metering
  // recorder sums a group's settlements per counter): unconditional adjustments in lock order.
  // `r` is left as after SettleIn / ReleaseIn.
  static std::vector<storage::CounterDelta> SettleDeltas(Reservation& r);
  static std::vector<storage::CounterDelta> ReleaseDeltas(Reservation& r);
  // Writes pending settlements and gives back what is still reserved, in a transaction.
  Status Release(Reservation& r);
  // Writes pending settlements only (a turn whose final transaction failed).
  Status Flush(Reservation& r);

  // Usage against the limits, for the tenant (user empty) or one user.
  Result<UsageSnapshot> Usage(const TenantId& tenant, const std::optional<UserId>& user,
                              const Limits& limits);

 private:
  // Takes the rate slot and the message of `r` inside `tx`; sets `refusal` (and returns Cancelled,
  // rolling the unit back) when a limit refuses, and the remaining counts in `r` otherwise.
  static Status AdmitIn(storage::Tx& tx, Reservation& r, Timestamp now,
                        std::optional<Status>& refusal);
  // The unconditional adjustments of settling the call in flight of `r`.
  static std::vector<storage::CounterDelta> SettlementOf(const Reservation& r, int64_t input_tokens,
                                                         int64_t output_tokens,
                                                         int64_t cost_micros);
  // Writes the pending settlements of counters up to `up_to_rank` in lock order (see quota.cc).
  static constexpr int kSpendRank = 2;
  static Status FlushIn(storage::Tx& tx, Reservation& r, int up_to_rank = 3);

  storage::Database& db_;
  const Clock& clock_;
  Directory* directory_;
  std::mutex zones_mu_;
  std::map<std::string, std::unique_ptr<TimeZone>> zones_;
};

// Counter scope names.
std::string TenantScope();
std::string UserScope(const UserId& user);

}  // namespace gh::tenancy
