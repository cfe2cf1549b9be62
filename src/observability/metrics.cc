#include "observability/metrics.h"

#include <prometheus/text_serializer.h>

namespace gh::observability {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

const Histogram::BucketBoundaries& RequestBuckets() {
  static const Histogram::BucketBoundaries b = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                1,     2.5,   5,    10,    30,   60,  120};
  return b;
}
const Histogram::BucketBoundaries& ModelBuckets() {
  static const Histogram::BucketBoundaries b = {0.01, 0.05, 0.1, 0.25, 0.5, 1,  2,
                                                4,    8,    15,  30,   60,  120};
  return b;
}
const Histogram::BucketBoundaries& StorageBuckets() {
  static const Histogram::BucketBoundaries b = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                0.01,   0.025,   0.05,   0.1,   0.25,   1};
  return b;
}
const Histogram::BucketBoundaries& BatchBuckets() {
  static const Histogram::BucketBoundaries b = {1,   2,   5,   10,   20,   50,
                                                100, 200, 500, 1000, 2000, 5000};
  return b;
}

std::string S(std::string_view v) { return v.empty() ? std::string("none") : std::string(v); }

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(BuildCounter()
                    .Name("gatehouse_http_requests_total")
                    .Help("HTTP requests served, by route pattern, method and status code")
                    .Register(*registry_)),
      request_seconds_(BuildHistogram()
                           .Name("gatehouse_http_request_duration_seconds")
                           .Help("HTTP request latency (to the last byte of a streamed answer), by "
                                 "route and status")
                           .Register(*registry_)),
      in_flight_(BuildGauge()
                     .Name("gatehouse_http_requests_in_flight")
                     .Help("HTTP requests being served")
                     .Register(*registry_)
                     .Add({})),
      open_streams_(BuildGauge()
                        .Name("gatehouse_open_streams")
                        .Help("Server-Sent Events streams open (chat answers being streamed)")
                        .Register(*registry_)
                        .Add({})),
      limit_refusals_(BuildCounter()
                          .Name("gatehouse_limit_refusals_total")
                          .Help("Requests refused by a plan limit, by error code and limit")
                          .Register(*registry_)),
      model_seconds_(BuildHistogram()
                         .Name("gatehouse_model_call_duration_seconds")
                         .Help("Model call latency, by model and outcome")
                         .Register(*registry_)),
      model_ttft_seconds_(
          BuildHistogram()
              .Name("gatehouse_model_time_to_first_token_seconds")
              .Help("Time from a model call's start to its first streamed text, by model")
              .Register(*registry_)),
      model_tokens_(
          BuildCounter()
              .Name("gatehouse_model_tokens_total")
              .Help("Model tokens, by model and kind (input, output, cache_read, cache_write)")
              .Register(*registry_)),
      tool_seconds_(BuildHistogram()
                        .Name("gatehouse_tool_call_duration_seconds")
                        .Help("Tool call latency, by tool and outcome")
                        .Register(*registry_)),
      storage_seconds_(BuildHistogram()
                           .Name("gatehouse_storage_transaction_duration_seconds")
                           .Help("Storage units of work (transactions), by kind and outcome")
                           .Register(*registry_)),
      event_batches_(BuildCounter()
                         .Name("gatehouse_usage_event_batches_total")
                         .Help("Group commits of usage events and spans, by outcome")
                         .Register(*registry_)),
      events_written_(BuildCounter()
                          .Name("gatehouse_usage_events_written_total")
                          .Help("Usage events committed")
                          .Register(*registry_)
                          .Add({})),
      spans_written_(BuildCounter()
                         .Name("gatehouse_trace_spans_written_total")
                         .Help("Trace spans committed")
                         .Register(*registry_)
                         .Add({})),
      event_batch_size_(BuildHistogram()
                            .Name("gatehouse_usage_event_batch_size")
                            .Help("Usage events and spans per group commit")
                            .Register(*registry_)
                            .Add({}, BatchBuckets())),
      event_commit_seconds_(BuildHistogram()
                                .Name("gatehouse_usage_event_commit_duration_seconds")
                                .Help("Duration of one group commit of usage events and spans")
                                .Register(*registry_)
                                .Add({}, StorageBuckets())),
      event_queue_depth_(BuildGauge()
                             .Name("gatehouse_usage_event_queue_depth")
                             .Help("Usage events and spans waiting for the next group commit")
                             .Register(*registry_)
                             .Add({})),
      cost_micros_(BuildCounter()
                       .Name("gatehouse_usage_cost_micros_total")
                       .Help("Cost charged to tenants, in micro-dollars, by service")
                       .Register(*registry_)),
      spans_exported_(BuildCounter()
                          .Name("gatehouse_otlp_spans_exported_total")
                          .Help("Spans accepted by the OTLP collector")
                          .Register(*registry_)
                          .Add({})),
      spans_dropped_(
          BuildCounter()
              .Name("gatehouse_otlp_spans_dropped_total")
              .Help("Spans dropped because the export queue was full or the collector kept failing")
              .Register(*registry_)
              .Add({})),
      export_failures_(BuildCounter()
                           .Name("gatehouse_otlp_export_failures_total")
                           .Help("Failed OTLP export attempts")
                           .Register(*registry_)
                           .Add({})) {}

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             double seconds) {
  const std::string code = std::to_string(status);
  requests_.Add({{"route", S(route)}, {"method", S(method)}, {"status", code}}).Increment();
  request_seconds_
      .Add({{"route", S(route)}, {"method", S(method)}, {"status", code}}, RequestBuckets())
      .Observe(seconds);
}

