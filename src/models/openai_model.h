// OpenAiModel: any OpenAI-compatible Chat Completions server (OpenAI, llama.cpp, Ollama, vLLM,
// LiteLLM...). Streams with `stream: true` and `stream_options.include_usage`, assembles tool calls
// from their streamed fragments, and maps upstream failures to clear errors. The client's sampling
// (temperature, top_p, stop, seed, presence_penalty, frequency_penalty) is sent as given, absent
// fields not at all. Shared and concurrent.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include "agent/model.h"
#include "common/secret.h"
#include "http/client.h"

namespace gh::models {

struct OpenAiOptions {
  std::string base_url = "https://api.openai.com/v1";  // ".../v1"; /chat/completions is appended
  Secret api_key;
  std::chrono::milliseconds timeout{60'000};
};

class OpenAiModel final : public agent::Model {
 public:
  OpenAiModel(OpenAiOptions options, std::shared_ptr<http::HttpClient> client)
      : opt_(std::move(options)), client_(std::move(client)) {}
  std::string_view provider() const override { return "openai"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents& events) override;

 private:
  OpenAiOptions opt_;
  std::shared_ptr<http::HttpClient> client_;
};

// Exposed for tests: the JSON body sent upstream.
std::string BuildOpenAiRequestBody(const agent::ModelRequest& request, bool stream);
// Maps a non-2xx upstream answer to a Status (shared by providers). The upstream's message is
// quoted with every one of `secrets` in it replaced, before it is cut to length (a key cut in two
// would no longer be found).
Status UpstreamError(std::string_view provider, int status, std::string_view body,
                     std::optional<std::string_view> retry_after,
                     std::initializer_list<const Secret*> secrets = {});

}  // namespace gh::models
