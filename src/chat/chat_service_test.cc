#include "chat/chat_service.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include "models/offline_model.h"
#include "storage/repositories.h"
#include "storage/testing/forwarding_database.h"
#include "storage/testing/postgres_server.h"
#include "tools/weather.h"

namespace gh::chat {
namespace {

namespace net = boost::asio;

class NullEvents final : public ChatEvents {
 public:
  agent::Awaitable<Status> OnStart(const SessionId&, const MessageId&, const TraceId&) override {
    co_return Status::Ok();
  }
  agent::Awaitable<Status> OnTextDelta(std::string_view t) override {
    text += t;
    co_return Status::Ok();
  }
  agent::Awaitable<Status> OnToolCall(const agent::ToolCall&) override { co_return Status::Ok(); }
  agent::Awaitable<Status> OnToolResult(const agent::ToolCall&, const agent::ToolResult&) override {
    co_return Status::Ok();
  }
  std::string text;
};

// Runs one turn on `service` on an io_context of its own, as the handler does.
Result<ChatOutcome> RunTurn(ChatService& service, const ChatRequest& req,
                            tenancy::Reservation* reservation) {
  NullEvents events;
  net::io_context io;
  std::optional<Result<ChatOutcome>> out;
  net::co_spawn(
      io,
      [&]() -> agent::Awaitable<void> {
        out.emplace(co_await service.Chat(req, reservation, events));
      },
      net::detached);
  io.run();
  if (!out) return Status::Internal("the turn did not run");
  return std::move(*out);
}

class ChatServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-chat-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    std::filesystem::create_directories(dir_);
    db_ = std::move(storage::OpenSqlite({(dir_ / "db").string(), 2, 10'000})).value();
    ASSERT_TRUE(storage::Migrate(*db_).ok());
    ASSERT_TRUE(db_->Write([](storage::Tx& tx) {
                     return storage::tenants::Insert(
                         tx, {TenantId("acme"), "Acme", "advanced", "active", "UTC", 0});
                   })
                    .ok());
    models_.Add({"offline", "offline",
                 std::make_shared<models::OfflineModel>(std::chrono::milliseconds(0))});
    std::shared_ptr<tools::WeatherSource> weather = tools::MakeSimulatedWeather();
    tools_.Add(tools::MakeCurrentWeatherTool(weather));
    quota_ = std::make_unique<tenancy::QuotaService>(*db_, clock_);
    service_ = std::make_unique<ChatService>(*db_, clock_, rng_, models_, tools_, *quota_,
                                             std::make_shared<const metering::PriceCatalog>());
    plan_ = tenancy::PlanCatalog::Defaults().plans().at("advanced");
    who_.tenant_id = TenantId("acme");
    who_.user_id = UserId("u1");
    who_.email = "u1@example.com";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A turn on `service` (the fixture's by default) with `reservation` (none by default).
  Result<ChatOutcome> Run(const std::string& message, std::optional<SessionId> session,
                          ChatService* service = nullptr,
                          tenancy::Reservation* reservation = nullptr) {
    if (!service) service = service_.get();
    ChatRequest req;
    req.principal = who_;
    req.plan = &plan_;
    req.tenant_name = "Acme";
    req.message = message;
    req.session_id = std::move(session);
    req.trace_id = TraceId("t");
    return RunTurn(*service, req, reservation);
  }

  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  FakeClock clock_;
  SeededRandom rng_{9};
  agent::ModelRegistry models_;
  agent::ToolRegistry tools_;
  std::unique_ptr<tenancy::QuotaService> quota_;
  std::unique_ptr<ChatService> service_;
  tenancy::Plan plan_;
  identity::Principal who_;
};

// Counts the statements on quota counters inside serialisable units (Database::Write).
class SerialisableCounterWrites final : public storage::ForwardingDatabase {
 public:
  using ForwardingDatabase::ForwardingDatabase;
  Status Write(const std::function<Status(storage::Tx&)>& fn) override {
    return inner_.Write([&](storage::Tx& tx) {
      storage::StatementCountingTx counting(tx, "quota_counters", n_);
      return fn(counting);
    });
  }
  int count() const { return n_; }

 private:
  std::atomic<int> n_{0};
};

// A turn's final transaction is serialisable (it reads the session's next sequence number): on
// PostgreSQL, hot counter rows updated there make concurrent turns of a tenant fail to serialise
// and re-run. Its settlement, the message's tallies included, is written before it, at READ
// COMMITTED; the transaction itself touches no counter.
TEST_F(ChatServiceTest, ATurnsFinalTransactionWritesNoCounter) {
  SerialisableCounterWrites db(*db_);
  tenancy::QuotaService quota(db, clock_);
  ChatService service(db, clock_, rng_, models_, tools_, quota,
                      std::make_shared<const metering::PriceCatalog>());
  plan_.messages_per_day.reset();  // the tenant's day counter and the user's are tallies
  auto limits = quota.LimitsFor({TenantId("acme"), "Acme", "advanced", "active", "UTC", 0},
                                who_.user_id, plan_);
  ASSERT_TRUE(limits.ok());
  auto reservation = quota.ReserveTurn(who_.tenant_id, who_.user_id, *limits);
  ASSERT_TRUE(reservation.ok());
  auto out = Run("What's the weather in Paris?", std::nullopt, &service, &*reservation);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(db.count(), 0) << "no counter statement inside a serialisable unit";
  EXPECT_FALSE(reservation->open);
  ASSERT_TRUE(quota.Release(*reservation).ok());  // the limits filter's OnResponse: nothing left
  for (const std::optional<UserId>& who :
       {std::optional<UserId>(), std::optional<UserId>(who_.user_id)}) {
    auto usage = quota.Usage(who_.tenant_id, who, *limits);
    ASSERT_TRUE(usage.ok());
    EXPECT_EQ(usage->day.messages, 1) << "the turn's message is counted once";
    EXPECT_EQ(usage->month.messages, 1);
    EXPECT_GT(usage->day.input_tokens, 0);
  }
}

// The same on a real PostgreSQL, where it matters: concurrent turns of one tenant, whose
// message tallies land on the same tenant counter rows, all complete and count once each.
TEST(ChatServicePostgresTest, ConcurrentTurnsOfATenantCompleteAndCountOnce) {
  auto pg = storage::testing::PostgresTestDatabase::Create();
  ASSERT_TRUE(pg.ok()) << pg.status().message();
  {
    auto opened = storage::OpenDatabase(pg->url(), {.pool_size = 8});
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    std::unique_ptr<storage::Database> db = std::move(opened).value();
    ASSERT_TRUE(storage::Migrate(*db).ok());
    const storage::TenantRecord acme{TenantId("acme"), "Acme", "advanced", "active", "UTC", 0};
    ASSERT_TRUE(
        db->Write([&](storage::Tx& tx) { return storage::tenants::Insert(tx, acme); }).ok());
    FakeClock clock;
    SeededRandom rng(11);
    agent::ModelRegistry models;
    models.Add({"offline", "offline",
                std::make_shared<models::OfflineModel>(std::chrono::milliseconds(0))});
    agent::ToolRegistry tools;
    tools.Add(tools::MakeCurrentWeatherTool(tools::MakeSimulatedWeather()));
    tenancy::QuotaService quota(*db, clock);
    ChatService service(*db, clock, rng, models, tools, quota,
                        std::make_shared<const metering::PriceCatalog>());
    tenancy::Plan plan = tenancy::PlanCatalog::Defaults().plans().at("advanced");
    plan.messages_per_day.reset();  // the tenant's day counter is a tally
    constexpr int kTurns = 8;
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    std::vector<std::string> errors(kTurns);
    for (int i = 0; i < kTurns; ++i)
      threads.emplace_back([&, i] {
        identity::Principal who;
        who.tenant_id = acme.id;
        who.user_id = UserId("u" + std::to_string(i));
        who.email = "u" + std::to_string(i) + "@example.com";
        auto limits = quota.LimitsFor(acme, who.user_id, plan);
        auto reservation = quota.ReserveTurn(acme.id, who.user_id, *limits);
        if (!reservation.ok()) {
          errors[i] = reservation.status().ToString();
          return;
        }
        ChatRequest req;
        req.principal = who;
        req.plan = &plan;
        req.tenant_name = "Acme";
        req.message = "Hello there";
        req.trace_id = TraceId("t" + std::to_string(i));
        auto out = RunTurn(service, req, &*reservation);
        (void)quota.Release(*reservation);  // the limits filter's OnResponse
        if (out.ok())
          ok++;
        else
          errors[i] = out.status().ToString();
      });
    for (auto& t : threads) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    EXPECT_EQ(ok.load(), kTurns);
    auto limits = quota.LimitsFor(acme, UserId("u0"), plan);
    auto usage = quota.Usage(acme.id, std::nullopt, *limits);
    ASSERT_TRUE(usage.ok());
    EXPECT_EQ(usage->day.messages, kTurns);
    EXPECT_EQ(usage->month.messages, kTurns);
  }
}

TEST_F(ChatServiceTest, ATurnIsRecordedWithItsToolExchange) {
  auto out = Run("What's the weather in Paris?", std::nullopt);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->tool_calls.size(), 1u);
  auto msgs = service_->Messages(who_, out->session_id);
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->size(), 4u);
  EXPECT_EQ((*msgs)[0].role, "user");
  EXPECT_EQ((*msgs)[2].role, "tool");
  EXPECT_EQ((*msgs)[3].id, out->message_id);
}

TEST_F(ChatServiceTest, SessionsEndAtTheirMaximumDuration) {
  plan_.session_minutes = 60;
  plan_.idle_timeout_minutes = 60;
  auto first = Run("hello", std::nullopt);
  ASSERT_TRUE(first.ok());
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(std::chrono::minutes(19));
    ASSERT_TRUE(Run("still here", first->session_id).ok()) << i;
  }
  clock_.Advance(std::chrono::minutes(4));  // 61 minutes after creation, 4 after the last message
  auto late = Run("one more", first->session_id);
  EXPECT_EQ(late.status().error_code(), "session_expired");
}

TEST_F(ChatServiceTest, SessionsEndAfterTheIdleTimeout) {
  plan_.session_minutes = 240;
  plan_.idle_timeout_minutes = 30;
  auto first = Run("hello", std::nullopt);
  ASSERT_TRUE(first.ok());
  clock_.Advance(std::chrono::minutes(29));
  ASSERT_TRUE(Run("within the idle window", first->session_id).ok());
  clock_.Advance(std::chrono::minutes(31));
  EXPECT_EQ(Run("too late", first->session_id).status().error_code(), "session_expired");
}

TEST_F(ChatServiceTest, ExpiredAndIdleSessionsStopCountingAgainstTheConcurrencyCap) {
  plan_.concurrent_sessions = 1;
  plan_.idle_timeout_minutes = 10;
  ASSERT_TRUE(service_->CreateSession(who_, plan_).ok());
  EXPECT_EQ(service_->CreateSession(who_, plan_).status().error_code(), "too_many_sessions");
  clock_.Advance(std::chrono::minutes(11));
  EXPECT_TRUE(service_->CreateSession(who_, plan_).ok()) << "the idle session no longer counts";
}

TEST_F(ChatServiceTest, AModelThePlanDoesNotAllowIsRefusedWith403) {
  plan_.allowed_models = {"gpt-4o"};
  models_.Add(
      {"gpt-4o", "gpt-4o", std::make_shared<models::OfflineModel>(std::chrono::milliseconds(0))});
  ChatRequest req;
  EXPECT_EQ(service_->ResolveModel(plan_, std::string("offline")).status().error_code(),
            "model_not_allowed");
  EXPECT_EQ(service_->ResolveModel(plan_, std::string("offline")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(service_->ResolveModel(plan_, std::string("gpt-4o")).ok());
  EXPECT_EQ(service_->ResolveModel(plan_, std::string("nope")).status().error_code(),
            "model_not_found");
}

}  // namespace
}  // namespace gh::chat
