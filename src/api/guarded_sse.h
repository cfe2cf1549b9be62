// GuardedSse: one Server-Sent Events answer shared by the code producing it and a keep-alive.
// Writes never interleave; when the stream has been quiet for `keepalive`, a comment line goes out,
// so a client that left is noticed even while the model is still thinking; and the first failed
// write fires `cancel()`, which stops the upstream model call (usage is then settled on what was
// consumed). Everything runs on the request's executor: no locks.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/cancel.h"
#include "common/status.h"
#include "http/stream.h"

namespace gh::api {

class GuardedSse {
 public:
  GuardedSse(http::ResponseStream& stream, std::chrono::milliseconds keepalive);
  ~GuardedSse();
  GuardedSse(const GuardedSse&) = delete;
  GuardedSse& operator=(const GuardedSse&) = delete;

  CancelSignal& cancel();
  bool begun() const { return stream_.begun(); }

  http::Awaitable<Status> Begin(http::Headers headers);
  // `event` empty: a bare `data:` frame (the OpenAI wire format).
  http::Awaitable<Status> Send(std::string_view event, std::string data);

  // Starts the keep-alive on the current executor; Stop() ends it and waits until it has.
  // Every Start() must be followed by a Stop() before the GuardedSse goes away.
  http::Awaitable<void> Start();
  http::Awaitable<void> Stop();

 private:
  struct State;
  static http::Awaitable<void> KeepAliveLoop(State& s, http::ResponseStream& stream);
  http::ResponseStream& stream_;
  std::unique_ptr<State> state_;
};

}  // namespace gh::api