void Metrics::RequestStarted() { in_flight_.Increment(); }
void Metrics::RequestFinished() { in_flight_.Decrement(); }
void Metrics::StreamOpened() { open_streams_.Increment(); }
void Metrics::StreamClosed() { open_streams_.Decrement(); }

void Metrics::CountLimitRefusal(std::string_view code, std::string_view limit) {
  limit_refusals_.Add({{"code", S(code)}, {"limit", S(limit)}}).Increment();
}

void Metrics::ObserveModelCall(std::string_view model, bool ok, double seconds,
                               std::optional<double> ttft, int64_t input, int64_t output,
                               int64_t cache_read, int64_t cache_write) {
  const std::string m = S(model);
  model_seconds_.Add({{"model", m}, {"outcome", ok ? "ok" : "error"}}, ModelBuckets())
      .Observe(seconds);
  if (ttft) model_ttft_seconds_.Add({{"model", m}}, ModelBuckets()).Observe(*ttft);
  for (auto [kind, n] :
       {std::pair{"input", input}, std::pair{"output", output}, std::pair{"cache_read", cache_read},
        std::pair{"cache_write", cache_write}})
    if (n > 0) model_tokens_.Add({{"model", m}, {"kind", kind}}).Increment(static_cast<double>(n));
}

void Metrics::ObserveToolCall(std::string_view tool, bool ok, double seconds) {
  tool_seconds_.Add({{"tool", S(tool)}, {"outcome", ok ? "ok" : "error"}}, ModelBuckets())
      .Observe(seconds);
}

void Metrics::ObserveStorage(std::string_view kind, bool ok, double seconds) {
  storage_seconds_.Add({{"kind", S(kind)}, {"outcome", ok ? "ok" : "error"}}, StorageBuckets())
      .Observe(seconds);
}

void Metrics::ObserveEventBatch(size_t events, size_t spans, double seconds, bool ok) {
  event_batches_.Add({{"outcome", ok ? "ok" : "error"}}).Increment();
  if (!ok) return;
  events_written_.Increment(static_cast<double>(events));
  spans_written_.Increment(static_cast<double>(spans));
  event_batch_size_.Observe(static_cast<double>(events + spans));
  event_commit_seconds_.Observe(seconds);
}

void Metrics::CountUsageCost(std::string_view service, int64_t cost_micros) {
  if (cost_micros > 0)
    cost_micros_.Add({{"service", S(service)}}).Increment(static_cast<double>(cost_micros));
}

void Metrics::SetEventQueueDepth(size_t items) {
  event_queue_depth_.Set(static_cast<double>(items));
}

void Metrics::CountSpansExported(size_t n) { spans_exported_.Increment(static_cast<double>(n)); }
void Metrics::CountSpansDropped(size_t n) { spans_dropped_.Increment(static_cast<double>(n)); }
void Metrics::CountExportFailure() { export_failures_.Increment(); }

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace gh::observability
