// The agent loop: parallel tool calls, results in the model's order, the plan's time limit; tool
// arguments checked against the tool's schema, tools the plan does not grant or nobody registered
// refused, the tenant context handed to every tool.
#include "agent/agent.h"

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

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

// Asks for each step's calls in turn, one step per model call, then answers "done". Keeps what
// every request carried: the conversation so far and the names of the tools offered.
class StepByStepModel final : public Model {
 public:
  explicit StepByStepModel(std::vector<std::vector<ToolCall>> steps) : steps_(std::move(steps)) {}
  std::string_view provider() const override { return "step-by-step"; }
  Awaitable<Result<ModelTurn>> Generate(const ModelRequest& request, ModelEvents&) override {
    sent.push_back(request.messages);
    std::vector<std::string> names;
    for (const auto& t : request.tools) names.push_back(t.name);
    offered.push_back(names);
    ModelTurn turn;
    if (sent.size() <= steps_.size())
      turn.tool_calls = steps_[sent.size() - 1];
    else
      turn.text = "done";
    co_return turn;
  }
  std::vector<std::vector<ChatMessage>> sent;     // per model call
  std::vector<std::vector<std::string>> offered;  // per model call

 private:
  std::vector<std::vector<ToolCall>> steps_;
};

// Records every run: the context and the arguments it was given.
class RecordingTool final : public Tool {
 public:
  struct Ran {
    TenantContext context;
    boost::json::object arguments;
  };
  explicit RecordingTool(std::string name, std::string schema = R"({"type":"object"})",
                         std::function<bool(const tenancy::Plan&)> granted = nullptr)
      : spec_{std::move(name), "records its calls", std::move(schema)},
        granted_(std::move(granted)) {}
  const ToolSpec& spec() const override { return spec_; }
  bool AllowedBy(const tenancy::Plan& plan) const override { return !granted_ || granted_(plan); }
  Awaitable<ToolResult> Run(const TenantContext& context,
                            const boost::json::object& arguments) override {
    runs.push_back(Ran{context, arguments});
    co_return ToolResult{spec_.name + " ran", false};
  }
  std::vector<Ran> runs;

 private:
  ToolSpec spec_;
  std::function<bool(const tenancy::Plan&)> granted_;
};

// The tool result the model was sent for a call, or null.
const ChatMessage* ToolResultFor(const std::vector<ChatMessage>& messages,
                                 const std::string& call_id) {
  for (const auto& m : messages)
    if (m.role == Role::kTool && m.tool_call_id == call_id) return &m;
  return nullptr;
}

TEST(AgentLoopTest, ArgumentsTheToolsSchemaRejectsGoBackToTheModelAsErrorsAndTheToolNeverRuns) {
  ToolRegistry tools;
  auto count = std::make_shared<RecordingTool>(
      "count", R"({"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],)"
               R"("additionalProperties":false})");
  tools.Add(count);
  struct Bad {
    ToolCall call;
    std::string problem;  // what the error the model gets must say
  };
  const std::vector<Bad> bad = {
      {{"wrong-type", "count", R"({"n":"x"})"}, "argument 'n' must be of type integer"},
      {{"missing", "count", "{}"}, "missing required argument 'n'"},
      {{"unknown", "count", R"({"n":1,"m":2})"}, "unknown argument 'm'"},
      {{"array", "count", "[1,2]"}, "arguments are not a JSON object"},
      {{"not-json", "count", "n=1"}, "arguments are not a JSON object"},
      {{"fraction", "count", R"({"n":2.5})"}, "argument 'n' must be of type integer"},
      // A whole number no int64 holds (checking it must not convert it: undefined behaviour).
      {{"huge", "count", R"({"n":1e300})"}, "argument 'n' must be of type integer"},
  };
  std::vector<std::vector<ToolCall>> steps;
  for (const auto& b : bad) steps.push_back({b.call});
  // The same tool does run when asked right (3.0 is a whole number, so an integer).
  steps.push_back({{"valid", "count", R"({"n":3.0})"}});
  auto model = std::make_shared<StepByStepModel>(steps);
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  plan.max_agent_steps = 10;
  AgentRequest request;
  request.messages = {{Role::kUser, "count", {}, "", "", false}};
  request.plan = &plan;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->text, "done");
  // Only the valid call ran.
  ASSERT_EQ(count->runs.size(), 1u);
  // ... as the integer its schema asks for, so that as_int64() works on it.
  ASSERT_TRUE(count->runs[0].arguments.at("n").is_int64());
  EXPECT_EQ(boost::json::serialize(count->runs[0].arguments), R"({"n":3})");
  ASSERT_EQ(model->sent.size(), bad.size() + 2);
  for (size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(bad[i].call.id);
    // The model's next request ends with the refusal of the call it just made.
    const ChatMessage& fed_back = model->sent[i + 1].back();
    EXPECT_EQ(fed_back.role, Role::kTool);
    EXPECT_EQ(fed_back.tool_call_id, bad[i].call.id);
    EXPECT_EQ(fed_back.tool_name, "count");
    EXPECT_TRUE(fed_back.is_error);
    EXPECT_NE(fed_back.content.find(bad[i].problem), std::string::npos) << fed_back.content;
  }
  const ChatMessage* ran = ToolResultFor(model->sent.back(), "valid");
  ASSERT_NE(ran, nullptr);
  EXPECT_FALSE(ran->is_error);
  EXPECT_EQ(ran->content, "count ran");
}

