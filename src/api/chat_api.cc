// Chat endpoints: sessions, history, and POST /api/chat (JSON, or Server-Sent Events when the
// client accepts text/event-stream).
#include <fmt/format.h>

#include "api/guarded_sse.h"
#include "api/json_io.h"
#include "api/services.h"
#include "common/strings.h"
#include "http/stream.h"
#include "observability/trace_context.h"

namespace gh::api {

using agent::Awaitable;
namespace net = boost::asio;
using pipeline::RequestContext;

namespace {

constexpr size_t kMaxMessageChars = 32 * 1024;

bool WantsEventStream(const http::Request& req) {
  auto accept = req.Header("accept");
  return accept && accept->find("text/event-stream") != std::string_view::npos;
}

void QuotaHeaders(const RequestContext& ctx, http::Headers& h) {
  if (!ctx.reservation) return;
  if (ctx.reservation->remaining_day)
    h.Set("x-quota-remaining-messages-day", std::to_string(*ctx.reservation->remaining_day));
  if (ctx.reservation->remaining_month)
    h.Set("x-quota-remaining-messages-month", std::to_string(*ctx.reservation->remaining_month));
}

bj::object UsageJson(const agent::Usage& u) {
  return bj::object{{"input_tokens", u.input_tokens}, {"output_tokens", u.output_tokens}};
}

// Streams every agent event to the client as it happens.
class SseEvents final : public chat::ChatEvents {
 public:
  SseEvents(RequestContext& ctx, GuardedSse& sse) : ctx_(ctx), sse_(sse) {}
  Awaitable<Status> OnStart(const SessionId& s, const MessageId& m, const TraceId& t) override {
    http::Headers h;
    QuotaHeaders(ctx_, h);
    h.Set("content-type", "text/event-stream; charset=utf-8");
    Status begun = co_await sse_.Begin(std::move(h));
    if (!begun.ok()) co_return begun;
    // (Objects are built before co_await: GCC 12 cannot keep initializer lists in a coroutine
    // frame.)
    std::string data = bj::serialize(
        bj::object{{"session_id", s.value()}, {"message_id", m.value()}, {"trace_id", t.value()}});
    co_return co_await sse_.Send("start", std::move(data));
  }
  Awaitable<Status> OnTextDelta(std::string_view text) override {
    std::string data = bj::serialize(bj::object{{"text", text}});
    co_return co_await sse_.Send("delta", std::move(data));
  }
  Awaitable<Status> OnToolCall(const agent::ToolCall& call) override {
    boost::system::error_code ec;
    bj::value args = bj::parse(call.arguments_json, ec);
    if (ec) args = bj::string(call.arguments_json);
    std::string data =
        bj::serialize(bj::object{{"id", call.id}, {"name", call.name}, {"arguments", args}});
    co_return co_await sse_.Send("tool_call", std::move(data));
  }
  Awaitable<Status> OnToolResult(const agent::ToolCall& call,
                                 const agent::ToolResult& result) override {
    boost::system::error_code ec;
    bj::value content = bj::parse(result.content, ec);
    if (ec) content = bj::string(result.content);
    std::string data = bj::serialize(bj::object{
        {"id", call.id}, {"name", call.name}, {"result", content}, {"is_error", result.is_error}});
    co_return co_await sse_.Send("tool_result", std::move(data));
  }

