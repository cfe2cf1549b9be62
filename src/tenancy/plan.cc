#include "tenancy/plan.h"

#include <algorithm>

namespace gh::tenancy {

bool Plan::AllowsModel(const std::string& model) const {
  return allowed_models.empty() ||
         std::find(allowed_models.begin(), allowed_models.end(), model) != allowed_models.end();
}

PlanCatalog PlanCatalog::Defaults() {
  std::map<std::string, Plan> plans;
  Plan basic;
  basic.name = "basic";
  basic.messages_per_day = 50;
  basic.messages_per_month = 1000;
  basic.concurrent_sessions = 1;
  basic.session_minutes = 30;
  basic.idle_timeout_minutes = 30;
  basic.weather_tool = "none";
  basic.cost_reports = "none";
  plans["basic"] = basic;

  Plan advanced = basic;
  advanced.name = "advanced";
  advanced.messages_per_day = 200;
  advanced.messages_per_month = 5000;
  advanced.concurrent_sessions = 3;
  advanced.session_minutes = 60;
  advanced.idle_timeout_minutes = 60;
  advanced.weather_tool = "basic";
  plans["advanced"] = advanced;

  Plan premium = basic;
  premium.name = "premium";
  premium.messages_per_day = 1000;
  premium.messages_per_month = 25000;
  premium.concurrent_sessions = 10;
  premium.session_minutes = 240;
  premium.idle_timeout_minutes = 240;
  premium.weather_tool = "full";
  premium.cost_reports = "admin";
  plans["premium"] = premium;
  return PlanCatalog(std::move(plans));
}

const Plan* PlanCatalog::Find(const std::string& name) const {
  auto it = plans_.find(name);
  return it == plans_.end() ? nullptr : &it->second;
}

std::vector<std::string> PlanCatalog::Names() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : plans_) out.push_back(k);
  return out;
}

}  // namespace gh::tenancy
