// Measures what the limits path adds to one chat turn on the embedded default (SQLite, WAL):
// ReserveTurn (rate limit + four message counters), ReserveModelCall (token and spend at worst
// case), SettleModelCall, and the end-of-turn settlement — each its own write transaction, as in
// the server. Prints turns per second with 1 and 2 threads and the latency per turn (p50, p99).
// Usage: limits_bench [turns_per_thread] [users]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "storage/database.h"
#include "tenancy/quota.h"

using namespace gh;
using Clock_ = std::chrono::steady_clock;

namespace {

struct Figures {
  double per_second;
  std::vector<double> latencies_us;
};

Figures Run(storage::Database& db, tenancy::QuotaService& quota, const tenancy::Plan& plan,
            int threads, int turns, int users) {
  std::vector<std::vector<double>> lat(threads);
  auto start = Clock_::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < turns; ++i) {
        UserId user("user-" + std::to_string((t * turns + i) % users));
        tenancy::Limits limits{&plan, {}, nullptr};
        auto t0 = Clock_::now();
        auto r = quota.ReserveTurn(TenantId("bench"), user, limits);
        if (!r.ok()) {
          std::fprintf(stderr, "reserve failed: %s\n", r.status().ToString().c_str());
          std::exit(1);
        }
        if (!quota.ReserveModelCall(*r, 2000, 3000).ok()) std::exit(1);
        if (!quota.SettleModelCall(*r, 700, 300, 2100).ok()) std::exit(1);
        if (!db.Write([&](storage::Tx& tx) {
                 return tenancy::QuotaService::SettleIn(tx, *r);
               }).ok())
          std::exit(1);
        lat[t].push_back(std::chrono::duration<double, std::micro>(Clock_::now() - t0).count());
      }
    });
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(Clock_::now() - start).count();
  Figures out{threads * turns / secs, {}};
  for (auto& v : lat) out.latencies_us.insert(out.latencies_us.end(), v.begin(), v.end());
  std::sort(out.latencies_us.begin(), out.latencies_us.end());
  return out;
}

double Pct(const std::vector<double>& v, double p) {
  return v[static_cast<size_t>(p * (v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  const int turns = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int users = argc > 2 ? std::atoi(argv[2]) : 100;
  auto dir =
      std::filesystem::temp_directory_path() / ("gh-limits-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto db = std::move(storage::OpenSqlite({(dir / "gatehouse.db").string(), 4, 10'000})).value();
  if (!storage::Migrate(*db).ok()) return 1;
  SystemClock& clock = SystemClock::Instance();
  tenancy::QuotaService quota(*db, clock);
  tenancy::Plan plan = tenancy::PlanCatalog::Defaults().plans().at("premium");
  plan.messages_per_day = 1'000'000'000;
  plan.messages_per_month = 1'000'000'000;
  plan.tokens_per_month = 1'000'000'000'000;
  plan.budget_micros_per_month = 1'000'000'000'000;
  plan.requests_per_minute = 1'000'000;
  std::printf(
      "limits path: ReserveTurn + ReserveModelCall + SettleModelCall + SettleIn, SQLite WAL, %d "
      "users\n",
      users);
  std::printf("%-8s %12s %10s %10s\n", "threads", "turns/s", "p50 us", "p99 us");
  for (int threads : {1, 2}) {
    Figures r = Run(*db, quota, plan, threads, turns / threads, users);
    std::printf("%-8d %12.0f %10.1f %10.1f\n", threads, r.per_second, Pct(r.latencies_us, 0.5),
                Pct(r.latencies_us, 0.99));
  }
  db.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
