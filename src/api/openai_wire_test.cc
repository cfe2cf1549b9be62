// OpenAI's Chat Completions wire format: requests the SDKs send, and the shapes they parse back.
#include "api/openai_wire.h"

#include <gtest/gtest.h>

namespace gh::api::openai {
namespace {

bj::object Parse(std::string_view json) { return bj::parse(json).as_object(); }

Result<ChatCompletionParams> Request(std::string_view json) {
  return ParseChatCompletionRequest(Parse(json));
}

std::string ParamOf(const Status& s) {
  for (const auto& [k, v] : s.details())
    if (k == "param") return std::get<std::string>(v);
  return "";
}

chat::CompletionOutcome Outcome() {
  chat::CompletionOutcome out;
  out.id = "chatcmpl-abc";
  out.model = "offline";
  out.created = 1'700'000'000;
  out.turn.usage = {10, 5, 2, 0};
  return out;
}

TEST(OpenAiWireTest, AConversationWithEveryRoleBecomesTheDomainConversation) {
  auto p = Request(R"({
    "model": "offline", "temperature": 0.2, "top_p": 1, "user": "x", "seed": 3, "stop": ["\n"],
    "messages": [
      {"role": "system", "content": "be brief"},
      {"role": "developer", "content": [{"type": "text", "text": "really "}, {"type": "text", "text": "brief"}]},
      {"role": "user", "content": "weather in Paris?", "name": "ann"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_current_weather", "arguments": "{\"location\":\"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "{\"conditions\":\"sunny\"}"}
    ]})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->model, "offline");
  ASSERT_EQ(p->messages.size(), 5u);
  EXPECT_EQ(p->messages[0].role, agent::Role::kSystem);
  EXPECT_EQ(p->messages[1].role, agent::Role::kSystem) << "developer messages are system messages";
  EXPECT_EQ(p->messages[1].content, "really brief");
  EXPECT_EQ(p->messages[2].content, "weather in Paris?");
  ASSERT_EQ(p->messages[3].tool_calls.size(), 1u);
  EXPECT_EQ(p->messages[3].tool_calls[0].arguments_json, R"({"location":"Paris"})");
  EXPECT_EQ(p->messages[4].role, agent::Role::kTool);
  EXPECT_EQ(p->messages[4].tool_call_id, "call_1");
  EXPECT_EQ(p->messages[4].tool_name, "get_current_weather") << "named after the call it answers";
  EXPECT_FALSE(p->stream);
  EXPECT_FALSE(p->max_tokens.has_value());
}

TEST(OpenAiWireTest, FunctionToolsAreOfferedAsGivenAndToolChoiceNarrowsThem) {
  const std::string tools = R"("tools": [
      {"type": "function", "function": {"name": "get_current_weather", "description": "Weather now",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}},
      {"type": "function", "function": {"name": "lookup"}}])";
  auto p = Request(R"({"messages": [{"role": "user", "content": "hi"}], )" + tools + "}");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->tools.size(), 2u);
  EXPECT_EQ(p->tools[0].description, "Weather now");
  EXPECT_EQ(bj::parse(p->tools[0].parameters_schema).at("required").at(0).as_string(), "location");
  EXPECT_EQ(bj::parse(p->tools[1].parameters_schema).at("type").as_string(), "object")
      << "a default schema";
  EXPECT_FALSE(p->tool_required);

  auto none = Request(
      R"({"messages": [{"role": "user", "content": "hi"}], "tool_choice": "none", )" + tools + "}");
  EXPECT_TRUE(none->tools.empty());
  auto required =
      Request(R"({"messages": [{"role": "user", "content": "hi"}], "tool_choice": "required", )" +
              tools + "}");
  EXPECT_TRUE(required->tool_required);
  EXPECT_EQ(required->tools.size(), 2u);
  auto named = Request(R"({"messages": [{"role": "user", "content": "hi"}],
      "tool_choice": {"type": "function", "function": {"name": "lookup"}}, )" +
                       tools + "}");
  ASSERT_EQ(named->tools.size(), 1u);
  EXPECT_EQ(named->tools[0].name, "lookup");
  EXPECT_TRUE(named->tool_required);
  auto unknown = Request(R"({"messages": [{"role": "user", "content": "hi"}],
      "tool_choice": {"type": "function", "function": {"name": "nope"}}, )" +
                         tools + "}");
  EXPECT_EQ(ParamOf(unknown.status()), "tool_choice.function.name");
}

