#include "metering/budgets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "common/time_util.h"
#include "metering/recorder.h"
#include "storage/testing/forwarding_database.h"

namespace gh::metering {
namespace {

namespace fs = std::filesystem;
namespace st = gh::storage;

// Records what would be sent; answers with `status`.
class FakeWebhook final : public http::HttpClient {
 public:
  boost::asio::awaitable<Result<http::ClientResponse>> Send(http::ClientRequest request) override {
    std::lock_guard lock(mu_);
    requests.push_back(request);
    http::ClientResponse r;
    r.status = status;
    co_return r;
  }
  boost::asio::awaitable<Result<http::ClientResponse>> Stream(http::ClientRequest, http::ChunkSink,
                                                              http::CancelSignal*,
                                                              http::HeadersSink) override {
    co_return Status::Unavailable("not used");
  }
  std::vector<http::ClientRequest> Requests() {
    std::lock_guard lock(mu_);
    return requests;
  }
  int status = 200;

 private:
  std::mutex mu_;
  std::vector<http::ClientRequest> requests;
};

class BudgetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gh-budgets-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    db_ = std::move(st::OpenSqlite({(dir_ / "db").string(), 4, 10'000})).value();
    ASSERT_TRUE(st::Migrate(*db_).ok());
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  UsageEvent Costing(const char* tenant, int64_t micros) {
    UsageEvent e;
    e.event_id = NewEventId(clock_.NowUnixMillis(), random_);
    e.tenant_id = TenantId(tenant);
    e.user_id = UserId("u1");
    e.service = "model";
    e.resource = "gpt-4o";
    e.quantity = 1;
    e.list_cost_micros = e.cost_micros = micros;
    e.day = DayKey(clock_.Now());
    e.created_at = clock_.NowUnixMillis();
    return e;
  }

  fs::path dir_;
  std::unique_ptr<st::Database> db_;
  FakeClock clock_{ToUnixMillis(*ParseDate("2026-05-10"))};
  SeededRandom random_{1};
};

TEST_F(BudgetsTest, ThresholdsAreValidated) {
  Budgets b(*db_, clock_);
  EXPECT_EQ(b.Set(TenantId("acme"), 0, {}, "u").error_code(), "invalid_budget");
  EXPECT_EQ(b.Set(TenantId("acme"), 100, {0}, "u").error_code(), "invalid_budget");
  EXPECT_EQ(b.Set(TenantId("acme"), 100, {50, 2000}, "u").error_code(), "invalid_budget");
  ASSERT_TRUE(b.Set(TenantId("acme"), 100, {100, 50, 50}, "u").ok());
  auto got = b.Get(TenantId("acme"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->budget->thresholds, (std::vector<int64_t>{50, 100}));
  ASSERT_TRUE(b.Set(TenantId("acme"), 100, {}, "u").ok());
  EXPECT_EQ(b.Get(TenantId("acme"))->budget->thresholds, (std::vector<int64_t>{50, 80, 100}))
      << "the default";
}

TEST_F(BudgetsTest, CrossingAThresholdRecordsOneAlertAndCallsTheWebhookOnce) {
  auto hook = std::make_shared<FakeWebhook>();
  Budgets budgets(*db_, clock_);
  ASSERT_TRUE(budgets.Set(TenantId("acme"), 10'000, {50, 80, 100}, "user:admin").ok());
  {
    AlertNotifier notifier(
        {"http://hooks.example/budget", Secret("s3cret"), std::chrono::milliseconds(1000)}, *db_,
        clock_, hook);
    // Two "processes" recording the same tenant's costs at once.
    Recorder a(*db_, clock_, {}, nullptr, nullptr, &notifier);
    auto other_db = std::move(st::OpenSqlite({(dir_ / "db").string(), 2, 10'000})).value();
    Recorder b(*other_db, clock_, {}, nullptr, nullptr, &notifier);
    std::thread ta([&] {
      for (int i = 0; i < 30; ++i) a.Enqueue({{Costing("acme", 150)}, {}, {}, {}});
      ASSERT_TRUE(a.Flush().ok());
    });
    std::thread tb([&] {
      for (int i = 0; i < 30; ++i) b.Enqueue({{Costing("acme", 150)}, {}, {}, {}});
      ASSERT_TRUE(b.Flush().ok());
    });
    ta.join();
    tb.join();
    // 9000 of 10000: 50 % and 80 % crossed, 100 % not yet.
    a.Enqueue({{Costing("globex", 1'000'000)}, {}, {}, {}});  // no budget: no alert
    ASSERT_TRUE(a.Flush().ok());
    notifier.Drain();
    auto sent = hook->Requests();
    ASSERT_EQ(sent.size(), 2u);
    std::set<int64_t> thresholds;
    for (const auto& r : sent) {
      auto body = boost::json::parse(r.body).as_object();
      EXPECT_EQ(body.at("tenant_id").as_string(), "acme");
      EXPECT_EQ(body.at("month").as_string(), "2026-05");
      EXPECT_EQ(body.at("budget_micros").as_int64(), 10'000);
      thresholds.insert(body.at("threshold_percent").as_int64());
      EXPECT_EQ(
          std::string(r.headers.Get("x-gatehouse-signature").value_or("")).rfind("sha256=", 0), 0u);
    }
    EXPECT_EQ(thresholds, (std::set<int64_t>{50, 80}));
    // Crossing 100 %, and going on past it, calls once more only.
    for (int i = 0; i < 5; ++i) a.Enqueue({{Costing("acme", 1000)}, {}, {}, {}});
    ASSERT_TRUE(a.Flush().ok());
    notifier.Drain();
    EXPECT_EQ(hook->Requests().size(), 3u);
  }
  auto status = budgets.Get(TenantId("acme"));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->spend_micros, 60 * 150 + 5 * 1000);
  ASSERT_EQ(status->alerts.size(), 3u);
  for (const auto& a : status->alerts)
    EXPECT_TRUE(a.delivered_at.has_value()) << a.threshold_percent;
  // A new month starts afresh.
  clock_.Advance(std::chrono::hours(24 * 31));
  EXPECT_EQ(budgets.Get(TenantId("acme"))->spend_micros, 0);
}

// A group that crossed a threshold and committed, but whose acknowledgement was lost, is run again
// by the recorder and found written: the alert it recorded still reaches the webhook, once.
TEST_F(BudgetsTest, AnAlertOfAGroupWhoseCommitAcknowledgementWasLostIsStillSent) {
  auto hook = std::make_shared<FakeWebhook>();
  Budgets budgets(*db_, clock_);
  ASSERT_TRUE(budgets.Set(TenantId("acme"), 10'000, {50}, "user:admin").ok());
  st::LostFirstAcknowledgement flaky(*db_);
  {
    AlertNotifier notifier({"http://hooks.example/budget", Secret(""), std::chrono::seconds(1)},
                           *db_, clock_, hook);
    RecorderOptions opt;
    opt.linger = std::chrono::hours(1);  // the batch waits for the Flush: one group
    Recorder rec(flaky, clock_, opt, nullptr, nullptr, &notifier);
    rec.Enqueue({{Costing("acme", 6'000)}, {}, {}, {}});
    ASSERT_TRUE(rec.Flush().ok());
    notifier.Drain();
    ASSERT_EQ(hook->Requests().size(), 1u);
    EXPECT_EQ(boost::json::parse(hook->Requests()[0].body).at("threshold_percent").as_int64(), 50);
  }
  auto status = budgets.Get(TenantId("acme"));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->spend_micros, 6'000) << "counted once";
  ASSERT_EQ(status->alerts.size(), 1u);
  EXPECT_TRUE(status->alerts[0].delivered_at.has_value());
}

// Runs each durable unit of work to its end, then fails it: nothing is ever committed.
class NeverCommits final : public st::ForwardingDatabase {
 public:
  explicit NeverCommits(st::Database& inner) : ForwardingDatabase(inner) {}
  Status WriteDurable(const std::function<Status(st::Tx&)>& fn) override {
    return inner_.WriteDurable([&](st::Tx& tx) -> Status {
      GH_RETURN_IF_ERROR(fn(tx));
      return Status::Unavailable("the disk is gone");
    });
  }
};

// A group that crossed a threshold in its transaction but never committed has recorded no alert:
// its webhook is not called.
TEST_F(BudgetsTest, AGroupThatNeverCommitsCallsNoWebhook) {
  auto hook = std::make_shared<FakeWebhook>();
  Budgets budgets(*db_, clock_);
  ASSERT_TRUE(budgets.Set(TenantId("acme"), 10'000, {50}, "user:admin").ok());
  NeverCommits broken(*db_);
  {
    AlertNotifier notifier({"http://hooks.example/budget", Secret(""), std::chrono::seconds(1)},
                           *db_, clock_, hook);
    RecorderOptions opt;
    opt.linger = std::chrono::hours(1);
    Recorder rec(broken, clock_, opt, nullptr, nullptr, &notifier);
    rec.Enqueue({{Costing("acme", 6'000)}, {}, {}, {}});
    EXPECT_FALSE(rec.Flush().ok());
    notifier.Drain();
    EXPECT_TRUE(hook->Requests().empty());
  }
  auto status = budgets.Get(TenantId("acme"));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->spend_micros, 0);
  EXPECT_TRUE(status->alerts.empty());
}

TEST_F(BudgetsTest, AFailingWebhookIsRecordedOnTheAlert) {
  auto hook = std::make_shared<FakeWebhook>();
  hook->status = 500;
  Budgets budgets(*db_, clock_);
  ASSERT_TRUE(budgets.Set(TenantId("acme"), 100, {100}, "user:admin").ok());
  {
    AlertNotifier notifier(
        {"http://hooks.example/budget", Secret(), std::chrono::milliseconds(1000)}, *db_, clock_,
        hook);
    Recorder r(*db_, clock_, {}, nullptr, nullptr, &notifier);
    r.Enqueue({{Costing("acme", 500)}, {}, {}, {}});
    ASSERT_TRUE(r.Flush().ok());
    notifier.Drain();
  }
  EXPECT_EQ(hook->Requests().size(), 3u) << "one attempt and two retries on 5xx";
  auto status = budgets.Get(TenantId("acme"));
  ASSERT_EQ(status->alerts.size(), 1u);
  EXPECT_FALSE(status->alerts[0].delivered_at);
  EXPECT_NE(status->alerts[0].delivery_error.value_or("").find("500"), std::string::npos);
}

}  // namespace
}  // namespace gh::metering