TEST(AgentLoopTest, AToolNobodyRegisteredGetsTheModelAnErrorResult) {
  ToolRegistry tools;
  auto lookup = std::make_shared<RecordingTool>("lookup");
  tools.Add(lookup);
  auto model = std::make_shared<StepByStepModel>(
      std::vector<std::vector<ToolCall>>{{{"ghost", "delete_everything", "{}"}}});
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  AgentRequest request;
  request.messages = {{Role::kUser, "clean up", {}, "", "", false}};
  request.plan = &plan;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->text, "done");
  EXPECT_TRUE(lookup->runs.empty());
  ASSERT_EQ(model->sent.size(), 2u);
  const ChatMessage* refused = ToolResultFor(model->sent[1], "ghost");
  ASSERT_NE(refused, nullptr);
  EXPECT_TRUE(refused->is_error);
  EXPECT_NE(refused->content.find("tool 'delete_everything' is not available"), std::string::npos)
      << refused->content;
}

TEST(AgentLoopTest, AToolThePlanDoesNotGrantIsNeitherOfferedNorRunEvenWhenTheModelNamesIt) {
  ToolRegistry tools;
  auto forecast = std::make_shared<RecordingTool>(
      "forecast", R"({"type":"object"})",
      [](const tenancy::Plan& p) { return p.weather_tool == "full"; });
  auto lookup = std::make_shared<RecordingTool>("lookup");
  tools.Add(forecast);
  tools.Add(lookup);
  // The model names the tool it was not offered, next to one it was.
  auto model = std::make_shared<StepByStepModel>(std::vector<std::vector<ToolCall>>{
      {{"call-1", "forecast", "{}"}, {"call-2", "lookup", "{}"}}});
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  plan.weather_tool = "basic";
  AgentRequest request;
  request.messages = {{Role::kUser, "weather?", {}, "", "", false}};
  request.plan = &plan;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_FALSE(model->offered.empty());
  EXPECT_EQ(model->offered[0], (std::vector<std::string>{"lookup"}));
  EXPECT_TRUE(forecast->runs.empty());
  EXPECT_EQ(lookup->runs.size(), 1u);
  ASSERT_EQ(model->sent.size(), 2u);
  const ChatMessage* refused = ToolResultFor(model->sent[1], "call-1");
  ASSERT_NE(refused, nullptr);
  EXPECT_TRUE(refused->is_error);
  EXPECT_NE(refused->content.find("tool 'forecast' is not available"), std::string::npos)
      << refused->content;
  const ChatMessage* ran = ToolResultFor(model->sent[1], "call-2");
  ASSERT_NE(ran, nullptr);
  EXPECT_FALSE(ran->is_error);
}

TenantContext AliceAtAcme() {
  TenantContext c;
  c.tenant_id = TenantId("tenant-acme");
  c.user_id = UserId("user-alice");
  c.email = "alice@acme.example";
  c.subscription_tier = "premium";
  c.role = "admin";
  c.session_id = SessionId("session-42");
  c.trace_id = TraceId("4bf92f3577b34da6a3ce929d0e0e4736");
  c.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  return c;
}

void ExpectSameContext(const TenantContext& got, const TenantContext& want) {
  EXPECT_EQ(got.tenant_id, want.tenant_id);
  EXPECT_EQ(got.user_id, want.user_id);
  EXPECT_EQ(got.email, want.email);
  EXPECT_EQ(got.subscription_tier, want.subscription_tier);
  EXPECT_EQ(got.role, want.role);
  EXPECT_EQ(got.session_id, want.session_id);
  EXPECT_EQ(got.trace_id, want.trace_id);
  EXPECT_EQ(got.traceparent, want.traceparent);
}

