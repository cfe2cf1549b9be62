#include "http/server.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "http/errors.h"

namespace gh::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

namespace {

struct Connection {
  explicit Connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  std::atomic<bool> idle{true};
  // Set when a request is refused before its body was read: the close lingers (below).
  bool linger = false;
};

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':')) return false;
  return true;
}

void CopyHeaders(const Headers& from, bhttp::fields& to) {
  for (const auto& [k, v] : from.entries()) to.insert(k, v);
}

class ConnectionStream final : public ResponseStream {
 public:
  ConnectionStream(Connection& c, unsigned version, std::function<bool()> keep_alive,
                   const std::string& request_id, std::chrono::milliseconds write_timeout)
      : c_(c),
        version_(version),
        keep_alive_(keep_alive),
        request_id_(request_id),
        write_timeout_(write_timeout) {}

  Awaitable<Status> Begin(int status, Headers headers) override {
    if (begun_) co_return Status::Internal("response stream already begun");
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), version_};
    CopyHeaders(headers, res.base());
    res.set(bhttp::field::server, "gatehouse");
    res.set("x-request-id", request_id_);
    res.keep_alive(keep_alive_());
    res.chunked(true);
    bhttp::response_serializer<bhttp::empty_body> sr(res);
    c_.stream.expires_after(write_timeout_);
    auto [ec, n] = co_await bhttp::async_write_header(c_.stream, sr, kTuple);
    begun_ = true;
    status_ = status;
    if (ec) {
      gone_ = true;
      co_return Status::Cancelled("client disconnected");
    }
    co_return Status::Ok();
  }

  Awaitable<Status> Write(std::string_view data) override {
    if (!begun_) co_return Status::Internal("response stream not begun");
    if (gone_) co_return Status::Cancelled("client disconnected");
    if (data.empty()) co_return Status::Ok();  // an empty chunk would end the body
    c_.stream.expires_after(write_timeout_);
    auto [ec, n] =
        co_await net::async_write(c_.stream, bhttp::make_chunk(net::buffer(data)), kTuple);
    if (ec) {
      gone_ = true;
      co_return Status::Cancelled("client disconnected");
    }
    bytes_ += data.size();
    co_return Status::Ok();
  }

  Awaitable<Status> End() override {
    if (!begun_ || ended_) co_return Status::Ok();
    ended_ = true;
    if (gone_) co_return Status::Cancelled("client disconnected");
    c_.stream.expires_after(write_timeout_);
    auto [ec, n] = co_await net::async_write(c_.stream, bhttp::make_chunk_last(), kTuple);
    if (ec) {
      gone_ = true;
      co_return Status::Cancelled("client disconnected");
    }
    co_return Status::Ok();
  }

  bool begun() const override { return begun_; }
  bool client_gone() const override { return gone_; }
  CancelSignal* client_left() override { return &left_; }
  // The client closed its side of the connection (see ClientWatch). Only the signal: a streamed
  // answer still goes out to a client that half-closed after its request, and a write that fails
  // says so itself.
  void ClientLeft() { left_.Cancel(); }
  bool ended() const { return ended_; }
  int status() const { return status_; }
  size_t bytes() const { return bytes_; }

 private:
  Connection& c_;
  unsigned version_;
  std::function<bool()> keep_alive_;
  const std::string& request_id_;
  std::chrono::milliseconds write_timeout_;
  bool begun_ = false, ended_ = false, gone_ = false;
  int status_ = 0;
  size_t bytes_ = 0;
  CancelSignal left_;
};

