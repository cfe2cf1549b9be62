#include "tenancy/quota.h"

#include <fmt/format.h>

#include <chrono>

#include "storage/repositories.h"

namespace gh::tenancy {

namespace st = gh::storage;
using namespace std::chrono;

Windows WindowsAt(Timestamp now, int64_t offset) {
  auto local = floor<seconds>(now) + seconds(offset);
  auto today = floor<days>(local);
  year_month_day ymd{today};
  sys_days tomorrow = today + days(1);
  sys_days next_month = sys_days(year_month_day{ymd.year() / ymd.month() / 1} + months(1));
  Windows w;
  w.day = fmt::format("{:04}-{:02}-{:02}", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
  w.month = fmt::format("{:04}-{:02}", int(ymd.year()), unsigned(ymd.month()));
  w.seconds_to_day_end = duration_cast<seconds>(tomorrow - local).count();
  w.seconds_to_month_end = duration_cast<seconds>(next_month - local).count();
  return w;
}

namespace {
constexpr const char* kTenantScope = "tenant";
st::CounterKey Key(const std::string& period, const char* metric) { return {kTenantScope, period, metric}; }
}  // namespace

Result<Reservation> QuotaService::ReserveMessage(const TenantId& tenant, const UserId& user, const Plan& plan) {
  Reservation r;
  r.tenant = tenant;
  r.user = user;
  r.windows = WindowsAt(clock_.Now(), 0);
  const std::string d = "d:" + r.windows.day, m = "m:" + r.windows.month;
  r.deltas = {{Key(d, "messages"), 1, plan.messages_per_day}, {Key(m, "messages"), 1, plan.messages_per_month}};
  std::optional<size_t> refused;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(refused, st::counters::TryApply(tx, tenant, r.deltas));
    if (refused) return Status::Ok();
    if (plan.messages_per_day) {
      GH_ASSIGN_OR_RETURN(int64_t used, st::counters::Get(tx, tenant, r.deltas[0].key));
      r.remaining_day = std::max<int64_t>(0, *plan.messages_per_day - used);
    }
    if (plan.messages_per_month) {
      GH_ASSIGN_OR_RETURN(int64_t used, st::counters::Get(tx, tenant, r.deltas[1].key));
      r.remaining_month = std::max<int64_t>(0, *plan.messages_per_month - used);
    }
    return Status::Ok();
  }));
  if (refused) {
    const bool daily = *refused == 0;
    const int64_t limit = *r.deltas[*refused].limit;
    return Status::ResourceExhausted(fmt::format("the plan's {} limit of {} messages is reached",
                                                 daily ? "daily" : "monthly", limit),
                                     "quota_exceeded")
        .WithDetail("limit", daily ? "messages_per_day" : "messages_per_month")
        .WithDetail("limit_value", limit)
        .WithRetryAfter(daily ? r.windows.seconds_to_day_end : r.windows.seconds_to_month_end);
  }
  r.open = true;
  return r;
}

Status QuotaService::ReleaseIn(st::Tx& tx, Reservation& r) {
  if (!r.open) return Status::Ok();
  std::vector<st::CounterDelta> undo = r.deltas;
  for (auto& d : undo) {
    d.amount = -d.amount;
    d.limit.reset();
  }
  GH_RETURN_IF_ERROR(st::counters::Adjust(tx, r.tenant, undo));
  r.open = false;
  return Status::Ok();
}

Status QuotaService::SettleIn(st::Tx& tx, Reservation& r, int64_t input_tokens, int64_t output_tokens) {
  if (!r.open) return Status::Ok();
  const std::string d = "d:" + r.windows.day, m = "m:" + r.windows.month;
  std::vector<st::CounterDelta> add = {{Key(d, "input_tokens"), input_tokens, {}},
                                       {Key(d, "output_tokens"), output_tokens, {}},
                                       {Key(m, "input_tokens"), input_tokens, {}},
                                       {Key(m, "output_tokens"), output_tokens, {}}};
  GH_RETURN_IF_ERROR(st::counters::Adjust(tx, r.tenant, add));
  r.open = false;
  return Status::Ok();
}

Status QuotaService::Release(Reservation& r) {
  if (!r.open) return Status::Ok();
  Reservation copy = r;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) { return ReleaseIn(tx, copy); }));
  r.open = false;
  return Status::Ok();
}

Status QuotaService::Settle(Reservation& r, int64_t input_tokens, int64_t output_tokens) {
  if (!r.open) return Status::Ok();
  Reservation copy = r;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) { return SettleIn(tx, copy, input_tokens, output_tokens); }));
  r.open = false;
  return Status::Ok();
}

Result<UsageSnapshot> QuotaService::Usage(const TenantId& tenant, const Plan& plan) {
  Windows w = WindowsAt(clock_.Now(), 0);
  UsageSnapshot s;
  s.day.period = w.day;
  s.month.period = w.month;
  s.day.limit = plan.messages_per_day;
  s.month.limit = plan.messages_per_month;
  s.day.resets_in_seconds = w.seconds_to_day_end;
  s.month.resets_in_seconds = w.seconds_to_month_end;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    for (auto [win, period] : {std::pair{&s.day, "d:" + w.day}, std::pair{&s.month, "m:" + w.month}}) {
      GH_ASSIGN_OR_RETURN(win->messages, st::counters::Get(tx, tenant, Key(period, "messages")));
      GH_ASSIGN_OR_RETURN(win->input_tokens, st::counters::Get(tx, tenant, Key(period, "input_tokens")));
      GH_ASSIGN_OR_RETURN(win->output_tokens, st::counters::Get(tx, tenant, Key(period, "output_tokens")));
      if (win->limit) win->remaining = std::max<int64_t>(0, *win->limit - win->messages);
    }
    return Status::Ok();
  }));
  return s;
}

}  // namespace gh::tenancy
