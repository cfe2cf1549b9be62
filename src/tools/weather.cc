#include "tools/weather.h"

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::tools {

namespace bj = boost::json;
using agent::Awaitable;

namespace {

constexpr const char* kConditions[] = {"clear sky", "partly cloudy", "overcast", "light rain",
                                       "showers",   "sunny",         "fog",      "light snow"};

class SimulatedWeather final : public WeatherSource {
 public:
  Awaitable<Result<std::string>> Lookup(const std::string& location, int forecast_days) override {
    // Deterministic per place: the same question gives the same answer.
    std::string h = crypto::Sha256(ToLower(location));
    auto byte = [&](int i) { return static_cast<unsigned char>(h[static_cast<size_t>(i)]); };
    int temp = int(byte(0) % 35) - 5;
    bj::object o{{"location", location},
                 {"conditions", kConditions[byte(1) % 8]},
                 {"temperature_c", temp},
                 {"feels_like_c", temp - int(byte(2) % 4)},
                 {"humidity_pct", 30 + int(byte(3) % 65)},
                 {"wind_kph", int(byte(4) % 40)},
                 {"simulated", true},
                 {"source", "gatehouse offline weather (simulated)"}};
    if (forecast_days > 0) {
      bj::array days;
      for (int d = 1; d <= forecast_days; ++d) {
        int low = temp - 3 + int(byte(5 + d) % 4) - 2;
        days.push_back(bj::object{{"date", fmt::format("day +{}", d)},
                                  {"conditions", kConditions[byte(10 + d) % 8]},
                                  {"low_c", low},
                                  {"high_c", low + 4 + int(byte(15 + d) % 6)}});
      }
      o["forecast"] = std::move(days);
    }
    co_return bj::serialize(o);
  }
};

class OpenWeatherMap final : public WeatherSource {
 public:
  OpenWeatherMap(Secret key, std::shared_ptr<http::HttpClient> client, std::string base)
      : key_(std::move(key)), client_(std::move(client)), base_(std::move(base)) {}

  Awaitable<Result<std::string>> Lookup(const std::string& location, int forecast_days) override {
    std::string q = boost::urls::encode(location, boost::urls::unreserved_chars);
    http::ClientRequest req;
    req.url =
        fmt::format("{}/data/2.5/weather?q={}&units=metric&appid={}", base_, q, key_.reveal());
    req.timeout = std::chrono::seconds(10);
    auto res = co_await client_->Send(req);
    if (!res.ok())
      co_return Status::Unavailable("weather service is unreachable", "tool_unavailable");
    if (res->status == 404)
      co_return Status::NotFound("no such place: " + location, "unknown_location");
    if (res->status != 200)
      co_return Status::Unavailable(fmt::format("weather service answered {}", res->status),
                                    "tool_unavailable");
    boost::system::error_code ec;
    bj::value v = bj::parse(res->body, ec);
    if (ec || !v.is_object())
      co_return Status::Unavailable("weather service sent invalid data", "tool_unavailable");
    const auto& o = v.get_object();
    auto num = [](const bj::value* x) {
      return x && x->is_number() ? x->to_number<double>() : 0.0;
    };
    const bj::object* main =
        o.if_contains("main") && o.at("main").is_object() ? &o.at("main").get_object() : nullptr;
    std::string conditions = "unknown";
    if (auto* w = o.if_contains("weather");
        w && w->is_array() && !w->get_array().empty() && w->get_array()[0].is_object())
      if (auto* d = w->get_array()[0].get_object().if_contains("description"); d && d->is_string())
        conditions = std::string(d->get_string());
    bj::object out{{"location", o.contains("name") && o.at("name").is_string()
                                    ? std::string(o.at("name").get_string())
                                    : location},
                   {"conditions", conditions},
                   {"temperature_c", main ? num(main->if_contains("temp")) : 0.0},
                   {"feels_like_c", main ? num(main->if_contains("feels_like")) : 0.0},
                   {"humidity_pct", main ? num(main->if_contains("humidity")) : 0.0},
                   {"wind_kph", o.contains("wind") && o.at("wind").is_object()
                                    ? num(o.at("wind").get_object().if_contains("speed")) * 3.6
                                    : 0.0},
                   {"simulated", false},
                   {"source", "OpenWeatherMap"}};
    (void)forecast_days;  // the free current-weather endpoint has no forecast; see the note in the
                          // docs
    co_return bj::serialize(out);
  }

 private:
  Secret key_;
  std::shared_ptr<http::HttpClient> client_;
  std::string base_;
};

constexpr const char* kSchema =
    R"({"type":"object","properties":{"location":{"type":"string","minLength":1,"maxLength":100,)"
    R"("description":"City name, optionally with country, e.g. Paris or Paris, FR"}},)"
    R"("required":["location"],"additionalProperties":false})";

class WeatherTool final : public agent::Tool {
 public:
  WeatherTool(std::shared_ptr<WeatherSource> source, bool forecast)
      : source_(std::move(source)), forecast_(forecast) {
    spec_.name = forecast ? "get_weather_forecast" : "get_current_weather";
    spec_.description = forecast ? "Get the weather forecast for the next three days at a place."
                                 : "Get the current weather conditions at a place.";
    spec_.parameters_schema = kSchema;
  }
  const agent::ToolSpec& spec() const override { return spec_; }
  bool AllowedBy(const tenancy::Plan& plan) const override {
    return forecast_ ? plan.weather_tool == "full"
                     : (plan.weather_tool == "basic" || plan.weather_tool == "full");
  }
  Awaitable<agent::ToolResult> Run(const agent::TenantContext&, const bj::object& args) override {
    std::string location(args.at("location").get_string());
    auto res = co_await source_->Lookup(location, forecast_ ? 3 : 0);
    if (!res.ok())
      co_return agent::ToolResult{bj::serialize(bj::object{{"error", res.status().message()}}),
                                  true};
    co_return agent::ToolResult{std::move(*res), false};
  }

 private:
  std::shared_ptr<WeatherSource> source_;
  bool forecast_;
  agent::ToolSpec spec_;
};

}  // namespace

std::unique_ptr<WeatherSource> MakeSimulatedWeather() {
  return std::make_unique<SimulatedWeather>();
}
std::unique_ptr<WeatherSource> MakeOpenWeatherMap(Secret api_key,
                                                  std::shared_ptr<http::HttpClient> client,
                                                  std::string base_url) {
  return std::make_unique<OpenWeatherMap>(std::move(api_key), std::move(client),
                                          std::move(base_url));
}
std::shared_ptr<agent::Tool> MakeCurrentWeatherTool(std::shared_ptr<WeatherSource> source) {
  return std::make_shared<WeatherTool>(std::move(source), false);
}
std::shared_ptr<agent::Tool> MakeForecastTool(std::shared_ptr<WeatherSource> source) {
  return std::make_shared<WeatherTool>(std::move(source), true);
}

}  // namespace gh::tools
