// The metering benchmark (issue #6): ingests usage events through the real path — chat-turn batches
// (an agent invocation, one or two model calls, sometimes a tool call, and the trace summary)
// committed by the group-committing Recorder, which writes the events and maintains the roll-ups —
// into SQLite in a temporary directory, and prints the ingestion rate. Then it serves the cost
// report endpoints with the real handlers (api::RegisterCostRoutes behind pipeline::Chain on an
// in-process http::Server) and times requests over loopback HTTP/1.1 keep-alive, for random
// tenants, users and date ranges: p50, p99 and max per endpoint.
//
// The authenticate and tenant filters are replaced by a stub that makes the caller the tenant's
// admin on a plan with cost reports (their cost is the same for every route; see the gateway
// benchmark), so the figures are the routing, the report queries and the JSON rendering.
//
// Traffic: tenants are skewed (tenant = floor(T * u^2): the largest has ~3 % of all events), users
// uniform within their tenant (100 each by default), events spread evenly over `days` days ending
// today, written in time order as a server would.
//
// Usage: metering_bench [--events N] [--tenants N] [--users N] [--days N] [--queries N]
//                       [--producers N] [--inflight N] [--dir PATH] [--keep] [--reuse] [--today
//                       YYYY-MM-DD]
//   --reuse: skip ingestion and query an existing --dir (written with --keep).
//   --today: the last day of the data (default: today, UTC); give the ingestion's day with --reuse.
#include <boost/asio/use_future.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api/observability_api.h"
#include "common/time_util.h"
#include "http/server.h"
#include "metering/metering.h"
#include "pipeline/chain.h"
#include "storage/database.h"
#include "tenancy/plan.h"

using namespace gh;
namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace net = boost::asio;
using Steady = std::chrono::steady_clock;

namespace {

constexpr int64_t kDayMs = 86'400'000;

struct Args {
  int64_t events = 10'000'000;
  int tenants = 1000;
  int users = 100'000;
  int days = 90;
  int queries = 1000;
  int producers = 4;
  int inflight = 1024;  // turns awaiting their commit at once, over all producers
  std::string dir;
  bool keep = false;
  bool reuse = false;
  std::string today;  // "YYYY-MM-DD"; empty: today
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    auto is = [&](const char* name) { return std::strcmp(argv[i], name) == 0 && i + 1 < argc; };
    if (is("--events"))
      a.events = std::atoll(argv[++i]);
    else if (is("--tenants"))
      a.tenants = std::atoi(argv[++i]);
    else if (is("--users"))
      a.users = std::atoi(argv[++i]);
    else if (is("--days"))
      a.days = std::atoi(argv[++i]);
    else if (is("--queries"))
      a.queries = std::atoi(argv[++i]);
    else if (is("--producers"))
      a.producers = std::atoi(argv[++i]);
    else if (is("--inflight"))
      a.inflight = std::atoi(argv[++i]);
    else if (is("--dir"))
      a.dir = argv[++i];
    else if (is("--today"))
      a.today = argv[++i];
    else if (std::strcmp(argv[i], "--keep") == 0)
      a.keep = true;
    else if (std::strcmp(argv[i], "--reuse") == 0)
      a.reuse = a.keep = true;
    else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      std::exit(2);
    }
  }
  return a;
}

std::string Hex(Random& random, size_t bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : random.Bytes(bytes)) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string TenantName(int t) { return "tenant-" + std::to_string(t); }
std::string UserName(int t, int u) { return "user-" + std::to_string(t) + "-" + std::to_string(u); }

// ---- ingestion ----

struct Generator {
  const Args& a;
  int64_t start_ms;
  int users_per_tenant;

  int PickTenant(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::min(a.tenants - 1, static_cast<int>(a.tenants * u * u));
  }

