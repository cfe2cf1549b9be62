#include "http/sse_parser.h"

#include <gtest/gtest.h>

namespace gh::http {
namespace {

TEST(SseParserTest, ParsesEventsSplitAtEveryByte) {
  std::string stream =
      ": comment\r\nevent: delta\r\ndata: {\"a\":1}\r\n\r\ndata: line1\ndata: line2\n\nid: "
      "7\rdata: x\r\r";
  SseParser p;
  std::vector<SseEvent> events;
  for (char c : stream)
    for (auto& e : p.Feed(std::string_view(&c, 1))) events.push_back(e);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event, "delta");
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[1].event, "");
  EXPECT_EQ(events[1].data, "line1\nline2");
  EXPECT_EQ(events[2].id, "7");
  EXPECT_EQ(events[2].data, "x");
}

TEST(SseParserTest, AnEventWithoutDataIsNotDispatched) {
  SseParser p;
  EXPECT_TRUE(p.Feed("event: ping\n\n").empty());
  auto e = p.Feed("data: [DONE]\n\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].data, "[DONE]");
}

}  // namespace
}  // namespace gh::http
