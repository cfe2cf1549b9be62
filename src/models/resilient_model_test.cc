#include "models/resilient_model.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <optional>

#include "common/cancel.h"
#include "models/fake_upstream_testing.h"

namespace gh::models {
namespace {

using namespace agent;
using namespace testing;
using std::chrono::milliseconds;

// One scripted answer: deltas to send first, then the turn or the error.
struct Step {
  std::vector<std::string> deltas;
  Status status;  // OK = answer with `text`
  std::string text = "answer";
};

// A Model that plays its script in order (the last step repeats) and records what it was asked.
class ScriptedModel final : public Model {
 public:
  ScriptedModel(std::string provider, std::vector<Step> steps)
      : provider_(std::move(provider)), steps_(steps.begin(), steps.end()) {}
  std::string_view provider() const override { return provider_; }
  Awaitable<Result<ModelTurn>> Generate(const ModelRequest& request, ModelEvents& events) override {
    ++calls;
    asked_for.push_back(request.model);
    formats.push_back(request.response_format);
    Step step = steps_.front();
    if (steps_.size() > 1) steps_.pop_front();
    for (const std::string& d : step.deltas) {
      Status st = co_await events.OnTextDelta(d);
      if (!st.ok()) co_return st;
    }
    if (!step.status.ok()) co_return step.status;
    ModelTurn turn;
    turn.text = step.text;
    turn.stop_reason = "end_turn";
    co_return turn;
  }
  Status Accepts(const ModelRequest&) const override { return accepts; }
  int calls = 0;
  std::vector<std::string> asked_for;
  std::vector<std::optional<ResponseFormat>> formats;
  Status accepts = Status::Ok();

 private:
  std::string provider_;
  std::deque<Step> steps_;
};

Status Unavailable() { return Status::BadGateway("x answered 503", "upstream_unavailable"); }
Status RateLimited(int64_t retry_after) {
  return Status::ResourceExhausted("x answered 429", "upstream_rate_limited")
      .WithRetryAfter(retry_after);
}

class ResilientModelTest : public ::testing::Test {
 protected:
  ResilientModelTest() { policy_ = {3, milliseconds(1), milliseconds(4), milliseconds(20'000)}; }

  Outcome Run(ResilientModel& model, FallbackReport& report) {
    ModelRequest r;
    r.model = "whatever the registry said";
    r.messages = {{Role::kUser, "Hi", {}, "", "", false}};
    return RunCoroutine([&] { return model.GenerateWithReport(r, events_, report); });
  }

  RetryPolicy policy_;
  SeededRandom random_{42};
  RecordingEvents events_;
};

TEST_F(ResilientModelTest, RetriesATransientFailureThenAnswers) {
  auto a = std::make_shared<ScriptedModel>(
      "anthropic", std::vector<Step>{{{}, Unavailable()}, {{"answer"}, {}}});
  ResilientModel model({{{"primary", "claude-x", a}}, policy_, nullptr}, random_);
  FallbackReport report;
  Outcome out = Run(model, report);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(a->calls, 2);
  EXPECT_EQ(a->asked_for, (std::vector<std::string>{"claude-x", "claude-x"}));
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"answer"});
  EXPECT_EQ(report.model_name, "primary");
  EXPECT_EQ(report.provider, "anthropic");
  EXPECT_EQ(report.provider_model_id, "claude-x");
  ASSERT_EQ(report.attempts.size(), 2u);
  EXPECT_EQ(report.attempts[0].status.error_code(), "upstream_unavailable");
  EXPECT_TRUE(report.attempts[1].status.ok());
}

TEST_F(ResilientModelTest, FallsBackToTheNextModelWhenRetriesAreExhausted) {
  auto a = std::make_shared<ScriptedModel>("bedrock", std::vector<Step>{{{}, Unavailable()}});
  auto b =
      std::make_shared<ScriptedModel>("anthropic", std::vector<Step>{{{"from b"}, {}, "from b"}});
  std::vector<std::pair<std::string, std::string>> seen;
  ResilientModelOptions opt{{{"first", "model-a", a}, {"second", "model-b", b}},
                            policy_,
                            [&](const TenantContext&, const FallbackReport& r) {
                              seen.emplace_back(r.model_name, r.provider);
                            }};
  ResilientModel model(opt, random_);
  FallbackReport report;
  Outcome out = Run(model, report);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.turn.text, "from b");
  EXPECT_EQ(a->calls, 3);
  EXPECT_EQ(b->calls, 1);
  EXPECT_EQ(b->asked_for, std::vector<std::string>{"model-b"});
  EXPECT_EQ(report.model_name, "second");
  EXPECT_EQ(report.attempts.size(), 4u);

