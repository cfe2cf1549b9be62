#include "models/bedrock_agent.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <mutex>
#include <regex>

#include "common/clock.h"
#include "common/strings.h"
#include "http/client.h"
#include "models/fake_upstream_testing.h"
#include "models/resilient_model.h"

namespace gh::models {
namespace {

namespace bj = boost::json;
using namespace agent;
using namespace testing;

constexpr char kAccessKey[] = "AKIDAGENT";
constexpr char kSecretKey[] = "agent-secret-key-example";
constexpr char kEventStream[] = "application/vnd.amazon.eventstream";

std::string Chunk(std::string_view text) {
  return EventFrame("chunk", R"({"bytes":")" + Base64Encode(text) + R"("})");
}

std::string OrchestrationTrace(int input_tokens, int output_tokens) {
  return R"({"agentId":"AGENT1","agentAliasId":"ALIAS1","sessionId":"acme-corp-user-123-sess-1","agentVersion":"1",)"
         R"("eventTime":"2023-11-14T22:13:20Z","trace":{"orchestrationTrace":{"modelInvocationOutput":{)"
         R"("traceId":"t-1","rawResponse":{"content":"..."},"metadata":{"usage":{"inputTokens":)" +
         std::to_string(input_tokens) + R"(,"outputTokens":)" + std::to_string(output_tokens) +
         R"(}}}}}})";
}

class BedrockAgentTest : public ::testing::Test {
 protected:
  std::shared_ptr<BedrockAgentModel> MakeModel(BedrockAgentOptions opt = {}) {
    opt.agent_id = "AGENT1";
    opt.agent_alias_id = "ALIAS1";
    opt.organization_type = "enterprise";
    opt.endpoint.base_url = upstream_.base_url();
    opt.timeout = std::chrono::milliseconds(5000);
    opt.trace_sink = [this](std::vector<BedrockAgentTrace> traces, const Status& outcome) {
      std::lock_guard lock(mu_);
      calls_.push_back({traces.size(), outcome});
      for (auto& t : traces) traces_.push_back(std::move(t));
    };
    auto env = aws::EnvironmentFromMap({{"AWS_ACCESS_KEY_ID", kAccessKey},
                                        {"AWS_SECRET_ACCESS_KEY", kSecretKey},
                                        {"AWS_DEFAULT_REGION", "us-west-2"},
                                        {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"},
                                        {"AWS_CONFIG_FILE", "/nonexistent/config"}});
    auto made = MakeBedrockAgentModel(opt, env, http::MakeBeastHttpClient(), clock_);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? *made : nullptr;
  }
  static ModelRequest SeedRequest() {
    ModelRequest r;
    r.model = "ignored";
    r.context = {
        TenantId("acme-corp"), UserId("user-123"), "alice@acme.example", "premium", "admin",
        SessionId("sess-1"),   TraceId("trace-9")};
    r.messages = {{Role::kSystem, "system prompt", {}, "", "", false},
                  {Role::kUser, "earlier question", {}, "", "", false},
                  {Role::kAssistant, "earlier answer", {}, "", "", false},
                  {Role::kUser, "What is our AWS spend this month?", {}, "", "", false}};
    return r;
  }

  FakeClock clock_;
  FakeUpstream upstream_;
  RecordingEvents events_;
  std::mutex mu_;
  std::vector<BedrockAgentTrace> traces_;
  struct Call {
    size_t traces;
    Status outcome;
  };
  std::vector<Call> calls_;  // what the sink was handed, one entry per call
};

TEST_F(BedrockAgentTest, InvokesTheAgentWithTheSeedSessionIdAndTenantSessionAttributes) {
  upstream_.Enqueue({200, {{"content-type", kEventStream}}, {Chunk("Hi")}, {}});
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, SeedRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();

  ReceivedRequest got = upstream_.last_request();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target,
            "/agents/AGENT1/agentAliases/ALIAS1/sessions/acme-corp-user-123-sess-1/text");
  aws::AwsCredentials creds{kAccessKey, Secret(kSecretKey), std::nullopt};
  std::string authorization(got.headers.Get("authorization").value_or(""));
  EXPECT_NE(authorization.find("/us-west-2/bedrock/aws4_request"), std::string::npos)
      << authorization;
  EXPECT_EQ(authorization, ExpectedAuthorization(got, creds, "us-west-2", clock_.Now()));
  EXPECT_EQ(bj::parse(got.body), bj::parse(R"({
    "inputText": "What is our AWS spend this month?",
    "enableTrace": true,
    "sessionState": {
      "sessionAttributes": {"tenant_id": "acme-corp", "user_id": "user-123", "subscription_tier": "premium",
                            "organization_type": "enterprise", "user_role": "admin"},
      "promptSessionAttributes": {"request_type": "agentic_query", "enable_planning": "true",
                                  "tenant_context": "acme-corp enterprise user", "cost_tracking": "enabled"}
    }
  })"));
  EXPECT_EQ(got.body.find("alice@acme.example"), std::string::npos)
      << "no e-mail goes to the agent";
}

TEST_F(BedrockAgentTest, StreamsChunksAsTextAndHandsEveryRawTraceToTheSink) {
  const std::string trace1 = OrchestrationTrace(120, 30);
  const std::string trace2 = OrchestrationTrace(200, 45);
  std::string frames = EventFrame("trace", trace1) + Chunk("Your spend ") + Chunk("is $42.") +
                       EventFrame("trace", trace2);
  upstream_.Enqueue({200, {{"content-type", kEventStream}}, SplitEvery(frames, 9), {}});
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, SeedRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, (std::vector<std::string>{"Your spend ", "is $42."}));
  EXPECT_EQ(out.turn.text, "Your spend is $42.");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  EXPECT_EQ(out.turn.usage.input_tokens, 320);
  EXPECT_EQ(out.turn.usage.output_tokens, 75);

