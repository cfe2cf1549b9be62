#include "observability/trace_context.h"

#include <fmt/format.h>

#include <gtest/gtest.h>

namespace gh::observability {
namespace {

TEST(TraceContextTest, AValidTraceparentIsAccepted) {
  auto c = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(c->span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(c->sampled);
  EXPECT_FALSE(
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->sampled);
  EXPECT_EQ(FormatTraceparent(*c), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
}

TEST(TraceContextTest, AFutureVersionMayCarryMoreFields) {
  EXPECT_TRUE(ParseTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds"));
  EXPECT_FALSE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01what"));
}

TEST(TraceContextTest, InvalidValuesStartANewTrace) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",           // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // extra on version 00
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",        // separators
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",        // not hex
       })
    EXPECT_FALSE(ParseTraceparent(bad)) << bad;
}

TEST(TraceContextTest, NewIdsAreValid) {
  SeededRandom r(1);
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(IsTraceId(NewTraceId(1'796'000'000'000 + i, r)));
    EXPECT_TRUE(IsSpanId(NewSpanId(r)));
  }
  EXPECT_TRUE(IsTraceId(NewTraceId(0, r))) << "never all zero, even at the epoch";
}

TEST(TraceContextTest, NewTraceIdsGrowWithTimeAndDifferWithin) {
  SeededRandom r(2);
  // 1,796,083,200,000 ms (2026-12-01T00:00:00Z) in the first 12 hex digits.
  const std::string a = NewTraceId(1'796'083'200'000, r);
  EXPECT_EQ(a.substr(0, 12), fmt::format("{:012x}", 1'796'083'200'000LL));
  const std::string b = NewTraceId(1'796'083'200'000, r);
  EXPECT_NE(a, b) << "the same millisecond: the random part tells them apart";
  const std::string c = NewTraceId(1'796'083'200'001, r);
  EXPECT_LT(a, c);
  EXPECT_LT(b, c) << "a later millisecond sorts after, whatever the random part";
}

}  // namespace
}  // namespace gh::observability
