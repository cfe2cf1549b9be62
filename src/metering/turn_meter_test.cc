#include "metering/turn_meter.h"

#include <gtest/gtest.h>

#include "common/time_util.h"
#include "observability/trace_context.h"

namespace gh::metering {
namespace {

namespace sp = observability::spans;

class TurnMeterTest : public ::testing::Test {
 protected:
  TurnMeterTest() {
    CatalogData d;
    d.version = "v-test";
    d.models["gpt-4o"] = {{0, {2'500'000, 10'000'000, 1'250'000, 0}}};
    d.fees = {
        {0, {1000, 500}}};  // the seed's AgentCore fees: $0.001 per invocation, $0.0005 per action
    d.tenant_markup_bps["acme"] = 1000;
    prices_ = std::make_shared<const PriceCatalog>(std::move(d));
  }
  TurnInfo Info() {
    return {TenantId("acme"), UserId("u1"), SessionId("s1"), TraceId(std::string(32, 'a')),
            "gpt-4o",         "gpt-4o"};
  }
  PriceCatalogPtr prices_;
  FakeClock clock_;
  SeededRandom random_{3};
};

TEST_F(TurnMeterTest, AChatWithAToolCallGivesItsSpansInOrderWithCostsAttached) {
  auto request =
      std::make_shared<observability::RequestTrace>(std::string(32, 'a'), "1111111111111111", "");
  TurnMeter m(Info(), prices_, clock_, random_, nullptr, request);
  m.InvocationCharged(m.InvocationFee());
  m.ModelCallStarted();
  clock_.Advance(std::chrono::milliseconds(120));
  const int64_t first = m.ModelCallFinished({400, 30, 1000, 0}, true);
  m.ToolCallStarted("call_1", "get_current_weather", 21);
  m.ToolCallCharged("call_1", m.ToolFee());
  m.Authorization("call_1", true, "can_use", "tool:get_current_weather", "");
  clock_.Advance(std::chrono::milliseconds(40));
  m.ToolCallFinished("call_1", false, 80);
  m.ModelCallStarted();
  clock_.Advance(std::chrono::milliseconds(30));
  m.TextDelta();
  clock_.Advance(std::chrono::milliseconds(200));
  m.TextDelta();
  const int64_t second = m.ModelCallFinished({500, 12, 0, 0}, true);
  Batch b = m.Finish(true, "");
  EXPECT_TRUE(b.spans.empty()) << "handed to the request's trace";
  EXPECT_TRUE(b.traces.empty());
  auto taken = request->Take();
  ASSERT_EQ(taken.turns.size(), 1u);
  const std::vector<observability::Span>& spans = taken.turns[0].spans;
  const storage::TraceRow& summary = taken.turns[0].summary;

  // gpt-4o with 10 % markup: (400*2.5 + 30*10 + 1000*1.25) = 2550 -> 2805; (500*2.5 + 12*10) = 1370
  // -> 1507.
  EXPECT_EQ(first, 2805);
  EXPECT_EQ(second, 1507);
  ASSERT_EQ(b.events.size(), 4u);
  int64_t events_total = 0;
  for (const auto& e : b.events) {
    events_total += e.cost_micros;
    EXPECT_EQ(e.catalog_version, "v-test");
    EXPECT_EQ(e.tenant_id.value(), "acme");
    EXPECT_EQ(e.trace_id.value(), std::string(32, 'a'));
  }
  EXPECT_EQ(events_total, 1100 + 2805 + 550 + 1507);
  EXPECT_EQ(b.events[0].service, "agent_runtime");
  EXPECT_EQ(b.events[1].service, "model");
  EXPECT_EQ(b.events[1].cache_read_tokens, 1000);
  EXPECT_EQ(b.events[2].service, "tool");
  EXPECT_EQ(b.events[2].resource, "get_current_weather");

  std::vector<std::string> names;
  int64_t spans_total = 0;
  for (const auto& s : spans) {
    names.push_back(s.name);
    spans_total += s.cost_micros;
    EXPECT_FALSE(s.error) << s.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"chat", "model_call", "tool_call", "authorization",
                                             "model_call"}));
  EXPECT_EQ(spans_total, events_total) << "span costs add up to the trace's cost";
  EXPECT_EQ(spans[0].parent_span_id, "1111111111111111")
      << "the turn hangs under the request's span";
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].name != "authorization") {
      EXPECT_EQ(spans[i].parent_span_id, spans[0].span_id);
    }
  EXPECT_EQ(spans[3].parent_span_id, spans[2].span_id) << "a decision hangs under its tool call";
  for (size_t i = 1; i < spans.size(); ++i) EXPECT_LE(spans[i - 1].start_us, spans[i].start_us);
  auto attr = [](const observability::Span& s,
                 const std::string& k) -> observability::AttributeValue {
    for (const auto& [key, v] : s.attributes)
      if (key == k) return v;
    return std::string("(none)");
  };
  EXPECT_EQ(std::get<int64_t>(attr(spans[1], "latency_ms")), 120);
  EXPECT_EQ(std::get<int64_t>(attr(spans[4], "time_to_first_token_ms")), 30);
  EXPECT_EQ(std::get<int64_t>(attr(spans[2], "tool.arguments_bytes")), 21);
  EXPECT_EQ(std::get<std::string>(attr(spans[2], "tool.result_status")), "ok");
  EXPECT_EQ(summary.cost_micros, events_total);
  EXPECT_EQ(summary.span_count, 5);
  EXPECT_EQ(summary.name, "") << "the request names the trace";
  ASSERT_EQ(b.audit.size(), 1u);
  EXPECT_EQ(b.audit[0].action, "tool.call");
  EXPECT_EQ(b.audit[0].target, "get_current_weather");
  EXPECT_EQ(observability::ParseTraceparent(m.Traceparent())->span_id, spans[0].span_id);
}

