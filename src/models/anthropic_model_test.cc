#include "models/anthropic_model.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/client.h"
#include "models/fake_upstream_testing.h"
#include "models/resilient_model.h"

namespace gh::models {
namespace {

namespace bj = boost::json;
using namespace agent;
using namespace testing;

constexpr char kApiKey[] = "sk-ant-test-key-0123456789";

std::string Sse(std::string_view event, std::string_view data) {
  return "event: " + std::string(event) + "\ndata: " + std::string(data) + "\n\n";
}

// A complete answer "Hello, world!" with cache-aware usage.
std::string TextAnswer(std::string_view stop_reason = "end_turn") {
  return Sse("message_start",
             R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],)"
             R"("model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,)"
             R"("cache_creation_input_tokens":100,"cache_read_input_tokens":50,"output_tokens":1}}})") +
         Sse("content_block_start",
             R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
         Sse("ping", R"({"type": "ping"})") +
         Sse("content_block_delta",
             R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})") +
         Sse("content_block_delta",
             R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", world"}})") +
         Sse("content_block_delta",
             R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}})") +
         Sse("content_block_stop", R"({"type":"content_block_stop","index":0})") +
         Sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":")" +
                                  std::string(stop_reason) +
                                  R"(","stop_sequence":null},"usage":{"output_tokens":15}})") +
         Sse("message_stop", R"({"type":"message_stop"})");
}

ScriptedReply SseReply(const std::string& body, size_t chunk_size = 37) {
  return {200, {{"content-type", "text/event-stream"}}, SplitEvery(body, chunk_size), {}};
}

class AnthropicModelTest : public ::testing::Test {
 protected:
  AnthropicModel MakeModel() {
    AnthropicOptions opt;
    opt.base_url = upstream_.base_url() + "/";
    opt.api_key = Secret(kApiKey);
    opt.timeout = std::chrono::milliseconds(5000);
    return AnthropicModel(opt, http::MakeBeastHttpClient());
  }
  static ModelRequest SimpleRequest() {
    ModelRequest r;
    r.model = "claude-sonnet-4-5";
    r.messages = {{Role::kSystem, "Be brief.", {}, "", "", false},
                  {Role::kUser, "Hi", {}, "", "", false}};
    r.max_output_tokens = 256;
    return r;
  }

  FakeUpstream upstream_;
  RecordingEvents events_;
};

TEST_F(AnthropicModelTest, SendsVersionApiKeySystemToolsAndAlternatingRolesWithMergedToolResults) {
  upstream_.Enqueue(SseReply(TextAnswer()));
  ModelRequest r;
  r.model = "claude-sonnet-4-5";
  r.max_output_tokens = 512;
  r.context.tenant_id = TenantId("acme");
  r.context.user_id = UserId("u1");
  r.tools = {{"current_weather", "Weather now",
              R"({"type":"object","properties":{"city":{"type":"string"}}})"}};
  r.messages = {
      {Role::kSystem, "You are helpful.", {}, "", "", false},
      {Role::kUser, "Weather in Paris and Oslo?", {}, "", "", false},
      {Role::kAssistant,
       "Checking.",
       {{"toolu_1", "current_weather", R"({"city":"Paris"})"},
        {"toolu_2", "current_weather", R"({"city":"Oslo"})"}},
       "",
       "",
       false},
      {Role::kTool, R"({"temp_c":21})", {}, "toolu_1", "current_weather", false},
      {Role::kTool, "upstream down", {}, "toolu_2", "current_weather", true},
      {Role::kUser, "And tomorrow?", {}, "", "", false},
  };
  AnthropicModel model = MakeModel();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();

  ReceivedRequest got = upstream_.last_request();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/v1/messages");
  EXPECT_EQ(got.headers.Get("anthropic-version").value_or(""), "2023-06-01");
  EXPECT_EQ(got.headers.Get("x-api-key").value_or(""), kApiKey);
  EXPECT_EQ(got.headers.Get("content-type").value_or(""), "application/json");

  bj::value body = bj::parse(got.body);
  EXPECT_EQ(body.at("model"), "claude-sonnet-4-5");
  EXPECT_EQ(body.at("max_tokens"), 512);
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_EQ(body.at("system"), "You are helpful.");
  EXPECT_EQ(
      body.at("tools"),
      bj::parse(R"([{"name":"current_weather","description":"Weather now",)"
                R"("input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}])"));
  const bj::array& messages = body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(
      messages[0],
      bj::parse(
          R"({"role":"user","content":[{"type":"text","text":"Weather in Paris and Oslo?"}]})"));
  EXPECT_EQ(
      messages[1],
      bj::parse(
          R"({"role":"assistant","content":[{"type":"text","text":"Checking."},)"
          R"({"type":"tool_use","id":"toolu_1","name":"current_weather","input":{"city":"Paris"}},)"
          R"({"type":"tool_use","id":"toolu_2","name":"current_weather","input":{"city":"Oslo"}}]})"));
  EXPECT_EQ(
      messages[2],
      bj::parse(
          R"({"role":"user","content":[)"
          R"({"type":"tool_result","tool_use_id":"toolu_1","content":"{\"temp_c\":21}"},)"
          R"({"type":"tool_result","tool_use_id":"toolu_2","content":"upstream down","is_error":true},)"
          R"({"type":"text","text":"And tomorrow?"}]})"));
}

