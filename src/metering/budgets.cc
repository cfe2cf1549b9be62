#include "metering/budgets.h"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "common/log.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "crypto/hash.h"
#include "metering/usage_event.h"

namespace gh::metering {

namespace st = gh::storage;
namespace bj = boost::json;

Status Budgets::Set(const TenantId& tenant, int64_t budget, std::vector<int64_t> thresholds,
                    const std::string& updated_by) {
  if (budget <= 0)
    return Status::InvalidArgument("monthly_budget_micros must be a positive integer",
                                   "invalid_budget");
  if (thresholds.empty()) thresholds = {50, 80, 100};
  std::sort(thresholds.begin(), thresholds.end());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  if (thresholds.size() > 10 || thresholds.front() < 1 || thresholds.back() > 1000)
    return Status::InvalidArgument("thresholds are 1 to 10 percentages between 1 and 1000",
                                   "invalid_budget");
  st::BudgetRow row{tenant, budget, thresholds, clock_.NowUnixMillis(), updated_by};
  return db_.Write([&](st::Tx& tx) { return st::cost_budgets::Put(tx, row); });
}

Status Budgets::Clear(const TenantId& tenant) {
  return db_.Write([&](st::Tx& tx) { return st::cost_budgets::Delete(tx, tenant); });
}

Result<BudgetStatus> Budgets::Get(const TenantId& tenant) {
  BudgetStatus s;
  s.month = MonthKey(clock_.Now());
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(s.budget, st::cost_budgets::Get(tx, tenant));
    GH_ASSIGN_OR_RETURN(auto month, st::cost_rollups::Month(tx, tenant, s.month));
    s.spend_micros = month.cost_micros;
    GH_ASSIGN_OR_RETURN(s.alerts, st::cost_budgets::ListAlerts(tx, tenant, 100));
    return Status::Ok();
  }));
  return s;
}

Result<std::vector<st::AlertRow>> RecordCrossedThresholds(st::Tx& tx, const TenantId& tenant,
                                                          const std::string& month,
                                                          int64_t now_ms) {
  std::vector<st::AlertRow> out;
  GH_ASSIGN_OR_RETURN(auto budget, st::cost_budgets::Get(tx, tenant));
  if (!budget || budget->monthly_budget_micros <= 0) return out;
  GH_ASSIGN_OR_RETURN(auto spent, st::cost_rollups::Month(tx, tenant, month));
  for (int64_t t : budget->thresholds) {
    // spend >= budget * t / 100, in integers.
    if (static_cast<__int128>(spent.cost_micros) * 100 <
        static_cast<__int128>(budget->monthly_budget_micros) * t)
      continue;
    st::AlertRow a{tenant, month, t, spent.cost_micros, budget->monthly_budget_micros,
                   now_ms, {},    {}};
    GH_ASSIGN_OR_RETURN(bool recorded, st::cost_budgets::InsertAlert(tx, a));
    if (recorded) out.push_back(std::move(a));
  }
  return out;
}

std::string AlertJson(const st::AlertRow& a) {
  return bj::serialize(bj::object{{"type", "cost_budget_threshold_crossed"},
                                  {"tenant_id", a.tenant_id.value()},
                                  {"month", a.month},
                                  {"threshold_percent", a.threshold_percent},
                                  {"spend_micros", a.spend_micros},
                                  {"budget_micros", a.budget_micros},
                                  {"spend_usd", FormatUsd(a.spend_micros)},
                                  {"budget_usd", FormatUsd(a.budget_micros)},
                                  {"at", FormatRfc3339Millis(FromUnixMillis(a.created_at))}});
}

AlertNotifier::AlertNotifier(WebhookOptions options, st::Database& db, const Clock& clock,
                             std::shared_ptr<http::HttpClient> client)
    : opt_(std::move(options)), db_(db), clock_(clock), client_(std::move(client)) {
  thread_ = std::thread([this] { Run(); });
}

AlertNotifier::~AlertNotifier() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertNotifier::Notify(std::vector<st::AlertRow> alerts) {
  if (alerts.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& a : alerts) queue_.push_back(std::move(a));
  }
  cv_.notify_all();
}

void AlertNotifier::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && in_progress_ == 0; });
}

Status AlertNotifier::Deliver(boost::asio::io_context& io, const st::AlertRow& alert) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = opt_.url;
  req.timeout = opt_.timeout;
  req.idle_timeout = opt_.timeout;
  req.max_response_bytes = 64 * 1024;
  req.body = AlertJson(alert);
  req.headers.Set("content-type", "application/json");
  req.headers.Set("connection", "close");
  if (!opt_.secret.empty())
    req.headers.Set("x-gatehouse-signature",
                    "sha256=" + HexEncode(crypto::HmacSha256(opt_.secret.reveal(), req.body)));
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) {
      boost::asio::steady_timer t(io, std::chrono::milliseconds(250 * attempt));
      t.wait();
    }
    std::optional<Result<http::ClientResponse>> res;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          auto r = co_await client_->Send(req);
          res.emplace(std::move(r));
        },
        [](std::exception_ptr) {});
    io.restart();
    io.run();
    if (res && res->ok() && (*res)->status >= 200 && (*res)->status < 300) return Status::Ok();
    if (res && res->ok()) {
      last = Status::BadGateway(fmt::format("the webhook answered {}", (*res)->status));
      if ((*res)->status < 500 && (*res)->status != 429) break;  // it will not change its mind
    } else {
      last = Status::Unavailable(res ? res->status().message() : "no answer");
    }
  }
  return last;
}

void AlertNotifier::Run() {
  boost::asio::io_context io;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    st::AlertRow alert = std::move(queue_.front());
    queue_.pop_front();
    ++in_progress_;
    lock.unlock();
    std::optional<int64_t> delivered;
    std::optional<std::string> error;
    if (opt_.url.empty()) {
      error = "no webhook configured";
    } else {
      Status st = Deliver(io, alert);
      if (st.ok())
        delivered = clock_.NowUnixMillis();
      else
        error = st.message();
    }
    if (error && !opt_.url.empty())
      log::Warn("budget alert webhook failed",
                {{"tenant_id", alert.tenant_id.value()}, {"error", *error}});
    Status marked = db_.Write([&](st::Tx& tx) {
      return st::cost_budgets::MarkAlert(tx, alert.tenant_id, alert.month, alert.threshold_percent,
                                         delivered, error);
    });
    if (!marked.ok())
      log::Error("recording an alert's delivery failed", {{"error", marked.message()}});
    lock.lock();
    --in_progress_;
    cv_.notify_all();
  }
}

}  // namespace gh::metering
