#include "metering/price_catalog.h"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace gh::metering {

int64_t PerMillionTokens(int64_t tokens, int64_t micros_per_mtok) {
  if (tokens <= 0 || micros_per_mtok <= 0) return 0;
  __int128 p = static_cast<__int128>(tokens) * micros_per_mtok;
  return static_cast<int64_t>((p + 999'999) / 1'000'000);
}

namespace {

template <typename T>
const T* At(const std::vector<Period<T>>& periods, int64_t at_ms) {
  if (periods.empty()) return nullptr;
  // Sorted by from_ms: the last period that started at or before `at_ms`, else the first.
  auto it = std::upper_bound(periods.begin(), periods.end(), at_ms,
                             [](int64_t t, const Period<T>& p) { return t < p.from_ms; });
  return it == periods.begin() ? &periods.front().value : &std::prev(it)->value;
}

template <typename T>
void SortPeriods(std::vector<Period<T>>& v) {
  std::stable_sort(v.begin(), v.end(),
                   [](const Period<T>& a, const Period<T>& b) { return a.from_ms < b.from_ms; });
}

}  // namespace

PriceCatalog::PriceCatalog(std::map<std::string, ModelPrice> models, int64_t tool_call_micros,
                           int64_t invocation_micros) {
  for (auto& [name, price] : models) data_.models[name].push_back({0, price});
  data_.fees.push_back({0, {invocation_micros, tool_call_micros}});
}

PriceCatalog::PriceCatalog(CatalogData data) : data_(std::move(data)) {
  for (auto& [name, periods] : data_.models) SortPeriods(periods);
  SortPeriods(data_.fees);
}

const std::vector<Period<ModelPrice>>* PriceCatalog::Schedule(const std::string& model) const {
  auto it = data_.models.find(model);
  if (it == data_.models.end()) {
    auto alias = data_.aliases.find(model);
    if (alias == data_.aliases.end()) {
      // A Bedrock cross-region inference profile ("eu.anthropic.claude-...", "apac.", "global.")
      // the catalog does not name is priced as the model it routes to, never as free.
      const size_t dot = model.find('.');
      if (dot == std::string::npos) return nullptr;
      static constexpr std::string_view kGeographies[] = {"us",     "eu", "apac", "us-gov",
                                                          "global", "jp", "au",   "ca"};
      const std::string_view geo = std::string_view(model).substr(0, dot);
      if (std::find(std::begin(kGeographies), std::end(kGeographies), geo) ==
          std::end(kGeographies))
        return nullptr;
      return Schedule(model.substr(dot + 1));
    }
    it = data_.models.find(alias->second);
    if (it == data_.models.end()) return nullptr;
  }
  return &it->second;
}

const ModelPrice* PriceCatalog::FindAt(const std::string& model, int64_t at_ms) const {
  const auto* s = Schedule(model);
  return s ? At(*s, at_ms) : nullptr;
}

const ModelPrice* PriceCatalog::Find(const std::string& model) const {
  return FindAt(model, kLatest);
}

int64_t PriceCatalog::ModelCostAt(const std::string& model, const TokenCounts& t,
                                  int64_t at_ms) const {
  const ModelPrice* p = FindAt(model, at_ms);
  if (!p) return 0;
  return PerMillionTokens(t.input, p->input_per_mtok) +
         PerMillionTokens(t.output, p->output_per_mtok) +
         PerMillionTokens(t.cache_read, p->cache_read_per_mtok) +
         PerMillionTokens(t.cache_write, p->cache_write_per_mtok);
}

int64_t PriceCatalog::ModelCost(const std::string& model, const TokenCounts& t) const {
  return ModelCostAt(model, t, kLatest);
}

int64_t PriceCatalog::WorstCaseModelCostAt(const std::string& model, int64_t max_input,
                                           int64_t max_output, int64_t at_ms) const {
  const ModelPrice* p = FindAt(model, at_ms);
  if (!p) return 0;
  // Each input component is rounded up on its own, so a split can exceed the single rounding by
  // up to 3 micro-dollars: add them.
  int64_t input_price =
      std::max({p->input_per_mtok, p->cache_read_per_mtok, p->cache_write_per_mtok});
  return PerMillionTokens(max_input, input_price) +
         PerMillionTokens(max_output, p->output_per_mtok) + (max_input > 0 ? 3 : 0);
}

int64_t PriceCatalog::WorstCaseModelCost(const std::string& model, int64_t max_input,
                                         int64_t max_output) const {
  return WorstCaseModelCostAt(model, max_input, max_output, kLatest);
}

RuntimeFees PriceCatalog::FeesAt(int64_t at_ms) const {
  const RuntimeFees* f = At(data_.fees, at_ms);
  return f ? *f : RuntimeFees{};
}
int64_t PriceCatalog::tool_call_micros() const { return FeesAt(kLatest).tool_call_micros; }
int64_t PriceCatalog::invocation_micros() const { return FeesAt(kLatest).invocation_micros; }

int64_t PriceCatalog::MarkupBps(const std::string& tenant_id) const {
  auto it = data_.tenant_markup_bps.find(tenant_id);
  return it == data_.tenant_markup_bps.end() ? data_.markup_bps : it->second;
}

int64_t PriceCatalog::ApplyMarkup(int64_t list_micros, int64_t markup_bps) {
  if (list_micros <= 0 || markup_bps == 0) return std::max<int64_t>(0, list_micros);
  __int128 p = static_cast<__int128>(list_micros) * (10'000 + markup_bps);
  return static_cast<int64_t>((p + 9'999) / 10'000);
}

int64_t PriceCatalog::Charge(const std::string& tenant_id, int64_t list_micros) const {
  return ApplyMarkup(list_micros, MarkupBps(tenant_id));
}

}  // namespace gh::metering
