// PriceCatalog: what model tokens, tool executions and agent invocations cost, in integer
// micro-dollars (never floating point). Token prices are per million tokens. Every price has
// effective dates: a model (or the runtime fees) has a list of periods, each in effect from a UTC
// instant until the next one, so an event is priced with what was in effect when it happened and
// a price change never rewrites the past. A per-tenant markup (basis points) is added on top.
//
// Costs round up, so a worst-case reservation computed here is never below the settled cost of the
// same usage. The catalog is an immutable snapshot (share it as PriceCatalogPtr); `version` names
// it and is recorded with every usage event.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gh::metering {

struct ModelPrice {
  int64_t input_per_mtok = 0;  // uncached input tokens
  int64_t output_per_mtok = 0;
  int64_t cache_read_per_mtok = 0;
  int64_t cache_write_per_mtok = 0;
  bool operator==(const ModelPrice&) const = default;
};

// Tokens of one model call. `input` excludes the cached tokens, which are counted apart (the
// Anthropic and Bedrock usage fields' meaning; OpenAI's prompt_tokens includes cached_tokens and
// its provider subtracts them).
struct TokenCounts {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cache_read = 0;
  int64_t cache_write = 0;
};

struct RuntimeFees {
  int64_t invocation_micros = 0;  // one agent invocation (a chat turn): orchestration
  int64_t tool_call_micros = 0;   // one tool execution
  bool operator==(const RuntimeFees&) const = default;
};

template <typename T>
struct Period {
  int64_t from_ms = 0;  // unix milliseconds, UTC
  T value;
};

// Everything a catalog is made of, as read from a price file and configuration.
struct CatalogData {
  std::string version = "unversioned";
  std::map<std::string, std::vector<Period<ModelPrice>>> models;
  std::map<std::string, std::string> aliases;  // other name -> model
  std::vector<Period<RuntimeFees>> fees;
  int64_t markup_bps = 0;                            // 100 bps = 1 %
  std::map<std::string, int64_t> tenant_markup_bps;  // tenant id -> bps
};

class PriceCatalog {
 public:
  PriceCatalog() = default;
  // One set of prices in effect at all times, no markup (configuration-only catalogs, tests).
  PriceCatalog(std::map<std::string, ModelPrice> models, int64_t tool_call_micros,
               int64_t invocation_micros);
  explicit PriceCatalog(CatalogData data);

  const std::string& version() const { return data_.version; }

  // The price of a model (or one of its aliases) in effect at `at_ms`; before its first period,
  // the first. A Bedrock cross-region inference profile not listed itself ("eu.<model id>") is
  // priced as <model id>. Null for an unknown model (it costs nothing).
  const ModelPrice* FindAt(const std::string& model, int64_t at_ms) const;
  // The latest period's price.
  const ModelPrice* Find(const std::string& model) const;

  // List cost (before markup) of a call's tokens at `at_ms`.
  int64_t ModelCostAt(const std::string& model, const TokenCounts& tokens, int64_t at_ms) const;
  int64_t ModelCost(const std::string& model, const TokenCounts& tokens) const;
  // An upper bound on the list cost of a call with at most these tokens, whatever mix of cached
  // and uncached input it turns out to be.
  int64_t WorstCaseModelCostAt(const std::string& model, int64_t max_input, int64_t max_output,
                               int64_t at_ms) const;
  int64_t WorstCaseModelCost(const std::string& model, int64_t max_input, int64_t max_output) const;

  RuntimeFees FeesAt(int64_t at_ms) const;
  int64_t tool_call_micros() const;   // latest period
  int64_t invocation_micros() const;  // latest period

  int64_t MarkupBps(const std::string& tenant_id) const;
  // What a tenant is charged for a list cost: ceil(list * (1 + markup)).
  int64_t Charge(const std::string& tenant_id, int64_t list_micros) const;
  static int64_t ApplyMarkup(int64_t list_micros, int64_t markup_bps);

  const CatalogData& data() const { return data_; }

 private:
  const std::vector<Period<ModelPrice>>* Schedule(const std::string& model) const;
  static constexpr int64_t kLatest = INT64_MAX;
  CatalogData data_;
};

using PriceCatalogPtr = std::shared_ptr<const PriceCatalog>;

// ceil(tokens * micros_per_mtok / 1e6), exact for any realistic figure.
int64_t PerMillionTokens(int64_t tokens, int64_t micros_per_mtok);

}  // namespace gh::metering
