#include "models/bedrock_model.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>

#include "aws/bedrock_shapes.h"
#include "aws/sigv4.h"
#include "common/clock.h"
#include "http/client.h"
#include "models/fake_upstream_testing.h"
#include "models/resilient_model.h"

namespace gh::models {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using namespace agent;
using namespace testing;

constexpr char kAccessKey[] = "AKIDEXAMPLE";
constexpr char kSecretKey[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kSessionToken[] = "IQoJb3JpZ2luX2VjEXAMPLE-session-token-value";
constexpr char kModelId[] = "anthropic.claude-3-haiku-20240307-v1:0";
constexpr char kEventStream[] = "application/vnd.amazon.eventstream";

// Frames of a plain text answer, with usage including cache tokens.
std::string TextFrames(std::string_view stop_reason = "end_turn") {
  return EventFrame("messageStart", R"({"p":"abc","role":"assistant"})") +
         EventFrame("contentBlockDelta",
                    R"({"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"ab"})") +
         EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":", world"}})") +
         EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"!"}})") +
         EventFrame("contentBlockStop", R"({"contentBlockIndex":0})") +
         EventFrame("messageStop", R"({"stopReason":")" + std::string(stop_reason) + R"("})") +
         EventFrame(
             "metadata",
             R"({"usage":{"inputTokens":30,"outputTokens":12,"totalTokens":162,)"
             R"("cacheReadInputTokens":80,"cacheWriteInputTokens":40},"metrics":{"latencyMs":321}})");
}

ScriptedReply StreamReply(const std::string& bytes, size_t chunk_size = 13) {
  return {200, {{"content-type", kEventStream}}, SplitEvery(bytes, chunk_size), {}};
}

ScriptedReply ErrorReply(int status, std::string type, std::string message) {
  return {status,
          {{"content-type", "application/json"},
           {"x-amzn-errortype", type + ":http://internal.amazon.com/coral/"}},
          {R"({"message":")" + message + R"("})"},
          {}};
}

