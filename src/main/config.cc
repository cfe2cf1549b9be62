#include "main/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "aws/credentials.h"
#include "common/log.h"
#include "common/strings.h"

namespace gh::app {
namespace {

Status Bad(const std::string& key, const std::string& what) {
  return Status::InvalidArgument(fmt::format("config key '{}': {}", key, what), "invalid_config");
}

// Settings as flat "section.key" → text, merged by precedence before typed parsing.
using Flat = std::map<std::string, std::string>;

const std::set<std::string>& KnownKeys() {
  static const std::set<std::string> k = {
      "listen", "data_dir", "demo", "log_level", "issuer", "database.url", "database.pool_size",
      "server.threads", "server.max_body_bytes", "server.max_header_bytes",
      "server.read_timeout_ms", "server.idle_timeout_ms", "server.drain_timeout_ms",
      "server.sse_keepalive_ms", "server.cache_ttl_ms", "fga.refresh_interval_ms",
      "identity.access_token_ttl_seconds", "identity.refresh_token_ttl_seconds",
      "identity.password_hash_memory_kib", "identity.platform_operators", "mail.kind", "mail.from",
      "mail.smtp.url", "mail.smtp.username", "mail.smtp.password", "mail.smtp.require_tls",
      "models.default", "models.offline.token_delay_ms", "models.openai.base_url",
      "models.openai.api_key", "models.openai.model", "weather.openweather_api_key",
      "weather.openweather_base_url", "prices.tool_call_micros", "prices.invocation_micros",
      // metering and observability (src/metering, src/observability)
      "prices.file", "prices.markup_percent", "metering.event_retention_days",
      "metering.rollup_retention_days", "metering.monthly_rollup_retention_days",
      "metering.durable_commits", "metering.trace_linger_ms", "traces.retention_days",
      "otlp.endpoint", "otlp.headers", "otlp.service_name", "otlp.max_queue_spans",
      "alerts.webhook_url", "alerts.webhook_secret", "metrics.bearer_token",
      // token vault and asynchronous approvals (src/vault, src/approvals)
      "vault.allow_insecure_http", "vault.refresh_skew_seconds", "vault.flow_ttl_seconds",
      "approvals.ciba_interval_seconds", "approvals.ciba_default_expiry_seconds",
      "approvals.ciba_max_expiry_seconds", "approvals.tool_expiry_seconds",
      "approvals.sweep_interval_ms"};
  return k;
}

const std::set<std::string>& PlanFields() {
  static const std::set<std::string> k = {
      "messages_per_day",    "messages_per_month",  "tokens_per_month",  "budget_micros_per_month",
      "requests_per_minute", "concurrent_sessions", "session_minutes",   "idle_timeout_minutes",
      "weather_tool",        "cost_reports",        "allowed_models",    "default_model",
      "max_agent_steps",     "max_agent_seconds",   "max_output_tokens", "fallback_models"};
  return k;
}

const std::set<std::string>& CatalogFields() {
  static const std::set<std::string> k = {"provider",
                                          "model",
                                          "base_url",
                                          "api_key",
                                          "region",
                                          "aws_access_key_id",
                                          "aws_secret_access_key",
                                          "aws_session_token",
                                          "aws_profile",
                                          "aws_shared_credentials_file",
                                          "aws_config_file",
                                          "agent_id",
                                          "agent_alias_id",
                                          "organization_type",
                                          "timeout_ms",
                                          "retry_max_attempts",
                                          "retry_initial_backoff_ms",
                                          "retry_max_backoff_ms",
                                          "retry_max_retry_after_ms"};
  return k;
}

constexpr std::string_view kCatalogPrefix = "models.catalog.";
constexpr size_t kMaxOrganizationType = 64;

// GATEHOUSE_MODELS_CATALOG_<NAME>_<FIELD>: the name upper-cased, anything but letters and digits
// written as '_' (so "claude-3.5" is CLAUDE_3_5).
std::string CatalogEnvName(const std::string& name, const std::string& field) {
  std::string out = "GATEHOUSE_MODELS_CATALOG_";
  for (char c : name)
    out.push_back(std::isalnum(static_cast<unsigned char>(c))
                      ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                      : '_');
  out.push_back('_');
  for (char c : field)
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

// "models.catalog.<name>.<field>" → {name, field}; the name may itself contain dots.
std::optional<std::pair<std::string, std::string>> CatalogKey(const std::string& key) {
  if (key.rfind(kCatalogPrefix, 0) != 0) return std::nullopt;
  std::string rest = key.substr(kCatalogPrefix.size());
  size_t dot = rest.rfind('.');
  if (dot == std::string::npos || dot == 0) return std::nullopt;
  return std::make_pair(rest.substr(0, dot), rest.substr(dot + 1));
}

std::string EnvName(const std::string& key) {
  std::string out = "GATEHOUSE_";
  for (char c : key)
    out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

Status Flatten(const YAML::Node& node, const std::string& prefix, Flat& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      std::string full = prefix.empty() ? key : prefix + "." + key;
      GH_RETURN_IF_ERROR(Flatten(kv.second, full, out));
    }
    return Status::Ok();
  }
  if (node.IsSequence()) {
    std::string joined;
    for (const auto& item : node) {
      if (!item.IsScalar()) return Bad(prefix, "must be a list of plain values");
      joined += (joined.empty() ? "" : ",") + item.as<std::string>();
    }
    out[prefix] = joined;
    return Status::Ok();
  }
  if (node.IsNull()) {
    out[prefix] = "";
    return Status::Ok();
  }
  out[prefix] = node.as<std::string>();
  return Status::Ok();
}

Result<int64_t> Int(const Flat& f, const std::string& key, int64_t min, int64_t max) {
  const std::string& v = f.at(key);
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size())
    return Bad(key, fmt::format("'{}' is not an integer", Printable(v, 40)));
  if (out < min || out > max)
    return Bad(key, fmt::format("{} is out of range [{}, {}]", out, min, max));
  return out;
}

Result<bool> Bool(const Flat& f, const std::string& key) {
  std::string v = ToLower(f.at(key));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) return false;
  return Bad(key, fmt::format("'{}' is not a boolean", Printable(v, 40)));
}

