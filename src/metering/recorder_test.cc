// The recorder, the roll-ups and the reports, written once and run against every backend (SQLite
// on a temp file and a real PostgreSQL, see storage/testing/postgres_server.h).
#include "metering/recorder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/time_util.h"
#include "metering/cost_reports.h"
#include "storage/repositories.h"
#include "storage/testing/counting_database.h"
#include "storage/testing/forwarding_database.h"
#include "storage/testing/postgres_server.h"

namespace gh::metering {
namespace {

namespace fs = std::filesystem;
namespace st = gh::storage;

class RecorderTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gh-recorder-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    fs::create_directories(dir_);
    std::string url = "sqlite:" + (dir_ / "db").string();
    if (GetParam() == "postgres") {
      auto pg = st::testing::PostgresTestDatabase::Create();
      ASSERT_TRUE(pg.ok()) << pg.status().message();
      pg_.emplace(std::move(*pg));
      url = pg_->url();
    }
    url_ = url;
    db_ = Open();
    ASSERT_TRUE(st::Migrate(*db_).ok());
  }
  void TearDown() override {
    recorder_.reset();
    db_.reset();
    pg_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<st::Database> Open() {
    auto db = st::OpenDatabase(url_, {.pool_size = 4});
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  // Commits `b` through `rec` from a coroutine on an io_context of its own, as a request does.
  static Status CommitOn(Recorder& rec, Batch b) {
    boost::asio::io_context io;
    Status got = Status::Internal("not run");
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { got = co_await rec.Commit(std::move(b)); },
        boost::asio::detached);
    io.run();
    return got;
  }
  // A purge by hand would race the recorder's own sweep, which follows every group (a Flush's
  // too) and finds itself due once the clock has moved on: the recorder stops before the clock
  // moves, and a new one with the same options starts after it (its first sweep is 30 s of clock
  // away, and it sleeps until a batch comes).
  void MoveClockForAPurgeByHand(std::chrono::hours by, const RecorderOptions& opt) {
    recorder_.reset();
    clock_.Advance(by);
    recorder_ = std::make_unique<Recorder>(*db_, clock_, opt, &metrics_, nullptr, nullptr);
  }
  Recorder& recorder() {
    if (!recorder_)
      recorder_ =
          std::make_unique<Recorder>(*db_, clock_, RecorderOptions{}, &metrics_, nullptr, nullptr);
    return *recorder_;
  }

  // A random event, at the fake clock's day plus up to `days` days.
  UsageEvent RandomEvent(std::mt19937_64& rng, int days = 3) {
    static const char* kTenants[] = {"acme", "globex", "initech"};
    static const char* kServices[] = {"model", "model", "tool", "agent_runtime"};
    static const char* kModels[] = {"gpt-4o", "claude-3-5-sonnet-20241022",
                                    "anthropic.claude-3-haiku-20240307-v1:0"};
    UsageEvent e;
    const int64_t at =
        clock_.NowUnixMillis() + int64_t(rng() % days) * 86'400'000 + int64_t(rng() % 86'400'000);
    e.event_id = NewEventId(at, random_);
    e.tenant_id = TenantId(kTenants[rng() % 3]);
    e.user_id = UserId("u" + std::to_string(rng() % 5));
    e.session_id = SessionId("s" + std::to_string(rng() % 7));
    e.trace_id = TraceId("t" + std::to_string(rng() % 50));
    e.span_id = "sp";
    e.service = kServices[rng() % 4];
    e.resource = e.service == "model"
                     ? kModels[rng() % 3]
                     : (e.service == "tool" ? "get_current_weather" : "orchestration");
    if (e.service == "model") {
      e.input_tokens = int64_t(rng() % 5000);
      e.output_tokens = int64_t(rng() % 2000);
      e.cache_read_tokens = int64_t(rng() % 30'000);
      e.cache_write_tokens = int64_t(rng() % 3000);
    }
    e.quantity = 1;
    e.list_cost_micros = int64_t(rng() % 100'000);
    e.cost_micros = e.list_cost_micros + int64_t(rng() % 1000);
    e.catalog_version = "test";
    e.status = "ok";
    e.day = DayKey(FromUnixMillis(at));
    e.created_at = at;
    return e;
  }

  // A recorder on `db` whose batches nobody waits for linger this long.
  std::unique_ptr<Recorder> Lingering(st::Database& db, std::chrono::milliseconds linger) {
    RecorderOptions opt;
    opt.linger = linger;
    return std::make_unique<Recorder>(db, clock_, opt, nullptr, nullptr, nullptr);
  }

  // A batch of one random event of `tenant`.
  Batch OneEventOf(std::mt19937_64& rng, const char* tenant) {
    Batch b;
    b.events.push_back(RandomEvent(rng, 1));
    b.events.back().tenant_id = TenantId(tenant);
    return b;
  }

  static inline int n_ = 0;
  fs::path dir_;
  std::optional<st::testing::PostgresTestDatabase> pg_;
  std::string url_;
  std::unique_ptr<st::Database> db_;
  FakeClock clock_{ToUnixMillis(*ParseDate("2026-03-30"))};
  SeededRandom random_{42};
  observability::Metrics metrics_;
  std::unique_ptr<Recorder> recorder_;
};

st::CostTotals Totals(const UsageEvent& e) {
  return {
      1,          e.input_tokens,     e.output_tokens, e.cache_read_tokens, e.cache_write_tokens,
      e.quantity, e.list_cost_micros, e.cost_micros};
}

TEST_P(RecorderTest, ReportsEqualTheSumOfEventsToTheMicroDollar) {
  std::mt19937_64 rng(1234);
  std::vector<UsageEvent> all;
  for (int batch = 0; batch < 40; ++batch) {
    Batch b;
    for (int i = 0; i < 50; ++i) b.events.push_back(RandomEvent(rng));
    all.insert(all.end(), b.events.begin(), b.events.end());
    recorder().Enqueue(std::move(b));
  }
  ASSERT_TRUE(recorder().Flush().ok());

  // Expected figures, summed from the raw events.
  std::map<std::string, st::CostTotals> by_tenant;
  std::map<std::tuple<std::string, std::string>, st::CostTotals> by_service, by_user;
  std::map<std::tuple<std::string, std::string, std::string>, st::CostTotals> by_resource,
      by_day_service, by_user_service;
  for (const auto& e : all) {
    const std::string t = e.tenant_id.value();
    by_tenant[t] += Totals(e);
    by_service[{t, e.service}] += Totals(e);
    by_user[{t, e.user_id.value()}] += Totals(e);
    by_resource[{t, e.service, e.resource}] += Totals(e);
    by_day_service[{t, e.day, e.service}] += Totals(e);
    by_user_service[{t, e.user_id.value(), e.service}] += Totals(e);
  }
  CostReports reports(*db_);
  const DateRange range{"2026-03-30", "2026-04-01"};
  for (const auto& [tenant, total] : by_tenant) {
    SCOPED_TRACE(tenant);
    auto overall = reports.Overall(TenantId(tenant), range);
    ASSERT_TRUE(overall.ok()) << overall.status().message();
    EXPECT_EQ(overall->total, total);
    for (const auto& s : overall->services) {
      EXPECT_EQ(s.totals, (by_service[{tenant, s.key}])) << s.key;
      for (const auto& r : s.parts)
        EXPECT_EQ(r.totals, (by_resource[{tenant, s.key, r.key}])) << r.key;
    }
    auto wise = reports.ServiceWise(TenantId(tenant), range);
    ASSERT_TRUE(wise.ok());
    EXPECT_EQ(wise->total, total);
    st::CostTotals daily_sum;
    for (const auto& d : wise->daily)
      for (const auto& s : d.parts) {
        EXPECT_EQ(s.totals, (by_day_service[{tenant, d.key, s.key}])) << d.key << " " << s.key;
        daily_sum += s.totals;
      }
    EXPECT_EQ(daily_sum, total);
    auto per_user = reports.PerUser(TenantId(tenant), range);
    ASSERT_TRUE(per_user.ok());
    EXPECT_EQ(per_user->total, total);
    for (const auto& u : per_user->users) {
      EXPECT_EQ(u.totals, (by_user[{tenant, u.key}])) << u.key;
      for (const auto& s : u.parts) EXPECT_EQ(s.totals, (by_user_service[{tenant, u.key, s.key}]));
      auto mine = reports.ForUser(TenantId(tenant), UserId(u.key), range);
      ASSERT_TRUE(mine.ok());
      EXPECT_EQ(mine->total, u.totals) << "a user's report equals their line in the tenant's";
    }
    auto all_of_it = reports.Comprehensive(TenantId(tenant), range);
    ASSERT_TRUE(all_of_it.ok());
    EXPECT_EQ(all_of_it->total, total);
    EXPECT_EQ(all_of_it->users.size(), per_user->users.size());
  }
  // The raw events are all there too.
  int64_t raw = 0;
  ASSERT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                   for (const auto& [tenant, total] : by_tenant) {
                     GH_ASSIGN_OR_RETURN(auto rows, st::usage_events::List(tx, TenantId(tenant), 0,
                                                                           INT64_MAX, 100'000));
                     st::CostTotals sum;
                     for (const auto& e : rows) sum += Totals(e);
                     EXPECT_EQ(sum, total);
                     raw += static_cast<int64_t>(rows.size());
                   }
                   return Status::Ok();
                 })
                  .ok());
  EXPECT_EQ(raw, static_cast<int64_t>(all.size()));
}

TEST_P(RecorderTest, NoReportIncludesAnotherTenantsData) {
  std::mt19937_64 rng(5);
  Batch b;
  for (int i = 0; i < 300; ++i) b.events.push_back(RandomEvent(rng));
  recorder().Enqueue(b);
  ASSERT_TRUE(recorder().Flush().ok());
  CostReports reports(*db_);
  auto rep = reports.Comprehensive(TenantId("nobody"), {"2026-01-01", "2026-12-31"});
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->total, st::CostTotals{});
  EXPECT_TRUE(rep->users.empty());
  EXPECT_TRUE(rep->services.empty());
  auto acme = reports.PerUser(TenantId("acme"), {"2026-01-01", "2026-12-31"});
  ASSERT_TRUE(acme.ok());
  int64_t acme_events = 0;
  for (const auto& e : b.events) acme_events += e.tenant_id.value() == "acme";
  EXPECT_EQ(acme->total.events, acme_events);
  // A user id that exists in another tenant reads nothing here.
  auto other = reports.ForUser(TenantId("nobody"), UserId("u1"), {"2026-01-01", "2026-12-31"});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->total.events, 0);
}