class BedrockModelTest : public ::testing::Test {
 protected:
  aws::EnvironmentLookup Env() const {
    return aws::EnvironmentFromMap({{"AWS_ACCESS_KEY_ID", kAccessKey},
                                    {"AWS_SECRET_ACCESS_KEY", kSecretKey},
                                    {"AWS_REGION", "us-east-1"},
                                    {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"},
                                    {"AWS_CONFIG_FILE", "/nonexistent/config"}});
  }
  std::shared_ptr<BedrockModel> MakeModel(BedrockOptions opt = {},
                                          std::optional<aws::EnvironmentLookup> env = {}) {
    opt.endpoint.base_url = upstream_.base_url();
    opt.timeout = std::chrono::milliseconds(5000);
    auto made = MakeBedrockModel(opt, env ? *env : Env(), http::MakeBeastHttpClient(), clock_);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? *made : nullptr;
  }
  static ModelRequest SimpleRequest() {
    ModelRequest r;
    r.model = kModelId;
    r.messages = {{Role::kSystem, "Be brief.", {}, "", "", false},
                  {Role::kUser, "Hi", {}, "", "", false}};
    r.max_output_tokens = 300;
    return r;
  }
  static aws::AwsCredentials Credentials(bool with_token = false) {
    aws::AwsCredentials c{kAccessKey, Secret(kSecretKey), std::nullopt};
    if (with_token) c.session_token = Secret(kSessionToken);
    return c;
  }

  FakeClock clock_;
  FakeUpstream upstream_;
  RecordingEvents events_;
};

TEST_F(BedrockModelTest, SignsConverseStreamWithSigV4AndEncodesTheColonOfTheModelIdInThePath) {
  upstream_.Enqueue(StreamReply(TextFrames()));
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, SimpleRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();

  ReceivedRequest got = upstream_.last_request();
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
  EXPECT_EQ(got.headers.Get("x-amz-date").value_or(""), aws::FormatAmzDate(clock_.Now()));
  EXPECT_FALSE(got.headers.Get("x-amz-security-token").has_value());
  std::string authorization(got.headers.Get("authorization").value_or(""));
  EXPECT_EQ(
      authorization.rfind(
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/bedrock/aws4_request, ", 0),
      0u)
      << authorization;
  EXPECT_EQ(authorization, ExpectedAuthorization(got, Credentials(), "us-east-1", clock_.Now()));
  std::vector<std::string> signed_headers = SignedHeaderNames(authorization);
  EXPECT_NE(std::find(signed_headers.begin(), signed_headers.end(), "host"), signed_headers.end());
  EXPECT_EQ(got.headers.Get("accept").value_or(""), kEventStream);
  // The same request with a different body must not verify: the signature covers the payload.
  ReceivedRequest tampered = got;
  tampered.body += " ";
  EXPECT_NE(authorization,
            ExpectedAuthorization(tampered, Credentials(), "us-east-1", clock_.Now()));
}

TEST_F(BedrockModelTest, SendsAndSignsTheSessionTokenOfTemporaryCredentials) {
  upstream_.Enqueue(StreamReply(TextFrames()));
  BedrockOptions opt;
  opt.endpoint.aws.access_key_id = kAccessKey;
  opt.endpoint.aws.secret_access_key = Secret(kSecretKey);
  opt.endpoint.aws.session_token = Secret(kSessionToken);
  opt.endpoint.aws.region = "eu-west-3";
  auto model = MakeModel(opt, aws::EnvironmentFromMap({}));
  Outcome out = RunGenerate(*model, SimpleRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ReceivedRequest got = upstream_.last_request();
  EXPECT_EQ(got.headers.Get("x-amz-security-token").value_or(""), kSessionToken);
  std::string authorization(got.headers.Get("authorization").value_or(""));
  std::vector<std::string> signed_headers = SignedHeaderNames(authorization);
  EXPECT_NE(std::find(signed_headers.begin(), signed_headers.end(), "x-amz-security-token"),
            signed_headers.end());
  EXPECT_EQ(authorization,
            ExpectedAuthorization(got, Credentials(true), "eu-west-3", clock_.Now()));
}

TEST_F(BedrockModelTest, TakesCredentialsAndRegionFromTheSharedFiles) {
  const fs::path dir =
      fs::temp_directory_path() / ("gh_bedrock_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "credentials")
      << "[work]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n";
  std::ofstream(dir / "config") << "[profile work]\nregion = ap-southeast-2\n";
  upstream_.Enqueue(StreamReply(TextFrames()));
  auto env =
      aws::EnvironmentFromMap({{"AWS_PROFILE", "work"},
                               {"AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string()},
                               {"AWS_CONFIG_FILE", (dir / "config").string()}});
  auto model = MakeModel({}, env);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->endpoint().credential_source(), aws::CredentialSource::kSharedCredentialsFile);
  Outcome out = RunGenerate(*model, SimpleRequest(), events_);
  fs::remove_all(dir);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ReceivedRequest got = upstream_.last_request();
  aws::AwsCredentials file_creds{"AKIDFILE", Secret("filesecret"), std::nullopt};
  EXPECT_EQ(got.headers.Get("authorization").value_or(""),
            ExpectedAuthorization(got, file_creds, "ap-southeast-2", clock_.Now()));
}

TEST_F(BedrockModelTest, MissingCredentialsFailWhenTheModelIsBuilt) {
  auto made = MakeBedrockModel({}, aws::EnvironmentFromMap({{"AWS_REGION", "us-east-1"}}),
                               http::MakeBeastHttpClient(), clock_);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().error_code(), "aws_credentials_missing");
}

TEST_F(BedrockModelTest, SendsMessagesAsContentBlocksWithSystemToolsAndInferenceConfig) {
  ModelRequest r;
  r.model = kModelId;
  r.max_output_tokens = 700;
  r.tools = {{"current_weather", "Weather now",
              R"({"type":"object","properties":{"city":{"type":"string"}}})"}};
  r.messages = {
      {Role::kSystem, "You are helpful.", {}, "", "", false},
      {Role::kUser, "Weather in Paris?", {}, "", "", false},
      {Role::kAssistant,
       "",
       {{"tooluse_1", "current_weather", R"({"city":"Paris"})"}},
       "",
       "",
       false},
      {Role::kTool, R"({"temp_c":21})", {}, "tooluse_1", "current_weather", false},
      {Role::kAssistant,
       "",
       {{"tooluse_2", "current_weather", R"({"city":"Lyon"})"}},
       "",
       "",
       false},
      {Role::kTool, "service down", {}, "tooluse_2", "current_weather", true},
  };
  bj::value body = bj::parse(BuildConverseRequestBody(r));
  EXPECT_EQ(body, bj::parse(R"({
    "messages":[
      {"role":"user","content":[{"text":"Weather in Paris?"}]},
      {"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_1","name":"current_weather","input":{"city":"Paris"}}}]},
      {"role":"user","content":[{"toolResult":{"toolUseId":"tooluse_1","content":[{"json":{"temp_c":21}}],"status":"success"}}]},
      {"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_2","name":"current_weather","input":{"city":"Lyon"}}}]},
      {"role":"user","content":[{"toolResult":{"toolUseId":"tooluse_2","content":[{"text":"service down"}],"status":"error"}}]}
    ],
    "system":[{"text":"You are helpful."}],
    "inferenceConfig":{"maxTokens":700},
    "toolConfig":{"tools":[{"toolSpec":{"name":"current_weather","description":"Weather now",
      "inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}}]}
  })"));

  upstream_.Enqueue(StreamReply(TextFrames()));
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(bj::parse(upstream_.last_request().body), body);
}

// OpenAI's tool_choice "required" (the wire also narrows the tools to a named one) is Converse's
// toolChoice "any"; without it the model chooses (no toolChoice sent).
TEST(BedrockConverseBodyTest, AToolTheClientRequiresIsOneTheModelMustCall) {
  ModelRequest r;
  r.model = "anthropic.claude-3-haiku-20240307-v1:0";
  r.messages = {{Role::kUser, "Weather in Paris?", {}, "", "", false}};
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.tool_required = true;
  bj::value body = bj::parse(BuildConverseRequestBody(r));
  EXPECT_EQ(body.at("toolConfig").at("toolChoice"), bj::parse(R"({"any":{}})"));
  r.tool_required = false;
  body = bj::parse(BuildConverseRequestBody(r));
  EXPECT_FALSE(body.at("toolConfig").as_object().contains("toolChoice"));

  // Required, with a response_format: the answer tool is not offered beside it (the model could
  // answer instead of calling the client's tool).
  r.tool_required = true;
  r.response_format = WeatherFormat();
  body = bj::parse(BuildConverseRequestBody(r));
  ASSERT_EQ(body.at("toolConfig").at("tools").as_array().size(), 1u);
  EXPECT_EQ(body.at("toolConfig").at("toolChoice"), bj::parse(R"({"any":{}})"));
}

TEST_F(BedrockModelTest, DecodesTheEventStreamIncrementallyAndStreamsDeltasInOrderWithUsage) {
  upstream_.Enqueue(StreamReply(TextFrames(), 5));
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, SimpleRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, (std::vector<std::string>{"Hello", ", world", "!"}));
  EXPECT_EQ(out.turn.text, "Hello, world!");
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  EXPECT_EQ(out.turn.usage.input_tokens, 30);
  EXPECT_EQ(out.turn.usage.output_tokens, 12);
  EXPECT_EQ(out.turn.usage.cache_read_tokens, 80);
  EXPECT_EQ(out.turn.usage.cache_write_tokens, 40);
}

