// The offline model's structured answers: JSON of the shape response_format asks for, which the
// schema validator accepts.
#include "models/offline_model.h"

#include <gtest/gtest.h>

#include <limits>

#include <boost/json.hpp>

#include "agent/tool.h"
#include "models/fake_upstream_testing.h"

namespace gh::models {
namespace {

namespace bj = boost::json;
using namespace agent;
using namespace testing;

ModelRequest Ask(std::string_view question) {
  ModelRequest r;
  r.model = "offline";
  r.messages = {{Role::kUser, std::string(question), {}, "", "", false}};
  return r;
}

ResponseFormat Schema(std::string name, std::string schema) {
  ResponseFormat f;
  f.kind = ResponseFormat::Kind::kJsonSchema;
  f.name = std::move(name);
  f.schema = std::move(schema);
  return f;
}

// The answer to `request`, streamed; checks that the streamed pieces make up the whole text.
ModelTurn Answer(const ModelRequest& request) {
  OfflineModel model(std::chrono::milliseconds(0));
  RecordingEvents events;
  Outcome out = RunGenerate(model, request, events);
  EXPECT_TRUE(out.status.ok()) << out.status.ToString();
  std::string streamed;
  for (const auto& d : events.deltas) streamed += d;
  EXPECT_EQ(streamed, out.turn.text);
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  return out.turn;
}

// Parses the answer as a JSON object and validates it against `schema`.
bj::object ConformingAnswer(const ModelRequest& request, const std::string& schema) {
  ModelTurn turn = Answer(request);
  boost::system::error_code ec;
  bj::value v = bj::parse(turn.text, ec);
  EXPECT_FALSE(ec) << turn.text;
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "not a JSON object: " << turn.text;
    return {};
  }
  Status valid = ValidateArguments(v.get_object(), schema);
  EXPECT_TRUE(valid.ok()) << valid.ToString() << "\n" << turn.text;
  return v.get_object();
}

TEST(OfflineModelJsonTest, AJsonObjectResponseFormatGivesTheUsualAnswerUnderAnswer) {
  const std::string usual = Answer(Ask("hello")).text;
  ModelRequest r = Ask("hello");
  r.response_format = ResponseFormat{};
  bj::value v = bj::parse(Answer(r).text);
  EXPECT_EQ(v, (bj::object{{"answer", usual}}));
}

TEST(OfflineModelJsonTest, AFlatSchemaGetsTheAnswerInItsAnswerLikeStringsAndTheMinimumInNumbers) {
  const std::string schema =
      R"({"type":"object","properties":{"summary":{"type":"string"},"city":{"type":"string"},)"
      R"("temp_c":{"type":"number","minimum":-40},"count":{"type":"integer"},)"
      R"("rainy":{"type":"boolean"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},)"
      R"("note":{"type":"null"}},)"
      R"("required":["summary","city","temp_c","count","rainy","unit","note"],)"
      R"("additionalProperties":false})";
  ModelRequest r = Ask("hello");
  r.response_format = Schema("weather", schema);
  bj::object o = ConformingAnswer(r, schema);
  EXPECT_EQ(o.at("summary"), bj::value(Answer(Ask("hello")).text));
  EXPECT_EQ(o.at("city"), "sample city");
  EXPECT_EQ(o.at("temp_c"), -40);
  EXPECT_EQ(o.at("count"), 0);
  EXPECT_EQ(o.at("rainy"), false);
  EXPECT_EQ(o.at("unit"), "celsius");
  EXPECT_TRUE(o.at("note").is_null());
}

TEST(OfflineModelJsonTest, NestedObjectsArraysWithMinItemsAndTypeListsConform) {
  const std::string schema = R"({
    "type": "object",
    "properties": {
      "location": {"type": "object", "properties": {
          "name": {"type": ["null", "string"], "minLength": 3, "maxLength": 40},
          "coordinates": {"type": "array", "items": {"type": "number", "minimum": 1.5},
                          "minItems": 2, "maxItems": 2}},
        "required": ["name", "coordinates"], "additionalProperties": false},
      "days": {"type": "array", "minItems": 3, "items": {"type": "object",
          "properties": {"day": {"type": "integer", "minimum": 1, "maximum": 7},
                         "conditions": {"enum": ["sunny", "rain"]},
                         "tags": {"type": "array", "items": {"type": "string"}}},
          "required": ["day", "conditions", "tags"], "additionalProperties": false}},
      "reply": {"type": ["string", "null"]}
    },
    "required": ["location", "days", "reply"],
    "additionalProperties": false})";
  ModelRequest r = Ask("hello");
  r.response_format = Schema("forecast", schema);
  bj::object o = ConformingAnswer(r, schema);
  EXPECT_EQ(o.at("location").at("name"), "sample name");
  EXPECT_EQ(o.at("location").at("coordinates"), bj::parse("[1.5, 1.5]"));
  ASSERT_EQ(o.at("days").as_array().size(), 3u);
  EXPECT_EQ(o.at("days").at(0), bj::parse(R"({"day":1,"conditions":"sunny","tags":[]})"));
  EXPECT_TRUE(o.at("reply").is_string());
}