TEST_P(RecorderTest, ConcurrentRequestsAreCommittedTogether) {
  std::mt19937_64 seed(9);
  constexpr int kThreads = 8, kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    std::vector<UsageEvent> mine;
    for (int i = 0; i < kPerThread; ++i) mine.push_back(RandomEvent(seed));
    threads.emplace_back([&, mine] {
      for (const auto& e : mine) {
        Batch b;
        b.events.push_back(e);
        if (!CommitOn(recorder(), std::move(b)).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const std::string text = metrics_.Serialize();
  // Every event is committed, in fewer transactions than there were requests.
  EXPECT_NE(
      text.find("gatehouse_usage_events_written_total " + std::to_string(kThreads * kPerThread)),
      std::string::npos)
      << text;
  auto pos = text.find("gatehouse_usage_event_batches_total{outcome=\"ok\"} ");
  ASSERT_NE(pos, std::string::npos);
  const double groups = std::stod(text.substr(
      pos + std::string("gatehouse_usage_event_batches_total{outcome=\"ok\"} ").size()));
  EXPECT_LT(groups, kThreads * kPerThread);
  RecordProperty("groups", std::to_string(groups));
}

// A group is committed with Database::WriteDurable (on stable storage before the callers resume)
// unless metering.durable_commits is off; either way it is one write transaction.
TEST_P(RecorderTest, GroupsAreCommittedDurablyUnlessTurnedOff) {
  std::mt19937_64 seed(3);
  for (bool durable : {true, false}) {
    st::CountingDatabase counting(*db_);
    RecorderOptions opt;
    opt.durable = durable;
    {
      Recorder rec(counting, clock_, opt, nullptr, nullptr, nullptr);
      Batch b;
      b.events.push_back(RandomEvent(seed));
      rec.Enqueue(std::move(b));
      ASSERT_TRUE(rec.Flush().ok());
    }
    EXPECT_EQ(counting.writes(), 1) << "durable=" << durable;
    EXPECT_EQ(counting.durable_writes(), durable ? 1 : 0) << "durable=" << durable;
  }
}

// How many usage events `tenant` has, read on a connection of its own.
int64_t EventsOf(st::Database& db, const TenantId& tenant) {
  int64_t n = -1;
  (void)db.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto rows, st::usage_events::List(tx, tenant, 0, INT64_MAX, 100));
    n = static_cast<int64_t>(rows.size());
    return Status::Ok();
  });
  return n;
}

// `tenant`'s usage events once there are `n` of them, or after 10 s without.
int64_t AwaitEvents(st::Database& db, const TenantId& tenant, int64_t n) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (EventsOf(db, tenant) != n && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return EventsOf(db, tenant);
}

// A batch nobody waits for (a request's spans, enqueued once its response is out) lingers: the
// group of a completion that someone waits for meanwhile carries only what is waited for, so that
// its commit (which the response waits for) writes no other request's pages. A Flush writes both.
TEST_P(RecorderTest, AGroupSomeoneWaitsForDoesNotCarryBatchesStillLingering) {
  std::mt19937_64 rng(5);
  st::CountingDatabase counting(*db_);
  auto rec = Lingering(counting, std::chrono::hours(1));
  rec->Enqueue(OneEventOf(rng, "acme"));
  ASSERT_TRUE(CommitOn(*rec, OneEventOf(rng, "globex")).ok());
  EXPECT_EQ(counting.writes(), 1);
  EXPECT_EQ(counting.durable_writes(), 1);
  EXPECT_EQ(EventsOf(*db_, TenantId("globex")), 1);
  EXPECT_EQ(EventsOf(*db_, TenantId("acme")), 0) << "still lingering";
  ASSERT_TRUE(rec->Flush().ok());
  EXPECT_EQ(EventsOf(*db_, TenantId("acme")), 1) << "a Flush writes what lingers";
}

// Batches that lingered are written together once the oldest one's linger is over: one
// transaction for all of them, not one each as each one's linger ends.
TEST_P(RecorderTest, LingeringBatchesAreWrittenTogether) {
  std::mt19937_64 rng(9);
  st::CountingDatabase counting(*db_);
  auto rec = Lingering(counting, std::chrono::milliseconds(300));
  for (int i = 0; i < 5; ++i) rec->Enqueue(OneEventOf(rng, "acme"));
  EXPECT_EQ(AwaitEvents(*db_, TenantId("acme"), 5), 5);
  EXPECT_EQ(counting.writes(), 1);
  EXPECT_EQ(counting.durable_writes(), 0) << "nobody waits for them";
}

// With nothing else to ride with, a lingering batch is written once the linger is over (and a
// recorder that stops writes what still lingers).
TEST_P(RecorderTest, ALingeringBatchIsWrittenAfterTheLingerOrAtShutdown) {
  std::mt19937_64 rng(6);
  {
    auto rec = Lingering(*db_, std::chrono::milliseconds(20));
    rec->Enqueue(OneEventOf(rng, "acme"));
    EXPECT_EQ(AwaitEvents(*db_, TenantId("acme"), 1), 1) << "written without a Flush or a Commit";
  }
  {
    auto rec = Lingering(*db_, std::chrono::hours(1));
    rec->Enqueue(OneEventOf(rng, "globex"));
  }
  EXPECT_EQ(EventsOf(*db_, TenantId("globex")), 1) << "written when the recorder stopped";
}

// A batch enqueued while the recorder sleeps towards its next periodic check (an idle server) is
// still written once its linger is over, not at that check.
TEST_P(RecorderTest, ABatchEnqueuedOnAnIdleRecorderIsWrittenAfterItsLinger) {
  std::mt19937_64 rng(8);
  RecorderOptions opt;
  opt.linger = std::chrono::milliseconds(20);
  opt.retention.check_every = std::chrono::hours(1);
  Recorder rec(*db_, clock_, opt, nullptr, nullptr, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the recorder is asleep by now
  rec.Enqueue(OneEventOf(rng, "acme"));
  EXPECT_EQ(AwaitEvents(*db_, TenantId("acme"), 1), 1) << "not held until the hourly check";
}

// A group nobody waits for has no caller to hold back until it is on stable storage: it is
// committed without a sync of its own (the next durable group's covers it).
TEST_P(RecorderTest, AGroupNobodyWaitsForIsNotSyncedOnItsOwn) {
  std::mt19937_64 rng(7);
  st::CountingDatabase counting(*db_);
  auto rec = Lingering(counting, std::chrono::milliseconds(0));
  rec->Enqueue(OneEventOf(rng, "acme"));
  ASSERT_EQ(AwaitEvents(*db_, TenantId("acme"), 1), 1);
  EXPECT_EQ(counting.writes(), 1);
  EXPECT_EQ(counting.durable_writes(), 0);
  Batch waited;
  waited.events.push_back(RandomEvent(rng, 1));
  ASSERT_TRUE(CommitOn(*rec, std::move(waited)).ok());
  EXPECT_EQ(counting.durable_writes(), 1) << "a group someone waits for is durable";
}

// Counts the statements that touch quota counters, and holds the first durable write until the
// test opens the gate (so that what is queued meanwhile forms the next group).
class CounterStatements final : public st::ForwardingDatabase {
 public:
  explicit CounterStatements(st::Database& inner) : ForwardingDatabase(inner) {}
  Status WriteDurable(const std::function<Status(st::Tx&)>& fn) override {
    {
      std::unique_lock lock(mu_);
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
    }
    return inner_.WriteDurable([&](st::Tx& tx) {
      st::StatementCountingTx counting(tx, "quota_counters", counter_statements_);
      return fn(counting);
    });
  }

  void WaitEntered() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  int counter_statements() const { return counter_statements_.load(); }
  void Reset() { counter_statements_ = 0; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, open_ = false;
  std::atomic<int> counter_statements_{0};
};

// Issue 4 ("Performance"): the settlements of a group's completions are summed per counter and
// each counter is written once per group, a tenant's counters in one statement.
TEST_P(RecorderTest, AGroupsCounterAdjustmentsAreSummedAndWrittenOncePerCounter) {
  CounterStatements db(*db_);
  std::mt19937_64 rng(13);
  Recorder rec(db, clock_, RecorderOptions{}, nullptr, nullptr, nullptr);
  const TenantId acme("acme"), globex("globex");
  const st::CounterKey tokens{"tenant", "m:2026-12", "tokens"};
  const st::CounterKey spend{"user:u1", "m:2026-12", "spend_micros"};
  std::mutex mu;
  std::vector<Status> heard;
  auto commit = [&](Batch b) {
    rec.AsyncCommit(std::move(b), [&](Status st) {
      std::lock_guard lock(mu);
      heard.push_back(st);
    });
  };
  Batch first;  // held in the gate while the others queue
  first.events.push_back(RandomEvent(rng));
  commit(std::move(first));
  db.WaitEntered();
  for (int i = 1; i <= 3; ++i) {
    Batch b;
    b.events.push_back(RandomEvent(rng));
    b.counter_deltas.push_back({acme, {tokens, 100 * i, {}}});
    b.counter_deltas.push_back({acme, {spend, 10 * i, {}}});
    b.counter_deltas.push_back({globex, {tokens, 7, {}}});
    if (i == 3) b.counter_deltas.push_back({acme, {tokens, -50, {}}});  // a worst case given back
    commit(std::move(b));
  }
  db.Open();
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard lock(mu);
      if (heard.size() == 4) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(heard.size(), 4u);
  for (const auto& st : heard) EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(db.counter_statements(), 2)
      << "three counters, each written once for the group: acme's two in one statement";
  ASSERT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(int64_t acme_tokens, st::counters::Get(tx, acme, tokens));
                   GH_ASSIGN_OR_RETURN(int64_t acme_spend, st::counters::Get(tx, acme, spend));
                   GH_ASSIGN_OR_RETURN(int64_t globex_tokens,
                                       st::counters::Get(tx, globex, tokens));
                   EXPECT_EQ(acme_tokens, 550);
                   EXPECT_EQ(acme_spend, 60);
                   EXPECT_EQ(globex_tokens, 21);
                   GH_ASSIGN_OR_RETURN(int64_t other, st::counters::Get(tx, globex, spend));
                   EXPECT_EQ(other, 0) << "a tenant's sums stay its own";
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(RecorderTest, CounterAdjustmentsAreNotTakenWithoutWaiting) {
  std::mt19937_64 rng(17);
  Batch b;
  b.events.push_back(RandomEvent(rng));
  b.counter_deltas.push_back({TenantId("acme"), {{"tenant", "m:2026-12", "tokens"}, 5, {}}});
  recorder().Enqueue(std::move(b));
  ASSERT_TRUE(recorder().Flush().ok());
  ASSERT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(
                       int64_t n,
                       st::counters::Get(tx, TenantId("acme"), {"tenant", "m:2026-12", "tokens"}));
                   EXPECT_EQ(n, 0) << "Enqueue drops them: its caller cannot hear of a failure";
                   return Status::Ok();
                 })
                  .ok());
}

// Batch::writes run inside the group's transaction: a failure rolls the whole group back and the
// group is tried again whole (its events are then stored once); a write that keeps failing fails
// its caller's commit after three attempts, and nothing of the group is stored.
TEST_P(RecorderTest, AGroupsWritesShareItsTransactionAndItsRetries) {
  std::mt19937_64 rng(21);
  auto commit = [&](Batch b) { return CommitOn(recorder(), std::move(b)); };
  auto stored = [&](const UsageEvent& e) {
    int64_t n = -1;
    EXPECT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                     GH_ASSIGN_OR_RETURN(
                         auto rows, st::usage_events::List(tx, e.tenant_id, 0, INT64_MAX, 100));
                     n = std::count_if(rows.begin(), rows.end(),
                                       [&](const auto& r) { return r.event_id == e.event_id; });
                     return Status::Ok();
                   })
                    .ok());
    return n;
  };

  int runs = 0;
  Batch flaky;
  flaky.events.push_back(RandomEvent(rng));
  const UsageEvent once = flaky.events.front();
  flaky.writes.push_back([&](st::Tx& tx) -> Status {
    ++runs;
    if (runs == 1) return Status::Unavailable("storage hiccup");
    return tx.Query("SELECT 1").status();
  });
  EXPECT_TRUE(commit(std::move(flaky)).ok());
  EXPECT_EQ(runs, 2) << "run again with the retried group";
  EXPECT_EQ(stored(once), 1) << "the event once, not once per attempt";

  int failing_runs = 0;
  Batch doomed;
  doomed.events.push_back(RandomEvent(rng));
  const UsageEvent lost = doomed.events.front();
  doomed.writes.push_back([&](st::Tx&) -> Status {
    ++failing_runs;
    return Status::Unavailable("still broken");
  });
  Status st = commit(std::move(doomed));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(failing_runs, 3);
  EXPECT_EQ(stored(lost), 0) << "nothing of a failed group is stored";
}

