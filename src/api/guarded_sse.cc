#include "api/guarded_sse.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

namespace gh::api {

namespace net = boost::asio;
using http::Awaitable;
using Steady = std::chrono::steady_clock;

struct GuardedSse::State {
  State(http::ResponseStream& stream, std::chrono::milliseconds keepalive)
      : sse(stream), keepalive(keepalive) {}
  http::SseWriter sse;
  std::chrono::milliseconds keepalive;
  bool writing = false;   // a write is in flight: the other side waits
  bool finished = false;  // Stop() was called
  bool running = false;   // the keep-alive coroutine is alive
  Steady::time_point last_write = Steady::now();
  CancelSignal cancel;
  std::optional<net::steady_timer> ticker;  // the keep-alive's sleep
  std::optional<net::steady_timer> exited;  // cancelled when the keep-alive has ended

  Awaitable<void> WaitForWriter() {
    if (!writing) co_return;
    net::steady_timer t(co_await net::this_coro::executor);
    while (writing) {
      t.expires_after(std::chrono::milliseconds(1));
      auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
      (void)ec;
    }
  }
  void Wrote(const Status& st) {
    writing = false;
    last_write = Steady::now();
    if (!st.ok()) cancel.Cancel();
  }
};

// (GCC 12 miscompiles a co_await inside an `if` condition in this loop: every co_await result is
// first stored in a local.)
Awaitable<void> GuardedSse::KeepAliveLoop(State& s, http::ResponseStream& stream) {
  bool stop = false;
  while (!stop && !s.finished) {
    s.ticker->expires_after(s.keepalive);
    auto [ec] = co_await s.ticker->async_wait(net::as_tuple(net::use_awaitable));
    (void)ec;
    stop = s.finished || s.cancel.cancelled();
    if (!stop && stream.begun() && !s.writing && Steady::now() - s.last_write >= s.keepalive) {
      s.writing = true;
      Status st = co_await s.sse.Comment("keepalive");
      s.Wrote(st);
      stop = !st.ok();
    }
  }
  s.running = false;
  s.exited->cancel();
}

GuardedSse::GuardedSse(http::ResponseStream& stream, std::chrono::milliseconds keepalive)
    : stream_(stream), state_(std::make_unique<State>(stream, keepalive)) {}

GuardedSse::~GuardedSse() = default;

CancelSignal& GuardedSse::cancel() { return state_->cancel; }

Awaitable<Status> GuardedSse::Begin(http::Headers headers) {
  co_await state_->WaitForWriter();
  state_->writing = true;
  Status st = co_await state_->sse.Begin(std::move(headers));
  state_->Wrote(st);
  co_return st;
}

Awaitable<Status> GuardedSse::Send(std::string_view event, std::string data) {
  std::string name(event);  // the caller's view may not outlive the wait below
  co_await state_->WaitForWriter();
  state_->writing = true;
  Status st = co_await state_->sse.Send(name, data);
  state_->Wrote(st);
  co_return st;
}

Awaitable<void> GuardedSse::Start() {
  auto ex = co_await net::this_coro::executor;
  State& s = *state_;
  s.ticker.emplace(ex);
  s.exited.emplace(ex, net::steady_timer::time_point::max());
  s.running = true;
  net::co_spawn(ex, KeepAliveLoop(s, stream_), net::detached);
}

Awaitable<void> GuardedSse::Stop() {
  State& s = *state_;
  s.finished = true;
  if (!s.ticker) co_return;
  s.ticker->cancel();
  while (s.running) {
    auto [ec] = co_await s.exited->async_wait(net::as_tuple(net::use_awaitable));
    (void)ec;
  }
}

}  // namespace gh::api
