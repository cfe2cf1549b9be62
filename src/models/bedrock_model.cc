#include "models/bedrock_model.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <map>

#include "aws/bedrock_shapes.h"
#include "aws/eventstream.h"
#include "common/strings.h"
#include "models/provider_common.h"

namespace gh::models {

namespace bj = boost::json;
using namespace agent;

namespace {

constexpr std::string_view kService = "bedrock";
constexpr std::string_view kEventStream = "application/vnd.amazon.eventstream";

bj::object ToolResultBlock(const ChatMessage& m) {
  bj::array content;
  boost::system::error_code ec;
  bj::value parsed = bj::parse(m.content, ec);
  bj::object item;
  if (!ec && parsed.is_object()) {
    item["json"] = std::move(parsed);
  } else if (m.content.empty()) {
    item["json"] = bj::object();
  } else {
    item["text"] = m.content;
  }
  content.push_back(std::move(item));
  bj::object result;
  result["toolUseId"] = m.tool_call_id;
  result["content"] = std::move(content);
  result["status"] = m.is_error ? "error" : "success";
  bj::object block;
  block["toolResult"] = std::move(result);
  return block;
}

bj::array ContentBlocks(const AlternatingTurn& turn) {
  bj::array blocks;
  for (const ChatMessage* m : turn.parts) {
    if (m->role == Role::kTool) {
      blocks.push_back(ToolResultBlock(*m));
      continue;
    }
    if (!m->content.empty()) {
      bj::object b;
      b["text"] = m->content;
      blocks.push_back(std::move(b));
    }
    for (const ToolCall& c : m->tool_calls) {
      bj::object use;
      use["toolUseId"] = c.id;
      use["name"] = c.name;
      use["input"] = ArgumentsObject(c.arguments_json);
      bj::object b;
      b["toolUse"] = std::move(use);
      blocks.push_back(std::move(b));
    }
  }
  return blocks;
}

void ReadUsage(const bj::object& u, Usage& usage) {
  usage.input_tokens = IntMember(u, "inputTokens");
  usage.output_tokens = IntMember(u, "outputTokens");
  usage.cache_read_tokens = IntMember(u, "cacheReadInputTokens");
  usage.cache_write_tokens = IntMember(u, "cacheWriteInputTokens");
}

void EstimateUsageIfMissing(bool got_usage, const ModelRequest& request, ModelTurn& turn) {
  if (got_usage) return;
  for (const auto& m : request.messages) turn.usage.input_tokens += EstimateTokens(m.content);
  turn.usage.output_tokens = EstimateTokens(turn.text);
}

// The state of one ConverseStream answer; Apply() is fed decoded frames in order.
class ConverseStreamState {
 public:
  // With the request's response_format, the input of the first call to its tool
  // (ResponseFormatTool) is the answer's text, streamed as it comes, and that call is no tool
  // call; the model's text is held back meanwhile (AnswerToolTracker).
  ConverseStreamState(const AwsEndpoint& endpoint, const ModelRequest& request)
      : endpoint_(endpoint), answer_(request) {}

