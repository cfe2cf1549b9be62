#include "metering/cost_reports.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "common/time_util.h"

namespace gh::metering {

namespace st = gh::storage;

namespace {

constexpr int64_t kDayMs = 86'400'000;

// Groups rows by `outer(row)`, with `inner(row)` parts; keeps the order of first appearance.
template <typename Outer, typename Inner>
std::vector<Breakdown> Nest(const std::vector<st::CostRow>& rows, Outer outer, Inner inner) {
  std::vector<Breakdown> out;
  std::map<std::string, size_t> index;
  for (const auto& r : rows) {
    const std::string key = outer(r);
    auto [it, added] = index.emplace(key, out.size());
    if (added) out.push_back({key, {}, {}});
    Breakdown& b = out[it->second];
    b.totals += r.totals;
    b.parts.push_back({inner(r), r.totals, {}});
  }
  return out;
}

CostTotals Sum(const std::vector<Breakdown>& v) {
  CostTotals t;
  for (const auto& b : v) t += b.totals;
  return t;
}

void ByCostDescending(std::vector<Breakdown>& v) {
  std::stable_sort(v.begin(), v.end(), [](const Breakdown& a, const Breakdown& b) {
    return a.totals.cost_micros > b.totals.cost_micros;
  });
  for (auto& b : v)
    std::stable_sort(b.parts.begin(), b.parts.end(), [](const Breakdown& x, const Breakdown& y) {
      return x.totals.cost_micros > y.totals.cost_micros;
    });
}

// The microsecond window of a date range, for traces.
std::pair<int64_t, int64_t> Window(const DateRange& r) {
  const int64_t from = ToUnixMillis(*ParseDate(r.from));
  const int64_t to = ToUnixMillis(*ParseDate(r.to)) + kDayMs;
  return {from * 1000, to * 1000};
}

Status Services(st::Tx& tx, const TenantId& tenant, const DateRange& range, CostReport& rep) {
  GH_ASSIGN_OR_RETURN(auto rows,
                      st::cost_rollups::TenantByServiceResource(tx, tenant, range.from, range.to));
  rep.services = Nest(
      rows, [](const st::CostRow& r) { return r.service; },
      [](const st::CostRow& r) { return r.resource; });
  ByCostDescending(rep.services);
  rep.total = Sum(rep.services);
  return Status::Ok();
}

Status Daily(st::Tx& tx, const TenantId& tenant, const DateRange& range, CostReport& rep) {
  GH_ASSIGN_OR_RETURN(auto rows,
                      st::cost_rollups::TenantByDayService(tx, tenant, range.from, range.to));
  rep.daily = Nest(
      rows, [](const st::CostRow& r) { return r.day; },
      [](const st::CostRow& r) { return r.service; });
  return Status::Ok();
}

Status Users(st::Tx& tx, const TenantId& tenant, const DateRange& range, CostReport& rep) {
  GH_ASSIGN_OR_RETURN(auto rows, st::cost_rollups::ByUserService(tx, tenant, range.from, range.to));
  rep.users = Nest(
      rows, [](const st::CostRow& r) { return r.user_id; },
      [](const st::CostRow& r) { return r.service; });
  ByCostDescending(rep.users);
  return Status::Ok();
}

}  // namespace

Result<DateRange> ParseDateRange(const std::optional<std::string>& from,
                                 const std::optional<std::string>& to, Timestamp now) {
  DateRange r;
  r.to = to ? *to : DayKey(now);
  r.from = from ? *from : MonthKey(ParseDate(r.to) ? *ParseDate(r.to) : now) + "-01";
  auto f = ParseDate(r.from);
  auto t = ParseDate(r.to);
  if (!f || DayKey(*f) != r.from)
    return Status::InvalidArgument("`from` must be a date, YYYY-MM-DD", "invalid_date");
  if (!t || DayKey(*t) != r.to)
    return Status::InvalidArgument("`to` must be a date, YYYY-MM-DD", "invalid_date");
  if (*f > *t) return Status::InvalidArgument("`from` is after `to`", "invalid_date_range");
  if (*t - *f > std::chrono::hours(24 * 365))
    return Status::InvalidArgument("a report covers at most 366 days", "invalid_date_range");
  return r;
}

Result<CostReport> CostReports::Overall(const TenantId& tenant, const DateRange& range) {
  CostReport rep;
  rep.range = range;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) { return Services(tx, tenant, range, rep); }));
  return rep;
}

Result<CostReport> CostReports::ServiceWise(const TenantId& tenant, const DateRange& range) {
  CostReport rep;
  rep.range = range;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(Services(tx, tenant, range, rep));
    return Daily(tx, tenant, range, rep);
  }));
  return rep;
}

Result<CostReport> CostReports::PerUser(const TenantId& tenant, const DateRange& range) {
  CostReport rep;
  rep.range = range;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) { return Users(tx, tenant, range, rep); }));
  rep.total = Sum(rep.users);
  return rep;
}

Result<CostReport> CostReports::ForUser(const TenantId& tenant, const UserId& user,
                                        const DateRange& range, int top_traces) {
  CostReport rep;
  rep.range = range;
  rep.user_id = user.value();
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(
        auto rows, st::cost_rollups::UserByServiceResource(tx, tenant, user, range.from, range.to));
    rep.services = Nest(
        rows, [](const st::CostRow& r) { return r.service; },
        [](const st::CostRow& r) { return r.resource; });
    ByCostDescending(rep.services);
    rep.total = Sum(rep.services);
    GH_ASSIGN_OR_RETURN(auto days,
                        st::cost_rollups::UserByDayService(tx, tenant, user, range.from, range.to));
    rep.daily = Nest(
        days, [](const st::CostRow& r) { return r.day; },
        [](const st::CostRow& r) { return r.service; });
    if (top_traces > 0) {
      auto [from_us, to_us] = Window(range);
      GH_ASSIGN_OR_RETURN(rep.top_traces,
                          st::traces::TopByCost(tx, tenant, from_us, to_us, user, top_traces));
    }
    return Status::Ok();
  }));
  return rep;
}

Result<CostReport> CostReports::Comprehensive(const TenantId& tenant, const DateRange& range,
                                              int top_traces) {
  CostReport rep;
  rep.range = range;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(Services(tx, tenant, range, rep));
    GH_RETURN_IF_ERROR(Daily(tx, tenant, range, rep));
    GH_RETURN_IF_ERROR(Users(tx, tenant, range, rep));
    if (top_traces > 0) {
      auto [from_us, to_us] = Window(range);
      GH_ASSIGN_OR_RETURN(rep.top_traces, st::traces::TopByCost(tx, tenant, from_us, to_us,
                                                                std::nullopt, top_traces));
    }
    return Status::Ok();
  }));
  return rep;
}

}  // namespace gh::metering
