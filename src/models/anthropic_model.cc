#include "models/anthropic_model.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <map>

#include "common/strings.h"
#include "http/sse_parser.h"
#include "models/openai_model.h"
#include "models/provider_common.h"

namespace gh::models {

namespace bj = boost::json;
using namespace agent;

namespace {

constexpr std::string_view kProvider = "anthropic";

bj::array ContentBlocks(const AlternatingTurn& turn) {
  bj::array blocks;
  for (const ChatMessage* m : turn.parts) {
    if (m->role == Role::kTool) {
      bj::object b;
      b["type"] = "tool_result";
      b["tool_use_id"] = m->tool_call_id;
      b["content"] = m->content;
      if (m->is_error) b["is_error"] = true;
      blocks.push_back(std::move(b));
      continue;
    }
    if (!m->content.empty()) {
      bj::object b;
      b["type"] = "text";
      b["text"] = m->content;
      blocks.push_back(std::move(b));
    }
    for (const ToolCall& c : m->tool_calls) {
      bj::object b;
      b["type"] = "tool_use";
      b["id"] = c.id;
      b["name"] = c.name;
      b["input"] = ArgumentsObject(c.arguments_json);
      blocks.push_back(std::move(b));
    }
  }
  return blocks;
}

// HTTP status Anthropic documents for each error type, so in-stream errors map like HTTP ones.
int HttpStatusForErrorType(std::string_view type) {
  if (type == "invalid_request_error") return 400;
  if (type == "authentication_error") return 401;
  if (type == "permission_error") return 403;
  if (type == "not_found_error") return 404;
  if (type == "request_too_large") return 413;
  if (type == "rate_limit_error") return 429;
  if (type == "timeout_error") return 504;
  if (type == "overloaded_error") return 529;
  return 500;  // api_error and anything new
}

// The state of one streamed answer; Apply() is fed SSE events in order.
class AnthropicStream {
 public:
  // `key` is redacted from the errors the server reports (before they are cut to length). With
  // the request's response_format, the input of the first call to its tool (ResponseFormatTool)
  // is the answer's text, streamed as it comes, and that call is no tool call; the model's text
  // is held back meanwhile (AnswerToolTracker).
  AnthropicStream(const Secret* key, const ModelRequest& request) : key_(key), answer_(request) {}
  // Applies one event; returns the text delta to forward (often empty), or the error the
  // stream reported.
  Result<std::string> Apply(const http::SseEvent& ev) {
    boost::system::error_code ec;
    bj::value v = bj::parse(ev.data, ec);
    if (ec || !v.is_object()) {
      if (ev.event == "ping" || ev.data.empty()) return std::string();
      return Status::BadGateway("anthropic sent an event that is not JSON", "upstream_malformed");
    }
    const bj::object& o = v.get_object();
    std::string type = StringMember(o, "type");
    if (type.empty()) type = ev.event;

    if (type == "message_start") {
      if (const bj::object* msg = ObjectMember(o, "message"))
        if (const bj::object* u = ObjectMember(*msg, "usage")) ReadUsage(*u);
      return std::string();
    }
    if (type == "content_block_start") {
      Block& b = blocks_[IntMember(o, "index")];
      if (const bj::object* cb = ObjectMember(o, "content_block")) {
        b.type = StringMember(*cb, "type");
        b.id = StringMember(*cb, "id");
        b.name = StringMember(*cb, "name");
        if (const bj::value* in = cb->if_contains("input");
            in && in->is_object() && !in->get_object().empty())
          b.start_input = bj::serialize(*in);
        if (b.type == "text") return Add(answer_.OnText(StringMember(*cb, "text")));
        if (b.type == "tool_use") {
          b.use = answer_.OnToolUse(b.name);
          // A real tool call: the text before it was not the answer's preamble.
          if (b.use == ToolUse::kReal) return Add(answer_.ReleaseText());
        }
      }
      return std::string();
    }
    if (type == "content_block_delta") {
      Block& b = blocks_[IntMember(o, "index")];
      const bj::object* d = ObjectMember(o, "delta");
      if (!d) return std::string();
      std::string dtype = StringMember(*d, "type");
      if (dtype == "text_delta") return Add(answer_.OnText(StringMember(*d, "text")));
      if (dtype == "input_json_delta") {
        std::string partial = StringMember(*d, "partial_json");
        b.json += partial;
        if (b.use == ToolUse::kAnswer) return Add(partial);
      }
      return std::string();  // thinking_delta, signature_delta, citations_delta: not forwarded
    }
    if (type == "content_block_stop") {
      Block& b = blocks_[IntMember(o, "index")];
      b.stopped = true;
      // An answer that came whole in content_block_start (or empty) and no input_json_delta.
      if (b.use == ToolUse::kAnswer && b.json.empty())
        return Add(b.start_input.empty() ? "{}" : b.start_input);
      return std::string();
    }
    if (type == "message_delta") {
      if (const bj::object* d = ObjectMember(o, "delta")) {
        std::string reason = StringMember(*d, "stop_reason");
        if (!reason.empty()) turn_.stop_reason = MapAnthropicStopReason(reason);
      }
      if (const bj::object* u = ObjectMember(o, "usage")) ReadUsage(*u);
      return std::string();
    }
    if (type == "message_stop") {
      stopped_ = true;
      return Add(answer_.ReleaseText());  // the model did not answer through the tool
    }
    if (type == "error") {
      return ErrorOf(o);
    }
    return std::string();  // ping and event types added later
  }