  // Through the plain Model interface the observer learns which model answered.
  RecordingEvents events;
  ModelRequest r;
  r.messages = {{Role::kUser, "Hi", {}, "", "", false}};
  Outcome again = RunGenerate(model, r, events);
  ASSERT_TRUE(again.status.ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::pair<std::string, std::string>{"second", "anthropic"}));
}

TEST_F(ResilientModelTest, APermanentFailureFallsBackWithoutRetrying) {
  auto a = std::make_shared<ScriptedModel>(
      "bedrock",
      std::vector<Step>{{{}, Status::BadGateway("bedrock answered 403", "upstream_auth_failed")}});
  auto b = std::make_shared<ScriptedModel>("anthropic", std::vector<Step>{{{}, {}}});
  ResilientModel model({{{"first", "a", a}, {"second", "b", b}}, policy_, nullptr}, random_);
  FallbackReport report;
  Outcome out = Run(model, report);
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(a->calls, 1);
  EXPECT_EQ(report.model_name, "second");
}

TEST_F(ResilientModelTest, NeverRetriesOrFallsBackOnceATextDeltaWasSent) {
  auto a =
      std::make_shared<ScriptedModel>("anthropic", std::vector<Step>{{{"Hel"}, Unavailable()}});
  auto b = std::make_shared<ScriptedModel>("bedrock", std::vector<Step>{{{}, {}}});
  ResilientModel model({{{"first", "a", a}, {"second", "b", b}}, policy_, nullptr}, random_);
  FallbackReport report;
  Outcome out = Run(model, report);
  EXPECT_EQ(out.status.code(), StatusCode::kBadGateway);
  EXPECT_EQ(out.status.error_code(), "upstream_unavailable");
  EXPECT_NE(out.status.message().find("interrupted"), std::string::npos) << out.status.message();
  EXPECT_EQ(a->calls, 1);
  EXPECT_EQ(b->calls, 0);
  EXPECT_EQ(events_.deltas, std::vector<std::string>{"Hel"});
  EXPECT_TRUE(report.model_name.empty());
}

TEST_F(ResilientModelTest, AClientThatWentAwayIsNeverRetried) {
  auto a = std::make_shared<ScriptedModel>("anthropic", std::vector<Step>{{{"Hel", "lo"}, {}}});
  auto b = std::make_shared<ScriptedModel>("bedrock", std::vector<Step>{{{}, {}}});
  ResilientModel model({{{"first", "a", a}, {"second", "b", b}}, policy_, nullptr}, random_);
  events_.accept_limit = 0;
  FallbackReport report;
  Outcome out = Run(model, report);
  EXPECT_EQ(out.status.code(), StatusCode::kCancelled);
  EXPECT_EQ(a->calls, 1);
  EXPECT_EQ(b->calls, 0);
}

TEST_F(ResilientModelTest, HonoursRetryAfterWithinTheCap) {
  auto a = std::make_shared<ScriptedModel>("anthropic",
                                           std::vector<Step>{{{}, RateLimited(1)}, {{}, {}}});
  ResilientModel model({{{"only", "a", a}}, policy_, nullptr}, random_);
  FallbackReport report;
  const auto started = std::chrono::steady_clock::now();
  Outcome out = Run(model, report);
  ASSERT_TRUE(out.status.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(1000));
  ASSERT_EQ(report.attempts.size(), 2u);
  EXPECT_EQ(report.attempts[1].waited, milliseconds(1000));
}

// A client that leaves while the turn waits out a Retry-After ends the wait: the turn is cancelled
// then, not after the wait, and the model is not asked again.
TEST_F(ResilientModelTest, AClientThatLeavesDuringARetryWaitEndsItWithoutAnotherAttempt) {
  auto a = std::make_shared<ScriptedModel>("anthropic",
                                           std::vector<Step>{{{}, RateLimited(10)}, {{}, {}}});
  ResilientModel model({{{"only", "a", a}}, policy_, nullptr}, random_);
  CancelSignal cancel;
  ModelRequest r;
  r.model = "m";
  r.messages = {{Role::kUser, "Hi", {}, "", "", false}};
  r.cancel = &cancel;
  FallbackReport report;
  boost::asio::io_context io;
  std::optional<Result<ModelTurn>> out;
  boost::asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        out.emplace(co_await model.GenerateWithReport(r, events_, report));
      },
      boost::asio::detached);
  boost::asio::steady_timer leave(io, milliseconds(50));  // the client goes, mid-wait
  leave.async_wait([&](boost::system::error_code) { cancel.Cancel(); });
  io.run();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status().code(), StatusCode::kCancelled) << out->status().ToString();
  EXPECT_EQ(a->calls, 1) << "not asked again after the client left";
}

TEST_F(ResilientModelTest, ARetryAfterBeyondTheCapMovesToTheNextModelAtOnce) {
  auto a = std::make_shared<ScriptedModel>("anthropic", std::vector<Step>{{{}, RateLimited(3600)}});
  auto b = std::make_shared<ScriptedModel>("bedrock", std::vector<Step>{{{}, {}}});
  ResilientModel model({{{"first", "a", a}, {"second", "b", b}}, policy_, nullptr}, random_);
  FallbackReport report;
  const auto started = std::chrono::steady_clock::now();
  Outcome out = Run(model, report);
  ASSERT_TRUE(out.status.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(1000));
  EXPECT_EQ(a->calls, 1);
  EXPECT_EQ(report.model_name, "second");
}

