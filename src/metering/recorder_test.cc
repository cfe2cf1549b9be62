// The recorder, the roll-ups and the reports, written once and run against every backend (SQLite
// on a temp file and a real PostgreSQL, see storage/testing/postgres_server.h).
#include "metering/recorder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "common/time_util.h"
#include "metering/cost_reports.h"
#include "storage/testing/postgres_server.h"

namespace gh::metering {
namespace {

namespace fs = std::filesystem;
namespace st = gh::storage;

class RecorderTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gh-recorder-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
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
  Recorder& recorder() {
    if (!recorder_) recorder_ = std::make_unique<Recorder>(*db_, clock_, RecorderOptions{}, &metrics_, nullptr, nullptr);
    return *recorder_;
  }

  // A random event, at the fake clock's day plus up to `days` days.
  UsageEvent RandomEvent(std::mt19937_64& rng, int days = 3) {
    static const char* kTenants[] = {"acme", "globex", "initech"};
    static const char* kServices[] = {"model", "model", "tool", "agent_runtime"};
    static const char* kModels[] = {"gpt-4o", "claude-3-5-sonnet-20241022", "anthropic.claude-3-haiku-20240307-v1:0"};
    UsageEvent e;
    const int64_t at = clock_.NowUnixMillis() + int64_t(rng() % days) * 86'400'000 + int64_t(rng() % 86'400'000);
    e.event_id = NewEventId(at, random_);
    e.tenant_id = TenantId(kTenants[rng() % 3]);
    e.user_id = UserId("u" + std::to_string(rng() % 5));
    e.session_id = SessionId("s" + std::to_string(rng() % 7));
    e.trace_id = TraceId("t" + std::to_string(rng() % 50));
    e.span_id = "sp";
    e.service = kServices[rng() % 4];
    e.resource = e.service == "model" ? kModels[rng() % 3] : (e.service == "tool" ? "get_current_weather" : "orchestration");
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
  return {1, e.input_tokens, e.output_tokens, e.cache_read_tokens, e.cache_write_tokens, e.quantity, e.list_cost_micros,
          e.cost_micros};
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
  std::map<std::tuple<std::string, std::string, std::string>, st::CostTotals> by_resource, by_day_service,
      by_user_service;
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
      for (const auto& r : s.parts) EXPECT_EQ(r.totals, (by_resource[{tenant, s.key, r.key}])) << r.key;
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
      GH_ASSIGN_OR_RETURN(auto rows, st::usage_events::List(tx, TenantId(tenant), 0, INT64_MAX, 100'000));
      st::CostTotals sum;
      for (const auto& e : rows) sum += Totals(e);
      EXPECT_EQ(sum, total);
      raw += static_cast<int64_t>(rows.size());
    }
    return Status::Ok();
  }).ok());
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
        boost::asio::io_context io;
        Status got = Status::Internal("not run");
        Batch b;
        b.events.push_back(e);
        boost::asio::co_spawn(
            io, [&]() -> boost::asio::awaitable<void> { got = co_await recorder().Commit(std::move(b)); },
            boost::asio::detached);
        io.run();
        if (!got.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const std::string text = metrics_.Serialize();
  // Every event is committed, in fewer transactions than there were requests.
  EXPECT_NE(text.find("gatehouse_usage_events_written_total " + std::to_string(kThreads * kPerThread)), std::string::npos)
      << text;
  auto pos = text.find("gatehouse_usage_event_batches_total{outcome=\"ok\"} ");
  ASSERT_NE(pos, std::string::npos);
  const double groups = std::stod(text.substr(pos + std::string("gatehouse_usage_event_batches_total{outcome=\"ok\"} ").size()));
  EXPECT_LT(groups, kThreads * kPerThread);
  RecordProperty("groups", std::to_string(groups));
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
  opt.retention.check_every = std::chrono::hours(24);  // no sweep of its own: this test purges by hand
  recorder_ = std::make_unique<Recorder>(*db_, clock_, opt, &metrics_, nullptr, nullptr);
  std::mt19937_64 rng(11);
  Batch b;
  for (int i = 0; i < 20; ++i) b.events.push_back(RandomEvent(rng, 1));
  st::TraceRow t{TenantId("acme"), TraceId("t1"), "u1", "s1", "chat", "m", clock_.NowUnixMillis() * 1000,
                 clock_.NowUnixMillis() * 1000 + 5, "ok", 10, 1};
  b.traces.push_back(t);
  recorder().Enqueue(b);
  ASSERT_TRUE(recorder().Flush().ok());
  CostReports reports(*db_);
  auto before = reports.Overall(TenantId("acme"), {"2026-03-01", "2026-04-30"});
  ASSERT_TRUE(before.ok());

  clock_.Advance(std::chrono::hours(24 * 12));  // past the events' and traces' retention
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
      GH_ASSIGN_OR_RETURN(auto rows, st::usage_events::List(tx, TenantId("acme"), 0, INT64_MAX, 1000));
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