// Watches a connection whose request has been read in full while its handler runs: readable with
// nothing to read is the client's FIN (or a reset), and `stream` hears that the client left. Bytes
// to read are the client's next request (pipelined): the watch ends without a word. Everything
// runs on the connection's single-threaded io_context; Stop() before `stream` goes away.
class ClientWatch : public std::enable_shared_from_this<ClientWatch> {
 public:
  ClientWatch(std::shared_ptr<Connection> conn, ConnectionStream& stream)
      : conn_(std::move(conn)), stream_(&stream) {}
  void Start() {
    conn_->stream.socket().async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this()](beast::error_code ec) { self->OnReadable(ec); });
  }
  // The handler is done: the pending wait is cancelled and a late completion ignored.
  void Stop() {
    if (!stream_) return;
    stream_ = nullptr;
    beast::error_code ignored;
    conn_->stream.socket().cancel(ignored);
  }

 private:
  void OnReadable(beast::error_code ec) {
    if (!stream_ || ec == net::error::operation_aborted) return;
    if (!ec) {
      // A peek that never blocks, leaving the socket's modes (and Asio's view of them) alone: a
      // write of the handler may be waiting on this socket.
      char byte;
      const ssize_t n =
          ::recv(conn_->stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0) return;  // the next request: nothing to watch for any more
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Start();
    }
    stream_->ClientLeft();
    stream_ = nullptr;
  }

  std::shared_ptr<Connection> conn_;
  ConnectionStream* stream_;
};

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Handler& h) : opt(std::move(o)), handler(h) {
    int n = opt.threads > 0 ? opt.threads : std::max(1u, std::thread::hardware_concurrency());
    for (int i = 0; i < n; ++i) {
      ios.push_back(std::make_unique<net::io_context>(1));
      guards.emplace_back(net::make_work_guard(*ios.back()));
    }
    acceptor = std::make_unique<tcp::acceptor>(*ios[0]);
  }

  ServerOptions opt;
  Handler& handler;
  std::vector<std::unique_ptr<net::io_context>> ios;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::signal_set> signals;
  std::function<void(int)> on_signal;
  std::atomic<size_t> next_io{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  mutable std::mutex mu;
  std::set<std::shared_ptr<Connection>> conns;

  void StopAll() {
    if (stopped.exchange(true)) return;
    for (auto& g : guards) g.reset();
    for (auto& io : ios) io->stop();
  }

  void MaybeFinishDrain() {
    if (!draining) return;
    std::lock_guard lock(mu);
    if (conns.empty()) net::post(*ios[0], [this] { StopAll(); });
  }

  net::awaitable<void> AcceptLoop() {
    for (;;) {
      auto& io = *ios[next_io++ % ios.size()];
      auto [ec, sock] = co_await acceptor->async_accept(io, kTuple);
      if (ec) {
        if (draining || ec == net::error::operation_aborted) co_return;
        log::Warn("accept failed", {{"error", ec.message()}});
        continue;
      }
      sock.set_option(tcp::no_delay(true), ec);
      auto conn = std::make_shared<Connection>(std::move(sock));
      {
        std::lock_guard lock(mu);
        conns.insert(conn);
      }
      net::co_spawn(io, Session(conn), net::detached);
    }
  }

  net::awaitable<void> WriteSimple(Connection& c, bhttp::response<bhttp::string_body>& res) {
    res.prepare_payload();
    c.stream.expires_after(opt.read_timeout);
    co_await bhttp::async_write(c.stream, res, kTuple);
  }

  net::awaitable<void> RejectAndClose(Connection& c, unsigned version, int status,
                                      std::string_view code, std::string_view message,
                                      const std::string& request_id) {
    Response r = ErrorResponse(status, code, message);
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), version};
    CopyHeaders(r.headers, res.base());
    res.set("x-request-id", request_id);
    res.keep_alive(false);
    res.body() = r.body;
    c.linger = true;
    co_await WriteSimple(c, res);
    if (opt.access_log)
      log::WriteRaw(fmt::format(
          R"({{"ts":"{}","level":"info","msg":"access","request_id":"{}","status":{},"error_code":"{}"}})",
          FormatNow(), request_id, status, code));
  }

  static std::string FormatNow();

  // A read's deadline. Not the stream's own timeout: that closes the socket, and a 408 could not
  // be sent any more. The timer cancels the read instead (on this connection's thread; `reading`
  // keeps a late expiry from cancelling what comes after the read).
  struct ReadTimer {
    explicit ReadTimer(const net::any_io_executor& ex) : timer(ex) {}
    net::steady_timer timer;
    bool reading = true;
    bool expired = false;
    // The read is over: whether the deadline cut it off.
    bool Disarm() {
      reading = false;
      timer.cancel();
      return expired;
    }
  };
  static std::shared_ptr<ReadTimer> ArmReadTimer(const std::shared_ptr<Connection>& conn,
                                                 std::chrono::milliseconds timeout) {
    conn->stream.expires_never();
    auto t = std::make_shared<ReadTimer>(conn->stream.get_executor());
    t->timer.expires_after(timeout);
    t->timer.async_wait([t, conn](beast::error_code e) {
      if (e || !t->reading) return;
      t->expired = true;
      beast::error_code ignored;
      conn->stream.socket().cancel(ignored);
    });
    return t;
  }

  // Lingering close (as nginx does): a refused request's unread body would make the kernel answer
  // with a reset that can destroy our error response before the client reads it. After our FIN,
  // read and discard what the client still sends, until it closes, for at most 2 s and 16 MiB.
  static net::awaitable<void> LingerBeforeClose(Connection& c) {
    constexpr size_t kMaxBytes = 16u << 20;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::array<char, 16384> scratch;
    size_t total = 0;
    while (total < kMaxBytes) {
      auto left = until - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) break;
      c.stream.expires_after(left);
      auto [ec, n] = co_await c.stream.async_read_some(net::buffer(scratch), kTuple);
      if (ec) break;
      total += n;
    }
  }

  net::awaitable<void> Session(std::shared_ptr<Connection> conn) {
    beast::flat_buffer buffer;
    std::string remote;
    {
      beast::error_code ec;
      auto ep = conn->stream.socket().remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    for (;;) {
      conn->idle = true;
      if (draining) break;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opt.max_header_bytes));
      parser.body_limit(opt.max_body_bytes);
      auto header_timer = ArmReadTimer(conn, opt.idle_timeout);
      auto [ec, n] = co_await bhttp::async_read_header(conn->stream, buffer, parser, kTuple);
      if (header_timer->Disarm()) ec = beast::error::timeout;
      conn->idle = false;
      std::string request_id = OsRandom::Instance().Token(12);
      if (ec) {
        if (ec == beast::error::timeout && buffer.size() > 0)  // a request begun, not finished
          co_await RejectAndClose(*conn, 11, 408, "request_timeout",
                                  "request was not received in time", request_id);
        else if (ec == bhttp::error::header_limit)
          co_await RejectAndClose(*conn, 11, 431, "headers_too_large",
                                  "request headers are too large", request_id);
        else if (ec == bhttp::error::body_limit)
          co_await RejectAndClose(*conn, 11, 413, "payload_too_large",
                                  fmt::format("request body exceeds {} bytes", opt.max_body_bytes),
                                  request_id);
        else if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
                 ec != net::error::operation_aborted && ec != net::error::eof &&
                 ec != net::error::connection_reset && buffer.size() > 0)
          co_await RejectAndClose(*conn, 11, 400, "bad_request", "malformed HTTP request",
                                  request_id);
        break;
      }
      auto start = std::chrono::steady_clock::now();
      auto& hdr = parser.get();
      unsigned version = hdr.version();
      if (auto cl = parser.content_length(); cl && *cl > opt.max_body_bytes) {
        co_await RejectAndClose(*conn, version, 413, "payload_too_large",
                                fmt::format("request body exceeds {} bytes", opt.max_body_bytes),
                                request_id);
        break;
      }
      if (beast::iequals(hdr[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
        co_await bhttp::async_write(conn->stream, cont, kTuple);
      }
      // The body within read_timeout. A body that came with the header (most requests' do) is
      // parsed from the buffer without waiting: no deadline to arm.
      const auto body_length = parser.content_length();
      const bool body_buffered = parser.is_done() || (body_length && buffer.size() >= *body_length);
      auto body_timer = body_buffered ? nullptr : ArmReadTimer(conn, opt.read_timeout);
      auto [ec2, n2] = co_await bhttp::async_read(conn->stream, buffer, parser, kTuple);
      if (body_timer && body_timer->Disarm()) ec2 = beast::error::timeout;
      if (ec2) {
        if (ec2 == bhttp::error::body_limit)
          co_await RejectAndClose(*conn, version, 413, "payload_too_large",
                                  fmt::format("request body exceeds {} bytes", opt.max_body_bytes),
                                  request_id);
        else if (ec2 == beast::error::timeout)
          co_await RejectAndClose(*conn, version, 408, "request_timeout",
                                  "request was not received in time", request_id);
        else if (ec2 != net::error::eof && ec2 != bhttp::error::end_of_stream &&
                 ec2 != net::error::connection_reset)
          co_await RejectAndClose(*conn, version, 400, "bad_request", "malformed HTTP request",
                                  request_id);
        break;
      }
      auto breq = parser.release();
      const bool client_keep_alive = breq.keep_alive();

      Request req;
      req.method = std::string(breq.method_string());
      req.target = std::string(breq.target());
      req.remote_address = remote;
      for (const auto& f : breq)
        req.headers.Add(std::string(f.name_string()), std::string(f.value()));
      req.body = std::move(breq.body());
      if (auto id = req.headers.Get("x-request-id"); id && ValidRequestId(*id))
        request_id = std::string(*id);
      req.request_id = request_id;

      Response resp;
      // Keep-alive is decided when the response goes out: a drain that began meanwhile closes.
      auto keep_alive = [&] { return client_keep_alive && !draining; };
      ConnectionStream stream(*conn, version, keep_alive, req.request_id, opt.read_timeout);
      if (!ParseTarget(req.target, req)) {
        resp = ErrorResponse(400, "bad_request", "request target is not a valid origin-form URL");
      } else {
        conn->stream
            .expires_never();  // handlers may wait on upstreams; writes set their own deadline
        // Nothing of a next request read yet: a readable socket can only be that request or the
        // client leaving, which the watch tells apart.
        struct StopOnExit {
          std::shared_ptr<ClientWatch> watch;
          ~StopOnExit() {
            if (watch) watch->Stop();
          }
        } guard;
        if (buffer.size() == 0) {
          guard.watch = std::make_shared<ClientWatch>(conn, stream);
          guard.watch->Start();
        }
        co_await handler.Handle(req, resp, stream);
      }

      bool write_failed = false;
      size_t bytes_out = 0;
      int status = resp.status;
      if (stream.begun()) {
        if (!stream.ended()) (void)co_await stream.End();
        write_failed = stream.client_gone();
        bytes_out = stream.bytes();
        status = stream.status();
      } else {
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(resp.status), version};
        CopyHeaders(resp.headers, res.base());
        res.set(bhttp::field::server, "gatehouse");
        res.set("x-request-id", req.request_id);
        res.keep_alive(keep_alive());
        bytes_out = resp.body.size();
        if (req.method != "HEAD") res.body() = std::move(resp.body);
        res.prepare_payload();
        conn->stream.expires_after(opt.read_timeout);
        auto [wec, wn] = co_await bhttp::async_write(conn->stream, res, kTuple);
        write_failed = static_cast<bool>(wec);
      }
      if (opt.access_log) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
        std::string line = fmt::format(
            R"({{"ts":"{}","level":"info","msg":"access","request_id":"{}","method":"{}","path":"{}","status":{},"duration_ms":{:.3f},"bytes_in":{},"bytes_out":{},"remote":"{}")",
            FormatNow(), log::JsonEscape(req.request_id), log::JsonEscape(req.method),
            log::JsonEscape(Printable(req.path, 512)), status, us / 1000.0, req.body.size(),
            bytes_out, remote);
        for (const auto& [k, v] : resp.log_fields)
          line += fmt::format(R"(,"{}":"{}")", log::JsonEscape(k), log::JsonEscape(v));
        line += "}";
        log::WriteRaw(line);
      }
      if (!client_keep_alive || write_failed || draining) break;
    }
    beast::error_code ignored;
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (conn->linger) co_await LingerBeforeClose(*conn);
    conn->stream.close();
    {
      std::lock_guard lock(mu);
      conns.erase(conn);
    }
    MaybeFinishDrain();
  }
};

