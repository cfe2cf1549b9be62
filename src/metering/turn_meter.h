// TurnMeter: what one chat turn costs and how it ran. The chat turn's call guard reports each
// model call (tokens, outcome; the meter times it and notes the first streamed text), each tool
// call (arguments size, charge, result), each authorization decision and the agent invocation;
// the meter prices them with the catalog in effect (markup included), and at the end of the turn
// hands back one Batch: the usage events, the spans (the turn's `chat` span under the request's
// span, a span per model call, tool call and authorization decision, each with the cost it
// incurred), the trace summary and the audit records of the tool calls and denials.
//
// Belongs to one turn; called from that turn's coroutine only (one thread at a time).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/random.h"
#include "metering/price_catalog.h"
#include "metering/recorder.h"
#include "observability/metrics.h"
#include "observability/trace_registry.h"

namespace gh::metering {

struct TurnInfo {
  TenantId tenant;
  UserId user;
  SessionId session;
  TraceId trace;
  std::string model;           // the registered model name: what events and reports show
  std::string provider_model;  // the provider's id: priced with when the catalog lacks `model`
};

class TurnMeter {
 public:
  // `request_trace` (may be null) is the HTTP request's trace: the turn's span hangs under it.
  // `metrics` may be null.
  TurnMeter(TurnInfo info, PriceCatalogPtr prices, const Clock& clock, Random& random,
            observability::Metrics* metrics,
            std::shared_ptr<observability::RequestTrace> request_trace);

  const TurnInfo& info() const { return info_; }
  const std::string& chat_span_id() const { return chat_.span_id; }
  // W3C traceparent naming the turn's span, for calls upstream; empty when the trace id is not a
  // W3C trace id.
  std::string Traceparent() const;

  // The model whose calls follow (a fallback model answering instead of the one the turn started
  // with): the calls it answers are priced by it and recorded under its name.
  void UseModel(std::string model, std::string provider_model);

  // What the tenant is charged (markup included), at the prices in effect now.
  int64_t WorstCaseModelCost(int64_t max_input_tokens, int64_t max_output_tokens) const;
  int64_t InvocationFee() const;
  int64_t ToolFee() const;

  void InvocationCharged(int64_t cost_micros);
  void ModelCallStarted();
  void TextDelta();
  // Ends the model call in flight; returns its charged cost.
  int64_t ModelCallFinished(const TokenCounts& tokens, bool ok);
  void ToolCallStarted(const std::string& call_id, const std::string& tool, size_t argument_bytes);
  void ToolCallCharged(const std::string& call_id, int64_t cost_micros);
  void ToolCallFinished(const std::string& call_id, bool is_error, size_t result_bytes);
  void Authorization(const std::string& call_id, bool allowed, const std::string& relation,
                     const std::string& object, const std::string& reason);

  // Closes the turn and returns everything to record. Call once.
  Batch Finish(bool ok, const std::string& status_message);

 private:
  int64_t NowUs() const;
  std::string PricedModel(int64_t at_ms) const;
  observability::Span NewSpan(std::string_view name, const std::string& parent) const;
  UsageEvent NewEvent(std::string_view service, const std::string& resource,
                      const std::string& span_id, int64_t list_cost, int64_t cost, bool ok);

  struct ToolState {
    observability::Span span;
    std::string tool;
    size_t argument_bytes = 0;
    bool denied = false;
  };

  TurnInfo info_;
  PriceCatalogPtr prices_;
  const Clock& clock_;
  Random& random_;
  observability::Metrics* metrics_;
  std::shared_ptr<observability::RequestTrace> request_trace_;
  observability::Span chat_;
  std::optional<observability::Span> model_call_;
  std::optional<int64_t> first_token_us_;
  int model_calls_ = 0;
  std::map<std::string, ToolState> tools_;  // by call id, in flight or done
  std::vector<std::string> tool_order_;
  std::vector<observability::Span> done_;
  std::vector<UsageEvent> events_;
  std::vector<audit::AuditEntry> audit_;
};

}  // namespace gh::metering