TEST_F(AnthropicModelTest, StreamsTextDeltasInOrderAndReportsUsageIncludingCacheTokens) {
  upstream_.Enqueue(SseReply(TextAnswer(), 7));
  AnthropicModel model = MakeModel();
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, (std::vector<std::string>{"Hello", ", world", "!"}));
  EXPECT_EQ(out.turn.text, "Hello, world!");
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.usage.input_tokens, 25);
  EXPECT_EQ(out.turn.usage.output_tokens, 15);
  EXPECT_EQ(out.turn.usage.cache_write_tokens, 100);
  EXPECT_EQ(out.turn.usage.cache_read_tokens, 50);
}

TEST_F(AnthropicModelTest, AssemblesToolCallsFromInputJsonDeltasPerBlockIndex) {
  std::string body =
      Sse("message_start",
          R"({"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}})") +
      Sse("content_block_start",
          R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
      Sse("content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}})") +
      Sse("content_block_stop", R"({"type":"content_block_stop","index":0})") +
      Sse("content_block_start",
          R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use",)"
          R"("id":"toolu_a","name":"current_weather","input":{}}})") +
      Sse("content_block_start",
          R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use",)"
          R"("id":"toolu_b","name":"forecast","input":{}}})") +
      Sse("content_block_delta",
          R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"ci"}})") +
      Sse("content_block_delta",
          R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"days\""}})") +
      Sse("content_block_delta",
          R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ty\": \"Oslo\"}"}})") +
      Sse("content_block_delta",
          R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":": 3}"}})") +
      Sse("content_block_stop", R"({"type":"content_block_stop","index":1})") +
      Sse("content_block_stop", R"({"type":"content_block_stop","index":2})") +
      Sse("message_delta",
          R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":40}})") +
      Sse("message_stop", R"({"type":"message_stop"})");
  upstream_.Enqueue(SseReply(body, 11));
  AnthropicModel model = MakeModel();
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
  EXPECT_EQ(out.turn.text, "Let me check.");
  ASSERT_EQ(out.turn.tool_calls.size(), 2u);
  EXPECT_EQ(out.turn.tool_calls[0].id, "toolu_a");
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
  EXPECT_EQ(out.turn.tool_calls[1].id, "toolu_b");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[1].arguments_json), bj::parse(R"({"days":3})"));
  EXPECT_EQ(out.turn.usage.output_tokens, 40);
}

