#include "observability/otlp_exporter.h"

#include <gtest/gtest.h>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <atomic>
#include <mutex>
#include <thread>

namespace gh::observability {
namespace {

namespace bj = boost::json;

Span MakeSpan(int i) {
  Span s;
  s.tenant_id = "acme";
  s.user_id = "u1";
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = fmt::format("{:016x}", i + 1);
  s.name = "model_call";
  s.kind = "client";
  s.start_us = 1'700'000'000'000'000 + i;
  s.end_us = s.start_us + 250;
  s.cost_micros = 42;
  s.Set("gen_ai.request.model", "gpt-4o")
      .Set("gen_ai.usage.input_tokens", int64_t(12))
      .Set("ok", true);
  return s;
}

// A collector that answers `status` (or is unreachable) and records what arrives.
class FakeCollector final : public http::HttpClient {
 public:
  boost::asio::awaitable<Result<http::ClientResponse>> Send(http::ClientRequest request) override {
    {
      std::lock_guard lock(mu_);
      ++attempts;
      if (down) co_return Status::Unavailable("connection refused");
      bodies.push_back(request.body);
      urls.push_back(request.url);
    }
    http::ClientResponse r;
    r.status = status;
    co_return r;
  }
  boost::asio::awaitable<Result<http::ClientResponse>> Stream(http::ClientRequest, http::ChunkSink,
                                                              http::CancelSignal*,
                                                              http::HeadersSink) override {
    co_return Status::Unavailable("not used");
  }
  size_t SpansReceived() {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& b : bodies)
      n += bj::parse(b)
               .at("resourceSpans")
               .at(0)
               .at("scopeSpans")
               .at(0)
               .at("spans")
               .as_array()
               .size();
    return n;
  }
  std::mutex mu_;
  std::vector<std::string> bodies, urls;
  std::atomic<bool> down{false};
  std::atomic<int> attempts{0};
  int status = 200;
};

TEST(OtlpExporterTest, SpansAreEncodedAsOtlpJson) {
  bj::value v = bj::parse(OtlpTracesJson({MakeSpan(0)}, "gatehouse-test"));
  const auto& rs = v.at("resourceSpans").at(0);
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("key").as_string(), "service.name");
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("value").at("stringValue").as_string(),
            "gatehouse-test");
  const auto& span = rs.at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("traceId").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span.at("spanId").as_string(), "0000000000000001");
  EXPECT_FALSE(span.as_object().contains("parentSpanId"));
  EXPECT_EQ(span.at("kind").as_int64(), 3);  // SPAN_KIND_CLIENT
  EXPECT_EQ(span.at("startTimeUnixNano").as_string(), "1700000000000000000");
  EXPECT_EQ(span.at("endTimeUnixNano").as_string(), "1700000000000250000");
  EXPECT_EQ(span.at("status").at("code").as_int64(), 1);
  std::map<std::string, bj::value> attrs;
  for (const auto& a : span.at("attributes").as_array())
    attrs[std::string(a.at("key").as_string())] = a.at("value");
  EXPECT_EQ(attrs["gatehouse.tenant_id"].at("stringValue").as_string(), "acme");
  EXPECT_EQ(attrs["enduser.id"].at("stringValue").as_string(), "u1");
  EXPECT_EQ(attrs["gatehouse.cost_micros"].at("intValue").as_string(), "42")
      << "int64 values are strings in OTLP JSON";
  EXPECT_EQ(attrs["gen_ai.usage.input_tokens"].at("intValue").as_string(), "12");
  EXPECT_TRUE(attrs["ok"].at("boolValue").as_bool());
}

TEST(OtlpExporterTest, SpansArriveInBatches) {
  auto collector = std::make_shared<FakeCollector>();
  OtlpOptions o;
  o.endpoint = "http://collector.test:4318/v1/traces";
  o.max_batch_spans = 10;
  o.flush_interval = std::chrono::milliseconds(20);
  Metrics metrics;
  {
    OtlpExporter e(o, collector, &metrics);
    for (int i = 0; i < 35; ++i) e.Export({MakeSpan(i)});
    for (int i = 0; i < 200 && collector->SpansReceived() < 35; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(collector->SpansReceived(), 35u);
  EXPECT_GE(collector->bodies.size(), 4u);
  EXPECT_EQ(collector->urls.at(0), o.endpoint);
  EXPECT_NE(metrics.Serialize().find("gatehouse_otlp_spans_exported_total 35"), std::string::npos);
}

TEST(OtlpExporterTest, ADownCollectorCostsRequestsNothingAndMemoryStaysBounded) {
  auto collector = std::make_shared<FakeCollector>();
  collector->down = true;
  OtlpOptions o;
  o.endpoint = "http://collector.test:4318/v1/traces";
  o.max_queue_spans = 100;
  o.max_batch_spans = 10;
  o.flush_interval = std::chrono::milliseconds(5);
  o.max_backoff = std::chrono::milliseconds(20);
  Metrics metrics;
  OtlpExporter e(o, collector, &metrics);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10'000; ++i) e.Export({MakeSpan(i)});
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(500)) << "exporting never waits for the collector";
  EXPECT_LE(e.queued(), 100u);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_GT(collector->attempts.load(), 1) << "it keeps trying, with backoff";
  EXPECT_LE(e.queued(), 100u);
  // When the collector is back, what was kept arrives.
  collector->down = false;
  for (int i = 0; i < 300 && e.queued() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(e.queued(), 0u);
  EXPECT_GT(collector->SpansReceived(), 0u);
  EXPECT_NE(metrics.Serialize().find("gatehouse_otlp_spans_dropped_total"), std::string::npos);
}

}  // namespace
}  // namespace gh::observability
