// Costs with prompt caching, end to end (issue #6): chat turns run the real Anthropic and Bedrock
// model clients against fake upstreams speaking their wire formats (Messages SSE, ConverseStream
// event stream, Converse JSON), through the chat service's metering into SQLite, and the cost
// reports must equal, to the micro-dollar, the sums worked out by hand below from the usage the
// fakes reported — cache reads and writes priced at their own rates, a price change taking effect
// on its date, a tenant's markup applied to each call.
//
// Anthropic's input_tokens and Bedrock's inputTokens exclude the cached tokens (unlike OpenAI's
// prompt_tokens), so every token is priced exactly once, at the rate of what it was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <fstream>

#include "aws/credentials.h"
#include "chat/chat_service.h"
#include "common/time_util.h"
#include "http/client.h"
#include "models/anthropic_model.h"
#include "models/bedrock_model.h"
#include "models/fake_upstream_testing.h"
#include "storage/repositories.h"
#include "tools/weather.h"

namespace gh::chat {
namespace {

namespace fs = std::filesystem;
namespace st = gh::storage;
using metering::Breakdown;
using models::testing::EventFrame;
using models::testing::FakeUpstream;
using models::testing::ScriptedReply;
using models::testing::SplitEvery;
using models::testing::TestIoContext;

// Known prices (USD per million tokens; the fees per invocation and per tool execution). The
// Sonnet price drops on 2026-03-15; acme pays a 12.5 % markup, globex none.
constexpr char kPrices[] = R"(
version: "cache-test-1"
currency: USD
agent_runtime:
  - from: 2026-01-01
    orchestration_usd_per_invocation: 0.001
    tool_execution_usd_per_action: 0.0005
markup:
  default_percent: 0
  tenants: {acme: 12.5}
models:
  claude-3-5-sonnet-20241022:
    prices:
      - from: 2026-01-01
        input_usd_per_mtok: 3
        output_usd_per_mtok: 15
        cache_read_usd_per_mtok: 0.30
        cache_write_usd_per_mtok: 3.75
      - from: 2026-03-15
        input_usd_per_mtok: 2
        output_usd_per_mtok: 10
        cache_read_usd_per_mtok: 0.20
        cache_write_usd_per_mtok: 2.50
  anthropic.claude-3-haiku-20240307-v1:0:
    aliases: [us.anthropic.claude-3-haiku-20240307-v1:0]
    prices:
      - from: 2026-01-01
        input_usd_per_mtok: 0.25
        output_usd_per_mtok: 1.25
        cache_read_usd_per_mtok: 0.03
        cache_write_usd_per_mtok: 0.30
)";

std::string Sse(std::string_view event, std::string_view data) {
  return "event: " + std::string(event) + "\ndata: " + std::string(data) + "\n\n";
}

ScriptedReply SseReply(const std::string& body) {
  return {200, {{"content-type", "text/event-stream"}}, SplitEvery(body, 41), {}};
}

// An Anthropic Messages stream: usage in message_start (input side) and message_delta
// (`delta_usage`, the cumulative output and, in newer API versions, the input side again).
std::string AnthropicText(const std::string& start_usage, const std::string& delta_usage) {
  return Sse("message_start",
             R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],)"
             R"("model":"claude-3-5-sonnet-20241022","stop_reason":null,"usage":)" +
                 start_usage + "}}") +
         Sse("content_block_start",
             R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
         Sse("content_block_delta",
             R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"It is sunny."}})") +
         Sse("content_block_stop", R"({"type":"content_block_stop","index":0})") +
         Sse("message_delta",
             R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":)" +
                 delta_usage + "}") +
         Sse("message_stop", R"({"type":"message_stop"})");
}