TEST(OfflineModelJsonTest, AWeatherAnswerAfterTheToolResultFillsTheSchemaAndLocalRefsAreFollowed) {
  // Pydantic's shape (LangChain's with_structured_output): nested models under $defs.
  const std::string schema = R"({
    "$defs": {"Wind": {"type": "object", "properties": {"kph": {"type": "number"}},
                       "required": ["kph"]}},
    "type": "object",
    "properties": {"answer": {"type": "string"}, "wind": {"$ref": "#/$defs/Wind"},
                   "alerts": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                        {"type": "null"}]}},
    "required": ["answer", "wind", "alerts"]})";
  ModelRequest r = Ask("What's the weather in Oslo?");
  r.messages.push_back(
      {Role::kAssistant, "", {{"call_1", "get_current_weather", "{}"}}, "", "", false});
  r.messages.push_back({Role::kTool,
                        R"({"location":"Oslo","conditions":"snow","temperature_c":-3})",
                        {},
                        "call_1",
                        "get_current_weather",
                        false});
  r.response_format = Schema("weather", schema);
  bj::object o = ConformingAnswer(r, schema);
  EXPECT_NE(std::string_view(o.at("answer").as_string()).find("Oslo"), std::string_view::npos);
  EXPECT_EQ(o.at("wind"), bj::parse(R"({"kph":0})"));
  EXPECT_EQ(o.at("alerts"), bj::array());
}

TEST(OfflineModelJsonTest, ASchemaWithoutPropertiesGetsTheAnswerUnderAnswer) {
  ModelRequest r = Ask("hello");
  r.response_format = Schema("anything", R"({"type":"object"})");
  bj::object o = ConformingAnswer(r, R"({"type":"object"})");
  EXPECT_TRUE(o.at("answer").is_string());
}

// A schema is the client's: one that asks for a huge answer (arrays of arrays of 100 items, a
// property that $refs the root) is refused with a clear error, not built until memory runs out.
TEST(OfflineModelJsonTest, ASchemaAskingForAnAnswerPastTheBoundsIsRefused) {
  std::string nested = R"({"type":"integer"})";
  for (int i = 0; i < 5; ++i) nested = R"({"type":"array","minItems":100,"items":)" + nested + "}";
  const std::vector<std::string> huge = {
      R"({"type":"object","properties":{"grid":)" + nested + "}}",
      R"({"type":"object","properties":{"a":{"$ref":"#"},"b":{"$ref":"#"},"c":{"$ref":"#"}}})",
  };
  for (const auto& schema : huge) {
    SCOPED_TRACE(schema);
    ModelRequest r = Ask("hello");
    r.response_format = Schema("big", schema);
    OfflineModel model(std::chrono::milliseconds(0));
    RecordingEvents events;
    Outcome out = RunGenerate(model, r, events);
    EXPECT_EQ(out.status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(out.status.error_code(), "invalid_value");
    EXPECT_TRUE(events.deltas.empty()) << "nothing was streamed";
  }
}

// Bounds far outside int64 and sizes far beyond memory are clamped, not cast (undefined).
TEST(OfflineModelJsonTest, ExtremeBoundsAreClampedNotCast) {
  const std::string schema =
      R"({"type":"object","properties":{"big":{"type":"integer","minimum":1e300},)"
      R"("small":{"type":"integer","maximum":-1e300},"name":{"type":"string","maxLength":1e300}},)"
      R"("required":["big","small","name"]})";
  ModelRequest r = Ask("hello");
  r.response_format = Schema("bounds", schema);
  // (No int64 meets a minimum of 1e300: the nearest is given, which no validator accepts.)
  bj::object o = bj::parse(Answer(r).text).as_object();
  EXPECT_EQ(o.at("big").as_int64(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(o.at("small").as_int64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(o.at("name").as_string(), "sample name");
}

// A stop sequence does not cut a structured answer: cut, it would no longer be JSON.
TEST(OfflineModelJsonTest, AStopSequenceLeavesAStructuredAnswerWhole) {
  ModelRequest r = Ask("hello");
  r.response_format = ResponseFormat{};
  r.sampling.stop = {"}", "offline"};
  bj::object o = ConformingAnswer(r, R"({"type":"object"})");
  EXPECT_NE(o.at("answer").as_string().find("offline model"), std::string::npos);
}

}  // namespace
}  // namespace gh::models