TEST_F(BedrockModelTest, AssemblesToolUseInputFromItsDeltas) {
  std::string frames =
      EventFrame("messageStart", R"({"role":"assistant"})") +
      EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Checking."}})") +
      EventFrame("contentBlockStop", R"({"contentBlockIndex":0})") +
      EventFrame(
          "contentBlockStart",
          R"({"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tooluse_X","name":"current_weather"}}})") +
      EventFrame("contentBlockDelta",
                 R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}})") +
      EventFrame("contentBlockDelta",
                 R"({"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Oslo\"}"}}})") +
      EventFrame("contentBlockStop", R"({"contentBlockIndex":1})") +
      EventFrame("messageStop", R"({"stopReason":"tool_use"})") +
      EventFrame("metadata",
                 R"({"usage":{"inputTokens":5,"outputTokens":9,"totalTokens":14},"metrics":{}})");
  upstream_.Enqueue(StreamReply(frames, 64));
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, SimpleRequest(), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].id, "tooluse_X");
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Checking."});
}

TEST_F(BedrockModelTest, HandlesEveryStopReasonOfTheServiceModel) {
  auto model = MakeModel();
  for (std::string_view reason : aws::bedrock::kStopReasons) {
    upstream_.Enqueue(StreamReply(TextFrames(reason)));
    RecordingEvents events;
    Outcome out = RunGenerate(*model, SimpleRequest(), events);
    if (reason == "malformed_model_output" || reason == "malformed_tool_use") {
      EXPECT_EQ(out.status.code(), StatusCode::kBadGateway) << reason;
      EXPECT_EQ(out.status.error_code(), "upstream_malformed_output") << reason;
    } else {
      ASSERT_TRUE(out.status.ok()) << reason << ": " << out.status.ToString();
      EXPECT_EQ(out.turn.stop_reason, reason);
    }
  }
  auto unknown = MapBedrockStopReason("new_reason_2030");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(*unknown, "new_reason_2030");
}

