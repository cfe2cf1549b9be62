#include "main/bedrock_agent_traces.h"

#include <gtest/gtest.h>

#include <map>

#include "observability/trace_context.h"

namespace gh::app {
namespace {

namespace obs = gh::observability;

constexpr char kTrace[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kChatSpan[] = "00f067aa0ba902b7";

models::BedrockAgentTrace Event(std::string trace_json) {
  models::BedrockAgentTrace t;
  t.context.tenant_id = TenantId("acme-corp");
  t.context.user_id = UserId("user-123");
  t.context.session_id = SessionId("sess-1");
  t.context.trace_id = TraceId(kTrace);
  t.context.traceparent = obs::FormatTraceparent({kTrace, kChatSpan, true});
  t.agent_id = "AGENT1";
  t.agent_alias_id = "ALIAS1";
  t.agent_session_id = "acme-corp-user-123-sess-1";
  t.received = FromUnixMillis(1'700'000'000'000) + std::chrono::microseconds(123);
  t.json = R"({"agentId":"AGENT1","agentAliasId":"ALIAS1","agentVersion":"3",)"
           R"("sessionId":"acme-corp-user-123-sess-1","trace":)" +
           trace_json + "}";
  return t;
}

std::map<std::string, obs::AttributeValue> Attributes(const obs::Span& s) {
  return {s.attributes.begin(), s.attributes.end()};
}

std::string Text(const std::map<std::string, obs::AttributeValue>& a, const std::string& key) {
  auto it = a.find(key);
  if (it == a.end() || !std::holds_alternative<std::string>(it->second)) return "<absent>";
  return std::get<std::string>(it->second);
}

TEST(BedrockAgentTracesTest, AModelInvocationOutputIsASpanOfTheTurnWithItsStepAndTokens) {
  obs::Span s = BedrockAgentTraceSpan(
      Event(R"({"orchestrationTrace":{"modelInvocationOutput":{"traceId":"t-7",)"
            R"("rawResponse":{"content":"thinking..."},)"
            R"("metadata":{"usage":{"inputTokens":812,"outputTokens":64}}}}})"),
      "1234567890abcdef", Status::Ok());
  EXPECT_EQ(s.name, "bedrock_agent.trace");
  EXPECT_EQ(s.kind, "internal");
  EXPECT_EQ(s.tenant_id, "acme-corp");
  EXPECT_EQ(s.user_id, "user-123");
  EXPECT_EQ(s.session_id, "sess-1");
  EXPECT_EQ(s.trace_id, kTrace);
  EXPECT_EQ(s.span_id, "1234567890abcdef");
  EXPECT_EQ(s.parent_span_id, kChatSpan) << "under the turn's span, named by the traceparent";
  EXPECT_EQ(s.start_us, 1'700'000'000'000'123) << "when the event arrived";
  EXPECT_EQ(s.end_us, s.start_us);
  EXPECT_FALSE(s.error);
  EXPECT_EQ(s.cost_micros, 0) << "the tokens are priced on the model_call span";
  auto a = Attributes(s);
  EXPECT_EQ(Text(a, "bedrock_agent.trace_type"), "orchestrationTrace");
  EXPECT_EQ(Text(a, "bedrock_agent.step_type"), "modelInvocationOutput");
  EXPECT_EQ(Text(a, "bedrock_agent.step_trace_id"), "t-7");
  EXPECT_EQ(Text(a, "bedrock_agent.agent_id"), "AGENT1");
  EXPECT_EQ(Text(a, "bedrock_agent.agent_alias_id"), "ALIAS1");
  EXPECT_EQ(Text(a, "bedrock_agent.agent_version"), "3");
  EXPECT_EQ(Text(a, "bedrock_agent.session_id"), "acme-corp-user-123-sess-1");
  EXPECT_EQ(std::get<int64_t>(a.at("bedrock_agent.usage.input_tokens")), 812);
  EXPECT_EQ(std::get<int64_t>(a.at("bedrock_agent.usage.output_tokens")), 64);
  EXPECT_NE(Text(a, "bedrock_agent.detail").find("thinking..."), std::string::npos);
  EXPECT_FALSE(a.count("gen_ai.usage.input_tokens")) << "not counted twice with model_call";
}

TEST(BedrockAgentTracesTest, LongTextIsCutToAKilobyteWithoutSplittingACharacter) {
  // 1023 ASCII bytes, then two-byte characters: byte 1024 falls inside the first "é".
  std::string long_text = std::string(1023, 'r');
  for (int i = 0; i < 600; ++i) long_text += "\xc3\xa9";
  obs::Span s = BedrockAgentTraceSpan(
      Event(R"({"orchestrationTrace":{"rationale":{"traceId":"t-1","text":")" + long_text +
            R"("}}})"),
      "1234567890abcdef", Status::Ok());
  auto a = Attributes(s);
  EXPECT_EQ(Text(a, "bedrock_agent.step_type"), "rationale");
  EXPECT_EQ(Text(a, "bedrock_agent.rationale"), std::string(1023, 'r') + "\u2026");
  const std::string detail = Text(a, "bedrock_agent.detail");
  EXPECT_LE(detail.size(), kMaxAttributeBytes + 3);
  EXPECT_EQ(detail.rfind("\u2026"), detail.size() - 3);
  for (const auto& [key, value] : s.attributes) {
    if (std::holds_alternative<std::string>(value)) {
      EXPECT_LE(std::get<std::string>(value).size(), kMaxAttributeBytes + 3) << key;
    }
  }
}