std::string Server::Impl::FormatNow() {
  return FormatRfc3339Millis(std::chrono::system_clock::now());
}

Server::Server(ServerOptions options, Handler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

Server::~Server() = default;

Result<uint16_t> Server::Listen() {
  beast::error_code ec;
  auto addr = net::ip::make_address(impl_->opt.host, ec);
  if (ec) return Status::InvalidArgument("invalid listen address '" + impl_->opt.host + "'");
  tcp::endpoint ep(addr, impl_->opt.port);
  auto& acc = *impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Status::Unavailable(
        fmt::format("cannot listen on {}:{}: {}", impl_->opt.host, impl_->opt.port, ec.message()));
  return acc.local_endpoint().port();
}

void Server::OnSignal(std::function<void(int)> on_signal) {
  impl_->on_signal = std::move(on_signal);
}

void Server::Run() {
  auto& io0 = *impl_->ios[0];
  impl_->signals = std::make_unique<net::signal_set>(io0, SIGTERM, SIGINT);
  std::function<void(const beast::error_code&, int)> on_sig;
  on_sig = [this, &on_sig](const beast::error_code& ec, int sig) {
    if (ec) return;
    log::Info("signal received, draining", {{"signal", sig}});
    if (impl_->on_signal)
      impl_->on_signal(sig);
    else
      Drain();
    impl_->signals->async_wait(on_sig);
  };
  impl_->signals->async_wait(on_sig);
  net::co_spawn(io0, impl_->AcceptLoop(), net::detached);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->ios.size(); ++i)
    threads.emplace_back([io = impl_->ios[i].get()] { io->run(); });
  io0.run();
  impl_->StopAll();
  for (auto& t : threads) t.join();
}

void Server::Drain() {
  if (impl_->draining.exchange(true)) return;
  auto* impl = impl_.get();
  net::post(*impl->ios[0], [impl] {
    beast::error_code ec;
    impl->acceptor->close(ec);
  });
  {
    std::lock_guard lock(impl->mu);
    for (const auto& c : impl->conns)
      net::post(c->stream.get_executor(), [c] {
        if (c->idle) c->stream.socket().cancel();
      });
  }
  auto timer = std::make_shared<net::steady_timer>(*impl->ios[0], impl->opt.drain_timeout);
  timer->async_wait([impl, timer](const beast::error_code& ec) {
    if (ec) return;
    log::Warn("drain timeout reached; closing remaining connections");
    impl->StopAll();
  });
  impl->MaybeFinishDrain();
}

net::any_io_executor Server::executor() { return impl_->ios[0]->get_executor(); }

size_t Server::open_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->conns.size();
}

}  // namespace gh::http
