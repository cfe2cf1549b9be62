#include "agent/agent.h"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <exception>
#include <optional>

#include "common/log.h"
#include "common/strings.h"

namespace gh::agent {

namespace bj = boost::json;

namespace {

ToolResult ErrorResult(std::string message) {
  return ToolResult{bj::serialize(bj::object{{"error", message}}), true};
}

ToolResult NotAuthorized(const AuthzDecision& d) {
  bj::object o{{"error", "not authorized"}};
  if (!d.relation.empty()) {
    o["relation"] = d.relation;
    o["object"] = d.object;
  }
  return ToolResult{bj::serialize(o), true};
}

// Counts what a model call streamed, to estimate its output when it fails midway.
class CountingEvents final : public ModelEvents {
 public:
  explicit CountingEvents(ModelEvents& inner) : inner_(inner) {}
  Awaitable<Status> OnTextDelta(std::string_view text) override {
    streamed_ += text.size();
    co_return co_await inner_.OnTextDelta(text);
  }
  size_t streamed() const { return streamed_; }

 private:
  ModelEvents& inner_;
  size_t streamed_ = 0;
};

// A call that failed before producing anything is taken to have consumed nothing (providers do not
// bill refused requests); one that failed midway consumed its prompt and what it streamed.
Usage EstimateFailedCall(const ModelRequest& req, size_t streamed_bytes) {
  Usage u;
  if (streamed_bytes == 0) return u;
  for (const auto& m : req.messages) u.input_tokens += EstimateTokens(m.content) + 4;
  u.output_tokens = static_cast<int64_t>((streamed_bytes + 3) / 4);
  return u;
}

// Signals the end of one concurrently running tool call (its index). Thread-safe.
using DoneChannel =
    boost::asio::experimental::concurrent_channel<void(boost::system::error_code, size_t)>;

// One tool call run on its own coroutine. Parameters are copied into the frame; `out` and `done`
// outlive it (the loop waits for every call before leaving the step).
Awaitable<void> RunConcurrently(std::shared_ptr<Tool> tool, TenantContext context, bj::object args,
                                ToolResult* out, size_t index, DoneChannel* done) {
  *out = co_await RunTool(*tool, context, args);
  done->try_send(boost::system::error_code(), index);
}

// Cancels the model call in flight when the client goes away or the plan's time limit runs out.
// Shared with the timer's handler, which may run after the loop has returned.
struct CallCancel {
  CancelSignal signal;
  bool timed_out = false;
};

// Holds the forwarding from the client's signal and the deadline timer for one Run.
class CallCancelScope {
 public:
  CallCancelScope(CancelSignal* client, std::shared_ptr<CallCancel> state)
      : client_(client), state_(std::move(state)) {
    if (client_) subscription_ = client_->Subscribe([s = state_] { s->signal.Cancel(); });
  }
  ~CallCancelScope() {
    if (client_) client_->Unsubscribe(subscription_);
    if (timer_) timer_->cancel();
  }
  void ArmDeadline(const boost::asio::any_io_executor& executor, std::chrono::milliseconds after) {
    timer_.emplace(executor);
    timer_->expires_after(after);
    timer_->async_wait([s = state_](boost::system::error_code ec) {
      if (ec) return;
      s->timed_out = true;
      s->signal.Cancel();
    });
  }

