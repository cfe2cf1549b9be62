// OtlpExporter: sends finished spans to an OpenTelemetry collector over OTLP/HTTP with the JSON
// encoding (POST <endpoint>, Content-Type application/json, an ExportTraceServiceRequest).
//
// Requests never wait for it: Export() appends to a bounded queue under a mutex and returns;
// when the queue is full the newest spans are dropped and counted. A background thread sends
// batches (up to max_batch_spans, or whatever is queued once flush_interval has passed) with a
// timeout; when the collector is down or answers 429/5xx the batch goes back to the queue (if
// there is room) and the thread backs off exponentially up to max_backoff. A 4xx other than 429
// drops the batch (retrying would not help). Memory is bounded by max_queue_spans.
// Thread-safe. The destructor makes one last attempt to send what is queued, then stops.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "http/client.h"
#include "observability/metrics.h"
#include "observability/span.h"

namespace gh::observability {

struct OtlpOptions {
  std::string endpoint;  // e.g. http://collector:4318/v1/traces
  std::string service_name = "gatehouse";
  std::vector<std::pair<std::string, std::string>>
      headers;  // e.g. the collector's API key; never logged
  size_t max_queue_spans = 20'000;
  size_t max_batch_spans = 512;
  std::chrono::milliseconds flush_interval{1000};
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds max_backoff{30'000};
};

// The OTLP/JSON body for these spans (one resource: this service; one scope).
std::string OtlpTracesJson(const std::vector<Span>& spans, std::string_view service_name);

class OtlpExporter {
 public:
  // `metrics` may be null.
  OtlpExporter(OtlpOptions options, std::shared_ptr<http::HttpClient> client, Metrics* metrics);
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  void Export(std::vector<Span> spans);
  size_t queued() const;

 private:
  void Run();
  // Sends one batch; true when the collector took it (or refused it for good).
  bool Send(boost::asio::io_context& io, const std::vector<Span>& batch, bool* retryable);

  const OtlpOptions opt_;
  std::shared_ptr<http::HttpClient> client_;
  Metrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Span> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gh::observability
