#include "models/openai_model.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/client.h"
#include "models/fake_upstream_testing.h"

namespace gh::models {
namespace {

namespace bj = boost::json;
using namespace agent;
using namespace testing;

constexpr char kApiKey[] = "sk-test-openai-key-0123456789";

// A whole (non-streamed) answer: one JSON document, cut into small chunks so that it reaches the
// provider in many pieces, as a long answer does on a real network.
ScriptedReply JsonReply(const std::string& body, size_t chunk_size = 17) {
  return {200, {{"content-type", "application/json"}}, SplitEvery(body, chunk_size), {}};
}

// A chat.completion with one choice whose message is `message` and whose finish reason is
// `finish_reason`; `usage` is appended as given (empty: no usage member at all).
std::string Completion(std::string_view message, std::string_view finish_reason,
                       std::string_view usage) {
  std::string body =
      R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",)"
      R"("choices":[{"index":0,"message":)" +
      std::string(message) + R"(,"logprobs":null,"finish_reason":")" + std::string(finish_reason) +
      R"("}])";
  if (!usage.empty()) body += R"(,"usage":)" + std::string(usage);
  return body + "}";
}

constexpr char kUsage[] =
    R"({"prompt_tokens":25,"completion_tokens":15,"total_tokens":40,)"
    R"("prompt_tokens_details":{"cached_tokens":10},"completion_tokens_details":{"reasoning_tokens":0}})";

class OpenAiModelTest : public ::testing::Test {
 protected:
  OpenAiModel MakeModel() {
    OpenAiOptions opt;
    opt.base_url = upstream_.base_url() + "/v1/";
    opt.api_key = Secret(kApiKey);
    opt.timeout = std::chrono::milliseconds(5000);
    return OpenAiModel(opt, http::MakeBeastHttpClient());
  }
  // A caller that wants the whole answer (stream = false).
  static ModelRequest WholeAnswerRequest() {
    ModelRequest r;
    r.model = "gpt-4o-mini";
    r.messages = {{Role::kSystem, "Be brief.", {}, "", "", false},
                  {Role::kUser, "Hi", {}, "", "", false}};
    r.max_output_tokens = 256;
    r.stream = false;
    return r;
  }

  FakeUpstream upstream_;
  RecordingEvents events_;
};

// A whole answer with plain text: the request asks for JSON (no `stream`, no `stream_options`,
// accept: application/json); the body, arriving in many chunks, is read as one completion whose
// text goes to the caller in one piece; `stop` is our end_turn; cached prompt tokens are counted
// apart from the other input tokens.
TEST_F(OpenAiModelTest, AWholeTextAnswerIsReadWithUsageCachedTokensAndStopReason) {
  upstream_.Enqueue(JsonReply(Completion(
      R"({"role":"assistant","content":"Hello, world!","refusal":null})", "stop", kUsage)));
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();

  ReceivedRequest got = upstream_.last_request();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/v1/chat/completions");
  EXPECT_EQ(got.headers.Get("accept").value_or(""), "application/json");
  EXPECT_EQ(got.headers.Get("content-type").value_or(""), "application/json");
  EXPECT_EQ(got.headers.Get("authorization").value_or(""), std::string("Bearer ") + kApiKey);
  bj::value body = bj::parse(got.body);
  const bj::object& sent = body.as_object();
  EXPECT_FALSE(sent.contains("stream")) << got.body;
  EXPECT_FALSE(sent.contains("stream_options")) << got.body;
  EXPECT_EQ(sent.at("model"), "gpt-4o-mini");
  EXPECT_EQ(sent.at("max_tokens"), 256);
  EXPECT_EQ(sent.at("messages"), bj::parse(R"([{"role":"system","content":"Be brief."},)"
                                           R"({"role":"user","content":"Hi"}])"));

  EXPECT_EQ(out.turn.text, "Hello, world!");
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Hello, world!"});
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.usage.input_tokens, 15);  // 25 prompt tokens, 10 of them read from the cache
  EXPECT_EQ(out.turn.usage.cache_read_tokens, 10);
  EXPECT_EQ(out.turn.usage.output_tokens, 15);
  EXPECT_EQ(out.turn.usage.cache_write_tokens, 0);
}

