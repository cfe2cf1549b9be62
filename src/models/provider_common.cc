#include "models/provider_common.h"

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

namespace gh::models {

namespace bj = boost::json;
using agent::ChatMessage;
using agent::Role;

AlternatingConversation GroupIntoAlternatingTurns(const std::vector<ChatMessage>& messages) {
  AlternatingConversation out;
  for (const ChatMessage& m : messages) {
    if (m.role == Role::kSystem) {
      if (!m.content.empty()) out.system.push_back(m.content);
      continue;
    }
    if (m.role == Role::kUser && m.content.empty()) continue;
    if (m.role == Role::kAssistant && m.content.empty() && m.tool_calls.empty()) continue;
    const Role side = m.role == Role::kAssistant ? Role::kAssistant : Role::kUser;
    if (out.turns.empty() || out.turns.back().role != side) out.turns.push_back({side, {}});
    out.turns.back().parts.push_back(&m);
  }
  for (AlternatingTurn& t : out.turns) {
    if (t.role != Role::kUser) continue;
    std::stable_partition(t.parts.begin(), t.parts.end(),
                          [](const ChatMessage* m) { return m->role == Role::kTool; });
  }
  return out;
}

TemperatureOrTopP ClaudeTemperatureOrTopP(const agent::Sampling& sampling) {
  TemperatureOrTopP out;
  if (sampling.temperature)
    out.temperature = std::clamp(*sampling.temperature, 0.0, 1.0);
  else
    out.top_p = sampling.top_p;
  return out;
}

std::optional<agent::ToolSpec> ResponseFormatTool(const agent::ModelRequest& request) {
  if (!request.response_format) return std::nullopt;
  // The client requires a call to one of its tools on this call (tool_choice "required" or a
  // named tool): an answer tool beside them would let the model answer instead. The answer is
  // asked for on a later call, once the client sends the results.
  if (request.tool_required && !request.tools.empty()) return std::nullopt;
  const agent::ResponseFormat& f = *request.response_format;
  agent::ToolSpec tool;
  if (f.kind == agent::ResponseFormat::Kind::kJsonObject) {
    tool.name = f.AnswerToolName();
    tool.description = "Give your answer as this tool's input: a JSON object.";
    tool.parameters_schema = R"({"type":"object"})";
    return tool;
  }
  tool.name = f.name;
  tool.description = !f.description.empty()
                         ? f.description
                         : "Give your answer as this tool's input, in the shape of its schema.";
  tool.parameters_schema = f.schema;
  return tool;
}

AnswerToolTracker::AnswerToolTracker(const agent::ModelRequest& request) {
  if (std::optional<agent::ToolSpec> tool = ResponseFormatTool(request))
    answer_tool_ = std::move(tool->name);
}

AnswerToolTracker::ToolUse AnswerToolTracker::OnToolUse(std::string_view name) {
  if (answer_tool_.empty() || name != answer_tool_) return ToolUse::kReal;
  if (answered_) return ToolUse::kExtraAnswer;
  answered_ = true;
  held_.clear();
  return ToolUse::kAnswer;
}

std::string AnswerToolTracker::OnText(std::string_view text) {
  if (answer_tool_.empty()) return std::string(text);
  if (!answered_) held_ += text;
  return std::string();
}

std::string AnswerToolTracker::ReleaseText() { return std::exchange(held_, std::string()); }

std::string AnswerToolTracker::StopReason(std::string stop_reason, bool surfaced_tool_calls) const {
  if (answered_ && !surfaced_tool_calls && stop_reason == "tool_use") return "end_turn";
  return stop_reason;
}

bj::object ArgumentsObject(std::string_view arguments_json) {
  boost::system::error_code ec;
  bj::value v = bj::parse(arguments_json, ec);
  if (ec || !v.is_object()) return {};
  return std::move(v.get_object());
}

bj::object SchemaObject(std::string_view schema_json) {
  boost::system::error_code ec;
  bj::value v = bj::parse(schema_json, ec);
  if (ec || !v.is_object()) {
    bj::object fallback;
    fallback["type"] = "object";
    return fallback;
  }
  return std::move(v.get_object());
}

int64_t IntMember(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) {
    const double d = v->get_double();  // in range before the cast (out of range is undefined)
    return std::isfinite(d) && std::fabs(d) < 9.2e18 ? static_cast<int64_t>(d) : 0;
  }
  return 0;
}

std::string StringMember(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const bj::object* ObjectMember(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::string TrimTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string RedactSecrets(std::string text, std::initializer_list<const Secret*> secrets) {
  static constexpr std::string_view kRedacted = "[redacted]";
  for (const Secret* s : secrets) {
    if (!s || s->empty()) continue;
    const std::string& needle = s->reveal();
    for (size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + kRedacted.size()))
      text.replace(pos, needle.size(), kRedacted);
  }
  return text;
}

Status WithMessage(const Status& status, std::string message) {
  Status out(status.code(), status.error_code(), std::move(message));
  for (const auto& [k, v] : status.details()) out.WithDetail(k, v);
  if (auto ra = status.retry_after_seconds()) return std::move(out).WithRetryAfter(*ra);
  return out;
}

Status AppendWholeAnswer(std::string& whole, std::string_view chunk, size_t max_bytes,
                         std::string_view provider) {
  if (whole.size() + chunk.size() > max_bytes)
    return Status::BadGateway(fmt::format("{}'s answer is too large", provider),
                              "upstream_too_large");
  whole.append(chunk);
  return Status::Ok();
}

}  // namespace gh::models
