#include "metering/recorder.h"

#include "common/random.h"

#include <algorithm>
#include <future>
#include <map>
#include <tuple>

#include "common/log.h"
#include "common/time_util.h"
#include "storage/repositories.h"

namespace gh::metering {

namespace st = gh::storage;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr int64_t kDayMs = 86'400'000;

st::CostTotals TotalsOf(const UsageEvent& e) {
  return {
      1,          e.input_tokens,     e.output_tokens, e.cache_read_tokens, e.cache_write_tokens,
      e.quantity, e.list_cost_micros, e.cost_micros};
}

// Several parties (and several batches of one group) may write the same trace's summary: merge
// them here as the database would, since one statement may not update a row twice.
void MergeTrace(st::TraceRow& into, const st::TraceRow& t) {
  auto keep = [](std::string& a, const std::string& b) {
    if (!b.empty()) a = b;
  };
  keep(into.user_id, t.user_id);
  keep(into.session_id, t.session_id);
  keep(into.name, t.name);
  keep(into.model, t.model);
  into.started_us = std::min(into.started_us, t.started_us);
  into.ended_us = std::max(into.ended_us, t.ended_us);
  if (t.status == "error") into.status = "error";
  into.cost_micros += t.cost_micros;
  into.span_count += t.span_count;
}

st::SpanRow SpanRowOf(const observability::Span& s) {
  return {TenantId(s.tenant_id),
          TraceId(s.trace_id),
          s.span_id,
          s.parent_span_id,
          s.name,
          s.kind,
          s.start_us,
          s.end_us,
          s.error ? "error" : "ok",
          s.status_message,
          observability::AttributesJson(s),
          s.cost_micros};
}

}  // namespace

int64_t MonthlyRollupRetentionDays(const RetentionOptions& r) {
  if (r.rollup_days <= 0 || r.monthly_rollup_days <= 0) return 0;
  return std::max(r.rollup_days, r.monthly_rollup_days);
}

Recorder::Recorder(st::Database& db, const Clock& clock, RecorderOptions options,
                   observability::Metrics* metrics, observability::OtlpExporter* exporter,
                   AlertNotifier* notifier)
    : db_(db),
      clock_(clock),
      opt_(std::move(options)),
      metrics_(metrics),
      exporter_(exporter),
      notifier_(notifier),
      audit_(db, clock),
      next_purge_ms_(clock.NowUnixMillis() + 30'000) {
  thread_ = std::thread([this] { Run(); });
}

Recorder::~Recorder() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

boost::asio::awaitable<Status> Recorder::Commit(Batch batch) {
  co_return co_await AsyncCommit(std::move(batch), boost::asio::use_awaitable);
}

void Recorder::Enqueue(Batch batch) {
  // Writes capture their caller's state, which must outlive the commit; a settlement's caller
  // must hear whether it was written: Commit only.
  if (!batch.writes.empty() || !batch.counter_deltas.empty()) {
    log::Error(
        "a batch with writes was enqueued without waiting: its writes are dropped",
        {{"writes", static_cast<int64_t>(batch.writes.size() + batch.counter_deltas.size())}});
    batch.writes.clear();
    batch.counter_deltas.clear();
  }
  if (batch.empty()) return;
  Push(std::move(batch), nullptr);
}

void Recorder::Push(Batch batch, Done done, bool flush) {
  {
    std::lock_guard lock(mu_);
    queued_items_ += batch.size();
    queue_.push_back({std::move(batch), std::move(done), SteadyClock::now(), flush});
    if (queue_.back().urgent()) ++queued_urgent_;
    if (flush) ++queued_flushes_;
    if (metrics_) metrics_->SetEventQueueDepth(queued_items_);
  }
  cv_.notify_one();
}

Status Recorder::Flush() {
  std::promise<Status> p;
  auto f = p.get_future();
  Push(
      Batch{}, [&p](Status st) { p.set_value(std::move(st)); }, /*flush=*/true);
  return f.get();
}