TEST_F(BedrockModelTest, InStreamExceptionsBecomeClearStatuses) {
  struct Case {
    std::string type;
    StatusCode code;
    std::string error_code;
  };
  const std::vector<Case> cases = {
      {"throttlingException", StatusCode::kResourceExhausted, "upstream_rate_limited"},
      {"validationException", StatusCode::kBadGateway, "upstream_rejected"},
      {"modelStreamErrorException", StatusCode::kBadGateway, "upstream_unavailable"},
      {"internalServerException", StatusCode::kBadGateway, "upstream_unavailable"},
      {"serviceUnavailableException", StatusCode::kBadGateway, "upstream_unavailable"},
  };
  ASSERT_EQ(cases.size(), aws::bedrock::kConverseStreamExceptions.size());
  auto model = MakeModel();
  for (const Case& c : cases) {
    std::string frames =
        EventFrame("messageStart", R"({"role":"assistant"})") +
        EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hel"}})") +
        ExceptionFrame(c.type, "something about " + c.type);
    upstream_.Enqueue(StreamReply(frames));
    RecordingEvents events;
    Outcome out = RunGenerate(*model, SimpleRequest(), events);
    EXPECT_EQ(out.status.code(), c.code) << c.type;
    EXPECT_EQ(out.status.error_code(), c.error_code) << c.type;
    EXPECT_NE(out.status.message().find(c.type), std::string::npos) << out.status.message();
    EXPECT_NE(out.status.message().find("something about " + c.type), std::string::npos)
        << out.status.message();
    EXPECT_EQ(events.deltas, std::vector<std::string>{"Hel"});
  }
}

TEST_F(BedrockModelTest, HttpErrorsUseTheErrorTypeHeaderAndMessage) {
  struct Case {
    int http;
    std::string type;
    StatusCode code;
    std::string error_code;
  };
  const std::vector<Case> cases = {
      {400, "ValidationException", StatusCode::kBadGateway, "upstream_rejected"},
      {429, "ThrottlingException", StatusCode::kResourceExhausted, "upstream_rate_limited"},
      {403, "AccessDeniedException", StatusCode::kBadGateway, "upstream_auth_failed"},
      {404, "ResourceNotFoundException", StatusCode::kBadGateway, "upstream_not_found"},
      {408, "ModelTimeoutException", StatusCode::kDeadlineExceeded, "upstream_timeout"},
      {424, "ModelErrorException", StatusCode::kBadGateway, "upstream_model_error"},
      {429, "ModelNotReadyException", StatusCode::kUnavailable, "upstream_model_not_ready"},
      {500, "InternalServerException", StatusCode::kBadGateway, "upstream_unavailable"},
      {503, "ServiceUnavailableException", StatusCode::kBadGateway, "upstream_unavailable"},
  };
  ASSERT_EQ(cases.size(), aws::bedrock::kConverseErrors.size());
  auto model = MakeModel();
  for (const Case& c : cases) {
    upstream_.Enqueue(ErrorReply(c.http, c.type, "details for " + c.type));
    RecordingEvents events;
    Outcome out = RunGenerate(*model, SimpleRequest(), events);
    EXPECT_EQ(out.status.code(), c.code) << c.type;
    EXPECT_EQ(out.status.error_code(), c.error_code) << c.type;
    EXPECT_NE(out.status.message().find("details for " + c.type), std::string::npos)
        << out.status.message();
    EXPECT_TRUE(events.deltas.empty());
  }
}

TEST_F(BedrockModelTest, ASignatureErrorQuotingTheCanonicalRequestLeaksNoSecret) {
  BedrockOptions opt;
  opt.endpoint.aws.access_key_id = kAccessKey;
  opt.endpoint.aws.secret_access_key = Secret(kSecretKey);
  opt.endpoint.aws.session_token = Secret(kSessionToken);
  opt.endpoint.aws.region = "us-east-1";
  auto model = MakeModel(opt, aws::EnvironmentFromMap({}));
  std::string message =
      "The request signature we calculated does not match the signature you provided. " +
      std::string(kSessionToken) +
      "\\n\\nThe Canonical String for this request should have been\\n'POST\\n"
      "x-amz-security-token:" +
      kSessionToken + " secret " + kSecretKey + "'";
  upstream_.Enqueue(ErrorReply(403, "InvalidSignatureException", message));
  Outcome out = RunGenerate(*model, SimpleRequest(), events_);
  EXPECT_EQ(out.status.error_code(), "upstream_auth_failed");
  const std::string shown = out.status.ToString();
  EXPECT_EQ(shown.find(kSessionToken), std::string::npos) << shown;
  EXPECT_EQ(shown.find(kSecretKey), std::string::npos) << shown;
  EXPECT_EQ(shown.find("Canonical String"), std::string::npos) << shown;
  EXPECT_NE(shown.find("signature we calculated"), std::string::npos) << shown;
}

