// Budgets: a tenant admin's monthly cost budget with alert thresholds (percent of the budget,
// e.g. 50, 80, 100). Crossing a threshold records an alert once per tenant, month and threshold
// (a primary key decides, so concurrent writers and processes agree) and the AlertNotifier calls
// the configured webhook for it, once. Spend is the month's charged cost (UTC months), read from
// the monthly roll-up. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/clock.h"
#include "common/secret.h"
#include "common/status.h"
#include "http/client.h"
#include "storage/database.h"
#include "storage/metering_repository.h"

namespace gh::metering {

struct BudgetStatus {
  std::optional<storage::BudgetRow> budget;
  std::string month;  // UTC "YYYY-MM"
  int64_t spend_micros = 0;
  std::vector<storage::AlertRow> alerts;  // newest first
};

class Budgets {
 public:
  Budgets(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  // Thresholds: 1..1000 percent, at most 10, deduplicated and sorted. Budget > 0.
  Status Set(const TenantId& tenant, int64_t monthly_budget_micros, std::vector<int64_t> thresholds,
             const std::string& updated_by);
  Status Clear(const TenantId& tenant);
  Result<BudgetStatus> Get(const TenantId& tenant);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

// Inside a write that just added cost to `tenant` for `month`: records the alerts of thresholds
// the month's spend has reached, returning those recorded now (not those recorded before).
Result<std::vector<storage::AlertRow>> RecordCrossedThresholds(storage::Tx& tx,
                                                               const TenantId& tenant,
                                                               const std::string& month,
                                                               int64_t now_ms);

struct WebhookOptions {
  std::string url;  // empty: alerts are recorded, nobody is called
  Secret secret;    // when set: X-Gatehouse-Signature: sha256=<hex HMAC-SHA256 of the body>
  std::chrono::milliseconds timeout{5000};
};

// The webhook's JSON body for an alert.
std::string AlertJson(const storage::AlertRow& alert);

// Calls the webhook for each alert on its own thread (never on a request's path) and records the
// delivery (or its error) on the alert. One attempt per alert, plus two retries when the receiver
// cannot be reached or answers 5xx. Thread-safe; the destructor delivers what is queued, then
// stops.
class AlertNotifier {
 public:
  AlertNotifier(WebhookOptions options, storage::Database& db, const Clock& clock,
                std::shared_ptr<http::HttpClient> client);
  ~AlertNotifier();
  void Notify(std::vector<storage::AlertRow> alerts);
  // Blocks until every alert queued so far has been attempted (tests).
  void Drain();

 private:
  void Run();
  Status Deliver(boost::asio::io_context& io, const storage::AlertRow& alert);

  const WebhookOptions opt_;
  storage::Database& db_;
  const Clock& clock_;
  std::shared_ptr<http::HttpClient> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<storage::AlertRow> queue_;
  size_t in_progress_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gh::metering
