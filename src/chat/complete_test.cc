// ChatService::Complete: one model call for the OpenAI-compatible API, under a turn's limits.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <filesystem>

#include "chat/chat_service.h"
#include "common/time_util.h"
#include "metering/metering.h"
#include "models/offline_model.h"
#include "observability/metrics.h"
#include "storage/repositories.h"
#include "storage/testing/counting_database.h"
#include "tools/weather.h"

namespace gh::chat {
namespace {

namespace net = boost::asio;

class CollectingEvents final : public CompletionEvents {
 public:
  agent::Awaitable<Status> OnStart(const CompletionOutcome& head) override {
    started_id = head.id;
    co_return Status::Ok();
  }
  agent::Awaitable<Status> OnTextDelta(std::string_view t) override {
    text += t;
    co_return Status::Ok();
  }
  std::string started_id;
  std::string text;
};

// A model that records the requests it was given and answers, or fails with `failure`.
class RecordingModel final : public agent::Model {
 public:
  explicit RecordingModel(Status failure = Status::Ok()) : failure_(std::move(failure)) {}
  std::string_view provider() const override { return "recording"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents&) override {
    requests.push_back(request);
    if (!failure_.ok()) co_return failure_;
    agent::ModelTurn turn;
    turn.text = "recorded";
    turn.stop_reason = "end_turn";
    co_return turn;
  }
  std::vector<agent::ModelRequest> requests;

