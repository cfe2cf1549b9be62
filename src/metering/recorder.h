// Recorder: the group-committing writer of usage events, spans, trace summaries and audit
// records. Requests hand it a Batch; one background thread takes everything queued (the batches
// of all concurrent requests) and commits it in one transaction: the events, the roll-ups they
// add to (merged first: one upsert per tenant/day/user/service/resource, per tenant/day/service/
// resource, per tenant/month/user/service/resource and per tenant/month), the spans and trace
// summaries, and the budget alerts the new costs cross. One commit per group, never one per
// event; one fsync (where the backend syncs) per group that someone waits for: a group of batches
// nobody waits for is made durable by the next durable one. Audit records follow in their own
// serialisable transaction (the hash chain needs the head), also once per group.
//
// Commit() completes when the caller's batch is committed — a chat turn awaits it before its
// `done` event, so a reported cost is always durable before the client sees the answer. Enqueue()
// does not wait (request spans recorded once the response is out). Flush() blocks until
// everything queued before it is committed (read-your-writes for the trace API; committed, not
// necessarily synced). A batch nobody waits for lingers briefly (RecorderOptions::linger) and is
// then written with the next group, with the others that lingered as long. After a commit, spans go
// to the OTLP exporter and new alerts to the notifier.
//
// A failing commit is retried (three attempts); then its callers get the error. Retention purges
// run on the same thread, in small transactions, once per purge interval of the injected Clock
// (the first one 30 s after start): the thread looks at the clock every `check_every` and after
// every group, so a queue that never drains does not hold the sweep off, and a test moves a
// FakeClock to make a sweep due. Thread-safe.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "audit/audit_log.h"
#include "common/clock.h"
#include "metering/budgets.h"
#include "metering/usage_event.h"
#include "observability/metrics.h"
#include "observability/otlp_exporter.h"
#include "observability/span.h"
#include "storage/database.h"
#include "storage/metering_repository.h"
#include "storage/records.h"