// A whole answer that calls tools: each call keeps its id, name and JSON-string arguments; a call
// the server sent without an id gets a generated, non-empty one (call_<position>) distinct from
// the other call's, so its result can still be matched to it. No text: no delta.
TEST_F(OpenAiModelTest, AWholeAnswerWithToolCallsKeepsArgumentsAndGivesAnIdToACallWithoutOne) {
  upstream_.Enqueue(JsonReply(
      Completion(R"({"role":"assistant","content":null,"tool_calls":[)"
                 R"({"id":"call_abc123","type":"function","function":{"name":"current_weather",)"
                 R"("arguments":"{\"city\":\"Oslo\"}"}},)"
                 R"({"type":"function","function":{"name":"forecast",)"
                 R"("arguments":"{\"city\":\"Oslo\",\"days\":3}"}}]})",
                 "tool_calls", kUsage)));
  ModelRequest request = WholeAnswerRequest();
  request.tools = {
      {"current_weather", "Weather now",
       R"({"type":"object","properties":{"city":{"type":"string"}}})"},
      {"forecast", "Weather later",
       R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}}})"}};
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, request, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();

  bj::value sent = bj::parse(upstream_.last_request().body);
  ASSERT_EQ(sent.at("tools").as_array().size(), 2u);
  EXPECT_EQ(sent.at("tools").at(1).at("function").at("name"), "forecast");

  EXPECT_EQ(out.turn.text, "");
  EXPECT_TRUE(events_.deltas.empty());
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
  ASSERT_EQ(out.turn.tool_calls.size(), 2u);
  EXPECT_EQ(out.turn.tool_calls[0].id, "call_abc123");
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
  EXPECT_EQ(out.turn.tool_calls[1].id, "call_1");
  EXPECT_EQ(out.turn.tool_calls[1].name, "forecast");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[1].arguments_json),
            bj::parse(R"({"city":"Oslo","days":3})"));
}

// finish_reason "length" (the answer hit max_tokens) is our max_tokens stop reason; the text cut
// short still comes through.
TEST_F(OpenAiModelTest, AWholeAnswerCutByLengthStopsWithMaxTokens) {
  upstream_.Enqueue(
      JsonReply(Completion(R"({"role":"assistant","content":"Once upon a"})", "length", kUsage)));
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.stop_reason, "max_tokens");
  EXPECT_EQ(out.turn.text, "Once upon a");
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Once upon a"});
}

// The client's sampling goes upstream under OpenAI's own names and values, unchanged.
TEST_F(OpenAiModelTest, TheClientsSamplingIsSentAsGiven) {
  upstream_.Enqueue(
      JsonReply(Completion(R"({"role":"assistant","content":"Thought: done"})", "stop", kUsage)));
  ModelRequest request = WholeAnswerRequest();
  request.sampling.temperature = 0.2;
  request.sampling.top_p = 0.9;
  request.sampling.stop = {"END", "\nObservation:"};
  request.sampling.seed = 7;
  request.sampling.presence_penalty = -0.5;
  request.sampling.frequency_penalty = 1.25;
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, request, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();

  ReceivedRequest got = upstream_.last_request();
  bj::value body = bj::parse(got.body);
  const bj::object& sent = body.as_object();
  EXPECT_EQ(sent.at("temperature").to_number<double>(), 0.2) << got.body;
  EXPECT_EQ(sent.at("top_p").to_number<double>(), 0.9) << got.body;
  EXPECT_EQ(sent.at("stop"), bj::parse(R"(["END","\nObservation:"])")) << got.body;
  EXPECT_EQ(sent.at("seed"), 7) << got.body;
  EXPECT_EQ(sent.at("presence_penalty").to_number<double>(), -0.5) << got.body;
  EXPECT_EQ(sent.at("frequency_penalty").to_number<double>(), 1.25) << got.body;
  EXPECT_EQ(sent.at("max_tokens"), 256);
}

// What the client did not ask for is not sent at all (the server's defaults apply), and a zero
// temperature is a temperature.
TEST_F(OpenAiModelTest, SamplingTheClientLeftOutIsNotSent) {
  upstream_.Enqueue(
      JsonReply(Completion(R"({"role":"assistant","content":"Hi"})", "stop", kUsage)));
  OpenAiModel model = MakeModel();
  ASSERT_TRUE(RunGenerate(model, WholeAnswerRequest(), events_).status.ok());
  bj::value body = bj::parse(upstream_.last_request().body);
  for (const char* absent :
       {"temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty"})
    EXPECT_FALSE(body.as_object().contains(absent)) << absent << ": " << body;

  ModelRequest cold = WholeAnswerRequest();
  cold.sampling.temperature = 0.0;
  cold.sampling.seed = 0;
  ASSERT_TRUE(RunGenerate(model, cold, events_).status.ok());
  bj::value sent = bj::parse(upstream_.last_request().body);
  EXPECT_EQ(sent.at("temperature").to_number<double>(), 0.0) << sent;
  EXPECT_EQ(sent.at("seed"), 0) << sent;
  EXPECT_FALSE(sent.as_object().contains("top_p")) << sent;
  EXPECT_FALSE(sent.as_object().contains("stop")) << sent;
}