// A caller that wants the whole answer: the Messages API without `stream`, one JSON message read
// as its stream would have been (text, tool_use blocks, stop reason, usage with cache tokens).
TEST_F(AnthropicModelTest, AskedForTheWholeAnswerItReadsOneMessage) {
  upstream_.Enqueue(
      {200,
       {{"content-type", "application/json"}},
       {R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[)"
        R"({"type":"text","text":"Let me check."},)"
        R"({"type":"tool_use","id":"toolu_a","name":"current_weather","input":{"city":"Oslo"}}],)"
        R"("stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":25,)"
        R"("cache_creation_input_tokens":100,"cache_read_input_tokens":50,"output_tokens":15}})"},
       {}});
  AnthropicModel model = MakeModel();
  ModelRequest request = SimpleRequest();
  request.stream = false;
  Outcome out = RunGenerate(model, request, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ReceivedRequest got = upstream_.last_request();
  EXPECT_EQ(got.headers.Get("accept").value_or(""), "application/json");
  EXPECT_FALSE(bj::parse(got.body).as_object().contains("stream"));
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Let me check."});
  EXPECT_EQ(out.turn.text, "Let me check.");
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].id, "toolu_a");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
  EXPECT_EQ(out.turn.usage.input_tokens, 25);
  EXPECT_EQ(out.turn.usage.output_tokens, 15);
  EXPECT_EQ(out.turn.usage.cache_write_tokens, 100);
  EXPECT_EQ(out.turn.usage.cache_read_tokens, 50);

  upstream_.Enqueue({200, {{"content-type", "application/json"}}, {R"({"type":"message"})"}, {}});
  Outcome bad = RunGenerate(model, request, events_);
  EXPECT_EQ(bad.status.error_code(), "upstream_malformed");
}

// The client's sampling in Anthropic's terms: stop sequences as stop_sequences, temperature
// within Anthropic's 0 to 1; seed and penalties, which Anthropic does not have, are not sent.
TEST_F(AnthropicModelTest, TheClientsSamplingIsSentInAnthropicsTerms) {
  upstream_.Enqueue(SseReply(TextAnswer("stop_sequence")));
  AnthropicModel model = MakeModel();
  ModelRequest request = SimpleRequest();
  request.sampling.temperature = 0.7;
  request.sampling.stop = {"END", "\nObservation:"};
  request.sampling.seed = 7;
  request.sampling.presence_penalty = 1;
  request.sampling.frequency_penalty = -1;
  Outcome out = RunGenerate(model, request, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.stop_reason, "stop_sequence");
  bj::value body = bj::parse(upstream_.last_request().body);
  EXPECT_EQ(body.at("temperature").to_number<double>(), 0.7) << body;
  EXPECT_EQ(body.at("stop_sequences"), bj::parse(R"(["END","\nObservation:"])")) << body;
  for (const char* dropped :
       {"seed", "presence_penalty", "frequency_penalty", "stop", "top_p", "top_k"})
    EXPECT_FALSE(body.as_object().contains(dropped)) << dropped << ": " << body;

  // Over Anthropic's maximum: its maximum.
  request.sampling = {};
  request.sampling.temperature = 1.8;
  ASSERT_TRUE(RunGenerate(model, request, events_).status.ok());
  body = bj::parse(upstream_.last_request().body);
  EXPECT_EQ(body.at("temperature").to_number<double>(), 1.0) << body;
  EXPECT_FALSE(body.as_object().contains("stop_sequences")) << body;
}

// top_p alone is sent; with a temperature too, only the temperature is (recent Claude models
// refuse both: "temperature and top_p cannot both be specified for this model"). Nothing asked
// for, nothing sent.
TEST_F(AnthropicModelTest, TopPIsSentAloneAndATemperatureWinsOverIt) {
  upstream_.Enqueue(SseReply(TextAnswer()));
  AnthropicModel model = MakeModel();
  ModelRequest request = SimpleRequest();
  request.sampling.top_p = 0.9;
  ASSERT_TRUE(RunGenerate(model, request, events_).status.ok());
  bj::value body = bj::parse(upstream_.last_request().body);
  EXPECT_EQ(body.at("top_p").to_number<double>(), 0.9) << body;
  EXPECT_FALSE(body.as_object().contains("temperature")) << body;

  request.sampling.temperature = 0.0;
  ASSERT_TRUE(RunGenerate(model, request, events_).status.ok());
  body = bj::parse(upstream_.last_request().body);
  EXPECT_EQ(body.at("temperature").to_number<double>(), 0.0) << body;
  EXPECT_FALSE(body.as_object().contains("top_p")) << body;

  ASSERT_TRUE(RunGenerate(model, SimpleRequest(), events_).status.ok());
  body = bj::parse(upstream_.last_request().body);
  for (const char* absent : {"temperature", "top_p", "stop_sequences"})
    EXPECT_FALSE(body.as_object().contains(absent)) << absent << ": " << body;
}