std::vector<std::string> List(const std::string& v) {
  std::vector<std::string> out;
  for (auto part : Split(v, ','))
    if (!Trim(part).empty()) out.emplace_back(Trim(part));
  return out;
}

Status ParseListen(const std::string& key, const std::string& v, Config& c) {
  size_t colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Bad(key, "must be HOST:PORT, e.g. 127.0.0.1:8000");
  c.listen_host = v.substr(0, colon);
  if (c.listen_host.size() > 2 && c.listen_host.front() == '[' && c.listen_host.back() == ']')
    c.listen_host = c.listen_host.substr(1, c.listen_host.size() - 2);
  std::string port = v.substr(colon + 1);
  int p = -1;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535)
    return Bad(key, "port must be a number from 0 to 65535");
  c.listen_port = static_cast<uint16_t>(p);
  return Status::Ok();
}

Status ApplyPlans(const Flat& f, Config& c) {
  for (const auto& [key, value] : f) {
    if (key.rfind("plans.", 0) != 0) continue;
    auto parts = Split(key, '.');
    if (parts.size() != 3) return Bad(key, "plans are written plans.<name>.<field>");
    std::string name(parts[1]), field(parts[2]);
    if (Slugify(name) != name)
      return Bad(key, "plan names are lower-case letters, digits and dashes");
    if (!PlanFields().count(field)) return Bad(key, "unknown plan field");
    tenancy::Plan& p = c.plans[name];
    if (p.name.empty()) {
      p = tenancy::PlanCatalog::Defaults().plans().at("basic");
      p.name = name;
    }
    auto opt_int = [&](std::optional<int64_t>& dst) -> Status {
      if (value.empty() || ToLower(value) == "unlimited") {
        dst.reset();
        return Status::Ok();
      }
      GH_ASSIGN_OR_RETURN(int64_t v, Int(f, key, 0, INT64_MAX / 4));
      dst = v;
      return Status::Ok();
    };
    if (field == "messages_per_day")
      GH_RETURN_IF_ERROR(opt_int(p.messages_per_day));
    else if (field == "messages_per_month")
      GH_RETURN_IF_ERROR(opt_int(p.messages_per_month));
    else if (field == "tokens_per_month")
      GH_RETURN_IF_ERROR(opt_int(p.tokens_per_month));
    else if (field == "budget_micros_per_month")
      GH_RETURN_IF_ERROR(opt_int(p.budget_micros_per_month));
    else if (field == "requests_per_minute")
      GH_RETURN_IF_ERROR(opt_int(p.requests_per_minute));
    else if (field == "concurrent_sessions") {
      GH_ASSIGN_OR_RETURN(p.concurrent_sessions, Int(f, key, 1, 100000));
    } else if (field == "session_minutes") {
      GH_ASSIGN_OR_RETURN(p.session_minutes, Int(f, key, 1, 525600));
    } else if (field == "idle_timeout_minutes") {
      GH_ASSIGN_OR_RETURN(p.idle_timeout_minutes, Int(f, key, 1, 525600));
    } else if (field == "max_agent_steps") {
      GH_ASSIGN_OR_RETURN(int64_t v, Int(f, key, 1, 50));
      p.max_agent_steps = int(v);
    } else if (field == "max_agent_seconds") {
      GH_ASSIGN_OR_RETURN(p.max_agent_seconds, Int(f, key, 1, 3600));
    } else if (field == "fallback_models")
      p.fallback_models = List(value);
    else if (field == "max_output_tokens") {
      GH_ASSIGN_OR_RETURN(p.max_output_tokens, Int(f, key, 1, 1'000'000));
    } else if (field == "weather_tool") {
      if (value != "none" && value != "basic" && value != "full")
        return Bad(key, "must be none, basic or full");
      p.weather_tool = value;
    } else if (field == "cost_reports") {
      if (value != "none" && value != "admin") return Bad(key, "must be none or admin");
      p.cost_reports = value;
    } else if (field == "allowed_models")
      p.allowed_models = List(value);
    else if (field == "default_model")
      p.default_model = value;
  }
  return Status::Ok();
}

