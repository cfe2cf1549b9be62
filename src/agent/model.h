// The model interface: one turn of a chat model, streamed. Providers (offline, OpenAI-compatible,
// Anthropic, Bedrock) implement Model; the agent loop drives them. Domain types only: no HTTP here.
// A Model is shared by all requests and must be safe to call concurrently.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/context.h"
#include "common/cancel.h"
#include "common/status.h"

namespace gh::agent {

template <typename T>
using Awaitable = boost::asio::awaitable<T>;

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments_json;  // a JSON object, as the model produced it
};

enum class Role { kSystem, kUser, kAssistant, kTool };
std::string_view RoleName(Role role);

struct ChatMessage {
  Role role = Role::kUser;
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant turns that asked for tools
  std::string tool_call_id;          // tool results: which call this answers
  std::string tool_name;             // tool results: which tool answered
  bool is_error = false;             // tool results: the tool failed
};

struct ToolSpec {
  std::string name;
  std::string description;
  std::string parameters_schema;  // JSON Schema of the arguments object
};

struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  Usage& operator+=(const Usage& o) {
    input_tokens += o.input_tokens;
    output_tokens += o.output_tokens;
    cache_read_tokens += o.cache_read_tokens;
    cache_write_tokens += o.cache_write_tokens;
    return *this;
  }
};

// How the client asked the model to sample, in OpenAI's terms and ranges (validated at the wire:
// temperature in [0, 2], top_p in [0, 1], penalties in [-2, 2], at most 4 non-empty stop
// sequences). Absent means the provider's default. Each provider sends what its upstream supports
// and drops the rest (see each provider). An answer ended by a stop sequence does not contain it.
struct Sampling {
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::vector<std::string> stop;  // empty: none
  std::optional<int64_t> seed;
  std::optional<double> presence_penalty;
  std::optional<double> frequency_penalty;
  bool operator==(const Sampling&) const = default;
};

// What shape the answer must take (OpenAI's `response_format`): any JSON object, or an instance of
// a JSON Schema. Providers without a JSON mode emulate it with a forced tool (see
// models::ResponseFormatTool).
struct ResponseFormat {
  enum class Kind { kJsonObject, kJsonSchema };
  Kind kind = Kind::kJsonObject;
  std::string name;                             // json_schema: [A-Za-z0-9_-]{1,64}
  std::string description;                      // json_schema: optional
  std::string schema = R"({"type":"object"})";  // json_schema: the JSON Schema, as JSON text
  std::optional<bool> strict;                   // json_schema: as the client gave it, if it did
  // The tool a provider without a JSON mode offers for the answer: the schema's name, or this.
  static constexpr char kJsonObjectTool[] = "json_answer";
  std::string AnswerToolName() const { return kind == Kind::kJsonObject ? kJsonObjectTool : name; }
};

struct ModelRequest {
  std::string model;  // provider's model id
  std::vector<ChatMessage> messages;
  std::vector<ToolSpec> tools;
  int64_t max_output_tokens = 1024;
  bool tool_required = false;  // the model must call one of `tools` (OpenAI tool_choice "required")
  Sampling sampling;
  // When set, the answer's text is JSON of that shape (json_object: an object; json_schema: an
  // instance of the schema); a provider that cannot honour it fails with InvalidArgument.
  std::optional<ResponseFormat> response_format;
  TenantContext context;
  CancelSignal* cancel = nullptr;  // optional: fires when the client went away
  // The caller passes text on as it is produced. When false (a client that wants the whole
  // answer), a provider may ask its upstream for the whole answer at once and report it to
  // OnTextDelta in one piece.
  bool stream = true;
};

struct ModelTurn {
  std::string text;
  std::vector<ToolCall> tool_calls;
  Usage usage;
  std::string stop_reason;  // end_turn | tool_use | max_tokens | ...
};

// Receives text as the model produces it. A non-OK return (the client went away) cancels the turn.
class ModelEvents {
 public:
  virtual ~ModelEvents() = default;
  virtual Awaitable<Status> OnTextDelta(std::string_view text) = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string_view provider() const = 0;
  virtual Awaitable<Result<ModelTurn>> Generate(const ModelRequest& request,
                                                ModelEvents& events) = 0;
  // Whether the model can serve a request of this shape at all (say, a response_format it cannot
  // honour): asked before a call is admitted, so what it could never serve is refused before
  // anything is charged or streamed. Generate refuses such a request all the same.
  virtual Status Accepts(const ModelRequest&) const { return Status::Ok(); }
};

// A rough token estimate (about four characters per token) for providers that report none.
int64_t EstimateTokens(std::string_view text);

}  // namespace gh::agent
