// Bedrock agent traces as spans. With enableTrace, an InvokeAgent answer interleaves `trace`
// events with its text, each one step of the agent's own orchestration (its rationale, an action
// group call and what came back, a model invocation and its tokens, a guardrail's intervention, a
// failure). Each becomes a `bedrock_agent.trace` span of the turn that called the agent, stored
// with the turn's spans, so GET /api/tenants/{id}/traces/{trace_id} shows what the agent did.
//
// The span: kind internal, instant (start = end = when the event arrived: the events carry no
// duration; they are recorded together when the call ends), parent = the turn's `chat` span (the
// span the context's traceparent names), tenant, user and session from the context, no cost (the
// call's tokens are priced once, on the model_call span). Attributes, each present only when the
// event has it:
//   bedrock_agent.agent_id, .agent_alias_id  the agent called (as configured)
//   bedrock_agent.session_id                 the InvokeAgent session id
//   bedrock_agent.agent_version
//   bedrock_agent.trace_type      the TracePart's kind: orchestrationTrace, preProcessingTrace,
//                                 postProcessingTrace, routingClassifierTrace, guardrailTrace,
//                                 failureTrace, customOrchestrationTrace...
//   bedrock_agent.step_type       the step inside it: rationale, invocationInput, observation,
//                                 modelInvocationInput, modelInvocationOutput (none in a
//                                 guardrail or failure trace)
//   bedrock_agent.step_trace_id   Bedrock's traceId, shared by the events of one step
//   bedrock_agent.usage.input_tokens, .output_tokens   modelInvocationOutput.metadata.usage (not
//                                 gen_ai.usage.*: the model_call span already counts them, and
//                                 summing both would count them twice)
//   bedrock_agent.rationale, .observation_type, .invocation_type, .guardrail_action,
//   bedrock_agent.failure_reason  (a failureTrace also marks the span as an error)
//   bedrock_agent.detail          the step (or the trace, when it has no step) as JSON
//   bedrock_agent.call_error      when the InvokeAgent call the event came in failed afterwards
//                                 (an in-stream exception, a broken stream, a client that left):
//                                 why; the span is then an error, with status message
//                                 "bedrock_agent_call_failed" unless a failureTrace set its own.
//                                 A call retried after such a failure records its own events, so
//                                 a turn's trace shows the failed attempt's steps apart from those
//                                 of the attempt that answered.
// Text values are cut to kMaxAttributeBytes on a UTF-8 boundary ("…" appended): a step holds whole
// prompts and model answers. A trace event holds no credentials (they only sign the request).
//
// Thread-safety: pure functions; the sink may be called from any thread, concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "metering/metering.h"
#include "models/bedrock_agent.h"
#include "observability/span.h"

namespace gh::app {

inline constexpr size_t kMaxAttributeBytes = 1024;

// The span for one trace event, with the given span id, of a call that ended with `outcome`.
observability::Span BedrockAgentTraceSpan(const models::BedrockAgentTrace& trace,
                                          std::string span_id, const Status& outcome);

// A sink recording a call's trace events as spans through Metering::RecordTurnSpans: with the
// request's spans while the request is in flight, else on its own, as a turn records its spans.
// An event of a turn with no trace id or tenant (not a metered turn) has nowhere to go and is
// dropped with a debug log line. `metering` is borrowed and must outlive the models using the sink.
models::BedrockAgentTraceSink MakeBedrockAgentTraceSink(metering::Metering& metering);

}  // namespace gh::app