// Some OpenAI-compatible servers answer HTTP 200 with an `error` member instead of choices: that
// is an upstream error carrying the server's message (as an object or a bare string), never an
// empty answer, and nothing reaches the caller as text.
TEST_F(OpenAiModelTest, AnErrorObjectInAnHttp200WholeAnswerIsAnUpstreamErrorWithItsMessage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"error":{"message":"The model `gpt-x` does not exist","type":"invalid_request_error",)"
       R"("param":null,"code":"model_not_found"}})",
       "The model `gpt-x` does not exist"},
      {R"({"error":"CUDA out of memory"})", "CUDA out of memory"},
  };
  OpenAiModel model = MakeModel();
  for (const auto& [body, message] : cases) {
    upstream_.Enqueue(JsonReply(body));
    Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
    EXPECT_FALSE(out.status.ok()) << body;
    EXPECT_EQ(out.status.code(), StatusCode::kBadGateway) << body;
    EXPECT_EQ(out.status.error_code(), "upstream_unavailable") << body;
    EXPECT_NE(out.status.message().find(message), std::string::npos) << out.status.message();
  }
  EXPECT_TRUE(events_.deltas.empty());
}

// `"error": null` beside a good answer (some servers always send the member) is no error; an
// error in a 200 answer does not claim the server answered 502.
TEST_F(OpenAiModelTest, ANullErrorBesideAGoodWholeAnswerIsNoError) {
  std::string body = Completion(R"({"role":"assistant","content":"Fine."})", "stop", kUsage);
  body.insert(1, R"("error":null,)");
  upstream_.Enqueue(JsonReply(body));
  upstream_.Enqueue(JsonReply(R"({"error":{"message":"overloaded"}})"));
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "Fine.");
  Outcome failed = RunGenerate(model, WholeAnswerRequest(), events_);
  EXPECT_EQ(failed.status.error_code(), "upstream_unavailable");
  EXPECT_EQ(failed.status.message().find("502"), std::string::npos) << failed.status.message();
  EXPECT_NE(failed.status.message().find("overloaded"), std::string::npos);
}

// Arguments sent as a JSON object instead of a string are kept (not replaced by {}); a call
// without an id never gets an id the server gave another call.
TEST_F(OpenAiModelTest, ObjectArgumentsAreKeptAndAGeneratedIdIsNeverOneAlreadyTaken) {
  upstream_.Enqueue(JsonReply(
      Completion(R"({"role":"assistant","content":null,"tool_calls":[)"
                 R"({"type":"function","function":{"name":"a","arguments":{"city":"Oslo"}}},)"
                 R"({"id":"call_0","type":"function","function":{"name":"b","arguments":"{}"}}]})",
                 "tool_calls", kUsage)));
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.turn.tool_calls.size(), 2u);
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
  EXPECT_EQ(out.turn.tool_calls[1].id, "call_0");
  EXPECT_FALSE(out.turn.tool_calls[0].id.empty());
  EXPECT_NE(out.turn.tool_calls[0].id, "call_0");
}

// Token counts that are not whole numbers (or are negative) do not throw out of the provider:
// they are read as whole, non-negative numbers.
TEST_F(OpenAiModelTest, FractionalOrNegativeTokenCountsAreReadWithoutThrowing) {
  upstream_.Enqueue(JsonReply(Completion(
      R"({"role":"assistant","content":"Hi"})", "stop",
      R"({"prompt_tokens":12.5,"completion_tokens":-3,"prompt_tokens_details":{"cached_tokens":2.0}})")));
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.usage.input_tokens, 10);
  EXPECT_EQ(out.turn.usage.cache_read_tokens, 2);
  EXPECT_EQ(out.turn.usage.output_tokens, 0);
  // Beyond what a 64-bit count holds: not a number we can use (and no undefined conversion).
  upstream_.Enqueue(JsonReply(Completion(R"({"role":"assistant","content":"Hi"})", "stop",
                                         R"({"prompt_tokens":1e30,"completion_tokens":7})")));
  Outcome huge = RunGenerate(model, WholeAnswerRequest(), events_);
  ASSERT_TRUE(huge.status.ok()) << huge.status.ToString();
  EXPECT_EQ(huge.turn.usage.input_tokens, 0);
  EXPECT_EQ(huge.turn.usage.output_tokens, 7);
}

