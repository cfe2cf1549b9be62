// Config: every setting of `gatehouse serve`, from (lowest to highest precedence) built-in
// defaults, a YAML file, GATEHOUSE_* environment variables, and command-line flags. Loading
// validates everything; an error names the key and what is wrong (the binary exits with code 2).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/secret.h"
#include "common/status.h"
#include "metering/metering.h"
#include "metering/price_catalog.h"
#include "tenancy/plan.h"

namespace gh::app {

// One model of the catalog (models.catalog.<name>.<field>): a provider, the provider's model id,
// where and as whom to call it, and the timeout and retries its ResilientModel applies.
struct ModelCatalogEntry {
  std::string name;      // what plans and clients say
  std::string provider;  // offline | openai | anthropic | bedrock | bedrock_agent
  std::string model;     // the provider's model id (default: the name)
  std::string base_url;  // empty: the provider's public endpoint
  Secret api_key;        // openai, anthropic (also GATEHOUSE_MODELS_CATALOG_<NAME>_API_KEY)
  // bedrock, bedrock_agent: anything unset comes from the AWS environment and shared files.
  std::optional<std::string> region;
  std::optional<std::string> aws_access_key_id;
  std::optional<Secret> aws_secret_access_key;
  std::optional<Secret> aws_session_token;
  std::optional<std::string> aws_profile;
  std::optional<std::string> aws_shared_credentials_file;
  std::optional<std::string> aws_config_file;
  std::string agent_id, agent_alias_id;  // bedrock_agent
  // bedrock_agent: sessionAttributes.organization_type and the tenant_context prompt attribute
  // (seed 004). An entry serves the tenants whose plans allow it, so an organisation type per
  // tenant or plan is one entry per type, named in those plans' allowed_models / default_model.
  // Empty: not sent.
  std::string organization_type;
  std::chrono::milliseconds timeout{60'000};
  int retry_max_attempts = 3;
  std::chrono::milliseconds retry_initial_backoff{500};
  std::chrono::milliseconds retry_max_backoff{8'000};
  std::chrono::milliseconds retry_max_retry_after{20'000};
};

struct Config {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8000;
  std::filesystem::path data_dir = "./data";
  std::string database_url;  // empty: SQLite at <data_dir>/gatehouse.db; or postgres://...
  int64_t database_pool_size = 8;
  bool demo = false;
  std::string log_level = "info";
  std::string issuer;  // default: http://<listen>
  std::optional<Secret> master_key;

  int threads = 0;
  size_t max_body_bytes = 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{30'000};
  std::chrono::milliseconds sse_keepalive{15'000};
  // Tenant rows, user caps, tenant settings and resolved API keys are cached this long; changes
  // made on another replica on the same PostgreSQL database are announced and forgotten at once.
  std::chrono::milliseconds cache_ttl{2'000};
  // How often a replica catches up with authorization writes made by other replicas.
  std::chrono::milliseconds fga_refresh_interval{1'000};

  int64_t access_token_ttl_seconds = 900;
  int64_t refresh_token_ttl_seconds = 30 * 86400;
  uint32_t password_hash_memory_kib = 19 * 1024;
  std::vector<std::string> platform_operators;

  std::string mail_kind = "outbox";
  std::string mail_from = "noreply@gatehouse.local";
  std::string smtp_url;
  std::string smtp_username;
  Secret smtp_password;
  bool smtp_require_tls = true;

  std::string default_model = "offline";  // "offline" or openai_model
  std::chrono::milliseconds offline_token_delay{15};
  std::string openai_base_url;
  Secret openai_api_key;
  std::string openai_model = "gpt-4o-mini";
  std::map<std::string, ModelCatalogEntry> model_catalog;  // models.catalog.<name>.<field>

  // identity.external.<name>.<field>: identity providers whose access tokens are accepted.
  struct ExternalIdp {
    std::string issuer;
    std::string jwks_uri;  // empty: discovered from the issuer
    std::string audience;
    std::string tenant_claim = "tenant_id";
    std::string email_claim = "email";
    std::string groups_claim = "groups";
    std::vector<std::string> admin_groups{"admin"};
    bool allow_insecure_http = false;
    int64_t refresh_interval_seconds = 600;
    int64_t min_refresh_interval_seconds = 30;  // soonest re-read after an unknown key id
  };
  std::map<std::string, ExternalIdp> external_idps;

  Secret openweather_api_key;
  std::string openweather_base_url = "https://api.openweathermap.org";

  std::map<std::string, tenancy::Plan> plans;  // defaults, overridden or extended by `plans:`
  std::map<std::string, metering::ModelPrice> model_prices;  // prices.models.<model>.<field>
  int64_t tool_call_micros = 0;
  int64_t invocation_micros = 0;
  // Price file and markups (prices.*), retention, OTLP export (otlp.*), budget alert webhook
  // (alerts.*).
  metering::MeteringOptions metering;
  Secret metrics_bearer_token;  // when set, GET /metrics requires it

  // Token vault and asynchronous approvals (vault.*, approvals.*).
  bool vault_allow_insecure_http =
      false;  // http:// provider and HTTP-tool URLs (development and tests only)
  int64_t vault_refresh_skew_seconds = 60;
  int64_t vault_flow_ttl_seconds = 600;
  int64_t ciba_interval_seconds = 5;
  int64_t ciba_default_expiry_seconds = 300;
  int64_t ciba_max_expiry_seconds = 3600;
  int64_t tool_approval_expiry_seconds = 3600;
  std::chrono::milliseconds approvals_sweep_interval{2000};
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

struct CliOverrides {
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> config_file;
  bool demo = false;
};

// Loads and validates the configuration.
Result<Config> LoadConfig(const CliOverrides& cli, const EnvLookup& env);

}  // namespace gh::app