TEST(OpenAiWireTest, StreamingAndTokenLimitsAreRead) {
  auto p = Request(R"({"messages": [{"role": "user", "content": "hi"}], "stream": true,
      "stream_options": {"include_usage": true}, "max_tokens": 50, "max_completion_tokens": 20, "n": 1})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->stream);
  EXPECT_TRUE(p->include_usage);
  EXPECT_EQ(p->max_tokens, 20) << "max_completion_tokens wins over the deprecated max_tokens";
  auto legacy = Request(
      R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 50, "stream": null})");
  EXPECT_EQ(legacy->max_tokens, 50);
  EXPECT_FALSE(legacy->stream);
}

TEST(OpenAiWireTest, SamplingParametersAreReadForTheModel) {
  auto p = Request(R"({"messages": [{"role": "user", "content": "hi"}], "temperature": 0.2,
      "top_p": 1, "stop": ["END", "\n\n"], "seed": -7, "presence_penalty": -2,
      "frequency_penalty": 1.5, "user": "someone"})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->sampling.temperature, 0.2);
  EXPECT_EQ(p->sampling.top_p, 1.0) << "an integer is a number too";
  EXPECT_EQ(p->sampling.stop, (std::vector<std::string>{"END", "\n\n"}));
  EXPECT_EQ(p->sampling.seed, -7);
  EXPECT_EQ(p->sampling.presence_penalty, -2.0);
  EXPECT_EQ(p->sampling.frequency_penalty, 1.5);

  auto one = Request(
      R"({"messages": [{"role": "user", "content": "hi"}], "stop": "Observation:", "temperature": 0})");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->sampling.stop, std::vector<std::string>{"Observation:"}) << "a single string";
  EXPECT_EQ(one->sampling.temperature, 0.0) << "zero is a temperature, not an absent one";
  EXPECT_FALSE(one->sampling.top_p.has_value());

  auto bounds = Request(R"({"messages": [{"role": "user", "content": "hi"}], "temperature": 2,
      "top_p": 0, "presence_penalty": 2, "frequency_penalty": -2, "stop": ["a", "b", "c", "d"]})");
  ASSERT_TRUE(bounds.ok()) << bounds.status().ToString();
  EXPECT_EQ(bounds->sampling.temperature, 2.0);
  EXPECT_EQ(bounds->sampling.stop.size(), 4u);

  auto none = Request(R"({"messages": [{"role": "user", "content": "hi"}], "temperature": null,
      "top_p": null, "stop": null, "seed": null, "presence_penalty": null, "frequency_penalty": null})");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->sampling, agent::Sampling{}) << "null is absent";
  auto absent = Request(R"({"messages": [{"role": "user", "content": "hi"}], "stop": []})");
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_EQ(absent->sampling, agent::Sampling{});
}

