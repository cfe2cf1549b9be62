#include "common/ttl_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace gh {
namespace {

using namespace std::chrono_literals;

TEST(TtlCacheTest, AnEntryIsServedForLessThanTheTtlThenReadAgain) {
  FakeClock clock;
  TtlCache<std::string, int> cache(clock, 2s);
  cache.Put("a", 1, cache.generation());
  EXPECT_EQ(cache.Get("a"), 1);
  clock.Advance(1999ms);
  EXPECT_EQ(cache.Get("a"), 1);
  clock.Advance(1ms);
  EXPECT_EQ(cache.Get("a"), std::nullopt) << "a change made elsewhere is seen within the ttl";
}

TEST(TtlCacheTest, AClockSteppedBackMakesEntriesStale) {
  FakeClock clock;
  TtlCache<std::string, int> cache(clock, 2s);
  cache.Put("a", 1, cache.generation());
  clock.Advance(-1s);
  EXPECT_EQ(cache.Get("a"), std::nullopt);
}

TEST(TtlCacheTest, InvalidationIsSeenAtOnce) {
  FakeClock clock;
  TtlCache<std::string, int> cache(clock, 2s);
  cache.Put("a", 1, cache.generation());
  cache.Put("b", 2, cache.generation());
  cache.Invalidate("a");
  EXPECT_EQ(cache.Get("a"), std::nullopt);
  EXPECT_EQ(cache.Get("b"), 2);
  cache.InvalidateAll();
  EXPECT_EQ(cache.Get("b"), std::nullopt);
}

TEST(TtlCacheTest, AValueReadBeforeAnInvalidationIsNotStoredAfterIt) {
  FakeClock clock;
  TtlCache<std::string, int> cache(clock, 2s);
  // A reader notes the generation and reads the old row; a writer commits and invalidates; the
  // reader then stores what it read: that must not bring the old row back.
  const uint64_t before_read = cache.generation();
  cache.Invalidate("a");
  cache.Put("a", 1, before_read);
  EXPECT_EQ(cache.Get("a"), std::nullopt);
  cache.Put("a", 2, cache.generation());
  EXPECT_EQ(cache.Get("a"), 2);
}

TEST(TtlCacheTest, AZeroTtlCachesNothing) {
  FakeClock clock;
  TtlCache<std::string, int> cache(clock, Duration::zero());
  cache.Put("a", 1, cache.generation());
  EXPECT_EQ(cache.Get("a"), std::nullopt);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TtlCacheTest, ItStaysWithinItsCapacity) {
  FakeClock clock;
  TtlCache<int, int> cache(clock, 2s, 3);
  for (int i = 0; i < 10; ++i) cache.Put(i, i, cache.generation());
  EXPECT_LE(cache.size(), 3u);
  EXPECT_EQ(cache.Get(9), 9) << "the latest entry is kept";
}

}  // namespace
}  // namespace gh