Status Recorder::WriteGroup(const std::string& id, std::vector<Pending>& group,
                            std::vector<st::AlertRow>& alerts) {
  std::vector<UsageEvent> events;
  std::vector<st::SpanRow> spans;
  std::map<std::pair<std::string, std::string>, st::TraceRow> traces;
  // tenant -> (day, user, service, resource) -> totals, and the same without the user.
  std::map<std::string,
           std::map<std::tuple<std::string, std::string, std::string, std::string>, st::CostTotals>>
      by_user;
  std::map<std::string, std::map<std::tuple<std::string, std::string, std::string>, st::CostTotals>>
      by_tenant;
  // tenant -> (month, user, service, resource) -> totals.
  std::map<std::string,
           std::map<std::tuple<std::string, std::string, std::string, std::string>, st::CostTotals>>
      by_user_month;
  std::map<std::pair<std::string, std::string>, st::CostTotals> monthly;  // (tenant, month)
  for (auto& p : group) {
    // Copied, not moved: a failed group is written again.
    for (const auto& e : p.batch.events) {
      const st::CostTotals t = TotalsOf(e);
      by_user[e.tenant_id.value()][{e.day, e.user_id.value(), e.service, e.resource}] += t;
      by_tenant[e.tenant_id.value()][{e.day, e.service, e.resource}] += t;
      by_user_month[e.tenant_id.value()]
                   [{e.day.substr(0, 7), e.user_id.value(), e.service, e.resource}] += t;
      monthly[{e.tenant_id.value(), e.day.substr(0, 7)}] += t;
      events.push_back(e);
    }
    for (const auto& s : p.batch.spans)
      if (!s.tenant_id.empty()) spans.push_back(SpanRowOf(s));
    for (const auto& t : p.batch.traces) {
      auto key = std::pair{t.tenant_id.value(), t.trace_id.value()};
      auto it = traces.find(key);
      if (it == traces.end())
        traces.emplace(key, t);
      else
        MergeTrace(it->second, t);
    }
  }
  std::vector<st::TraceRow> trace_rows;
  trace_rows.reserve(traces.size());
  for (auto& [k, t] : traces) trace_rows.push_back(std::move(t));
  const int64_t now = clock_.NowUnixMillis();
  std::vector<const std::function<Status(st::Tx&)>*> writes;
  for (const auto& p : group)
    for (const auto& w : p.batch.writes) writes.push_back(&w);
  // tenant -> counter -> the group's sum. (One writer at a time on SQLite, so the order the rows
  // are taken in cannot deadlock; see Batch::counter_deltas.)
  std::map<std::string, std::map<st::CounterKey, int64_t>> counters;
  for (const auto& p : group)
    for (const auto& [tenant, d] : p.batch.counter_deltas)
      counters[tenant.value()][d.key] += d.amount;
  if (events.empty() && spans.empty() && trace_rows.empty() && writes.empty() && counters.empty())
    return Status::Ok();

  // Durable (an fsync of the WAL on SQLite) before the callers hear of it: one per group. A group
  // nobody waits for (request spans enqueued once the response is out) is committed without its
  // own fsync: the next durable group's covers it (on SQLite the fsync of the WAL takes every
  // earlier commit with it; on PostgreSQL it keeps the server's synchronous_commit, and a durable
  // commit flushes the WAL up to its own record, earlier commits included), and not paying one for
  // it keeps the next waiting group from queuing behind that fsync.
  auto unit = [&](st::Tx& tx) -> Status {
    // A retry after a COMMIT whose outcome was lost finds the group already written. Its alerts
    // are those the run that committed found, the last run to get this far: they are kept, so
    // their webhooks are still called.
    GH_ASSIGN_OR_RETURN(bool fresh, st::metering_groups::Claim(tx, id, now));
    if (!fresh) return Status::Ok();
    alerts.clear();  // the unit may run more than once
    for (const auto* w : writes) GH_RETURN_IF_ERROR((*w)(tx));
    for (const auto& [tenant, sums] : counters) {
      std::vector<st::CounterDelta> v;
      v.reserve(sums.size());
      for (const auto& [k, amount] : sums) v.push_back({k, amount, {}});
      GH_RETURN_IF_ERROR(st::counters::Adjust(tx, TenantId(tenant), v));
    }
    GH_RETURN_IF_ERROR(st::usage_events::InsertMany(tx, events));
    for (const auto& [tenant, rows] : by_user) {
      std::vector<st::CostRow> v;
      v.reserve(rows.size());
      for (const auto& [k, t] : rows)
        v.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), t});
      GH_RETURN_IF_ERROR(st::cost_rollups::AddDailyUser(tx, TenantId(tenant), v));
    }
    for (const auto& [tenant, rows] : by_user_month) {
      std::vector<st::CostRow> v;
      v.reserve(rows.size());
      for (const auto& [k, t] : rows)
        v.push_back({std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), t});
      GH_RETURN_IF_ERROR(st::cost_rollups::AddMonthlyUser(tx, TenantId(tenant), v));
    }
    for (const auto& [tenant, rows] : by_tenant) {
      std::vector<st::CostRow> v;
      v.reserve(rows.size());
      for (const auto& [k, t] : rows)
        v.push_back({std::get<0>(k), "", std::get<1>(k), std::get<2>(k), t});
      GH_RETURN_IF_ERROR(st::cost_rollups::AddDailyTenant(tx, TenantId(tenant), v));
    }
    for (const auto& [key, t] : monthly) {
      GH_RETURN_IF_ERROR(st::cost_rollups::AddMonthly(tx, TenantId(key.first), key.second, t));
      if (t.cost_micros <= 0) continue;
      GH_ASSIGN_OR_RETURN(auto crossed,
                          RecordCrossedThresholds(tx, TenantId(key.first), key.second, now));
      for (auto& a : crossed) alerts.push_back(std::move(a));
    }
    GH_RETURN_IF_ERROR(st::traces::InsertSpans(tx, spans));
    return st::traces::UpsertSummaries(tx, trace_rows);
  };
  const bool waited = std::any_of(group.begin(), group.end(),
                                  [](const Pending& p) { return static_cast<bool>(p.done); });
  return opt_.durable && waited ? db_.WriteDurable(unit) : db_.WriteReadCommitted(unit);
}

