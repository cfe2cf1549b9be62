#include "api/openai_wire.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/log.h"
#include "http/errors.h"

namespace gh::api::openai {

using agent::ChatMessage;
using agent::Role;

namespace {

constexpr size_t kMaxMessages = 2048;
constexpr size_t kMaxTools = 128;
constexpr size_t kMaxModelName = 200;

Status Bad(std::string message, std::string param, std::string code = "invalid_value") {
  return Status::InvalidArgument(std::move(message), std::move(code))
      .WithDetail("param", std::move(param));
}

// Tool names as OpenAI allows them: [A-Za-z0-9_-]{1,64}.
bool ValidToolName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

const bj::value* Member(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;  // an explicit null is the same as absent
}

// Message content: a string, null, or an array of parts of which only text parts are supported.
Result<std::string> ContentText(const bj::object& message, const std::string& param) {
  const bj::value* c = Member(message, "content");
  if (!c) return std::string();
  if (c->is_string()) return std::string(c->get_string());
  if (!c->is_array())
    return Bad("content must be a string or an array of content parts", param, "invalid_type");
  std::string text;
  size_t i = 0;
  for (const auto& part : c->get_array()) {
    const std::string part_param = fmt::format("{}[{}]", param, i++);
    if (!part.is_object())
      return Bad("a content part must be an object", part_param, "invalid_type");
    const auto& po = part.get_object();
    const bj::value* type = Member(po, "type");
    if (!type || !type->is_string())
      return Bad("a content part needs a type", part_param + ".type");
    if (type->get_string() != "text")
      return Bad(fmt::format("content parts of type '{}' are not supported; only text is",
                             std::string_view(type->get_string()).substr(0, 40)),
                 part_param + ".type", "unsupported_content");
    const bj::value* t = Member(po, "text");
    if (!t || !t->is_string())
      return Bad("a text part needs a text string", part_param + ".text", "invalid_type");
    text += t->get_string();
  }
  return text;
}

Result<std::vector<agent::ToolCall>> AssistantToolCalls(const bj::object& message,
                                                        const std::string& param) {
  std::vector<agent::ToolCall> calls;
  const bj::value* tc = Member(message, "tool_calls");
  if (!tc) return calls;
  if (!tc->is_array()) return Bad("tool_calls must be an array", param, "invalid_type");
  size_t i = 0;
  for (const auto& c : tc->get_array()) {
    const std::string p = fmt::format("{}[{}]", param, i++);
    if (!c.is_object()) return Bad("a tool call must be an object", p, "invalid_type");
    const auto& co = c.get_object();
    const bj::value* id = Member(co, "id");
    const bj::value* fn = Member(co, "function");
    if (!id || !id->is_string() || id->get_string().empty())
      return Bad("a tool call needs an id", p + ".id");
    if (const bj::value* type = Member(co, "type");
        type && (!type->is_string() || type->get_string() != "function"))
      return Bad("only function tool calls are supported", p + ".type");
    if (!fn || !fn->is_object()) return Bad("a tool call needs a function", p + ".function");
    const bj::value* name = Member(fn->get_object(), "name");
    const bj::value* args = Member(fn->get_object(), "arguments");
    if (!name || !name->is_string() || name->get_string().empty())
      return Bad("a tool call needs a function name", p + ".function.name");
    std::string arguments = "{}";
    if (args && args->is_string())
      arguments = std::string(args->get_string());
    else if (args)
      arguments = bj::serialize(*args);
    calls.push_back(
        {std::string(id->get_string()), std::string(name->get_string()), std::move(arguments)});
  }
  return calls;
}

Result<std::vector<ChatMessage>> ParseMessages(const bj::object& body) {
  const bj::value* v = Member(body, "messages");
  if (!v) return Bad("messages is required", "messages", "missing_field");
  if (!v->is_array()) return Bad("messages must be an array", "messages", "invalid_type");
  const auto& arr = v->get_array();
  if (arr.empty()) return Bad("messages must not be empty", "messages");
  if (arr.size() > kMaxMessages)
    return Bad(fmt::format("at most {} messages are accepted", kMaxMessages), "messages");
  std::vector<ChatMessage> out;
  std::map<std::string, std::string> call_names;  // tool call id -> tool name, from assistant turns
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string param = fmt::format("messages[{}]", i);
    if (!arr[i].is_object()) return Bad("a message must be an object", param, "invalid_type");
    const auto& m = arr[i].get_object();
    const bj::value* role = Member(m, "role");
    if (!role || !role->is_string())
      return Bad("a message needs a role", param + ".role", "missing_field");
    const std::string_view r = role->get_string();
    GH_ASSIGN_OR_RETURN(std::string content, ContentText(m, param + ".content"));
    ChatMessage msg;
    msg.content = std::move(content);
    if (r == "system" || r == "developer") {
      msg.role = Role::kSystem;
    } else if (r == "user") {
      msg.role = Role::kUser;
    } else if (r == "assistant") {
      msg.role = Role::kAssistant;
      GH_ASSIGN_OR_RETURN(msg.tool_calls, AssistantToolCalls(m, param + ".tool_calls"));
      for (const auto& c : msg.tool_calls) call_names[c.id] = c.name;
    } else if (r == "tool") {
      msg.role = Role::kTool;
      const bj::value* id = Member(m, "tool_call_id");
      if (!id || !id->is_string() || id->get_string().empty())
        return Bad("a tool message needs the tool_call_id it answers", param + ".tool_call_id",
                   "missing_field");
      msg.tool_call_id = std::string(id->get_string());
      auto it = call_names.find(msg.tool_call_id);
      if (it != call_names.end()) msg.tool_name = it->second;
    } else {
      return Bad(
          fmt::format("role '{}' is not supported; use system, developer, user, assistant or tool",
                      r.substr(0, 40)),
          param + ".role");
    }
    out.push_back(std::move(msg));
  }
  return out;
}

Result<std::vector<agent::ToolSpec>> ParseTools(const bj::object& body) {
  std::vector<agent::ToolSpec> tools;
  const bj::value* v = Member(body, "tools");
  if (!v) return tools;
  if (!v->is_array()) return Bad("tools must be an array", "tools", "invalid_type");
  if (v->get_array().size() > kMaxTools)
    return Bad(fmt::format("at most {} tools are accepted", kMaxTools), "tools");
  std::set<std::string> names;
  size_t i = 0;
  for (const auto& t : v->get_array()) {
    const std::string p = fmt::format("tools[{}]", i++);
    if (!t.is_object()) return Bad("a tool must be an object", p, "invalid_type");
    const auto& to = t.get_object();
    const bj::value* type = Member(to, "type");
    if (!type || !type->is_string() || type->get_string() != "function")
      return Bad("only tools of type 'function' are supported", p + ".type");
    const bj::value* fn = Member(to, "function");
    if (!fn || !fn->is_object())
      return Bad("a function tool needs a function", p + ".function", "missing_field");
    const auto& fo = fn->get_object();
    const bj::value* name = Member(fo, "name");
    if (!name || !name->is_string() || !ValidToolName(name->get_string()))
      return Bad("a function name must be 1 to 64 letters, digits, underscores or dashes",
                 p + ".function.name");
    agent::ToolSpec spec;
    spec.name = std::string(name->get_string());
    if (!names.insert(spec.name).second)
      return Bad("tool names must be unique", p + ".function.name");
    if (const bj::value* d = Member(fo, "description")) {
      if (!d->is_string())
        return Bad("description must be a string", p + ".function.description", "invalid_type");
      spec.description = std::string(d->get_string());
    }
    spec.parameters_schema = R"({"type":"object","properties":{}})";
    if (const bj::value* params = Member(fo, "parameters")) {
      if (!params->is_object())
        return Bad("parameters must be a JSON Schema object", p + ".function.parameters",
                   "invalid_type");
      spec.parameters_schema = bj::serialize(*params);
    }
    tools.push_back(std::move(spec));
  }
  return tools;
}

// Narrows the offered tools to what tool_choice allows.
Status ApplyToolChoice(const bj::object& body, ChatCompletionParams& p) {
  const bj::value* v = Member(body, "tool_choice");
  if (!v) return Status::Ok();
  if (v->is_string()) {
    const std::string_view c = v->get_string();
    if (c == "auto") return Status::Ok();
    if (c == "none") {
      p.tools.clear();
      return Status::Ok();
    }
    if (c == "required") {
      if (p.tools.empty()) return Bad("tool_choice 'required' needs tools", "tool_choice");
      p.tool_required = true;
      return Status::Ok();
    }
    return Bad("tool_choice must be 'auto', 'none', 'required' or a named function", "tool_choice");
  }
  if (!v->is_object())
    return Bad("tool_choice must be a string or an object", "tool_choice", "invalid_type");
  const auto& o = v->get_object();
  const bj::value* type = Member(o, "type");
  const bj::value* fn = Member(o, "function");
  const bj::value* name = fn && fn->is_object() ? Member(fn->get_object(), "name") : nullptr;
  if (!type || !type->is_string() || type->get_string() != "function" || !name ||
      !name->is_string())
    return Bad("a named tool_choice is {\"type\": \"function\", \"function\": {\"name\": ...}}",
               "tool_choice");
  auto it = std::find_if(p.tools.begin(), p.tools.end(),
                         [&](const agent::ToolSpec& t) { return t.name == name->get_string(); });
  if (it == p.tools.end())
    return Bad("tool_choice names a function that is not among tools", "tool_choice.function.name");
  agent::ToolSpec chosen = *it;
  p.tools = {std::move(chosen)};
  p.tool_required = true;
  return Status::Ok();
}

// response_format: absent, null or {"type": "text"} asks for nothing; {"type": "json_object"} for
// any JSON object; {"type": "json_schema", "json_schema": {name, description?, schema?, strict?}}
// for an instance of the schema.
Result<std::optional<agent::ResponseFormat>> ParseResponseFormat(const bj::object& body) {
  using agent::ResponseFormat;
  const bj::value* v = Member(body, "response_format");
  if (!v) return std::optional<ResponseFormat>();
  if (!v->is_object())
    return Bad("response_format must be an object", "response_format", "invalid_type");
  const auto& o = v->get_object();
  const bj::value* type = Member(o, "type");
  if (!type || !type->is_string())
    return Bad("response_format needs a type: 'text', 'json_object' or 'json_schema'",
               "response_format.type", "missing_field");
  const std::string_view t = type->get_string();
  if (t == "text") return std::optional<ResponseFormat>();
  ResponseFormat f;
  if (t == "json_object") return std::optional<ResponseFormat>(std::move(f));
  if (t != "json_schema")
    return Bad(fmt::format("response_format type '{}' is not supported; use 'text', 'json_object' "
                           "or 'json_schema'",
                           t.substr(0, 40)),
               "response_format.type");
  f.kind = ResponseFormat::Kind::kJsonSchema;
  const bj::value* js = Member(o, "json_schema");
  if (!js)
    return Bad("a json_schema response_format needs json_schema", "response_format.json_schema",
               "missing_field");
  if (!js->is_object())
    return Bad("json_schema must be an object", "response_format.json_schema", "invalid_type");
  const auto& jo = js->get_object();
  const bj::value* name = Member(jo, "name");
  if (!name || !name->is_string() || !ValidToolName(name->get_string()))
    return Bad("json_schema.name must be 1 to 64 letters, digits, underscores or dashes",
               "response_format.json_schema.name");
  f.name = std::string(name->get_string());
  if (const bj::value* d = Member(jo, "description")) {
    if (!d->is_string())
      return Bad("description must be a string", "response_format.json_schema.description",
                 "invalid_type");
    f.description = std::string(d->get_string());
  }
  if (const bj::value* schema = Member(jo, "schema")) {
    if (!schema->is_object())
      return Bad("schema must be a JSON Schema object", "response_format.json_schema.schema",
                 "invalid_type");
    // The answer is a JSON object (OpenAI's structured outputs ask the same of the root), and
    // providers without a JSON mode take the schema as a tool's input schema, which must be one.
    if (const bj::value* root = Member(schema->get_object(), "type");
        root && !(root->is_string() && root->get_string() == "object"))
      return Bad("the schema's root must be of type 'object'",
                 "response_format.json_schema.schema");
    f.schema = bj::serialize(*schema);
  }
  if (const bj::value* strict = Member(jo, "strict")) {
    if (!strict->is_bool())
      return Bad("strict must be a boolean", "response_format.json_schema.strict", "invalid_type");
    f.strict = strict->get_bool();
  }
  return std::optional<ResponseFormat>(std::move(f));
}

Result<std::optional<int64_t>> PositiveInt(const bj::object& body, std::string_view key) {
  const bj::value* v = Member(body, key);
  if (!v) return std::optional<int64_t>();
  if (v->is_uint64()) return std::optional<int64_t>(INT64_MAX);  // beyond int64: as large as can be
  if (!v->is_int64())
    return Bad(fmt::format("{} must be an integer", key), std::string(key), "invalid_type");
  if (v->get_int64() < 1) return Bad(fmt::format("{} must be at least 1", key), std::string(key));
  return std::optional<int64_t>(v->get_int64());
}

// A number within [low, high], OpenAI's bounds for the field.
Result<std::optional<double>> NumberIn(const bj::object& body, std::string_view key, double low,
                                       double high) {
  const bj::value* v = Member(body, key);
  if (!v) return std::optional<double>();
  if (!v->is_number())
    return Bad(fmt::format("{} must be a number", key), std::string(key), "invalid_type");
  const double x = v->to_number<double>();
  if (x < low || x > high)
    return Bad(fmt::format("{} must be between {} and {}", key, low, high), std::string(key));
  return std::optional<double>(x);
}

Result<std::optional<int64_t>> Seed(const bj::object& body) {
  const bj::value* v = Member(body, "seed");
  if (!v) return std::optional<int64_t>();
  if (v->is_uint64()) return Bad("seed must fit in a signed 64-bit integer", "seed");
  if (!v->is_int64()) return Bad("seed must be an integer", "seed", "invalid_type");
  return std::optional<int64_t>(v->get_int64());
}

// A string or an array of at most four non-empty strings; up to four sequences where the model
// stops (the answer does not include them).
Result<std::vector<std::string>> StopSequences(const bj::object& body) {
  constexpr size_t kMaxStop = 4;
  std::vector<std::string> stop;
  const bj::value* v = Member(body, "stop");
  if (!v) return stop;
  if (v->is_string()) {
    if (v->get_string().empty()) return Bad("stop must not be an empty string", "stop");
    stop.emplace_back(v->get_string());
    return stop;
  }
  if (!v->is_array())
    return Bad("stop must be a string or an array of strings", "stop", "invalid_type");
  const auto& arr = v->get_array();
  if (arr.size() > kMaxStop)
    return Bad(fmt::format("at most {} stop sequences are accepted", kMaxStop), "stop");
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string param = fmt::format("stop[{}]", i);
    if (!arr[i].is_string()) return Bad("a stop sequence must be a string", param, "invalid_type");
    if (arr[i].get_string().empty()) return Bad("a stop sequence must not be empty", param);
    stop.emplace_back(arr[i].get_string());
  }
  return stop;
}