// Each sampling parameter out of OpenAI's bounds or of the wrong type: the parameter, and whether
// its type or its value was wrong.
TEST(OpenAiWireTest, SamplingParametersOutsideOpenAisBoundsAreRefusedNamingThem) {
  struct Case {
    std::string fields, param, code;
  };
  const std::vector<Case> cases = {
      {R"("temperature": "0.5")", "temperature", "invalid_type"},
      {R"("temperature": true)", "temperature", "invalid_type"},
      {R"("temperature": 3)", "temperature", "invalid_value"},
      {R"("temperature": 2.0001)", "temperature", "invalid_value"},
      {R"("temperature": -0.1)", "temperature", "invalid_value"},
      {R"("top_p": [1])", "top_p", "invalid_type"},
      {R"("top_p": 1.01)", "top_p", "invalid_value"},
      {R"("top_p": -1)", "top_p", "invalid_value"},
      {R"("presence_penalty": "high")", "presence_penalty", "invalid_type"},
      {R"("presence_penalty": 2.5)", "presence_penalty", "invalid_value"},
      {R"("frequency_penalty": -2.01)", "frequency_penalty", "invalid_value"},
      {R"("frequency_penalty": {})", "frequency_penalty", "invalid_type"},
      {R"("seed": 1.5)", "seed", "invalid_type"},
      {R"("seed": "7")", "seed", "invalid_type"},
      {R"("seed": 18446744073709551615)", "seed", "invalid_value"},
      {R"("stop": 5)", "stop", "invalid_type"},
      {R"("stop": {"a": 1})", "stop", "invalid_type"},
      {R"("stop": "")", "stop", "invalid_value"},
      {R"("stop": ["a", "b", "c", "d", "e"])", "stop", "invalid_value"},
      {R"("stop": ["a", 1])", "stop[1]", "invalid_type"},
      {R"("stop": ["a", null])", "stop[1]", "invalid_type"},
      {R"("stop": ["", "b"])", "stop[0]", "invalid_value"},
  };
  for (const auto& c : cases) {
    const std::string json =
        R"({"messages": [{"role": "user", "content": "hi"}], )" + c.fields + "}";
    auto p = Request(json);
    ASSERT_FALSE(p.ok()) << json;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << json;
    EXPECT_EQ(ParamOf(p.status()), c.param) << json;
    EXPECT_EQ(p.status().error_code(), c.code) << json;
    EXPECT_FALSE(p.status().message().empty()) << json;
  }
  EXPECT_EQ(ErrorResponse(Request(R"({"messages": [{"role": "user", "content": "hi"}],
      "temperature": 3})")
                              .status())
                .status,
            400);
}

// Every malformed request: the field the error names.
TEST(OpenAiWireTest, MalformedRequestsNameTheOffendingParameter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", "messages"},
      {R"({"messages": []})", "messages"},
      {R"({"messages": "hi"})", "messages"},
      {R"({"messages": [{"content": "hi"}]})", "messages[0].role"},
      {R"({"messages": [{"role": "function", "content": "hi"}]})", "messages[0].role"},
      {R"({"messages": [{"role": "user", "content": 42}]})", "messages[0].content"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})",
       "messages[0].content[0].type"},
      {R"({"messages": [{"role": "tool", "content": "x"}]})", "messages[0].tool_call_id"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f"}}]}]})",
       "messages[0].tool_calls[0].id"},
      {R"({"model": 5, "messages": [{"role": "user", "content": "hi"}]})", "model"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "retrieval"}]})",
       "tools[0].type"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "bad name"}}]})",
       "tools[0].function.name"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function", "function": {"name": "a"}},
          {"type": "function", "function": {"name": "a"}}]})",
       "tools[1].function.name"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "tool_choice": "always"})",
       "tool_choice"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "tool_choice": "required"})",
       "tool_choice"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0})", "max_tokens"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 1.5})",
       "max_completion_tokens"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "n": 2})", "n"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "stream": "yes"})", "stream"},
      {R"({"messages": [{"role": "user", "content": "hi"}], "stream_options": {"include_usage": 1}})",
       "stream_options.include_usage"},
  };
  for (const auto& [json, param] : cases) {
    auto p = Request(json);
    ASSERT_FALSE(p.ok()) << json;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << json;
    EXPECT_EQ(ParamOf(p.status()), param) << json;
  }
}

Result<ChatCompletionParams> WithResponseFormat(std::string_view response_format) {
  return Request(R"({"messages": [{"role": "user", "content": "hi"}], "response_format": )" +
                 std::string(response_format) + "}");
}

TEST(OpenAiWireTest, ResponseFormatTextOrAbsentAsksForNothingAndJsonObjectForAnObject) {
  for (std::string_view none : {"null", R"({"type": "text"})"}) {
    auto p = WithResponseFormat(none);
    ASSERT_TRUE(p.ok()) << none << ": " << p.status().ToString();
    EXPECT_FALSE(p->response_format.has_value()) << none;
  }
  auto absent = Request(R"({"messages": [{"role": "user", "content": "hi"}]})");
  EXPECT_FALSE(absent->response_format.has_value());

  auto object = WithResponseFormat(R"({"type": "json_object"})");
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  ASSERT_TRUE(object->response_format.has_value());
  EXPECT_EQ(object->response_format->kind, agent::ResponseFormat::Kind::kJsonObject);
}

