// The OpenAI-compatible endpoints under /v1 (see openai_api.h). Every route answers errors — the
// filters' refusals included (401, 403, 429) — in OpenAI's error shape.
#include "api/openai_api.h"

#include <algorithm>

#include "api/guarded_sse.h"
#include "api/json_io.h"
#include "api/openai_wire.h"
#include "common/strings.h"
#include "http/stream.h"
#include "observability/trace_context.h"

namespace gh::api {

using agent::Awaitable;
namespace net = boost::asio;
using pipeline::RequestContext;

namespace {

void QuotaHeaders(const RequestContext& ctx, http::Headers& h) {
  if (!ctx.reservation) return;
  if (ctx.reservation->remaining_day)
    h.Set("x-quota-remaining-messages-day", std::to_string(*ctx.reservation->remaining_day));
  if (ctx.reservation->remaining_month)
    h.Set("x-quota-remaining-messages-month", std::to_string(*ctx.reservation->remaining_month));
}

// Streams the completion as `chat.completion.chunk` frames (`data: {...}`), ending with `[DONE]`.
class ChunkStream final : public chat::CompletionEvents {
 public:
  ChunkStream(RequestContext& ctx, GuardedSse& sse) : ctx_(ctx), sse_(sse) {}

  Awaitable<Status> OnStart(const chat::CompletionOutcome& head) override {
    head_.id = head.id;
    head_.model = head.model;
    head_.created = head.created;
    http::Headers h;
    QuotaHeaders(ctx_, h);
    h.Set("content-type", "text/event-stream; charset=utf-8");
    Status begun = co_await sse_.Begin(std::move(h));
    if (!begun.ok()) co_return begun;
    // (Frames are serialized before co_await: GCC 12 mishandles temporaries in co_await
    // expressions.)
    std::string frame = bj::serialize(openai::RoleChunk(head_));
    co_return co_await Send(std::move(frame));
  }
  Awaitable<Status> OnTextDelta(std::string_view text) override {
    std::string frame = bj::serialize(openai::TextChunk(head_, text));
    co_return co_await Send(std::move(frame));
  }
  // After the model answered: its tool calls, the finish reason, the usage when asked, [DONE].
  Awaitable<Status> Finish(const chat::CompletionOutcome& out, bool include_usage) {
    std::vector<std::string> frames;
    for (const auto& chunk : openai::ToolCallChunks(head_, out.turn.tool_calls))
      frames.push_back(bj::serialize(chunk));
    frames.push_back(bj::serialize(openai::FinishChunk(head_, openai::FinishReason(out.turn))));
    if (include_usage) frames.push_back(bj::serialize(openai::UsageChunk(head_, out.turn.usage)));
    frames.emplace_back("[DONE]");
    for (auto& frame : frames) {
      Status st = co_await Send(std::move(frame));
      if (!st.ok()) co_return st;
    }
    co_return Status::Ok();
  }
  // A failure after the stream began: an error frame (the SDKs raise it), then the stream ends.
  Awaitable<Status> Fail(const Status& st) {
    std::string frame = bj::serialize(openai::ErrorJson(st));
    co_return co_await Send(std::move(frame));
  }

 private:
  Awaitable<Status> Send(std::string data) { return sse_.Send("", std::move(data)); }

  RequestContext& ctx_;
  GuardedSse& sse_;
  chat::CompletionOutcome head_;  // id, model, created
};

class SilentEvents final : public chat::CompletionEvents {
 public:
  Awaitable<Status> OnStart(const chat::CompletionOutcome&) override { co_return Status::Ok(); }
  Awaitable<Status> OnTextDelta(std::string_view) override { co_return Status::Ok(); }
};

Awaitable<Status> HandleCompletion(Services& s, RequestContext& ctx) {
  GH_CO_ASSIGN_OR_RETURN(auto body, Body(ctx));
  GH_CO_ASSIGN_OR_RETURN(openai::ChatCompletionParams params,
                         openai::ParseChatCompletionRequest(body));
  if (ctx.trace_id.empty())
    ctx.trace_id = TraceId(observability::NewTraceId(s.clock.NowUnixMillis(),
                                                     s.random));  // else the metering filter's

  chat::CompletionRequest req;
  req.principal = *ctx.principal;
  req.plan = ctx.plan;
  req.model = params.model;
  req.messages = std::move(params.messages);
  req.tools = std::move(params.tools);
  req.tool_required = params.tool_required;
  req.response_format = std::move(params.response_format);
  req.max_output_tokens = params.max_tokens;
  req.sampling = std::move(params.sampling);
  req.trace_id = ctx.trace_id;
  tenancy::Reservation* reservation = ctx.reservation ? &*ctx.reservation : nullptr;

  req.stream = params.stream;
  if (!params.stream) {
    SilentEvents events;
    req.cancel = ctx.stream.client_left();  // nothing is written until the end: the server watches
    GH_CO_ASSIGN_OR_RETURN(chat::CompletionOutcome out,
                           co_await s.chat.Complete(req, reservation, events));
    ReplyJson(ctx, 200, openai::CompletionJson(out));
    QuotaHeaders(ctx, ctx.response.headers);
    co_return Status::Ok();
  }

  GuardedSse sse(ctx.stream, s.sse_keepalive);
  ChunkStream events(ctx, sse);
  req.cancel = &sse.cancel();
  co_await sse.Start();
  auto outcome = co_await s.chat.Complete(req, reservation, events);
  if (outcome.ok() && sse.begun()) (void)co_await events.Finish(*outcome, params.include_usage);
  co_await sse.Stop();
  // Refused before the stream began (model, limits): an ordinary error answer with its status.
  if (!sse.begun())
    co_return outcome.ok() ? Status::Internal("stream never started") : std::move(outcome).status();
  if (!outcome.ok()) {
    (void)co_await events.Fail(outcome.status());
    co_return std::move(outcome).status();
  }
  co_return Status::Ok();
}

// A model the caller's plan allows; any other (unknown or not in the plan) is not found, as OpenAI
// answers for models an account cannot use.
Status HandleModel(Services& s, RequestContext& ctx) {
  const std::string& name = ctx.Param("model");
  auto allowed = s.chat.AllowedModels(*ctx.plan);
  if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
    return Status::NotFound("the model '" + Printable(name, 100) +
                                "' does not exist or you do not have access to it",
                            "model_not_found")
        .WithDetail("param", "model");
  ReplyJson(ctx, 200, openai::ModelJson(name));
  return Status::Ok();
}

}  // namespace

void RegisterOpenAiRoutes(pipeline::Router& r, Services& s, identity::ApiKeyService& keys) {
  r.Add({.method = "POST",
         .pattern = "/v1/chat/completions",
         .chat_quota = true,
         .admit_with_model_call = true,  // the message and the call's worst case: one transaction
         .error_response = openai::ErrorResponse,
         .async = [&s](RequestContext& ctx) { return HandleCompletion(s, ctx); }});
  r.Add({.method = "GET",
         .pattern = "/v1/models",
         .error_response = openai::ErrorResponse,
         .sync = [&s](RequestContext& ctx) -> Status {
           ReplyJson(ctx, 200, openai::ModelListJson(s.chat.AllowedModels(*ctx.plan)));
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/v1/models/{model}",
         .error_response = openai::ErrorResponse,
         .sync = [&s](RequestContext& ctx) { return HandleModel(s, ctx); }});
  RegisterKeyRoutes(r, keys);
}

}  // namespace gh::api