TEST_F(AnthropicModelTest, ReportsEachStopReasonInOurVocabulary) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"end_turn", "end_turn"},        {"tool_use", "tool_use"},
      {"max_tokens", "max_tokens"},    {"stop_sequence", "stop_sequence"},
      {"refusal", "content_filtered"}, {"pause_turn", "pause_turn"}};
  for (const auto& [wire, ours] : cases) EXPECT_EQ(MapAnthropicStopReason(wire), ours) << wire;

  upstream_.Enqueue(SseReply(TextAnswer("max_tokens")));
  AnthropicModel model = MakeModel();
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.stop_reason, "max_tokens");
}

TEST_F(AnthropicModelTest, AnOverloadedErrorEventMidStreamIsAClearRetryableError) {
  std::string body =
      Sse("message_start",
          R"({"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}})") +
      Sse("error",
          R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  upstream_.Enqueue(SseReply(body));
  AnthropicModel model = MakeModel();
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  EXPECT_EQ(out.status.code(), StatusCode::kBadGateway);
  EXPECT_EQ(out.status.error_code(), "upstream_unavailable");
  EXPECT_NE(out.status.message().find("overloaded_error"), std::string::npos)
      << out.status.message();
  EXPECT_NE(out.status.message().find("Overloaded"), std::string::npos);
  EXPECT_EQ(ClassifyModelFailure(out.status), FailureAction::kRetry);
}

TEST_F(AnthropicModelTest, ARateLimitErrorEventBecomesUpstreamRateLimited) {
  std::string body =
      Sse("error", R"({"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}})");
  upstream_.Enqueue(SseReply(body));
  AnthropicModel model = MakeModel();
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  EXPECT_EQ(out.status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(out.status.error_code(), "upstream_rate_limited");
}

TEST_F(AnthropicModelTest, HttpErrorsMapToStatusesAndKeepRetryAfter) {
  struct Case {
    int http;
    std::string type;
    StatusCode code;
    std::string error_code;
  };
  const std::vector<Case> cases = {
      {429, "rate_limit_error", StatusCode::kResourceExhausted, "upstream_rate_limited"},
      {529, "overloaded_error", StatusCode::kBadGateway, "upstream_unavailable"},
      {500, "api_error", StatusCode::kBadGateway, "upstream_unavailable"},
      {401, "authentication_error", StatusCode::kBadGateway, "upstream_auth_failed"},
      {400, "invalid_request_error", StatusCode::kBadGateway, "upstream_rejected"},
  };
  AnthropicModel model = MakeModel();
  for (const Case& c : cases) {
    std::string body = R"({"type":"error","error":{"type":")" + c.type +
                       R"(","message":"went wrong: )" + c.type + R"("}})";
    upstream_.Enqueue(
        {c.http, {{"content-type", "application/json"}, {"retry-after", "7"}}, {body}, {}});
    Outcome out = RunGenerate(model, SimpleRequest(), events_);
    EXPECT_EQ(out.status.code(), c.code) << c.http;
    EXPECT_EQ(out.status.error_code(), c.error_code) << c.http;
    EXPECT_NE(out.status.message().find("went wrong: " + c.type), std::string::npos)
        << out.status.message();
    if (c.http == 429) {
      EXPECT_EQ(out.status.retry_after_seconds(), 7);
    }
  }
}

TEST_F(AnthropicModelTest, TheApiKeyNeverAppearsInAnError) {
  std::string body =
      R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key )" +
      std::string(kApiKey) + R"("}})";
  upstream_.Enqueue({401, {{"content-type", "application/json"}}, {body}, {}});
  AnthropicModel model = MakeModel();
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  EXPECT_EQ(out.status.error_code(), "upstream_auth_failed");
  EXPECT_EQ(out.status.ToString().find(kApiKey), std::string::npos)
      << "the key leaked into the error";
  EXPECT_NE(out.status.message().find("[redacted]"), std::string::npos);
}

