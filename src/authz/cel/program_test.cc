#include "authz/cel/program.h"

#include <gtest/gtest.h>

#include "authz/cel/time_text.h"

namespace gh::authz::cel {
namespace {

using TK = Type::Kind;

struct Case {
  const char* expr;
  const char* expected;  // DebugString of the result; "error" for any error
};

Value Eval(const std::string& expr, std::vector<Parameter> params = {},
           std::vector<std::optional<Value>> bindings = {}) {
  auto p = Program::Compile(expr, std::move(params));
  if (!p.ok()) return Value::Error("compile: " + p.status().message());
  return (*p)->Evaluate(bindings);
}

TEST(CelProgramTest, EvaluatesTheStandardOperatorsAndFunctions) {
  const Case cases[] = {
      {"1 + 2 == 3", "true"},
      {"7 / 2 == 3 && 7 % 2 == 1", "true"},
      {"2u * 3u == 6u", "true"},
      {"1.5 + 1.5 == 3.0", "true"},
      {"1 == 1.0", "true"},
      {"1 < 2.5", "true"},
      {"-9223372036854775808 < 0", "true"},
      {"'ab' + \"cd\" == 'abcd'", "true"},
      {"size('héllo') == 5", "true"},
      {"'hello'.size() == 5", "true"},
      {"'hello'.startsWith('he') && 'hello'.endsWith('lo') && 'hello'.contains('ell')", "true"},
      {"'abc123'.matches('[0-9]+')", "true"},
      {"matches('abc', '^b')", "false"},
      {"[1, 2, 3][1] == 2", "true"},
      {"2 in [1, 2, 3]", "true"},
      {"'k' in {'k': 1}", "true"},
      {"{'a': {'b': 1}}.a.b == 1", "true"},
      {"has({'a': 1}.a) && !has({'a': 1}.b)", "true"},
      {"[1, 2, 3].all(x, x > 0)", "true"},
      {"[1, 2, 3].exists(x, x > 2)", "true"},
      {"[1, 2, 3].exists_one(x, x > 1)", "false"},
      {"[1, 2, 3].map(x, x * 2) == [2, 4, 6]", "true"},
      {"[1, 2, 3].filter(x, x % 2 == 1) == [1, 3]", "true"},
      {"true ? 1 == 1 : false", "true"},
      {"int('42') == 42 && uint(42) == 42u && double(1) == 1.0", "true"},
      {"string(42) == '42' && string(1.5) == '1.5'", "true"},
      {"duration('1h') == duration('60m')", "true"},
      {"timestamp('2023-01-01T00:00:00Z') + duration('1h') == timestamp('2023-01-01T01:00:00Z')",
       "true"},
      {"timestamp('2023-01-01T01:00:00Z') - timestamp('2023-01-01T00:00:00Z') == duration('1h')",
       "true"},
      {"timestamp('2023-03-04T05:06:07Z').getFullYear() == 2023", "true"},
      {"timestamp('2023-03-04T05:06:07Z').getMonth() == 2", "true"},
      {"timestamp('2023-03-04T05:06:07Z').getHours() == 5", "true"},
      {"ipaddress('192.168.0.1').in_cidr('192.168.0.0/24')", "true"},
      {"ipaddress('10.1.0.1').in_cidr('192.168.0.0/24')", "false"},
      {"ipaddress('2001:db8::1').in_cidr('2001:db8::/32')", "true"},
      {"ipaddress('192.168.0.1') == ipaddress('192.168.0.1')", "true"},
      {"null == null", "true"},
      {"1 / 0 == 1", "error"},
      {"[1][5] == 1", "error"},
      {"{'a': 1}['b'] == 1", "error"},
      {"1 / 0 == 1 || true", "true"},
      {"false && 1 / 0 == 1", "false"},
  };
  for (const auto& c : cases) {
    Value v = Eval(c.expr);
    if (std::string(c.expected) == "error") {
      EXPECT_TRUE(v.is_error()) << c.expr << " gave " << v.DebugString();
    } else {
      EXPECT_EQ(v.DebugString(), c.expected) << c.expr;
    }
  }
}

TEST(CelProgramTest, MissingParametersAreUnknownUnlessTheOtherSideDecides) {
  std::vector<Parameter> params{{"a", Type::Of(TK::kInt)}, {"b", Type::Of(TK::kBool)}};
  Value v = Eval("a > 1 && b", params, {std::nullopt, std::nullopt});
  ASSERT_TRUE(v.is_unknown());
  EXPECT_EQ(v.unknown_names().size(), 2u);
  EXPECT_EQ(Eval("a > 1 || b", params, {Value::FromInt(5), std::nullopt}).DebugString(), "true");
  EXPECT_EQ(Eval("a > 1 && b", params, {Value::FromInt(0), std::nullopt}).DebugString(), "false");
  EXPECT_TRUE(Eval("a > 1 && b", params, {Value::FromInt(5), std::nullopt}).is_unknown());
}

TEST(CelProgramTest, CompileRejectsUndeclaredNamesAndNonBoolResults) {
  EXPECT_FALSE(Program::Compile("x > 1", {}).ok());
  EXPECT_FALSE(Program::Compile("1 + 2", {}).ok());
  EXPECT_FALSE(Program::Compile("'a'", {}).ok());
  EXPECT_FALSE(Program::Compile("nosuchfn(1)", {}).ok());
  EXPECT_FALSE(Program::Compile("x < 'a'", {{"x", Type::Of(TK::kInt)}}).ok());
  EXPECT_FALSE(Program::Compile("(1 + ", {}).ok());
  EXPECT_TRUE(Program::Compile("x.all(y, y > 0)", {{"x", Type::ListOf(Type::Of(TK::kInt))}}).ok());
}

TEST(CelProgramTest, ConvertsContextValuesToDeclaredParameterTypes) {
  EXPECT_EQ(ConvertToType(Value::FromDouble(1), Type::Of(TK::kInt))->DebugString(), "1");
  EXPECT_EQ(ConvertToType(Value::FromDouble(1), Type::Of(TK::kUint))->DebugString(), "1u");
  EXPECT_EQ(ConvertToType(Value::FromString("7"), Type::Of(TK::kInt))->DebugString(), "7");
  EXPECT_FALSE(ConvertToType(Value::FromDouble(1.5), Type::Of(TK::kInt)).ok());
  EXPECT_FALSE(ConvertToType(Value::FromDouble(-1), Type::Of(TK::kUint)).ok());
  EXPECT_FALSE(ConvertToType(Value::FromInt(1), Type::Of(TK::kString)).ok());
  EXPECT_EQ(ConvertToType(Value::FromString("1h"), Type::Of(TK::kDuration))->DebugString(),
            "duration(\"3600s\")");
  EXPECT_EQ(ConvertToType(Value::FromString("2023-01-01T00:00:00Z"), Type::Of(TK::kTimestamp))
                ->DebugString(),
            "timestamp(\"2023-01-01T00:00:00Z\")");
  EXPECT_FALSE(ConvertToType(Value::FromString("nope"), Type::Of(TK::kIpAddress)).ok());
  auto list =
      ConvertToType(Value::FromList({Value::FromString("1")}), Type::ListOf(Type::Of(TK::kString)));
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->DebugString(), "[\"1\"]");
}

TEST(CelTimeTextTest, ParsesGoDurationsAndRfc3339Timestamps) {
  EXPECT_EQ(ParseDuration("1h30m")->nanos, 5400'000'000'000LL);
  EXPECT_EQ(ParseDuration("1.5s")->nanos, 1'500'000'000LL);
  EXPECT_EQ(ParseDuration("-2ms")->nanos, -2'000'000LL);
  EXPECT_EQ(ParseDuration("0")->nanos, 0);
  EXPECT_FALSE(ParseDuration("1x").has_value());
  EXPECT_FALSE(ParseDuration("h").has_value());
  auto t = ParseTimestamp("2023-01-01T01:00:00+01:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatTimestamp(*t), "2023-01-01T00:00:00Z");
  EXPECT_FALSE(ParseTimestamp("2023-13-01T00:00:00Z").has_value());
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2023-01-01T00:00:00.250Z")),
            "2023-01-01T00:00:00.25Z");
}

}  // namespace
}  // namespace gh::authz::cel