TEST_F(BedrockModelTest, AFrameWithABadCrcIsAClearErrorAndStopsTheStream) {
  std::string good =
      EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hello"}})");
  std::string bad =
      EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"world"}})");
  bad[bad.size() - 10] ^= 0x01;  // a payload byte: the message CRC no longer matches
  upstream_.Enqueue(StreamReply(EventFrame("messageStart", R"({"role":"assistant"})") + good + bad +
                                TextFrames()));
  auto model = MakeModel();
  Outcome out = RunGenerate(*model, SimpleRequest(), events_);
  EXPECT_EQ(out.status.code(), StatusCode::kBadGateway);
  EXPECT_EQ(out.status.error_code(), "eventstream_checksum_mismatch");
  EXPECT_NE(out.status.message().find("corrupt event stream"), std::string::npos)
      << out.status.message();
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Hello"});
}

TEST_F(BedrockModelTest, AStreamCutInsideAFrameOrBeforeMessageStopIsIncomplete) {
  std::string frames = TextFrames();
  auto model = MakeModel();
  upstream_.Enqueue(StreamReply(frames.substr(0, frames.size() - 20)));
  Outcome cut = RunGenerate(*model, SimpleRequest(), events_);
  EXPECT_EQ(cut.status.code(), StatusCode::kBadGateway);
  EXPECT_EQ(cut.status.error_code(), "eventstream_truncated") << cut.status.ToString();

  upstream_.Enqueue(StreamReply(
      EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})")));
  RecordingEvents events;
  Outcome early = RunGenerate(*model, SimpleRequest(), events);
  EXPECT_EQ(early.status.error_code(), "upstream_incomplete");
}

// Converse when the model is configured not to stream, and when the caller wants the whole answer.
TEST_F(BedrockModelTest, ConverseWithoutStreamingParsesTheWholeAnswer) {
  for (const bool configured_off : {true, false}) {
    SCOPED_TRACE(configured_off ? "streaming configured off" : "a request for the whole answer");
    upstream_.Enqueue(
        {200,
         {{"content-type", "application/json"}},
         {R"({"output":{"message":{"role":"assistant","content":[{"text":"Let me look."},)"
          R"({"toolUse":{"toolUseId":"tooluse_9","name":"forecast","input":{"days":2}}}]}},)"
          R"("stopReason":"tool_use","usage":{"inputTokens":11,"outputTokens":7,"totalTokens":18,)"
          R"("cacheReadInputTokens":3},"metrics":{"latencyMs":100}})"},
         {}});
    BedrockOptions opt;
    opt.stream = !configured_off;
    auto model = MakeModel(opt);
    ModelRequest request = SimpleRequest();
    request.stream = configured_off;  // either one turns streaming off
    RecordingEvents events;
    Outcome out = RunGenerate(*model, request, events);
    ASSERT_TRUE(out.status.ok()) << out.status.ToString();
    ReceivedRequest got = upstream_.last_request();
    EXPECT_EQ(got.target, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    EXPECT_EQ(got.headers.Get("accept").value_or(""), "application/json");
    EXPECT_EQ(got.headers.Get("authorization").value_or(""),
              ExpectedAuthorization(got, Credentials(), "us-east-1", clock_.Now()));
    EXPECT_EQ(events.deltas, std::vector<std::string>{"Let me look."});
    EXPECT_EQ(out.turn.stop_reason, "tool_use");
    ASSERT_EQ(out.turn.tool_calls.size(), 1u);
    EXPECT_EQ(out.turn.tool_calls[0].id, "tooluse_9");
    EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"days":2})"));
    EXPECT_EQ(out.turn.usage.input_tokens, 11);
    EXPECT_EQ(out.turn.usage.cache_read_tokens, 3);
  }
}