// Nor where the server quotes it in an error event of a stream, in an error answer to a caller
// that wanted the whole answer, or where the message is cut to length just inside the key.
TEST_F(AnthropicModelTest, TheApiKeyNeverAppearsInAnErrorEventOrAnErrorAnswer) {
  auto error_json = [](const std::string& message) {
    return R"({"type":"error","error":{"type":"api_error","message":")" + message + R"("}})";
  };
  const std::string echoed = "bad key " + std::string(kApiKey);
  const std::string straddling = std::string(290, 'x') + " " + std::string(kApiKey);
  AnthropicModel model = MakeModel();
  const std::string key_head = std::string(kApiKey).substr(0, 10);
  for (const std::string& message : {echoed, straddling}) {
    for (bool stream : {true, false}) {
      SCOPED_TRACE(std::string(stream ? "stream " : "whole ") + message.substr(0, 20));
      if (stream) {
        upstream_.Enqueue(SseReply(Sse("error", error_json(message))));
      } else {
        upstream_.Enqueue({200, {{"content-type", "application/json"}}, {error_json(message)}, {}});
      }
      ModelRequest request = SimpleRequest();
      request.stream = stream;
      Outcome out = RunGenerate(model, request, events_);
      EXPECT_EQ(out.status.error_code(), "upstream_unavailable") << out.status.ToString();
      EXPECT_EQ(out.status.ToString().find(key_head), std::string::npos)
          << "the key leaked into the error: " << out.status.ToString();
      EXPECT_NE(out.status.message().find("[redacted"), std::string::npos) << out.status.message();
    }
  }
}

TEST_F(AnthropicModelTest, AStreamThatEndsBeforeMessageStopIsIncomplete) {
  std::string full = TextAnswer();
  upstream_.Enqueue(SseReply(full.substr(0, full.find("event: message_delta"))));
  AnthropicModel model = MakeModel();
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  EXPECT_EQ(out.status.code(), StatusCode::kBadGateway);
  EXPECT_EQ(out.status.error_code(), "upstream_incomplete");
  EXPECT_EQ(events_.deltas.size(), 3u);
}

TEST_F(AnthropicModelTest, AStreamThatStallsLongerThanTheIdleTimeoutIsARetryableTimeout) {
  std::string full = TextAnswer();
  const size_t cut = full.find("event: content_block_stop");
  upstream_.Enqueue({200,
                     {{"content-type", "text/event-stream"}},
                     {full.substr(0, cut), full.substr(cut)},
                     std::chrono::milliseconds(600)});
  AnthropicOptions opt;
  opt.base_url = upstream_.base_url();
  opt.api_key = Secret(kApiKey);
  opt.idle_timeout = std::chrono::milliseconds(100);
  AnthropicModel model(opt, http::MakeBeastHttpClient());
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  EXPECT_EQ(out.status.code(), StatusCode::kDeadlineExceeded) << out.status.ToString();
  EXPECT_EQ(ClassifyModelFailure(out.status), FailureAction::kRetry);
  EXPECT_FALSE(events_.deltas.empty())
      << "the deltas sent before the stall arrived as they were sent";
}

TEST_F(AnthropicModelTest, AnUnreachableServerIsAnUnavailableError) {
  AnthropicOptions opt;
  opt.base_url = "http://127.0.0.1:1";
  opt.api_key = Secret(kApiKey);
  AnthropicModel model(opt, http::MakeBeastHttpClient());
  Outcome out = RunGenerate(model, SimpleRequest(), events_);
  EXPECT_EQ(out.status.code(), StatusCode::kUnavailable) << out.status.ToString();
  EXPECT_EQ(ClassifyModelFailure(out.status), FailureAction::kRetry);
}

