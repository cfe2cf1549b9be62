// BedrockAgentModel: an Amazon Bedrock Agent (InvokeAgent, bedrock-agent-runtime) as an
// alternative agent backend, called the way seed 004 calls it. It implements agent::Model so the
// agent loop can drive it: each Generate is one InvokeAgent call and returns a turn without tool
// calls (the Bedrock agent runs its own action groups), so the loop ends after it.
//
// Request: POST /agents/{agent_id}/agentAliases/{agent_alias_id}/sessions/{session id}/text,
// SigV4-signed (service "bedrock"), body {inputText, enableTrace, sessionState:
// {sessionAttributes, promptSessionAttributes}}:
//   inputText               the last user message (the agent keeps its own history per session;
//                           system prompts and earlier turns are not sent)
//   sessionAttributes       tenant_id, user_id, subscription_tier, organization_type, user_role
//   promptSessionAttributes request_type "agentic_query", enable_planning "true",
//                           tenant_context "{tenant_id} {organization_type} user",
//                           cost_tracking "enabled"
// Session id: AgentSessionId() below. request.model is ignored (one model object per agent alias).
// Response: an event stream of `chunk` events (base64 `bytes` of answer text, streamed to
// ModelEvents) and `trace` events (handed, raw, to the trace sink; in production
// main/bedrock_agent_traces.h records each as a span of the turn).
// Usage: the sum of modelInvocationOutput.metadata.usage over the traces; estimated when the
// agent sent none (enableTrace off). `returnControl` (an action group that wants the caller to
// act) is not supported and fails the turn ("agent_return_control_unsupported").
// Errors as BedrockModel's: HTTP and in-stream exceptions via AwsErrorStatus, corrupt frames.
//
// Thread-safety: immutable after construction; Generate may run concurrently. The trace sink is
// called on the executor running Generate, possibly concurrently for different turns, and must
// not block. The Clock is borrowed and must outlive the model.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/model.h"
#include "common/clock.h"
#include "http/client.h"
#include "models/aws_endpoint.h"

namespace gh::models {

// One `trace` event of an InvokeAgent answer.
struct BedrockAgentTrace {
  agent::TenantContext context;  // the turn it belongs to (tenant, user, session, trace id)
  std::string agent_id;          // the agent and alias called (as configured)
  std::string agent_alias_id;
  std::string agent_session_id;  // the sessionId sent to Bedrock
  std::string json;  // the TracePart exactly as received ({agentId, sessionId, trace, ...})
  Timestamp received;
};
// Takes an InvokeAgent call's trace events when the call ends, with how it ended: the events of
// a call that failed (which ResilientModel may then make again) are told apart from those of the
// call that answered. Not called for a call that produced no trace event.
using BedrockAgentTraceSink =
    std::function<void(std::vector<BedrockAgentTrace> traces, const Status& outcome)>;

struct BedrockAgentOptions {
  std::string agent_id;
  std::string agent_alias_id;
  AwsEndpointOptions endpoint;  // base_url empty = bedrock-agent-runtime.{region}
  bool enable_trace = true;
  // sessionAttributes.organization_type for this tenant (TenantContext has none); omitted when
  // empty, and tenant_context then reads "{tenant_id} user".
  std::string organization_type;
  BedrockAgentTraceSink trace_sink;  // optional
  // The first this many trace events of a call go to the sink (each becomes a span); the rest
  // are counted in a warning, so that a runaway orchestration cannot flood the trace store.
  size_t max_traces_per_turn = 256;
  std::chrono::milliseconds timeout{120'000};       // agents plan before answering
  std::chrono::milliseconds idle_timeout{120'000};  // between streamed chunks
};

class BedrockAgentModel final : public agent::Model {
 public:
  BedrockAgentModel(BedrockAgentOptions options, AwsEndpoint endpoint,
                    std::shared_ptr<http::HttpClient> client, const Clock& clock)
      : opt_(std::move(options)),
        endpoint_(std::move(endpoint)),
        client_(std::move(client)),
        clock_(clock) {}
  std::string_view provider() const override { return "bedrock-agent"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents& events) override;
  // No response_format: an agent answers in its own words (InvalidArgument, param
  // "response_format").
  Status Accepts(const agent::ModelRequest& request) const override;

 private:
  BedrockAgentOptions opt_;
  AwsEndpoint endpoint_;
  std::shared_ptr<http::HttpClient> client_;
  const Clock& clock_;
};

// Resolves credentials and region, checks agent_id / agent_alias_id are set, builds the model.
Result<std::shared_ptr<BedrockAgentModel>> MakeBedrockAgentModel(
    BedrockAgentOptions options, const aws::EnvironmentLookup& env,
    std::shared_ptr<http::HttpClient> client, const Clock& clock);

// The InvokeAgent session id: "{tenant_id}-{user_id}-{session_id}" (seed 004) when that fits the
// API's pattern [0-9a-zA-Z._:-]+ and 100 characters. Otherwise the disallowed characters become
// '_', the result is cut to 67 characters and "-" plus 32 hex digits of the SHA-256 of the
// original id are appended: still deterministic (one Gatehouse session = one agent session
// across turns), and distinct ids cannot collide on the sanitised form, which matters because
// the agent's memory is keyed by it.
std::string AgentSessionId(const agent::TenantContext& context);

// Exposed for tests: the InvokeAgent JSON body; InvalidArgument when there is no user message or
// it exceeds the API's 25,000 characters.
Result<std::string> BuildInvokeAgentRequestBody(const BedrockAgentOptions& options,
                                                const agent::ModelRequest& request);

}  // namespace gh::models