  // Applies one frame; returns the text delta to forward (often empty) or the error it carried.
  Result<std::string> Apply(const aws::EventStreamMessage& frame) {
    if (std::optional<Status> err = AwsStreamError(kService, frame, endpoint_)) return *err;
    std::string_view type = frame.event_type().value_or("");
    boost::system::error_code ec;
    bj::value v = bj::parse(frame.payload, ec);
    if (ec || !v.is_object())
      return Status::BadGateway(
          fmt::format("bedrock sent a {} event that is not a JSON object", Printable(type, 64)),
          "upstream_malformed");
    const bj::object& o = v.get_object();
    if (type == "contentBlockStart") {
      if (const bj::object* start = ObjectMember(o, "start"))
        if (const bj::object* use = ObjectMember(*start, "toolUse")) {
          Block& b = blocks_[IntMember(o, "contentBlockIndex")];
          b.tool = true;
          b.id = StringMember(*use, "toolUseId");
          b.name = StringMember(*use, "name");
          b.use = answer_.OnToolUse(b.name);
          // A real tool call: the text before it was not the answer's preamble.
          if (b.use == ToolUse::kReal) return Add(answer_.ReleaseText());
        }
      return std::string();
    }
    if (type == "contentBlockDelta") {
      const bj::object* delta = ObjectMember(o, "delta");
      if (!delta) return std::string();
      if (const bj::value* text = delta->if_contains("text"); text && text->is_string())
        return Add(answer_.OnText(text->get_string()));
      if (const bj::object* use = ObjectMember(*delta, "toolUse")) {
        Block& b = blocks_[IntMember(o, "contentBlockIndex")];
        b.tool = true;
        std::string input = StringMember(*use, "input");
        b.input += input;
        if (b.use == ToolUse::kAnswer) return Add(std::move(input));
      }
      return std::string();  // reasoningContent, citation, ...: not forwarded
    }
    if (type == "contentBlockStop") {
      // An answer without input deltas: an empty object.
      auto it = blocks_.find(IntMember(o, "contentBlockIndex"));
      if (it != blocks_.end() && it->second.use == ToolUse::kAnswer && it->second.input.empty()) {
        it->second.input = "{}";
        return Add("{}");
      }
      return std::string();
    }
    if (type == "messageStop") {
      stopped_ = true;
      wire_stop_reason_ = StringMember(o, "stopReason");
      return Add(answer_.ReleaseText());  // the model did not answer through the tool
    }
    if (type == "metadata") {
      if (const bj::object* u = ObjectMember(o, "usage")) {
        ReadUsage(*u, turn_.usage);
        got_usage_ = true;
      }
      return std::string();
    }
    return std::string();  // messageStart, events added later
  }

  Result<ModelTurn> Finish(const ModelRequest& request) {
    if (!stopped_)
      return Status::BadGateway("bedrock ended the stream before messageStop",
                                "upstream_incomplete");
    GH_ASSIGN_OR_RETURN(turn_.stop_reason, MapBedrockStopReason(wire_stop_reason_));
    for (auto& [index, b] : blocks_) {
      if (!b.tool || b.use != ToolUse::kReal) continue;
      std::string id = b.id.empty() ? fmt::format("tooluse_{}", index) : b.id;
      turn_.tool_calls.push_back({std::move(id), b.name, b.input.empty() ? "{}" : b.input});
    }
    turn_.stop_reason = answer_.StopReason(std::move(turn_.stop_reason), !turn_.tool_calls.empty());
    EstimateUsageIfMissing(got_usage_, request, turn_);
    return std::move(turn_);
  }

 private:
  using ToolUse = AnswerToolTracker::ToolUse;
  struct Block {
    bool tool = false;
    std::string id, name, input;
    ToolUse use = ToolUse::kReal;  // for a tool block
  };

  // Text of the turn, to forward.
  std::string Add(std::string text) {
    turn_.text += text;
    return text;
  }