  std::lock_guard lock(mu_);
  ASSERT_EQ(traces_.size(), 2u);
  EXPECT_EQ(traces_[0].json, trace1);
  EXPECT_EQ(traces_[1].json, trace2);
  EXPECT_EQ(traces_[0].context.tenant_id.value(), "acme-corp");
  EXPECT_EQ(traces_[0].context.trace_id.value(), "trace-9");
  EXPECT_EQ(traces_[0].agent_session_id, "acme-corp-user-123-sess-1");
  EXPECT_EQ(traces_[0].agent_id, "AGENT1");
  EXPECT_EQ(traces_[0].agent_alias_id, "ALIAS1");
}

// A turn hands at most max_traces_per_turn trace events to the sink (each becomes a span), so a
// runaway orchestration cannot flood the trace store; the usage of every one still counts.
TEST_F(BedrockAgentTest, OnlyTheFirstTracesOfATurnUpToTheBoundReachTheSink) {
  std::string frames;
  for (int i = 0; i < 5; ++i) frames += EventFrame("trace", OrchestrationTrace(10, 1));
  frames += Chunk("done");
  upstream_.Enqueue({200, {{"content-type", kEventStream}}, SplitEvery(frames, 64), {}});
  BedrockAgentOptions opt;
  opt.max_traces_per_turn = 3;
  auto model = MakeModel(opt);
  Outcome out = RunGenerate(*model, SeedRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "done");
  EXPECT_EQ(out.turn.usage.input_tokens, 50) << "every trace's usage counts";
  std::lock_guard lock(mu_);
  EXPECT_EQ(traces_.size(), 3u);
}

TEST_F(BedrockAgentTest, ASessionIdOutsideTheApiLimitsIsSanitisedDeterministicallyAndStaysUnique) {
  TenantContext c;
  c.tenant_id = TenantId(std::string(80, 't'));
  c.user_id = UserId("user@example.com");
  c.session_id = SessionId("9b2c1c7e-3f55-4c1e-9d7e-1b2a3c4d5e6f");
  const std::string id = AgentSessionId(c);
  EXPECT_LE(id.size(), 100u);
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-zA-Z._:-]+"))) << id;
  EXPECT_EQ(id, AgentSessionId(c));
  EXPECT_EQ(id.rfind(std::string(67, 't'), 0), 0u) << "keeps a readable prefix";

  TenantContext other = c;
  other.user_id = UserId("user#example.com");  // sanitises to the same characters
  EXPECT_NE(AgentSessionId(other), id);

  TenantContext plain;
  plain.tenant_id = TenantId("acme");
  plain.user_id = UserId("u1");
  plain.session_id = SessionId("s1");
  EXPECT_EQ(AgentSessionId(plain), "acme-u1-s1");
}

