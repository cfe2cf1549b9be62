// AnthropicModel: the Anthropic Messages API (POST {base_url}/v1/messages, streamed).
//
// Request: `anthropic-version` and `x-api-key` headers, `stream: true`, the system prompt as the
// top-level `system`, tools as {name, description, input_schema}, assistant tool calls as
// `tool_use` blocks and tool results as `tool_result` blocks in a user turn. Anthropic requires
// alternating roles, so consecutive tool results (and a user message right after them) merge into
// one user message (see GroupIntoAlternatingTurns). The client's sampling: temperature (at most 1)
// or top_p (see ClaudeTemperatureOrTopP), and stop as stop_sequences; no seed, no penalties.
// Response: the SSE events message_start, content_block_start / _delta / _stop, message_delta,
// message_stop, ping and error. Text deltas stream to ModelEvents as they arrive; tool calls are
// assembled from input_json_delta fragments per content block index. Usage: input_tokens is the
// uncached input as Anthropic reports it; cache_creation_input_tokens and cache_read_input_tokens
// go to cache_write_tokens / cache_read_tokens.
// Errors: non-2xx answers go through UpstreamError; an `error` event mid-stream (overloaded_error,
// rate_limit_error, api_error, ...) becomes the same Status a non-2xx answer of that kind would;
// a stream that ends without message_stop is "upstream_incomplete". The API key never appears in
// a Status message.
//
// Thread-safety: immutable after construction; Generate may run concurrently on any executor.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/model.h"
#include "common/secret.h"
#include "common/status.h"
#include "http/client.h"

namespace gh::models {

struct AnthropicOptions {
  std::string base_url = "https://api.anthropic.com";  // "/v1/messages" is appended
  Secret api_key;
  std::string anthropic_version = "2023-06-01";
  std::chrono::milliseconds timeout{60'000};        // connect + response headers
  std::chrono::milliseconds idle_timeout{120'000};  // between streamed chunks
};

class AnthropicModel final : public agent::Model {
 public:
  AnthropicModel(AnthropicOptions options, std::shared_ptr<http::HttpClient> client)
      : opt_(std::move(options)), client_(std::move(client)) {}
  std::string_view provider() const override { return "anthropic"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents& events) override;

 private:
  AnthropicOptions opt_;
  std::shared_ptr<http::HttpClient> client_;
};

// Exposed for tests: the JSON body sent upstream.
std::string BuildAnthropicRequestBody(const agent::ModelRequest& request, bool stream);

// Anthropic's stop_reason in our vocabulary: end_turn, tool_use, max_tokens and stop_sequence
// are kept; refusal becomes content_filtered; anything else is passed through.
std::string MapAnthropicStopReason(std::string_view stop_reason);

// The Status for an Anthropic error of `type` (e.g. "overloaded_error"), as returned in an
// `error` event or an error body.
Status AnthropicErrorStatus(std::string_view type, std::string_view message,
                            std::optional<int64_t> retry_after_seconds = std::nullopt);

}  // namespace gh::models
