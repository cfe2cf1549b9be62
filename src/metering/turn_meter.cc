#include "metering/turn_meter.h"

#include <boost/json.hpp>

#include "common/time_util.h"
#include "observability/trace_context.h"

namespace gh::metering {

namespace bj = boost::json;
namespace sp = observability::spans;

TurnMeter::TurnMeter(TurnInfo info, PriceCatalogPtr prices, const Clock& clock, Random& random,
                     observability::Metrics* metrics,
                     std::shared_ptr<observability::RequestTrace> request_trace)
    : info_(std::move(info)),
      prices_(std::move(prices)),
      clock_(clock),
      random_(random),
      metrics_(metrics),
      request_trace_(std::move(request_trace)) {
  chat_ = NewSpan(sp::kChat, request_trace_ ? request_trace_->span_id() : std::string());
  chat_.Set("gen_ai.request.model", info_.model);
}

int64_t TurnMeter::NowUs() const { return ToUnixMicros(clock_.Now()); }

std::string TurnMeter::Traceparent() const {
  if (!observability::IsTraceId(info_.trace.value())) return "";
  return observability::FormatTraceparent({info_.trace.value(), chat_.span_id, true});
}

observability::Span TurnMeter::NewSpan(std::string_view name, const std::string& parent) const {
  observability::Span s;
  s.tenant_id = info_.tenant.value();
  s.user_id = info_.user.value();
  s.session_id = info_.session.value();
  s.trace_id = info_.trace.value();
  s.span_id = observability::NewSpanId(random_);
  s.parent_span_id = parent;
  s.name = std::string(name);
  s.start_us = NowUs();
  return s;
}

std::string TurnMeter::PricedModel(int64_t at_ms) const {
  if (prices_->FindAt(info_.model, at_ms) || info_.provider_model.empty()) return info_.model;
  return prices_->FindAt(info_.provider_model, at_ms) ? info_.provider_model : info_.model;
}

void TurnMeter::UseModel(std::string model, std::string provider_model) {
  info_.model = std::move(model);
  info_.provider_model = std::move(provider_model);
}

int64_t TurnMeter::WorstCaseModelCost(int64_t max_input, int64_t max_output) const {
  const int64_t now = clock_.NowUnixMillis();
  return prices_->Charge(info_.tenant.value(), prices_->WorstCaseModelCostAt(
                                                   PricedModel(now), max_input, max_output, now));
}

int64_t TurnMeter::InvocationFee() const {
  return prices_->Charge(info_.tenant.value(),
                         prices_->FeesAt(clock_.NowUnixMillis()).invocation_micros);
}

int64_t TurnMeter::ToolFee() const {
  return prices_->Charge(info_.tenant.value(),
                         prices_->FeesAt(clock_.NowUnixMillis()).tool_call_micros);
}

UsageEvent TurnMeter::NewEvent(std::string_view service, const std::string& resource,
                               const std::string& span_id, int64_t list_cost, int64_t cost,
                               bool ok) {
  const int64_t now = clock_.NowUnixMillis();
  UsageEvent e;
  e.event_id = NewEventId(now, random_);
  e.tenant_id = info_.tenant;
  e.user_id = info_.user;
  e.session_id = info_.session;
  e.trace_id = info_.trace;
  e.span_id = span_id;
  e.service = std::string(service);
  e.resource = resource;
  e.quantity = 1;
  e.list_cost_micros = list_cost;
  e.cost_micros = cost;
  e.catalog_version = prices_->version();
  e.status = ok ? "ok" : "error";
  e.day = DayKey(FromUnixMillis(now));
  e.created_at = now;
  return e;
}

void TurnMeter::InvocationCharged(int64_t cost) {
  const int64_t list = prices_->FeesAt(clock_.NowUnixMillis()).invocation_micros;
  events_.push_back(NewEvent(services::kAgentRuntime, std::string(kOrchestration), chat_.span_id,
                             list, cost, true));
  chat_.cost_micros += cost;
}

void TurnMeter::ModelCallStarted() {
  model_call_ = NewSpan(sp::kModelCall, chat_.span_id);
  model_call_->kind = "client";
  first_token_us_.reset();
  ++model_calls_;
}

void TurnMeter::TextDelta() {
  if (model_call_ && !first_token_us_) first_token_us_ = NowUs();
}

int64_t TurnMeter::ModelCallFinished(const TokenCounts& t, bool ok) {
  const int64_t now = clock_.NowUnixMillis();
  const std::string priced = PricedModel(now);
  const int64_t list = prices_->ModelCostAt(priced, t, now);
  const int64_t cost = prices_->Charge(info_.tenant.value(), list);
  if (!model_call_) ModelCallStarted();  // a report without a start: keep it, timed as instant
  observability::Span s = std::move(*model_call_);
  model_call_.reset();
  s.end_us = NowUs();
  s.error = !ok;
  s.cost_micros = cost;
  s.Set("gen_ai.request.model", info_.model)
      .Set("gen_ai.usage.input_tokens", t.input)
      .Set("gen_ai.usage.output_tokens", t.output)
      .Set("gen_ai.usage.cache_read_tokens", t.cache_read)
      .Set("gen_ai.usage.cache_write_tokens", t.cache_write)
      .Set("step", int64_t(model_calls_))
      .Set("latency_ms", (s.end_us - s.start_us) / 1000);
  if (first_token_us_) s.Set("time_to_first_token_ms", (*first_token_us_ - s.start_us) / 1000);
  if (metrics_) {
    std::optional<double> ttft;
    if (first_token_us_) ttft = double(*first_token_us_ - s.start_us) / 1e6;
    metrics_->ObserveModelCall(info_.model, ok, double(s.end_us - s.start_us) / 1e6, ttft, t.input,
                               t.output, t.cache_read, t.cache_write);
  }
  UsageEvent e = NewEvent(services::kModel, info_.model, s.span_id, list, cost, ok);
  e.input_tokens = t.input;
  e.output_tokens = t.output;
  e.cache_read_tokens = t.cache_read;
  e.cache_write_tokens = t.cache_write;
  events_.push_back(std::move(e));
  done_.push_back(std::move(s));
  return cost;
}

void TurnMeter::ToolCallStarted(const std::string& call_id, const std::string& tool,
                                size_t argument_bytes) {
  ToolState st{NewSpan(sp::kToolCall, chat_.span_id), tool, argument_bytes, false};
  st.span.Set("tool.name", tool)
      .Set("tool.call_id", call_id)
      .Set("tool.arguments_bytes", int64_t(argument_bytes));
  if (!tools_.count(call_id)) tool_order_.push_back(call_id);
  tools_[call_id] = std::move(st);
}

void TurnMeter::ToolCallCharged(const std::string& call_id, int64_t cost) {
  auto it = tools_.find(call_id);
  if (it == tools_.end()) return;
  const int64_t list = prices_->FeesAt(clock_.NowUnixMillis()).tool_call_micros;
  events_.push_back(
      NewEvent(services::kTool, it->second.tool, it->second.span.span_id, list, cost, true));
  it->second.span.cost_micros += cost;
}

void TurnMeter::ToolCallFinished(const std::string& call_id, bool is_error, size_t result_bytes) {
  auto it = tools_.find(call_id);
  if (it == tools_.end() || it->second.span.end_us) return;
  ToolState& t = it->second;
  t.span.end_us = NowUs();
  t.span.error = is_error;
  const char* outcome = t.denied ? "denied" : (is_error ? "error" : "ok");
  t.span.Set("tool.result_status", outcome).Set("tool.result_bytes", int64_t(result_bytes));
  if (metrics_)
    metrics_->ObserveToolCall(t.tool, !is_error, double(t.span.end_us - t.span.start_us) / 1e6);
  audit_.push_back({info_.tenant.value(), "user:" + info_.user.value(), "tool.call", t.tool,
                    outcome,
                    bj::serialize(bj::object{{"trace_id", info_.trace.value()},
                                             {"session_id", info_.session.value()},
                                             {"call_id", call_id},
                                             {"arguments_bytes", int64_t(t.argument_bytes)}})});
}

void TurnMeter::Authorization(const std::string& call_id, bool allowed, const std::string& relation,
                              const std::string& object, const std::string& reason) {
  auto it = tools_.find(call_id);
  const std::string parent = it == tools_.end() ? chat_.span_id : it->second.span.span_id;
  observability::Span s = NewSpan(sp::kAuthorization, parent);
  s.end_us = s.start_us;
  s.error = !allowed;
  s.Set("authz.decision", allowed ? "allow" : "deny");
  if (!relation.empty()) s.Set("authz.relation", relation).Set("authz.object", object);
  if (!reason.empty()) s.Set("authz.reason", reason);
  done_.push_back(std::move(s));
  if (allowed) return;
  const std::string tool = it == tools_.end() ? std::string() : it->second.tool;
  if (it != tools_.end()) it->second.denied = true;
  audit_.push_back({info_.tenant.value(), "user:" + info_.user.value(), "authz.denied",
                    "tool:" + tool, "denied",
                    bj::serialize(bj::object{{"trace_id", info_.trace.value()},
                                             {"relation", relation},
                                             {"object", object},
                                             {"reason", reason}})});
}

Batch TurnMeter::Finish(bool ok, const std::string& status_message) {
  const int64_t end = NowUs();
  if (model_call_) {  // the turn ended inside a call (client gone): close it as failed, no cost
                      // known
    model_call_->end_us = end;
    model_call_->error = true;
    done_.push_back(std::move(*model_call_));
    model_call_.reset();
  }
  if (!ok) {
    // The guard does not say whether a call failed; a turn that failed right after a model call
    // (no tool call after it) failed in it.
    observability::Span* last = nullptr;
    for (auto& s : done_)
      if (s.name == sp::kModelCall && (!last || s.end_us >= last->end_us)) last = &s;
    bool tool_after = false;
    for (const auto& [id, t] : tools_)
      if (last && t.span.start_us >= last->end_us) tool_after = true;
    if (last && !tool_after) {
      last->error = true;
      last->status_message = status_message;
    }
  }
  Batch b;
  int64_t total = 0;
  for (const auto& e : events_) total += e.cost_micros;
  chat_.end_us = end;
  chat_.error = !ok;
  chat_.status_message = ok ? "" : status_message;
  chat_.Set("model_calls", int64_t(model_calls_)).Set("tool_calls", int64_t(tool_order_.size()));
  chat_.Set("total_cost_micros", total);
  b.spans.push_back(chat_);  // copied: Traceparent() still names it
  for (auto& s : done_) b.spans.push_back(std::move(s));
  for (const auto& id : tool_order_) {
    auto& t = tools_.at(id);
    if (!t.span.end_us) {
      t.span.end_us = end;
      t.span.error = true;
    }
    b.spans.push_back(std::move(t.span));
  }
  // In start order; of two spans starting together, the enclosing (longer) one first.
  std::stable_sort(b.spans.begin(), b.spans.end(), [](const auto& x, const auto& y) {
    return x.start_us != y.start_us ? x.start_us < y.start_us : x.end_us > y.end_us;
  });
  storage::TraceRow trace;
  trace.tenant_id = info_.tenant;
  trace.trace_id = info_.trace;
  trace.user_id = info_.user.value();
  trace.session_id = info_.session.value();
  trace.name = request_trace_ ? "" : std::string(sp::kChat);
  trace.model = info_.model;
  trace.started_us = chat_.start_us;
  trace.ended_us = end;
  trace.status = ok ? "ok" : "error";
  trace.cost_micros = total;
  trace.span_count = static_cast<int64_t>(b.spans.size());
  // Under a request still in flight, the spans and the summary go with the request's (they are
  // observability, not billing: they need not be durable before the answer, and the trace's row
  // is then written once, not inserted here and updated by the request's batch).
  observability::RequestTrace::Turn turn{std::move(b.spans), std::move(trace)};
  if (!request_trace_ || !request_trace_->Adopt(turn)) {
    b.spans = std::move(turn.spans);
    b.traces.push_back(std::move(turn.summary));
  }
  b.events = std::move(events_);
  b.audit = std::move(audit_);
  return b;
}

}  // namespace gh::metering
