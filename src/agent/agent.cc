#include "agent/agent.h"

#include <boost/json.hpp>
#include <fmt/format.h>

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
  mreq.cancel = request.cancel;
  mreq.max_output_tokens = request.plan ? request.plan->max_output_tokens : 1024;
  std::vector<std::shared_ptr<Tool>> offered;
  if (request.plan) offered = tools_.OfferedTo(*request.plan, request.context);
  for (const auto& t : offered) mreq.tools.push_back(t->spec());
  const int max_steps = request.plan ? std::max(1, request.plan->max_agent_steps) : 6;

  for (int step = 0; step < max_steps; ++step) {
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
    std::string held_notices;  // calls stored to wait for the user's approval: the turn ends after this step
    for (const ToolCall& call : turn->tool_calls) {
      ++result.tool_calls;
      Status st = co_await events.OnToolCall(call);
      if (!st.ok()) co_return fail(st);
      ToolResult tr;
      auto tool = tools_.Find(request.context, call.name);
      const bool available = tool && request.plan && tool->AllowedBy(*request.plan);
      Status charged = available && request.guard ? request.guard->BeforeToolCall(call) : Status::Ok();
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
        } else if (Status valid = ValidateArguments(args.get_object(), tool->spec().parameters_schema); !valid.ok()) {
          tr = ErrorResult(valid.message());
        } else if (AuthzDecision d = tools_.Authorize(request.context, *tool, args.get_object()); !d.allowed) {
          // The decision is recorded by the authorizer; the model learns only that it was refused.
          tr = NotAuthorized(d);
        } else {
          // A call that needs the user's approval is stored (bound to its exact arguments) and not run now.
          Result<ApprovalHold> hold = ApprovalHold{};
          if (tools_.approval_gate()) hold = tools_.approval_gate()->Check(request.context, *tool, call, args.get_object());
          if (!hold.ok()) {
            tr = ErrorResult("the approval this call needs could not be requested: " + hold.status().message());
          } else if (hold->held) {
            tr = ToolResult{hold->tool_result, false};
            held_notices += (held_notices.empty() ? "" : "\n") + hold->notice;
          } else {
            tr = co_await tool->Run(request.context, args.get_object());
          }
        }
      }
      st = co_await events.OnToolResult(call, tr);
      if (!st.ok()) co_return fail(st);
      ChatMessage tool_msg{Role::kTool, tr.content, {}, call.id, call.name, tr.is_error};
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
      fmt::format("the agent stopped after {} steps without an answer", max_steps), "agent_step_limit"));
}

}  // namespace gh::agent
