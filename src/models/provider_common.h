// Helpers shared by the HTTP model providers (Anthropic, Bedrock, Bedrock Agents): turning the
// agent's conversation into the strictly alternating user / assistant turns those APIs require,
// reading loosely typed JSON without exceptions, and keeping secrets out of error messages.
// Pure functions over values; reentrant and safe from any thread.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/model.h"
#include "common/secret.h"
#include "common/status.h"

namespace gh::models {

// A whole (non-streamed) answer's response headers come only once the upstream has generated it,
// so the wait for them (a provider's `timeout`, meant for connect and headers) is at least this
// long then: the OpenAI SDK's default request timeout.
inline constexpr std::chrono::milliseconds kWholeAnswerTimeout{std::chrono::minutes(10)};
inline std::chrono::milliseconds HeadersTimeout(std::chrono::milliseconds timeout, bool stream) {
  return stream ? timeout : std::max(timeout, kWholeAnswerTimeout);
}

// One provider-side turn: user (user messages and tool results) or assistant. Borrows the
// messages of the conversation it was built from.
struct AlternatingTurn {
  agent::Role role = agent::Role::kUser;  // kUser or kAssistant only
  std::vector<const agent::ChatMessage*> parts;
};

struct AlternatingConversation {
  std::vector<std::string> system;  // every system message's text, in order
  std::vector<AlternatingTurn> turns;
};

// Groups a conversation for APIs that require alternating roles: system messages are set apart,
// tool results count as user input, consecutive messages of the same side merge into one turn,
// and within a user turn tool results come first (Anthropic requires it). Messages that would
// render as nothing (an empty user message, an empty assistant message without tool calls) are
// dropped before merging so they cannot break the alternation.
AlternatingConversation GroupIntoAlternatingTurns(const std::vector<agent::ChatMessage>& messages);

// The client's temperature and top_p as Anthropic's models take them (its Messages API, and
// Bedrock's Converse): temperature runs from 0 to 1 there (OpenAI's to 2), so a higher value is
// sent as 1; and only one of the two is sent, temperature when both were given: recent Claude
// models refuse both together, and Anthropic and OpenAI alike advise altering one, not both.
struct TemperatureOrTopP {
  std::optional<double> temperature;
  std::optional<double> top_p;
};
TemperatureOrTopP ClaudeTemperatureOrTopP(const agent::Sampling& sampling);

// Tool arguments as a JSON object: the parsed text when it is an object, else an empty object.
boost::json::object ArgumentsObject(std::string_view arguments_json);
// A tool's JSON Schema, or {"type":"object"} when it does not parse as an object.
boost::json::object SchemaObject(std::string_view schema_json);
// Integer member, 0 when absent or not a number.
int64_t IntMember(const boost::json::object& o, std::string_view key);
// String member, empty when absent or not a string.
std::string StringMember(const boost::json::object& o, std::string_view key);
// Object member, nullptr when absent or not an object.
const boost::json::object* ObjectMember(const boost::json::object& o, std::string_view key);

// For providers without a JSON mode (Anthropic, Bedrock Converse), response_format is emulated as
// LiteLLM does: one more tool whose input schema is the answer's, forced on the model; a call to it
// is the answer, its input the answer's JSON text. The tool: named after the json_schema (or
// "json_answer" for json_object), with its description (or a default) and its schema. Null when
// the request has no response_format, and when it requires a call to one of the client's tools
// (tool_required): the answer is then asked for on a later call.
std::optional<agent::ToolSpec> ResponseFormatTool(const agent::ModelRequest& request);

// Follows one model turn of a provider that emulates response_format with ResponseFormatTool, so
// that the client's content is the answer's JSON and nothing else. The provider feeds it the turn's
// blocks in order (text as it comes, each tool-use block as it begins) and passes on, and appends
// to the turn's text, what it returns. Without response_format it is transparent: text passes at
// once. With it, text is held back: models (Amazon Nova's <thinking>, a Claude preamble) often
// write some before calling the tool, and it would corrupt the JSON. When the model calls the
// answer tool the held text is dropped (and so is any text after it); when it calls a real tool, or
// the turn ends, the text held so far is released (ReleaseText). Only the first call to the answer
// tool is the answer; later ones are dropped. One per turn; not thread-safe.
class AnswerToolTracker {
 public:
  // What a tool-use block is: a real tool's call, the answer, or a later call to the answer tool.
  enum class ToolUse { kReal, kAnswer, kExtraAnswer };

  explicit AnswerToolTracker(const agent::ModelRequest& request);

  // A tool-use block named `name` begins. After a kReal, the caller releases the held text.
  ToolUse OnToolUse(std::string_view name);
  // Text of the turn: returns what to pass on now (all of it, or nothing while held or dropped).
  std::string OnText(std::string_view text);
  // The text held so far (empty once the model has answered through the tool), no longer held.
  std::string ReleaseText();
  // The turn's stop reason for the caller: "tool_use" becomes "end_turn" when the model's only
  // tool call was the answer (no real tool call surfaced).
  std::string StopReason(std::string stop_reason, bool surfaced_tool_calls) const;

 private:
  std::string answer_tool_;  // empty: the request has no response_format
  bool answered_ = false;
  std::string held_;
};

// "https://x/v1/" -> "https://x/v1".
std::string TrimTrailingSlashes(std::string url);

// Replaces every occurrence of each non-empty secret with "[redacted]".
std::string RedactSecrets(std::string text, std::initializer_list<const Secret*> secrets);

// The same status (code, error code, retry-after, details) with another message.
Status WithMessage(const Status& status, std::string message);

// Collects a whole (non-streamed) answer's body as it arrives: an answer over `max_bytes` is an
// error (upstream_too_large) that stops the transfer.
Status AppendWholeAnswer(std::string& whole, std::string_view chunk, size_t max_bytes,
                         std::string_view provider);

}  // namespace gh::models
