#include "common/strings.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <set>

#include "common/random.h"
#include "common/time_util.h"

namespace gh {
namespace {

TEST(StringsTest, Base64UrlRoundTripsEveryLength) {
  SeededRandom rng(7);
  for (size_t n = 0; n < 70; ++n) {
    std::string bytes = rng.Bytes(n);
    auto enc = Base64UrlEncode(bytes);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_TRUE(dec.has_value()) << n;
    EXPECT_EQ(*dec, bytes);
  }
}

TEST(StringsTest, Base64UrlRejectsPaddingForeignAndNonCanonicalInput) {
  EXPECT_FALSE(Base64UrlDecode("YQ==").has_value());
  EXPECT_FALSE(Base64UrlDecode("a+b/").has_value());
  EXPECT_FALSE(Base64UrlDecode("a").has_value());
  EXPECT_FALSE(Base64UrlDecode("YR").has_value());  // low bits set: not canonical "YQ"
  EXPECT_EQ(*Base64UrlDecode("YQ"), "a");
}

TEST(StringsTest, SlugifyKeepsAlphanumericsAndCollapsesTheRest) {
  EXPECT_EQ(Slugify("Acme Corp!"), "acme-corp");
  EXPECT_EQ(Slugify("  --Hello,   World-- "), "hello-world");
  EXPECT_EQ(Slugify("!!!"), "");
}

TEST(StringsTest, HexRoundTrip) {
  EXPECT_EQ(HexEncode("\x01\xab"), "01ab");
  EXPECT_EQ(*HexDecode("01AB"), "\x01\xab");
  EXPECT_FALSE(HexDecode("0g").has_value());
}

TEST(TimeTest, Rfc3339RoundTripAndOffsets) {
  auto t = ParseRfc3339("2026-11-22T10:20:30Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRfc3339(*t), "2026-11-22T10:20:30Z");
  auto t2 = ParseRfc3339("2026-11-22T12:20:30+02:00");
  ASSERT_TRUE(t2);
  EXPECT_EQ(*t, *t2);
  EXPECT_FALSE(ParseRfc3339("2026-13-22T10:20:30Z"));
  EXPECT_FALSE(ParseRfc3339("nonsense"));
}

TEST(TimeTest, YearsATimestampCannotHoldAreRefusedNotWrapped) {
  // A Timestamp counts nanoseconds in 64 bits (up to April 2262): later dates must not wrap around.
  ASSERT_TRUE(ParseDate("2261-12-31"));
  EXPECT_GT(*ParseDate("2261-12-31"), *ParseDate("2026-01-01"));
  EXPECT_FALSE(ParseDate("2262-06-01"));
  EXPECT_FALSE(ParseDate("2999-01-01"));
  EXPECT_FALSE(ParseRfc3339("2999-01-01T00:00:00Z"));
  EXPECT_FALSE(ParseDate("1969-12-31"));
}

TEST(TimeTest, DayAndMonthKeysFollowTheOffset) {
  auto t = *ParseRfc3339("2026-11-30T23:30:00Z");
  EXPECT_EQ(DayKey(t), "2026-11-30");
  EXPECT_EQ(MonthKey(t), "2026-11");
  EXPECT_EQ(DayKey(t, 3600), "2026-12-01");
  EXPECT_EQ(MonthKey(t, 3600), "2026-12");
  EXPECT_EQ(FormatHttpDate(t), "Mon, 30 Nov 2026 23:30:00 GMT");
}

TEST(RandomTest, UuidAndDigitsHaveTheRightShape) {
  OsRandom& r = OsRandom::Instance();
  auto u = r.Uuid();
  EXPECT_EQ(u.size(), 36u);
  EXPECT_EQ(u[14], '4');
  auto d = r.Digits(6);
  EXPECT_EQ(d.size(), 6u);
  EXPECT_EQ(d.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_NE(r.Token(), r.Token());
}

TEST(RandomTest, SmallDrawsFromTheBufferedCsprngNeverRepeat) {
  OsRandom& r = OsRandom::Instance();
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(r.Bytes(16));  // ~8 refills of the buffer
  EXPECT_EQ(seen.size(), 2000u);
  std::set<std::string> big;
  for (int i = 0; i < 20; ++i) big.insert(r.Bytes(1000));  // past the buffer: drawn directly
  EXPECT_EQ(big.size(), 20u);
}

TEST(RandomTest, AForkedChildDoesNotRepeatItsParentsBytes) {
  OsRandom& r = OsRandom::Instance();
  (void)r.Bytes(8);  // the buffer holds bytes now
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string mine = r.Bytes(32);
    (void)!::write(fds[1], mine.data(), mine.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  const std::string parents = r.Bytes(32);
  std::string childs(32, '\0');
  size_t got = 0;
  while (got < childs.size()) {
    const ssize_t n = ::read(fds[0], childs.data() + got, childs.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(got, 32u);
  EXPECT_NE(parents, childs) << "the child drew its parent's next bytes";
}

TEST(RandomTest, TimeOrderedUuidsAreVersion7AndSortByTime) {
  OsRandom& r = OsRandom::Instance();
  // 1,796,083,200,000 ms = 0x01a22ee6b000: the first 48 bits, then version 7 and the variant.
  const std::string a = r.TimeOrderedUuid(1'796'083'200'000);
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a.substr(0, 13), "01a22ee6-b000");
  EXPECT_EQ(a[14], '7');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;
  const std::string b = r.TimeOrderedUuid(1'796'083'200'000);
  EXPECT_NE(a, b);
  const std::string c = r.TimeOrderedUuid(1'796'083'200'001);
  EXPECT_LT(a, c);
  EXPECT_LT(b, c);
}

}  // namespace
}  // namespace gh
