// The parts of the Bedrock Runtime service model (bedrock-runtime 2023-09-30) the provider has to
// handle exhaustively: stop reasons, ConverseStream event and exception names, operation errors.
// bedrock_shapes_test.cc compares every list with the service model JSON, so a value AWS adds
// shows up as a failing test instead of an unhandled case in production.
//
// Values AWS adds after this model must still be tolerated at run time: ParseStopReason returns
// nullopt for an unknown reason, which the provider should treat as "stopped, reason unknown".
// Thread-safety: constants and pure functions only.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace gh::aws::bedrock {

// Signing name and endpoint prefix differ: sign with "bedrock", send to
// bedrock-runtime.{region}.amazonaws.com.
inline constexpr std::string_view kSigningName = "bedrock";
inline constexpr std::string_view kEndpointPrefix = "bedrock-runtime";

// StopReason enum, in the model's order.
enum class StopReason {
  kEndTurn,
  kToolUse,
  kMaxTokens,
  kStopSequence,
  kGuardrailIntervened,
  kContentFiltered,
  kMalformedModelOutput,
  kMalformedToolUse,
  kModelContextWindowExceeded,
};
inline constexpr std::array<std::string_view, 9> kStopReasons = {
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "guardrail_intervened",
    "content_filtered",
    "malformed_model_output",
    "malformed_tool_use",
    "model_context_window_exceeded",
};
std::optional<StopReason> ParseStopReason(std::string_view wire);
std::string_view StopReasonName(StopReason reason);

// ConverseStreamOutput members that are events (":message-type" = "event", ":event-type" = name).
inline constexpr std::array<std::string_view, 6> kConverseStreamEvents = {
    "messageStart",     "contentBlockStart", "contentBlockDelta",
    "contentBlockStop", "messageStop",       "metadata",
};

// ConverseStreamOutput members that are exceptions (":message-type" = "exception",
// ":exception-type" = name): they can arrive after HTTP 200, mid-stream.
inline constexpr std::array<std::string_view, 5> kConverseStreamExceptions = {
    "internalServerException", "modelStreamErrorException",   "validationException",
    "throttlingException",     "serviceUnavailableException",
};

// ContentBlockDelta union members (the payload of contentBlockDelta events).
inline constexpr std::array<std::string_view, 6> kContentBlockDeltaMembers = {
    "text", "toolUse", "toolResult", "reasoningContent", "citation", "image",
};

// ContentBlockStart union members.
inline constexpr std::array<std::string_view, 3> kContentBlockStartMembers = {
    "toolUse", "toolResult", "image"};

// Errors Converse and ConverseStream declare (x-amzn-ErrorType before the stream starts), with the
// HTTP status the model assigns them.
struct OperationError {
  std::string_view shape;
  int http_status;
};
inline constexpr std::array<OperationError, 9> kConverseErrors = {{
    {"AccessDeniedException", 403},
    {"ThrottlingException", 429},
    {"ResourceNotFoundException", 404},
    {"ModelTimeoutException", 408},
    {"InternalServerException", 500},
    {"ServiceUnavailableException", 503},
    {"ValidationException", 400},
    {"ModelNotReadyException", 429},
    {"ModelErrorException", 424},
}};

bool IsConverseStreamException(std::string_view exception_type);
// The declared HTTP status for a Converse / ConverseStream error shape name, nullopt if unknown.
std::optional<int> ConverseErrorHttpStatus(std::string_view shape);

}  // namespace gh::aws::bedrock
