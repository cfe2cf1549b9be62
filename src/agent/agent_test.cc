// The agent loop: parallel tool calls, results in the model's order, the plan's time limit.
#include "agent/agent.h"

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <optional>

namespace gh::agent {
namespace {

// Two tool calls meet here: the first to arrive waits until the second arrives (or a generous
// safety timeout, which only keeps a broken build from hanging). Whether each call saw the other
// arrive while it was still running is the test's evidence, not any duration.
struct Meeting {
  int arrived = 0;
  std::optional<boost::asio::steady_timer> first_waits;
};

class MeetingTool final : public Tool {
 public:
  MeetingTool(std::string name, Meeting& meeting, std::vector<std::string>& finished)
      : spec_{std::move(name), "waits for the other tool", R"({"type":"object"})"},
        meeting_(meeting),
        finished_(finished) {}
  const ToolSpec& spec() const override { return spec_; }
  bool AllowedBy(const tenancy::Plan&) const override { return true; }
  Awaitable<ToolResult> Run(const TenantContext&, const boost::json::object&) override {
    ++meeting_.arrived;
    bool met = false;
    if (meeting_.arrived == 1) {
      meeting_.first_waits.emplace(co_await boost::asio::this_coro::executor);
      meeting_.first_waits->expires_after(std::chrono::seconds(20));  // safety net only
      auto [ec] = co_await meeting_.first_waits->async_wait(
          boost::asio::as_tuple(boost::asio::use_awaitable));
      (void)ec;
      met = meeting_.arrived == 2;
    } else {
      met = true;
      if (meeting_.first_waits) meeting_.first_waits->cancel();
    }
    finished_.push_back(spec_.name);
    co_return ToolResult{met ? spec_.name + " met the other" : spec_.name + " ran alone", !met};
  }

 private:
  ToolSpec spec_;
  Meeting& meeting_;
  std::vector<std::string>& finished_;
};

// Asks for `calls` once, then answers with the tool results it was given, in the order received.
class ScriptedModel final : public Model {
 public:
  explicit ScriptedModel(std::vector<ToolCall> calls) : calls_(std::move(calls)) {}
  std::string_view provider() const override { return "scripted"; }
  Awaitable<Result<ModelTurn>> Generate(const ModelRequest& request, ModelEvents&) override {
    ++calls_made;
    ModelTurn turn;
    if (request.messages.back().role == Role::kTool && !keep_asking) {
      for (const auto& m : request.messages)
        if (m.role == Role::kTool) turn.text += m.tool_call_id + "=" + m.content + ";";
    } else {
      turn.tool_calls = calls_;
    }
    co_return turn;
  }
  bool keep_asking = false;
  int calls_made = 0;

 private:
  std::vector<ToolCall> calls_;
};

class RecordingEvents final : public AgentEvents {
 public:
  Awaitable<Status> OnTextDelta(std::string_view) override { co_return Status::Ok(); }
  Awaitable<Status> OnToolCall(const ToolCall& c) override {
    log.push_back("call " + c.id);
    co_return Status::Ok();
  }
  Awaitable<Status> OnToolResult(const ToolCall& c, const ToolResult&) override {
    log.push_back("result " + c.id);
    co_return Status::Ok();
  }
  std::vector<std::string> log;
};

// Advances the fake clock each time it runs: a slow tool, without sleeping.
class ClockTool final : public Tool {
 public:
  ClockTool(FakeClock& clock, std::chrono::seconds step) : clock_(clock), step_(step) {}
  const ToolSpec& spec() const override { return spec_; }
  bool AllowedBy(const tenancy::Plan&) const override { return true; }
  Awaitable<ToolResult> Run(const TenantContext&, const boost::json::object&) override {
    clock_.Advance(step_);
    co_return ToolResult{"{}", false};
  }