// The recorder runs a failed group again (st::LostFirstAcknowledgement: its first commit's answer
// is lost, as a PostgreSQL COMMIT's can be); when the first run had in fact committed, the second
// finds its marker and applies nothing: the events and the roll-ups count once, and the caller
// hears of success.
TEST_P(RecorderTest, AGroupRunAgainAfterALostCommitAcknowledgementIsNotAppliedTwice) {
  st::LostFirstAcknowledgement flaky(*db_);
  std::mt19937_64 rng(5);
  UsageEvent e = RandomEvent(rng, 1);
  e.cost_micros = 1234;
  Status got = Status::Internal("not run");
  {
    Recorder rec(flaky, clock_, RecorderOptions{}, nullptr, nullptr, nullptr);
    Batch b;
    b.events.push_back(e);
    got = CommitOn(rec, std::move(b));
  }
  EXPECT_TRUE(got.ok()) << got.ToString();
  ASSERT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(auto rows,
                                       st::usage_events::List(tx, e.tenant_id, 0, INT64_MAX, 10));
                   EXPECT_EQ(rows.size(), 1u);
                   GH_ASSIGN_OR_RETURN(
                       auto month, st::cost_rollups::Month(tx, e.tenant_id, e.day.substr(0, 7)));
                   EXPECT_EQ(month.cost_micros, 1234) << "the month's total once, not twice";
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(RecorderTest, ACommittedBatchIsReadableWhenCommitCompletes) {
  std::mt19937_64 rng(3);
  Batch b;
  b.events.push_back(RandomEvent(rng, 1));
  const UsageEvent e = b.events.front();
  boost::asio::io_context io;
  int64_t seen = -1;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        Status st = co_await recorder().Commit(std::move(b));
        EXPECT_TRUE(st.ok());
        // Resumed on this io_context's thread, with the event durable.
        auto other = Open();
        (void)other->Read([&](st::Tx& tx) -> Status {
          GH_ASSIGN_OR_RETURN(auto rows, st::usage_events::List(tx, e.tenant_id, 0, INT64_MAX, 10));
          seen = static_cast<int64_t>(rows.size());
          return Status::Ok();
        });
      },
      boost::asio::detached);
  const auto me = std::this_thread::get_id();
  io.run();
  EXPECT_EQ(std::this_thread::get_id(), me);
  EXPECT_EQ(seen, 1);
}