Result<agent::Sampling> ParseSampling(const bj::object& body) {
  agent::Sampling s;
  GH_ASSIGN_OR_RETURN(s.temperature, NumberIn(body, "temperature", 0, 2));
  GH_ASSIGN_OR_RETURN(s.top_p, NumberIn(body, "top_p", 0, 1));
  GH_ASSIGN_OR_RETURN(s.presence_penalty, NumberIn(body, "presence_penalty", -2, 2));
  GH_ASSIGN_OR_RETURN(s.frequency_penalty, NumberIn(body, "frequency_penalty", -2, 2));
  GH_ASSIGN_OR_RETURN(s.seed, Seed(body));
  GH_ASSIGN_OR_RETURN(s.stop, StopSequences(body));
  return s;
}

bj::object ChunkOf(const chat::CompletionOutcome& head, bj::object delta,
                   const bj::value& finish_reason) {
  bj::array choices;
  choices.push_back(bj::object{{"index", 0},
                               {"delta", std::move(delta)},
                               {"logprobs", nullptr},
                               {"finish_reason", finish_reason}});
  return bj::object{
      {"id", head.id},       {"object", "chat.completion.chunk"}, {"created", head.created},
      {"model", head.model}, {"system_fingerprint", nullptr},     {"choices", std::move(choices)}};
}

