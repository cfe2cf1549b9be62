// The weather tools of the seed: current conditions (plans with weather "basic" or "full") and a
// forecast (plans with weather "full"). Data comes from OpenWeatherMap when an API key is set,
// otherwise from an offline source that is deterministic per place and labels itself simulated.
#pragma once

#include <memory>
#include <string>

#include "agent/tool.h"
#include "common/secret.h"
#include "http/client.h"

namespace gh::tools {

class WeatherSource {
 public:
  virtual ~WeatherSource() = default;
  // Returns a JSON object text: location, conditions, temperature_c, feels_like_c, humidity_pct,
  // wind_kph, simulated, and with `forecast_days` > 0 a `forecast` array of {date, conditions,
  // low_c, high_c}.
  virtual agent::Awaitable<Result<std::string>> Lookup(const std::string& location,
                                                       int forecast_days) = 0;
};

std::unique_ptr<WeatherSource> MakeSimulatedWeather();
std::unique_ptr<WeatherSource> MakeOpenWeatherMap(
    Secret api_key, std::shared_ptr<http::HttpClient> client,
    std::string base_url = "https://api.openweathermap.org");

std::shared_ptr<agent::Tool> MakeCurrentWeatherTool(std::shared_ptr<WeatherSource> source);
std::shared_ptr<agent::Tool> MakeForecastTool(std::shared_ptr<WeatherSource> source);

}  // namespace gh::tools