TEST_F(AnthropicModelTest, BehindAResilientModelA429WithRetryAfterIsWaitedOutThenAnswered) {
  upstream_.Enqueue(
      {429,
       {{"content-type", "application/json"}, {"retry-after", "1"}},
       {R"({"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}})"},
       {}});
  upstream_.Enqueue(SseReply(TextAnswer()));
  auto anthropic = std::make_shared<AnthropicModel>(MakeModel());
  SeededRandom random(7);
  ResilientModelOptions opt;
  opt.chain = {{"claude", "claude-sonnet-4-5", anthropic}};
  opt.retry.initial_backoff = std::chrono::milliseconds(1);
  opt.retry.max_backoff = std::chrono::milliseconds(2);
  ResilientModel model(opt, random);
  FallbackReport report;
  const auto started = std::chrono::steady_clock::now();
  const ModelRequest request = SimpleRequest();  // outlives the coroutine that borrows it
  Outcome out = RunCoroutine([&] { return model.GenerateWithReport(request, events_, report); });
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "Hello, world!");
  EXPECT_GE(elapsed, std::chrono::milliseconds(1000));
  EXPECT_EQ(upstream_.requests().size(), 2u);
  ASSERT_EQ(report.attempts.size(), 2u);
  EXPECT_EQ(report.attempts[0].status.error_code(), "upstream_rate_limited");
  EXPECT_EQ(report.attempts[1].waited, std::chrono::milliseconds(1000));
  EXPECT_EQ(report.model_name, "claude");
  EXPECT_EQ(report.provider, "anthropic");
}

// ---- response_format, emulated with a forced tool ----

// A streamed answer that calls `tool` (id toolu_r) with `partials` as its input_json_deltas,
// after a text block whose text_deltas are `text_before` when there are some; `start_input` is
// the input its content_block_start carries.
std::string ToolUseAnswer(std::string_view tool, const std::vector<std::string>& partials,
                          const std::vector<std::string>& text_before = {},
                          std::string_view start_input = "{}") {
  std::string body =
      Sse("message_start",
          R"({"type":"message_start","message":{"usage":{"input_tokens":30,"output_tokens":1}}})");
  std::string index = "0";
  if (!text_before.empty()) {
    body += Sse(
        "content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");
    for (const std::string& t : text_before)
      body +=
          Sse("content_block_delta",
              R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)" +
                  bj::serialize(bj::value(std::string_view(t))) + "}}");
    body += Sse("content_block_stop", R"({"type":"content_block_stop","index":0})");
    index = "1";
  }
  body += Sse("content_block_start",
              R"({"type":"content_block_start","index":)" + index +
                  R"(,"content_block":{"type":"tool_use","id":"toolu_r","name":")" +
                  std::string(tool) + R"(","input":)" + std::string(start_input) + "}}");
  for (const std::string& p : partials)
    body +=
        Sse("content_block_delta", R"({"type":"content_block_delta","index":)" + index +
                                       R"(,"delta":{"type":"input_json_delta","partial_json":)" +
                                       bj::serialize(bj::value(std::string_view(p))) + "}}");
  return body +
         Sse("content_block_stop", R"({"type":"content_block_stop","index":)" + index + "}") +
         Sse("message_delta",
             R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":20}})") +
         Sse("message_stop", R"({"type":"message_stop"})");
}

TEST_F(AnthropicModelTest, AResponseFormatIsOfferedAsAToolForcedByNameWhenItIsTheOnlyTool) {
  upstream_.Enqueue(SseReply(ToolUseAnswer("weather", {"{}"})));
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  ASSERT_TRUE(RunGenerate(model, r, events_).status.ok());
  bj::value body = bj::parse(upstream_.last_request().body);
  EXPECT_EQ(body.at("tools"),
            bj::parse(R"([{"name":"weather","description":"The weather in a city",)"
                      R"("input_schema":)" +
                      WeatherFormat().schema + "}]"));
  EXPECT_EQ(body.at("tool_choice"), bj::parse(R"({"type":"tool","name":"weather"})"));

  // json_object: a tool named json_answer taking any object.
  r.response_format = ResponseFormat{};
  ASSERT_TRUE(RunGenerate(model, r, events_).status.ok());
  body = bj::parse(upstream_.last_request().body);
  ASSERT_EQ(body.at("tools").as_array().size(), 1u);
  EXPECT_EQ(body.at("tools").at(0).at("name"), "json_answer");
  EXPECT_EQ(body.at("tools").at(0).at("input_schema"), bj::parse(R"({"type":"object"})"));
  EXPECT_EQ(body.at("tool_choice"), bj::parse(R"({"type":"tool","name":"json_answer"})"));

  r.response_format.reset();
  ASSERT_TRUE(RunGenerate(model, r, events_).status.ok());
  body = bj::parse(upstream_.last_request().body);
  EXPECT_FALSE(body.as_object().contains("tools"));
  EXPECT_FALSE(body.as_object().contains("tool_choice"));
}

