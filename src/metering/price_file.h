// Reading a price catalog: the YAML price file (config/prices.yaml is the shipped one, compiled in
// as the default), then the operator's configuration on top. Prices in the file are decimal US
// dollars turned into integer micro-dollars exactly (text to integer, never through a double).
// Pure functions; any thread.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "metering/price_catalog.h"

namespace gh::metering {

// The price file compiled into the binary (config/prices.yaml at build time).
std::string_view DefaultPriceFile();

// Parses a price file. InvalidArgument names the offending entry.
Result<CatalogData> ParsePriceFile(std::string_view yaml_text);
Result<CatalogData> LoadPriceFile(const std::filesystem::path& path);

// What configuration may change on top of the file.
struct PriceOverrides {
  // Replace a model's schedule with one set of prices in effect at all times.
  std::map<std::string, ModelPrice> models;
  std::optional<int64_t> invocation_micros;
  std::optional<int64_t> tool_call_micros;
  std::optional<int64_t> markup_bps;
  std::map<std::string, int64_t> tenant_markup_bps;
  bool empty() const {
    return models.empty() && !invocation_micros && !tool_call_micros && !markup_bps &&
           tenant_markup_bps.empty();
  }
};

// Applies overrides. The version becomes "<file version>+cfg.<hash of the overrides>" so events
// priced with an overridden catalog say so.
CatalogData ApplyOverrides(CatalogData data, const PriceOverrides& overrides);

// "2.50" (dollars) -> 2'500'000 micro-dollars; at most `decimals` fraction digits, no sign, no
// exponent. Used with decimals = 6 for prices and 2 for percentages (-> basis points).
Result<int64_t> ParseFixedPoint(std::string_view text, int decimals);

}  // namespace gh::metering