TEST(BedrockAgentTracesTest, FailureAndGuardrailTracesHaveNoStepAndSayWhatHappened) {
  obs::Span failure = BedrockAgentTraceSpan(
      Event(R"({"failureTrace":{"traceId":"t-9","failureReason":"Lambda timed out",)"
            R"("metadata":{"totalTimeMs":3000}}})"),
      "1234567890abcdef", Status::Ok());
  auto a = Attributes(failure);
  EXPECT_TRUE(failure.error);
  EXPECT_EQ(failure.status_message, "bedrock_agent_failure");
  EXPECT_EQ(Text(a, "bedrock_agent.trace_type"), "failureTrace");
  EXPECT_EQ(Text(a, "bedrock_agent.step_type"), "<absent>");
  EXPECT_EQ(Text(a, "bedrock_agent.failure_reason"), "Lambda timed out");
  EXPECT_EQ(Text(a, "bedrock_agent.step_trace_id"), "t-9");

  obs::Span guardrail =
      BedrockAgentTraceSpan(Event(R"({"guardrailTrace":{"action":"INTERVENED","traceId":"t-2",)"
                                  R"("inputAssessments":[{"topicPolicy":{}}],"metadata":{}}})"),
                            "1234567890abcdef", Status::Ok());
  auto g = Attributes(guardrail);
  EXPECT_FALSE(guardrail.error);
  EXPECT_EQ(Text(g, "bedrock_agent.trace_type"), "guardrailTrace");
  EXPECT_EQ(Text(g, "bedrock_agent.step_type"), "<absent>");
  EXPECT_EQ(Text(g, "bedrock_agent.guardrail_action"), "INTERVENED");
}

TEST(BedrockAgentTracesTest, WithoutAUsableTraceparentTheSpanHasNoParentRatherThanAWrongOne) {
  models::BedrockAgentTrace t =
      Event(R"({"preProcessingTrace":{"modelInvocationInput":{"traceId":"t-3","text":"p"}}})");
  t.context.traceparent = obs::FormatTraceparent({std::string(32, 'b'), kChatSpan, true});
  obs::Span s = BedrockAgentTraceSpan(t, "1234567890abcdef", Status::Ok());
  EXPECT_EQ(s.parent_span_id, "") << "a traceparent of another trace names no span of this one";
  EXPECT_EQ(Text(Attributes(s), "bedrock_agent.step_type"), "modelInvocationInput");
}

TEST(BedrockAgentTracesTest, TheEventsOfACallThatFailedAfterwardsAreErrorsThatSayWhy) {
  const Status failed =
      Status::BadGateway("bedrock agent stream exception (throttlingException): Rate exceeded",
                         "upstream_rate_limited");
  obs::Span step = BedrockAgentTraceSpan(
      Event(R"({"orchestrationTrace":{"rationale":{"traceId":"t-1","text":"look it up"}}})"),
      "1234567890abcdef", failed);
  EXPECT_TRUE(step.error);
  EXPECT_EQ(step.status_message, "bedrock_agent_call_failed");
  auto a = Attributes(step);
  EXPECT_EQ(Text(a, "bedrock_agent.call_error"), failed.message());
  EXPECT_EQ(Text(a, "bedrock_agent.rationale"), "look it up") << "what the step was is kept";

  // A failure trace keeps its own status message.
  obs::Span failure = BedrockAgentTraceSpan(
      Event(R"({"failureTrace":{"traceId":"t-9","failureReason":"Lambda timed out"}})"),
      "1234567890abcdef", failed);
  EXPECT_EQ(failure.status_message, "bedrock_agent_failure");
  EXPECT_EQ(Text(Attributes(failure), "bedrock_agent.call_error"), failed.message());

  obs::Span answered = BedrockAgentTraceSpan(
      Event(R"({"orchestrationTrace":{"rationale":{"traceId":"t-1","text":"x"}}})"),
      "1234567890abcdef", Status::Ok());
  EXPECT_FALSE(answered.error);
  EXPECT_EQ(Text(Attributes(answered), "bedrock_agent.call_error"), "<absent>");
}

}  // namespace
}  // namespace gh::app