// Prices (file, markups), retention, OTLP export, budget alerts, the metrics endpoint.
Status ApplyMetering(const Flat& f, Config& c) {
  metering::MeteringOptions& m = c.metering;
  m.price_file = f.at("prices.file");
  m.price_overrides.models = c.model_prices;
  auto percent = [&](const std::string& key) -> Result<int64_t> {
    auto bps = metering::ParseFixedPoint(f.at(key), 2);
    if (!bps.ok())
      return Bad(key, "must be a percentage with at most two decimals: " + bps.status().message());
    return *bps;
  };
  if (!f.at("prices.markup_percent").empty()) {
    GH_ASSIGN_OR_RETURN(int64_t bps, percent("prices.markup_percent"));
    m.price_overrides.markup_bps = bps;
  }
  const std::string tenant_prefix = "prices.tenant_markup_percent.";
  for (const auto& [key, value] : f) {
    if (key.rfind(tenant_prefix, 0) != 0) continue;
    GH_ASSIGN_OR_RETURN(m.price_overrides.tenant_markup_bps[key.substr(tenant_prefix.size())],
                        percent(key));
  }
  if (auto catalog = metering::LoadCatalog(m); !catalog.ok())
    return Bad(m.price_file.empty() ? "prices" : "prices.file", catalog.status().message());
  GH_ASSIGN_OR_RETURN(m.recorder.durable, Bool(f, "metering.durable_commits"));
  GH_ASSIGN_OR_RETURN(int64_t linger, Int(f, "metering.trace_linger_ms", 0, 10'000));
  m.recorder.linger = std::chrono::milliseconds(linger);
  GH_ASSIGN_OR_RETURN(m.recorder.retention.event_days,
                      Int(f, "metering.event_retention_days", 0, 36500));
  GH_ASSIGN_OR_RETURN(m.recorder.retention.rollup_days,
                      Int(f, "metering.rollup_retention_days", 0, 36500));
  GH_ASSIGN_OR_RETURN(m.recorder.retention.monthly_rollup_days,
                      Int(f, "metering.monthly_rollup_retention_days", 0, 36500));
  // Never shorter than the daily roll-ups' (metering::MonthlyRollupRetentionDays), so no error for
  // a configuration that keeps the days longer than the default months.
  GH_ASSIGN_OR_RETURN(m.recorder.retention.trace_days, Int(f, "traces.retention_days", 0, 36500));
  m.otlp.endpoint = f.at("otlp.endpoint");
  if (!m.otlp.endpoint.empty() && m.otlp.endpoint.rfind("http://", 0) != 0 &&
      m.otlp.endpoint.rfind("https://", 0) != 0)
    return Bad("otlp.endpoint", "must be an http(s) URL, e.g. http://collector:4318/v1/traces");
  for (auto part : Split(f.at("otlp.headers"), ',')) {
    if (Trim(part).empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return Bad("otlp.headers", "must be name=value pairs separated by commas");
    m.otlp.headers.emplace_back(ToLower(Trim(part.substr(0, eq))),
                                std::string(Trim(part.substr(eq + 1))));
  }
  m.otlp.service_name = f.at("otlp.service_name");
  GH_ASSIGN_OR_RETURN(int64_t queue, Int(f, "otlp.max_queue_spans", 100, 10'000'000));
  m.otlp.max_queue_spans = static_cast<size_t>(queue);
  m.webhook.url = f.at("alerts.webhook_url");
  if (!m.webhook.url.empty() && m.webhook.url.rfind("http://", 0) != 0 &&
      m.webhook.url.rfind("https://", 0) != 0)
    return Bad("alerts.webhook_url", "must be an http(s) URL");
  m.webhook.secret = Secret(f.at("alerts.webhook_secret"));
  c.metrics_bearer_token = Secret(f.at("metrics.bearer_token"));
  return Status::Ok();
}

// The token vault and asynchronous approvals.
Status ApplyVault(const Flat& f, Config& c) {
  GH_ASSIGN_OR_RETURN(c.vault_allow_insecure_http, Bool(f, "vault.allow_insecure_http"));
  GH_ASSIGN_OR_RETURN(c.vault_refresh_skew_seconds, Int(f, "vault.refresh_skew_seconds", 0, 86400));
  GH_ASSIGN_OR_RETURN(c.vault_flow_ttl_seconds, Int(f, "vault.flow_ttl_seconds", 30, 86400));
  GH_ASSIGN_OR_RETURN(c.ciba_interval_seconds, Int(f, "approvals.ciba_interval_seconds", 1, 600));
  GH_ASSIGN_OR_RETURN(c.ciba_max_expiry_seconds,
                      Int(f, "approvals.ciba_max_expiry_seconds", 1, 86400));
  GH_ASSIGN_OR_RETURN(c.ciba_default_expiry_seconds, Int(f, "approvals.ciba_default_expiry_seconds",
                                                         1, c.ciba_max_expiry_seconds));
  GH_ASSIGN_OR_RETURN(c.tool_approval_expiry_seconds,
                      Int(f, "approvals.tool_expiry_seconds", 1, 7 * 86400));
  GH_ASSIGN_OR_RETURN(int64_t sweep, Int(f, "approvals.sweep_interval_ms", 50, 3'600'000));
  c.approvals_sweep_interval = std::chrono::milliseconds(sweep);
  return Status::Ok();
}

constexpr std::string_view kExternalIdpPrefix = "identity.external.";
const std::set<std::string>& ExternalIdpFields() {
  static const std::set<std::string> k = {"issuer",
                                          "jwks_uri",
                                          "audience",
                                          "tenant_claim",
                                          "email_claim",
                                          "groups_claim",
                                          "admin_groups",
                                          "allow_insecure_http",
                                          "refresh_interval_seconds",
                                          "min_refresh_interval_seconds"};
  return k;
}

// External identity providers: identity.external.<name>.<field> (the name without dots).
Status ApplyExternalIdps(const Flat& f, Config& c) {
  for (const auto& [key, value] : f) {
    if (key.rfind(kExternalIdpPrefix, 0) != 0) continue;
    const std::string rest = key.substr(kExternalIdpPrefix.size());
    const size_t dot = rest.find('.');
    if (dot == std::string::npos || dot == 0)
      return Bad(key, "providers are written identity.external.<name>.<field>");
    const std::string name = rest.substr(0, dot), field = rest.substr(dot + 1);
    if (!ExternalIdpFields().count(field)) return Bad(key, "unknown identity provider field");
    Config::ExternalIdp& e = c.external_idps[name];
    if (field == "issuer")
      e.issuer = value;
    else if (field == "jwks_uri")
      e.jwks_uri = value;
    else if (field == "audience")
      e.audience = value;
    else if (field == "tenant_claim")
      e.tenant_claim = value;
    else if (field == "email_claim")
      e.email_claim = value;
    else if (field == "groups_claim")
      e.groups_claim = value;
    else if (field == "admin_groups") {
      e.admin_groups.clear();
      for (auto g : Split(value, ','))
        if (!Trim(g).empty()) e.admin_groups.emplace_back(Trim(g));
    } else if (field == "allow_insecure_http") {
      GH_ASSIGN_OR_RETURN(e.allow_insecure_http, Bool(f, key));
    } else if (field == "refresh_interval_seconds") {
      GH_ASSIGN_OR_RETURN(e.refresh_interval_seconds, Int(f, key, 10, 86'400));
    } else if (field == "min_refresh_interval_seconds") {
      GH_ASSIGN_OR_RETURN(e.min_refresh_interval_seconds, Int(f, key, 1, 3'600));
    }
  }
  for (const auto& [name, e] : c.external_idps) {
    const std::string at = std::string(kExternalIdpPrefix) + name + ".";
    auto url_ok = [&](const std::string& u) {
      return u.rfind("https://", 0) == 0 || (e.allow_insecure_http && u.rfind("http://", 0) == 0);
    };
    if (e.issuer.empty()) return Bad(at + "issuer", "is required (exactly the tokens' iss)");
    if (!url_ok(e.issuer))
      return Bad(at + "issuer", "must be an https:// URL (http:// needs allow_insecure_http)");
    if (!e.jwks_uri.empty() && !url_ok(e.jwks_uri))
      return Bad(at + "jwks_uri", "must be an https:// URL (http:// needs allow_insecure_http)");
    if (e.audience.empty())
      return Bad(at + "audience", "is required (the tokens' aud must contain it)");
    if (e.tenant_claim.empty())
      return Bad(at + "tenant_claim", "must name the claim that holds the tenant id");
  }
  return Status::Ok();
}

// The model catalog: every models.catalog.<name>.<field>, checked field by field. Bedrock entries
// resolve their region and credentials now (explicit values, then the environment and the shared
// files), so a deployment that could not sign a request does not start.
Status ApplyModelCatalog(const Flat& f, const EnvLookup& env, Config& c) {
  for (const auto& [key, value] : f) {
    auto parsed = CatalogKey(key);
    if (!parsed) {
      if (key.rfind(kCatalogPrefix, 0) == 0)
        return Bad(key, "models are written models.catalog.<name>.<field>");
      continue;
    }
    const auto& [name, field] = *parsed;
    if (!CatalogFields().count(field)) return Bad(key, "unknown model catalog field");
    if (name == "offline") return Bad(key, "'offline' is built in; choose another name");
    ModelCatalogEntry& e = c.model_catalog[name];
    e.name = name;
    auto opt = [&](std::optional<std::string>& dst) {
      if (value.empty())
        dst.reset();
      else
        dst = value;
    };
    auto opt_secret = [&](std::optional<Secret>& dst) {
      if (value.empty())
        dst.reset();
      else
        dst = Secret(value);
    };
    auto ms = [&](std::chrono::milliseconds& dst, int64_t lo, int64_t hi) -> Status {
      GH_ASSIGN_OR_RETURN(int64_t v, Int(f, key, lo, hi));
      dst = std::chrono::milliseconds(v);
      return Status::Ok();
    };
    if (field == "provider")
      e.provider = value;
    else if (field == "model")
      e.model = value;
    else if (field == "base_url")
      e.base_url = value;
    else if (field == "api_key")
      e.api_key = Secret(value);
    else if (field == "region")
      opt(e.region);
    else if (field == "aws_access_key_id")
      opt(e.aws_access_key_id);
    else if (field == "aws_secret_access_key")
      opt_secret(e.aws_secret_access_key);
    else if (field == "aws_session_token")
      opt_secret(e.aws_session_token);
    else if (field == "aws_profile")
      opt(e.aws_profile);
    else if (field == "aws_shared_credentials_file")
      opt(e.aws_shared_credentials_file);
    else if (field == "aws_config_file")
      opt(e.aws_config_file);
    else if (field == "agent_id")
      e.agent_id = value;
    else if (field == "agent_alias_id")
      e.agent_alias_id = value;
    else if (field == "organization_type")
      e.organization_type = value;
    else if (field == "timeout_ms")
      GH_RETURN_IF_ERROR(ms(e.timeout, 100, 3'600'000));
    else if (field == "retry_max_attempts") {
      GH_ASSIGN_OR_RETURN(int64_t v, Int(f, key, 1, 10));
      e.retry_max_attempts = int(v);
    } else if (field == "retry_initial_backoff_ms")
      GH_RETURN_IF_ERROR(ms(e.retry_initial_backoff, 0, 600'000));
    else if (field == "retry_max_backoff_ms")
      GH_RETURN_IF_ERROR(ms(e.retry_max_backoff, 0, 600'000));
    else if (field == "retry_max_retry_after_ms")
      GH_RETURN_IF_ERROR(ms(e.retry_max_retry_after, 0, 3'600'000));
  }
  const aws::EnvironmentLookup aws_env = [&env](std::string_view name) {
    return env(std::string(name));
  };
  for (auto& [name, e] : c.model_catalog) {
    const std::string at = std::string(kCatalogPrefix) + name + ".";
    if (e.provider != "offline" && e.provider != "openai" && e.provider != "anthropic" &&
        e.provider != "bedrock" && e.provider != "bedrock_agent")
      return Bad(at + "provider",
                 e.provider.empty()
                     ? "is required (offline, openai, anthropic, bedrock or bedrock_agent)"
                     : "must be offline, openai, anthropic, bedrock or bedrock_agent");
    if (e.model.empty()) e.model = name;
    if (!e.base_url.empty() && e.base_url.rfind("http://", 0) != 0 &&
        e.base_url.rfind("https://", 0) != 0)
      return Bad(at + "base_url", "must be an http(s) URL");
    if (e.retry_initial_backoff > e.retry_max_backoff)
      return Bad(at + "retry_initial_backoff_ms", "must not exceed retry_max_backoff_ms");
    if (e.provider == "bedrock_agent" && e.agent_id.empty())
      return Bad(at + "agent_id", "is required for bedrock_agent");
    if (e.provider == "bedrock_agent" && e.agent_alias_id.empty())
      return Bad(at + "agent_alias_id", "is required for bedrock_agent");
    if (!e.organization_type.empty()) {
      // Only an agent is told it (any other provider would silently ignore it); the agent reads
      // it inside its prompt, so it is a short plain label.
      if (e.provider != "bedrock_agent")
        return Bad(at + "organization_type", "applies to bedrock_agent entries only");
      if (e.organization_type.size() > kMaxOrganizationType ||
          !std::all_of(e.organization_type.begin(), e.organization_type.end(),
                       [](char ch) { return ch >= 0x20 && ch < 0x7f; }))
        return Bad(
            at + "organization_type",
            fmt::format("must be at most {} printable ASCII characters", kMaxOrganizationType));
    }
    if (e.provider == "bedrock" || e.provider == "bedrock_agent") {
      aws::AwsExplicitConfig a{
          e.aws_access_key_id, e.aws_secret_access_key,       e.aws_session_token, e.region,
          e.aws_profile,       e.aws_shared_credentials_file, e.aws_config_file};
      if (auto region = aws::ResolveRegion(a, aws_env); !region.ok())
        return Bad(at + "region", region.status().message());
      if (auto creds = aws::ResolveCredentials(a, aws_env); !creds.ok())
        return Bad(at + "aws_access_key_id", "AWS credentials: " + creds.status().message());
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Config> LoadConfig(const CliOverrides& cli, const EnvLookup& env) {
  Flat f = {{"listen", "127.0.0.1:8000"},
            {"data_dir", "./data"},
            {"demo", "false"},
            {"log_level", "info"},
            {"issuer", ""},
            {"database.url", ""},
            {"database.pool_size", "8"},
            {"server.threads", "0"},
            {"server.max_body_bytes", "1048576"},
            {"server.max_header_bytes", "16384"},
            {"server.read_timeout_ms", "30000"},
            {"server.idle_timeout_ms", "60000"},
            {"server.drain_timeout_ms", "30000"},
            {"server.sse_keepalive_ms", "15000"},
            {"server.cache_ttl_ms", "2000"},
            {"fga.refresh_interval_ms", "1000"},
            {"identity.access_token_ttl_seconds", "900"},
            {"identity.refresh_token_ttl_seconds", "2592000"},
            {"identity.password_hash_memory_kib", "19456"},
            {"identity.platform_operators", ""},
            {"mail.kind", "outbox"},
            {"mail.from", "noreply@gatehouse.local"},
            {"mail.smtp.url", ""},
            {"mail.smtp.username", ""},
            {"mail.smtp.password", ""},
            {"mail.smtp.require_tls", "true"},
            {"models.default", ""},
            {"models.offline.token_delay_ms", "15"},
            {"models.openai.base_url", ""},
            {"models.openai.api_key", ""},
            {"models.openai.model", "gpt-4o-mini"},
            {"weather.openweather_api_key", ""},
            {"weather.openweather_base_url", "https://api.openweathermap.org"},
            {"prices.tool_call_micros", ""},  // empty: the price file's agent runtime fees
            {"prices.invocation_micros", ""},
            {"prices.file", ""},
            {"prices.markup_percent", ""},
            {"metering.durable_commits", "true"},
            {"metering.trace_linger_ms", "20"},
            {"metering.event_retention_days", "90"},
            {"metering.rollup_retention_days", "800"},
            {"metering.monthly_rollup_retention_days", "1830"},
            {"traces.retention_days", "30"},
            {"otlp.endpoint", ""},
            {"otlp.headers", ""},
            {"otlp.service_name", "gatehouse"},
            {"otlp.max_queue_spans", "20000"},
            {"alerts.webhook_url", ""},
            {"alerts.webhook_secret", ""},
            {"metrics.bearer_token", ""},
            {"vault.allow_insecure_http", "false"},
            {"vault.refresh_skew_seconds", "60"},
            {"vault.flow_ttl_seconds", "600"},
            {"approvals.ciba_interval_seconds", "5"},
            {"approvals.ciba_default_expiry_seconds", "300"},
            {"approvals.ciba_max_expiry_seconds", "3600"},
            {"approvals.tool_expiry_seconds", "3600"},
            {"approvals.sweep_interval_ms", "2000"}};

  // 1. YAML file.
  std::optional<std::string> file = cli.config_file;
  if (!file) file = env("GATEHOUSE_CONFIG");
  if (file && !file->empty()) {
    Flat from_file;
    try {
      YAML::Node root = YAML::LoadFile(*file);
      if (!root.IsNull() && !root.IsMap())
        return Bad("(file)", *file + " must hold a mapping of settings");
      GH_RETURN_IF_ERROR(Flatten(root, "", from_file));
    } catch (const YAML::BadFile&) {
      return Status::InvalidArgument("config file " + *file + " cannot be read", "invalid_config");
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(fmt::format("config file {}: {}", *file, e.what()),
                                     "invalid_config");
    }
    for (const auto& [k, v] : from_file) {
      if (!KnownKeys().count(k) && k.rfind("plans.", 0) != 0 && k.rfind("prices.models.", 0) != 0 &&
          k.rfind("prices.tenant_markup_percent.", 0) != 0 && k.rfind(kCatalogPrefix, 0) != 0 &&
          k.rfind(kExternalIdpPrefix, 0) != 0)
        return Bad(k, "unknown setting");
      f[k] = v;
    }
  }
  // 2. Environment: GATEHOUSE_<KEY>, plus the conventional variables of the ecosystems we talk to.
  for (const auto& key : KnownKeys())
    if (auto v = env(EnvName(key))) f[key] = *v;
  const tenancy::PlanCatalog defaults = tenancy::PlanCatalog::Defaults();
  for (const auto& [plan, _] : defaults.plans())
    for (const auto& field : PlanFields())
      if (auto v = env(EnvName("plans." + plan + "." + field)))
        f["plans." + plan + "." + field] = *v;
  for (const char* field :
       {"input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok"})
    if (auto v = env(EnvName(std::string("prices.models.offline.") + field)))
      f[std::string("prices.models.offline.") + field] = *v;
  // A catalog model is declared in the file; any of its fields (its API key, typically) may come
  // from the environment.
  std::set<std::string> catalog_names;
  for (const auto& [k, v] : f)
    if (auto parsed = CatalogKey(k)) catalog_names.insert(parsed->first);
  for (const auto& name : catalog_names)
    for (const auto& field : CatalogFields())
      if (auto v = env(CatalogEnvName(name, field)))
        f[std::string(kCatalogPrefix) + name + "." + field] = *v;
  // So is an external identity provider: GATEHOUSE_IDENTITY_EXTERNAL_<NAME>_<FIELD>.
  std::set<std::string> idp_names;
  for (const auto& [k, v] : f)
    if (k.rfind(kExternalIdpPrefix, 0) == 0)
      idp_names.insert(k.substr(kExternalIdpPrefix.size(), k.find('.', kExternalIdpPrefix.size()) -
                                                               kExternalIdpPrefix.size()));
  for (const auto& name : idp_names)
    for (const auto& field : ExternalIdpFields()) {
      const std::string key = std::string(kExternalIdpPrefix) + name + "." + field;
      if (auto v = env(EnvName(key))) f[key] = *v;
    }
  if (auto v = env("OPENAI_BASE_URL")) f["models.openai.base_url"] = *v;
  if (auto v = env("OPENAI_API_KEY")) f["models.openai.api_key"] = *v;
  if (auto v = env("OPENAI_MODEL")) f["models.openai.model"] = *v;
  if (auto v = env("OPENWEATHER_API_KEY")) f["weather.openweather_api_key"] = *v;
  if (auto v = env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) f["otlp.endpoint"] = *v;
  // 3. Command line.
  if (cli.listen) f["listen"] = *cli.listen;
  if (cli.data_dir) f["data_dir"] = *cli.data_dir;
  if (cli.demo) f["demo"] = "true";

  Config c;
  GH_RETURN_IF_ERROR(ParseListen("listen", f["listen"], c));
  if (f["data_dir"].empty()) return Bad("data_dir", "must not be empty");
  c.data_dir = f["data_dir"];
  GH_ASSIGN_OR_RETURN(c.demo, Bool(f, "demo"));
  log::Level level;
  if (!log::ParseLevel(f["log_level"], level))
    return Bad("log_level", "must be debug, info, warn, error or off");
  c.log_level = f["log_level"];
  c.database_url = f["database.url"];
  if (!c.database_url.empty() && c.database_url.rfind("postgres://", 0) != 0 &&
      c.database_url.rfind("postgresql://", 0) != 0 && c.database_url.rfind("sqlite:", 0) != 0)
    return Bad("database.url", "must be postgres://..., postgresql://... or sqlite:PATH");
  GH_ASSIGN_OR_RETURN(c.database_pool_size, Int(f, "database.pool_size", 1, 256));
  c.issuer = f["issuer"];
  if (!c.issuer.empty() && c.issuer.rfind("http://", 0) != 0 && c.issuer.rfind("https://", 0) != 0)
    return Bad("issuer", "must be an http(s) URL");
  while (!c.issuer.empty() && c.issuer.back() == '/') c.issuer.pop_back();
  if (auto mk = env("GATEHOUSE_MASTER_KEY"); mk && !mk->empty()) c.master_key = Secret(*mk);

  GH_ASSIGN_OR_RETURN(int64_t threads, Int(f, "server.threads", 0, 256));
  c.threads = int(threads);
  GH_ASSIGN_OR_RETURN(int64_t body, Int(f, "server.max_body_bytes", 1024, 1LL << 30));
  c.max_body_bytes = size_t(body);
  GH_ASSIGN_OR_RETURN(int64_t header, Int(f, "server.max_header_bytes", 1024, 1 << 20));
  c.max_header_bytes = size_t(header);
  GH_ASSIGN_OR_RETURN(int64_t rt, Int(f, "server.read_timeout_ms", 100, 3'600'000));
  c.read_timeout = std::chrono::milliseconds(rt);
  GH_ASSIGN_OR_RETURN(int64_t it, Int(f, "server.idle_timeout_ms", 100, 3'600'000));
  c.idle_timeout = std::chrono::milliseconds(it);
  GH_ASSIGN_OR_RETURN(int64_t dt, Int(f, "server.drain_timeout_ms", 0, 3'600'000));
  c.drain_timeout = std::chrono::milliseconds(dt);
  GH_ASSIGN_OR_RETURN(int64_t ka, Int(f, "server.sse_keepalive_ms", 50, 3'600'000));
  c.sse_keepalive = std::chrono::milliseconds(ka);
  GH_ASSIGN_OR_RETURN(int64_t cache_ttl, Int(f, "server.cache_ttl_ms", 0, 3'600'000));
  c.cache_ttl = std::chrono::milliseconds(cache_ttl);
  GH_ASSIGN_OR_RETURN(int64_t fga_refresh, Int(f, "fga.refresh_interval_ms", 10, 3'600'000));
  c.fga_refresh_interval = std::chrono::milliseconds(fga_refresh);

  GH_ASSIGN_OR_RETURN(c.access_token_ttl_seconds,
                      Int(f, "identity.access_token_ttl_seconds", 30, 86400));
  GH_ASSIGN_OR_RETURN(c.refresh_token_ttl_seconds,
                      Int(f, "identity.refresh_token_ttl_seconds", 60, 365 * 86400));
  GH_ASSIGN_OR_RETURN(int64_t mem,
                      Int(f, "identity.password_hash_memory_kib", 1024, 4 * 1024 * 1024));
  c.password_hash_memory_kib = uint32_t(mem);
  for (auto& e : List(f["identity.platform_operators"])) c.platform_operators.push_back(ToLower(e));

  c.mail_kind = f["mail.kind"];
  if (c.mail_kind != "outbox" && c.mail_kind != "smtp")
    return Bad("mail.kind", "must be outbox or smtp");
  c.mail_from = f["mail.from"];
  if (c.mail_from.find('@') == std::string::npos)
    return Bad("mail.from", "must be an email address");
  c.smtp_url = f["mail.smtp.url"];
  c.smtp_username = f["mail.smtp.username"];
  c.smtp_password = Secret(f["mail.smtp.password"]);
  GH_ASSIGN_OR_RETURN(c.smtp_require_tls, Bool(f, "mail.smtp.require_tls"));
  if (c.mail_kind == "smtp" && c.smtp_url.rfind("smtp://", 0) != 0 &&
      c.smtp_url.rfind("smtps://", 0) != 0)
    return Bad("mail.smtp.url",
               "must be smtp://host:port or smtps://host:port when mail.kind is smtp");

  c.default_model = f["models.default"];
  GH_ASSIGN_OR_RETURN(int64_t delay, Int(f, "models.offline.token_delay_ms", 0, 10'000));
  c.offline_token_delay = std::chrono::milliseconds(delay);
  c.openai_base_url = f["models.openai.base_url"];
  if (!c.openai_base_url.empty() && c.openai_base_url.rfind("http://", 0) != 0 &&
      c.openai_base_url.rfind("https://", 0) != 0)
    return Bad("models.openai.base_url", "must be an http(s) URL");
  c.openai_api_key = Secret(f["models.openai.api_key"]);
  c.openai_model = f["models.openai.model"];
  GH_RETURN_IF_ERROR(ApplyModelCatalog(f, env, c));
  GH_RETURN_IF_ERROR(ApplyExternalIdps(f, c));
  // Unless told otherwise, a configured real model is the default: that is why one configures it.
  if (c.default_model.empty())
    c.default_model = c.openai_base_url.empty() ? "offline" : c.openai_model;
  const bool in_catalog = c.model_catalog.count(c.default_model) > 0;
  if (c.default_model != "offline" && c.default_model != c.openai_model && !in_catalog)
    return Bad(
        "models.default",
        "must be 'offline', a models.catalog name or the configured OpenAI-compatible model '" +
            c.openai_model + "'");
  if (c.default_model != "offline" && !in_catalog && c.openai_base_url.empty())
    return Bad("models.default",
               "names an OpenAI-compatible model but models.openai.base_url is not set");
  c.openweather_api_key = Secret(f["weather.openweather_api_key"]);
  c.openweather_base_url = f["weather.openweather_base_url"];

  c.plans = tenancy::PlanCatalog::Defaults().plans();
  GH_RETURN_IF_ERROR(ApplyPlans(f, c));
  for (const auto& [name, plan] : c.plans)
    for (const auto& m : plan.fallback_models) {
      const bool known = m == "offline" || c.model_catalog.count(m) ||
                         (!c.openai_base_url.empty() && m == c.openai_model);
      if (!known)
        return Bad("plans." + name + ".fallback_models",
                   "names '" + Printable(m, 80) + "', which is not a configured model");
    }
  if (!f["prices.tool_call_micros"].empty()) {
    GH_ASSIGN_OR_RETURN(c.tool_call_micros, Int(f, "prices.tool_call_micros", 0, 1'000'000'000));
    c.metering.price_overrides.tool_call_micros = c.tool_call_micros;
  }
  if (!f["prices.invocation_micros"].empty()) {
    GH_ASSIGN_OR_RETURN(c.invocation_micros, Int(f, "prices.invocation_micros", 0, 1'000'000'000));
    c.metering.price_overrides.invocation_micros = c.invocation_micros;
  }
  for (const auto& [key, value] : f) {
    if (key.rfind("prices.models.", 0) != 0) continue;
    std::string rest = key.substr(std::string("prices.models.").size());
    size_t dot = rest.rfind('.');
    if (dot == std::string::npos || dot == 0)
      return Bad(key, "prices are written prices.models.<model>.<field>");
    std::string model = rest.substr(0, dot), field = rest.substr(dot + 1);
    GH_ASSIGN_OR_RETURN(int64_t v, Int(f, key, 0, 1'000'000'000'000));
    metering::ModelPrice& p = c.model_prices[model];
    if (field == "input_per_mtok")
      p.input_per_mtok = v;
    else if (field == "output_per_mtok")
      p.output_per_mtok = v;
    else if (field == "cache_read_per_mtok")
      p.cache_read_per_mtok = v;
    else if (field == "cache_write_per_mtok")
      p.cache_write_per_mtok = v;
    else
      return Bad(key,
                 "unknown price field (input_per_mtok, output_per_mtok, cache_read_per_mtok, "
                 "cache_write_per_mtok)");
  }
  GH_RETURN_IF_ERROR(ApplyMetering(f, c));
  GH_RETURN_IF_ERROR(ApplyVault(f, c));
  return c;
}

}  // namespace gh::app