std::string AnthropicToolUse(const std::string& start_usage, const std::string& delta_usage) {
  return Sse("message_start",
             R"({"type":"message_start","message":{"id":"msg_0","type":"message","role":"assistant","content":[],)"
             R"("model":"claude-3-5-sonnet-20241022","stop_reason":null,"usage":)" +
                 start_usage + "}}") +
         Sse("content_block_start",
             R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01",)"
             R"("name":"get_current_weather","input":{}}})") +
         Sse("content_block_delta",
             R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"location\": "}})") +
         Sse("content_block_delta",
             R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}})") +
         Sse("content_block_stop", R"({"type":"content_block_stop","index":0})") +
         Sse("message_delta",
             R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":)" +
                 delta_usage + "}") +
         Sse("message_stop", R"({"type":"message_stop"})");
}

// A ConverseStream answer; the usage arrives in the final metadata event.
ScriptedReply ConverseStreamReply(const std::string& usage) {
  std::string bytes =
      EventFrame("messageStart", R"({"role":"assistant"})") +
      EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Sunny."}})") +
      EventFrame("contentBlockStop", R"({"contentBlockIndex":0})") +
      EventFrame("messageStop", R"({"stopReason":"end_turn"})") +
      EventFrame("metadata", R"({"usage":)" + usage + R"(,"metrics":{"latencyMs":120}})");
  return {200, {{"content-type", "application/vnd.amazon.eventstream"}}, SplitEvery(bytes, 29), {}};
}

ScriptedReply ConverseReply(const std::string& usage) {
  return {
      200,
      {{"content-type", "application/json"}},
      {R"({"output":{"message":{"role":"assistant","content":[{"text":"Sunny."}]}},"stopReason":"end_turn",)"
       R"("usage":)" +
       usage + R"(,"metrics":{"latencyMs":95}})"},
      {}};
}

class NullEvents final : public ChatEvents {
 public:
  agent::Awaitable<Status> OnStart(const SessionId&, const MessageId&, const TraceId&) override {
    co_return Status::Ok();
  }
  agent::Awaitable<Status> OnTextDelta(std::string_view) override { co_return Status::Ok(); }
  agent::Awaitable<Status> OnToolCall(const agent::ToolCall&) override { co_return Status::Ok(); }
  agent::Awaitable<Status> OnToolResult(const agent::ToolCall&, const agent::ToolResult&) override {
    co_return Status::Ok();
  }
};

class MeteredProvidersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gh-metered-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    fs::create_directories(dir_);
    db_ = std::move(st::OpenSqlite({(dir_ / "db").string(), 2, 10'000})).value();
    ASSERT_TRUE(st::Migrate(*db_).ok());
    ASSERT_TRUE(db_->Write([](st::Tx& tx) -> Status {
                     GH_RETURN_IF_ERROR(st::tenants::Insert(
                         tx, {TenantId("acme"), "Acme", "premium", "active", "UTC", 0}));
                     return st::tenants::Insert(
                         tx, {TenantId("globex"), "Globex", "premium", "active", "UTC", 0});
                   })
                    .ok());

    std::ofstream(dir_ / "prices.yaml") << kPrices;
    metering::MeteringOptions mo;
    mo.price_file = (dir_ / "prices.yaml").string();
    auto m = metering::Metering::Create(mo, *db_, clock_, random_, metrics_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    metering_ = std::move(m).value();

    auto client = http::MakeBeastHttpClient();
    models::AnthropicOptions ao;
    ao.base_url = anthropic_.base_url();
    ao.api_key = Secret("sk-ant-test");
    ao.timeout = std::chrono::milliseconds(5000);
    models_.Add({"sonnet", "claude-3-5-sonnet-20241022",
                 std::make_shared<models::AnthropicModel>(ao, client)});
    const auto env = aws::EnvironmentFromMap(
        {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
         {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
         {"AWS_REGION", "us-east-1"},
         {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"},
         {"AWS_CONFIG_FILE", "/nonexistent/config"}});
    for (bool stream : {true, false}) {
      models::BedrockOptions bo;
      bo.endpoint.base_url = bedrock_.base_url();
      bo.stream = stream;
      bo.timeout = std::chrono::milliseconds(5000);
      auto b = models::MakeBedrockModel(bo, env, client, clock_);
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      // The streamed one is asked for by its US inference profile, priced through the alias.
      if (stream)
        models_.Add({"haiku-stream", "us.anthropic.claude-3-haiku-20240307-v1:0", *b});
      else
        models_.Add({"haiku-converse", "anthropic.claude-3-haiku-20240307-v1:0", *b});
    }
    tools_.Add(tools::MakeCurrentWeatherTool(tools::MakeSimulatedWeather()));
    quota_ = std::make_unique<tenancy::QuotaService>(*db_, clock_);
    service_ = std::make_unique<ChatService>(*db_, clock_, random_, models_, tools_, *quota_,
                                             metering_->prices());
    service_->SetMetering(metering_.get());
    plan_ = tenancy::PlanCatalog::Defaults().plans().at("premium");
    plan_.concurrent_sessions = 100;
  }
  void TearDown() override {
    service_.reset();
    metering_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  void Turn(const char* tenant, const char* user, const char* model, const char* trace) {
    ChatRequest req;
    req.principal.tenant_id = TenantId(tenant);
    req.principal.user_id = UserId(user);
    req.principal.email = std::string(user) + "@example.com";
    req.plan = &plan_;
    req.tenant_name = tenant;
    req.message = "What's the weather in Paris?";
    req.model = model;
    req.trace_id = TraceId(trace);
    NullEvents events;
    auto& io = TestIoContext();
    io.restart();
    std::optional<Result<ChatOutcome>> out;
    auto fut = boost::asio::co_spawn(
        io,
        [&]() -> agent::Awaitable<void> {
          out.emplace(co_await service_->Chat(req, nullptr, events));
        },
        boost::asio::use_future);
    io.run();
    fut.get();
    ASSERT_TRUE(out.has_value());
    ASSERT_TRUE(out->ok()) << trace << ": " << out->status().ToString();
  }

  static const Breakdown* Find(const std::vector<Breakdown>& v, const std::string& key) {
    for (const auto& b : v)
      if (b.key == key) return &b;
    return nullptr;
  }

  static inline int n_ = 0;
  fs::path dir_;
  FakeUpstream anthropic_;
  FakeUpstream bedrock_;
  std::unique_ptr<st::Database> db_;
  FakeClock clock_{ToUnixMillis(*ParseDate("2026-03-14")) + 10 * 3'600'000};
  SeededRandom random_{6};
  observability::Metrics metrics_;
  std::unique_ptr<metering::Metering> metering_;
  agent::ModelRegistry models_;
  agent::ToolRegistry tools_;
  std::unique_ptr<tenancy::QuotaService> quota_;
  std::unique_ptr<ChatService> service_;
  tenancy::Plan plan_;
};

TEST_F(MeteredProvidersTest, ReportsEqualTheHandComputedCostsOfCachedTokensToTheMicroDollar) {
  // ---- 2026-03-14 ----
  // t1, acme/u1 on Anthropic, two calls around a tool call.
  //  call 1: 1,203 input @ $3 = 3,609; 87 output @ $15 = 1,305; 4,096 cache writes @ $3.75 =
  //  15,360;
  //          list 20,274 µ$, charged ceil(20,274 × 1.125) = 22,809. (The null in message_delta
  //          must not erase the cache writes message_start reported.)
  //  tool:   500 µ$ list, charged ceil(562.5) = 563.
  //  call 2: 57 input = 171; 143 output = 2,145; 4,096 cache reads @ $0.30 = 1,228.8 -> 1,229;
  //          list 3,545, charged ceil(3,988.125) = 3,989. (Newer API: message_delta repeats the
  //          input side.)
  //  invocation: 1,000 list, 1,125 charged.                         t1 = 28,486
  anthropic_.Enqueue(SseReply(AnthropicToolUse(
      R"({"input_tokens":1203,"cache_creation_input_tokens":4096,"cache_read_input_tokens":0,"output_tokens":1})",
      R"({"output_tokens":87,"cache_creation_input_tokens":null})")));
  anthropic_.Enqueue(SseReply(AnthropicText(
      R"({"input_tokens":57,"cache_creation_input_tokens":0,"cache_read_input_tokens":4096,"output_tokens":1})",
      R"({"input_tokens":57,"cache_creation_input_tokens":0,"cache_read_input_tokens":4096,"output_tokens":143})")));
  Turn("acme", "u1", "sonnet", "t1");

  // t2, acme/u2 on Bedrock ConverseStream (inputTokens excludes the cached tokens: totalTokens is
  // the sum of all four): 2,345 input @ $0.25 = 586.25 -> 587; 321 output @ $1.25 = 401.25 -> 402;
  // 10,000 cache reads @ $0.03 = 300; 1,500 cache writes @ $0.30 = 450; list 1,739, charged
  // ceil(1,956.375) = 1,957; invocation 1,125.                      t2 = 3,082
  bedrock_.Enqueue(ConverseStreamReply(
      R"({"inputTokens":2345,"outputTokens":321,"totalTokens":14166,"cacheReadInputTokens":10000,"cacheWriteInputTokens":1500})"));
  Turn("acme", "u2", "haiku-stream", "t2");

  // t3, globex/u3 on Bedrock Converse (no markup): 999 input = 249.75 -> 250; 1,001 output =
  // 1,251.25 -> 1,252; 333 cache reads = 9.99 -> 10; list = charged 1,512; invocation 1,000.
  //                                                                 t3 = 2,512
  bedrock_.Enqueue(ConverseReply(
      R"({"inputTokens":999,"outputTokens":1001,"totalTokens":2333,"cacheReadInputTokens":333,"cacheWriteInputTokens":0})"));
  Turn("globex", "u3", "haiku-converse", "t3");

  // ---- 2026-03-15: Sonnet's new prices are in effect ----
  clock_.Advance(std::chrono::hours(24));
  // t4, acme/u1: 10 input @ $2 = 20; 500 output @ $10 = 5,000; 2,000 cache writes @ $2.50 = 5,000;
  // 50,000 cache reads @ $0.20 = 10,000; list 20,020, charged ceil(22,522.5) = 22,523;
  // invocation 1,125.                                               t4 = 23,648
  anthropic_.Enqueue(SseReply(AnthropicText(
      R"({"input_tokens":10,"cache_creation_input_tokens":2000,"cache_read_input_tokens":50000,"output_tokens":1})",
      R"({"output_tokens":500})")));
  Turn("acme", "u1", "sonnet", "t4");
  // t5, globex/u3: 7 input = 14; 3 output = 30; list = charged 44; invocation 1,000. t5 = 1,044
  anthropic_.Enqueue(
      SseReply(AnthropicText(R"({"input_tokens":7,"output_tokens":1})", R"({"output_tokens":3})")));
  Turn("globex", "u3", "sonnet", "t5");

  auto& reports = metering_->reports();
  const metering::DateRange march{"2026-03-01", "2026-03-31"};

  // ---- per tenant ----
  auto acme = reports.Comprehensive(TenantId("acme"), march);
  ASSERT_TRUE(acme.ok()) << acme.status().ToString();
  EXPECT_EQ(acme->total.cost_micros, 28'486 + 3'082 + 23'648);  // 55,216
  EXPECT_EQ(acme->total.list_cost_micros, 20'274 + 500 + 3'545 + 1'739 + 20'020 + 3 * 1'000);
  EXPECT_EQ(acme->total.input_tokens, 1'203 + 57 + 2'345 + 10);
  EXPECT_EQ(acme->total.output_tokens, 87 + 143 + 321 + 500);
  EXPECT_EQ(acme->total.cache_read_tokens, 4'096 + 10'000 + 50'000);
  EXPECT_EQ(acme->total.cache_write_tokens, 4'096 + 1'500 + 2'000);
  EXPECT_EQ(acme->total.events, 4 + 1 + 3);  // model calls, tool call, invocations

  auto globex = reports.Overall(TenantId("globex"), march);
  ASSERT_TRUE(globex.ok());
  EXPECT_EQ(globex->total.cost_micros, 2'512 + 1'044);
  EXPECT_EQ(globex->total.cache_read_tokens, 333);
  EXPECT_EQ(globex->total.cache_write_tokens, 0);

  // ---- per service (and per model within it) ----
  const Breakdown* model = Find(acme->services, "model");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->totals.cost_micros, 22'809 + 3'989 + 1'957 + 22'523);
  ASSERT_NE(Find(model->parts, "sonnet"), nullptr);
  EXPECT_EQ(Find(model->parts, "sonnet")->totals.cost_micros, 22'809 + 3'989 + 22'523);
  ASSERT_NE(Find(model->parts, "haiku-stream"), nullptr);
  EXPECT_EQ(Find(model->parts, "haiku-stream")->totals.cost_micros, 1'957);
  ASSERT_NE(Find(acme->services, "tool"), nullptr);
  EXPECT_EQ(Find(acme->services, "tool")->totals.cost_micros, 563);
  ASSERT_NE(Find(acme->services, "agent_runtime"), nullptr);
  EXPECT_EQ(Find(acme->services, "agent_runtime")->totals.cost_micros, 3 * 1'125);
  const Breakdown* globex_model = Find(globex->services, "model");
  ASSERT_NE(globex_model, nullptr);
  EXPECT_EQ(globex_model->totals.cost_micros, 1'512 + 44);
  EXPECT_EQ(Find(globex_model->parts, "haiku-converse")->totals.cost_micros, 1'512);
  EXPECT_EQ(Find(globex_model->parts, "sonnet")->totals.cost_micros, 44);

  // ---- daily trend ----
  auto trend = reports.ServiceWise(TenantId("acme"), march);
  ASSERT_TRUE(trend.ok());
  ASSERT_EQ(trend->daily.size(), 2u);
  EXPECT_EQ(trend->daily[0].key, "2026-03-14");
  EXPECT_EQ(trend->daily[0].totals.cost_micros, 28'486 + 3'082);
  EXPECT_EQ(trend->daily[1].key, "2026-03-15");
  EXPECT_EQ(trend->daily[1].totals.cost_micros, 23'648);

  // ---- per user ----
  ASSERT_EQ(acme->users.size(), 2u);
  EXPECT_EQ(acme->users[0].key, "u1") << "most expensive first";
  EXPECT_EQ(acme->users[0].totals.cost_micros, 28'486 + 23'648);
  EXPECT_EQ(acme->users[1].key, "u2");
  EXPECT_EQ(acme->users[1].totals.cost_micros, 3'082);
  auto u1 = reports.ForUser(TenantId("acme"), UserId("u1"), march);
  ASSERT_TRUE(u1.ok());
  EXPECT_EQ(u1->total.cost_micros, 28'486 + 23'648);
  EXPECT_EQ(u1->total.cache_read_tokens, 4'096 + 50'000);
  EXPECT_EQ(u1->total.cache_write_tokens, 4'096 + 2'000);
  ASSERT_FALSE(u1->top_traces.empty());
  EXPECT_EQ(u1->top_traces[0].trace_id.value(), "t1");
  EXPECT_EQ(u1->top_traces[0].cost_micros, 28'486) << "the trace carries the turn's cost";
  auto u3 = reports.ForUser(TenantId("globex"), UserId("u3"), march);
  ASSERT_TRUE(u3.ok());
  EXPECT_EQ(u3->total.cost_micros, 2'512 + 1'044);
  auto u3_in_acme = reports.ForUser(TenantId("acme"), UserId("u3"), march);
  ASSERT_TRUE(u3_in_acme.ok());
  EXPECT_EQ(u3_in_acme->total.cost_micros, 0) << "no report includes another tenant's data";

  // ---- and the raw events agree with the roll-ups ----
  int64_t raw = 0;
  ASSERT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(auto events, st::usage_events::List(tx, TenantId("acme"), 0,
                                                                           INT64_MAX, 1000));
                   for (const auto& e : events) {
                     raw += e.cost_micros;
                     EXPECT_EQ(e.catalog_version, "cache-test-1");
                   }
                   return Status::Ok();
                 })
                  .ok());
  EXPECT_EQ(raw, acme->total.cost_micros);
}

}  // namespace
}  // namespace gh::chat