TEST(OpenAiWireTest, AJsonSchemaResponseFormatKeepsItsNameDescriptionSchemaAndStrictness) {
  auto p = WithResponseFormat(R"({"type": "json_schema", "json_schema": {
      "name": "weather_Report-1", "description": "The weather", "strict": true,
      "schema": {"type": "object", "properties": {"city": {"type": "string"}},
                 "required": ["city"], "additionalProperties": false}}})");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(p->response_format.has_value());
  const agent::ResponseFormat& f = *p->response_format;
  EXPECT_EQ(f.kind, agent::ResponseFormat::Kind::kJsonSchema);
  EXPECT_EQ(f.name, "weather_Report-1");
  EXPECT_EQ(f.description, "The weather");
  EXPECT_EQ(f.strict, true);
  EXPECT_EQ(bj::parse(f.schema),
            bj::parse(R"({"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"], "additionalProperties": false})"));

  auto minimal = WithResponseFormat(R"({"type": "json_schema", "json_schema": {"name": "x"}})");
  ASSERT_TRUE(minimal.ok()) << minimal.status().ToString();
  EXPECT_EQ(bj::parse(minimal->response_format->schema), bj::parse(R"({"type": "object"})"))
      << "a default schema";
  EXPECT_EQ(minimal->response_format->description, "");
  EXPECT_FALSE(minimal->response_format->strict.has_value());
}

TEST(OpenAiWireTest, MalformedResponseFormatsNameTheOffendingParameter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("json")", "response_format"},
      {R"({})", "response_format.type"},
      {R"({"type": 1})", "response_format.type"},
      {R"({"type": "xml"})", "response_format.type"},
      {R"({"type": "json_schema"})", "response_format.json_schema"},
      {R"({"type": "json_schema", "json_schema": "weather"})", "response_format.json_schema"},
      {R"({"type": "json_schema", "json_schema": {}})", "response_format.json_schema.name"},
      {R"({"type": "json_schema", "json_schema": {"name": ""}})",
       "response_format.json_schema.name"},
      {R"({"type": "json_schema", "json_schema": {"name": "a b"}})",
       "response_format.json_schema.name"},
      {R"({"type": "json_schema", "json_schema": {"name": ")" + std::string(65, 'a') + R"("}})",
       "response_format.json_schema.name"},
      {R"({"type": "json_schema", "json_schema": {"name": 7}})",
       "response_format.json_schema.name"},
      {R"({"type": "json_schema", "json_schema": {"name": "w", "description": 3}})",
       "response_format.json_schema.description"},
      {R"({"type": "json_schema", "json_schema": {"name": "w", "schema": "object"}})",
       "response_format.json_schema.schema"},
      {R"({"type": "json_schema", "json_schema": {"name": "w", "schema": [1]}})",
       "response_format.json_schema.schema"},
      {R"({"type": "json_schema", "json_schema": {"name": "w", "strict": "yes"}})",
       "response_format.json_schema.strict"},
      // The answer is an object: a schema whose root is another type is refused here, not by
      // the upstream (a 502) or as a tool schema no provider takes.
      {R"({"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": "array"}}})",
       "response_format.json_schema.schema"},
      {R"({"type": "json_schema", "json_schema": {"name": "w", "schema": {"type": ["object"]}}})",
       "response_format.json_schema.schema"},
  };
  for (const auto& [format, param] : cases) {
    auto p = WithResponseFormat(format);
    ASSERT_FALSE(p.ok()) << format;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << format;
    EXPECT_EQ(ParamOf(p.status()), param) << format;
  }
  auto ok64 = WithResponseFormat(R"({"type": "json_schema", "json_schema": {"name": ")" +
                                 std::string(64, 'a') + R"("}})");
  EXPECT_TRUE(ok64.ok()) << "64 characters are allowed";
}