// The client's sampling in inferenceConfig, beside maxTokens, for ConverseStream and Converse
// alike: temperature within Bedrock's 0 to 1, stop sequences as stopSequences; seed and penalties,
// which Converse does not have, are not sent.
TEST_F(BedrockModelTest, TheClientsSamplingGoesInTheInferenceConfig) {
  for (const bool stream : {true, false}) {
    SCOPED_TRACE(stream ? "ConverseStream" : "Converse");
    if (stream) {
      upstream_.Enqueue(StreamReply(TextFrames("stop_sequence")));
    } else {
      upstream_.Enqueue(
          {200,
           {{"content-type", "application/json"}},
           {R"({"output":{"message":{"role":"assistant","content":[{"text":"Thought"}]}},)"
            R"("stopReason":"stop_sequence","usage":{"inputTokens":11,"outputTokens":7}})"},
           {}});
    }
    auto model = MakeModel();
    ModelRequest request = SimpleRequest();
    request.stream = stream;
    request.sampling.temperature = 0.4;
    request.sampling.stop = {"END", "Observation:"};
    request.sampling.seed = 7;
    request.sampling.presence_penalty = 0.5;
    request.sampling.frequency_penalty = 0.5;
    RecordingEvents events;
    Outcome out = RunGenerate(*model, request, events);
    ASSERT_TRUE(out.status.ok()) << out.status.ToString();
    EXPECT_EQ(out.turn.stop_reason, "stop_sequence");
    ReceivedRequest got = upstream_.last_request();
    EXPECT_TRUE(got.target.ends_with(stream ? "/converse-stream" : "/converse")) << got.target;
    bj::value body = bj::parse(got.body);
    EXPECT_EQ(
        body.at("inferenceConfig"),
        bj::parse(R"({"maxTokens":300,"temperature":0.4,"stopSequences":["END","Observation:"]})"))
        << body;
    for (const char* dropped : {"seed", "presence_penalty", "frequency_penalty"})
      EXPECT_EQ(got.body.find(dropped), std::string::npos) << dropped << ": " << got.body;
  }
}

// Over Bedrock's maximum temperature: its maximum. top_p alone goes as topP; with a temperature
// too, only the temperature does (Claude models refuse both). Nothing asked for: maxTokens alone.
TEST_F(BedrockModelTest, TheTemperatureIsClampedAndWinsOverTopP) {
  upstream_.Enqueue(StreamReply(TextFrames()));
  auto model = MakeModel();
  const auto inference_config = [&](const Sampling& sampling) {
    ModelRequest request = SimpleRequest();
    request.sampling = sampling;
    Outcome out = RunGenerate(*model, request, events_);
    EXPECT_TRUE(out.status.ok()) << out.status.ToString();
    return bj::parse(upstream_.last_request().body).at("inferenceConfig");
  };
  Sampling hot;
  hot.temperature = 2.0;
  EXPECT_EQ(inference_config(hot), bj::parse(R"({"maxTokens":300,"temperature":1.0})"));
  Sampling nucleus;
  nucleus.top_p = 0.25;
  EXPECT_EQ(inference_config(nucleus), bj::parse(R"({"maxTokens":300,"topP":0.25})"));
  Sampling both = nucleus;
  both.temperature = 0.0;
  EXPECT_EQ(inference_config(both), bj::parse(R"({"maxTokens":300,"temperature":0.0})"));
  EXPECT_EQ(inference_config(Sampling{}), bj::parse(R"({"maxTokens":300})"));
}

TEST_F(BedrockModelTest, AModelIdThatWouldClimbThePathIsRejectedBeforeSending) {
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.model = "..";
  Outcome out = RunGenerate(*model, r, events_);
  EXPECT_FALSE(out.status.ok());
  EXPECT_TRUE(upstream_.requests().empty());
}

// ---- response_format, emulated with a forced tool ----

// Frames of an answer that calls `tool` (tooluse_R) with `inputs` as its toolUse deltas, after a
// text block whose text deltas are `text_before` when there are some.
std::string ToolUseFrames(std::string_view tool, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& text_before = {}) {
  std::string frames = EventFrame("messageStart", R"({"role":"assistant"})");
  std::string index = "0";
  if (!text_before.empty()) {
    for (const std::string& t : text_before)
      frames +=
          EventFrame("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":)" +
                                              bj::serialize(bj::value(std::string_view(t))) + "}}");
    frames += EventFrame("contentBlockStop", R"({"contentBlockIndex":0})");
    index = "1";
  }
  frames += EventFrame("contentBlockStart",
                       R"({"contentBlockIndex":)" + index +
                           R"(,"start":{"toolUse":{"toolUseId":"tooluse_R","name":")" +
                           std::string(tool) + R"("}}})");
  for (const std::string& in : inputs)
    frames += EventFrame("contentBlockDelta",
                         R"({"contentBlockIndex":)" + index + R"(,"delta":{"toolUse":{"input":)" +
                             bj::serialize(bj::value(std::string_view(in))) + "}}}");
  return frames + EventFrame("contentBlockStop", R"({"contentBlockIndex":)" + index + "}") +
         EventFrame("messageStop", R"({"stopReason":"tool_use"})") +
         EventFrame(
             "metadata",
             R"({"usage":{"inputTokens":5,"outputTokens":9,"totalTokens":14},"metrics":{}})");
}

