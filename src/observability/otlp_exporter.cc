#include "observability/otlp_exporter.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "common/log.h"

namespace gh::observability {

namespace bj = boost::json;

namespace {

bj::object AnyValue(const AttributeValue& v) {
  return std::visit(
      [](const auto& x) -> bj::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>)
          return {{"stringValue", x}};
        else if constexpr (std::is_same_v<T, int64_t>)
          return {{"intValue", std::to_string(x)}};  // int64 as string
        else if constexpr (std::is_same_v<T, bool>)
          return {{"boolValue", x}};
        else
          return {{"doubleValue", x}};
      },
      v);
}

bj::object KeyValue(std::string_view key, const AttributeValue& v) {
  return {{"key", key}, {"value", AnyValue(v)}};
}

int Kind(const std::string& kind) {
  if (kind == "server") return 2;
  if (kind == "client") return 3;
  return 1;  // internal
}

}  // namespace

std::string OtlpTracesJson(const std::vector<Span>& spans, std::string_view service_name) {
  bj::array out;
  for (const Span& s : spans) {
    bj::array attrs;
    if (!s.tenant_id.empty()) attrs.push_back(KeyValue("gatehouse.tenant_id", s.tenant_id));
    if (!s.user_id.empty()) attrs.push_back(KeyValue("enduser.id", s.user_id));
    if (!s.session_id.empty()) attrs.push_back(KeyValue("session.id", s.session_id));
    if (s.cost_micros) attrs.push_back(KeyValue("gatehouse.cost_micros", s.cost_micros));
    for (const auto& [k, v] : s.attributes) attrs.push_back(KeyValue(k, v));
    bj::object status{{"code", s.error ? 2 : 1}};
    if (!s.status_message.empty()) status["message"] = s.status_message;
    bj::object span{{"traceId", s.trace_id},
                    {"spanId", s.span_id},
                    {"name", s.name},
                    {"kind", Kind(s.kind)},
                    {"startTimeUnixNano", std::to_string(s.start_us * 1000)},
                    {"endTimeUnixNano", std::to_string(s.end_us * 1000)},
                    {"attributes", std::move(attrs)},
                    {"status", std::move(status)}};
    if (!s.parent_span_id.empty()) span["parentSpanId"] = s.parent_span_id;
    out.push_back(std::move(span));
  }
  bj::object resource{
      {"attributes", bj::array{KeyValue("service.name", std::string(service_name))}}};
  bj::object scope{{"scope", bj::object{{"name", "gatehouse"}, {"version", "0.1.0"}}},
                   {"spans", std::move(out)}};
  bj::object rs{{"resource", std::move(resource)}, {"scopeSpans", bj::array{std::move(scope)}}};
  return bj::serialize(bj::object{{"resourceSpans", bj::array{std::move(rs)}}});
}

OtlpExporter::OtlpExporter(OtlpOptions options, std::shared_ptr<http::HttpClient> client,
                           Metrics* metrics)
    : opt_(std::move(options)), client_(std::move(client)), metrics_(metrics) {
  thread_ = std::thread([this] { Run(); });
}

OtlpExporter::~OtlpExporter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OtlpExporter::Export(std::vector<Span> spans) {
  size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    for (auto& s : spans) {
      if (queue_.size() >= opt_.max_queue_spans) {
        ++dropped;
        continue;
      }
      queue_.push_back(std::move(s));
    }
  }
  if (dropped && metrics_) metrics_->CountSpansDropped(dropped);
  cv_.notify_one();
}

size_t OtlpExporter::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool OtlpExporter::Send(boost::asio::io_context& io, const std::vector<Span>& batch,
                        bool* retryable) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = opt_.endpoint;
  req.timeout = opt_.timeout;
  req.idle_timeout = opt_.timeout;
  req.max_response_bytes = 64 * 1024;
  req.headers.Set("content-type", "application/json");
  // One request a second at most: no pooled connection outlives this thread's io_context.
  req.headers.Set("connection", "close");
  for (const auto& [k, v] : opt_.headers) req.headers.Set(k, v);
  req.body = OtlpTracesJson(batch, opt_.service_name);
  std::optional<Result<http::ClientResponse>> res;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto r = co_await client_->Send(req);
        res.emplace(std::move(r));
      },
      [](std::exception_ptr) {});
  io.restart();
  io.run();
  *retryable = true;
  if (!res || !res->ok()) {
    log::Warn("OTLP export failed",
              {{"error", res ? res->status().message() : std::string("no answer")}});
    return false;
  }
  const int status = (*res)->status;
  if (status >= 200 && status < 300) return true;
  log::Warn("OTLP collector refused a batch", {{"status", int64_t(status)}});
  *retryable = status == 429 || status >= 500;
  return false;
}

void OtlpExporter::Run() {
  boost::asio::io_context io;
  auto backoff = std::chrono::milliseconds(0);
  std::unique_lock lock(mu_);
  for (;;) {
    // Wait for a full batch, the flush interval, or the end.
    cv_.wait_for(lock, opt_.flush_interval,
                 [&] { return stopping_ || queue_.size() >= opt_.max_batch_spans; });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    const bool last = stopping_;
    const size_t n = std::min(queue_.size(), opt_.max_batch_spans);
    std::vector<Span> batch(std::make_move_iterator(queue_.begin()),
                            std::make_move_iterator(queue_.begin() + n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
    lock.unlock();
    bool retryable = false;
    const bool sent = Send(io, batch, &retryable);
    lock.lock();
    if (sent) {
      backoff = std::chrono::milliseconds(0);
      if (metrics_) metrics_->CountSpansExported(batch.size());
      if (last && !queue_.empty()) continue;  // drain what is left, one attempt each
      if (last) return;
      continue;
    }
    if (metrics_) metrics_->CountExportFailure();
    if (last) {
      if (metrics_) metrics_->CountSpansDropped(batch.size() + queue_.size());
      return;
    }
    size_t dropped = 0;
    if (retryable) {
      // Back to the front, oldest first, as far as the bound allows.
      const size_t room =
          opt_.max_queue_spans > queue_.size() ? opt_.max_queue_spans - queue_.size() : 0;
      const size_t keep = std::min(room, batch.size());
      dropped = batch.size() - keep;
      queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.begin() + static_cast<long>(keep)));
      backoff = std::min(opt_.max_backoff,
                         backoff.count() ? backoff * 2 : std::chrono::milliseconds(500));
      cv_.wait_for(lock, backoff, [&] { return stopping_; });
    } else {
      dropped = batch.size();
    }
    if (dropped && metrics_) metrics_->CountSpansDropped(dropped);
  }
}

}  // namespace gh::observability