TEST(AgentLoopTest, AToolRunAloneGetsTheCallersTenantContext) {
  ToolRegistry tools;
  auto lookup = std::make_shared<RecordingTool>("lookup");
  tools.Add(lookup);
  auto model = std::make_shared<StepByStepModel>(
      std::vector<std::vector<ToolCall>>{{{"call-1", "lookup", "{}"}}});
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  AgentRequest request;
  request.messages = {{Role::kUser, "look it up", {}, "", "", false}};
  request.plan = &plan;
  request.context = AliceAtAcme();
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(lookup->runs.size(), 1u);
  ExpectSameContext(lookup->runs[0].context, AliceAtAcme());
}

TEST(AgentLoopTest, EveryToolRunInParallelGetsTheCallersTenantContext) {
  ToolRegistry tools;
  auto lookup = std::make_shared<RecordingTool>("lookup");
  auto forecast = std::make_shared<RecordingTool>("forecast");
  tools.Add(lookup);
  tools.Add(forecast);
  auto model = std::make_shared<StepByStepModel>(std::vector<std::vector<ToolCall>>{
      {{"call-1", "lookup", "{}"}, {"call-2", "forecast", "{}"}, {"call-3", "lookup", "{}"}}});
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  AgentRequest request;
  request.messages = {{Role::kUser, "all of it", {}, "", "", false}};
  request.plan = &plan;
  request.context = AliceAtAcme();
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_EQ(lookup->runs.size(), 2u);
  ASSERT_EQ(forecast->runs.size(), 1u);
  for (const auto& ran : lookup->runs) ExpectSameContext(ran.context, AliceAtAcme());
  ExpectSameContext(forecast->runs[0].context, AliceAtAcme());
}

// A tool that throws (none should: errors are values) fails its call, whether it ran alone or with
// others; the model hears of it as an error result and the turn goes on.
class ThrowingTool final : public Tool {
 public:
  const ToolSpec& spec() const override { return spec_; }
  bool AllowedBy(const tenancy::Plan&) const override { return true; }
  Awaitable<ToolResult> Run(const TenantContext&, const boost::json::object&) override {
    throw std::runtime_error("the backend is on fire");
    co_return ToolResult{};
  }

 private:
  ToolSpec spec_{"flaky", "throws", R"({"type":"object"})"};
};

TEST(AgentLoopTest, AToolThatThrowsFailsItsCallNotTheTurnAloneOrInParallel) {
  ToolRegistry tools;
  tools.Add(std::make_shared<ThrowingTool>());
  auto lookup = std::make_shared<RecordingTool>("lookup");
  tools.Add(lookup);
  auto model = std::make_shared<StepByStepModel>(std::vector<std::vector<ToolCall>>{
      {{"alone", "flaky", "{}"}},
      {{"together", "flaky", "{}"}, {"beside", "lookup", "{}"}},
  });
  AgentLoop loop(model, tools);
  tenancy::Plan plan;
  plan.max_agent_steps = 5;
  AgentRequest request;
  request.messages = {{Role::kUser, "try", {}, "", "", false}};
  request.plan = &plan;
  RecordingEvents events;

  auto result = RunLoop(loop, request, events);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->text, "done");
  ASSERT_EQ(model->sent.size(), 3u);
  for (const auto& [step, id] :
       std::vector<std::pair<size_t, std::string>>{{1, "alone"}, {2, "together"}}) {
    const ChatMessage* failed = ToolResultFor(model->sent[step], id);
    ASSERT_NE(failed, nullptr) << id;
    EXPECT_TRUE(failed->is_error) << id;
    EXPECT_NE(failed->content.find("the tool failed unexpectedly"), std::string::npos)
        << failed->content;
    // What it threw may quote anything the tool held: the operator's log gets it, not the model.
    EXPECT_EQ(failed->content.find("on fire"), std::string::npos) << failed->content;
  }
  const ChatMessage* beside = ToolResultFor(model->sent[2], "beside");
  ASSERT_NE(beside, nullptr);
  EXPECT_FALSE(beside->is_error);
  EXPECT_EQ(lookup->runs.size(), 1u);
}

}  // namespace
}  // namespace gh::agent
