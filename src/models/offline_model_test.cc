// The offline model and the client's stop sequences: the answer ends where the first one begins,
// streamed or not, and nothing past it is ever streamed.
#include "models/offline_model.h"

#include <gtest/gtest.h>

#include "models/fake_upstream_testing.h"

namespace gh::models {
namespace {

using namespace agent;
using namespace testing;

// The offline model's answer to anything that is not a weather or document question.
constexpr std::string_view kIntroduction =
    "I'm Gatehouse's built-in offline model: I run without any network, so I can't hold a real "
    "conversation.";

class OfflineModelTest : public ::testing::Test {
 protected:
  static ModelRequest Ask(std::string question, std::vector<std::string> stop = {}) {
    ModelRequest r;
    r.model = "offline";
    r.messages = {{Role::kUser, std::move(question), {}, "", "", false}};
    r.sampling.stop = std::move(stop);
    return r;
  }
  static std::string Joined(const std::vector<std::string>& deltas) {
    std::string all;
    for (const auto& d : deltas) all += d;
    return all;
  }

  OfflineModel model_{std::chrono::milliseconds(0)};
  RecordingEvents events_;
};

TEST_F(OfflineModelTest, WithoutStopSequencesTheWholeAnswerIsStreamedWordByWord) {
  Outcome out = RunGenerate(model_, Ask("hello"), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_TRUE(out.turn.text.starts_with(kIntroduction)) << out.turn.text;
  EXPECT_EQ(out.turn.stop_reason, "end_turn");
  ASSERT_GT(events_.deltas.size(), 10u);
  EXPECT_EQ(events_.deltas[0], "I'm");
  EXPECT_EQ(events_.deltas[1], " Gatehouse's");
  EXPECT_EQ(Joined(events_.deltas), out.turn.text);
}

// The earliest of the sequences to occur ends the answer, whatever their order in the request;
// the sequence itself is not part of it, and the usage counts only what was answered.
TEST_F(OfflineModelTest, TheAnswerEndsBeforeTheFirstStopSequenceThatOccurs) {
  Outcome whole = RunGenerate(model_, Ask("hello"), events_);
  RecordingEvents events;
  Outcome out = RunGenerate(model_, Ask("hello", {"zebra", "conversation", "network"}), events);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "I'm Gatehouse's built-in offline model: I run without any ");
  EXPECT_EQ(out.turn.stop_reason, "stop_sequence");
  EXPECT_EQ(Joined(events.deltas), out.turn.text) << "nothing past the cut was streamed";
  EXPECT_LT(out.turn.usage.output_tokens, whole.turn.usage.output_tokens);

  RecordingEvents none;
  Outcome unmatched = RunGenerate(model_, Ask("hello", {"zebra"}), none);
  EXPECT_EQ(unmatched.turn.text, whole.turn.text);
  EXPECT_EQ(unmatched.turn.stop_reason, "end_turn");
}

// "offline model" spans two streamed pieces ("offline" and " model:"): the first of them, which
// alone matches nothing, is not streamed either.
TEST_F(OfflineModelTest, AStopSequenceSplitAcrossTwoStreamedPiecesStopsBeforeBoth) {
  Outcome out = RunGenerate(model_, Ask("hello", {"offline model"}), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "I'm Gatehouse's built-in ");
  EXPECT_EQ(out.turn.stop_reason, "stop_sequence");
  EXPECT_EQ(events_.deltas, (std::vector<std::string>{"I'm", " Gatehouse's", " built-in", " "}));
  for (const auto& d : events_.deltas) EXPECT_EQ(d.find("offline"), std::string::npos) << d;

  // Split inside a piece and across the space that separates pieces alike.
  RecordingEvents mid;
  Outcome inside = RunGenerate(model_, Ask("hello", {"ouse's bui"}), mid);
  EXPECT_EQ(inside.turn.text, "I'm Gateh");
  EXPECT_EQ(Joined(mid.deltas), "I'm Gateh");
}

TEST_F(OfflineModelTest, AStopSequenceAtTheVeryStartLeavesAnEmptyAnswerAndStreamsNothing) {
  Outcome out = RunGenerate(model_, Ask("hello", {"I'm"}), events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "");
  EXPECT_EQ(out.turn.stop_reason, "stop_sequence");
  EXPECT_TRUE(events_.deltas.empty());
}

// Stop sequences end text; a tool call is no text and is made as without them.
TEST_F(OfflineModelTest, AToolCallIsNotCutByAStopSequence) {
  ModelRequest r = Ask("What's the weather in Paris?", {"Paris", "location"});
  r.tools = {{"get_current_weather", "The weather now", R"({"type":"object"})"}};
  Outcome out = RunGenerate(model_, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.turn.tool_calls.size(), 1u);
  EXPECT_EQ(out.turn.tool_calls[0].arguments_json, R"({"location":"Paris"})");
  EXPECT_EQ(out.turn.stop_reason, "tool_use");
}

}  // namespace
}  // namespace gh::models
