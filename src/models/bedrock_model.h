// BedrockModel: Amazon Bedrock Runtime's Converse API, streamed (ConverseStream, the default) or
// not (Converse), for any model Bedrock serves (request.model is the model id, inference profile
// or ARN; a ':' is percent-encoded in the signed path).
//
// Requests are SigV4-signed (service "bedrock") with credentials resolved once through the AWS
// chain (explicit config, environment, shared credentials / config files; a session token is
// sent as x-amz-security-token), signed as of the injected Clock's time.
// Request JSON: messages of content blocks {text} / {toolUse} / {toolResult} in alternating roles
// (see GroupIntoAlternatingTurns), system: [{text}], inferenceConfig {maxTokens, and the client's
// temperature (at most 1) or topP, stopSequences; see ClaudeTemperatureOrTopP}, toolConfig.tools.
// ConverseStream answers application/vnd.amazon.eventstream, decoded incrementally with both CRCs
// checked; text deltas stream to ModelEvents as they arrive, tool input is assembled per content
// block, usage (input, output, cache read / write) comes from the metadata event.
// Stop reasons: every value of aws::bedrock::kStopReasons is handled (MapBedrockStopReason);
// malformed_model_output and malformed_tool_use fail the turn ("upstream_malformed_output").
// Errors: non-2xx answers and in-stream exception frames become the Status AwsErrorStatus
// documents; a corrupt frame is "eventstream_..." (BadGateway); a stream that ends before
// messageStop is "upstream_incomplete". Secrets never appear in a Status.
//
// Thread-safety: immutable after construction; Generate may run concurrently on any executor.
// The Clock is borrowed and must outlive the model.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "agent/model.h"
#include "common/clock.h"
#include "http/client.h"
#include "models/aws_endpoint.h"

namespace gh::models {

struct BedrockOptions {
  AwsEndpointOptions endpoint;  // region, credentials; base_url empty = bedrock-runtime.{region}
  bool stream = true;  // ConverseStream; false = Converse (the answer arrives as one delta)
  std::chrono::milliseconds timeout{60'000};        // connect + response headers
  std::chrono::milliseconds idle_timeout{120'000};  // between streamed chunks
};

class BedrockModel final : public agent::Model {
 public:
  BedrockModel(BedrockOptions options, AwsEndpoint endpoint,
               std::shared_ptr<http::HttpClient> client, const Clock& clock)
      : opt_(std::move(options)),
        endpoint_(std::move(endpoint)),
        client_(std::move(client)),
        clock_(clock) {}
  std::string_view provider() const override { return "bedrock"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents& events) override;
  const AwsEndpoint& endpoint() const { return endpoint_; }

 private:
  BedrockOptions opt_;
  AwsEndpoint endpoint_;
  std::shared_ptr<http::HttpClient> client_;
  const Clock& clock_;
};

// Resolves credentials and region (errors: the aws_* codes of aws::ResolveCredentials /
// ResolveRegion, "aws_endpoint_invalid") and builds the model.
Result<std::shared_ptr<BedrockModel>> MakeBedrockModel(BedrockOptions options,
                                                       const aws::EnvironmentLookup& env,
                                                       std::shared_ptr<http::HttpClient> client,
                                                       const Clock& clock);

// Exposed for tests: the Converse / ConverseStream JSON body (the model id is in the path).
std::string BuildConverseRequestBody(const agent::ModelRequest& request);

// A Bedrock stopReason in our vocabulary: end_turn, tool_use, max_tokens, stop_sequence,
// guardrail_intervened, content_filtered and model_context_window_exceeded are kept;
// malformed_model_output and malformed_tool_use are errors; an unknown value is passed through
// (stopped, reason unknown).
Result<std::string> MapBedrockStopReason(std::string_view stop_reason);

}  // namespace gh::models
