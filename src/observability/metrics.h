// Metrics: Gatehouse's Prometheus metrics (prometheus-cpp), served as text by GET /metrics.
// Labels are bounded: route patterns (never raw paths), methods, status codes, model and tool
// names, limit names, storage operations — never tenant or user ids (per-tenant figures are the
// cost reports' job). Thread-safe; one instance per process, shared by everything that observes.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace gh::observability {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One HTTP request: `route` is the matched pattern.
  void ObserveRequest(std::string_view route, std::string_view method, int status, double seconds);
  void RequestStarted();
  void RequestFinished();
  void StreamOpened();
  void StreamClosed();
  // A request refused by a limit: `code` is the error code (quota_exceeded, budget_exceeded,
  // rate_limited), `limit` the limit's name when the refusal names one.
  void CountLimitRefusal(std::string_view code, std::string_view limit);

  // One model call (ok or not), with its tokens and, when it streamed text, the time to the first.
  void ObserveModelCall(std::string_view model, bool ok, double seconds,
                        std::optional<double> first_token_seconds, int64_t input_tokens,
                        int64_t output_tokens, int64_t cache_read_tokens,
                        int64_t cache_write_tokens);
  void ObserveToolCall(std::string_view tool, bool ok, double seconds);

  // One storage unit of work: kind is read | write | write_read_committed.
  void ObserveStorage(std::string_view kind, bool ok, double seconds);

  // Usage-event ingestion (the group-commit writer).
  void ObserveEventBatch(size_t events, size_t spans, double seconds, bool ok);
  void CountUsageCost(std::string_view service, int64_t cost_micros);
  void SetEventQueueDepth(size_t items);

  // The OTLP exporter.
  void CountSpansExported(size_t n);
  void CountSpansDropped(size_t n);
  void CountExportFailure();

  // Everything, in the Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& open_streams_;
  prometheus::Family<prometheus::Counter>& limit_refusals_;
  prometheus::Family<prometheus::Histogram>& model_seconds_;
  prometheus::Family<prometheus::Histogram>& model_ttft_seconds_;
  prometheus::Family<prometheus::Counter>& model_tokens_;
  prometheus::Family<prometheus::Histogram>& tool_seconds_;
  prometheus::Family<prometheus::Histogram>& storage_seconds_;
  prometheus::Family<prometheus::Counter>& event_batches_;
  prometheus::Counter& events_written_;
  prometheus::Counter& spans_written_;
  prometheus::Histogram& event_batch_size_;
  prometheus::Histogram& event_commit_seconds_;
  prometheus::Gauge& event_queue_depth_;
  prometheus::Family<prometheus::Counter>& cost_micros_;
  prometheus::Counter& spans_exported_;
  prometheus::Counter& spans_dropped_;
  prometheus::Counter& export_failures_;
};

}  // namespace gh::observability
