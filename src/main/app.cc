#include "main/app.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "agent/model_registry.h"
#include "agent/tool.h"
#include "api/services.h"
#include "chat/chat_service.h"
#include "common/log.h"
#include "crypto/master_key.h"
#include "filters/authenticate/authenticate_filter.h"
#include "filters/limits/limits_filter.h"
#include "filters/metering/metering_filter.h"
#include "filters/tenant/tenant_filter.h"
#include "http/client.h"
#include "http/server.h"
#include "identity/service.h"
#include "mail/mailer.h"
#include "main/demo.h"
#include "models/offline_model.h"
#include "models/openai_model.h"
#include "pipeline/chain.h"
#include "storage/database.h"
#include "storage/repositories.h"
#include "tenancy/admin_service.h"
#include "tenancy/plan_store.h"
#include "tenancy/quota.h"
#include "tools/weather.h"
#include "webui/assets.h"

namespace gh::app {

namespace {

int Fail(const Status& st) {
  log::Error("start-up failed", {{"error", st.message()}});
  std::cerr << "gatehouse: " << st.message() << "\n";
  return 1;
}

}  // namespace

int Serve(const Config& cfg) {
  log::Level level = log::Level::kInfo;
  log::ParseLevel(cfg.log_level, level);
  log::SetLevel(level);
  Clock& clock = SystemClock::Instance();
  Random& random = OsRandom::Instance();

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) return Fail(Status::Unavailable("cannot create data directory " + cfg.data_dir.string() + ": " + ec.message()));
  auto db_or = storage::OpenSqlite({(cfg.data_dir / "gatehouse.db").string(), 4, 10'000});
  if (!db_or.ok()) return Fail(db_or.status());
  std::unique_ptr<storage::Database> db = std::move(db_or).value();
  if (Status st = storage::Migrate(*db); !st.ok()) return Fail(st);
  auto master = crypto::LoadOrCreateMasterKey(cfg.data_dir / "master.key", cfg.master_key, random);
  if (!master.ok()) return Fail(master.status());

  std::unique_ptr<mail::Mailer> mailer =
      cfg.mail_kind == "smtp"
          ? mail::MakeSmtpMailer({cfg.smtp_url, cfg.mail_from, cfg.smtp_username, cfg.smtp_password, cfg.smtp_require_tls},
                                 clock, random)
          : mail::MakeOutboxMailer(cfg.data_dir / "outbox", cfg.mail_from, clock, random);

  tenancy::PlanStore plan_store(cfg.plans, *db, clock);
  if (Status st = plan_store.Load(); !st.ok()) return Fail(st);
  auto plans = [&plan_store] { return plan_store.Current(); };
  auto prices = std::make_shared<const metering::PriceCatalog>(cfg.model_prices, cfg.tool_call_micros, cfg.invocation_micros);

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
  models.Add({"offline", "offline", std::make_shared<models::OfflineModel>(cfg.offline_token_delay)});
  if (!cfg.openai_base_url.empty()) {
    models.Add({cfg.openai_model, cfg.openai_model,
                std::make_shared<models::OpenAiModel>(models::OpenAiOptions{cfg.openai_base_url, cfg.openai_api_key}, client)});
  }
  models.set_default(cfg.default_model);
  agent::ToolRegistry tools;
  std::shared_ptr<tools::WeatherSource> weather =
      cfg.openweather_api_key.empty() ? tools::MakeSimulatedWeather()
                                      : tools::MakeOpenWeatherMap(cfg.openweather_api_key, client, cfg.openweather_base_url);
  tools.Add(tools::MakeCurrentWeatherTool(weather));
  tools.Add(tools::MakeForecastTool(weather));

  identity::IdentityConfig icfg;
  icfg.access_token_ttl_seconds = cfg.access_token_ttl_seconds;
  icfg.refresh_token_ttl_seconds = cfg.refresh_token_ttl_seconds;
  icfg.password_hash.m_cost_kib = cfg.password_hash_memory_kib;
  icfg.platform_operators = cfg.platform_operators;
  // The issuer depends on the bound port when none is configured; set below, before Init.
  identity::IdentityService identity(icfg, *db, clock, random, *mailer, plans, *master);
  tenancy::QuotaService quota(*db, clock);
  tenancy::AdminService admin(*db, clock, random, plan_store, quota);
  chat::ChatService chat(*db, clock, random, models, tools, quota, prices);

  pipeline::Router router;
  api::Services services{*db, clock, random, identity, quota, chat, plan_store, admin};
  api::RegisterOpsRoutes(router, services);
  api::RegisterAuthRoutes(router, services);
  api::RegisterTenantRoutes(router, services);
  api::RegisterChatRoutes(router, services);
  api::RegisterAdminRoutes(router, services);

  // The request path, in order. A new concern is one more line here.
  std::vector<std::shared_ptr<pipeline::Filter>> filters = {
      std::make_shared<filters::MeteringFilter>(),  // first in, last out: sees every outcome
      std::make_shared<filters::AuthenticateFilter>(identity),
      std::make_shared<filters::TenantFilter>(*db, plans),
      std::make_shared<filters::LimitsFilter>(quota),
  };
  pipeline::Chain chain(router, filters,
                        [](pipeline::RequestContext& ctx) { return webui::Serve(ctx.request.path, ctx.response); });

  http::Server server(sopt, chain);
  auto port = server.Listen();
  if (!port.ok()) return Fail(port.status());
  std::string host_for_url = cfg.listen_host == "0.0.0.0" ? "127.0.0.1" : cfg.listen_host;
  if (host_for_url.find(':') != std::string::npos) host_for_url = "[" + host_for_url + "]";
  const std::string base_url = fmt::format("http://{}:{}", host_for_url, *port);
  if (Status st = identity.Init(cfg.issuer.empty() ? base_url : cfg.issuer); !st.ok()) return Fail(st);

  if (cfg.demo) {
    if (Status st = SeedDemo(identity, *db, random, base_url); !st.ok()) return Fail(st);
  }

  log::Info("listening", {{"address", cfg.listen_host}, {"port", int64_t(*port)}, {"url", base_url},
                          {"data_dir", cfg.data_dir.string()}, {"default_model", cfg.default_model}});
  server.Run();
  log::Info("stopped");
  return 0;
}

}  // namespace gh::app
