#include "tenancy/plan_json.h"

#include <fmt/format.h>
#include <boost/json.hpp>

namespace gh::tenancy {

namespace bj = boost::json;

namespace {
bj::value Opt(const std::optional<int64_t>& v) { return v ? bj::value(*v) : bj::value(nullptr); }
Status Bad(std::string_view field, std::string_view what) {
  return Status::Unprocessable(fmt::format("plan field '{}' {}", field, what), "invalid_plan")
      .WithDetail("field", std::string(field));
}
}  // namespace

bj::object PlanToJson(const Plan& p) {
  bj::array tools;
  if (p.weather_tool == "basic" || p.weather_tool == "full")
    tools.emplace_back("get_current_weather");
  if (p.weather_tool == "full") tools.emplace_back("get_weather_forecast");
  bj::array models;
  for (const auto& m : p.allowed_models) models.emplace_back(m);
  bj::array fallbacks;
  for (const auto& m : p.fallback_models) fallbacks.emplace_back(m);
  return bj::object{{"name", p.name},
                    {"messages_per_day", Opt(p.messages_per_day)},
                    {"messages_per_month", Opt(p.messages_per_month)},
                    {"tokens_per_month", Opt(p.tokens_per_month)},
                    {"budget_micros_per_month", Opt(p.budget_micros_per_month)},
                    {"requests_per_minute", Opt(p.requests_per_minute)},
                    {"concurrent_sessions", p.concurrent_sessions},
                    {"max_concurrent_sessions", p.concurrent_sessions},
                    {"session_minutes", p.session_minutes},
                    {"session_duration_minutes", p.session_minutes},
                    {"idle_timeout_minutes", p.idle_timeout_minutes},
                    {"weather_tool", p.weather_tool},
                    {"tools", std::move(tools)},
                    {"cost_reports", p.cost_reports},
                    {"allowed_models", std::move(models)},
                    {"default_model", p.default_model},
                    {"fallback_models", std::move(fallbacks)},
                    {"max_agent_steps", p.max_agent_steps},
                    {"max_agent_seconds", p.max_agent_seconds},
                    {"max_output_tokens", p.max_output_tokens}};
}

Status ApplyPlanJson(const bj::object& f, Plan& p) {
  for (const auto& [key, v] : f) {
    auto opt_limit = [&](std::optional<int64_t>& dst) -> Status {
      if (v.is_null()) {
        dst.reset();
        return Status::Ok();
      }
      if (!v.is_int64() && !v.is_uint64())
        return Bad(key, "must be a non-negative integer or null (unlimited)");
      int64_t n =
          v.is_int64() ? v.get_int64() : int64_t(std::min<uint64_t>(v.get_uint64(), INT64_MAX));
      if (n < 0) return Bad(key, "must not be negative");
      dst = n;
      return Status::Ok();
    };
    auto int_in = [&](int64_t& dst, int64_t lo, int64_t hi) -> Status {
      if (!v.is_int64() && !v.is_uint64()) return Bad(key, "must be an integer");
      int64_t n =
          v.is_int64() ? v.get_int64() : int64_t(std::min<uint64_t>(v.get_uint64(), INT64_MAX));
      if (n < lo || n > hi) return Bad(key, fmt::format("must be between {} and {}", lo, hi));
      dst = n;
      return Status::Ok();
    };
    if (key == "name" || key == "tools" || key == "max_concurrent_sessions" ||
        key == "session_duration_minutes") {
      continue;  // derived or identifying fields, shown but not edited here
    } else if (key == "messages_per_day") {
      GH_RETURN_IF_ERROR(opt_limit(p.messages_per_day));
    } else if (key == "messages_per_month") {
      GH_RETURN_IF_ERROR(opt_limit(p.messages_per_month));
    } else if (key == "tokens_per_month") {
      GH_RETURN_IF_ERROR(opt_limit(p.tokens_per_month));
    } else if (key == "budget_micros_per_month") {
      GH_RETURN_IF_ERROR(opt_limit(p.budget_micros_per_month));
    } else if (key == "requests_per_minute") {
      GH_RETURN_IF_ERROR(opt_limit(p.requests_per_minute));
      if (p.requests_per_minute && *p.requests_per_minute == 0)
        return Bad(key, "must be at least 1 (or null)");
    } else if (key == "concurrent_sessions") {
      GH_RETURN_IF_ERROR(int_in(p.concurrent_sessions, 1, 100000));
    } else if (key == "session_minutes") {
      GH_RETURN_IF_ERROR(int_in(p.session_minutes, 1, 525600));
    } else if (key == "idle_timeout_minutes") {
      GH_RETURN_IF_ERROR(int_in(p.idle_timeout_minutes, 1, 525600));
    } else if (key == "max_output_tokens") {
      GH_RETURN_IF_ERROR(int_in(p.max_output_tokens, 1, 1'000'000));
    } else if (key == "max_agent_seconds") {
      GH_RETURN_IF_ERROR(int_in(p.max_agent_seconds, 1, 3600));
    } else if (key == "max_agent_steps") {
      int64_t n = 0;
      GH_RETURN_IF_ERROR(int_in(n, 1, 50));
      p.max_agent_steps = int(n);
    } else if (key == "weather_tool" || key == "cost_reports" || key == "default_model") {
      if (!v.is_string()) return Bad(key, "must be a string");
      std::string s(v.get_string());
      if (key == "weather_tool") {
        if (s != "none" && s != "basic" && s != "full")
          return Bad(key, "must be none, basic or full");
        p.weather_tool = s;
      } else if (key == "cost_reports") {
        if (s != "none" && s != "admin") return Bad(key, "must be none or admin");
        p.cost_reports = s;
      } else {
        p.default_model = s;
      }
    } else if (key == "allowed_models" || key == "fallback_models") {
      if (!v.is_array()) return Bad(key, "must be a list of model names");
      std::vector<std::string> models;
      for (const auto& m : v.get_array()) {
        if (!m.is_string()) return Bad(key, "must be a list of model names");
        models.emplace_back(m.get_string());
      }
      if (key == "fallback_models" && models.size() > 8)
        return Bad(key, "must name at most 8 models");
      (key == "allowed_models" ? p.allowed_models : p.fallback_models) = std::move(models);
    } else {
      return Bad(key, "is not a plan field");
    }
  }
  return Status::Ok();
}

}  // namespace gh::tenancy