 private:
  Status failure_;
};

class CompleteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-complete-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    std::filesystem::create_directories(dir_);
    db_ = std::move(storage::OpenSqlite({(dir_ / "db").string(), 2, 10'000})).value();
    ASSERT_TRUE(storage::Migrate(*db_).ok());
    ASSERT_TRUE(
        db_->Write([this](storage::Tx& tx) { return storage::tenants::Insert(tx, tenant_); }).ok());
    models_.Add({"offline", "offline",
                 std::make_shared<models::OfflineModel>(std::chrono::milliseconds(0))});
    tools_.Add(tools::MakeCurrentWeatherTool(tools::MakeSimulatedWeather()));
    quota_ = std::make_unique<tenancy::QuotaService>(*db_, clock_);
    service_ = std::make_unique<ChatService>(*db_, clock_, rng_, models_, tools_, *quota_,
                                             std::make_shared<const metering::PriceCatalog>());
    plan_ = tenancy::PlanCatalog::Defaults().plans().at("basic");
    who_.tenant_id = tenant_.id;
    who_.user_id = UserId("u1");
    who_.email = "u1@example.com";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static agent::ToolSpec WeatherTool() {
    return {
        "get_current_weather", "The weather now",
        R"({"type":"object","properties":{"location":{"type":"string"}},"required":["location"]})"};
  }

  CompletionRequest Request(std::vector<agent::ChatMessage> messages) {
    CompletionRequest r;
    r.principal = who_;
    r.plan = &plan_;
    r.messages = std::move(messages);
    r.trace_id = TraceId("trace-1");
    return r;
  }

  // Runs Complete on `service` with `reservation` (may be null), as the handler does.
  Result<CompletionOutcome> RunOn(ChatService& service, const CompletionRequest& r,
                                  tenancy::Reservation* reservation) {
    net::io_context io;
    std::optional<Result<CompletionOutcome>> out;
    net::co_spawn(
        io,
        [&]() -> agent::Awaitable<void> {
          out.emplace(co_await service.Complete(r, reservation, events_));
        },
        net::detached);
    io.run();
    return std::move(*out);
  }

  // Runs Complete with a message reserved as the limits filter would.
  Result<CompletionOutcome> Run(const CompletionRequest& r, bool reserve = true) {
    std::optional<tenancy::Reservation> reservation;
    if (reserve) {
      auto limits = quota_->LimitsFor(tenant_, who_.user_id, plan_);
      EXPECT_TRUE(limits.ok());
      auto reserved = quota_->ReserveTurn(who_.tenant_id, who_.user_id, *limits);
      EXPECT_TRUE(reserved.ok()) << reserved.status().ToString();
      reservation = std::move(*reserved);
    }
    net::io_context io;
    std::optional<Result<CompletionOutcome>> out;
    net::co_spawn(
        io,
        [&]() -> agent::Awaitable<void> {
          out.emplace(
              co_await service_->Complete(r, reservation ? &*reservation : nullptr, events_));
        },
        net::detached);
    io.run();
    if (reservation && reservation->open)
      (void)quota_->Release(*reservation);  // the limits filter's OnResponse
    return std::move(*out);
  }

  tenancy::UsageSnapshot Usage() {
    auto limits = quota_->LimitsFor(tenant_, who_.user_id, plan_);
    return *quota_->Usage(who_.tenant_id, std::nullopt, *limits);
  }

  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  FakeClock clock_;
  SeededRandom rng_{11};
  observability::Metrics metrics_;
  storage::TenantRecord tenant_{TenantId("acme"), "Acme", "basic", "active", "UTC", 0};
  agent::ModelRegistry models_;
  agent::ToolRegistry tools_;
  std::unique_ptr<tenancy::QuotaService> quota_;
  std::unique_ptr<ChatService> service_;
  tenancy::Plan plan_;
  identity::Principal who_;
  CollectingEvents events_;
};

TEST_F(CompleteTest, OneCallIsAnsweredStreamedAndCountedLikeATurn) {
  auto out = Run(Request({{agent::Role::kUser, "hello", {}, "", "", false}}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->id.starts_with("chatcmpl-"));
  EXPECT_EQ(events_.started_id, out->id);
  EXPECT_EQ(out->model, "offline");
  EXPECT_EQ(out->created, clock_.NowUnixSeconds());
  EXPECT_FALSE(out->turn.text.empty());
  EXPECT_EQ(events_.text, out->turn.text) << "the text streamed is the answer";
  auto usage = Usage();
  EXPECT_EQ(usage.day.messages, 1) << "the message is settled";
  EXPECT_EQ(usage.day.input_tokens, out->turn.usage.input_tokens);
  EXPECT_EQ(usage.day.output_tokens, out->turn.usage.output_tokens);
  // No per-completion usage row: nothing read one (usage events and the trace hold it). The table
  // stays for the previous release's replicas during an upgrade.
  int64_t rows = -1;
  ASSERT_TRUE(db_->Read([&](storage::Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(auto row, tx.QueryOne("SELECT COUNT(*) FROM usage_records"));
                   rows = row ? row->Int(0) : -1;
                   return Status::Ok();
                 })
                  .ok());
  EXPECT_EQ(rows, 0);
}

TEST_F(CompleteTest, TheClientsToolIsCalledButNotRunAndItsResultIsUsedNextTime) {
  auto req = Request({{agent::Role::kUser, "What's the weather in Paris?", {}, "", "", false}});
  req.tools = {WeatherTool()};
  auto asked = Run(req);
  ASSERT_TRUE(asked.ok()) << asked.status().ToString();
  ASSERT_EQ(asked->turn.tool_calls.size(), 1u);
  const agent::ToolCall call = asked->turn.tool_calls[0];
  EXPECT_EQ(call.name, "get_current_weather");
  EXPECT_EQ(call.arguments_json, R"({"location":"Paris"})");
  EXPECT_EQ(asked->turn.stop_reason, "tool_use");

  req.messages.push_back({agent::Role::kAssistant, "", {call}, "", "", false});
  req.messages.push_back(
      {agent::Role::kTool,
       R"({"location":"Paris","conditions":"sunny","temperature_c":21,"feels_like_c":22,)"
       R"("humidity_pct":40,"wind_kph":8})",
       {},
       call.id,
       "get_current_weather",
       false});
  auto answered = Run(req);
  ASSERT_TRUE(answered.ok()) << answered.status().ToString();
  EXPECT_TRUE(answered->turn.tool_calls.empty());
  EXPECT_NE(answered->turn.text.find("sunny at 21°C"), std::string::npos) << answered->turn.text;
  EXPECT_EQ(Usage().day.messages, 2);
}

TEST_F(CompleteTest, WithoutTheToolOfferedNoToolIsCalled) {
  auto out =
      Run(Request({{agent::Role::kUser, "What's the weather in Paris?", {}, "", "", false}}));
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->turn.tool_calls.empty()) << "Gatehouse's own tools are never offered here";
}

TEST_F(CompleteTest, ModelsOutsideThePlanAreRefusedBeforeAnythingRuns) {
  auto unknown = Request({{agent::Role::kUser, "hi", {}, "", "", false}});
  unknown.model = "gpt-9";
  EXPECT_EQ(Run(unknown).status().error_code(), "model_not_found");
  plan_.allowed_models = {"something-else"};
  auto disallowed = Request({{agent::Role::kUser, "hi", {}, "", "", false}});
  disallowed.model = "offline";
  EXPECT_EQ(Run(disallowed).status().error_code(), "model_not_allowed");
  EXPECT_TRUE(events_.started_id.empty());
  EXPECT_EQ(Usage().day.messages, 0) << "refused requests count no message";
  EXPECT_EQ(service_->AllowedModels(plan_), std::vector<std::string>{});
  plan_.allowed_models = {};
  EXPECT_EQ(service_->AllowedModels(plan_), std::vector<std::string>{"offline"});
}

// A model that serves no response_format (as a Bedrock agent), counting its calls.
class NoFormatModel final : public agent::Model {
 public:
  std::string_view provider() const override { return "no-format"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents&) override {
    ++calls;
    GH_CO_RETURN_IF_ERROR(Accepts(request));
    agent::ModelTurn turn;
    turn.text = "ok";
    co_return turn;
  }
  Status Accepts(const agent::ModelRequest& request) const override {
    if (!request.response_format) return Status::Ok();
    return Status::InvalidArgument("no response_format here", "unsupported_parameter");
  }
  int calls = 0;
};

TEST_F(CompleteTest, TheResponseFormatReachesTheModelWhichAnswersJson) {
  auto req = Request({{agent::Role::kUser, "hello", {}, "", "", false}});
  agent::ResponseFormat format;
  format.kind = agent::ResponseFormat::Kind::kJsonSchema;
  format.name = "reply";
  format.schema =
      R"({"type":"object","properties":{"reply":{"type":"string"}},"required":["reply"]})";
  req.response_format = format;
  auto out = Run(req);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(out->turn.text, ec);
  ASSERT_FALSE(ec) << out->turn.text;
  EXPECT_TRUE(v.at("reply").is_string()) << out->turn.text;
  EXPECT_EQ(events_.text, out->turn.text);
}

TEST_F(CompleteTest, AResponseFormatTheModelCannotServeIsRefusedBeforeItIsStartedOrCounted) {
  auto model = std::make_shared<NoFormatModel>();
  models_.Add({"agent", "agent-1", model});
  auto req = Request({{agent::Role::kUser, "hello", {}, "", "", false}});
  req.model = "agent";
  req.response_format = agent::ResponseFormat{};
  auto out = Run(req);
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(model->calls, 0);
  EXPECT_TRUE(events_.started_id.empty()) << "refused before a stream began";
  EXPECT_EQ(Usage().day.messages, 0);

  req.response_format.reset();
  auto plain = Run(req);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(model->calls, 1);
}

// With fallbacks the request is refused when no model of the chain can serve it (a fallback that
// is not configured serves nothing), and goes ahead when one can.
TEST_F(CompleteTest, AResponseFormatNoModelOfTheChainCanServeIsRefusedBeforeItIsStarted) {
  auto model = std::make_shared<NoFormatModel>();
  models_.Add({"agent", "agent-1", model});
  auto other = std::make_shared<NoFormatModel>();
  models_.Add({"agent-2", "agent-2", other});
  auto req = Request({{agent::Role::kUser, "hello", {}, "", "", false}});
  req.model = "agent";
  req.response_format = agent::ResponseFormat{};
  for (const std::vector<std::string>& fallbacks :
       {std::vector<std::string>{"not-configured"}, std::vector<std::string>{"agent-2"}}) {
    plan_.fallback_models = fallbacks;
    auto out = Run(req);
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << fallbacks[0];
    EXPECT_TRUE(events_.started_id.empty()) << "refused before a stream began";
  }
  EXPECT_EQ(model->calls + other->calls, 0);
  EXPECT_EQ(Usage().day.messages, 0);

  plan_.fallback_models = {"offline"};  // can answer it: the chain goes ahead
  auto served = Run(req);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_FALSE(events_.started_id.empty());
}

TEST_F(CompleteTest, TheTokenLimitIsReservedBeforeTheCallAndARefusalReleasesTheMessage) {
  plan_.tokens_per_month = 50;  // less than the prompt bound plus the maximum output
  auto out = Run(Request({{agent::Role::kUser, "hello", {}, "", "", false}}));
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(events_.started_id.empty())
      << "refused before the call (and before a stream) started";
  EXPECT_EQ(Usage().day.messages, 0);
}

TEST_F(CompleteTest, TheClientsMaxTokensIsCappedByThePlan) {
  plan_.max_output_tokens = 64;
  plan_.tokens_per_month =
      64 + 300;  // the worst case with the plan's cap fits; with 10000 it would not
  auto req = Request({{agent::Role::kUser, "hello", {}, "", "", false}});
  req.max_output_tokens = 10'000;
  EXPECT_TRUE(Run(req).ok());
}

// The client's sampling reaches the model as it asked, and a fallback model's call too.
TEST_F(CompleteTest, TheClientsSamplingReachesTheModelAndItsFallback) {
  auto unavailable = std::make_shared<RecordingModel>(
      Status::BadGateway("upstream answered 503", "upstream_unavailable"));
  auto fallback = std::make_shared<RecordingModel>();
  models_.Add({"first", "first-id", unavailable});
  models_.Add({"second", "second-id", fallback});
  plan_.fallback_models = {"second"};
  auto req = Request({{agent::Role::kUser, "hello", {}, "", "", false}});
  req.model = "first";
  req.sampling.temperature = 0.2;
  req.sampling.top_p = 0.9;
  req.sampling.stop = {"END"};
  req.sampling.seed = 7;
  req.sampling.presence_penalty = 0.5;
  req.sampling.frequency_penalty = -0.5;
  auto out = Run(req);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->model, "second");
  ASSERT_EQ(unavailable->requests.size(), 1u);
  ASSERT_EQ(fallback->requests.size(), 1u);
  EXPECT_EQ(unavailable->requests[0].sampling, req.sampling);
  EXPECT_EQ(fallback->requests[0].sampling, req.sampling);
  EXPECT_EQ(fallback->requests[0].model, "second-id");
}

// Issue 4 ("Performance"): /v1/chat/completions is marked admit_with_model_call, so the limits
// filter only prepares the turn and the completion costs two write transactions in all (it was
// four: the turn, the call's reservation, its settlement, a usage record since dropped).
TEST_F(CompleteTest, APreparedTurnCostsTwoWriteTransactionsPerCompletion) {
  storage::CountingDatabase counting(*db_);
  tenancy::QuotaService quota(counting, clock_);
  ChatService service(counting, clock_, rng_, models_, tools_, quota,
                      std::make_shared<const metering::PriceCatalog>());
  plan_.messages_per_day = 5;
  auto limits = quota.LimitsFor(tenant_, who_.user_id, plan_);
  ASSERT_TRUE(limits.ok());
  tenancy::Reservation reservation =
      quota.PrepareTurn(who_.tenant_id, who_.user_id, *limits);  // the limits filter
  counting.Reset();
  auto out =
      RunOn(service, Request({{agent::Role::kUser, "hello", {}, "", "", false}}), &reservation);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(counting.writes(), 2) << "the admission with the call's worst case; the settlements";
  EXPECT_FALSE(reservation.open) << "settled";
  EXPECT_TRUE(reservation.pending_adjust.empty());
  EXPECT_EQ(reservation.remaining_day, 4) << "known before the answer starts (X-Quota-Remaining-*)";
  auto usage = Usage();
  EXPECT_EQ(usage.day.messages, 1);
  EXPECT_EQ(usage.day.input_tokens, out->turn.usage.input_tokens);
  EXPECT_EQ(usage.month.output_tokens, out->turn.usage.output_tokens);
}

// With metering, the settlements ride in the recorder's group transaction
// with the usage events: one write transaction of the request's own (the admission), where it
// was two, and the recorder's group (three before, counted the same way).
TEST_F(CompleteTest, WithMeteringTheSettlementRidesInTheRecordersTransaction) {
  storage::CountingDatabase counting(*db_);
  auto metering = metering::Metering::Create({}, counting, clock_, rng_, metrics_);
  ASSERT_TRUE(metering.ok()) << metering.status().ToString();
  tenancy::QuotaService quota(counting, clock_);
  ChatService service(counting, clock_, rng_, models_, tools_, quota, (*metering)->prices());
  service.SetMetering(metering->get());
  plan_.messages_per_day = 5;
  auto limits = quota.LimitsFor(tenant_, who_.user_id, plan_);
  ASSERT_TRUE(limits.ok());
  tenancy::Reservation reservation = quota.PrepareTurn(who_.tenant_id, who_.user_id, *limits);
  counting.Reset();
  auto out =
      RunOn(service, Request({{agent::Role::kUser, "hello", {}, "", "", false}}), &reservation);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(counting.writes(), 2) << "the admission; the recorder's group with the settlement";
  EXPECT_FALSE(reservation.open) << "settled";
  EXPECT_TRUE(reservation.pending_adjust.empty());
  auto usage = Usage();
  EXPECT_EQ(usage.day.messages, 1);
  EXPECT_EQ(usage.day.input_tokens, out->turn.usage.input_tokens);
  EXPECT_EQ(usage.month.output_tokens, out->turn.usage.output_tokens);
  std::vector<storage::UsageEventRow> events;
  ASSERT_TRUE(db_->Read([&](storage::Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(
                       events, storage::usage_events::List(tx, who_.tenant_id, 0, INT64_MAX, 100));
                   return Status::Ok();
                 })
                  .ok());
  EXPECT_FALSE(events.empty()) << "the usage events of the same commit";
}

TEST_F(CompleteTest, APreparedTurnRefusedByTheTokenLimitTakesNoMessageAndSendsNothing) {
  plan_.tokens_per_month = 50;
  auto limits = quota_->LimitsFor(tenant_, who_.user_id, plan_);
  tenancy::Reservation reservation = quota_->PrepareTurn(who_.tenant_id, who_.user_id, *limits);
  auto out =
      RunOn(*service_, Request({{agent::Role::kUser, "hello", {}, "", "", false}}), &reservation);
  EXPECT_EQ(out.status().error_code(), "quota_exceeded");
  EXPECT_TRUE(events_.started_id.empty());
  EXPECT_FALSE(reservation.open) << "never admitted: the limits filter has nothing to release";
  EXPECT_EQ(Usage().day.messages, 0);
}

}  // namespace
}  // namespace gh::chat