  const AwsEndpoint& endpoint_;
  AnswerToolTracker answer_;
  std::map<int64_t, Block> blocks_;
  ModelTurn turn_;
  std::string wire_stop_reason_;
  bool stopped_ = false;
  bool got_usage_ = false;
};

Result<ModelTurn> ParseConverseResponse(std::string_view body, const ModelRequest& request) {
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object())
    return Status::BadGateway("bedrock answered with invalid JSON", "upstream_malformed");
  const bj::object& o = v.get_object();
  ModelTurn turn;
  AnswerToolTracker answer(request);
  const bj::object* output = ObjectMember(o, "output");
  const bj::object* message = output ? ObjectMember(*output, "message") : nullptr;
  if (!message)
    return Status::BadGateway("bedrock answered without output.message", "upstream_malformed");
  if (const bj::value* content = message->if_contains("content"); content && content->is_array()) {
    int index = 0;
    for (const bj::value& block : content->get_array()) {
      ++index;
      if (!block.is_object()) continue;
      const bj::object& b = block.get_object();
      if (const bj::value* text = b.if_contains("text"); text && text->is_string())
        turn.text += answer.OnText(text->get_string());
      if (const bj::object* use = ObjectMember(b, "toolUse")) {
        std::string id = StringMember(*use, "toolUseId");
        if (id.empty()) id = fmt::format("tooluse_{}", index - 1);
        const bj::value* input = use->if_contains("input");
        std::string args = input && input->is_object() ? bj::serialize(*input) : "{}";
        std::string name = StringMember(*use, "name");
        switch (answer.OnToolUse(name)) {
          case AnswerToolTracker::ToolUse::kAnswer:
            turn.text += args;
            continue;
          case AnswerToolTracker::ToolUse::kExtraAnswer:
            continue;
          case AnswerToolTracker::ToolUse::kReal:
            turn.text += answer.ReleaseText();
            break;
        }
        turn.tool_calls.push_back({std::move(id), std::move(name), std::move(args)});
      }
    }
  }
  turn.text += answer.ReleaseText();
  GH_ASSIGN_OR_RETURN(std::string stop_reason, MapBedrockStopReason(StringMember(o, "stopReason")));
  turn.stop_reason = answer.StopReason(std::move(stop_reason), !turn.tool_calls.empty());
  const bj::object* usage = ObjectMember(o, "usage");
  if (usage) ReadUsage(*usage, turn.usage);
  EstimateUsageIfMissing(usage != nullptr, request, turn);
  return turn;
}

bj::object ToolJson(const ToolSpec& t) {
  bj::object schema;
  schema["json"] = SchemaObject(t.parameters_schema);
  bj::object spec;
  spec["name"] = t.name;
  if (!t.description.empty()) spec["description"] = t.description;
  spec["inputSchema"] = std::move(schema);
  bj::object tool;
  tool["toolSpec"] = std::move(spec);
  return tool;
}

// response_format, which Converse lacks, as a tool the model must call (ResponseFormatTool): by
// name when it is the only tool, else the model must call some tool (a real one, or this).
void AddResponseFormatTool(const ModelRequest& r, bj::object& body) {
  std::optional<ToolSpec> tool = ResponseFormatTool(r);
  if (!tool) return;
  if (!body.contains("toolConfig")) body["toolConfig"] = bj::object{{"tools", bj::array()}};
  bj::object& config = body["toolConfig"].as_object();
  config["tools"].as_array().push_back(ToolJson(*tool));
  bj::object choice;
  if (r.tools.empty())
    choice["tool"] = bj::object{{"name", tool->name}};
  else
    choice["any"] = bj::object();
  config["toolChoice"] = std::move(choice);
}

}  // namespace

std::string BuildConverseRequestBody(const ModelRequest& r) {
  AlternatingConversation conv = GroupIntoAlternatingTurns(r.messages);
  bj::array messages;
  for (const AlternatingTurn& t : conv.turns) {
    bj::object m;
    m["role"] = t.role == Role::kAssistant ? "assistant" : "user";
    m["content"] = ContentBlocks(t);
    messages.push_back(std::move(m));
  }
  bj::object body;
  body["messages"] = std::move(messages);
  if (!conv.system.empty()) {
    bj::array system;
    for (const std::string& s : conv.system) {
      bj::object block;
      block["text"] = s;
      system.push_back(std::move(block));
    }
    body["system"] = std::move(system);
  }
  bj::object inference;
  inference["maxTokens"] = r.max_output_tokens;
  // The client's sampling, as Converse names it. Converse serves every model family, and
  // Claude's rules (see ClaudeTemperatureOrTopP) are the strictest of them, so they apply to all.
  // Converse has no seed and no presence or frequency penalty: those are dropped.
  const TemperatureOrTopP t = ClaudeTemperatureOrTopP(r.sampling);
  if (t.temperature) inference["temperature"] = *t.temperature;
  if (t.top_p) inference["topP"] = *t.top_p;
  if (!r.sampling.stop.empty()) inference["stopSequences"] = bj::value_from(r.sampling.stop);
  body["inferenceConfig"] = std::move(inference);
  if (!r.tools.empty()) {
    bj::array tools;
    for (const ToolSpec& t : r.tools) tools.push_back(ToolJson(t));
    bj::object config;
    config["tools"] = std::move(tools);
    // OpenAI's tool_choice "required" (or a named tool, the only one offered then).
    if (r.tool_required) config["toolChoice"] = bj::object{{"any", bj::object()}};
    body["toolConfig"] = std::move(config);
  }
  AddResponseFormatTool(r, body);
  return bj::serialize(body);
}