std::string_view ErrorType(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnauthenticated:
      return "authentication_error";
    case StatusCode::kPermissionDenied:
      return "permission_error";
    case StatusCode::kResourceExhausted:
      return s.error_code() == "budget_exceeded" ? "insufficient_quota" : "rate_limit_error";
    case StatusCode::kInternal:
    case StatusCode::kBadGateway:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kCancelled:
      return "server_error";
    default:
      return "invalid_request_error";
  }
}

}  // namespace

Result<ChatCompletionParams> ParseChatCompletionRequest(const bj::object& body) {
  ChatCompletionParams p;
  if (const bj::value* model = Member(body, "model")) {
    if (!model->is_string()) return Bad("model must be a string", "model", "invalid_type");
    if (model->get_string().size() > kMaxModelName) return Bad("model is too long", "model");
    if (!model->get_string().empty()) p.model = std::string(model->get_string());
  }
  GH_ASSIGN_OR_RETURN(p.messages, ParseMessages(body));
  GH_ASSIGN_OR_RETURN(p.tools, ParseTools(body));
  GH_RETURN_IF_ERROR(ApplyToolChoice(body, p));
  GH_ASSIGN_OR_RETURN(p.response_format, ParseResponseFormat(body));
  // Where the upstream has no JSON mode the answer is a tool of this name (see
  // models::ResponseFormatTool): a client tool of the same name would be taken for the answer.
  if (p.response_format) {
    const bool schema = p.response_format->kind == agent::ResponseFormat::Kind::kJsonSchema;
    const std::string answer_tool = p.response_format->AnswerToolName();
    for (const agent::ToolSpec& t : p.tools)
      if (t.name == answer_tool)
        return Bad(fmt::format("a tool is named '{}' like the response_format's answer; rename "
                               "one of them",
                               answer_tool),
                   schema ? "response_format.json_schema.name" : "tools");
  }
  GH_ASSIGN_OR_RETURN(auto max_tokens, PositiveInt(body, "max_tokens"));
  GH_ASSIGN_OR_RETURN(auto max_completion_tokens, PositiveInt(body, "max_completion_tokens"));
  p.max_tokens = max_completion_tokens ? max_completion_tokens : max_tokens;
  GH_ASSIGN_OR_RETURN(auto n, PositiveInt(body, "n"));
  if (n && *n != 1) return Bad("only n = 1 is supported", "n");
  GH_ASSIGN_OR_RETURN(p.sampling, ParseSampling(body));
  if (const bj::value* stream = Member(body, "stream")) {
    if (!stream->is_bool()) return Bad("stream must be a boolean", "stream", "invalid_type");
    p.stream = stream->get_bool();
  }
  if (const bj::value* so = Member(body, "stream_options")) {
    if (!so->is_object())
      return Bad("stream_options must be an object", "stream_options", "invalid_type");
    if (const bj::value* iu = Member(so->get_object(), "include_usage")) {
      if (!iu->is_bool())
        return Bad("include_usage must be a boolean", "stream_options.include_usage",
                   "invalid_type");
      p.include_usage = iu->get_bool();
    }
  }
  return p;
}

