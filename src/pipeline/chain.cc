#include "pipeline/chain.h"

#include <fmt/format.h>

#include <exception>

#include "common/log.h"

namespace gh::pipeline {

http::Awaitable<void> Chain::Handle(http::Request& request, http::Response& response,
                                    http::ResponseStream& stream) {
  RequestContext ctx(request, response, stream);
  Match m = router_.Find(request.method, request.segments);
  if (!m.route) {
    if (m.allowed.empty()) {
      if ((request.method == "GET" || request.method == "HEAD") && fallback_ && fallback_(ctx))
        co_return;
      ctx.Fail(Status::NotFound("no such endpoint: " + request.path));
      co_return;
    }
    std::string allow;
    for (const auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
    response =
        http::ErrorResponse(405, "method_not_allowed",
                            fmt::format("{} is not allowed here; use {}", request.method, allow));
    response.headers.Set("allow", allow);
    co_return;
  }
  ctx.route = m.route;
  ctx.params = std::move(m.params);
  if (m.route->has_json_body() && !request.body.empty()) {
    auto ct = request.Header("content-type");
    std::string_view type = ct ? *ct : std::string_view();
    const std::string_view want =
        m.route->form_body ? "application/x-www-form-urlencoded" : "application/json";
    if (type.substr(0, type.find(';')) != want) {
      ctx.Fail(Status(StatusCode::kUnsupportedMedia, "unsupported_media_type",
                      fmt::format("request body must be {}", want)));
      co_return;
    }
  }

  size_t ran = 0;
  bool proceed = true;
  for (const auto& f : filters_) {
    ++ran;
    if (f->OnRequest(ctx) == FilterStatus::kStop) {
      proceed = false;
      break;
    }
  }
  if (proceed) {
    Status st;
    try {
      if (m.route->async)
        st = co_await m.route->async(ctx);
      else
        st = m.route->sync(ctx);
    } catch (const std::exception& e) {
      st = Status::Internal(std::string("unhandled exception: ") + e.what());
    }
    if (!st.ok()) {
      if (stream.begun())
        ctx.outcome = st;  // too late for a status; the handler reported it in-stream
      else
        ctx.Fail(st);
    }
  }
  for (size_t i = ran; i-- > 0;) filters_[i]->OnResponse(ctx);
}

}  // namespace gh::pipeline