TEST_P(RecorderTest, RetentionDropsOldEventsAndTracesButKeepsRollupsLonger) {
  RecorderOptions opt;
  opt.retention = {10, 400, 5, std::chrono::hours(24)};
  opt.retention.check_every =
      std::chrono::hours(24);  // no sweep of its own: this test purges by hand
  recorder_ = std::make_unique<Recorder>(*db_, clock_, opt, &metrics_, nullptr, nullptr);
  std::mt19937_64 rng(11);
  Batch b;
  for (int i = 0; i < 20; ++i) b.events.push_back(RandomEvent(rng, 1));
  st::TraceRow t{TenantId("acme"),
                 TraceId("t1"),
                 "u1",
                 "s1",
                 "chat",
                 "m",
                 clock_.NowUnixMillis() * 1000,
                 clock_.NowUnixMillis() * 1000 + 5,
                 "ok",
                 10,
                 1};
  b.traces.push_back(t);
  recorder().Enqueue(b);
  ASSERT_TRUE(recorder().Flush().ok());
  CostReports reports(*db_);
  auto before = reports.Overall(TenantId("acme"), {"2026-03-01", "2026-04-30"});
  ASSERT_TRUE(before.ok());

  MoveClockForAPurgeByHand(std::chrono::hours(24 * 12), opt);  // past events' and traces' retention
  auto purged = recorder().Purge();
  ASSERT_TRUE(purged.ok()) << purged.status().message();
  EXPECT_EQ(*purged, 20 + 1);
  auto after = reports.Overall(TenantId("acme"), {"2026-03-01", "2026-04-30"});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->total, before->total) << "reports read roll-ups, kept longer than events";

  clock_.Advance(std::chrono::hours(24 * 400));
  ASSERT_TRUE(recorder().Purge().ok());
  auto gone = reports.Overall(TenantId("acme"), {"2026-03-01", "2026-04-30"});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->total.events, 0);
}

