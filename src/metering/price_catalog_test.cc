#include "metering/price_catalog.h"

#include <gtest/gtest.h>

#include <random>

#include "common/time_util.h"
#include "metering/price_file.h"

namespace gh::metering {
namespace {

int64_t Day(const char* d) { return ToUnixMillis(*ParseDate(d)); }

CatalogData Sonnet() {
  CatalogData d;
  d.version = "test-1";
  // $3 in, $15 out, $0.30 cache read, $3.75 cache write per million tokens.
  d.models["claude-3-5-sonnet-20241022"] = {
      {Day("2024-10-22"), {3'000'000, 15'000'000, 300'000, 3'750'000}}};
  d.aliases["anthropic.claude-3-5-sonnet-20241022-v2:0"] = "claude-3-5-sonnet-20241022";
  return d;
}

TEST(PriceCatalogTest, CostsAreIntegerMicroDollarsRoundedUp) {
  PriceCatalog c({{"m", {1'000'000, 2'000'000, 0, 0}}}, 0,
                 0);  // $1 / $2 per million: 1 and 2 micros a token
  EXPECT_EQ(c.ModelCost("m", {7, 3, 0, 0}), 7 + 6);
  PriceCatalog cheap({{"m", {150'000, 600'000, 0, 0}}}, 0, 0);  // $0.15 / $0.60
  EXPECT_EQ(cheap.ModelCost("m", {1, 0, 0, 0}), 1) << "0.15 micro-dollars round up to 1";
  EXPECT_EQ(cheap.ModelCost("m", {1'000'000, 1'000'000, 0, 0}), 150'000 + 600'000);
  EXPECT_EQ(c.ModelCost("unknown", {100, 100, 0, 0}), 0);
}

TEST(PriceCatalogTest, CacheTokensFromAnthropicAndBedrockUsageArePricedAtTheirOwnRates) {
  PriceCatalog c(Sonnet());
  // Anthropic usage: input_tokens 1000, output_tokens 500, cache_read_input_tokens 20000,
  // cache_creation_input_tokens 5000 (Bedrock: inputTokens, outputTokens, cacheReadInputTokens,
  // cacheWriteInputTokens): 1000*3 + 500*15 + 20000*0.30 + 5000*3.75 micro-dollars.
  const TokenCounts t{1000, 500, 20'000, 5000};
  const int64_t at = Day("2025-01-01");
  EXPECT_EQ(c.ModelCostAt("claude-3-5-sonnet-20241022", t, at), 3000 + 7500 + 6000 + 18'750);
  EXPECT_EQ(c.ModelCostAt("anthropic.claude-3-5-sonnet-20241022-v2:0", t, at), 35'250)
      << "the Bedrock id is an alias";
  // Caching is cheaper than sending the same tokens uncached, and never free.
  EXPECT_LT(c.ModelCostAt("claude-3-5-sonnet-20241022", {0, 0, 20'000, 0}, at),
            c.ModelCostAt("claude-3-5-sonnet-20241022", {20'000, 0, 0, 0}, at));
}

TEST(PriceCatalogTest, ABedrockCrossRegionProfileIsPricedAsTheModelItRoutesTo) {
  PriceCatalog c(Sonnet());
  const TokenCounts t{1000, 500, 20'000, 5000};
  const int64_t at = Day("2025-01-01");
  const int64_t direct = c.ModelCostAt("anthropic.claude-3-5-sonnet-20241022-v2:0", t, at);
  EXPECT_EQ(direct, 3000 + 7500 + 6000 + 18'750);
  for (const char* profile : {"us.anthropic.claude-3-5-sonnet-20241022-v2:0",
                              "eu.anthropic.claude-3-5-sonnet-20241022-v2:0",
                              "apac.anthropic.claude-3-5-sonnet-20241022-v2:0",
                              "global.anthropic.claude-3-5-sonnet-20241022-v2:0"})
    EXPECT_EQ(c.ModelCostAt(profile, t, at), direct) << profile << " must not be free";
  EXPECT_EQ(c.FindAt("xx.anthropic.claude-3-5-sonnet-20241022-v2:0", at), nullptr)
      << "not a Bedrock geography";
  EXPECT_EQ(c.FindAt("eu.unknown-model", at), nullptr);
}

TEST(PriceCatalogTest, EachEventIsPricedWithThePeriodInEffectWhenItHappened) {
  CatalogData d;
  d.models["o3"] = {
      {Day("2025-06-10"), {2'000'000, 8'000'000, 500'000, 0}},
      {Day("2025-04-16"), {10'000'000, 40'000'000, 2'500'000, 0}}};  // given out of order
  PriceCatalog c(std::move(d));
  const TokenCounts t{1'000'000, 0, 0, 0};
  EXPECT_EQ(c.ModelCostAt("o3", t, Day("2025-05-01")), 10'000'000);
  EXPECT_EQ(c.ModelCostAt("o3", t, Day("2025-06-10")), 2'000'000) << "a period starts at its date";
  EXPECT_EQ(c.ModelCostAt("o3", t, Day("2025-06-09") + 86'399'999), 10'000'000);
  EXPECT_EQ(c.ModelCostAt("o3", t, Day("2024-01-01")), 10'000'000)
      << "before the first period, the first applies";
  EXPECT_EQ(c.ModelCost("o3", t), 2'000'000) << "the latest period";
}

TEST(PriceCatalogTest, TheWorstCaseIsNeverBelowTheSettledCost) {
  PriceCatalog c(Sonnet());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20'000; ++i) {
    const int64_t max_in = int64_t(rng() % 200'000), max_out = int64_t(rng() % 8000);
    const int64_t a = max_in ? int64_t(rng() % (max_in + 1)) : 0;
    const int64_t b = max_in - a ? int64_t(rng() % (max_in - a + 1)) : 0;
    const TokenCounts t{a, int64_t(rng() % (max_out + 1)), b, max_in - a - b};
    ASSERT_LE(c.ModelCost("claude-3-5-sonnet-20241022", t),
              c.WorstCaseModelCost("claude-3-5-sonnet-20241022", max_in, max_out))
        << i;
  }
}

TEST(PriceCatalogTest, TheMarkupIsPerTenantAndRoundsUp) {
  CatalogData d = Sonnet();
  d.markup_bps = 1000;                 // 10 % for everyone
  d.tenant_markup_bps["acme"] = 1250;  // 12.5 % for acme
  d.tenant_markup_bps["friends"] = 0;
  PriceCatalog c(std::move(d));
  EXPECT_EQ(c.Charge("globex", 1000), 1100);
  EXPECT_EQ(c.Charge("acme", 1000), 1125);
  EXPECT_EQ(c.Charge("acme", 1), 2) << "1.125 rounds up";
  EXPECT_EQ(c.Charge("friends", 1001), 1001);
  EXPECT_EQ(c.Charge("acme", 0), 0);
}

TEST(PriceCatalogTest, RuntimeFeesHaveEffectiveDatesToo) {
  CatalogData d;
  d.fees = {{Day("2024-01-01"), {1000, 500}}, {Day("2025-01-01"), {2000, 700}}};
  PriceCatalog c(std::move(d));
  EXPECT_EQ(c.FeesAt(Day("2024-06-01")), (RuntimeFees{1000, 500}));
  EXPECT_EQ(c.FeesAt(Day("2025-06-01")), (RuntimeFees{2000, 700}));
  EXPECT_EQ(c.invocation_micros(), 2000);
  EXPECT_EQ(c.tool_call_micros(), 700);
}

}  // namespace
}  // namespace gh::metering