namespace gh::metering {

struct Batch {
  std::vector<UsageEvent> events;
  std::vector<observability::Span> spans;  // stored when they carry a tenant id; all exported
  std::vector<storage::TraceRow> traces;
  std::vector<audit::AuditEntry> audit;
  // Written in the group's transaction with the events, so that what a request must also write
  // costs no transaction of its own (Commit only: Enqueue drops them). Each may
  // run more than once (a failed group is retried) and should fail only on a storage error: one
  // failing fails the whole group. Several in one transaction take rows in no common order: on a
  // backend with row locks (PostgreSQL) that can deadlock against other units, so callers use
  // this on SQLite only (one write lock for the whole database).
  std::vector<std::function<Status(storage::Tx&)>> writes;
  // Unconditional quota-counter adjustments (settlements: tenancy::QuotaService::SettleDeltas),
  // summed per counter over the group and written once each in its transaction: a group of
  // completions by one tenant updates each of its counters once, not once per completion. Commit
  // only, and on SQLite only, like `writes`.
  std::vector<std::pair<TenantId, storage::CounterDelta>> counter_deltas;
  bool empty() const {
    return events.empty() && spans.empty() && traces.empty() && audit.empty() && writes.empty() &&
           counter_deltas.empty();
  }
  size_t size() const {
    return events.size() + spans.size() + traces.size() + audit.size() + writes.size() +
           counter_deltas.size();
  }
};

// Days to keep each kind of row; 0 keeps them for ever.
struct RetentionOptions {
  int64_t event_days = 90;    // raw usage events
  int64_t rollup_days = 800;  // daily roll-ups (reports) and the tenants' month totals (budgets)
  int64_t trace_days = 30;    // traces and spans
  std::chrono::milliseconds purge_interval{std::chrono::hours(1)};  // on the Clock
  std::chrono::milliseconds check_every{
      std::chrono::seconds(5)};  // real time: how often the clock is read
  // The per-user monthly roll-up (the whole months of per-user reports). A month goes once all its
  // days are older than this, never before the daily roll-up's days (MonthlyRollupRetentionDays).
  int64_t monthly_rollup_days = 1830;
};

// The monthly roll-up's effective retention: at least the daily roll-up's (a report over whole
// months must not lose what the days still hold); 0 (for ever) when either is 0.
int64_t MonthlyRollupRetentionDays(const RetentionOptions& r);

struct RecorderOptions {
  size_t max_group_items = 10'000;  // events + spans + ... per commit
  // Each group commit on stable storage before its callers resume (Database::WriteDurable: one
  // fsync per group on SQLite). Off: a commit survives a crash of the process but the last
  // moments' events may be lost with the machine's power (config metering.durable_commits).
  bool durable = true;
  // How long (real time) a batch nobody waits for (Enqueue without audit records: a request's
  // spans, recorded once its response is out) waits before it is written. Such batches gather
  // meanwhile and are written together, in the transaction of the first group due after their
  // linger (one someone waits for, under load) or in one of their own, so a completion's group,
  // whose commit its response waits for, carries no other request's spans unless they are due.
  std::chrono::milliseconds linger{20};
  RetentionOptions retention;
};

class Recorder {
 public:
  // Borrowed: all must outlive the recorder. metrics, exporter and notifier may be null.
  Recorder(storage::Database& db, const Clock& clock, RecorderOptions options,
           observability::Metrics* metrics, observability::OtlpExporter* exporter,
           AlertNotifier* notifier);
  ~Recorder();  // commits what is queued, then stops
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Completes (on the awaiting coroutine's executor) once the batch is committed.
  boost::asio::awaitable<Status> Commit(Batch batch);
  void Enqueue(Batch batch);
  // Blocks the calling thread. Not from a coroutine that the recorder's completions need.
  Status Flush();
  // Retention now (also runs on its own every purge_interval). Returns rows deleted.
  Result<int64_t> Purge();

  // The asio async operation behind Commit, for any completion token.
  template <typename Token>
  auto AsyncCommit(Batch batch, Token&& token) {
    return boost::asio::async_initiate<Token, void(Status)>(
        [this](auto handler, Batch b) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          // Outstanding work until the commit is heard of: an io_context with nothing else to do
          // must not return from run() while its coroutine awaits the recorder's thread.
          auto work = std::make_shared<boost::asio::executor_work_guard<
              boost::asio::associated_executor_t<decltype(handler)>>>(
              boost::asio::get_associated_executor(*h));
          Push(std::move(b), [h, work](Status st) {
            boost::asio::post(work->get_executor(), [h, work, st = std::move(st)]() mutable {
              work->reset();
              std::move (*h)(std::move(st));
            });
          });
        },
        token, std::move(batch));
  }

 private:
  using Done = std::function<void(Status)>;
  struct Pending {
    Batch batch;
    Done done;  // may be empty
    std::chrono::steady_clock::time_point queued_at;
    bool flush = false;  // Flush(): everything queued before it goes in its group
    // Written as soon as the thread is free: someone waits for it, or it carries audit records.
    bool urgent() const { return done || !batch.audit.empty(); }
  };
  void Push(Batch batch, Done done, bool flush = false);
  // The next group, taken from queue_ (mu_ held): see Run.
  std::vector<Pending> TakeGroup();
  void Run();
  // The periodic sweep, when the clock says it is due (the recorder's thread).
  void SweepIfDue();
  // `id` marks the group (metering_groups): a run after one that committed applies nothing.
  Status WriteGroup(const std::string& id, std::vector<Pending>& group,
                    std::vector<storage::AlertRow>& alerts);

  storage::Database& db_;
  const Clock& clock_;
  const RecorderOptions opt_;
  observability::Metrics* metrics_;
  observability::OtlpExporter* exporter_;
  AlertNotifier* notifier_;
  audit::AuditLog audit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  size_t queued_items_ = 0;
  size_t queued_urgent_ = 0;   // Pending::urgent() in queue_
  size_t queued_flushes_ = 0;  // Pending::flush in queue_
  bool stopping_ = false;
  int64_t next_purge_ms_;  // on clock_; the recorder's thread only
  std::thread thread_;
};

}  // namespace gh::metering