void Recorder::SweepIfDue() {
  const int64_t now = clock_.NowUnixMillis();
  if (now < next_purge_ms_) return;
  auto purged = Purge();
  if (!purged.ok()) log::Error("retention purge failed", {{"error", purged.status().message()}});
  next_purge_ms_ = now + opt_.retention.purge_interval.count();  // from when this sweep was due
}

void Recorder::Run() {
  std::unique_lock lock(mu_);
  // A group is due when someone waits for (or audits) a queued batch, when the oldest queued
  // batch has lingered long enough (RecorderOptions::linger), when a group's worth is queued, and
  // at shutdown.
  auto linger_ends = [&] { return queue_.front().queued_at + opt_.linger; };  // queue not empty
  auto due = [&] {
    return stopping_ || queued_urgent_ > 0 || queued_items_ >= opt_.max_group_items ||
           (!queue_.empty() && SteadyClock::now() >= linger_ends());
  };
  for (;;) {
    auto wake = SteadyClock::now() + opt_.retention.check_every;
    if (!queue_.empty()) wake = std::min(wake, linger_ends());
    // Also woken by a first batch into an empty queue: its linger ends before `wake`.
    cv_.wait_until(lock, wake, [&] { return due() || (!queue_.empty() && linger_ends() < wake); });
    if (queue_.empty() || !due()) {
      if (stopping_) return;
      lock.unlock();
      SweepIfDue();
      lock.lock();
      continue;
    }
    std::vector<Pending> group = TakeGroup();
    if (metrics_) metrics_->SetEventQueueDepth(queued_items_);
    lock.unlock();

    const auto t0 = SteadyClock::now();
    std::vector<st::AlertRow> alerts;
    Status st;
    // Time-ordered, like the event ids: the markers append to their B-tree.
    const std::string group_id = NewEventId(clock_.NowUnixMillis(), OsRandom::Instance());
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(attempt == 1 ? 20 : 200));
      st = WriteGroup(group_id, group, alerts);
      if (st.ok()) break;
    }
    size_t nevents = 0, nspans = 0;
    std::vector<audit::AuditEntry> audit;
    std::vector<observability::Span> exported;
    for (auto& p : group) {
      nevents += p.batch.events.size();
      nspans += p.batch.spans.size();
      if (metrics_ && st.ok())
        for (const auto& e : p.batch.events) metrics_->CountUsageCost(e.service, e.cost_micros);
      for (auto& a : p.batch.audit) audit.push_back(std::move(a));
      for (auto& s : p.batch.spans) exported.push_back(std::move(s));
    }
    if (metrics_)
      metrics_->ObserveEventBatch(
          nevents, nspans, std::chrono::duration<double>(SteadyClock::now() - t0).count(), st.ok());
    if (!st.ok())
      log::Error("usage events could not be committed",
                 {{"events", int64_t(nevents)}, {"error", st.message()}});
    if (!audit.empty()) {
      Status a = audit_.Append(audit);
      if (!a.ok())
        log::Error("audit records could not be appended",
                   {{"records", int64_t(audit.size())}, {"error", a.message()}});
    }
    // Handed on before the callers hear of the commit, so whoever waits on it finds them queued.
    if (exporter_ && !exported.empty()) exporter_->Export(std::move(exported));
    if (notifier_ && st.ok() && !alerts.empty()) notifier_->Notify(std::move(alerts));
    for (auto& p : group)
      if (p.done) p.done(st);
    // Under a steady load the queue may never be empty: the sweep also gets its turn here.
    SweepIfDue();
    lock.lock();
  }
}

