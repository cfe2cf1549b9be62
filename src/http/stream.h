// ResponseStream: how a handler sends a response whose body is produced over time (chunked
// transfer encoding, Server-Sent Events). The server owns the stream; a handler borrows it for
// the duration of its coroutine. Calls must come from the connection's executor, one at a time.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include "common/cancel.h"
#include "common/status.h"
#include "http/message.h"

namespace gh::http {

template <typename T>
using Awaitable = boost::asio::awaitable<T>;

class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Sends the status line and headers (chunked). Call at most once, before Write.
  virtual Awaitable<Status> Begin(int status, Headers headers) = 0;
  // Sends one chunk now (no buffering). Fails with kCancelled once the client has gone.
  virtual Awaitable<Status> Write(std::string_view data) = 0;
  // Sends the last chunk.
  virtual Awaitable<Status> End() = 0;
  virtual bool begun() const = 0;
  virtual bool client_gone() const = 0;
  // Fires when the server sees the client close its connection while the handler runs, before
  // anything was written (a handler that answers only at the end, such as a non-streaming
  // completion, has no failed write to tell it); null where nobody watches. A client that
  // half-closes its side after sending the request counts as gone, as nginx's 499 has it.
  virtual CancelSignal* client_left() { return nullptr; }
};

// Server-Sent Events framing on top of a ResponseStream.
class SseWriter {
 public:
  explicit SseWriter(ResponseStream& stream) : stream_(stream) {}
  Awaitable<Status> Begin(Headers extra = {});
  // `data` is sent as one or more `data:` lines.
  Awaitable<Status> Send(std::string_view event, std::string_view data);
  Awaitable<Status> Comment(std::string_view text);
  Awaitable<Status> End() { return stream_.End(); }
  ResponseStream& stream() { return stream_; }

 private:
  ResponseStream& stream_;
};

std::string FormatSseEvent(std::string_view event, std::string_view data);

}  // namespace gh::http