// The whole answer is held in memory, so its size is capped (the HTTP client's
// max_response_bytes, 16 MiB, which OpenAiOptions does not change): a body one byte over the cap
// is upstream_too_large, even though it would parse as a valid completion, and no text reaches
// the caller.
TEST_F(OpenAiModelTest, AWholeAnswerOneByteOverTheSizeCapIsUpstreamTooLarge) {
  const size_t cap = http::ClientRequest{}.max_response_bytes;
  const std::string head = R"({"choices":[{"message":{"role":"assistant","content":")";
  const std::string tail = R"("},"finish_reason":"stop"}]})";
  std::string body = head + std::string(cap + 1 - head.size() - tail.size(), 'a') + tail;
  ASSERT_EQ(body.size(), cap + 1);
  ASSERT_TRUE(bj::parse(body).is_object());
  upstream_.Enqueue(JsonReply(body, 1024 * 1024));
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
  EXPECT_EQ(out.status.code(), StatusCode::kBadGateway) << out.status.ToString();
  EXPECT_EQ(out.status.error_code(), "upstream_too_large");
  EXPECT_TRUE(events_.deltas.empty());
}

// The other side of the cap: a whole answer of exactly the cap is read in full.
TEST_F(OpenAiModelTest, AWholeAnswerExactlyAtTheSizeCapIsRead) {
  const size_t cap = http::ClientRequest{}.max_response_bytes;
  const std::string head = R"({"choices":[{"message":{"role":"assistant","content":")";
  const std::string tail = R"("},"finish_reason":"stop"}]})";
  const size_t text_size = cap - head.size() - tail.size();
  upstream_.Enqueue(JsonReply(head + std::string(text_size, 'a') + tail, 1024 * 1024));
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text.size(), text_size);
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

// A server that reports no usage: the text still comes through, and usage is estimated (about
// four characters per token) from the messages sent and the text received, with no cache tokens.
TEST_F(OpenAiModelTest, AWholeAnswerWithoutUsageStillGivesTheTextAndEstimatesUsage) {
  upstream_.Enqueue(
      JsonReply(Completion(R"({"role":"assistant","content":"Hello there"})", "stop", "")));
  OpenAiModel model = MakeModel();
  Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "Hello there");
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Hello there"});
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  // "Be brief." (9 chars) -> 3 tokens, "Hi" (2 chars) -> 1 token.
  EXPECT_EQ(out.turn.usage.input_tokens, 4);
  EXPECT_EQ(out.turn.usage.input_tokens,
            EstimateTokens("Be brief.") + EstimateTokens("Hi"));  // the same rule
  // "Hello there" (11 chars) -> 3 tokens.
  EXPECT_EQ(out.turn.usage.output_tokens, 3);
  EXPECT_EQ(out.turn.usage.cache_read_tokens, 0);
  EXPECT_EQ(out.turn.usage.cache_write_tokens, 0);
}

// A 200 body that is not a JSON object (cut short, plain text, or another JSON type) is
// upstream_malformed, with no text passed on.
TEST_F(OpenAiModelTest, AMalformedWholeAnswerIsUpstreamMalformed) {
  const std::string full =
      Completion(R"({"role":"assistant","content":"Hello, world!"})", "stop", kUsage);
  const std::vector<std::string> bodies = {
      full.substr(0, full.size() / 2),
      "Internal Server Error",
      R"(["not","an","object"])",
  };
  OpenAiModel model = MakeModel();
  for (const std::string& body : bodies) {
    upstream_.Enqueue(JsonReply(body));
    Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
    EXPECT_EQ(out.status.code(), StatusCode::kBadGateway) << body;
    EXPECT_EQ(out.status.error_code(), "upstream_malformed") << body;
  }
  EXPECT_TRUE(events_.deltas.empty());
}

