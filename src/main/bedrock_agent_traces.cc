#include "main/bedrock_agent_traces.h"

#include <boost/json.hpp>

#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/strings.h"
#include "models/provider_common.h"
#include "observability/trace_context.h"

namespace gh::app {

namespace {

namespace bj = boost::json;
using models::ObjectMember;
using models::StringMember;

// At most kMaxAttributeBytes of `s`, never splitting a UTF-8 sequence.
std::string Bounded(std::string_view s) {
  if (s.size() <= kMaxAttributeBytes) return std::string(s);
  return std::string(s.substr(0, Utf8CutPoint(s, kMaxAttributeBytes))) + "\u2026";
}

// The first member of `o` that is an object, other than `metadata`: the kind of a TracePart's
// `trace` (a union), or the step of an orchestration, pre-/post-processing or routing trace (also
// unions). Guardrail and failure traces have none (their members are values, lists and metadata).
const bj::key_value_pair* UnionMember(const bj::object& o) {
  for (const auto& kv : o)
    if (kv.key() != "metadata" && kv.value().is_object()) return &kv;
  return nullptr;
}

void SetText(observability::Span& s, const char* key, const bj::object& o,
             std::string_view member) {
  std::string v = StringMember(o, member);
  if (!v.empty()) s.Set(key, Bounded(v));
}

}  // namespace

namespace {

observability::Span EventSpan(const models::BedrockAgentTrace& t, std::string span_id) {
  observability::Span s;
  s.tenant_id = t.context.tenant_id.value();
  s.user_id = t.context.user_id.value();
  s.session_id = t.context.session_id.value();
  s.trace_id = t.context.trace_id.value();
  s.span_id = std::move(span_id);
  if (auto parent = observability::ParseTraceparent(t.context.traceparent);
      parent && parent->trace_id == s.trace_id)
    s.parent_span_id = parent->span_id;
  s.name = std::string(observability::spans::kBedrockAgentTrace);
  s.kind = "internal";
  s.start_us = s.end_us = ToUnixMicros(t.received);
  s.Set("bedrock_agent.agent_id", t.agent_id)
      .Set("bedrock_agent.agent_alias_id", t.agent_alias_id)
      .Set("bedrock_agent.session_id", t.agent_session_id);

  boost::system::error_code ec;
  bj::value part = bj::parse(t.json, ec);
  if (ec || !part.is_object()) {  // the model hands over JSON objects only; kept readable anyway
    s.Set("bedrock_agent.detail", Bounded(t.json));
    return s;
  }
  const bj::object& p = part.get_object();
  SetText(s, "bedrock_agent.agent_version", p, "agentVersion");
  const bj::object* trace = ObjectMember(p, "trace");
  const bj::key_value_pair* kind = trace ? UnionMember(*trace) : nullptr;
  if (!kind) {
    s.Set("bedrock_agent.detail", Bounded(bj::serialize(p)));
    return s;
  }
  const std::string trace_type = Printable(kind->key(), 64);  // a key the upstream chose
  const bj::object& body = kind->value().get_object();
  s.Set("bedrock_agent.trace_type", trace_type);
  const bj::key_value_pair* step = UnionMember(body);
  const bj::object* step_body = step ? &step->value().get_object() : nullptr;
  if (step) s.Set("bedrock_agent.step_type", Printable(step->key(), 64));
  if (std::string id = StringMember(step_body ? *step_body : body, "traceId"); !id.empty())
    s.Set("bedrock_agent.step_trace_id", Bounded(id));

  if (step && step->key() == "modelInvocationOutput")
    if (const bj::object* meta = ObjectMember(*step_body, "metadata"))
      if (const bj::object* usage = ObjectMember(*meta, "usage")) {
        s.Set("bedrock_agent.usage.input_tokens", models::IntMember(*usage, "inputTokens"));
        s.Set("bedrock_agent.usage.output_tokens", models::IntMember(*usage, "outputTokens"));
      }
  if (step && step->key() == "rationale") SetText(s, "bedrock_agent.rationale", *step_body, "text");
  if (step && step->key() == "observation")
    SetText(s, "bedrock_agent.observation_type", *step_body, "type");
  if (step && step->key() == "invocationInput")
    SetText(s, "bedrock_agent.invocation_type", *step_body, "invocationType");
  if (trace_type == "guardrailTrace") SetText(s, "bedrock_agent.guardrail_action", body, "action");
  if (trace_type == "failureTrace") {
    s.error = true;
    s.status_message = "bedrock_agent_failure";
    SetText(s, "bedrock_agent.failure_reason", body, "failureReason");
  }
  s.Set("bedrock_agent.detail", Bounded(bj::serialize(step_body ? *step_body : body)));
  return s;
}

}  // namespace

observability::Span BedrockAgentTraceSpan(const models::BedrockAgentTrace& t, std::string span_id,
                                          const Status& outcome) {
  observability::Span s = EventSpan(t, std::move(span_id));
  if (!outcome.ok()) {
    if (!s.error) s.status_message = "bedrock_agent_call_failed";
    s.error = true;
    s.Set("bedrock_agent.call_error", Bounded(outcome.message()));
  }
  return s;
}

models::BedrockAgentTraceSink MakeBedrockAgentTraceSink(metering::Metering& metering) {
  return [&metering](std::vector<models::BedrockAgentTrace> traces, const Status& outcome) {
    std::vector<observability::Span> spans;
    spans.reserve(traces.size());
    for (const auto& t : traces) {
      if (t.context.trace_id.empty() || t.context.tenant_id.empty()) {
        log::Debug("bedrock agent trace event outside a metered turn: not recorded",
                   {{"agent_id", t.agent_id}});
        continue;
      }
      spans.push_back(
          BedrockAgentTraceSpan(t, observability::NewSpanId(metering.random()), outcome));
    }
    if (!spans.empty()) metering.RecordTurnSpans(std::move(spans));
  };
}

}  // namespace gh::app