// OpenAI's tool_choice "required" (the wire also narrows the tools to a named one) is Anthropic's
// "any"; without it the model chooses (no tool_choice sent).
TEST_F(AnthropicModelTest, AToolTheClientRequiresIsOneTheModelMustCall) {
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.tool_required = true;
  upstream_.Enqueue(SseReply(ToolUseAnswer("current_weather", {R"({"city": "Oslo"})"})));
  ASSERT_TRUE(RunGenerate(model, r, events_).status.ok());
  EXPECT_EQ(bj::parse(upstream_.last_request().body).at("tool_choice"),
            bj::parse(R"({"type":"any"})"));

  r.tool_required = false;
  upstream_.Enqueue(SseReply(ToolUseAnswer("current_weather", {R"({"city": "Oslo"})"})));
  ASSERT_TRUE(RunGenerate(model, r, events_).status.ok());
  EXPECT_FALSE(bj::parse(upstream_.last_request().body).as_object().contains("tool_choice"));
}

// A call that must call one of the client's tools (tool_choice "required" or named) is not
// offered the answer tool, which would let the model answer instead.
TEST_F(AnthropicModelTest, AToolTheClientRequiresIsNotCrowdedOutByTheResponseTool) {
  upstream_.Enqueue(SseReply(ToolUseAnswer("current_weather", {R"({"city": "Oslo"})"})));
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.tool_required = true;
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  bj::value body = bj::parse(upstream_.last_request().body);
  ASSERT_EQ(body.at("tools").as_array().size(), 1u);
  EXPECT_EQ(body.at("tools").at(0).at("name"), "current_weather");
  EXPECT_EQ(body.at("tool_choice"), bj::parse(R"({"type":"any"})"));
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
}

TEST_F(AnthropicModelTest, WithOtherToolsTheResponseToolJoinsThemAndSomeToolMustBeCalled) {
  upstream_.Enqueue(SseReply(ToolUseAnswer("current_weather", {R"({"city": "Oslo"})"})));
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  bj::value body = bj::parse(upstream_.last_request().body);
  ASSERT_EQ(body.at("tools").as_array().size(), 2u);
  EXPECT_EQ(body.at("tools").at(0).at("name"), "current_weather");
  EXPECT_EQ(body.at("tools").at(1).at("name"), "weather");
  EXPECT_EQ(body.at("tool_choice"), bj::parse(R"({"type":"any"})"));
  // The model called a real tool: it is surfaced as usual.
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
  EXPECT_EQ(out.turn.text, "");
  EXPECT_TRUE(events_.deltas.empty());
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
}

TEST_F(AnthropicModelTest, TheResponseToolsStreamedInputIsTheAnswersTextAndNoToolCall) {
  const std::vector<std::string> partials = {"", R"({"ci)", R"(ty": "Os)", R"(lo", "temp_c")",
                                             ": 4}"};
  upstream_.Enqueue(SseReply(ToolUseAnswer("weather", partials), 13));
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas,
            (std::vector<std::string>{R"({"ci)", R"(ty": "Os)", R"(lo", "temp_c")", ": 4}"}))
      << "each input_json_delta as it arrives";
  EXPECT_EQ(bj::parse(out.turn.text), bj::parse(R"({"city":"Oslo","temp_c":4})"));
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  EXPECT_EQ(out.turn.usage.output_tokens, 20);
}