  // A whole (non-streamed) answer: `{"type":"message","content":[...],"stop_reason",...,
  // "usage"}`, read as its stream would have been. Returns the text to report.
  Result<std::string> ApplyMessage(std::string_view body) {
    boost::system::error_code ec;
    bj::value v = bj::parse(body, ec);
    if (ec || !v.is_object())
      return Status::BadGateway("anthropic answered with invalid JSON", "upstream_malformed");
    const bj::object& o = v.get_object();
    if (StringMember(o, "type") == "error") {
      return ErrorOf(o);
    }
    const bj::value* content = o.if_contains("content");
    if (!content || !content->is_array())
      return Status::BadGateway("anthropic answered without content", "upstream_malformed");
    int64_t index = 0;
    for (const bj::value& block : content->get_array()) {
      if (!block.is_object()) continue;
      const bj::object& cb = block.get_object();
      Block& b = blocks_[index++];
      b.type = StringMember(cb, "type");
      b.id = StringMember(cb, "id");
      b.name = StringMember(cb, "name");
      b.stopped = true;
      if (b.type == "text") turn_.text += answer_.OnText(StringMember(cb, "text"));
      if (const bj::value* in = cb.if_contains("input"); in && in->is_object())
        b.start_input = bj::serialize(*in);
      if (b.type != "tool_use") continue;
      b.use = answer_.OnToolUse(b.name);
      if (b.use == ToolUse::kReal) turn_.text += answer_.ReleaseText();
      if (b.use == ToolUse::kAnswer) turn_.text += b.start_input.empty() ? "{}" : b.start_input;
    }
    turn_.text += answer_.ReleaseText();
    if (std::string reason = StringMember(o, "stop_reason"); !reason.empty())
      turn_.stop_reason = MapAnthropicStopReason(reason);
    if (const bj::object* u = ObjectMember(o, "usage")) ReadUsage(*u);
    stopped_ = true;
    return turn_.text;
  }

  Result<ModelTurn> Finish(const ModelRequest& request) {
    if (!stopped_)
      return Status::BadGateway("anthropic ended the stream before message_stop",
                                "upstream_incomplete");
    for (auto& [index, b] : blocks_) {
      if (b.type != "tool_use" || b.use != ToolUse::kReal) continue;
      std::string args = !b.json.empty() ? b.json : !b.start_input.empty() ? b.start_input : "{}";
      std::string id = b.id.empty() ? fmt::format("toolu_{}", index) : b.id;
      turn_.tool_calls.push_back({std::move(id), b.name, std::move(args)});
    }
    if (turn_.stop_reason.empty())
      turn_.stop_reason = turn_.tool_calls.empty() ? "end_turn" : "tool_use";
    turn_.stop_reason = answer_.StopReason(std::move(turn_.stop_reason), !turn_.tool_calls.empty());
    if (!got_usage_) {
      for (const auto& m : request.messages) turn_.usage.input_tokens += EstimateTokens(m.content);
      turn_.usage.output_tokens = EstimateTokens(turn_.text);
    }
    return std::move(turn_);
  }