// ---- the per-user monthly roll-up ----

int64_t At(const char* rfc3339) { return ToUnixMillis(*ParseRfc3339(rfc3339)); }

// What the per-user reports of `tenant` over [from, to] must say, summed from the raw events.
struct PerUserSums {
  st::CostTotals total;
  std::map<std::string, st::CostTotals> by_user;
  std::map<std::tuple<std::string, std::string>, st::CostTotals> by_user_service;
  std::map<std::tuple<std::string, std::string, std::string>, st::CostTotals> by_user_resource;
};

PerUserSums SumOf(const std::vector<UsageEvent>& events, const std::string& tenant,
                  const DateRange& range) {
  PerUserSums s;
  for (const auto& e : events) {
    if (e.tenant_id.value() != tenant || e.day < range.from || e.day > range.to) continue;
    const std::string u = e.user_id.value();
    s.total += Totals(e);
    s.by_user[u] += Totals(e);
    s.by_user_service[{u, e.service}] += Totals(e);
    s.by_user_resource[{u, e.service, e.resource}] += Totals(e);
  }
  return s;
}

// The tenant's per-user report, its comprehensive report's users and every user's own report
// equal the events' sums, to the micro-dollar.
void ExpectPerUserReportsEqual(CostReports& reports, const std::string& tenant,
                               const DateRange& range, const PerUserSums& want) {
  SCOPED_TRACE(tenant + " " + range.from + ".." + range.to);
  auto per_user = reports.PerUser(TenantId(tenant), range);
  ASSERT_TRUE(per_user.ok()) << per_user.status().message();
  EXPECT_EQ(per_user->total, want.total);
  EXPECT_EQ(per_user->users.size(), want.by_user.size());
  for (const auto& u : per_user->users) {
    EXPECT_EQ(u.totals, want.by_user.at(u.key)) << u.key;
    for (const auto& svc : u.parts)
      EXPECT_EQ(svc.totals, (want.by_user_service.at({u.key, svc.key}))) << u.key;
  }
  auto comprehensive = reports.Comprehensive(TenantId(tenant), range, 0);
  ASSERT_TRUE(comprehensive.ok()) << comprehensive.status().message();
  EXPECT_EQ(comprehensive->users.size(), want.by_user.size());
  for (const auto& u : comprehensive->users) EXPECT_EQ(u.totals, want.by_user.at(u.key)) << u.key;
  for (const auto& [user, total] : want.by_user) {
    auto mine = reports.ForUser(TenantId(tenant), UserId(user), range, 0);
    ASSERT_TRUE(mine.ok()) << mine.status().message();
    EXPECT_EQ(mine->total, total) << user;
    for (const auto& svc : mine->services)
      for (const auto& res : svc.parts)
        EXPECT_EQ(res.totals, (want.by_user_resource.at({user, svc.key, res.key})))
            << user << " " << res.key;
  }
}