// Where the upstream has no JSON mode the answer is a tool named after the schema (json_answer
// for json_object): a client tool of that name would be taken for the answer, or sent twice.
TEST(OpenAiWireTest, AClientToolNamedLikeTheResponseFormatsAnswerIsRefused) {
  auto with = [](std::string_view tool, std::string_view format) {
    return Request(
        R"({"messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "function",)"
        R"("function": {"name": ")" +
        std::string(tool) + R"("}}], "response_format": )" + std::string(format) + "}");
  };
  const std::string weather = R"({"type": "json_schema", "json_schema": {"name": "weather"}})";
  auto clash = with("weather", weather);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(ParamOf(clash.status()), "response_format.json_schema.name");
  auto object = with("json_answer", R"({"type": "json_object"})");
  ASSERT_FALSE(object.ok());
  EXPECT_EQ(ParamOf(object.status()), "tools");
  EXPECT_TRUE(with("get_weather", weather).ok());
  EXPECT_TRUE(with("json_answer", weather).ok()) << "json_answer is only json_object's answer";
}

TEST(OpenAiWireTest, ACompletionHasOpenAisShape) {
  auto out = Outcome();
  out.turn.text = "Sunny.";
  out.turn.stop_reason = "end_turn";
  bj::object c = CompletionJson(out);
  EXPECT_EQ(c.at("id").as_string(), "chatcmpl-abc");
  EXPECT_EQ(c.at("object").as_string(), "chat.completion");
  EXPECT_EQ(c.at("created").as_int64(), 1'700'000'000);
  EXPECT_EQ(c.at("model").as_string(), "offline");
  const auto& choice = c.at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("index").as_int64(), 0);
  EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
  EXPECT_EQ(choice.at("message").at("role").as_string(), "assistant");
  EXPECT_EQ(choice.at("message").at("content").as_string(), "Sunny.");
  EXPECT_FALSE(choice.at("message").as_object().contains("tool_calls"));
  const auto& usage = c.at("usage").as_object();
  EXPECT_EQ(usage.at("prompt_tokens").as_int64(), 12)
      << "cached tokens are part of the prompt, as OpenAI counts";
  EXPECT_EQ(usage.at("completion_tokens").as_int64(), 5);
  EXPECT_EQ(usage.at("total_tokens").as_int64(), 17);
}

TEST(OpenAiWireTest, ToolCallsComeBackToTheClient) {
  auto out = Outcome();
  out.turn.tool_calls = {{"call_9", "get_current_weather", R"({"location":"Paris"})"}};
  out.turn.stop_reason = "tool_use";
  bj::object c = CompletionJson(out);
  const auto& choice = c.at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("finish_reason").as_string(), "tool_calls");
  EXPECT_TRUE(choice.at("message").at("content").is_null());
  const auto& call = choice.at("message").at("tool_calls").at(0).as_object();
  EXPECT_EQ(call.at("id").as_string(), "call_9");
  EXPECT_EQ(call.at("type").as_string(), "function");
  EXPECT_EQ(call.at("function").at("name").as_string(), "get_current_weather");
  EXPECT_EQ(call.at("function").at("arguments").as_string(), R"({"location":"Paris"})");
  agent::ModelTurn truncated;
  truncated.stop_reason = "max_tokens";
  EXPECT_EQ(FinishReason(truncated), "length");
}

// Every stop reason the providers report (our vocabulary: Bedrock's, which Anthropic's and
// OpenAI's map into) has OpenAI's nearest finish_reason, so a client of /v1 can tell an answer cut
// short or withheld from a finished one.
TEST(OpenAiWireTest, EveryStopReasonHasOpenAisNearestFinishReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"end_turn", "stop"},
      {"stop_sequence", "stop"},
      {"", "stop"},
      {"pause_turn", "stop"},
      {"max_tokens", "length"},
      {"model_context_window_exceeded", "length"},
      {"guardrail_intervened", "content_filter"},
      {"content_filtered", "content_filter"},
      {"content_filter", "content_filter"},  // an OpenAI-compatible upstream's, passed through
  };
  for (const auto& [reason, finish] : cases) {
    agent::ModelTurn turn;
    turn.stop_reason = reason;
    EXPECT_EQ(FinishReason(turn), finish) << reason;
  }
  agent::ModelTurn calls;
  calls.stop_reason = "tool_use";
  calls.tool_calls = {{"call_1", "get_current_weather", "{}"}};
  EXPECT_EQ(FinishReason(calls), "tool_calls");
}