 private:
  using ToolUse = AnswerToolTracker::ToolUse;
  struct Block {
    std::string type, id, name, json, start_input;
    bool stopped = false;
    ToolUse use = ToolUse::kReal;  // for a tool_use block
  };
  const Secret* key_;
  AnswerToolTracker answer_;

  // Text of the turn, to forward.
  std::string Add(std::string text) {
    turn_.text += text;
    return text;
  }

  // An `error` event's or answer's `{"error":{"type","message"}}`, the key redacted.
  Status ErrorOf(const bj::object& o) const {
    std::string etype = "api_error", message;
    if (const bj::object* e = ObjectMember(o, "error")) {
      if (std::string t = StringMember(*e, "type"); !t.empty()) etype = t;
      message = RedactSecrets(StringMember(*e, "message"), {key_});
    }
    return AnthropicErrorStatus(etype, message);
  }

  // message_start carries the input side; message_delta the (cumulative) output and, in newer
  // API versions, the input side again. A number overrides what came before; a field that is
  // absent or null (the API types them nullable) leaves it: a null cache_creation_input_tokens in
  // message_delta must not erase the cache writes message_start reported.
  void ReadUsage(const bj::object& u) {
    got_usage_ = true;
    auto read = [&u](std::string_view key, int64_t& into) {
      const bj::value* v = u.if_contains(key);
      if (v && v->is_number()) into = IntMember(u, key);
    };
    read("input_tokens", turn_.usage.input_tokens);
    read("output_tokens", turn_.usage.output_tokens);
    read("cache_creation_input_tokens", turn_.usage.cache_write_tokens);
    read("cache_read_input_tokens", turn_.usage.cache_read_tokens);
  }

  std::map<int64_t, Block> blocks_;
  ModelTurn turn_;
  bool stopped_ = false;
  bool got_usage_ = false;
};

bj::object ToolJson(const ToolSpec& t) {
  bj::object spec;
  spec["name"] = t.name;
  if (!t.description.empty()) spec["description"] = t.description;
  spec["input_schema"] = SchemaObject(t.parameters_schema);
  return spec;
}

// response_format, which the Messages API lacks, as a tool the model must call
// (ResponseFormatTool): by name when it is the only tool, else the model must call some tool (a
// real one, or this).
void AddResponseFormatTool(const ModelRequest& r, bj::object& body) {
  std::optional<ToolSpec> tool = ResponseFormatTool(r);
  if (!tool) return;
  if (!body.contains("tools")) body["tools"] = bj::array();
  body["tools"].as_array().push_back(ToolJson(*tool));
  bj::object choice;
  if (r.tools.empty()) {
    choice["type"] = "tool";
    choice["name"] = tool->name;
  } else {
    choice["type"] = "any";
  }
  body["tool_choice"] = std::move(choice);
}

}  // namespace

std::string BuildAnthropicRequestBody(const ModelRequest& r, bool stream) {
  AlternatingConversation conv = GroupIntoAlternatingTurns(r.messages);
  bj::array messages;
  for (const AlternatingTurn& t : conv.turns) {
    bj::object m;
    m["role"] = t.role == Role::kAssistant ? "assistant" : "user";
    m["content"] = ContentBlocks(t);
    messages.push_back(std::move(m));
  }
  bj::object body;
  body["model"] = r.model;
  body["max_tokens"] = r.max_output_tokens;
  if (!conv.system.empty()) {
    std::string system;
    for (const std::string& s : conv.system) {
      if (!system.empty()) system += "\n\n";
      system += s;
    }
    body["system"] = std::move(system);
  }
  body["messages"] = std::move(messages);
  if (!r.tools.empty()) {
    bj::array tools;
    for (const ToolSpec& t : r.tools) tools.push_back(ToolJson(t));
    body["tools"] = std::move(tools);
    // OpenAI's tool_choice "required" (or a named tool, the only one offered then).
    if (r.tool_required) body["tool_choice"] = bj::object{{"type", "any"}};
  }
  // The client's sampling (see ClaudeTemperatureOrTopP); stop sequences under Anthropic's name.
  // Anthropic has no seed and no presence or frequency penalty: those are dropped.
  const TemperatureOrTopP t = ClaudeTemperatureOrTopP(r.sampling);
  if (t.temperature) body["temperature"] = *t.temperature;
  if (t.top_p) body["top_p"] = *t.top_p;
  if (!r.sampling.stop.empty()) body["stop_sequences"] = bj::value_from(r.sampling.stop);
  AddResponseFormatTool(r, body);
  if (stream) body["stream"] = true;
  // An opaque identifier (no e-mail) that lets Anthropic attribute abuse to one end user.
  if (!r.context.tenant_id.empty()) {
    bj::object metadata;
    metadata["user_id"] = r.context.tenant_id.value() + "/" + r.context.user_id.value();
    body["metadata"] = std::move(metadata);
  }
  return bj::serialize(body);
}

std::string MapAnthropicStopReason(std::string_view r) {
  if (r == "end_turn" || r == "tool_use" || r == "max_tokens" || r == "stop_sequence")
    return std::string(r);
  if (r == "refusal") return "content_filtered";
  return Printable(r, 64);  // pause_turn, model_context_window_exceeded, later additions
}

Status AnthropicErrorStatus(std::string_view type, std::string_view message,
                            std::optional<int64_t> retry_after_seconds) {
  std::optional<std::string> retry_after;
  if (retry_after_seconds) retry_after = std::to_string(*retry_after_seconds);
  Status base = UpstreamError(kProvider, HttpStatusForErrorType(type), "", retry_after);
  std::string msg = Printable(message, 300);
  return WithMessage(base, fmt::format("anthropic reported {}{}{}", Printable(type, 64),
                                       msg.empty() ? "" : ": ", msg))
      .WithDetail("upstream_error_type", std::string(Printable(type, 64)));
}

Awaitable<Result<ModelTurn>> AnthropicModel::Generate(const ModelRequest& request,
                                                      ModelEvents& events) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = TrimTrailingSlashes(opt_.base_url) + "/v1/messages";
  req.headers.Set("content-type", "application/json");
  // A caller that wants the whole answer gets it in one piece from the upstream too.
  req.headers.Set("accept", request.stream ? "text/event-stream" : "application/json");
  req.headers.Set("anthropic-version", opt_.anthropic_version);
  if (!opt_.api_key.empty()) req.headers.Set("x-api-key", opt_.api_key.reveal());
  req.body = BuildAnthropicRequestBody(request, request.stream);
  req.timeout = HeadersTimeout(opt_.timeout, request.stream);
  req.idle_timeout = opt_.idle_timeout;

