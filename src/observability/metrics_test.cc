#include "observability/metrics.h"

#include <gtest/gtest.h>

namespace gh::observability {
namespace {

TEST(MetricsTest, TheTextExpositionHasEveryFamily) {
  Metrics m;
  m.ObserveRequest("/api/chat", "POST", 200, 0.12);
  m.ObserveRequest("/api/chat", "POST", 429, 0.002);
  m.CountLimitRefusal("quota_exceeded", "messages_per_day");
  m.ObserveModelCall("gpt-4o", true, 0.8, 0.2, 100, 20, 30, 0);
  m.ObserveStorage("write", true, 0.0004);
  m.StreamOpened();
  const std::string text = m.Serialize();
  for (const char* family :
       {"# TYPE gatehouse_http_requests_total counter",
        "# TYPE gatehouse_http_request_duration_seconds histogram",
        "# TYPE gatehouse_open_streams gauge", "# TYPE gatehouse_limit_refusals_total counter",
        "# TYPE gatehouse_model_call_duration_seconds histogram",
        "# TYPE gatehouse_model_time_to_first_token_seconds histogram",
        "# TYPE gatehouse_model_tokens_total counter",
        "# TYPE gatehouse_storage_transaction_duration_seconds histogram"})
    EXPECT_NE(text.find(family), std::string::npos) << family;
  EXPECT_NE(
      text.find(
          "gatehouse_http_requests_total{method=\"POST\",route=\"/api/chat\",status=\"429\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("gatehouse_model_tokens_total{kind=\"cache_read\",model=\"gpt-4o\"} 30"),
            std::string::npos);
  EXPECT_NE(text.find("gatehouse_open_streams 1"), std::string::npos);
}

}  // namespace
}  // namespace gh::observability