Result<std::string> MapBedrockStopReason(std::string_view wire) {
  using aws::bedrock::StopReason;
  std::optional<StopReason> reason = aws::bedrock::ParseStopReason(wire);
  if (!reason) return wire.empty() ? std::string("end_turn") : Printable(wire, 64);
  switch (*reason) {
    case StopReason::kEndTurn:
    case StopReason::kToolUse:
    case StopReason::kMaxTokens:
    case StopReason::kStopSequence:
    case StopReason::kGuardrailIntervened:
    case StopReason::kContentFiltered:
    case StopReason::kModelContextWindowExceeded:
      return std::string(aws::bedrock::StopReasonName(*reason));
    case StopReason::kMalformedModelOutput:
      return Status::BadGateway("bedrock stopped: the model produced malformed output",
                                "upstream_malformed_output");
    case StopReason::kMalformedToolUse:
      return Status::BadGateway("bedrock stopped: the model produced a malformed tool call",
                                "upstream_malformed_output");
  }
  return Printable(wire, 64);
}

Result<std::shared_ptr<BedrockModel>> MakeBedrockModel(BedrockOptions options,
                                                       const aws::EnvironmentLookup& env,
                                                       std::shared_ptr<http::HttpClient> client,
                                                       const Clock& clock) {
  GH_ASSIGN_OR_RETURN(AwsEndpoint endpoint,
                      AwsEndpoint::Resolve(options.endpoint, aws::bedrock::kEndpointPrefix,
                                           aws::bedrock::kSigningName, env));
  return std::make_shared<BedrockModel>(std::move(options), std::move(endpoint), std::move(client),
                                        clock);
}

Awaitable<Result<ModelTurn>> BedrockModel::Generate(const ModelRequest& request,
                                                    ModelEvents& events) {
  // ConverseStream unless configured off or the caller wants the whole answer anyway.
  const bool stream = opt_.stream && request.stream;
  const std::string_view operation = stream ? "converse-stream" : "converse";
  std::vector<std::string_view> segments = {"model", request.model, operation};
  Result<http::ClientRequest> signed_req =
      endpoint_.SignedPost(segments, BuildConverseRequestBody(request),
                           stream ? kEventStream : "application/json", clock_.Now());
  if (!signed_req.ok()) co_return std::move(signed_req).status().Annotate("bedrock request");
  http::ClientRequest req = std::move(signed_req).value();
  req.timeout = HeadersTimeout(opt_.timeout, stream);
  req.idle_timeout = opt_.idle_timeout;

  if (!stream) {
    auto res = co_await client_->Send(std::move(req));
    if (!res.ok()) {
      Status st = std::move(res).status();
      co_return WithMessage(st, "bedrock: " + endpoint_.Redact(st.message()));
    }
    if (res->status < 200 || res->status > 299)
      co_return AwsHttpError(kService, res->status, res->headers, res->body, endpoint_);
    Result<ModelTurn> turn = ParseConverseResponse(res->body, request);
    if (turn.ok() && !turn->text.empty()) {
      Status st = co_await events.OnTextDelta(turn->text);
      if (!st.ok()) co_return st;
    }
    co_return turn;
  }

  ConverseStreamState state(endpoint_, request);
  FrameText apply = [&state](const aws::EventStreamMessage& frame) { return state.Apply(frame); };
  Status streamed = co_await StreamEventFrames(*client_, std::move(req), request.cancel, kService,
                                               endpoint_, apply, events);
  if (!streamed.ok()) co_return streamed;
  co_return state.Finish(request);
}

}  // namespace gh::models
