#include "models/openai_model.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "common/strings.h"
#include "http/sse_parser.h"
#include "models/provider_common.h"

namespace gh::models {

namespace bj = boost::json;
using namespace agent;

namespace {

// response_format in OpenAI's own shape: {"type": "json_object"} or {"type": "json_schema",
// "json_schema": {name, description?, schema, strict?}}.
void AddResponseFormat(const ModelRequest& r, bj::object& body) {
  if (!r.response_format) return;
  const ResponseFormat& f = *r.response_format;
  if (f.kind == ResponseFormat::Kind::kJsonObject) {
    body["response_format"] = bj::object{{"type", "json_object"}};
    return;
  }
  bj::object schema;
  schema["name"] = f.name;
  if (!f.description.empty()) schema["description"] = f.description;
  schema["schema"] = SchemaObject(f.schema);
  if (f.strict) schema["strict"] = *f.strict;
  body["response_format"] = bj::object{{"type", "json_schema"}, {"json_schema", std::move(schema)}};
}

}  // namespace

std::string BuildOpenAiRequestBody(const ModelRequest& r, bool stream) {
  bj::array messages;
  for (const ChatMessage& m : r.messages) {
    bj::object o{{"role", RoleName(m.role)}};
    if (m.role == Role::kTool) {
      o["tool_call_id"] = m.tool_call_id;
      o["content"] = m.content;
    } else if (m.role == Role::kAssistant && !m.tool_calls.empty()) {
      o["content"] = m.content.empty() ? bj::value(nullptr) : bj::value(m.content);
      bj::array calls;
      for (const auto& c : m.tool_calls)
        calls.push_back(bj::object{
            {"id", c.id},
            {"type", "function"},
            {"function", bj::object{{"name", c.name}, {"arguments", c.arguments_json}}}});
      o["tool_calls"] = std::move(calls);
    } else {
      o["content"] = m.content;
    }
    messages.push_back(std::move(o));
  }
  bj::object body{
      {"model", r.model}, {"messages", std::move(messages)}, {"max_tokens", r.max_output_tokens}};
  if (stream) {
    body["stream"] = true;
    body["stream_options"] = bj::object{{"include_usage", true}};
  }
  if (!r.tools.empty()) {
    bj::array tools;
    for (const auto& t : r.tools) {
      boost::system::error_code ec;
      bj::value params = bj::parse(t.parameters_schema, ec);
      if (ec) params = bj::object{{"type", "object"}};
      tools.push_back(bj::object{{"type", "function"},
                                 {"function", bj::object{{"name", t.name},
                                                         {"description", t.description},
                                                         {"parameters", std::move(params)}}}});
    }
    body["tools"] = std::move(tools);
    if (r.tool_required) body["tool_choice"] = "required";
  }
  // The client's sampling, under OpenAI's own names; absent ones are left to the server's defaults.
  const Sampling& s = r.sampling;
  if (s.temperature) body["temperature"] = *s.temperature;
  if (s.top_p) body["top_p"] = *s.top_p;
  if (!s.stop.empty()) body["stop"] = bj::value_from(s.stop);
  if (s.seed) body["seed"] = *s.seed;
  if (s.presence_penalty) body["presence_penalty"] = *s.presence_penalty;
  if (s.frequency_penalty) body["frequency_penalty"] = *s.frequency_penalty;
  AddResponseFormat(r, body);
  if (!r.context.tenant_id.empty())
    body["user"] = r.context.tenant_id.value() + "/" + r.context.user_id.value();
  return bj::serialize(body);
}

namespace {

// What an `error` member says: its `message`, or the string it is.
std::string ErrorDetail(const bj::value& e) {
  if (e.is_object())
    if (auto* m = e.get_object().if_contains("message"); m && m->is_string())
      return std::string(m->get_string());
  if (e.is_string()) return std::string(e.get_string());
  return {};
}

}  // namespace

Status UpstreamError(std::string_view provider, int status, std::string_view body,
                     std::optional<std::string_view> retry_after,
                     std::initializer_list<const Secret*> secrets) {
  std::string detail;
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (auto* e = o.if_contains("error")) detail = ErrorDetail(*e);
    if (detail.empty())
      if (auto* m = o.if_contains("message"); m && m->is_string())
        detail = std::string(m->get_string());
  }
  detail = Printable(RedactSecrets(std::move(detail), secrets), 300);
  std::string msg =
      fmt::format("{} answered {}{}{}", provider, status, detail.empty() ? "" : ": ", detail);
  if (status == 429) {
    Status st = Status::ResourceExhausted(msg, "upstream_rate_limited");
    int64_t secs = retry_after ? std::strtoll(std::string(*retry_after).c_str(), nullptr, 10) : 0;
    return secs > 0 ? std::move(st).WithRetryAfter(secs) : st;
  }
  if (status == 401 || status == 403) return Status::BadGateway(msg, "upstream_auth_failed");
  if (status == 408 || status == 504) return Status::DeadlineExceeded(msg, "upstream_timeout");
  if (status >= 500) return Status::BadGateway(msg, "upstream_unavailable");
  return Status::BadGateway(msg, "upstream_rejected");
}

