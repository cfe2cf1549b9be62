#include "main/app.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "agent/model_registry.h"
#include "agent/tool.h"
#include "api/fga_api.h"
#include "api/observability_api.h"
#include "api/openai_api.h"
#include "api/services.h"
#include "authz_agent/runtime.h"
#include "chat/chat_service.h"
#include "common/log.h"
#include "crypto/master_key.h"
#include "filters/authenticate/authenticate_filter.h"
#include "filters/limits/limits_filter.h"
#include "filters/metering/metering_filter.h"
#include "filters/tenant/tenant_filter.h"
#include "http/client.h"
#include "http/server.h"
#include "identity/api_keys.h"
#include "identity/service.h"
#include "mail/mailer.h"
#include "main/bedrock_agent_traces.h"
#include "main/demo.h"
#include "main/model_catalog.h"
#include "main/vault_wiring.h"
#include "models/offline_model.h"
#include "observability/instrumented_database.h"
#include "pipeline/chain.h"
#include "storage/database.h"
#include "storage/repositories.h"
#include "tenancy/admin_service.h"
#include "tenancy/directory.h"
#include "tenancy/plan_store.h"
#include "tenancy/quota.h"
#include "tools/weather.h"
#include "webui/assets.h"

namespace gh::app {

namespace {

// The allocator this process runs on, for the start-up log: jemalloc (linked into the gatehouse
// binary, see src/main/CMakeLists.txt) answers mallctl("version"); otherwise it is glibc's.
std::string AllocatorName() {
#ifdef __SANITIZE_ADDRESS__
  return "asan";  // a sanitizer build: AddressSanitizer's allocator, jemalloc not linked
#else
  using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
  auto mallctl = reinterpret_cast<Mallctl>(::dlsym(RTLD_DEFAULT, "mallctl"));
  const char* version = nullptr;
  size_t len = sizeof(version);
  if (mallctl && mallctl("version", &version, &len, nullptr, 0) == 0 && version)
    return std::string("jemalloc ") + version;
  return "glibc";
#endif
}

int Fail(const Status& st) {
  log::Error("start-up failed", {{"error", st.message()}});
  std::cerr << "gatehouse: " << st.message() << "\n";
  return 1;
}

}  // namespace

Result<std::unique_ptr<storage::Database>> OpenStorage(const Config& cfg) {
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec)
    return Status::Unavailable("cannot create data directory " + cfg.data_dir.string() + ": " +
                               ec.message());
  std::string url =
      cfg.database_url.empty() ? (cfg.data_dir / "gatehouse.db").string() : cfg.database_url;
  GH_ASSIGN_OR_RETURN(auto db,
                      storage::OpenDatabase(url, {static_cast<int>(cfg.database_pool_size)}));
  GH_RETURN_IF_ERROR(storage::Migrate(*db));
  return db;
}

