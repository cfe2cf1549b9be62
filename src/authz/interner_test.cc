#include "authz/interner.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace gh::authz {
namespace {

TEST(InternerTest, EveryInternedStringIsFoundByItsIdAndBack) {
  Interner in;
  std::vector<std::string> names;
  for (int i = 0; i < 100'000; ++i) names.push_back("document:" + std::to_string(i * 7919));
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(in.Intern(names[i]), i);
  EXPECT_EQ(in.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_EQ(in.Find(names[i]), std::optional<uint32_t>(i)) << names[i];
    ASSERT_EQ(in.Str(static_cast<uint32_t>(i)), names[i]);
  }
  EXPECT_EQ(in.Intern(names[123]), 123u);  // interning again returns the same id
  EXPECT_EQ(in.size(), names.size());
}

TEST(InternerTest, AbsentStringsAreNotFound) {
  Interner in;
  EXPECT_FALSE(in.Find("user:anne").has_value());  // empty table
  in.Intern("user:anne");
  EXPECT_FALSE(in.Find("user:ann").has_value());
  EXPECT_FALSE(in.Find("user:anne ").has_value());
  EXPECT_FALSE(in.Find("").has_value());
  EXPECT_EQ(in.Intern(""), 1u);  // the empty string is a string like any other
  EXPECT_EQ(in.Find(""), std::optional<uint32_t>(1));
  EXPECT_EQ(in.Str(1), "");
}

TEST(InternerTest, LongAndOddStringsKeepTheirBytes) {
  Interner in;
  std::mt19937 rng(5);
  std::vector<std::string> names = {std::string(200'000, 'x'), std::string(65'530, 'y'),
                                    std::string("nul\0inside", 10), "caf\xc3\xa9:1"};
  for (int i = 0; i < 1000; ++i) {
    std::string s(rng() % 40, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    names.push_back(std::move(s));
  }
  std::vector<uint32_t> ids;
  for (const auto& n : names) ids.push_back(in.Intern(n));
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(in.Str(ids[i]), names[i]);
    EXPECT_EQ(in.Find(names[i]), std::optional<uint32_t>(ids[i]));
  }
  EXPECT_GT(in.MemoryBytes(), 200'000u);
}

}  // namespace
}  // namespace gh::authz
