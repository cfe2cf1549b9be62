#include "tenancy/quota.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

#include "common/log.h"
#include "storage/repositories.h"

namespace gh::tenancy {

namespace st = gh::storage;
using namespace std::chrono;

std::string TenantScope() { return "tenant"; }
std::string UserScope(const UserId& user) { return "user:" + user.value(); }

Windows WindowsAt(Timestamp now, const TimeZone& zone) {
  const int64_t utc = ToUnixSeconds(now);
  const int64_t offset = zone.OffsetSeconds(now);
  sys_seconds local{seconds(utc + offset)};
  auto today = floor<days>(local);
  year_month_day ymd{today};
  sys_days tomorrow = today + days(1);
  sys_days next_month = sys_days(year_month_day{ymd.year() / ymd.month() / 1} + months(1));
  // Local midnights to UTC instants, with the offset in force at that instant (DST-safe).
  auto to_utc = [&](sys_days local_midnight) {
    int64_t guess = duration_cast<seconds>(local_midnight.time_since_epoch()).count() - offset;
    return duration_cast<seconds>(local_midnight.time_since_epoch()).count() -
           zone.OffsetSeconds(FromUnixSeconds(guess));
  };
  Windows w;
  w.day =
      fmt::format("{:04}-{:02}-{:02}", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
  w.month = fmt::format("{:04}-{:02}", int(ymd.year()), unsigned(ymd.month()));
  w.seconds_to_day_end = std::max<int64_t>(1, to_utc(tomorrow) - utc);
  w.seconds_to_month_end = std::max<int64_t>(1, to_utc(next_month) - utc);
  return w;
}

namespace {

st::CounterKey Key(const std::string& scope, const std::string& period, const char* metric) {
  return {scope, period, metric};
}

std::vector<st::CounterDelta> Negate(std::vector<st::CounterDelta> d) {
  for (auto& x : d) {
    x.amount = -x.amount;
    x.limit.reset();
  }
  return d;
}

// The deltas of `all` that have a limit (checked now) and, into `tallies`, those that have none.
// `index` maps each limited delta back to its position in `all` (for naming a refusal).
std::vector<st::CounterDelta> SplitLimited(const std::vector<st::CounterDelta>& all,
                                           std::vector<st::CounterDelta>& tallies,
                                           std::vector<size_t>& index) {
  std::vector<st::CounterDelta> limited;
  tallies.clear();
  index.clear();
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].limit) {
      limited.push_back(all[i]);
      index.push_back(i);
    } else if (all[i].amount != 0) {
      tallies.push_back({all[i].key, all[i].amount, {}});
    }
  }
  return limited;
}

bool AnyLimited(const std::vector<st::CounterDelta>& deltas) {
  return std::any_of(deltas.begin(), deltas.end(),
                     [](const st::CounterDelta& d) { return d.limit.has_value(); });
}

// Whether admitting `r` has anything to check: a rate limit, or a message counter with a limit.
bool AdmissionChecks(const Reservation& r) {
  return r.limits.plan->requests_per_minute.has_value() || AnyLimited(r.message_deltas);
}

// The transaction of a unit that has nothing to check and nothing it must write now (every
// counter it touches is a tally): it runs without the database. A statement here is a bug.
class NoStatementsTx final : public st::Tx {
 public:
  Result<int64_t> Exec(std::string_view, const std::vector<st::Value>&) override {
    return Status::Internal("a unit expected to need no database ran a statement");
  }
  Result<std::vector<st::Row>> Query(std::string_view, const std::vector<st::Value>&) override {
    return Status::Internal("a unit expected to need no database ran a query");
  }
};

}  // namespace

Result<Limits> QuotaService::LimitsFor(const st::TenantRecord& tenant, const UserId& user,
                                       const Plan& plan) {
  Limits l;
  l.plan = &plan;
  if (directory_) {
    GH_ASSIGN_OR_RETURN(l.caps, directory_->Caps(tenant.id, user));
  } else {
    GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
      GH_ASSIGN_OR_RETURN(l.caps, st::user_caps::Get(tx, tenant.id, user));
      return Status::Ok();
    }));
  }
  if (tenant.timezone != "UTC" && !tenant.timezone.empty()) {
    std::lock_guard lock(zones_mu_);
    auto it = zones_.find(tenant.timezone);
    if (it == zones_.end()) {
      auto tz = TimeZone::Load(tenant.timezone);
      if (!tz.ok())
        log::Warn("tenant time zone cannot be loaded; using UTC",
                  {{"tenant_id", tenant.id.value()}});
      it =
          zones_
              .emplace(tenant.timezone, std::make_unique<TimeZone>(tz.ok() ? *tz : TimeZone::Utc()))
              .first;
    }
    l.zone = it->second.get();
  }
  return l;
}