TEST_F(BedrockModelTest, AResponseFormatIsOfferedAsAToolForcedByNameWhenItIsTheOnlyTool) {
  upstream_.Enqueue(StreamReply(ToolUseFrames("weather", {"{}"})));
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  ASSERT_TRUE(RunGenerate(*model, r, events_).status.ok());
  bj::value body = bj::parse(upstream_.last_request().body);
  EXPECT_EQ(
      body.at("toolConfig"),
      bj::parse(R"({"tools":[{"toolSpec":{"name":"weather","description":"The weather in a city",)"
                R"("inputSchema":{"json":)" +
                WeatherFormat().schema + R"(}}}],"toolChoice":{"tool":{"name":"weather"}}})"));

  r.response_format = ResponseFormat{};  // json_object
  ASSERT_TRUE(RunGenerate(*model, r, events_).status.ok());
  body = bj::parse(upstream_.last_request().body);
  const bj::value& config = body.at("toolConfig");
  ASSERT_EQ(config.at("tools").as_array().size(), 1u);
  EXPECT_EQ(config.at("tools").at(0).at("toolSpec").at("name"), "json_answer");
  EXPECT_EQ(config.at("tools").at(0).at("toolSpec").at("inputSchema"),
            bj::parse(R"({"json":{"type":"object"}})"));
  EXPECT_EQ(config.at("toolChoice"), bj::parse(R"({"tool":{"name":"json_answer"}})"));

  r.response_format.reset();
  ASSERT_TRUE(RunGenerate(*model, r, events_).status.ok());
  EXPECT_FALSE(bj::parse(upstream_.last_request().body).as_object().contains("toolConfig"));
}