// Ranges with partial months at both ends and whole months between, whole months only, edges
// only, single days either side of a month boundary, and a year boundary.
const std::vector<DateRange>& MonthRanges() {
  static const std::vector<DateRange> kRanges = {
      {"2026-01-20", "2026-04-10"}, {"2026-02-01", "2026-03-31"}, {"2026-01-31", "2026-03-01"},
      {"2026-02-01", "2026-02-28"}, {"2026-02-02", "2026-02-27"}, {"2026-03-31", "2026-04-01"},
      {"2026-02-28", "2026-04-30"}, {"2025-12-15", "2026-05-31"}, {"2026-01-01", "2026-01-31"},
      {"2026-03-01", "2026-03-01"}, {"2025-12-31", "2026-01-01"},
  };
  return kRanges;
}

// Events of acme and globex from mid-December to May, and one either side of every month boundary
// (the last millisecond of a month, the first of the next): reports bucket by UTC day.
std::vector<UsageEvent> EventsOverMonths(std::mt19937_64& rng, SeededRandom& random,
                                         int64_t from_ms, int64_t to_ms) {
  static const char* kServices[] = {"model", "model", "tool", "agent_runtime"};
  static const char* kModels[] = {"gpt-4o", "claude-3-5-sonnet-20241022"};
  auto event = [&](const std::string& tenant, int64_t at) {
    UsageEvent e;
    e.event_id = NewEventId(at, random);
    e.tenant_id = TenantId(tenant);
    e.user_id = UserId("u" + std::to_string(rng() % 4));
    e.session_id = SessionId("s");
    e.trace_id = TraceId("t" + std::to_string(rng() % 20));
    e.span_id = "sp";
    e.service = kServices[rng() % 4];
    e.resource = e.service == "model"  ? kModels[rng() % 2]
                 : e.service == "tool" ? "get_current_weather"
                                       : "orchestration";
    e.input_tokens = int64_t(rng() % 5000);
    e.cache_read_tokens = int64_t(rng() % 9000);
    e.quantity = 1;
    e.list_cost_micros = int64_t(rng() % 100'000);
    e.cost_micros = e.list_cost_micros + int64_t(rng() % 1000);
    e.catalog_version = "test";
    e.status = "ok";
    e.day = DayKey(FromUnixMillis(at));
    e.created_at = at;
    return e;
  };
  std::vector<int64_t> times;
  for (int i = 0; i < 600; ++i)
    times.push_back(from_ms + int64_t(rng() % uint64_t(to_ms - from_ms)));
  for (const char* first : {"2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z",
                            "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}) {
    if (At(first) <= from_ms || At(first) >= to_ms) continue;
    for (int i = 0; i < 3; ++i) times.insert(times.end(), {At(first) - 1, At(first)});
  }
  std::sort(times.begin(), times.end());
  std::vector<UsageEvent> out;
  for (int64_t at : times) out.push_back(event(rng() % 3 ? "acme" : "globex", at));
  return out;
}

TEST_P(RecorderTest, PerUserReportsOverWholeAndPartialMonthsEqualTheSumOfEvents) {
  std::mt19937_64 rng(77);
  const auto events =
      EventsOverMonths(rng, random_, At("2025-12-10T00:00:00Z"), At("2026-05-20T00:00:00Z"));
  // In several groups, so that month rows are added to, not only inserted.
  for (size_t i = 0; i < events.size(); i += 50) {
    Batch b;
    b.events.assign(events.begin() + long(i),
                    events.begin() + long(std::min(events.size(), i + 50)));
    recorder().Enqueue(std::move(b));
  }
  ASSERT_TRUE(recorder().Flush().ok());
  CostReports reports(*db_);
  for (const auto& range : MonthRanges())
    for (const char* tenant : {"acme", "globex"})
      ExpectPerUserReportsEqual(reports, tenant, range, SumOf(events, tenant, range));
  // The last millisecond of January is January's, the first of February February's.
  auto jan = reports.PerUser(TenantId("acme"), {"2026-01-31", "2026-01-31"});
  auto feb = reports.PerUser(TenantId("acme"), {"2026-02-01", "2026-02-01"});
  ASSERT_TRUE(jan.ok() && feb.ok());
  EXPECT_EQ(jan->total, SumOf(events, "acme", {"2026-01-31", "2026-01-31"}).total);
  EXPECT_EQ(feb->total, SumOf(events, "acme", {"2026-02-01", "2026-02-01"}).total);
}

TEST_P(RecorderTest, RawEventRetentionLeavesTheMonthlyFiguresUnchanged) {
  RecorderOptions opt;
  opt.retention = {10, 800, 5, std::chrono::hours(24)};
  opt.retention.check_every = std::chrono::hours(24);  // this test purges by hand
  recorder_ = std::make_unique<Recorder>(*db_, clock_, opt, &metrics_, nullptr, nullptr);
  std::mt19937_64 rng(78);
  const auto events =
      EventsOverMonths(rng, random_, At("2025-12-10T00:00:00Z"), At("2026-03-29T00:00:00Z"));
  Batch b;
  b.events = events;
  recorder().Enqueue(std::move(b));
  ASSERT_TRUE(recorder().Flush().ok());

  MoveClockForAPurgeByHand(std::chrono::hours(24 * 20), opt);  // every event past its 10 days
  auto purged = recorder().Purge();
  ASSERT_TRUE(purged.ok()) << purged.status().message();
  EXPECT_EQ(*purged, static_cast<int64_t>(events.size()));
  CostReports reports(*db_);
  for (const auto& range : MonthRanges())
    for (const char* tenant : {"acme", "globex"})
      ExpectPerUserReportsEqual(reports, tenant, range, SumOf(events, tenant, range));
}

TEST_P(RecorderTest, TheMonthlyRollupIsKeptLongerThanTheDailyOneAndThenGoesAWholeMonthAtATime) {
  RecorderOptions opt;
  opt.retention = {10, 30, 5, std::chrono::hours(24)};
  opt.retention.monthly_rollup_days = 120;
  opt.retention.check_every = std::chrono::hours(24);
  recorder_ = std::make_unique<Recorder>(*db_, clock_, opt, &metrics_, nullptr, nullptr);
  std::mt19937_64 rng(79);
  const auto events =
      EventsOverMonths(rng, random_, At("2026-01-10T00:00:00Z"), At("2026-03-29T00:00:00Z"));
  Batch b;
  b.events = events;
  recorder().Enqueue(std::move(b));
  ASSERT_TRUE(recorder().Flush().ok());
  CostReports reports(*db_);
  const DateRange jan{"2026-01-01", "2026-01-31"}, feb_mar{"2026-02-01", "2026-03-31"};
  const DateRange within_feb{"2026-02-02", "2026-02-27"};

  // 2026-05-15: the daily roll-ups keep days from 2026-04-15, the monthly one months from January
  // (its 15th to 31st are within 120 days).
  MoveClockForAPurgeByHand(std::chrono::hours(24 * 46), opt);
  ASSERT_TRUE(recorder().Purge().ok());
  ExpectPerUserReportsEqual(reports, "acme", feb_mar, SumOf(events, "acme", feb_mar));
  ExpectPerUserReportsEqual(reports, "acme", jan, SumOf(events, "acme", jan));
  auto days = reports.PerUser(TenantId("acme"), within_feb);
  ASSERT_TRUE(days.ok());
  EXPECT_EQ(days->total.events, 0)
      << "the days inside a month come from the daily roll-up, gone by now";

  // 2026-06-01: 120 days back is 2026-02-01: January goes, February stays.
  clock_.Advance(std::chrono::hours(24 * 17));
  ASSERT_TRUE(recorder().Purge().ok());
  auto gone = reports.PerUser(TenantId("acme"), jan);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->total.events, 0);
  const DateRange feb{"2026-02-01", "2026-02-28"};
  ExpectPerUserReportsEqual(reports, "acme", feb, SumOf(events, "acme", feb));
}

TEST(MonthlyRollupRetentionTest, IsNeverShorterThanTheDailyRollupsAndZeroKeepsForEver) {
  auto days = [](int64_t daily, int64_t monthly) {
    RetentionOptions r;
    r.rollup_days = daily;
    r.monthly_rollup_days = monthly;
    return MonthlyRollupRetentionDays(r);
  };
  EXPECT_EQ(days(800, 1830), 1830);
  EXPECT_EQ(days(800, 100), 800);
  EXPECT_EQ(days(0, 100), 0);
  EXPECT_EQ(days(800, 0), 0);
}

// Waits (a bounded while, in real time) until `done` holds; the fake clock alone decides when the
// sweep is due, so this is a wait for the background thread, not a timing assertion.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

TEST_P(RecorderTest, TheRetentionSweepRunsOnItsOwnOncePerIntervalOfTheClock) {
  RecorderOptions opt;
  opt.retention = {10, 400, 5, std::chrono::hours(1)};
  opt.retention.check_every = std::chrono::milliseconds(2);
  recorder_ = std::make_unique<Recorder>(*db_, clock_, opt, &metrics_, nullptr, nullptr);
  auto count_events = [&] {
    int64_t n = -1;
    (void)db_->Read([&](st::Tx& tx) -> Status {
      GH_ASSIGN_OR_RETURN(auto rows,
                          st::usage_events::List(tx, TenantId("acme"), 0, INT64_MAX, 1000));
      n = static_cast<int64_t>(rows.size());
      return Status::Ok();
    });
    return n;
  };
  auto acme_total = [&] {
    auto r = CostReports(*db_).Overall(TenantId("acme"), {"2025-01-01", "2027-12-31"});
    return r.ok() ? r->total.events : -1;
  };
  auto acme_event = [&](std::mt19937_64& rng) {
    UsageEvent e = RandomEvent(rng, 1);
    e.tenant_id = TenantId("acme");
    return e;
  };
  std::mt19937_64 rng(5);
  Batch b;
  for (int i = 0; i < 8; ++i) b.events.push_back(acme_event(rng));
  recorder().Enqueue(b);
  ASSERT_TRUE(recorder().Flush().ok());
  ASSERT_EQ(count_events(), 8);

  // 11 days on: the events are past their 10 days, the roll-ups within their 400.
  clock_.Advance(std::chrono::hours(24 * 11));
  EXPECT_TRUE(Eventually([&] { return count_events() == 0; })) << "the sweep never ran";
  EXPECT_EQ(acme_total(), 8) << "roll-ups are kept longer than events";

  // An event already past retention, written right after a sweep, stays until the next interval.
  Batch late;
  UsageEvent old = acme_event(rng);
  old.created_at = clock_.NowUnixMillis() - 20 * 86'400'000LL;
  old.event_id = NewEventId(old.created_at, random_);
  old.day = DayKey(FromUnixMillis(old.created_at));
  late.events.push_back(old);
  recorder().Enqueue(late);
  ASSERT_TRUE(recorder().Flush().ok());
  EXPECT_EQ(count_events(), 1) << "no sweep before the interval has passed on the clock";
  clock_.Advance(std::chrono::minutes(61));
  EXPECT_TRUE(Eventually([&] { return count_events() == 0; }));

  // Past the roll-ups' retention too: reports forget those days.
  clock_.Advance(std::chrono::hours(24 * 400));
  EXPECT_TRUE(Eventually([&] { return acme_total() == 0; }));
}

INSTANTIATE_TEST_SUITE_P(Backends, RecorderTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace gh::metering