int Serve(const Config& cfg) {
  log::Level level = log::Level::kInfo;
  log::ParseLevel(cfg.log_level, level);
  log::SetLevel(level);
  Clock& clock = SystemClock::Instance();
  Random& random = OsRandom::Instance();

  auto db_or = OpenStorage(cfg);
  if (!db_or.ok()) return Fail(db_or.status());
  std::unique_ptr<storage::Database> db = std::move(db_or).value();
  observability::Metrics metrics;  // Prometheus; storage latency is measured from here on
  db = observability::InstrumentDatabase(std::move(db), metrics);
  auto master = crypto::LoadOrCreateMasterKey(cfg.data_dir / "master.key", cfg.master_key, random);
  if (!master.ok()) return Fail(master.status());

  std::unique_ptr<mail::Mailer> mailer =
      cfg.mail_kind ==
              "smtp"  // delivered from a thread of its own: a slow server never holds a request
          ? mail::MakeBackgroundMailer(
                mail::MakeSmtpMailer({cfg.smtp_url, cfg.mail_from, cfg.smtp_username,
                                      cfg.smtp_password, cfg.smtp_require_tls},
                                     clock, random))
          : mail::MakeOutboxMailer(cfg.data_dir / "outbox", cfg.mail_from, clock, random);

  tenancy::PlanStore plan_store(cfg.plans, *db, clock);
  if (Status st = plan_store.Load(); !st.ok()) return Fail(st);
  auto plans = [&plan_store] { return plan_store.Current(); };
  auto metering_or = metering::Metering::Create(cfg.metering, *db, clock, random,
                                                metrics);  // costs, traces, audit
  if (!metering_or.ok()) return Fail(metering_or.status());
  std::unique_ptr<metering::Metering> metering = std::move(metering_or).value();
  auto prices = metering->prices();

  http::ServerOptions sopt;
  sopt.host = cfg.listen_host;
  sopt.port = cfg.listen_port;
  sopt.threads = cfg.threads;
  sopt.max_body_bytes = cfg.max_body_bytes;
  sopt.max_header_bytes = cfg.max_header_bytes;
  sopt.read_timeout = cfg.read_timeout;
  sopt.idle_timeout = cfg.idle_timeout;
  sopt.drain_timeout = cfg.drain_timeout;

  // Models and tools.
  auto client = http::MakeBeastHttpClient();
  agent::ModelRegistry models;
  models.Add(
      {"offline", "offline", std::make_shared<models::OfflineModel>(cfg.offline_token_delay)});
  RegisterOpenAiModel(cfg, models, client, random);  // retried like a catalog entry
  if (Status st =
          RegisterCatalogModels(cfg, models, client, clock, random, aws::ProcessEnvironment(),
                                MakeBedrockAgentTraceSink(*metering));  // agent steps
      !st.ok()) {
    Fail(st);
    return 2;  // a bad catalog entry is a configuration error, like those LoadConfig reports
  }
  models.set_default(cfg.default_model);
  agent::ToolRegistry tools;
  std::shared_ptr<tools::WeatherSource> weather =
      cfg.openweather_api_key.empty()
          ? tools::MakeSimulatedWeather()
          : tools::MakeOpenWeatherMap(cfg.openweather_api_key, client, cfg.openweather_base_url);
  tools.Add(tools::MakeCurrentWeatherTool(weather));
  tools.Add(tools::MakeForecastTool(weather));
  // Fine-grained authorization: every tenant's OpenFGA stores, the document tools, the tool
  // authorizer.
  auto authz_or = authz_agent::AuthzRuntime::Open(*db, clock, random, {}, cfg.fga_refresh_interval);
  if (!authz_or.ok()) return Fail(authz_or.status());
  std::unique_ptr<authz_agent::AuthzRuntime> authz = std::move(authz_or).value();
  authz->InstallTools(tools);

  identity::IdentityConfig icfg;
  icfg.access_token_ttl_seconds = cfg.access_token_ttl_seconds;
  icfg.refresh_token_ttl_seconds = cfg.refresh_token_ttl_seconds;
  icfg.password_hash.m_cost_kib = cfg.password_hash_memory_kib;
  icfg.platform_operators = cfg.platform_operators;
  // The issuer depends on the bound port when none is configured; set below, before Init.
  // Tenant rows and user caps read on every request, cached briefly; writers here report changes.
  tenancy::Directory directory(*db, clock, {.ttl = cfg.cache_ttl});
  identity::IdentityService identity(icfg, *db, clock, random, *mailer, plans, *master);
  identity.SetDirectory(&directory);
  identity::ApiKeyService api_keys(
      *db, clock, random,
      {.platform_operators = cfg.platform_operators, .cache_ttl = cfg.cache_ttl}, &directory);
  // What other replicas on the same database change, this one forgets at once (PostgreSQL).
  std::unique_ptr<storage::ChangeListener> changes =
      db->Listen([&](const storage::Announcement& change) {
        directory.Heard(change);
        api_keys.Heard(change);
      });
  tenancy::QuotaService quota(*db, clock, &directory);
  tenancy::AdminService admin(*db, clock, random, plan_store, quota, &directory);
  chat::ChatService chat(*db, clock, random, models, tools, quota, prices);
  chat.SetMetering(metering.get());
  chat.SetDirectory(&directory);
  // Token vault, HTTP API tools and asynchronous approvals (installs the tools' approval gate).
  VaultWiring vault(cfg, *db, clock, random, *master, client, tools, chat, plans);

  pipeline::Router router;
  api::Services services{*db, clock, random, identity, quota, chat, plan_store, admin};
  services.sse_keepalive = cfg.sse_keepalive;
  services.directory = &directory;
  api::RegisterOpsRoutes(router, services);
  api::RegisterAuthRoutes(router, services);
  api::RegisterTenantRoutes(router, services);
  api::RegisterChatRoutes(router, services);
  api::RegisterAdminRoutes(router, services);
  api::RegisterOpenAiRoutes(router, services, api_keys);  // /v1 and /api/keys
  vault.RegisterRoutes(router, services);
  api::RegisterFgaRoutes(router, *authz);    // /fga/stores/... (OpenFGA's API)
  api::RegisterAuthzRoutes(router, *authz);  // documents and decisions
  api::RegisterCostRoutes(router, *metering);
  api::RegisterTraceRoutes(router, *metering);
  api::RegisterMetricsRoutes(router, *metering, {cfg.metrics_bearer_token.reveal()});

  // External identity providers: their tokens are accepted beside Gatehouse's own.
  identity::ExternalIdentities external_identities(*db, clock);
  filters::ExternalAuth external;
  external.identities = &external_identities;
  for (const auto& [name, e] : cfg.external_idps) {
    identity::ExternalIssuerOptions o;
    o.name = name;
    o.issuer = e.issuer;
    o.jwks_uri = e.jwks_uri;
    o.audience = e.audience;
    o.claims.tenant = e.tenant_claim;
    o.claims.email = e.email_claim;
    o.claims.groups = e.groups_claim;
    o.admin_groups = e.admin_groups;
    o.allow_insecure_http = e.allow_insecure_http;
    o.refresh_interval = std::chrono::seconds(e.refresh_interval_seconds);
    o.min_refresh_interval = std::chrono::seconds(e.min_refresh_interval_seconds);
    external.issuers.push_back(
        std::make_shared<identity::ExternalIssuer>(std::move(o), client, clock));
  }
  const auto external_issuers = external.issuers;

  // The request path, in order. A new concern is one more line here.
  std::vector<std::shared_ptr<pipeline::Filter>> filters = {
      std::make_shared<filters::MeteringFilter>(
          *metering),  // first in, last out: sees every outcome
      std::make_shared<filters::AuthenticateFilter>(identity, &api_keys, clock,
                                                    std::move(external)),
      std::make_shared<filters::TenantFilter>(directory, plans),
      std::make_shared<filters::LimitsFilter>(quota),
  };
  filters::InstrumentFilters(filters,
                             *metering);  // each filter's work is a span of the request's trace
  pipeline::Chain chain(router, filters, [](pipeline::RequestContext& ctx) {
    return webui::Serve(ctx.request.path, ctx.response);
  });

  http::Server server(sopt, chain);
  auto port = server.Listen();
  if (!port.ok()) return Fail(port.status());
  std::string host_for_url = cfg.listen_host == "0.0.0.0" ? "127.0.0.1" : cfg.listen_host;
  if (host_for_url.find(':') != std::string::npos) host_for_url = "[" + host_for_url + "]";
  const std::string base_url = fmt::format("http://{}:{}", host_for_url, *port);
  if (Status st = identity.Init(cfg.issuer.empty() ? base_url : cfg.issuer); !st.ok())
    return Fail(st);
  vault.Start(server, identity.config().issuer);
  auto stop_refreshing = std::make_shared<std::atomic<bool>>(false);
  for (const auto& issuer : external_issuers)
    issuer->StartRefreshing(server.executor(), stop_refreshing);
  server.OnSignal([&](int) {  // open live feeds must not hold the drain
    stop_refreshing->store(true);
    vault.Shutdown();
    server.Drain();
  });

  if (cfg.demo) {
    if (Status st = SeedDemo(identity, *db, random, base_url); !st.ok()) return Fail(st);
  }

  log::Info("listening", {{"address", cfg.listen_host},
                          {"port", int64_t(*port)},
                          {"url", base_url},
                          {"data_dir", cfg.data_dir.string()},
                          {"default_model", cfg.default_model},
                          {"allocator", AllocatorName()}});
  server.Run();
  // Whatever the recorder still holds is committed, and its completions handed to the server's
  // io_context, while that still exists (the recorder outlives the server otherwise).
  if (Status st = metering->recorder().Flush(); !st.ok())
    log::Error("usage events could not be committed at shutdown", {{"error", st.message()}});
  log::Info("stopped");
  return 0;
}

}  // namespace gh::app