 private:
  CancelSignal* client_;
  std::shared_ptr<CallCancel> state_;
  int subscription_ = 0;
  std::optional<boost::asio::steady_timer> timer_;
};

Status TimeLimitSpent(int64_t time_limit_ms) {
  return Status::Unprocessable(
      fmt::format("the agent stopped after its time limit of {} seconds without an answer",
                  time_limit_ms / 1000),
      "agent_time_limit");
}

// A call checked and cleared to run: what it runs with.
struct PendingRun {
  size_t index = 0;
  std::shared_ptr<Tool> tool;
  bj::object args;
};

}  // namespace

Awaitable<Result<AgentResult>> AgentLoop::Run(const AgentRequest& request, AgentEvents& events,
                                              AgentResult* partial) {
  AgentResult result;
  auto fail = [&](Status st) -> Result<AgentResult> {
    if (partial) *partial = result;
    return st;
  };
  ModelRequest mreq;
  mreq.model = request.model_id;
  mreq.messages = request.messages;
  mreq.context = request.context;
  auto call_cancel = std::make_shared<CallCancel>();
  CallCancelScope cancel_scope(request.cancel, call_cancel);
  mreq.cancel = &call_cancel->signal;
  mreq.max_output_tokens = request.plan ? request.plan->max_output_tokens : 1024;
  std::vector<std::shared_ptr<Tool>> offered;
  if (request.plan) offered = tools_.OfferedTo(*request.plan, request.context);
  for (const auto& t : offered) mreq.tools.push_back(t->spec());
  const int max_steps = request.plan ? std::max(1, request.plan->max_agent_steps) : 6;

  const int64_t time_limit_ms = request.plan ? request.plan->max_agent_seconds * 1000 : 0;
  const int64_t started_ms = request.clock ? request.clock->NowUnixMillis() : 0;
  if (request.clock && time_limit_ms > 0) {
    // Also cuts a model call still running when the limit is spent (real time, from now).
    auto executor = co_await boost::asio::this_coro::executor;
    cancel_scope.ArmDeadline(executor, std::chrono::milliseconds(time_limit_ms));
  }

  for (int step = 0; step < max_steps; ++step) {
    if (request.clock && time_limit_ms > 0 &&
        request.clock->NowUnixMillis() - started_ms >= time_limit_ms) {
      co_return fail(TimeLimitSpent(time_limit_ms));
    }
    if (request.guard) {
      Status allowed = request.guard->BeforeModelCall(mreq);
      if (!allowed.ok()) co_return fail(allowed);
    }
    CountingEvents counting(events);
    auto turn = co_await model_->Generate(mreq, counting);
    ++result.model_calls;
    const Usage used = turn.ok() ? turn->usage : EstimateFailedCall(mreq, counting.streamed());
    if (request.guard) request.guard->AfterModelCall(mreq, used);
    result.usage += used;
    if (!turn.ok() && call_cancel->timed_out) co_return fail(TimeLimitSpent(time_limit_ms));
    if (!turn.ok()) co_return fail(std::move(turn).status());
    result.stop_reason = turn->stop_reason;
    if (turn->tool_calls.empty()) {
      result.text += turn->text;
      ChatMessage answer{Role::kAssistant, result.text, {}, "", "", false};
      result.new_messages.push_back(answer);
      co_return result;
    }
    ChatMessage asked{Role::kAssistant, turn->text, turn->tool_calls, "", "", false};
    mreq.messages.push_back(asked);
    result.new_messages.push_back(asked);
    result.text += turn->text;
    std::string held_notices;  // calls stored to wait for the user's approval: the turn ends after
                               // this step
    const std::vector<ToolCall>& calls = turn->tool_calls;
    std::vector<ToolResult> results(calls.size());
    std::vector<PendingRun> to_run;
    // 1. In the model's order: announce each call and decide whether it may run.
    for (size_t i = 0; i < calls.size(); ++i) {
      const ToolCall& call = calls[i];
      ++result.tool_calls;
      Status st = co_await events.OnToolCall(call);
      if (!st.ok()) co_return fail(st);
      ToolResult& tr = results[i];
      auto tool = tools_.Find(request.context, call.name);
      const bool available = tool && request.plan && tool->AllowedBy(*request.plan);
      Status charged =
          available && request.guard ? request.guard->BeforeToolCall(call) : Status::Ok();
      // A tool the plan does not grant is never executed, even if a model names it.
      if (!available) {
        tr = ErrorResult(fmt::format("tool '{}' is not available", call.name));
      } else if (!charged.ok()) {
        tr = ErrorResult(charged.message());
      } else {
        boost::system::error_code ec;
        bj::value args = bj::parse(call.arguments_json.empty() ? "{}" : call.arguments_json, ec);
        if (ec || !args.is_object()) {
          tr = ErrorResult("arguments are not a JSON object");
        } else if (Status valid =
                       ValidateArguments(args.get_object(), tool->spec().parameters_schema);
                   !valid.ok()) {
          tr = ErrorResult(valid.message());
        } else if (AuthzDecision d = tools_.Authorize(request.context, *tool, args.get_object());
                   !d.allowed) {
          // The decision is recorded by the authorizer; the model learns only that it was refused.
          tr = NotAuthorized(d);
        } else {
          // A call that needs the user's approval is stored (bound to its exact arguments) and not
          // run now.
          Result<ApprovalHold> hold = ApprovalHold{};
          if (tools_.approval_gate())
            hold = tools_.approval_gate()->Check(request.context, *tool, call, args.get_object());
          if (!hold.ok()) {
            tr = ErrorResult("the approval this call needs could not be requested: " +
                             hold.status().message());
          } else if (hold->held) {
            tr = ToolResult{hold->tool_result, false};
            held_notices += (held_notices.empty() ? "" : "\n") + hold->notice;
          } else {
            to_run.push_back(PendingRun{i, tool, std::move(args.get_object())});
          }
        }
      }
    }
    // 2. Run the cleared calls: one inline, several concurrently (each on its own coroutine).
    if (to_run.size() == 1) {
      ToolResult ran = co_await RunTool(*to_run[0].tool, request.context, to_run[0].args);
      results[to_run[0].index] = std::move(ran);
    } else if (to_run.size() > 1) {
      auto executor = co_await boost::asio::this_coro::executor;
      DoneChannel done(executor, to_run.size());
      for (auto& p : to_run) {
        boost::asio::co_spawn(executor,
                              RunConcurrently(p.tool, request.context, std::move(p.args),
                                              &results[p.index], p.index, &done),
                              [](std::exception_ptr) {});
      }
      for (size_t finished = 0; finished < to_run.size(); ++finished) {
        size_t which = co_await done.async_receive(boost::asio::use_awaitable);
        (void)which;
      }
    }
    // 3. Results back to the client and to the model, in the model's order.
    for (size_t i = 0; i < calls.size(); ++i) {
      const ToolCall& call = calls[i];
      Status st = co_await events.OnToolResult(call, results[i]);
      if (!st.ok()) co_return fail(st);
      ChatMessage tool_msg{Role::kTool, results[i].content, {},
                           call.id,     call.name,          results[i].is_error};
      mreq.messages.push_back(tool_msg);
      result.new_messages.push_back(tool_msg);
    }
    if (!held_notices.empty()) {
      // Waiting without holding anything: the turn ends here, telling the user what awaits them.
      std::string piece = (result.text.empty() ? "" : "\n\n") + held_notices;
      Status st = co_await events.OnTextDelta(piece);
      if (!st.ok()) co_return fail(st);
      result.text += piece;
      result.new_messages.push_back(ChatMessage{Role::kAssistant, result.text, {}, "", "", false});
      result.stop_reason = "approval_pending";
      co_return result;
    }
  }
  co_return fail(Status::Unprocessable(
      fmt::format("the agent stopped after {} steps without an answer", max_steps),
      "agent_step_limit"));
}

}  // namespace gh::agent