std::string FinishReason(const agent::ModelTurn& turn) {
  if (!turn.tool_calls.empty()) return "tool_calls";
  const std::string& r = turn.stop_reason;
  // Cut short: by the output limit, or by the context window (OpenAI says `length` for both).
  if (r == "max_tokens" || r == "length" || r == "model_context_window_exceeded") return "length";
  // Withheld by a guardrail or the provider's content filter (Bedrock, Anthropic's refusal).
  if (r == "content_filtered" || r == "guardrail_intervened" || r == "content_filter")
    return "content_filter";
  return "stop";
}

bj::object UsageJson(const agent::Usage& u) {
  const int64_t prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens;
  return bj::object{{"prompt_tokens", prompt},
                    {"completion_tokens", u.output_tokens},
                    {"total_tokens", prompt + u.output_tokens},
                    {"prompt_tokens_details", bj::object{{"cached_tokens", u.cache_read_tokens}}}};
}

bj::object CompletionJson(const chat::CompletionOutcome& out) {
  const agent::ModelTurn& t = out.turn;
  bj::object message{{"role", "assistant"}, {"refusal", nullptr}};
  message["content"] =
      t.text.empty() && !t.tool_calls.empty() ? bj::value(nullptr) : bj::value(t.text);
  if (!t.tool_calls.empty()) {
    bj::array calls;
    for (const auto& c : t.tool_calls)
      calls.push_back(
          bj::object{{"id", c.id},
                     {"type", "function"},
                     {"function", bj::object{{"name", c.name}, {"arguments", c.arguments_json}}}});
    message["tool_calls"] = std::move(calls);
  }
  bj::array choices;
  choices.push_back(bj::object{{"index", 0},
                               {"message", std::move(message)},
                               {"logprobs", nullptr},
                               {"finish_reason", FinishReason(t)}});
  return bj::object{{"id", out.id},
                    {"object", "chat.completion"},
                    {"created", out.created},
                    {"model", out.model},
                    {"system_fingerprint", nullptr},
                    {"choices", std::move(choices)},
                    {"usage", UsageJson(t.usage)}};
}

