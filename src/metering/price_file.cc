#include "metering/price_file.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "common/time_util.h"

namespace gh::metering {

namespace {

Status Bad(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(fmt::format("price file: {}: {}", where, what),
                                 "invalid_price_file");
}

Result<int64_t> Money(const YAML::Node& node, const std::string& where) {
  if (!node) return int64_t(0);
  if (!node.IsScalar()) return Bad(where, "must be a decimal number of US dollars");
  auto v = ParseFixedPoint(node.Scalar(), 6);
  if (!v.ok()) return Bad(where, v.status().message());
  return *v;
}

Result<int64_t> From(const YAML::Node& period, const std::string& where) {
  const YAML::Node from = period["from"];
  if (!from || !from.IsScalar()) return Bad(where, "needs `from: YYYY-MM-DD`");
  auto t = ParseDate(from.Scalar());
  if (!t) return Bad(where, fmt::format("`from: {}` is not a date (YYYY-MM-DD)", from.Scalar()));
  return ToUnixMillis(*t);
}

Status CheckKeys(const YAML::Node& map, std::initializer_list<std::string_view> known,
                 const std::string& where) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end())
      return Bad(where, "unknown key '" + key + "'");
  }
  return Status::Ok();
}

Result<std::vector<Period<ModelPrice>>> ModelPeriods(const YAML::Node& list,
                                                     const std::string& where) {
  if (!list.IsSequence() || list.size() == 0)
    return Bad(where, "`prices` must be a non-empty list of periods");
  std::vector<Period<ModelPrice>> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node p = list[i];
    const std::string at = fmt::format("{}[{}]", where, i);
    if (!p.IsMap()) return Bad(at, "must be a mapping");
    GH_RETURN_IF_ERROR(CheckKeys(p,
                                 {"from", "input_usd_per_mtok", "output_usd_per_mtok",
                                  "cache_read_usd_per_mtok", "cache_write_usd_per_mtok"},
                                 at));
    Period<ModelPrice> period;
    GH_ASSIGN_OR_RETURN(period.from_ms, From(p, at));
    GH_ASSIGN_OR_RETURN(period.value.input_per_mtok,
                        Money(p["input_usd_per_mtok"], at + ".input_usd_per_mtok"));
    GH_ASSIGN_OR_RETURN(period.value.output_per_mtok,
                        Money(p["output_usd_per_mtok"], at + ".output_usd_per_mtok"));
    GH_ASSIGN_OR_RETURN(period.value.cache_read_per_mtok,
                        Money(p["cache_read_usd_per_mtok"], at + ".cache_read_usd_per_mtok"));
    GH_ASSIGN_OR_RETURN(period.value.cache_write_per_mtok,
                        Money(p["cache_write_usd_per_mtok"], at + ".cache_write_usd_per_mtok"));
    for (const auto& other : out)
      if (other.from_ms == period.from_ms) return Bad(at, "two periods start on the same date");
    out.push_back(period);
  }
  return out;
}

Result<CatalogData> Parse(const YAML::Node& root) {
  if (!root.IsMap()) return Bad("(root)", "must be a mapping");
  GH_RETURN_IF_ERROR(
      CheckKeys(root, {"version", "currency", "agent_runtime", "markup", "models"}, "(root)"));
  CatalogData d;
  if (!root["version"] || !root["version"].IsScalar() || root["version"].Scalar().empty())
    return Bad("version", "is required");
  d.version = root["version"].Scalar();
  if (root["currency"] && root["currency"].Scalar() != "USD")
    return Bad("currency", "only USD is supported");

  if (const YAML::Node fees = root["agent_runtime"]) {
    if (!fees.IsSequence()) return Bad("agent_runtime", "must be a list of periods");
    for (size_t i = 0; i < fees.size(); ++i) {
      const std::string at = fmt::format("agent_runtime[{}]", i);
      const YAML::Node p = fees[i];
      if (!p.IsMap()) return Bad(at, "must be a mapping");
      GH_RETURN_IF_ERROR(CheckKeys(
          p, {"from", "orchestration_usd_per_invocation", "tool_execution_usd_per_action"}, at));
      Period<RuntimeFees> period;
      GH_ASSIGN_OR_RETURN(period.from_ms, From(p, at));
      GH_ASSIGN_OR_RETURN(period.value.invocation_micros,
                          Money(p["orchestration_usd_per_invocation"], at));
      GH_ASSIGN_OR_RETURN(period.value.tool_call_micros,
                          Money(p["tool_execution_usd_per_action"], at));
      d.fees.push_back(period);
    }
  }
  if (const YAML::Node markup = root["markup"]) {
    if (!markup.IsMap()) return Bad("markup", "must be a mapping");
    GH_RETURN_IF_ERROR(CheckKeys(markup, {"default_percent", "tenants"}, "markup"));
    if (markup["default_percent"]) {
      auto bps = ParseFixedPoint(markup["default_percent"].Scalar(), 2);
      if (!bps.ok()) return Bad("markup.default_percent", bps.status().message());
      d.markup_bps = *bps;
    }
    if (const YAML::Node tenants = markup["tenants"]) {
      if (!tenants.IsMap()) return Bad("markup.tenants", "must map tenant ids to percentages");
      for (const auto& kv : tenants) {
        const std::string tenant = kv.first.as<std::string>();
        auto bps = ParseFixedPoint(kv.second.IsScalar() ? kv.second.Scalar() : "", 2);
        if (!bps.ok()) return Bad("markup.tenants." + tenant, bps.status().message());
        d.tenant_markup_bps[tenant] = *bps;
      }
    }
  }
  const YAML::Node models = root["models"];
  if (models && !models.IsMap()) return Bad("models", "must be a mapping of model names");
  if (models) {
    for (const auto& kv : models) {
      const std::string name = kv.first.as<std::string>();
      const std::string at = "models." + name;
      const YAML::Node m = kv.second;
      if (!m.IsMap()) return Bad(at, "must be a mapping with `prices` (and optional `aliases`)");
      GH_RETURN_IF_ERROR(CheckKeys(m, {"aliases", "prices"}, at));
      GH_ASSIGN_OR_RETURN(d.models[name], ModelPeriods(m["prices"], at + ".prices"));
      if (const YAML::Node aliases = m["aliases"]) {
        if (!aliases.IsSequence()) return Bad(at + ".aliases", "must be a list of names");
        for (const auto& a : aliases) {
          const std::string alias = a.Scalar();
          if (d.aliases.count(alias))
            return Bad(at + ".aliases", "'" + alias + "' names two models");
          d.aliases[alias] = name;
        }
      }
    }
  }
  for (const auto& [alias, model] : d.aliases)
    if (d.models.count(alias))
      return Bad("models." + model + ".aliases", "'" + alias + "' is also a model");
  return d;
}

