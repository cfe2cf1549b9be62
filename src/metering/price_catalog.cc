#include "metering/price_catalog.h"

#include <algorithm>

namespace gh::metering {

namespace {
// ceil(tokens * price / 1e6) without overflow for any realistic figure (tokens < 2^40, price < 2^23).
int64_t PerMillion(int64_t tokens, int64_t micros_per_mtok) {
  if (tokens <= 0 || micros_per_mtok <= 0) return 0;
  __int128 p = static_cast<__int128>(tokens) * micros_per_mtok;
  return static_cast<int64_t>((p + 999'999) / 1'000'000);
}
}  // namespace

const ModelPrice* PriceCatalog::Find(const std::string& model) const {
  auto it = models_.find(model);
  return it == models_.end() ? nullptr : &it->second;
}

int64_t PriceCatalog::ModelCost(const std::string& model, const TokenCounts& t) const {
  const ModelPrice* p = Find(model);
  if (!p) return 0;
  return PerMillion(t.input, p->input_per_mtok) + PerMillion(t.output, p->output_per_mtok) +
         PerMillion(t.cache_read, p->cache_read_per_mtok) + PerMillion(t.cache_write, p->cache_write_per_mtok);
}

int64_t PriceCatalog::WorstCaseModelCost(const std::string& model, int64_t max_input, int64_t max_output) const {
  const ModelPrice* p = Find(model);
  if (!p) return 0;
  int64_t input_price = std::max({p->input_per_mtok, p->cache_read_per_mtok, p->cache_write_per_mtok});
  return PerMillion(max_input, input_price) + PerMillion(max_output, p->output_per_mtok);
}

}  // namespace gh::metering