TEST_F(BedrockModelTest, WithOtherToolsTheResponseToolJoinsThemAndSomeToolMustBeCalled) {
  upstream_.Enqueue(StreamReply(ToolUseFrames("current_weather", {R"({"city":)", R"("Oslo"})"})));
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(*model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  bj::value body = bj::parse(upstream_.last_request().body);
  const bj::value& config = body.at("toolConfig");
  ASSERT_EQ(config.at("tools").as_array().size(), 2u);
  EXPECT_EQ(config.at("tools").at(0).at("toolSpec").at("name"), "current_weather");
  EXPECT_EQ(config.at("tools").at(1).at("toolSpec").at("name"), "weather");
  EXPECT_EQ(config.at("toolChoice"), bj::parse(R"({"any":{}})"));
  // The model called a real tool: it is surfaced as usual.
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
  EXPECT_EQ(out.turn.text, "");
  EXPECT_TRUE(events_.deltas.empty());
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
}

TEST_F(BedrockModelTest, TheResponseToolsStreamedInputIsTheAnswersTextAndNoToolCall) {
  const std::vector<std::string> inputs = {R"({"ci)", R"(ty": "Os)", R"(lo", "temp_c")", ": 4}"};
  upstream_.Enqueue(StreamReply(ToolUseFrames("weather", inputs), 17));
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(*model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, inputs) << "each toolUse delta as it arrives";
  EXPECT_EQ(bj::parse(out.turn.text), bj::parse(R"({"city":"Oslo","temp_c":4})"));
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

TEST_F(BedrockModelTest, AWholeConverseAnswerThroughTheResponseToolIsItsInputAsText) {
  upstream_.Enqueue(
      {200,
       {{"content-type", "application/json"}},
       {R"({"output":{"message":{"role":"assistant","content":[)"
        R"({"toolUse":{"toolUseId":"tooluse_9","name":"weather","input":{"city":"Oslo","temp_c":4}}}]}},)"
        R"("stopReason":"tool_use","usage":{"inputTokens":11,"outputTokens":7,"totalTokens":18}})"},
       {}});
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.stream = false;
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(*model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(events_.deltas.size(), 1u);
  EXPECT_EQ(bj::parse(events_.deltas[0]), bj::parse(R"({"city":"Oslo","temp_c":4})"));
  EXPECT_EQ(out.turn.text, events_.deltas[0]);
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

// Models other than Claude (Amazon Nova) often write a <thinking> block before calling the
// response tool: it is held back and dropped, so the answer's text is the tool's JSON alone.
TEST_F(BedrockModelTest, TextBeforeTheResponseToolCallIsNotPartOfTheAnswer) {
  const std::vector<std::string> inputs = {R"({"city": "Oslo",)", R"( "temp_c": 4})"};
  upstream_.Enqueue(
      StreamReply(ToolUseFrames("weather", inputs, {"<thinking>let me", " see</thinking>"}), 17));
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(*model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, inputs);
  EXPECT_EQ(out.turn.text, R"({"city": "Oslo", "temp_c": 4})");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

// Held-back text that turns out not to precede the answer is the turn's text after all: before a
// real tool's call it is released (in one delta) when that call begins.
TEST_F(BedrockModelTest, TextBeforeARealToolsCallIsReleasedWhenTheCallBegins) {
  upstream_.Enqueue(StreamReply(
      ToolUseFrames("current_weather", {R"({"city":)", R"("Oslo"})"}, {"Let me", " check."})));
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(*model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Let me check."});
  EXPECT_EQ(out.turn.text, "Let me check.");
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(bj::parse(out.turn.tool_calls[0].arguments_json), bj::parse(R"({"city":"Oslo"})"));
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
}

// A model that answers in plain text despite the forced tool: its text is released at the end.
TEST_F(BedrockModelTest, APlainTextAnswerDespiteAResponseFormatIsReleasedAtTheEnd) {
  upstream_.Enqueue(StreamReply(TextFrames()));
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.response_format = WeatherFormat();
  Outcome out = RunGenerate(*model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Hello, world!"});
  EXPECT_EQ(out.turn.text, "Hello, world!");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
}

TEST_F(BedrockModelTest, AWholeAnswersTextIsDroppedBeforeTheResponseToolAndKeptBeforeARealOne) {
  auto model = MakeModel();
  ModelRequest r = SimpleRequest();
  r.stream = false;
  r.tools = {{"current_weather", "Weather now", R"({"type":"object"})"}};
  r.response_format = WeatherFormat();
  upstream_.Enqueue(
      {200,
       {{"content-type", "application/json"}},
       {R"({"output":{"message":{"role":"assistant","content":[)"
        R"({"text":"<thinking>let me see</thinking>"},)"
        R"({"toolUse":{"toolUseId":"tooluse_9","name":"weather","input":{"city":"Oslo","temp_c":4}}},)"
        R"({"toolUse":{"toolUseId":"tooluse_10","name":"weather","input":{"city":"Bergen"}}}]}},)"
        R"("stopReason":"tool_use","usage":{"inputTokens":11,"outputTokens":7,"totalTokens":18}})"},
       {}});
  Outcome out = RunGenerate(*model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events_.deltas, std::vector<std::string>{R"({"city":"Oslo","temp_c":4})"})
      << "the first call to the response tool is the answer; a later one is dropped";
  EXPECT_EQ(out.turn.text, R"({"city":"Oslo","temp_c":4})");
  EXPECT_TRUE(out.turn.tool_calls.empty());
  EXPECT_EQ(out.turn.stop_reason, "end_turn");

  upstream_.Enqueue(
      {200,
       {{"content-type", "application/json"}},
       {R"({"output":{"message":{"role":"assistant","content":[{"text":"Let me look."},)"
        R"({"toolUse":{"toolUseId":"tooluse_9","name":"current_weather","input":{"city":"Oslo"}}}]}},)"
        R"("stopReason":"tool_use","usage":{"inputTokens":11,"outputTokens":7,"totalTokens":18}})"},
       {}});
  RecordingEvents events;
  out = RunGenerate(*model, r, events);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(events.deltas, std::vector<std::string>{"Let me look."});
  EXPECT_EQ(out.turn.text, "Let me look.");
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].name, "current_weather");
  EXPECT_EQ(out.turn.stop_reason, "tool_use");

  // Without a response_format nothing is held: a plain whole answer is its text.
  r.response_format.reset();
  upstream_.Enqueue(
      {200,
       {{"content-type", "application/json"}},
       {R"({"output":{"message":{"role":"assistant","content":[{"text":"Sunny."}]}},)"
        R"("stopReason":"end_turn","usage":{"inputTokens":11,"outputTokens":7,"totalTokens":18}})"},
       {}});
  out = RunGenerate(*model, r, events);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "Sunny.");
}

}  // namespace
}  // namespace gh::models