// The API key never reaches an error (which goes to the client and the logs), wherever the server
// echoes it: in a 401's message, in an error member of a 200 answer, in an error event of a
// stream, and where the message is cut to length just inside the key.
TEST_F(OpenAiModelTest, TheApiKeyNeverAppearsInAnError) {
  auto error_json = [](const std::string& message) {
    return R"({"error":{"message":")" + message + R"(","type":"invalid_request_error"}})";
  };
  const std::string echoed = "Incorrect API key provided: " + std::string(kApiKey) + ".";
  // 300 characters are quoted: with this padding the key straddles the cut.
  const std::string straddling = std::string(290, 'x') + " " + std::string(kApiKey);
  struct Case {
    ScriptedReply reply;
    bool stream;
    std::string error_code;
  };
  const std::vector<Case> cases = {
      {{401, {{"content-type", "application/json"}}, {error_json(echoed)}, {}},
       false,
       "upstream_auth_failed"},
      {{400, {{"content-type", "application/json"}}, {error_json(straddling)}, {}},
       false,
       "upstream_rejected"},
      {JsonReply(error_json(echoed)), false, "upstream_unavailable"},
      {{200, {{"content-type", "text/event-stream"}}, {"data: " + error_json(echoed) + "\n\n"}, {}},
       true,
       "upstream_unavailable"},
  };
  OpenAiModel model = MakeModel();
  const std::string key_head = std::string(kApiKey).substr(0, 12);
  for (const Case& c : cases) {
    upstream_.Enqueue(c.reply);
    ModelRequest req = WholeAnswerRequest();
    req.stream = c.stream;
    Outcome out = RunGenerate(model, req, events_);
    EXPECT_EQ(out.status.error_code(), c.error_code) << out.status.ToString();
    EXPECT_EQ(out.status.ToString().find(key_head), std::string::npos)
        << "the key leaked into the error: " << out.status.ToString();
    EXPECT_NE(out.status.message().find("[redacted"), std::string::npos) << out.status.message();
  }
}

// A 429's Retry-After (seconds) is kept on the error, for the retrying model to wait it out; a
// 429 without one, or with a date it does not read, has none.
TEST_F(OpenAiModelTest, ARateLimitedAnswerKeepsItsRetryAfter) {
  const std::string body = R"({"error":{"message":"Rate limit reached","type":"requests"}})";
  struct Case {
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<int64_t> retry_after;
  };
  const std::vector<Case> cases = {
      {{{"content-type", "application/json"}, {"retry-after", "7"}}, 7},
      {{{"content-type", "application/json"}}, std::nullopt},
  };
  OpenAiModel model = MakeModel();
  for (const Case& c : cases) {
    upstream_.Enqueue({429, c.headers, {body}, {}});
    Outcome out = RunGenerate(model, WholeAnswerRequest(), events_);
    EXPECT_EQ(out.status.error_code(), "upstream_rate_limited");
    EXPECT_EQ(out.status.retry_after_seconds(), c.retry_after);
    EXPECT_NE(out.status.message().find("Rate limit reached"), std::string::npos);
  }
}

// response_format goes to an OpenAI-compatible upstream as OpenAI defines it, and the answer,
// already JSON, comes back as text.
TEST_F(OpenAiModelTest, AJsonSchemaResponseFormatIsSentInOpenAisShape) {
  const std::string answer = R"({\"city\":\"Oslo\",\"temp_c\":4})";
  upstream_.Enqueue(JsonReply(Completion(
      R"({"role":"assistant","content":")" + answer + R"(","refusal":null})", "stop", kUsage)));
  OpenAiModel model = MakeModel();
  ModelRequest r = WholeAnswerRequest();
  ResponseFormat f = WeatherFormat();
  f.strict = true;
  r.response_format = f;
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  bj::value body = bj::parse(upstream_.last_request().body);
  EXPECT_EQ(body.at("response_format"),
            bj::parse(R"({"type":"json_schema","json_schema":{"name":"weather",)"
                      R"("description":"The weather in a city","schema":)" +
                      f.schema + R"(,"strict":true}})"));
  EXPECT_EQ(bj::parse(out.turn.text), bj::parse(R"({"city":"Oslo","temp_c":4})"));
  EXPECT_EQ(out.turn.stop_reason, "end_turn");

  // Without description and strict, neither is sent; json_object is its type alone.
  f.description.clear();
  f.strict.reset();
  r.response_format = f;
  ASSERT_TRUE(RunGenerate(model, r, events_).status.ok());
  EXPECT_EQ(bj::parse(upstream_.last_request().body).at("response_format"),
            bj::parse(R"({"type":"json_schema","json_schema":{"name":"weather","schema":)" +
                      f.schema + "}}"));
  r.response_format = ResponseFormat{};
  ASSERT_TRUE(RunGenerate(model, r, events_).status.ok());
  EXPECT_EQ(bj::parse(upstream_.last_request().body).at("response_format"),
            bj::parse(R"({"type":"json_object"})"));
  r.response_format.reset();
  ASSERT_TRUE(RunGenerate(model, r, events_).status.ok());
  EXPECT_FALSE(bj::parse(upstream_.last_request().body).as_object().contains("response_format"));
}

}  // namespace
}  // namespace gh::models