TEST_F(ResilientModelTest, WhenEveryModelFailsTheLastErrorIsReportedWithItsRetryAfter) {
  auto a = std::make_shared<ScriptedModel>("anthropic", std::vector<Step>{{{}, Unavailable()}});
  auto b = std::make_shared<ScriptedModel>("bedrock", std::vector<Step>{{{}, RateLimited(3600)}});
  ResilientModel model({{{"first", "a", a}, {"second", "b", b}}, policy_, nullptr}, random_);
  FallbackReport report;
  Outcome out = Run(model, report);
  EXPECT_EQ(out.status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(out.status.error_code(), "upstream_rate_limited");
  EXPECT_EQ(out.status.retry_after_seconds(), 3600);
  EXPECT_NE(out.status.message().find("all 2 models failed"), std::string::npos)
      << out.status.message();
  EXPECT_TRUE(report.model_name.empty());
}

TEST_F(ResilientModelTest, BackoffGrowsExponentiallyWithJitterUpToTheCap) {
  RetryPolicy p{5, milliseconds(100), milliseconds(1000), milliseconds(20'000)};
  for (int i = 0; i < 50; ++i) {
    auto first = RetryDelay(p, 1, Unavailable(), random_);
    auto third = RetryDelay(p, 3, Unavailable(), random_);
    auto tenth = RetryDelay(p, 10, Unavailable(), random_);
    ASSERT_TRUE(first && third && tenth);
    EXPECT_GE(*first, milliseconds(50));
    EXPECT_LE(*first, milliseconds(100));
    EXPECT_GE(*third, milliseconds(200));
    EXPECT_LE(*third, milliseconds(400));
    EXPECT_GE(*tenth, milliseconds(500));
    EXPECT_LE(*tenth, milliseconds(1000));
  }
  EXPECT_EQ(RetryDelay(p, 1, RateLimited(2), random_), milliseconds(2000));
  EXPECT_EQ(RetryDelay(p, 1, RateLimited(21), random_), std::nullopt);
}

TEST_F(ResilientModelTest, ClassifiesFailures) {
  EXPECT_EQ(ClassifyModelFailure(Unavailable()), FailureAction::kRetry);
  EXPECT_EQ(ClassifyModelFailure(RateLimited(1)), FailureAction::kRetry);
  EXPECT_EQ(ClassifyModelFailure(Status::Unavailable("cannot connect")), FailureAction::kRetry);
  EXPECT_EQ(ClassifyModelFailure(Status::DeadlineExceeded("slow")), FailureAction::kRetry);
  EXPECT_EQ(ClassifyModelFailure(Status::BadGateway("cut", "upstream_incomplete")),
            FailureAction::kRetry);
  EXPECT_EQ(ClassifyModelFailure(Status::BadGateway("400", "upstream_rejected")),
            FailureAction::kFallBack);
  EXPECT_EQ(ClassifyModelFailure(Status::BadGateway("bad crc", "eventstream_checksum_mismatch")),
            FailureAction::kFallBack);
  EXPECT_EQ(ClassifyModelFailure(Status::Cancelled("gone")), FailureAction::kFail);
}

TEST_F(ResilientModelTest, TheResponseFormatReachesEveryEntryAndOneEntryAcceptingIsEnough) {
  auto first = std::make_shared<ScriptedModel>("a", std::vector<Step>{{{}, Unavailable()}});
  auto second = std::make_shared<ScriptedModel>("b", std::vector<Step>{Step{}});
  ResilientModelOptions o;
  o.chain = {{"first", "first-id", first}, {"second", "second-id", second}};
  o.retry = policy_;
  o.retry.max_attempts = 1;
  ResilientModel model(o, random_);
  ModelRequest r;
  r.messages = {{Role::kUser, "Hi", {}, "", "", false}};
  ResponseFormat f;
  f.kind = ResponseFormat::Kind::kJsonSchema;
  f.name = "weather";
  r.response_format = f;
  Outcome out = RunGenerate(model, r, events_);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(first->formats.size(), 1u);
  ASSERT_EQ(second->formats.size(), 1u);
  ASSERT_TRUE(first->formats[0] && second->formats[0]);
  EXPECT_EQ(first->formats[0]->name, "weather");
  EXPECT_EQ(second->formats[0]->name, "weather");

  EXPECT_TRUE(model.Accepts(r).ok());
  first->accepts = Status::InvalidArgument("not a", "unsupported_parameter");
  EXPECT_TRUE(model.Accepts(r).ok()) << "the second entry can serve it";
  second->accepts = Status::InvalidArgument("not b", "unsupported_parameter");
  EXPECT_EQ(model.Accepts(r).message(), "not a") << "none can: the first refusal";
}

}  // namespace
}  // namespace gh::models