  AnthropicStream state(&opt_.api_key, request);
  http::SseParser parser;
  int status = 0;
  std::optional<std::string> retry_after;
  std::string error_body;
  std::string whole;  // the answer when not streamed
  Status stream_error;

  auto sink = [&](std::string_view chunk) -> Awaitable<Status> {
    if (status < 200 || status > 299) {
      if (error_body.size() < 64 * 1024) error_body.append(chunk);
      co_return Status::Ok();
    }
    if (!request.stream) {
      stream_error = AppendWholeAnswer(whole, chunk, req.max_response_bytes, kProvider);
      co_return stream_error;
    }
    for (const http::SseEvent& ev : parser.Feed(chunk)) {
      Result<std::string> delta = state.Apply(ev);
      if (!delta.ok()) {
        stream_error = std::move(delta).status();
        co_return stream_error;
      }
      if (delta->empty()) continue;
      Status st = co_await events.OnTextDelta(*delta);
      if (!st.ok()) co_return st;
    }
    co_return Status::Ok();
  };
  auto on_headers = [&](const http::ClientResponse& head) {
    status = head.status;
    if (auto ra = head.headers.Get("retry-after")) retry_after = std::string(*ra);
  };

  auto res = co_await client_->Stream(req, sink, request.cancel, on_headers);
  if (!stream_error.ok()) co_return stream_error;  // (the key redacted by the state's ErrorOf)
  if (!res.ok()) {
    Status st = std::move(res).status();
    co_return WithMessage(st, "anthropic: " + RedactSecrets(st.message(), {&opt_.api_key}));
  }
  if (status < 200 || status > 299) {
    co_return UpstreamError(kProvider, status, error_body, retry_after, {&opt_.api_key});
  }
  if (!request.stream) {
    Result<std::string> text = state.ApplyMessage(whole);
    if (!text.ok()) co_return std::move(text).status();
    if (!text->empty()) {
      Status st = co_await events.OnTextDelta(*text);
      if (!st.ok()) co_return st;
    }
  }
  co_return state.Finish(request);
}

}  // namespace gh::models