TEST_F(BedrockAgentTest, InStreamExceptionsAndHttpErrorsBecomeClearStatuses) {
  auto model = MakeModel();
  upstream_.Enqueue({200,
                     {{"content-type", kEventStream}},
                     {Chunk("Part"), ExceptionFrame("throttlingException", "Rate exceeded")},
                     {}});
  Outcome throttled = RunGenerate(*model, SeedRequest(), events_);
  EXPECT_EQ(throttled.status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(throttled.status.error_code(), "upstream_rate_limited");
  EXPECT_NE(throttled.status.message().find("Rate exceeded"), std::string::npos);

  upstream_.Enqueue({200,
                     {{"content-type", kEventStream}},
                     {ExceptionFrame("dependencyFailedException", "Lambda failed")},
                     {}});
  RecordingEvents events;
  Outcome dependency = RunGenerate(*model, SeedRequest(), events);
  EXPECT_EQ(dependency.status.error_code(), "upstream_unavailable");

  upstream_.Enqueue(
      {404,
       {{"content-type", "application/json"}, {"x-amzn-errortype", "ResourceNotFoundException"}},
       {R"({"message":"Agent AGENT1 not found"})"},
       {}});
  Outcome missing = RunGenerate(*model, SeedRequest(), events);
  EXPECT_EQ(missing.status.error_code(), "upstream_not_found");
  EXPECT_NE(missing.status.message().find("Agent AGENT1 not found"), std::string::npos);
}

// A call that fails after some of the agent's steps (an in-stream exception) hands its steps on
// with the failure, and a retry's steps come separately with its own outcome: the failed
// attempt's steps are not mistaken for part of the answer.
TEST_F(BedrockAgentTest, AFailedCallsStepsAreHandedOnWithItsFailureApartFromTheRetrysSteps) {
  upstream_.Enqueue({200,
                     {{"content-type", kEventStream}},
                     {EventFrame("trace", OrchestrationTrace(10, 1)),
                      EventFrame("trace", OrchestrationTrace(20, 2)),
                      ExceptionFrame("throttlingException", "Rate exceeded")},
                     {}});
  upstream_.Enqueue({200,
                     {{"content-type", kEventStream}},
                     {EventFrame("trace", OrchestrationTrace(30, 3)) + Chunk("answer")},
                     {}});
  SeededRandom random(7);
  ResilientModelOptions ro;
  ro.chain = {{"support-agent", "ignored", MakeModel()}};
  ro.retry.initial_backoff = std::chrono::milliseconds(1);
  ro.retry.max_backoff = std::chrono::milliseconds(1);
  ResilientModel model(ro, random);
  Outcome out = RunGenerate(model, SeedRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "answer");
  EXPECT_EQ(upstream_.requests().size(), 2u);
  std::lock_guard lock(mu_);
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[0].traces, 2u);
  EXPECT_EQ(calls_[0].outcome.error_code(), "upstream_rate_limited");
  EXPECT_EQ(calls_[1].traces, 1u);
  EXPECT_TRUE(calls_[1].outcome.ok());
}

TEST_F(BedrockAgentTest, ReturnOfControlIsRefusedClearly) {
  upstream_.Enqueue(
      {200,
       {{"content-type", kEventStream}},
       {EventFrame("returnControl", R"({"invocationId":"i-1","invocationInputs":[]})")},
       {}});
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, SeedRequest(), events_);
  EXPECT_EQ(out.status.error_code(), "agent_return_control_unsupported");
}

TEST_F(BedrockAgentTest, ACorruptFrameIsAClearError) {
  std::string frame = Chunk("hello");
  frame[5] ^= 0x40;  // the total length: the prelude CRC catches it
  upstream_.Enqueue({200, {{"content-type", kEventStream}}, {frame}, {}});
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, SeedRequest(), events_);
  EXPECT_EQ(out.status.code(), StatusCode::kBadGateway);
  EXPECT_EQ(out.status.error_code(), "eventstream_checksum_mismatch");
}

TEST_F(BedrockAgentTest, AResponseFormatIsRefusedAsAnInvalidArgumentBeforeAnythingIsSent) {
  upstream_.Enqueue({200, {{"content-type", kEventStream}}, {Chunk("hello")}, {}});
  auto model = MakeModel();
  ModelRequest r = SeedRequest();
  r.response_format = ResponseFormat{};
  Outcome out = RunGenerate(*model, r, events_);
  EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.status.message(), "response_format is not supported by a Bedrock agent");
  EXPECT_TRUE(upstream_.requests().empty());
  EXPECT_TRUE(events_.deltas.empty());
}

TEST_F(BedrockAgentTest, NeedsAUserMessageAndAnAgentToTalkTo) {
  BedrockAgentOptions opt;
  ModelRequest r = SeedRequest();
  r.messages.resize(1);  // the system prompt only
  EXPECT_EQ(BuildInvokeAgentRequestBody(opt, r).status().code(), StatusCode::kInvalidArgument);
  auto made =
      MakeBedrockAgentModel({}, aws::EnvironmentFromMap({}), http::MakeBeastHttpClient(), clock_);
  EXPECT_EQ(made.status().error_code(), "invalid_config");
}

}  // namespace
}  // namespace gh::models