// FNV-1a, 64 bits: a short, stable fingerprint for the catalog version (not a security hash).
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

Result<int64_t> ParseFixedPoint(std::string_view text, int decimals) {
  if (text.empty()) return Status::InvalidArgument("is empty");
  int64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool dot = false, any = false;
  for (char c : text) {
    if (c == '.') {
      if (dot) return Status::InvalidArgument(fmt::format("'{}' is not a decimal number", text));
      dot = true;
      continue;
    }
    if (c < '0' || c > '9')
      return Status::InvalidArgument(fmt::format("'{}' is not a decimal number", text));
    any = true;
    if (dot) {
      if (++frac_digits > decimals)
        return Status::InvalidArgument(
            fmt::format("'{}' has more than {} decimal places", text, decimals));
      frac = frac * 10 + (c - '0');
    } else {
      if (whole > 1'000'000'000'000)
        return Status::InvalidArgument(fmt::format("'{}' is too large", text));
      whole = whole * 10 + (c - '0');
    }
  }
  if (!any) return Status::InvalidArgument(fmt::format("'{}' is not a decimal number", text));
  int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  for (int i = frac_digits; i < decimals; ++i) frac *= 10;
  return whole * scale + frac;
}

Result<CatalogData> ParsePriceFile(std::string_view yaml_text) {
  try {
    return Parse(YAML::Load(std::string(yaml_text)));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("price file: ") + e.what(), "invalid_price_file");
  }
}

Result<CatalogData> LoadPriceFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in)
    return Status::InvalidArgument("price file " + path.string() + " cannot be read",
                                   "invalid_price_file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto d = ParsePriceFile(ss.str());
  if (!d.ok()) return Status(d.status()).Annotate(path.string());
  return d;
}

CatalogData ApplyOverrides(CatalogData d, const PriceOverrides& o) {
  if (o.empty()) return d;
  std::string canon;
  for (const auto& [name, p] : o.models) {
    d.aliases.erase(name);
    d.models[name] = {{0, p}};
    canon += fmt::format("m:{}={},{},{},{};", name, p.input_per_mtok, p.output_per_mtok,
                         p.cache_read_per_mtok, p.cache_write_per_mtok);
  }
  if (o.invocation_micros || o.tool_call_micros) {
    RuntimeFees latest = d.fees.empty() ? RuntimeFees{} : d.fees.back().value;
    if (o.invocation_micros) latest.invocation_micros = *o.invocation_micros;
    if (o.tool_call_micros) latest.tool_call_micros = *o.tool_call_micros;
    d.fees = {{0, latest}};
    canon += fmt::format("f:{},{};", latest.invocation_micros, latest.tool_call_micros);
  }
  if (o.markup_bps) {
    d.markup_bps = *o.markup_bps;
    canon += fmt::format("k:{};", *o.markup_bps);
  }
  for (const auto& [tenant, bps] : o.tenant_markup_bps) {
    d.tenant_markup_bps[tenant] = bps;
    canon += fmt::format("t:{}={};", tenant, bps);
  }
  d.version += fmt::format("+cfg.{:08x}", static_cast<uint32_t>(Fnv1a(canon)));
  return d;
}

}  // namespace gh::metering