  // One chat turn at the `turn`-th instant of the run: 2 to 4 events and the trace summary.
  metering::Batch Turn(int64_t turn, int64_t turns, std::mt19937_64& rng, Random& random) const {
    static const char* kModels[] = {"gpt-4o-mini", "claude-3-5-sonnet-20241022", "gpt-4.1",
                                    "us.anthropic.claude-3-haiku-20240307-v1:0"};
    const int64_t at =
        start_ms + static_cast<int64_t>(static_cast<__int128>(a.days) * kDayMs * turn / turns);
    const int t = PickTenant(rng);
    const int u = static_cast<int>(rng() % users_per_tenant);
    metering::Batch b;
    storage::TraceRow trace;
    trace.tenant_id = TenantId(TenantName(t));
    trace.trace_id = TraceId(Hex(random, 16));
    trace.user_id = UserName(t, u);
    trace.session_id = "s-" + std::to_string(rng() % 1'000'000);
    trace.name = "chat";
    trace.model = kModels[rng() % 4];
    trace.started_us = at * 1000;
    trace.ended_us = at * 1000 + 1'500'000;
    trace.status = "ok";
    auto event = [&](std::string_view service, std::string resource, int64_t list) {
      metering::UsageEvent e;
      e.event_id = metering::NewEventId(at, random);
      e.tenant_id = trace.tenant_id;
      e.user_id = UserId(trace.user_id);
      e.session_id = SessionId(trace.session_id);
      e.trace_id = trace.trace_id;
      e.span_id = Hex(random, 8);
      e.service = std::string(service);
      e.resource = std::move(resource);
      e.quantity = 1;
      e.list_cost_micros = list;
      e.cost_micros = list + list / 10;
      e.catalog_version = "2025-08-15";
      e.status = "ok";
      e.day = DayKey(FromUnixMillis(at));
      e.created_at = at;
      return e;
    };
    b.events.push_back(event(metering::services::kAgentRuntime, "orchestration", 1000));
    const bool tool = rng() % 10 < 3;
    for (int call = 0; call < (tool ? 2 : 1); ++call) {
      metering::UsageEvent e = event(metering::services::kModel, trace.model, 0);
      e.input_tokens = static_cast<int64_t>(rng() % 4000);
      e.output_tokens = static_cast<int64_t>(rng() % 800);
      e.cache_read_tokens = static_cast<int64_t>(rng() % 8000);
      e.cache_write_tokens = static_cast<int64_t>(rng() % 1000);
      e.list_cost_micros = e.input_tokens * 3 + e.output_tokens * 15 +
                           e.cache_read_tokens * 3 / 10 + e.cache_write_tokens * 15 / 4;
      e.cost_micros = e.list_cost_micros + e.list_cost_micros / 10;
      b.events.push_back(std::move(e));
      if (tool && call == 0)
        b.events.push_back(event(metering::services::kTool, "get_current_weather", 500));
    }
    for (const auto& e : b.events) trace.cost_micros += e.cost_micros;
    trace.span_count = static_cast<int64_t>(b.events.size()) + 1;
    b.traces.push_back(std::move(trace));
    return b;
  }
};

