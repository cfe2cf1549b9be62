// Span: one timed operation of a trace (the request, a filter, a model call, a tool call, an
// authorization decision...), attributed to a tenant and user, with the cost directly incurred by
// it (so the costs of a trace's spans add up to the trace's cost, without double counting). Plain
// value; the trace store, the OTLP exporter and the trace API all read it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gh::observability {

using AttributeValue = std::variant<std::string, int64_t, bool, double>;

// Span names used by Gatehouse (the trace API and the tests rely on them).
namespace spans {
inline constexpr std::string_view kAuthenticate = "authenticate";
inline constexpr std::string_view kTenant = "tenant";
inline constexpr std::string_view kLimits = "limits";
inline constexpr std::string_view kChat = "chat";
inline constexpr std::string_view kModelCall = "model_call";
inline constexpr std::string_view kToolCall = "tool_call";
inline constexpr std::string_view kAuthorization = "authorization";
inline constexpr std::string_view kApprovalWait = "approval_wait";
// One `trace` event of a Bedrock agent's InvokeAgent answer (a step of the agent's own
// orchestration: its rationale, an action group call, a model invocation...), under the turn.
inline constexpr std::string_view kBedrockAgentTrace = "bedrock_agent.trace";
}  // namespace spans

struct Span {
  std::string tenant_id;  // empty until known (a request refused before authentication)
  std::string user_id;
  std::string session_id;
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;  // empty for a root span
  std::string name;
  std::string kind = "internal";  // server | client | internal
  int64_t start_us = 0;           // unix microseconds
  int64_t end_us = 0;
  bool error = false;
  std::string status_message;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  int64_t cost_micros = 0;

  Span& Set(std::string key, AttributeValue value) {
    attributes.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  // (A string literal would otherwise become a bool.)
  Span& Set(std::string key, const char* value) {
    return Set(std::move(key), AttributeValue(std::string(value)));
  }
};

// The attributes as a JSON object text.
std::string AttributesJson(const Span& span);

}  // namespace gh::observability
