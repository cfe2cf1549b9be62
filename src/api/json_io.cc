#include "api/json_io.h"

#include "common/time_util.h"

namespace gh::api {

bj::value OptionalInt(const std::optional<int64_t>& v) { return v ? bj::value(*v) : bj::value(nullptr); }

std::string Iso(int64_t unix_millis) { return FormatRfc3339(FromUnixMillis(unix_millis)); }

bj::object PlanJson(const tenancy::Plan& p) {
  bj::array tools;
  if (p.weather_tool == "basic" || p.weather_tool == "full") tools.emplace_back("get_current_weather");
  if (p.weather_tool == "full") tools.emplace_back("get_weather_forecast");
  bj::array models;
  for (const auto& m : p.allowed_models) models.emplace_back(m);
  return bj::object{{"name", p.name},
                    {"messages_per_day", OptionalInt(p.messages_per_day)},
                    {"messages_per_month", OptionalInt(p.messages_per_month)},
                    {"tokens_per_month", OptionalInt(p.tokens_per_month)},
                    {"budget_micros_per_month", OptionalInt(p.budget_micros_per_month)},
                    {"requests_per_minute", OptionalInt(p.requests_per_minute)},
                    {"max_concurrent_sessions", p.concurrent_sessions},
                    {"session_duration_minutes", p.session_minutes},
                    {"idle_timeout_minutes", p.idle_timeout_minutes},
                    {"weather_tool", p.weather_tool},
                    {"tools", std::move(tools)},
                    {"cost_reports", p.cost_reports},
                    {"allowed_models", std::move(models)},
                    {"default_model", p.default_model}};
}

bj::object SessionJson(const storage::SessionRecord& s) {
  return bj::object{{"session_id", s.id.value()},
                    {"user_id", s.user_id.value()},
                    {"title", s.title},
                    {"created_at", Iso(s.created_at)},
                    {"last_active_at", Iso(s.last_active_at)},
                    {"expires_at", Iso(s.expires_at)},
                    {"ended_at", s.ended_at ? bj::value(Iso(*s.ended_at)) : bj::value(nullptr)},
                    {"message_count", s.message_count}};
}

}  // namespace gh::api
