#include "models/bedrock_agent.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "aws/bedrock_shapes.h"
#include "aws/eventstream.h"
#include "common/log.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "models/provider_common.h"

namespace gh::models {

namespace bj = boost::json;
using namespace agent;

namespace {

constexpr size_t kMaxTracePayload = 64 * 1024;

constexpr std::string_view kService = "bedrock agent";
constexpr std::string_view kEndpointPrefix = "bedrock-agent-runtime";
constexpr std::string_view kEventStream = "application/vnd.amazon.eventstream";
constexpr size_t kMaxSessionId = 100;
constexpr size_t kMaxInputText = 25'000;

bool AllowedInSessionId(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

// Adds every modelInvocationOutput.metadata.usage found in a trace (orchestration, pre- and
// post-processing, routing classifier... all use that shape).
void SumTraceUsage(const bj::value& v, Usage& usage, bool& found, int depth = 0) {
  if (depth > 24) return;
  if (v.is_array()) {
    for (const bj::value& x : v.get_array()) SumTraceUsage(x, usage, found, depth + 1);
    return;
  }
  if (!v.is_object()) return;
  const bj::object& o = v.get_object();
  if (const bj::object* out = ObjectMember(o, "modelInvocationOutput"))
    if (const bj::object* meta = ObjectMember(*out, "metadata"))
      if (const bj::object* u = ObjectMember(*meta, "usage")) {
        usage.input_tokens += IntMember(*u, "inputTokens");
        usage.output_tokens += IntMember(*u, "outputTokens");
        usage.cache_read_tokens += IntMember(*u, "cacheReadInputTokens");
        usage.cache_write_tokens += IntMember(*u, "cacheWriteInputTokens");
        found = true;
      }
  for (const auto& kv : o)
    if (kv.key() != "modelInvocationOutput") SumTraceUsage(kv.value(), usage, found, depth + 1);
}

// An agent answers in its own words, shaped by its own instructions: it cannot be held to a
// response_format.
Status RefuseResponseFormat(const ModelRequest& r) {
  if (!r.response_format) return Status::Ok();
  return Status::InvalidArgument("response_format is not supported by a Bedrock agent",
                                 "unsupported_parameter")
      .WithDetail("param", "response_format");
}

}  // namespace

Status BedrockAgentModel::Accepts(const ModelRequest& request) const {
  return RefuseResponseFormat(request);
}

std::string AgentSessionId(const TenantContext& c) {
  const std::string raw =
      c.tenant_id.value() + "-" + c.user_id.value() + "-" + c.session_id.value();
  bool clean = raw.size() <= kMaxSessionId;
  for (char ch : raw) clean = clean && AllowedInSessionId(ch);
  if (clean) return raw;
  std::string sanitised = raw;
  for (char& ch : sanitised)
    if (!AllowedInSessionId(ch)) ch = '_';
  const std::string digest = crypto::Sha256Hex(raw).substr(0, 32);
  sanitised.resize(std::min(sanitised.size(), kMaxSessionId - 1 - digest.size()));
  return sanitised + "-" + digest;
}

Result<std::string> BuildInvokeAgentRequestBody(const BedrockAgentOptions& options,
                                                const ModelRequest& r) {
  GH_RETURN_IF_ERROR(RefuseResponseFormat(r));
  const ChatMessage* last_user = nullptr;
  for (const ChatMessage& m : r.messages)
    if (m.role == Role::kUser) last_user = &m;
  if (!last_user || last_user->content.empty())
    return Status::InvalidArgument("the Bedrock agent needs a user message", "invalid_request");
  if (last_user->content.size() > kMaxInputText)
    return Status::InvalidArgument(
        fmt::format("the message is too long for the Bedrock agent (at most {} characters)",
                    kMaxInputText),
        "message_too_long");

  const TenantContext& c = r.context;
  bj::object session_attributes;
  session_attributes["tenant_id"] = c.tenant_id.value();
  session_attributes["user_id"] = c.user_id.value();
  session_attributes["subscription_tier"] = c.subscription_tier;
  if (!options.organization_type.empty())
    session_attributes["organization_type"] = options.organization_type;
  session_attributes["user_role"] = c.role;

  const std::string tenant_context =
      options.organization_type.empty()
          ? fmt::format("{} user", c.tenant_id.value())
          : fmt::format("{} {} user", c.tenant_id.value(), options.organization_type);
  bj::object prompt_attributes;
  prompt_attributes["request_type"] = "agentic_query";
  prompt_attributes["enable_planning"] = "true";
  prompt_attributes["tenant_context"] = tenant_context;
  prompt_attributes["cost_tracking"] = "enabled";

  bj::object state;
  state["sessionAttributes"] = std::move(session_attributes);
  state["promptSessionAttributes"] = std::move(prompt_attributes);
  bj::object body;
  body["inputText"] = last_user->content;
  body["enableTrace"] = options.enable_trace;
  body["sessionState"] = std::move(state);
  return bj::serialize(body);
}

Result<std::shared_ptr<BedrockAgentModel>> MakeBedrockAgentModel(
    BedrockAgentOptions options, const aws::EnvironmentLookup& env,
    std::shared_ptr<http::HttpClient> client, const Clock& clock) {
  if (options.agent_id.empty() || options.agent_alias_id.empty())
    return Status::InvalidArgument("a Bedrock agent needs agent_id and agent_alias_id",
                                   "invalid_config");
  GH_ASSIGN_OR_RETURN(AwsEndpoint endpoint, AwsEndpoint::Resolve(options.endpoint, kEndpointPrefix,
                                                                 aws::bedrock::kSigningName, env));
  return std::make_shared<BedrockAgentModel>(std::move(options), std::move(endpoint),
                                             std::move(client), clock);
}

Awaitable<Result<ModelTurn>> BedrockAgentModel::Generate(const ModelRequest& request,
                                                         ModelEvents& events) {
  Result<std::string> body = BuildInvokeAgentRequestBody(opt_, request);
  if (!body.ok()) co_return std::move(body).status();
  const std::string session_id = AgentSessionId(request.context);
  std::vector<std::string_view> segments = {
      "agents", opt_.agent_id, "agentAliases", opt_.agent_alias_id, "sessions", session_id, "text"};
  Result<http::ClientRequest> signed_req =
      endpoint_.SignedPost(segments, std::move(body).value(), kEventStream, clock_.Now());
  if (!signed_req.ok()) co_return std::move(signed_req).status().Annotate("bedrock agent request");
  http::ClientRequest req = std::move(signed_req).value();
  req.timeout = opt_.timeout;
  req.idle_timeout = opt_.idle_timeout;

  ModelTurn turn;
  bool got_usage = false;
  size_t traces = 0;  // trace events seen; those past opt_.max_traces_per_turn are not recorded
  std::vector<BedrockAgentTrace> recorded;

  // Returns the answer text an event carries (often none), or the error it reports.
  FrameText apply = [&](const aws::EventStreamMessage& frame) -> Result<std::string> {
    if (std::optional<Status> err = AwsStreamError(kService, frame, endpoint_)) return *err;
    std::string_view type = frame.event_type().value_or("");
    if (type == "returnControl")
      return Status::BadGateway(
          "the Bedrock agent asked Gatehouse to run an action (returnControl), which is "
          "not supported; configure its action groups to run in AWS",
          "agent_return_control_unsupported");
    if (type != "chunk" && type != "trace") return std::string();  // files, events added later
    boost::system::error_code ec;
    bj::value v = bj::parse(frame.payload, ec);
    if (ec || !v.is_object())
      return Status::BadGateway(
          fmt::format("bedrock agent sent a {} event that is not a JSON object", type),
          "upstream_malformed");
    if (type == "trace") {
      SumTraceUsage(v, turn.usage, got_usage);
      // Held until the call ends, at most kMaxTracePayload each: a trace can carry whole prompts
      // (one cut short is no longer JSON and is kept as text).
      if (opt_.trace_sink && ++traces <= opt_.max_traces_per_turn)
        recorded.push_back(BedrockAgentTrace{
            request.context, opt_.agent_id, opt_.agent_alias_id, session_id,
            std::string(frame.payload.substr(0, Utf8CutPoint(frame.payload, kMaxTracePayload))),
            clock_.Now()});
      return std::string();
    }
    std::string encoded = StringMember(v.get_object(), "bytes");
    std::optional<std::string> text = Base64Decode(encoded);
    if (!text)
      return Status::BadGateway("bedrock agent sent a chunk that is not base64",
                                "upstream_malformed");
    turn.text += *text;
    return std::move(*text);
  };

  Status streamed = co_await StreamEventFrames(*client_, std::move(req), request.cancel, kService,
                                               endpoint_, apply, events);
  if (traces > opt_.max_traces_per_turn)
    log::Warn("bedrock agent trace events past the per-turn bound were not recorded",
              {{"tenant_id", request.context.tenant_id.value()},
               {"trace_events", int64_t(traces)},
               {"recorded", int64_t(opt_.max_traces_per_turn)}});
  if (!recorded.empty()) opt_.trace_sink(std::move(recorded), streamed);
  if (!streamed.ok()) co_return streamed;
  turn.stop_reason = "end_turn";
  if (!got_usage) {
    for (const auto& m : request.messages)
      if (m.role == Role::kUser) turn.usage.input_tokens = EstimateTokens(m.content);
    turn.usage.output_tokens = EstimateTokens(turn.text);
  }
  co_return turn;
}

}  // namespace gh::models