 private:
  ToolSpec spec_{"slow_lookup", "takes a while", R"({"type":"object"})"};
  FakeClock& clock_;
  std::chrono::seconds step_;
};

Result<AgentResult> RunLoop(AgentLoop& loop, const AgentRequest& request, AgentEvents& events) {
  boost::asio::io_context io;
  std::optional<Result<AgentResult>> out;
  boost::asio::co_spawn(
      io, [&]() -> Awaitable<void> { out.emplace(co_await loop.Run(request, events)); },
      boost::asio::detached);
  io.run();
  EXPECT_TRUE(out.has_value());
  return out ? std::move(*out) : Result<AgentResult>(Status::Internal("the loop never finished"));
}

TEST(AgentLoopTest, ToolsAskedForInOneTurnRunConcurrentlyAndReportInTheModelsOrder) {
  Meeting meeting;
  std::vector<std::string> finished;
  ToolRegistry tools;
  tools.Add(std::make_shared<MeetingTool>("first_tool", meeting, finished));
  tools.Add(std::make_shared<MeetingTool>("second_tool", meeting, finished));
  auto model = std::make_shared<ScriptedModel>(
      std::vector<ToolCall>{{"call-1", "first_tool", "{}"}, {"call-2", "second_tool", "{}"}});
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  AgentRequest request;
  request.messages = {{Role::kUser, "both, please", {}, "", "", false}};
  request.plan = &plan;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_TRUE(result.ok()) << result.status().message();
  // Each call was running while the other started: they overlapped.
  EXPECT_EQ(result->text, "call-1=first_tool met the other;call-2=second_tool met the other;");
  // The second finished first, yet results go to the client and the model in the model's order.
  EXPECT_EQ(finished, (std::vector<std::string>{"second_tool", "first_tool"}));
  EXPECT_EQ(events.log, (std::vector<std::string>{"call call-1", "call call-2", "result call-1",
                                                  "result call-2"}));
  EXPECT_EQ(result->tool_calls, 2);
  ASSERT_EQ(result->new_messages.size(), 4u);  // the ask, two results, the answer
  EXPECT_EQ(result->new_messages[1].tool_call_id, "call-1");
  EXPECT_EQ(result->new_messages[2].tool_call_id, "call-2");
}

TEST(AgentLoopTest, TheTurnStopsWithAClearErrorOnceThePlansTimeLimitIsSpent) {
  FakeClock clock;
  ToolRegistry tools;
  tools.Add(std::make_shared<ClockTool>(clock, std::chrono::seconds(40)));
  auto model =
      std::make_shared<ScriptedModel>(std::vector<ToolCall>{{"call-1", "slow_lookup", "{}"}});
  model->keep_asking = true;
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  plan.max_agent_steps = 10;
  plan.max_agent_seconds = 60;
  AgentRequest request;
  request.messages = {{Role::kUser, "look it up", {}, "", "", false}};
  request.plan = &plan;
  request.clock = &clock;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().error_code(), "agent_time_limit");
  EXPECT_NE(result.status().message().find("60 seconds"), std::string::npos);
  EXPECT_EQ(model->calls_made, 2);  // at 0 s and 40 s; at 80 s the limit was spent
}

TEST(AgentLoopTest, TheTurnStopsWithAClearErrorAtThePlansStepLimit) {
  FakeClock clock;
  ToolRegistry tools;
  tools.Add(std::make_shared<ClockTool>(clock, std::chrono::seconds(0)));
  auto model =
      std::make_shared<ScriptedModel>(std::vector<ToolCall>{{"call-1", "slow_lookup", "{}"}});
  model->keep_asking = true;
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  plan.max_agent_steps = 3;
  AgentRequest request;
  request.messages = {{Role::kUser, "look it up", {}, "", "", false}};
  request.plan = &plan;
  request.clock = &clock;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().error_code(), "agent_step_limit");
  EXPECT_EQ(model->calls_made, 3);
}

// Never answers on its own: it waits until its call is cancelled (or a long safety net passes,
// which only keeps a broken build from hanging) and then fails as a cancelled HTTP call does.
class HangingModel final : public Model {
 public:
  std::string_view provider() const override { return "hanging"; }
  Awaitable<Result<ModelTurn>> Generate(const ModelRequest& request, ModelEvents&) override {
    ++calls_made;
    boost::asio::steady_timer wait(co_await boost::asio::this_coro::executor);
    wait.expires_after(std::chrono::seconds(60));
    if (on_start) on_start();
    if (request.cancel && request.cancel->cancelled())
      co_return Status::Cancelled("request cancelled");
    int sub = request.cancel ? request.cancel->Subscribe([&] { wait.cancel(); }) : 0;
    auto [ec] = co_await wait.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (request.cancel) request.cancel->Unsubscribe(sub);
    if (ec) co_return Status::Cancelled("request cancelled");
    co_return Status::DeadlineExceeded("the safety net passed: the call was never cancelled");
  }
  int calls_made = 0;
  std::function<void()> on_start;
};

TEST(AgentLoopTest, AModelCallStillRunningWhenTheTimeLimitIsSpentIsCancelled) {
  FakeClock clock;
  ToolRegistry tools;
  auto model = std::make_shared<HangingModel>();
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  plan.max_agent_seconds = 1;
  AgentRequest request;
  request.messages = {{Role::kUser, "hello", {}, "", "", false}};
  request.plan = &plan;
  request.clock = &clock;
  CancelSignal client;
  request.cancel = &client;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().error_code(), "agent_time_limit") << result.status().message();
  EXPECT_EQ(model->calls_made, 1);
  EXPECT_FALSE(client.cancelled()) << "the client's own signal is not fired by the time limit";
}

TEST(AgentLoopTest, TheClientLeavingStillCancelsTheModelCall) {
  FakeClock clock;
  ToolRegistry tools;
  auto model = std::make_shared<HangingModel>();
  CancelSignal client;
  model->on_start = [&] { client.Cancel(); };
  AgentLoop loop(model, tools);
  tenancy::Plan plan;  // the default time limit (120 s) is far away
  AgentRequest request;
  request.messages = {{Role::kUser, "hello", {}, "", "", false}};
  request.plan = &plan;
  request.clock = &clock;
  request.cancel = &client;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().message();
}

}  // namespace
}  // namespace gh::agent
