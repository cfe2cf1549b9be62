// Plans (subscription tiers): limits and features a tenant's subscription grants. A PlanCatalog is
// an immutable snapshot; the running catalog is swapped atomically when an operator edits plans
// (readers keep the snapshot they started with).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gh::tenancy {

struct Plan {
  std::string name;
  std::optional<int64_t> messages_per_day;
  std::optional<int64_t> messages_per_month;
  std::optional<int64_t> tokens_per_month;
  std::optional<int64_t> budget_micros_per_month;
  std::optional<int64_t> requests_per_minute;
  int64_t concurrent_sessions = 1;
  int64_t session_minutes = 30;
  int64_t idle_timeout_minutes = 30;
  std::string weather_tool = "none";        // none | basic | full
  std::string cost_reports = "none";        // none | admin
  std::vector<std::string> allowed_models;  // empty: any configured model
  std::string default_model;                // empty: the deployment's default model
  int max_agent_steps = 6;
  int64_t max_agent_seconds = 120;  // a turn's agent loop stops with agent_time_limit after this
  // Tried in order when the chosen model fails upstream (after its own retries) before any of its
  // answer reached the client. Names of registered models; unknown ones are skipped.
  std::vector<std::string> fallback_models;
  int64_t max_output_tokens = 1024;

  bool AllowsModel(const std::string& model) const;
};

class PlanCatalog {
 public:
  explicit PlanCatalog(std::map<std::string, Plan> plans) : plans_(std::move(plans)) {}
  // The seed's basic / advanced / premium table.
  static PlanCatalog Defaults();
  const Plan* Find(const std::string& name) const;
  const std::map<std::string, Plan>& plans() const { return plans_; }
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, Plan> plans_;
};

using PlanCatalogPtr = std::shared_ptr<const PlanCatalog>;

}  // namespace gh::tenancy