bj::object RoleChunk(const chat::CompletionOutcome& head) {
  return ChunkOf(head, bj::object{{"role", "assistant"}, {"content", ""}}, nullptr);
}

bj::object TextChunk(const chat::CompletionOutcome& head, std::string_view text) {
  return ChunkOf(head, bj::object{{"content", text}}, nullptr);
}

std::vector<bj::object> ToolCallChunks(const chat::CompletionOutcome& head,
                                       const std::vector<agent::ToolCall>& calls) {
  std::vector<bj::object> out;
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto index = static_cast<int64_t>(i);
    bj::array opening;
    opening.push_back(
        bj::object{{"index", index},
                   {"id", calls[i].id},
                   {"type", "function"},
                   {"function", bj::object{{"name", calls[i].name}, {"arguments", ""}}}});
    out.push_back(ChunkOf(head, bj::object{{"tool_calls", std::move(opening)}}, nullptr));
    bj::array arguments;
    arguments.push_back(bj::object{
        {"index", index}, {"function", bj::object{{"arguments", calls[i].arguments_json}}}});
    out.push_back(ChunkOf(head, bj::object{{"tool_calls", std::move(arguments)}}, nullptr));
  }
  return out;
}

bj::object FinishChunk(const chat::CompletionOutcome& head, std::string_view finish_reason) {
  return ChunkOf(head, bj::object{}, bj::string(finish_reason));
}

