#include "agent/agent.h"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace gh::agent {

namespace bj = boost::json;

namespace {

ToolResult ErrorResult(std::string message) {
  return ToolResult{bj::serialize(bj::object{{"error", message}}), true};
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
  mreq.max_output_tokens = request.plan ? request.plan->max_output_tokens : 1024;
  std::vector<std::shared_ptr<Tool>> offered;
  if (request.plan) offered = tools_.AllowedFor(*request.plan);
  for (const auto& t : offered) mreq.tools.push_back(t->spec());
  const int max_steps = request.plan ? std::max(1, request.plan->max_agent_steps) : 6;

  for (int step = 0; step < max_steps; ++step) {
    auto turn = co_await model_->Generate(mreq, events);
    ++result.model_calls;
    if (!turn.ok()) co_return fail(std::move(turn).status());
    result.usage += turn->usage;
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
    for (const ToolCall& call : turn->tool_calls) {
      ++result.tool_calls;
      Status st = co_await events.OnToolCall(call);
      if (!st.ok()) co_return fail(st);
      ToolResult tr;
      auto tool = tools_.Find(call.name);
      // A tool the plan does not grant is never executed, even if a model names it.
      if (!tool || !request.plan || !tool->AllowedBy(*request.plan)) {
        tr = ErrorResult(fmt::format("tool '{}' is not available", call.name));
      } else {
        boost::system::error_code ec;
        bj::value args = bj::parse(call.arguments_json.empty() ? "{}" : call.arguments_json, ec);
        if (ec || !args.is_object()) {
          tr = ErrorResult("arguments are not a JSON object");
        } else if (Status valid = ValidateArguments(args.get_object(), tool->spec().parameters_schema); !valid.ok()) {
          tr = ErrorResult(valid.message());
        } else {
          tr = co_await tool->Run(request.context, args.get_object());
        }
      }
      st = co_await events.OnToolResult(call, tr);
      if (!st.ok()) co_return fail(st);
      ChatMessage tool_msg{Role::kTool, tr.content, {}, call.id, call.name, tr.is_error};
      mreq.messages.push_back(tool_msg);
      result.new_messages.push_back(tool_msg);
    }
  }
  co_return fail(Status::Unprocessable(
      fmt::format("the agent stopped after {} steps without an answer", max_steps), "agent_step_limit"));
}

}  // namespace gh::agent
