#include "metering/price_file.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace gh::metering {
namespace {

int64_t Day(const char* d) { return ToUnixMillis(*ParseDate(d)); }

TEST(PriceFileTest, DecimalDollarsBecomeExactMicroDollars) {
  EXPECT_EQ(*ParseFixedPoint("2.50", 6), 2'500'000);
  EXPECT_EQ(*ParseFixedPoint("0.075", 6), 75'000);
  EXPECT_EQ(*ParseFixedPoint("0.000001", 6), 1);
  EXPECT_EQ(*ParseFixedPoint("15", 6), 15'000'000);
  EXPECT_EQ(*ParseFixedPoint("12.5", 2), 1250) << "percent to basis points";
  for (const char* bad : {"", ".", "1.2.3", "-1", "1e3", "0.0000001", "abc", " 1"})
    EXPECT_FALSE(ParseFixedPoint(bad, 6).ok()) << bad;
}

TEST(PriceFileTest, TheShippedCatalogParsesAndPricesCommonModels) {
  auto d = ParsePriceFile(DefaultPriceFile());
  ASSERT_TRUE(d.ok()) << d.status().message();
  PriceCatalog c(*d);
  EXPECT_FALSE(c.version().empty());
  const int64_t now = Day("2025-08-20");
  for (const char* m :
       {"gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022", "claude-sonnet-4-20250514",
        "anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "amazon.titan-text-express-v1"}) {
    const ModelPrice* p = c.FindAt(m, now);
    ASSERT_NE(p, nullptr) << m;
    EXPECT_GT(p->input_per_mtok, 0) << m;
    EXPECT_GT(p->output_per_mtok, p->input_per_mtok)
        << m << ": output tokens cost more than input tokens";
    EXPECT_LE(p->cache_read_per_mtok, p->input_per_mtok) << m;
  }
  // Gatehouse runs the agent itself: no runtime fee unless the operator sets one.
  EXPECT_EQ(c.FeesAt(now), RuntimeFees{});
}

TEST(PriceFileTest, PeriodsAliasesFeesAndMarkupsAreRead) {
  auto d = ParsePriceFile(R"(
version: "2031-01-01"
currency: USD
agent_runtime:
  - from: 2030-01-01
    orchestration_usd_per_invocation: 0.001
    tool_execution_usd_per_action: 0.0005
markup:
  default_percent: 5
  tenants: {acme: 12.5}
models:
  m1:
    aliases: [vendor.m1-v1:0]
    prices:
      - from: 2030-01-01
        input_usd_per_mtok: 3
        output_usd_per_mtok: 15.00
        cache_read_usd_per_mtok: 0.30
        cache_write_usd_per_mtok: 3.75
      - from: 2030-06-01
        input_usd_per_mtok: 1.5
        output_usd_per_mtok: 7.5
)");
  ASSERT_TRUE(d.ok()) << d.status().message();
  PriceCatalog c(*d);
  EXPECT_EQ(c.version(), "2031-01-01");
  EXPECT_EQ(*c.FindAt("vendor.m1-v1:0", Day("2030-02-01")),
            (ModelPrice{3'000'000, 15'000'000, 300'000, 3'750'000}));
  EXPECT_EQ(*c.FindAt("m1", Day("2030-07-01")), (ModelPrice{1'500'000, 7'500'000, 0, 0}));
  EXPECT_EQ(c.FeesAt(Day("2030-02-01")), (RuntimeFees{1000, 500}));
  EXPECT_EQ(c.MarkupBps("acme"), 1250);
  EXPECT_EQ(c.MarkupBps("other"), 500);
}

TEST(PriceFileTest, ABadFileIsRefusedNamingTheEntry) {
  struct Case {
    const char* yaml;
    const char* mentions;
  };
  for (const Case& k : {
           Case{"models: {}", "version"},
           Case{"version: x\nmodels: {m: {prices: [{from: 2030-13-01, input_usd_per_mtok: 1}]}}",
                "models.m.prices[0]"},
           Case{"version: x\nmodels: {m: {prices: [{from: 2030-01-01, input_usd_per_mtok: "
                "1.0000001}]}}",
                "input_usd_per_mtok"},
           Case{"version: x\nmodels: {m: {prices: [{from: 2030-01-01, inptu_usd_per_mtok: 1}]}}",
                "inptu_usd_per_mtok"},
           Case{"version: x\nmodels: {m: {prices: [{from: 2030-01-01}, {from: 2030-01-01}]}}",
                "same date"},
           Case{"version: x\ncurrency: EUR", "USD"},
           Case{"version: x\nmodels: {m: {prices: [{from: 2030-01-01}]}, n: {aliases: [m], prices: "
                "[{from: 2030-01-01}]}}",
                "also a model"},
           Case{"version: [unclosed", "price file"},
       }) {
    auto d = ParsePriceFile(k.yaml);
    ASSERT_FALSE(d.ok()) << k.yaml;
    EXPECT_NE(d.status().message().find(k.mentions), std::string::npos) << d.status().message();
  }
}

TEST(PriceFileTest, ConfigurationOverridesWinAndChangeTheVersion) {
  auto d = ParsePriceFile(DefaultPriceFile());
  ASSERT_TRUE(d.ok());
  const std::string file_version = d->version;
  EXPECT_EQ(ApplyOverrides(*d, {}).version, file_version) << "no overrides, same version";
  PriceOverrides o;
  o.models["gpt-4o"] = {1, 2, 0, 0};
  o.invocation_micros = 1000;
  o.tenant_markup_bps["acme"] = 300;
  PriceCatalog c(ApplyOverrides(*d, o));
  EXPECT_NE(c.version(), file_version);
  EXPECT_EQ(c.version().rfind(file_version + "+cfg.", 0), 0u);
  EXPECT_EQ(*c.FindAt("gpt-4o", Day("2024-06-01")), (ModelPrice{1, 2, 0, 0}))
      << "an override applies at all times";
  EXPECT_EQ(c.FeesAt(Day("2025-01-01")).invocation_micros, 1000);
  EXPECT_EQ(c.MarkupBps("acme"), 300);
  PriceOverrides o2 = o;
  o2.models["gpt-4o"] = {1, 3, 0, 0};
  EXPECT_NE(ApplyOverrides(*d, o2).version, c.version())
      << "different overrides, different versions";
}

}  // namespace
}  // namespace gh::metering