TEST_F(TurnMeterTest, ATurnThatEndsAfterItsRequestKeepsItsSpansAndSummaryInItsOwnBatch) {
  auto request =
      std::make_shared<observability::RequestTrace>(std::string(32, 'a'), "1111111111111111", "");
  TurnMeter m(Info(), prices_, clock_, random_, nullptr, request);
  m.ModelCallStarted();
  m.ModelCallFinished({10, 10, 0, 0}, true);
  EXPECT_TRUE(request->Take().turns.empty());  // the request ended first
  Batch b = m.Finish(true, "");
  ASSERT_EQ(b.spans.size(), 2u);
  EXPECT_EQ(b.spans[0].parent_span_id, "1111111111111111");
  ASSERT_EQ(b.traces.size(), 1u);
  EXPECT_EQ(b.traces[0].span_count, 2);
  EXPECT_TRUE(request->Take().turns.empty()) << "nothing adopted after the request's end";
}

TEST_F(TurnMeterTest, ADeniedToolCallIsAuditedAndAFailedTurnMarksItsLastModelCall) {
  TurnMeter m(Info(), prices_, clock_, random_, nullptr, nullptr);
  auto tick = [&] { clock_.Advance(std::chrono::milliseconds(5)); };
  m.ModelCallStarted();
  tick();
  m.ModelCallFinished({10, 10, 0, 0}, true);
  tick();
  m.ToolCallStarted("c", "read_document", 5);
  m.ToolCallCharged("c", m.ToolFee());
  m.Authorization("c", false, "viewer", "document:secret", "no tuple");
  tick();
  m.ToolCallFinished("c", true, 20);
  tick();
  m.ModelCallStarted();
  tick();
  m.ModelCallFinished({10, 0, 0, 0}, true);
  Batch b = m.Finish(false, "upstream_unavailable");
  ASSERT_EQ(b.audit.size(), 2u);
  EXPECT_EQ(b.audit[0].action, "authz.denied");
  EXPECT_EQ(b.audit[1].outcome, "denied");
  EXPECT_TRUE(b.spans.front().error);
  EXPECT_EQ(b.spans.front().parent_span_id, "") << "no request trace: the turn is the root";
  EXPECT_EQ(b.traces[0].name, "chat");
  const auto& last = b.spans.back();
  EXPECT_EQ(last.name, "model_call");
  EXPECT_TRUE(last.error);
  EXPECT_EQ(last.status_message, "upstream_unavailable");
}

}  // namespace
}  // namespace gh::metering