bj::object UsageChunk(const chat::CompletionOutcome& head, const agent::Usage& usage) {
  return bj::object{{"id", head.id},
                    {"object", "chat.completion.chunk"},
                    {"created", head.created},
                    {"model", head.model},
                    {"system_fingerprint", nullptr},
                    {"choices", bj::array{}},
                    {"usage", UsageJson(usage)}};
}

bj::object ModelJson(const std::string& name) {
  return bj::object{{"id", name}, {"object", "model"}, {"created", 0}, {"owned_by", "gatehouse"}};
}

bj::object ModelListJson(const std::vector<std::string>& names) {
  bj::array data;
  for (const auto& n : names) data.push_back(ModelJson(n));
  return bj::object{{"object", "list"}, {"data", std::move(data)}};
}

bj::object ErrorJson(const Status& s) {
  const bool internal = s.code() == StatusCode::kInternal;
  bj::object e{{"message", internal ? std::string("internal server error") : s.message()},
               {"type", ErrorType(s)},
               {"param", nullptr},
               {"code", internal ? std::string("internal") : s.error_code()}};
  if (!internal) {
    for (const auto& [k, v] : s.details()) {
      if (k == "param") {
        if (auto* str = std::get_if<std::string>(&v)) e["param"] = *str;
        continue;
      }
      if (auto* str = std::get_if<std::string>(&v))
        e[k] = *str;
      else
        e[k] = std::get<int64_t>(v);
    }
    if (s.retry_after_seconds()) e["retry_after"] = *s.retry_after_seconds();
  }
  return bj::object{{"error", std::move(e)}};
}

http::Response ErrorResponse(const Status& s) {
  http::Response r =
      http::Response::Json(http::HttpStatusFor(s.code()), bj::serialize(ErrorJson(s)));
  if (s.retry_after_seconds())
    r.headers.Set("retry-after", std::to_string(*s.retry_after_seconds()));
  r.log_fields.emplace_back("error_code",
                            s.code() == StatusCode::kInternal ? "internal" : s.error_code());
  if (s.code() == StatusCode::kInternal) log::Error("internal error", {{"detail", s.message()}});
  return r;
}

}  // namespace gh::api::openai