TEST(OpenAiWireTest, StreamChunksFollowOpenAisIndexedFormat) {
  auto head = Outcome();
  bj::object role = RoleChunk(head);
  EXPECT_EQ(role.at("object").as_string(), "chat.completion.chunk");
  EXPECT_EQ(role.at("choices").at(0).at("delta").at("role").as_string(), "assistant");
  EXPECT_TRUE(role.at("choices").at(0).at("finish_reason").is_null());
  EXPECT_EQ(TextChunk(head, "Sun").at("choices").at(0).at("delta").at("content").as_string(),
            "Sun");

  auto chunks = ToolCallChunks(head, {{"call_a", "f", R"({"x":1})"}, {"call_b", "g", "{}"}});
  ASSERT_EQ(chunks.size(), 4u);
  const auto& open_b = chunks[2].at("choices").at(0).at("delta").at("tool_calls").at(0).as_object();
  EXPECT_EQ(open_b.at("index").as_int64(), 1);
  EXPECT_EQ(open_b.at("id").as_string(), "call_b");
  EXPECT_EQ(open_b.at("function").at("name").as_string(), "g");
  const auto& args_a = chunks[1].at("choices").at(0).at("delta").at("tool_calls").at(0).as_object();
  EXPECT_EQ(args_a.at("index").as_int64(), 0);
  EXPECT_FALSE(args_a.contains("id")) << "continuations carry only the index and the fragment";
  EXPECT_EQ(args_a.at("function").at("arguments").as_string(), R"({"x":1})");

  EXPECT_EQ(FinishChunk(head, "tool_calls").at("choices").at(0).at("finish_reason").as_string(),
            "tool_calls");
  bj::object usage = UsageChunk(head, head.turn.usage);
  EXPECT_TRUE(usage.at("choices").as_array().empty());
  EXPECT_EQ(usage.at("usage").at("total_tokens").as_int64(), 17);
}

TEST(OpenAiWireTest, ErrorsHaveOpenAisShapeAndStatus) {
  Status bad = Status::InvalidArgument("messages is required", "missing_field")
                   .WithDetail("param", "messages");
  bj::object e = ErrorJson(bad).at("error").as_object();
  EXPECT_EQ(e.at("message").as_string(), "messages is required");
  EXPECT_EQ(e.at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(e.at("param").as_string(), "messages");
  EXPECT_EQ(e.at("code").as_string(), "missing_field");

  http::Response r =
      ErrorResponse(Status::ResourceExhausted("daily limit", "quota_exceeded").WithRetryAfter(30));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.Get("retry-after"), "30");
  bj::object limited = bj::parse(r.body).at("error").as_object();
  EXPECT_EQ(limited.at("type").as_string(), "rate_limit_error");
  EXPECT_TRUE(limited.at("param").is_null());

  EXPECT_EQ(ErrorResponse(Status::Unauthenticated("no", "invalid_api_key")).status, 401);
  EXPECT_EQ(ErrorJson(Status::Unauthenticated("no", "invalid_api_key"))
                .at("error")
                .at("type")
                .as_string(),
            "authentication_error");
  EXPECT_EQ(ErrorResponse(Status::PermissionDenied("no", "model_not_allowed")).status, 403);
  bj::object internal =
      ErrorJson(Status::Internal("db path /secret/x failed")).at("error").as_object();
  EXPECT_EQ(internal.at("message").as_string(), "internal server error") << "internals never leak";
  EXPECT_EQ(internal.at("type").as_string(), "server_error");
}

TEST(OpenAiWireTest, ModelsAreListedInOpenAisListShape) {
  bj::object list = ModelListJson({"gpt-4o-mini", "offline"});
  EXPECT_EQ(list.at("object").as_string(), "list");
  ASSERT_EQ(list.at("data").as_array().size(), 2u);
  EXPECT_EQ(list.at("data").at(1).at("id").as_string(), "offline");
  EXPECT_EQ(list.at("data").at(1).at("object").as_string(), "model");
  EXPECT_EQ(list.at("data").at(1).at("owned_by").as_string(), "gatehouse");
}

}  // namespace
}  // namespace gh::api::openai