namespace {

struct PartialCall {
  std::string id, name, arguments;
};

// A completion's `usage` (the whole answer's, or a stream's last chunk's).
void ReadUsage(const bj::object& u, Usage& usage) {
  usage.input_tokens = std::max<int64_t>(0, IntMember(u, "prompt_tokens"));
  usage.output_tokens = std::max<int64_t>(0, IntMember(u, "completion_tokens"));
  // OpenAI counts cached tokens inside prompt_tokens; Usage keeps them apart (as Anthropic and
  // Bedrock report them), so they are priced once, at the cache price.
  if (auto* d = u.if_contains("prompt_tokens_details"); d && d->is_object())
    usage.cache_read_tokens =
        std::clamp<int64_t>(IntMember(d->get_object(), "cached_tokens"), 0, usage.input_tokens);
  usage.input_tokens -= usage.cache_read_tokens;
}

std::string StopReason(std::string_view finish_reason) {
  return finish_reason == "stop"         ? "end_turn"
         : finish_reason == "tool_calls" ? "tool_use"
         : finish_reason == "length"     ? "max_tokens"
                                         : std::string(finish_reason);
}

// An `error` member that is set (some servers send `"error": null` beside a good answer).
const bj::value* ErrorIn(const bj::object& o) {
  const bj::value* e = o.if_contains("error");
  return e && !e->is_null() ? e : nullptr;
}

// The upstream's `error` (in a 200 answer or in the stream) as our error, `key` redacted.
Status ErrorOf(const bj::value& err, const Secret& key) {
  const std::string detail = Printable(RedactSecrets(ErrorDetail(err), {&key}), 300);
  return Status::BadGateway(
      fmt::format("the model server reported an error{}{}", detail.empty() ? "" : ": ", detail),
      "upstream_unavailable");
}

// Tool-call arguments as JSON text: the string a server sends, or an object some send instead.
std::string ArgumentsText(const bj::value* a) {
  if (!a) return {};
  if (a->is_string()) return std::string(a->get_string());
  if (a->is_object()) return bj::serialize(*a);
  return {};
}

// Ids for the calls the server sent without one: call_<position>, never one already taken.
void NameUnnamedCalls(std::vector<ToolCall>& calls) {
  std::set<std::string> taken;
  for (const auto& c : calls)
    if (!c.id.empty()) taken.insert(c.id);
  for (size_t i = 0; i < calls.size(); ++i) {
    if (!calls[i].id.empty()) continue;
    std::string id = fmt::format("call_{}", i);
    for (int n = 1; taken.count(id); ++n) id = fmt::format("call_{}_{}", i, n);
    taken.insert(id);
    calls[i].id = std::move(id);
  }
}

// Reads a whole (non-streamed) completion into `turn`: `choices[0].message`, `finish_reason` and
// `usage` (`got_usage` says whether it had one).
Status ReadCompletion(std::string_view body, const Secret& key, ModelTurn& turn, bool& got_usage) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object())
    return Status::BadGateway("the model server answered with invalid JSON", "upstream_malformed");
  const auto& o = v.get_object();
  if (auto* err = ErrorIn(o)) return ErrorOf(*err, key);
  auto* choices = o.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty() ||
      !choices->get_array()[0].is_object())
    return Status::BadGateway("the model server answered without choices", "upstream_malformed");
  const auto& choice = choices->get_array()[0].get_object();
  auto* message = choice.if_contains("message");
  if (!message || !message->is_object())
    return Status::BadGateway("the model server answered without a message", "upstream_malformed");
  const auto& m = message->get_object();
  if (auto* c = m.if_contains("content"); c && c->is_string()) turn.text = c->get_string();
  if (auto* tc = m.if_contains("tool_calls"); tc && tc->is_array()) {
    for (const auto& call : tc->get_array()) {
      const auto* fn = call.is_object() ? call.get_object().if_contains("function") : nullptr;
      if (!fn || !fn->is_object()) continue;
      ToolCall out;
      if (auto* id = call.get_object().if_contains("id"); id && id->is_string())
        out.id = id->get_string();
      if (auto* n = fn->get_object().if_contains("name"); n && n->is_string())
        out.name = n->get_string();
      out.arguments_json = ArgumentsText(fn->get_object().if_contains("arguments"));
      if (out.arguments_json.empty()) out.arguments_json = "{}";
      turn.tool_calls.push_back(std::move(out));
    }
    NameUnnamedCalls(turn.tool_calls);
  }
  if (auto* fr = choice.if_contains("finish_reason"); fr && fr->is_string())
    turn.stop_reason = StopReason(fr->get_string());
  if (turn.stop_reason.empty())
    turn.stop_reason = turn.tool_calls.empty() ? "end_turn" : "tool_use";
  if (auto* u = o.if_contains("usage"); u && u->is_object()) {
    ReadUsage(u->get_object(), turn.usage);
    got_usage = true;
  }
  return Status::Ok();
}

}  // namespace

