#include "main/model_catalog.h"

#include <fmt/format.h>

#include "models/anthropic_model.h"
#include "models/bedrock_agent.h"
#include "models/bedrock_model.h"
#include "models/offline_model.h"
#include "models/openai_model.h"
#include "models/resilient_model.h"

namespace gh::app {

namespace {

Status Bad(const std::string& key, const std::string& what) {
  return Status::InvalidArgument(fmt::format("config key '{}': {}", key, what), "invalid_config");
}

models::AwsEndpointOptions AwsOptions(const ModelCatalogEntry& e) {
  models::AwsEndpointOptions o;
  o.aws = {e.aws_access_key_id, e.aws_secret_access_key,       e.aws_session_token, e.region,
           e.aws_profile,       e.aws_shared_credentials_file, e.aws_config_file};
  o.base_url = e.base_url;
  return o;
}

Result<std::shared_ptr<agent::Model>> BuildProvider(const Config& config,
                                                    const ModelCatalogEntry& e,
                                                    std::shared_ptr<http::HttpClient> client,
                                                    const Clock& clock,
                                                    const aws::EnvironmentLookup& env,
                                                    const models::BedrockAgentTraceSink& traces) {
  const std::string at = "models.catalog." + e.name;
  if (e.provider == "offline")
    return std::shared_ptr<agent::Model>(
        std::make_shared<models::OfflineModel>(config.offline_token_delay));
  if (e.provider == "openai") {
    models::OpenAiOptions o;
    if (!e.base_url.empty()) o.base_url = e.base_url;
    o.api_key = e.api_key;
    o.timeout = e.timeout;
    return std::shared_ptr<agent::Model>(
        std::make_shared<models::OpenAiModel>(std::move(o), std::move(client)));
  }
  if (e.provider == "anthropic") {
    models::AnthropicOptions o;
    if (!e.base_url.empty()) o.base_url = e.base_url;
    o.api_key = e.api_key;
    o.timeout = e.timeout;
    return std::shared_ptr<agent::Model>(
        std::make_shared<models::AnthropicModel>(std::move(o), std::move(client)));
  }
  if (e.provider == "bedrock") {
    models::BedrockOptions o;
    o.endpoint = AwsOptions(e);
    o.timeout = e.timeout;
    auto endpoint = models::AwsEndpoint::Resolve(o.endpoint, "bedrock-runtime", "bedrock", env);
    if (!endpoint.ok()) return Bad(at, endpoint.status().message());
    return std::shared_ptr<agent::Model>(std::make_shared<models::BedrockModel>(
        std::move(o), std::move(endpoint).value(), std::move(client), clock));
  }
  if (e.provider == "bedrock_agent") {
    models::BedrockAgentOptions o;
    o.agent_id = e.agent_id;
    o.agent_alias_id = e.agent_alias_id;
    o.organization_type = e.organization_type;
    o.trace_sink = traces;
    o.endpoint = AwsOptions(e);
    o.timeout = e.timeout;
    auto endpoint =
        models::AwsEndpoint::Resolve(o.endpoint, "bedrock-agent-runtime", "bedrock", env);
    if (!endpoint.ok()) return Bad(at, endpoint.status().message());
    return std::shared_ptr<agent::Model>(std::make_shared<models::BedrockAgentModel>(
        std::move(o), std::move(endpoint).value(), std::move(client), clock));
  }
  return Bad(at + ".provider", "must be offline, openai, anthropic, bedrock or bedrock_agent");
}

// Registers `provider` under `name`, retried with `retry` (ResilientModel).
void AddRetried(agent::ModelRegistry& registry, const std::string& name,
                const std::string& model_id, std::shared_ptr<agent::Model> provider,
                const models::RetryPolicy& retry, Random& random) {
  models::ResilientModelOptions o;
  o.chain.push_back({name, model_id, std::move(provider)});
  o.retry = retry;
  registry.Add({name, model_id, std::make_shared<models::ResilientModel>(std::move(o), random)});
}

}  // namespace

Status RegisterCatalogModels(const Config& config, agent::ModelRegistry& registry,
                             std::shared_ptr<http::HttpClient> client, const Clock& clock,
                             Random& random, const aws::EnvironmentLookup& env,
                             const models::BedrockAgentTraceSink& agent_traces) {
  for (const auto& [name, e] : config.model_catalog) {
    GH_ASSIGN_OR_RETURN(std::shared_ptr<agent::Model> provider,
                        BuildProvider(config, e, client, clock, env, agent_traces));
    models::RetryPolicy retry;
    retry.max_attempts = e.retry_max_attempts;
    retry.initial_backoff = e.retry_initial_backoff;
    retry.max_backoff = e.retry_max_backoff;
    retry.max_retry_after = e.retry_max_retry_after;
    AddRetried(registry, name, e.model, std::move(provider), retry, random);
  }
  return Status::Ok();
}

void RegisterOpenAiModel(const Config& config, agent::ModelRegistry& registry,
                         std::shared_ptr<http::HttpClient> client, Random& random) {
  if (config.openai_base_url.empty()) return;
  AddRetried(
      registry, config.openai_model, config.openai_model,
      std::make_shared<models::OpenAiModel>(
          models::OpenAiOptions{config.openai_base_url, config.openai_api_key}, std::move(client)),
      models::RetryPolicy{}, random);
}

}  // namespace gh::app