std::vector<Recorder::Pending> Recorder::TakeGroup() {
  // The batches someone waits for (or that carry audit records), in queue order, up to the bound
  // (at least one batch); the others keep lingering. A completion's group, which its response
  // waits for, then does not also write the spans of the requests that ended a moment before it
  // (on SQLite every page a group touches is written, and synced, before that response). Once the
  // oldest lingering batch's linger is over, everything queued goes: what lingered is written
  // together, in one transaction. Everything also goes when a Flush waits, at shutdown, and when a
  // group's worth is queued.
  bool all = stopping_ || queued_flushes_ > 0 || queued_items_ >= opt_.max_group_items;
  if (!all) {  // the oldest lingering batch's age: an urgent one goes anyway, however old
    auto oldest =
        std::find_if(queue_.begin(), queue_.end(), [](const Pending& p) { return !p.urgent(); });
    all = oldest != queue_.end() && SteadyClock::now() >= oldest->queued_at + opt_.linger;
  }
  std::vector<Pending> group;
  std::deque<Pending> lingering;
  size_t items = 0;
  while (!queue_.empty()) {
    Pending& p = queue_.front();
    if (all || p.urgent()) {
      if (!group.empty() && items + p.batch.size() > opt_.max_group_items) break;
      items += p.batch.size();
      if (p.urgent()) --queued_urgent_;
      if (p.flush) --queued_flushes_;
      group.push_back(std::move(p));
    } else {
      lingering.push_back(std::move(p));
    }
    queue_.pop_front();
  }
  for (auto it = lingering.rbegin(); it != lingering.rend(); ++it)
    queue_.push_front(std::move(*it));
  queued_items_ -= items;
  return group;
}

Result<int64_t> Recorder::Purge() {
  const RetentionOptions& r = opt_.retention;
  const int64_t now = clock_.NowUnixMillis();
  int64_t deleted = 0;
  if (r.event_days > 0) {
    const std::string cutoff = EventIdCutoff(now - r.event_days * kDayMs);
    for (;;) {
      int64_t n = 0;
      GH_RETURN_IF_ERROR(db_.WriteReadCommitted([&](st::Tx& tx) -> Status {
        GH_ASSIGN_OR_RETURN(n, st::usage_events::PurgeBefore(tx, cutoff, 5000));
        return Status::Ok();
      }));
      deleted += n;
      if (n < 5000) break;
    }
  }
  if (r.rollup_days > 0) {
    const std::string day = DayKey(FromUnixMillis(now - r.rollup_days * kDayMs));
    GH_RETURN_IF_ERROR(
        db_.WriteReadCommitted([&](st::Tx& tx) { return st::cost_rollups::PurgeBefore(tx, day); }));
  }
  if (const int64_t days = MonthlyRollupRetentionDays(r); days > 0) {
    const std::string month = MonthKey(FromUnixMillis(now - days * kDayMs));
    GH_RETURN_IF_ERROR(db_.WriteReadCommitted(
        [&](st::Tx& tx) { return st::cost_rollups::PurgeMonthlyUserBefore(tx, month); }));
  }
  GH_RETURN_IF_ERROR(db_.WriteReadCommitted(
      [&](st::Tx& tx) { return st::metering_groups::PurgeBefore(tx, now - kDayMs).status(); }));
  if (r.trace_days > 0) {
    const int64_t cutoff_us = (now - r.trace_days * kDayMs) * 1000;
    for (;;) {
      int64_t n = 0;
      GH_RETURN_IF_ERROR(db_.WriteReadCommitted([&](st::Tx& tx) -> Status {
        GH_ASSIGN_OR_RETURN(n, st::traces::PurgeBefore(tx, cutoff_us, 500));
        return Status::Ok();
      }));
      deleted += n;
      if (n < 500) break;
    }
  }
  return deleted;
}

}  // namespace gh::metering
