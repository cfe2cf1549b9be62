#include "common/timezone.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace gh {
namespace {

Timestamp At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

TEST(TimeZoneTest, KnowsSummerAndWinterTimeInParisAndNewYork) {
  auto paris = TimeZone::Load("Europe/Paris");
  ASSERT_TRUE(paris.ok()) << paris.status().ToString();
  EXPECT_EQ(paris->OffsetSeconds(At("2026-01-15T12:00:00Z")), 3600);
  EXPECT_EQ(paris->OffsetSeconds(At("2026-07-15T12:00:00Z")), 7200);
  // The switch on the last Sunday of March 2026 (29th) at 01:00 UTC.
  EXPECT_EQ(paris->OffsetSeconds(At("2026-03-29T00:59:59Z")), 3600);
  EXPECT_EQ(paris->OffsetSeconds(At("2026-03-29T01:00:00Z")), 7200);
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny.ok());
  EXPECT_EQ(ny->OffsetSeconds(At("2026-11-22T12:00:00Z")), -5 * 3600);
  EXPECT_EQ(ny->OffsetSeconds(At("2026-06-22T12:00:00Z")), -4 * 3600);
}

TEST(TimeZoneTest, FollowsThePosixRuleBeyondTheLastTransition) {
  auto ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny.ok());
  EXPECT_EQ(ny->OffsetSeconds(At("2045-07-01T12:00:00Z")), -4 * 3600);
  EXPECT_EQ(ny->OffsetSeconds(At("2045-12-01T12:00:00Z")), -5 * 3600);
  TimeZone::Rule r;
  ASSERT_TRUE(TimeZone::ParseRule("AEST-10AEDT,M10.1.0,M4.1.0/3", r));  // southern hemisphere
  EXPECT_EQ(TimeZone::RuleOffset(r, ToUnixSeconds(At("2045-01-10T00:00:00Z"))), 11 * 3600);
  EXPECT_EQ(TimeZone::RuleOffset(r, ToUnixSeconds(At("2045-06-10T00:00:00Z"))), 10 * 3600);
  ASSERT_TRUE(TimeZone::ParseRule("<+0530>-5:30", r));
  EXPECT_EQ(TimeZone::RuleOffset(r, 0), 5 * 3600 + 1800);
}

TEST(TimeZoneTest, RefusesUnknownZonesAndPathTricks) {
  EXPECT_FALSE(TimeZone::Load("Mars/Olympus_Mons").ok());
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::Load("/etc/passwd").ok());
  EXPECT_EQ(TimeZone::Load("UTC")->OffsetSeconds(At("2026-07-15T12:00:00Z")), 0);
}

}  // namespace
}  // namespace gh
