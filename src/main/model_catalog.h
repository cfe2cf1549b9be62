// The model catalog (models.catalog.<name>.*) turned into registered models: each entry becomes
// its provider's model (OpenAI-compatible, Anthropic, Bedrock Converse, a Bedrock Agent, or the
// offline model) wrapped in a ResilientModel that applies the entry's retry policy, registered
// under the entry's name with the entry's provider model id.
// Called once at start-up by Serve; the registry is read-only afterwards.
#pragma once

#include <memory>

#include "agent/model_registry.h"
#include "aws/credentials.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/status.h"
#include "http/client.h"
#include "main/config.h"
#include "models/bedrock_agent.h"

namespace gh::app {

// Errors name the catalog key at fault (invalid_config): start-up stops with exit code 2.
// `client`, `clock` and `random` are borrowed for the life of the registered models.
// `agent_traces` receives the trace events of every bedrock_agent entry (empty: they are dropped;
// Serve passes MakeBedrockAgentTraceSink, which records them as spans).
Status RegisterCatalogModels(const Config& config, agent::ModelRegistry& registry,
                             std::shared_ptr<http::HttpClient> client, const Clock& clock,
                             Random& random, const aws::EnvironmentLookup& env,
                             const models::BedrockAgentTraceSink& agent_traces);

// The legacy OpenAI-compatible model (models.openai.*, OPENAI_BASE_URL), when one is configured:
// registered under its model name and retried like a catalog entry, with the default policy.
void RegisterOpenAiModel(const Config& config, agent::ModelRegistry& registry,
                         std::shared_ptr<http::HttpClient> client, Random& random);

}  // namespace gh::app
