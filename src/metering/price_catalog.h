// PriceCatalog: what model tokens, tool executions and agent invocations cost, in integer
// micro-dollars (never floating point). Token prices are per million tokens. Costs round up, so a
// worst-case reservation computed here is never below the settled cost of the same usage.
// Immutable snapshot; share freely.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace gh::metering {

struct ModelPrice {
  int64_t input_per_mtok = 0;
  int64_t output_per_mtok = 0;
  int64_t cache_read_per_mtok = 0;
  int64_t cache_write_per_mtok = 0;
};

struct TokenCounts {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cache_read = 0;
  int64_t cache_write = 0;
};

class PriceCatalog {
 public:
  PriceCatalog() = default;
  PriceCatalog(std::map<std::string, ModelPrice> models, int64_t tool_call_micros, int64_t invocation_micros)
      : models_(std::move(models)), tool_call_micros_(tool_call_micros), invocation_micros_(invocation_micros) {}

  const ModelPrice* Find(const std::string& model) const;
  int64_t ModelCost(const std::string& model, const TokenCounts& tokens) const;
  // An upper bound on the cost of a call with at most these tokens, whatever mix of cached and
  // uncached input it turns out to be.
  int64_t WorstCaseModelCost(const std::string& model, int64_t max_input, int64_t max_output) const;
  int64_t tool_call_micros() const { return tool_call_micros_; }
  int64_t invocation_micros() const { return invocation_micros_; }
  const std::map<std::string, ModelPrice>& models() const { return models_; }

 private:
  std::map<std::string, ModelPrice> models_;
  int64_t tool_call_micros_ = 0;
  int64_t invocation_micros_ = 0;
};

using PriceCatalogPtr = std::shared_ptr<const PriceCatalog>;

}  // namespace gh::metering