 private:
  RequestContext& ctx_;
  GuardedSse& sse_;
};

class SilentEvents final : public chat::ChatEvents {
 public:
  Awaitable<Status> OnStart(const SessionId&, const MessageId&, const TraceId&) override {
    co_return Status::Ok();
  }
  Awaitable<Status> OnTextDelta(std::string_view) override { co_return Status::Ok(); }
  Awaitable<Status> OnToolCall(const agent::ToolCall&) override { co_return Status::Ok(); }
  Awaitable<Status> OnToolResult(const agent::ToolCall&, const agent::ToolResult&) override {
    co_return Status::Ok();
  }
};

void ReplyOutcome(RequestContext& ctx, const chat::ChatOutcome& out);

Awaitable<Status> HandleChat(Services& s, RequestContext& ctx) {
  GH_CO_ASSIGN_OR_RETURN(auto body, Body(ctx));
  GH_CO_ASSIGN_OR_RETURN(std::string message,
                         json::RequiredString(body, "message", kMaxMessageChars));
  if (Trim(message).empty())
    co_return Status::InvalidArgument("message must not be blank", "missing_field");
  GH_CO_ASSIGN_OR_RETURN(auto session_id, json::OptionalString(body, "session_id", 64));
  GH_CO_ASSIGN_OR_RETURN(auto model, json::OptionalString(body, "model", 200));
  if (ctx.trace_id.empty())
    ctx.trace_id = TraceId(observability::NewTraceId(s.clock.NowUnixMillis(),
                                                     s.random));  // else the metering filter's

  chat::ChatRequest req;
  req.principal = *ctx.principal;
  req.plan = ctx.plan;
  req.tenant_name = ctx.tenant->name;
  req.message = std::move(message);
  if (session_id && !session_id->empty()) req.session_id = SessionId(*session_id);
  req.model = model;
  req.trace_id = ctx.trace_id;
  tenancy::Reservation* reservation = ctx.reservation ? &*ctx.reservation : nullptr;

  if (WantsEventStream(ctx.request)) {
    GuardedSse sse(ctx.stream, s.sse_keepalive);
    SseEvents events(ctx, sse);
    req.cancel = &sse.cancel();
    co_await sse.Start();
    auto outcome = co_await s.chat.Chat(req, reservation, events);
    co_await sse.Stop();
    if (!sse.begun())
      co_return outcome.ok() ? Status::Internal("stream never started")
                             : std::move(outcome).status();
    if (!outcome.ok()) {
      const Status& st = outcome.status();
      const bool internal = st.code() == StatusCode::kInternal;
      std::string data =
          bj::serialize(bj::object{{"code", internal ? "internal" : st.error_code()},
                                   {"message", internal ? "internal server error" : st.message()}});
      (void)co_await sse.Send("error", std::move(data));
      co_return st;
    }
    std::string data = bj::serialize(bj::object{{"session_id", outcome->session_id.value()},
                                                {"message_id", outcome->message_id.value()},
                                                {"response", outcome->response},
                                                {"usage", UsageJson(outcome->usage)},
                                                {"trace_id", outcome->trace_id.value()},
                                                {"model", outcome->model}});
    (void)co_await sse.Send("done", std::move(data));
    co_return Status::Ok();
  }

  SilentEvents events;
  req.cancel = ctx.stream.client_left();  // nothing is written until the end: the server watches
  GH_CO_ASSIGN_OR_RETURN(auto out, co_await s.chat.Chat(req, reservation, events));
  ReplyOutcome(ctx, out);
  co_return Status::Ok();
}

void ReplyOutcome(RequestContext& ctx, const chat::ChatOutcome& out) {
  bj::array calls;
  for (const auto& c : out.tool_calls) {
    boost::system::error_code ec;
    bj::value args = bj::parse(c.arguments, ec);
    if (ec) args = bj::string(c.arguments);
    bj::value result = bj::parse(c.result, ec);
    if (ec) result = bj::string(c.result);
    calls.push_back(bj::object{{"id", c.id},
                               {"name", c.name},
                               {"arguments", args},
                               {"result", result},
                               {"is_error", c.is_error}});
  }
  ReplyJson(ctx, 200,
            bj::object{{"session_id", out.session_id.value()},
                       {"message_id", out.message_id.value()},
                       {"response", out.response},
                       {"usage", UsageJson(out.usage)},
                       {"trace_id", out.trace_id.value()},
                       {"model", out.model},
                       {"tool_calls", std::move(calls)}});
  QuotaHeaders(ctx, ctx.response.headers);
}

}  // namespace

void RegisterChatRoutes(pipeline::Router& r, Services& s) {
  r.Add({.method = "POST", .pattern = "/api/sessions", .sync = [&s](RequestContext& ctx) -> Status {
           if (!ctx.request.body.empty()) GH_RETURN_IF_ERROR(Body(ctx).status());
           GH_ASSIGN_OR_RETURN(auto session, s.chat.CreateSession(*ctx.principal, *ctx.plan));
           ReplyJson(ctx, 201,
                     bj::object{{"session_id", session.id.value()},
                                {"expires_at", Iso(session.expires_at)}});
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/sessions/{session_id}",
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(
               s.chat.EndSession(*ctx.principal, SessionId(ctx.Param("session_id"))));
           ctx.response = http::Response::NoContent();
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/sessions",
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto sessions, s.chat.ListSessions(*ctx.principal));
           bj::array out;
           for (const auto& x : sessions) out.push_back(SessionJson(x));
           ReplyJson(ctx, 200, bj::object{{"sessions", std::move(out)}});
           return Status::Ok();
         }});
  r.Add(
      {.method = "GET",
       .pattern = "/api/sessions/{session_id}/messages",
       .sync = [&s](RequestContext& ctx) -> Status {
         SessionId id(ctx.Param("session_id"));
         GH_ASSIGN_OR_RETURN(auto msgs, s.chat.Messages(*ctx.principal, id));
         bj::array out;
         for (const auto& m : msgs) {
           bj::object o{{"message_id", m.id.value()},
                        {"role", m.role},
                        {"content", m.content},
                        {"created_at", Iso(m.created_at)}};
           if (m.tool_calls) {
             boost::system::error_code ec;
             bj::value calls = bj::parse(*m.tool_calls, ec);
             if (!ec) o["tool_calls"] = calls;
           }
           if (m.tool_call_id) o["tool_call_id"] = *m.tool_call_id;
           out.push_back(std::move(o));
         }
         ReplyJson(ctx, 200, bj::object{{"session_id", id.value()}, {"messages", std::move(out)}});
         return Status::Ok();
       }});
  r.Add({.method = "POST",
         .pattern = "/api/chat",
         .chat_quota = true,
         .async = [&s](RequestContext& ctx) { return HandleChat(s, ctx); }});
}

}  // namespace gh::api
