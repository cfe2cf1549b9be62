// A tool's arguments against its JSON Schema: what MCP servers and built-in tools declare (type
// lists, arrays of objects, nested objects) is checked where it is nested, the problem is named
// by its path, and a whole number asked for as an integer reaches the tool as one.
#include "agent/tool.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string>
#include <vector>

namespace gh::agent {
namespace {

namespace bj = boost::json;

constexpr char kSearchSchema[] = R"({
  "type": "object",
  "properties": {
    "query": {"type": "string", "minLength": 1},
    "limit": {"type": "integer", "minimum": 1, "maximum": 50},
    "cursor": {"type": ["string", "null"]},
    "filters": {
      "type": "array", "maxItems": 3,
      "items": {
        "type": "object",
        "properties": {
          "field": {"type": "string", "enum": ["owner", "label"]},
          "weight": {"type": "integer", "enum": [1, 2, 3]}
        },
        "required": ["field"],
        "additionalProperties": false
      }
    },
    "window": {
      "type": "object",
      "properties": {"days": {"type": "integer"}},
      "required": ["days"]
    }
  },
  "required": ["query"],
  "additionalProperties": false
})";

Status Validate(const std::string& args_json, bj::object* normalized = nullptr) {
  bj::object args = bj::parse(args_json).as_object();
  Status st = ValidateArguments(args, kSearchSchema);
  if (normalized) *normalized = std::move(args);
  return st;
}

TEST(ValidateArgumentsTest, ArgumentsAsDeclaredPassAndWholeNumbersBecomeIntegersWhereverNested) {
  bj::object args;
  ASSERT_TRUE(Validate(R"({"query":"q","limit":10.0,"cursor":null,
                           "filters":[{"field":"owner","weight":2.0},{"field":"label"}],
                           "window":{"days":7.0}})",
                       &args)
                  .ok());
  EXPECT_TRUE(args.at("limit").is_int64());
  EXPECT_TRUE(args.at("filters").as_array()[0].as_object().at("weight").is_int64());
  EXPECT_TRUE(args.at("window").as_object().at("days").is_int64());
  EXPECT_EQ(bj::serialize(args),
            R"({"query":"q","limit":10,"cursor":null,)"
            R"("filters":[{"field":"owner","weight":2},{"field":"label"}],"window":{"days":7}})");
  EXPECT_TRUE(Validate(R"({"query":"q","cursor":"abc"})").ok());
}

TEST(ValidateArgumentsTest, EachProblemIsNamedByWhereItIs) {
  struct Case {
    std::string args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"query":""})", "argument 'query' is too short"},
      {R"({"query":"q","limit":51})", "argument 'limit' is too large"},
      {R"({"query":"q","limit":1.5})", "argument 'limit' must be of type integer"},
      {R"({"query":"q","cursor":3})", "argument 'cursor' must be of type string or null"},
      {R"({"query":"q","filters":{"field":"owner"}})", "argument 'filters' must be of type array"},
      {R"({"query":"q","filters":[{"field":"owner"},{"field":"x"}]})",
       "argument 'filters[1].field' is not one of the allowed values"},
      {R"({"query":"q","filters":[{"field":"owner","weight":4}]})",
       "argument 'filters[0].weight' is not one of the allowed values"},
      {R"({"query":"q","filters":[{"weight":1}]})", "missing required argument 'filters[0].field'"},
      {R"({"query":"q","filters":[{"field":"owner","extra":1}]})",
       "unknown argument 'filters[0].extra'"},
      {R"({"query":"q","filters":[{"field":"owner"},{"field":"owner"},{"field":"owner"},)"
       R"({"field":"owner"}]})",
       "argument 'filters' has too many items"},
      {R"({"query":"q","filters":["owner"]})", "argument 'filters[0]' must be of type object"},
      {R"({"query":"q","window":{}})", "missing required argument 'window.days'"},
      {R"({"query":"q","window":{"days":"7"}})", "argument 'window.days' must be of type integer"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    bj::object args = bj::parse(c.args).as_object();
    Status st = ValidateArguments(args, kSearchSchema);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.message(), c.message);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  }
}

TEST(ValidateArgumentsTest, ASchemaThatIsNotJsonIsTheToolsFaultNotTheModels) {
  bj::object args{{"a", 1}};
  EXPECT_EQ(ValidateArguments(args, "{not json").code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace gh::agent