// Producers keep `inflight` turns committing at once, like as many concurrent chat requests each
// awaiting its commit: the recorder commits whatever is queued together.
double Ingest(const Args& a, metering::Recorder& recorder, int64_t start_ms,
              int64_t& events_written) {
  const int64_t turns = a.events * 10 / 26;  // 2.6 events per turn on average
  Generator gen{a, start_ms, std::max(1, a.users / a.tenants)};
  std::atomic<int64_t> next{0}, written{0};
  std::atomic<bool> failed{false};
  const auto t0 = Steady::now();
  std::vector<std::thread> pool;
  for (int p = 0; p < a.producers; ++p)
    pool.emplace_back([&, p] {
      std::mt19937_64 rng(1000 + p);
      SeededRandom random(2000 + p);
      const size_t window = static_cast<size_t>(std::max(1, a.inflight / a.producers));
      std::deque<std::pair<std::future<Status>, int64_t>> pending;
      auto settle_one = [&] {
        Status st = pending.front().first.get();
        const int64_t n = pending.front().second;
        pending.pop_front();
        if (!st.ok()) {
          std::fprintf(stderr, "commit failed: %s\n", st.ToString().c_str());
          failed = true;
        }
        const int64_t w = written.fetch_add(n) + n;
        if (p == 0 && w / 250'000 != (w - n) / 250'000) {
          const double s = std::chrono::duration<double>(Steady::now() - t0).count();
          std::fprintf(stderr, "\r  %lld events, %.0f events/s   ", static_cast<long long>(w),
                       w / s);
        }
      };
      for (;;) {
        const int64_t turn = next.fetch_add(1);
        if (turn >= turns || failed) break;
        metering::Batch b = gen.Turn(turn, turns, rng, random);
        const auto n = static_cast<int64_t>(b.events.size());
        pending.emplace_back(recorder.AsyncCommit(std::move(b), net::use_future), n);
        if (pending.size() >= window) settle_one();
      }
      while (!pending.empty()) settle_one();
    });
  for (auto& th : pool) th.join();
  std::fprintf(stderr, "\n");
  if (failed) std::exit(1);
  events_written = written;
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

// ---- the report endpoints ----

// Stands in for the authenticate and tenant filters: the caller named by x-bench-tenant /
// x-bench-user, as the tenant's admin, on the premium plan (which has cost reports).
class BenchCaller final : public pipeline::Filter {
 public:
  BenchCaller()
      : plans_(std::make_shared<const tenancy::PlanCatalog>(tenancy::PlanCatalog::Defaults())) {}
  std::string_view name() const override { return "bench_caller"; }
  pipeline::FilterStatus OnRequest(pipeline::RequestContext& ctx) override {
    identity::Principal p;
    p.tenant_id = TenantId(std::string(ctx.request.Header("x-bench-tenant").value_or("")));
    p.user_id = UserId(std::string(ctx.request.Header("x-bench-user").value_or("")));
    p.groups = {p.tenant_id.value() + "-admins"};
    ctx.principal = std::move(p);
    ctx.plans = plans_;
    ctx.plan = plans_->Find("premium");
    return pipeline::FilterStatus::kContinue;
  }

 private:
  tenancy::PlanCatalogPtr plans_;
};

class Client {
 public:
  explicit Client(uint16_t port) : stream_(io_) {
    stream_.connect({net::ip::make_address("127.0.0.1"), port});
  }
  // Returns the response body size; exits on a non-200 answer.
  size_t Get(const std::string& target, const std::string& tenant, const std::string& user) {
    beast::http::request<beast::http::empty_body> req{beast::http::verb::get, target, 11};
    req.set(beast::http::field::host, "127.0.0.1");
    req.set("x-bench-tenant", tenant);
    req.set("x-bench-user", user);
    req.keep_alive(true);
    beast::http::write(stream_, req);
    beast::http::response<beast::http::string_body> res;
    beast::http::read(stream_, buffer_, res);
    if (res.result_int() != 200) {
      std::fprintf(stderr, "GET %s -> %d %s\n", target.c_str(), res.result_int(),
                   res.body().c_str());
      std::exit(1);
    }
    return res.body().size();
  }

 private:
  net::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

struct Endpoint {
  const char* name;
  std::string (*target)(const std::string& tenant, const std::string& user);
};

double Pct(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  const fs::path dir = a.dir.empty() ? fs::temp_directory_path() /
                                           ("gh-metering-bench-" + std::to_string(::getpid()))
                                     : fs::path(a.dir);
  fs::create_directories(dir);
  auto opened = storage::OpenSqlite({(dir / "gatehouse.db").string(), 4, 10'000});
  if (!opened.ok()) return 1;
  auto db = std::move(opened).value();
  if (Status m = storage::Migrate(*db); !m.ok()) {
    std::fprintf(stderr, "migrate: %s\n", m.ToString().c_str());
    return 1;
  }
  SystemClock& clock = SystemClock::Instance();
  SeededRandom random(7);
  observability::Metrics metrics;
  metering::MeteringOptions mo;
  mo.recorder.retention = {0, 0, 0, std::chrono::hours(24 * 365),
                           std::chrono::hours(1)};  // no sweeps here
  auto metering = metering::Metering::Create(mo, *db, clock, random, metrics);
  if (!metering.ok()) return 1;

  // The last `days` days, today included.
  const auto today_date = ParseDate(a.today.empty() ? DayKey(clock.Now()) : a.today);
  if (!today_date) {
    std::fprintf(stderr, "--today must be YYYY-MM-DD\n");
    return 2;
  }
  const int64_t today = ToUnixMillis(*today_date);
  const int64_t start_ms = today - int64_t(a.days - 1) * kDayMs;
  std::printf("metering benchmark: %d tenants, %d users, %d days, SQLite (WAL) in %s\n", a.tenants,
              a.users, a.days, dir.c_str());
  if (!a.reuse) {
    int64_t written = 0;
    const double secs = Ingest(a, (*metering)->recorder(), start_ms, written);
    std::printf(
        "ingestion: %lld events (+ %lld trace summaries) in %.1f s: %.0f events/s, %d turns in "
        "flight\n",
        static_cast<long long>(written), static_cast<long long>(a.events * 10 / 26), secs,
        written / secs, a.inflight);
  }
  std::error_code ec;
  const auto size = [&](const char* name) {
    const auto n = fs::file_size(dir / name, ec);
    return ec ? 0.0 : double(n) / 1e9;
  };
  std::printf("database: %.2f GB (+ %.2f GB WAL)\n", size("gatehouse.db"),
              size("gatehouse.db-wal"));

  pipeline::Router router;
  api::RegisterCostRoutes(router, **metering);
  pipeline::Chain chain(router, {std::make_shared<BenchCaller>()});
  http::ServerOptions so;
  so.port = 0;
  so.threads = 2;
  so.access_log = false;
  so.drain_timeout = std::chrono::milliseconds(2000);
  http::Server server(so, chain);
  auto port = server.Listen();
  if (!port.ok()) return 1;
  std::thread serving([&] { server.Run(); });

  static const Endpoint kEndpoints[] = {
      {"overall-cost",
       [](const std::string& t, const std::string&) {
         return "/api/admin/tenants/" + t + "/overall-cost";
       }},
      {"per-user-cost",
       [](const std::string& t, const std::string&) {
         return "/api/admin/tenants/" + t + "/per-user-cost";
       }},
      {"service-wise-cost",
       [](const std::string& t, const std::string&) {
         return "/api/admin/tenants/" + t + "/service-wise-cost";
       }},
      {"users/{u}/service-cost",
       [](const std::string& t, const std::string& u) {
         return "/api/admin/tenants/" + t + "/users/" + u + "/service-cost";
       }},
      {"comprehensive-report",
       [](const std::string& t, const std::string&) {
         return "/api/admin/tenants/" + t + "/comprehensive-report";
       }},
      {"tenants/{t}/users/{u}/costs",
       [](const std::string& t, const std::string& u) {
         return "/api/tenants/" + t + "/users/" + u + "/costs";
       }},
      {"tenants/{t}/costs (own)",
       [](const std::string& t, const std::string&) { return "/api/tenants/" + t + "/costs"; }},
  };
  auto client = std::make_unique<Client>(*port);
  std::mt19937_64 rng(99);
  const int users_per_tenant = std::max(1, a.users / a.tenants);
  // Random tenant (uniform: any admin may ask), user and range: 1 to 31 days, or (1 in 10) all
  // days.
  auto pick = [&](std::string& tenant, std::string& user, std::string& range) {
    const int t = static_cast<int>(rng() % a.tenants);
    tenant = TenantName(t);
    user = UserName(t, static_cast<int>(rng() % users_per_tenant));
    int64_t len = rng() % 10 == 0 ? a.days : 1 + static_cast<int64_t>(rng() % std::min(31, a.days));
    const int64_t from = start_ms + static_cast<int64_t>(rng() % (a.days - len + 1)) * kDayMs;
    range = "?from=" + DayKey(FromUnixMillis(from)) +
            "&to=" + DayKey(FromUnixMillis(from + (len - 1) * kDayMs));
  };
  std::printf(
      "\nreport endpoints over HTTP (%d requests each, random tenant / user / range; 1 in 10 "
      "covers all %d days)\n",
      a.queries, a.days);
  std::printf("%-28s %9s %9s %9s %10s\n", "endpoint", "p50 ms", "p99 ms", "max ms", "avg bytes");
  for (const auto& ep : kEndpoints) {
    std::vector<double> ms;
    size_t bytes = 0;
    std::vector<std::pair<double, std::string>>
        slowest;  // the 3 slowest requests, for a look with --reuse
    for (int i = 0; i < a.queries; ++i) {
      std::string tenant, user, range;
      pick(tenant, user, range);
      const std::string target = ep.target(tenant, user) + range;
      const auto t0 = Steady::now();
      bytes += client->Get(target, tenant, user);
      ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
      slowest.emplace_back(ms.back(), target);
      std::sort(slowest.begin(), slowest.end(), std::greater<>());
      if (slowest.size() > 3) slowest.pop_back();
    }
    const double p50 = Pct(ms, 0.5), p99 = Pct(ms, 0.99);
    std::printf("%-28s %9.2f %9.2f %9.2f %10zu\n", ep.name, p50, p99, ms.back(), bytes / a.queries);
    for (const auto& [t, target] : slowest)
      std::fprintf(stderr, "  slow: %8.2f ms %s\n", t, target.c_str());
  }
  // The largest tenant (the skew puts ~3 % of all events on tenant-0), all days.
  std::printf("\nthe largest tenant (tenant-0), all %d days, %d requests each\n", a.days,
              std::max(1, a.queries / 10));
  const std::string all =
      "?from=" + DayKey(FromUnixMillis(start_ms)) + "&to=" + DayKey(FromUnixMillis(today));
  for (const auto& ep : kEndpoints) {
    std::vector<double> ms;
    for (int i = 0; i < std::max(1, a.queries / 10); ++i) {
      const std::string user = UserName(0, static_cast<int>(rng() % users_per_tenant));
      const auto t0 = Steady::now();
      client->Get(ep.target(TenantName(0), user) + all, TenantName(0), user);
      ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    }
    const double p50 = Pct(ms, 0.5), p99 = Pct(ms, 0.99);
    std::printf("%-28s %9.2f %9.2f %9.2f\n", ep.name, p50, p99, ms.back());
  }

  client.reset();
  server.Drain();
  serving.join();
  metering->reset();
  db.reset();
  if (!a.keep) fs::remove_all(dir);
  return 0;
}