TEST_F(AnthropicModelTest, AWholeAnswerThroughTheResponseToolIsItsInputAsText) {
  upstream_.Enqueue(
      {200,
       {{"content-type", "application/json"}},
       {R"({"id":"msg_1","type":"message","role":"assistant","content":[)"
        R"({"type":"tool_use","id":"toolu_r","name":"weather","input":{"city":"Oslo","temp_c":4}}],)"
        R"("stop_reason":"tool_use","usage":{"input_tokens":25,"output_tokens":15}})"},
       {}});
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.stream = false;
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(events_.deltas.size(), 1u);
  EXPECT_EQ(bj::parse(events_.deltas[0]), bj::parse(R"({"city":"Oslo","temp_c":4})"));
  EXPECT_EQ(out.turn.text, events_.deltas[0]);
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

// Models often write something before calling the response tool (a preamble, a <thinking>
// block): it is held back and dropped, so the answer's text is the tool's JSON and nothing else.
TEST_F(AnthropicModelTest, TextBeforeTheResponseToolCallIsNotPartOfTheAnswer) {
  const std::vector<std::string> partials = {R"({"city": "Oslo",)", R"( "temp_c": 4})"};
  upstream_.Enqueue(
      SseReply(ToolUseAnswer("weather", partials, {"<thinking>let me", " see</thinking>"})));
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, partials);
  EXPECT_EQ(out.turn.text, R"({"city": "Oslo", "temp_c": 4})");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

// The answer can come whole in content_block_start, with no input_json_delta after it.
TEST_F(AnthropicModelTest, AResponseToolInputThatComesWholeInTheStartEventIsTheAnswer) {
  upstream_.Enqueue(SseReply(ToolUseAnswer("weather", {}, {"<thinking>let me", " see</thinking>"},
                                           R"({"city":"Oslo","temp_c":4})")));
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, std::vector<std::string>{R"({"city":"Oslo","temp_c":4})"});
  EXPECT_EQ(out.turn.text, R"({"city":"Oslo","temp_c":4})");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

// Held-back text that turns out not to precede the answer is the turn's text after all: before a
// real tool's call it is released (in one delta) when that call begins.
TEST_F(AnthropicModelTest, TextBeforeARealToolsCallIsReleasedWhenTheCallBegins) {
  upstream_.Enqueue(SseReply(ToolUseAnswer("current_weather", {R"({"city": "Oslo"})"},
                                           {"Let me check", " the weather."})));
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Let me check the weather."});
  EXPECT_EQ(out.turn.text, "Let me check the weather.");
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
}

// A model that answers in plain text despite the forced tool: its text is released at the end.
TEST_F(AnthropicModelTest, APlainTextAnswerDespiteAResponseFormatIsReleasedAtTheEnd) {
  upstream_.Enqueue(SseReply(TextAnswer()));
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Hello, world!"});
  EXPECT_EQ(out.turn.text, "Hello, world!");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

TEST_F(AnthropicModelTest, AWholeAnswersTextIsDroppedBeforeTheResponseToolAndKeptBeforeARealOne) {
  AnthropicModel model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.stream = false;
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.response_format = WeatherFormat();
  upstream_.Enqueue(
      {200,
       {{"content-type", "application/json"}},
       {R"({"id":"msg_1","type":"message","role":"assistant","content":[)"
        R"({"type":"text","text":"<thinking>let me see</thinking>"},)"
        R"({"type":"tool_use","id":"toolu_r","name":"weather","input":{"city":"Oslo","temp_c":4}},)"
        R"({"type":"tool_use","id":"toolu_s","name":"weather","input":{"city":"Bergen"}}],)"
        R"("stop_reason":"tool_use","usage":{"input_tokens":25,"output_tokens":15}})"},
       {}});
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, std::vector<std::string>{R"({"city":"Oslo","temp_c":4})"})
      << "the first call to the response tool is the answer; a later one is dropped";
  EXPECT_EQ(out.turn.text, R"({"city":"Oslo","temp_c":4})");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");

  upstream_.Enqueue(
      {200,
       {{"content-type", "application/json"}},
       {R"({"id":"msg_2","type":"message","role":"assistant","content":[)"
        R"({"type":"text","text":"Let me check."},)"
        R"({"type":"tool_use","id":"toolu_a","name":"current_weather","input":{"city":"Oslo"}}],)"
        R"("stop_reason":"tool_use","usage":{"input_tokens":25,"output_tokens":15}})"},
       {}});
  RecordingEvents events;
  out = RunGenerate(model, r, events);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events.deltas, std::vector<std::string>{"Let me check."});
  EXPECT_EQ(out.turn.text, "Let me check.");
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
}

}  // namespace
}  // namespace gh::models