Awaitable<Result<ModelTurn>> OpenAiModel::Generate(const ModelRequest& request,
                                                   ModelEvents& events) {
  http::ClientRequest req;
  req.method = "POST";
  std::string base = opt_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  req.url = base + "/chat/completions";
  req.headers.Set("content-type", "application/json");
  req.headers.Set("accept", request.stream ? "text/event-stream" : "application/json");
  if (!opt_.api_key.empty()) req.headers.Set("authorization", "Bearer " + opt_.api_key.reveal());
  if (!request.context.traceparent.empty())
    req.headers.Set("traceparent", request.context.traceparent);
  // A caller that wants the whole answer gets it in one piece from the upstream too: one JSON
  // document to read instead of a chunk per token.
  req.body = BuildOpenAiRequestBody(request, request.stream);
  req.timeout = HeadersTimeout(opt_.timeout, request.stream);

  ModelTurn turn;
  http::SseParser parser;
  std::map<int64_t, PartialCall> calls;
  std::string error_body;
  std::string whole;  // the answer when not streamed
  bool got_usage = false, done = false;
  int status = 0;
  std::optional<std::string> retry_after;
  Status stream_error;

  auto sink = [&](std::string_view chunk) -> Awaitable<Status> {
    if (status != 200) {
      if (error_body.size() < 64 * 1024) error_body.append(chunk);
      co_return Status::Ok();
    }
    if (!request.stream) {
      stream_error = AppendWholeAnswer(whole, chunk, req.max_response_bytes, "the model server");
      co_return stream_error;
    }
    for (const http::SseEvent& ev : parser.Feed(chunk)) {
      if (ev.data == "[DONE]") {
        done = true;
        continue;
      }
      boost::system::error_code ec;
      bj::value v = bj::parse(ev.data, ec);
      if (ec || !v.is_object()) continue;
      const auto& o = v.get_object();
      if (auto* err = ErrorIn(o)) {
        stream_error = ErrorOf(*err, opt_.api_key);
        co_return stream_error;
      }
      if (auto* u = o.if_contains("usage"); u && u->is_object()) {
        ReadUsage(u->get_object(), turn.usage);
        got_usage = true;
      }
      auto* choices = o.if_contains("choices");
      if (!choices || !choices->is_array() || choices->get_array().empty()) continue;
      const auto& choice = choices->get_array()[0];
      if (!choice.is_object()) continue;
      if (auto* fr = choice.get_object().if_contains("finish_reason"); fr && fr->is_string())
        turn.stop_reason = StopReason(fr->get_string());
      auto* delta = choice.get_object().if_contains("delta");
      if (!delta || !delta->is_object()) continue;
      const auto& d = delta->get_object();
      if (auto* c = d.if_contains("content"); c && c->is_string() && !c->get_string().empty()) {
        turn.text.append(c->get_string());
        Status st = co_await events.OnTextDelta(c->get_string());
        if (!st.ok()) co_return st;
      }
      if (auto* tc = d.if_contains("tool_calls"); tc && tc->is_array()) {
        for (const auto& call : tc->get_array()) {
          if (!call.is_object()) continue;
          const auto& co = call.get_object();
          int64_t index = 0;
          index = IntMember(co, "index");
          PartialCall& p = calls[index];
          if (auto* id = co.if_contains("id"); id && id->is_string())
            p.id = std::string(id->get_string());
          if (auto* fn = co.if_contains("function"); fn && fn->is_object()) {
            if (auto* n = fn->get_object().if_contains("name"); n && n->is_string())
              p.name += std::string(n->get_string());
            p.arguments += ArgumentsText(fn->get_object().if_contains("arguments"));
          }
        }
      }
    }
    co_return Status::Ok();
  };

  auto res =
      co_await client_->Stream(req, sink, request.cancel, [&](const http::ClientResponse& head) {
        status = head.status;
        if (auto ra = head.headers.Get("retry-after")) retry_after = std::string(*ra);
      });
  if (!stream_error.ok()) co_return stream_error;
  if (!res.ok()) {
    Status st = std::move(res).status().Annotate("model server");
    co_return WithMessage(st, RedactSecrets(st.message(), {&opt_.api_key}));
  }
  if (status != 200)
    co_return UpstreamError("the model server", status, error_body, retry_after, {&opt_.api_key});
  if (!request.stream) {
    Status read = ReadCompletion(whole, opt_.api_key, turn, got_usage);
    if (!read.ok()) co_return read;
    if (!turn.text.empty()) {
      Status st = co_await events.OnTextDelta(turn.text);
      if (!st.ok()) co_return st;
    }
  } else {
    if (!done && turn.stop_reason.empty())
      co_return Status::BadGateway("the model server ended the stream early",
                                   "upstream_incomplete");
    for (auto& [index, p] : calls)
      turn.tool_calls.push_back({p.id, p.name, p.arguments.empty() ? "{}" : p.arguments});
    NameUnnamedCalls(turn.tool_calls);
    if (!turn.tool_calls.empty() && turn.stop_reason.empty()) turn.stop_reason = "tool_use";
  }
  if (!got_usage) {
    for (const auto& m : request.messages) turn.usage.input_tokens += EstimateTokens(m.content);
    turn.usage.output_tokens = EstimateTokens(turn.text);
  }
  co_return turn;
}

}  // namespace gh::models