Reservation QuotaService::PrepareTurn(const TenantId& tenant, const UserId& user,
                                      const Limits& limits) const {
  static const TimeZone kUtc = TimeZone::Utc();
  const Plan& plan = *limits.plan;
  Reservation r;
  r.tenant = tenant;
  r.user = user;
  r.limits = limits;
  r.windows = WindowsAt(clock_.Now(), limits.zone ? *limits.zone : kUtc);
  const std::string d = "d:" + r.windows.day, m = "m:" + r.windows.month;
  const std::string t = TenantScope(), u = UserScope(user);
  r.message_deltas = {{Key(t, d, "messages"), 1, plan.messages_per_day},
                      {Key(t, m, "messages"), 1, plan.messages_per_month},
                      {Key(u, d, "messages"), 1, limits.caps.messages_per_day},
                      {Key(u, m, "messages"), 1, limits.caps.messages_per_month}};
  r.admission_pending = true;
  return r;
}

Status QuotaService::AdmitIn(st::Tx& tx, Reservation& r, Timestamp now,
                             std::optional<Status>& refusal) {
  static constexpr const char* kNames[] = {"messages_per_day", "messages_per_month",
                                           "user_messages_per_day", "user_messages_per_month"};
  const Plan& plan = *r.limits.plan;
  if (plan.requests_per_minute) {
    const int64_t rpm = *plan.requests_per_minute;
    const int64_t interval = std::max<int64_t>(1, 60'000 / rpm);
    // A burst of up to a minute's allowance, refilled smoothly: GCRA with tolerance 60 s - T.
    GH_ASSIGN_OR_RETURN(int64_t wait_ms,
                        st::rate_limits::Admit(tx, r.tenant, "rpm:" + UserScope(r.user),
                                               ToUnixMillis(now), interval, 60'000 - interval));
    if (wait_ms > 0) {
      refusal = Status::ResourceExhausted(
                    fmt::format("the plan allows {} requests per minute", rpm), "rate_limited")
                    .WithDetail("limit", "requests_per_minute")
                    .WithDetail("limit_value", rpm)
                    .WithRetryAfter((wait_ms + 999) / 1000);
      return Status::Cancelled("refused");
    }
  }
  std::vector<size_t> index;
  const std::vector<st::CounterDelta> limited =
      SplitLimited(r.message_deltas, r.message_tallies, index);
  GH_ASSIGN_OR_RETURN(auto refused, st::counters::TryApply(tx, r.tenant, limited));
  if (refused) {
    r.message_tallies.clear();
    const size_t i = index[*refused];
    const bool daily = i % 2 == 0;
    refusal =
        Status::ResourceExhausted(fmt::format("the {} limit of {} messages per {} is reached",
                                              i < 2 ? "plan's" : "user's",
                                              *r.message_deltas[i].limit, daily ? "day" : "month"),
                                  "quota_exceeded")
            .WithDetail("limit", kNames[i])
            .WithDetail("limit_value", *r.message_deltas[i].limit)
            .WithRetryAfter(daily ? r.windows.seconds_to_day_end : r.windows.seconds_to_month_end);
    return Status::Cancelled("refused");
  }
  r.remaining_day.reset();
  r.remaining_month.reset();
  for (size_t i = 0; i < r.message_deltas.size(); ++i) {
    const auto& delta = r.message_deltas[i];
    if (!delta.limit) continue;
    GH_ASSIGN_OR_RETURN(int64_t used, st::counters::Get(tx, r.tenant, delta.key));
    std::optional<int64_t>& slot = i % 2 == 0 ? r.remaining_day : r.remaining_month;
    int64_t left = std::max<int64_t>(0, *delta.limit - used);
    slot = slot ? std::min(*slot, left) : left;
  }
  r.open = true;
  r.admission_pending = false;
  return Status::Ok();
}

Result<Reservation> QuotaService::ReserveTurn(const TenantId& tenant, const UserId& user,
                                              const Limits& limits) {
  const Reservation prepared = PrepareTurn(tenant, user, limits);
  const Timestamp now = clock_.Now();
  Reservation r;
  std::optional<Status> refusal;
  auto unit = [&](st::Tx& tx) -> Status {
    r = prepared;  // inside the unit of work: a backend may run it more than once
    refusal.reset();
    return AdmitIn(tx, r, now, refusal);
  };
  Status st = Status::Ok();
  if (AdmissionChecks(prepared)) {
    st = db_.WriteReadCommitted(unit);
  } else {
    NoStatementsTx none;
    st = unit(none);
  }
  if (refusal) return *refusal;
  if (!st.ok()) return st;
  return r;
}

namespace {

std::vector<st::CounterDelta> ChargeDeltas(const Reservation& r, int64_t cost) {
  const std::string m = "m:" + r.windows.month;
  return {{Key(TenantScope(), m, "spend_micros"), cost, r.limits.plan->budget_micros_per_month},
          {Key(UserScope(r.user), m, "spend_micros"), cost, r.limits.caps.budget_micros_per_month}};
}

Status ChargeRefusal(const Reservation& r, size_t refused) {
  return Status::ResourceExhausted("the monthly budget is spent", "budget_exceeded")
      .WithDetail("limit",
                  refused == 0 ? "budget_micros_per_month" : "user_budget_micros_per_month")
      .WithRetryAfter(r.windows.seconds_to_month_end);
}

// Units take counter rows in one order — the rate bucket, messages, tokens, spend, then the
// token tallies; tenant before user within each — so two units never wait on each other's rows in
// opposite orders (a deadlock, and a re-run, on PostgreSQL).
int LockRank(const st::CounterDelta& d) {
  if (d.key.metric == "messages") return 0;
  if (d.key.metric == "tokens") return 1;
  if (d.key.metric == "spend_micros") return 2;
  return 3;
}

// The order units take counter rows in: by LockRank, the tenant's before a user's within a rank.
bool LockOrder(const st::CounterDelta& a, const st::CounterDelta& b) {
  const int ra = LockRank(a), rb = LockRank(b);
  if (ra != rb) return ra < rb;
  return (a.key.scope == TenantScope()) && (b.key.scope != TenantScope());
}

// Adds `more` to `into`, one delta per counter (the same counter's amounts are summed).
void Accumulate(std::vector<st::CounterDelta>& into, const std::vector<st::CounterDelta>& more) {
  for (const auto& d : more) {
    if (d.amount == 0) continue;
    auto same = std::find_if(into.begin(), into.end(),
                             [&](const st::CounterDelta& x) { return x.key == d.key; });
    if (same == into.end()) {
      into.push_back({d.key, d.amount, {}});
    } else {
      same->amount += d.amount;
    }
  }
}

}  // namespace

Status QuotaService::ReserveModelCall(Reservation& r, int64_t max_tokens, int64_t max_cost) {
  const Plan& plan = *r.limits.plan;
  const std::string m = "m:" + r.windows.month;
  const std::string t = TenantScope(), u = UserScope(r.user);
  std::vector<st::CounterDelta> deltas = {
      {Key(t, m, "tokens"), max_tokens, plan.tokens_per_month},
      {Key(u, m, "tokens"), max_tokens, r.limits.caps.tokens_per_month},
      {Key(t, m, "spend_micros"), max_cost, plan.budget_micros_per_month},
      {Key(u, m, "spend_micros"), max_cost, r.limits.caps.budget_micros_per_month}};
  const Timestamp now = clock_.Now();
  Reservation next;
  std::optional<Status> refusal;
  // One unit: the turn's admission when it was only prepared (with the charges noted meanwhile,
  // taken with this call's spend: `used + call + fee <= limit` is the two conditional increments
  // in one), pending settlements, and this call's worst case. A refusal rolls all of them back.
  // Counters without a limit only tally: not written now. The fee's share of them is kept
  // whatever the call does (pending, written with the settlement or the release); the call's worst
  // case on them only if the call never settles (see SettleIn).
  std::vector<st::CounterDelta> call_tallies;
  std::vector<size_t> index;  // limited_call[j] is deltas[index[j]]
  const std::vector<st::CounterDelta> limited_call = SplitLimited(deltas, call_tallies, index);
  const bool in_db = (r.admission_pending && AdmissionChecks(r)) || !limited_call.empty();
  auto unit = [&](st::Tx& tx) -> Status {
    next = r;  // inside the unit of work: a backend may run it more than once
    refusal.reset();
    std::vector<st::CounterDelta> taken = limited_call;
    std::vector<st::CounterDelta> fee_tallies;
    if (next.admission_pending) {
      GH_RETURN_IF_ERROR(AdmitIn(tx, next, now, refusal));
      const int64_t fee = next.pending_charge;
      next.pending_charge = 0;
      for (size_t i : {size_t{2}, size_t{3}}) {  // the spend counters
        if (fee == 0) break;
        auto j = std::find(index.begin(), index.end(), i);
        if (j != index.end())
          taken[static_cast<size_t>(j - index.begin())].amount += fee;
        else
          fee_tallies.push_back({deltas[i].key, fee, {}});
      }
    }
    // Settlements first: what they free is usable now.
    if (in_db) GH_RETURN_IF_ERROR(FlushIn(tx, next, kSpendRank));
    GH_ASSIGN_OR_RETURN(auto refused, st::counters::TryApply(tx, next.tenant, taken));
    if (refused) {
      const size_t i = index[*refused];
      const bool tokens = i < 2;
      const char* level = i % 2 == 0 ? "plan's" : "user's";
      Status s =
          tokens
              ? Status::ResourceExhausted(
                    fmt::format("the {} monthly token limit is reached", level), "quota_exceeded")
                    .WithDetail("limit", i == 0 ? "tokens_per_month" : "user_tokens_per_month")
              : Status::ResourceExhausted(fmt::format("the {} monthly budget is spent", level),
                                          "budget_exceeded")
                    .WithDetail("limit", i == 2 ? "budget_micros_per_month"
                                                : "user_budget_micros_per_month");
      refusal = std::move(s)
                    .WithDetail("limit_value", *deltas[i].limit)
                    .WithRetryAfter(next.windows.seconds_to_month_end);
      return Status::Cancelled("refused");
    }
    if (in_db) GH_RETURN_IF_ERROR(FlushIn(tx, next));
    Accumulate(next.pending_adjust, fee_tallies);
    return Status::Ok();
  };
  Status st = Status::Ok();
  if (in_db) {
    st = db_.WriteReadCommitted(unit);
  } else {
    // Nothing limited: no transaction. Pending settlements stay pending (tallies, written with
    // the turn's settlement).
    NoStatementsTx none;
    st = unit(none);
  }
  if (refusal) return *refusal;
  GH_RETURN_IF_ERROR(st);
  r = std::move(next);
  r.call_deltas = limited_call;
  r.call_tallies = std::move(call_tallies);
  r.call_tokens = max_tokens;
  r.call_cost = max_cost;
  return Status::Ok();
}

std::vector<st::CounterDelta> QuotaService::SettlementOf(const Reservation& r, int64_t input_tokens,
                                                         int64_t output_tokens, int64_t cost) {
  const std::string d = "d:" + r.windows.day, m = "m:" + r.windows.month;
  const std::string scopes[] = {TenantScope(), UserScope(r.user)};
  // The worst case reserved (if any) becomes the real figures. Counters in the order every unit
  // takes them (messages, tokens, spend, then the rest), so units do not deadlock on PostgreSQL.
  // Only the limited counters had it applied (call_deltas); the others tally the real figures.
  auto reserved = [&](const st::CounterKey& k) -> int64_t {
    for (const auto& d : r.call_deltas)
      if (d.key == k) return d.amount;
    return 0;
  };
  std::vector<st::CounterDelta> adjust;
  for (const auto& scope : scopes) {
    st::CounterKey k = Key(scope, m, "tokens");
    adjust.push_back({k, input_tokens + output_tokens - reserved(k), {}});
  }
  for (const auto& scope : scopes) {
    st::CounterKey k = Key(scope, m, "spend_micros");
    adjust.push_back({k, cost - reserved(k), {}});
  }
  for (const auto& scope : scopes)
    for (const auto& period : {d, m}) {
      adjust.push_back({Key(scope, period, "input_tokens"), input_tokens, {}});
      adjust.push_back({Key(scope, period, "output_tokens"), output_tokens, {}});
    }
  return adjust;
}

void QuotaService::SettleModelCallLater(Reservation& r, int64_t input_tokens, int64_t output_tokens,
                                        int64_t cost) {
  Accumulate(r.pending_adjust, SettlementOf(r, input_tokens, output_tokens, cost));
  r.call_deltas.clear();
  r.call_tallies.clear();
  r.call_tokens = r.call_cost = 0;
}

Status QuotaService::SettleModelCall(Reservation& r, int64_t input_tokens, int64_t output_tokens,
                                     int64_t cost) {
  Reservation settled = r;
  SettleModelCallLater(settled, input_tokens, output_tokens, cost);
  GH_RETURN_IF_ERROR(Flush(settled));
  r = std::move(settled);
  return Status::Ok();
}

Status QuotaService::FlushIn(st::Tx& tx, Reservation& r, int up_to_rank) {
  if (r.pending_adjust.empty()) return Status::Ok();
  std::vector<st::CounterDelta> now, later;
  for (auto& d : r.pending_adjust)
    (LockRank(d) <= up_to_rank ? now : later).push_back(std::move(d));
  std::stable_sort(now.begin(), now.end(), LockOrder);
  r.pending_adjust = std::move(later);
  return st::counters::Adjust(tx, r.tenant, now);
}

Status QuotaService::Flush(Reservation& r) {
  if (r.pending_adjust.empty()) return Status::Ok();
  Reservation copy;
  GH_RETURN_IF_ERROR(db_.WriteReadCommitted([&](st::Tx& tx) {
    copy = r;  // inside the unit of work: a backend may run it more than once
    return FlushIn(tx, copy);
  }));
  r = std::move(copy);
  return Status::Ok();
}

Status QuotaService::Charge(Reservation& r, int64_t cost) {
  if (cost <= 0) return Status::Ok();
  if (r.admission_pending) {  // taken, or refused, with the turn's admission
    r.pending_charge += cost;
    return Status::Ok();
  }
  const std::vector<st::CounterDelta> deltas = ChargeDeltas(r, cost);
  if (!AnyLimited(deltas)) {  // no budget to check: a tally, written by the reservation's next unit
    Accumulate(r.pending_adjust, deltas);
    return Status::Ok();
  }
  Reservation next;
  std::optional<Status> refusal;
  Status st = db_.WriteReadCommitted([&](st::Tx& tx) -> Status {
    next = r;  // inside the unit of work: a backend may run it more than once
    refusal.reset();
    GH_RETURN_IF_ERROR(FlushIn(tx, next, kSpendRank));
    GH_ASSIGN_OR_RETURN(auto refused, st::counters::TryApply(tx, next.tenant, deltas));
    if (refused) {
      refusal = ChargeRefusal(next, *refused);
      return Status::Cancelled("refused");
    }
    return FlushIn(tx, next);
  });
  if (refusal) return *refusal;
  GH_RETURN_IF_ERROR(st);
  r = std::move(next);
  return Status::Ok();
}

namespace {

// The deltas in the order every unit takes counter rows (see LockRank).
std::vector<st::CounterDelta> InLockOrder(std::vector<st::CounterDelta> d) {
  std::stable_sort(d.begin(), d.end(), LockOrder);
  return d;
}

}  // namespace

std::vector<st::CounterDelta> QuotaService::SettleDeltas(Reservation& r) {
  // The message is kept: its tallies too.
  Accumulate(r.pending_adjust, r.message_tallies);
  r.message_tallies.clear();
  if (r.call_tokens || r.call_cost) {
    // A model call that never settled (its client went away): keep the worst case it reserved,
    // and tally it where nothing was reserved.
    Accumulate(r.pending_adjust, r.call_tallies);
    r.call_deltas.clear();
    r.call_tallies.clear();
    r.call_tokens = r.call_cost = 0;
  }
  r.open = false;
  r.message_tallied = false;
  return InLockOrder(std::exchange(r.pending_adjust, {}));
}

void QuotaService::KeepMessageLater(Reservation& r) {
  Accumulate(r.pending_adjust, r.message_tallies);
  r.message_tallies.clear();
  r.message_tallied = true;
}

std::vector<st::CounterDelta> QuotaService::ReleaseDeltas(Reservation& r) {
  // The limited message counters were applied and go back, and so do the tallies KeepMessageLater
  // passed on (summed with what is still pending, so a tally not yet written cancels out); other
  // tallies were never written.
  std::vector<st::CounterDelta> out;
  if (r.open) {
    std::vector<st::CounterDelta> taken;
    std::copy_if(r.message_deltas.begin(), r.message_deltas.end(), std::back_inserter(taken),
                 [&](const st::CounterDelta& d) { return d.limit || r.message_tallied; });
    Accumulate(out, Negate(std::move(taken)));
  }
  r.message_tallies.clear();
  r.message_tallied = false;
  Accumulate(out, r.pending_adjust);
  Accumulate(out, Negate(r.call_deltas));
  out = InLockOrder(std::move(out));
  r.pending_adjust.clear();
  r.call_deltas.clear();
  r.call_tallies.clear();
  r.call_tokens = r.call_cost = 0;
  r.open = false;
  return out;
}

Status QuotaService::SettleIn(st::Tx& tx, Reservation& r) {
  return st::counters::Adjust(tx, r.tenant, SettleDeltas(r));
}

Status QuotaService::ReleaseIn(st::Tx& tx, Reservation& r) {
  return st::counters::Adjust(tx, r.tenant, ReleaseDeltas(r));
}

Status QuotaService::Release(Reservation& r) {
  if (!r.open && r.call_deltas.empty() && r.pending_adjust.empty()) return Status::Ok();
  Reservation copy = r;
  const std::vector<st::CounterDelta> deltas = ReleaseDeltas(copy);
  if (!deltas.empty())  // (nothing when only tallies were taken: no transaction)
    GH_RETURN_IF_ERROR(db_.WriteReadCommitted(
        [&](st::Tx& tx) { return st::counters::Adjust(tx, r.tenant, deltas); }));
  r = std::move(copy);
  return Status::Ok();
}

Result<UsageSnapshot> QuotaService::Usage(const TenantId& tenant, const std::optional<UserId>& user,
                                          const Limits& limits) {
  static const TimeZone kUtc = TimeZone::Utc();
  Windows w = WindowsAt(clock_.Now(), limits.zone ? *limits.zone : kUtc);
  const std::string scope = user ? UserScope(*user) : TenantScope();
  UsageSnapshot s;
  s.day.period = w.day;
  s.month.period = w.month;
  s.day.limit = user ? limits.caps.messages_per_day : limits.plan->messages_per_day;
  s.month.limit = user ? limits.caps.messages_per_month : limits.plan->messages_per_month;
  s.tokens_limit = user ? limits.caps.tokens_per_month : limits.plan->tokens_per_month;
  s.budget_micros_limit =
      user ? limits.caps.budget_micros_per_month : limits.plan->budget_micros_per_month;
  s.day.resets_in_seconds = w.seconds_to_day_end;
  s.month.resets_in_seconds = w.seconds_to_month_end;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    for (auto [win, period] :
         {std::pair{&s.day, "d:" + w.day}, std::pair{&s.month, "m:" + w.month}}) {
      GH_ASSIGN_OR_RETURN(win->messages,
                          st::counters::Get(tx, tenant, Key(scope, period, "messages")));
      GH_ASSIGN_OR_RETURN(win->input_tokens,
                          st::counters::Get(tx, tenant, Key(scope, period, "input_tokens")));
      GH_ASSIGN_OR_RETURN(win->output_tokens,
                          st::counters::Get(tx, tenant, Key(scope, period, "output_tokens")));
      if (win->limit) win->remaining = std::max<int64_t>(0, *win->limit - win->messages);
    }
    GH_ASSIGN_OR_RETURN(s.month.spend_micros,
                        st::counters::Get(tx, tenant, Key(scope, "m:" + w.month, "spend_micros")));
    return Status::Ok();
  }));
  return s;
}

}  // namespace gh::tenancy
