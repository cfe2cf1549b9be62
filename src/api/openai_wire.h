// OpenAI's Chat Completions wire format, as Gatehouse serves it (/v1): parsing a request body into
// the domain's conversation and tools, and writing completions, stream chunks, model lists and
// errors in the shapes the official SDKs parse. Pure functions over values; no HTTP state.
//
// Accepted request fields: model, messages (system, developer, user, assistant with tool_calls,
// tool; content as a string, null, or text parts), tools (function tools), tool_choice ("auto",
// "none", "required", or a named function), max_tokens / max_completion_tokens, n (1 only), stream,
// stream_options.include_usage; the sampling parameters, checked against OpenAI's bounds and
// passed to the model (agent::Sampling; each provider sends those its upstream supports):
// temperature (0 to 2), top_p (0 to 1), presence_penalty and frequency_penalty (-2 to 2), seed (an
// integer), stop (a string or up to 4 non-empty strings); and response_format ({"type": "text"},
// {"type": "json_object"}, or {"type": "json_schema", "json_schema": {name, description?, schema?,
// strict?}}: the answer's content is then JSON of that shape, natively where the provider has a
// JSON mode and through a forced tool where it has none; a provider that can do neither answers
// 400). Other common fields (user, logit_bias, logprobs, ...) are accepted and ignored; Gatehouse
// names the end user to the upstream itself. An explicit null is the same as an absent field.
// Errors are InvalidArgument with a "param" detail naming the offending field, e.g.
// "messages[2].tool_call_id" or "response_format.json_schema.name", and the code "invalid_type"
// (wrong JSON type), "missing_field" or "invalid_value" (out of range).
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "agent/model.h"
#include "chat/chat_service.h"
#include "common/status.h"
#include "http/message.h"

namespace gh::api::openai {

namespace bj = boost::json;

struct ChatCompletionParams {
  std::optional<std::string> model;
  std::vector<agent::ChatMessage> messages;
  // The tools offered to the model: all of the request's, none for tool_choice "none", the named
  // one for a named tool_choice.
  std::vector<agent::ToolSpec> tools;
  bool tool_required = false;  // tool_choice "required" or a named function
  std::optional<agent::ResponseFormat> response_format;  // json_object or json_schema
  std::optional<int64_t> max_tokens;
  agent::Sampling sampling;
  bool stream = false;
  bool include_usage = false;
};

Result<ChatCompletionParams> ParseChatCompletionRequest(const bj::object& body);

// "stop", "tool_calls" or "length".
std::string FinishReason(const agent::ModelTurn& turn);
// {prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details: {cached_tokens}}:
// prompt tokens include cached ones, as OpenAI counts them.
bj::object UsageJson(const agent::Usage& usage);
// A `chat.completion` object.
bj::object CompletionJson(const chat::CompletionOutcome& outcome);

// `chat.completion.chunk` objects; `head` supplies id, model and created.
bj::object RoleChunk(const chat::CompletionOutcome& head);
bj::object TextChunk(const chat::CompletionOutcome& head, std::string_view text);
// Two chunks per call, in OpenAI's indexed format: {index, id, type, function: {name, arguments:
// ""}}, then {index, function: {arguments}}.
std::vector<bj::object> ToolCallChunks(const chat::CompletionOutcome& head,
                                       const std::vector<agent::ToolCall>& calls);
bj::object FinishChunk(const chat::CompletionOutcome& head, std::string_view finish_reason);
bj::object UsageChunk(const chat::CompletionOutcome& head, const agent::Usage& usage);

// {"object": "list", "data": [{id, object: "model", created, owned_by}]}
bj::object ModelJson(const std::string& name);
bj::object ModelListJson(const std::vector<std::string>& names);

// {"error": {message, type, param, code}} (internal errors never leak their message), and the
// response carrying it with the status that fits and Retry-After when the status has one.
bj::object ErrorJson(const Status& status);
http::Response ErrorResponse(const Status& status);

}  // namespace gh::api::openai
