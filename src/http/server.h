// Server: HTTP/1.1 on Boost.Beast with C++20 coroutines. One io_context and one thread per
// worker (default: one per core); the acceptor hands each connection to the next worker.
// Keep-alive, header/body size limits (431/413), read and idle timeouts, X-Request-Id, one JSON
// access-log line per request, chunked responses for streams, and a graceful drain: Drain() stops
// accepting, closes idle connections and lets in-flight requests (streams included) finish.
//
// The server knows nothing of routes or tenants: it hands each parsed Request to a Handler.
// Thread-safety: Start/Run/Drain may be called from any thread; Handler::Handle runs on the
// connection's worker thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "http/message.h"
#include "http/stream.h"

namespace boost::asio {
class any_io_executor;
}

namespace gh::http {

class Handler {
 public:
  virtual ~Handler() = default;
  // Fills `response`, or sends its own via `stream` (then `response` is ignored).
  virtual Awaitable<void> Handle(Request& request, Response& response, ResponseStream& stream) = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8000;  // 0 picks a free port
  int threads = 0;       // 0 = hardware concurrency
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{30'000};
  bool access_log = true;
};

class Server {
 public:
  Server(ServerOptions options, Handler& handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound port.
  Result<uint16_t> Listen();
  // Runs the workers until drained or stopped; blocks the calling thread.
  void Run();
  // Begins a graceful drain; Run() returns once in-flight requests finished (or the drain timed
  // out).
  void Drain();
  // Calls `on_signal` when SIGTERM or SIGINT arrives (from inside Run()).
  void OnSignal(std::function<void(int)> on_signal);
  // An executor of one worker, for background tasks.
  boost::asio::any_io_executor executor();
  size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gh::http
