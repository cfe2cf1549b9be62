#include "http/client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <variant>

namespace gh::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Conn {
  std::variant<std::unique_ptr<beast::tcp_stream>, std::unique_ptr<TlsStream>> s;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() {
    if (auto* p = std::get_if<0>(&s)) return **p;
    return beast::get_lowest_layer(*std::get<1>(s));
  }
  void Close() {
    beast::error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp().close();
  }
};

struct Origin {
  std::string scheme, host, port, host_header;
  bool tls() const { return scheme == "https"; }
  std::string key() const { return fmt::format("{}://{}:{}", scheme, host, port); }
};

Result<std::pair<Origin, std::string>> ParseUrl(const std::string& url) {
  auto u = boost::urls::parse_absolute_uri(url);
  if (!u) return Status::InvalidArgument("invalid URL: " + url);
  Origin o;
  o.scheme = u->scheme();
  if (o.scheme != "http" && o.scheme != "https")
    return Status::InvalidArgument("unsupported URL scheme: " + o.scheme);
  o.host = u->host_address();
  if (o.host.empty()) return Status::InvalidArgument("URL has no host: " + url);
  o.port = u->has_port() ? std::string(u->port()) : (o.tls() ? "443" : "80");
  o.host_header = u->has_port() ? o.host + ":" + o.port : o.host;
  if (u->host_type() == boost::urls::host_type::ipv6)
    o.host_header = std::string(u->encoded_host_and_port());
  std::string target = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) target += "?" + std::string(u->encoded_query());
  return std::make_pair(std::move(o), std::move(target));
}

// Idle connections live in a service of their io_context, so they are destroyed with it and can
// never be handed to another context (or outlive the one whose sockets they hold).
class ConnectionPool final : public net::execution_context::service {
 public:
  using key_type = ConnectionPool;
  static inline net::execution_context::id id;
  explicit ConnectionPool(net::execution_context& ctx) : net::execution_context::service(ctx) {}

  std::unique_ptr<Conn> Take(const std::string& origin) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(origin);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    auto c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }
  void Put(const std::string& origin, std::unique_ptr<Conn> c) {
    std::lock_guard lock(mu_);
    auto& v = idle_[origin];
    if (v.size() < 64) v.push_back(std::move(c));
  }

 private:
  void shutdown() override {
    std::lock_guard lock(mu_);
    idle_.clear();
  }
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
};

class BeastHttpClient final : public HttpClient,
                              public std::enable_shared_from_this<BeastHttpClient> {
 public:
  BeastHttpClient() : tls_(ssl::context::tls_client) {
    tls_.set_default_verify_paths();
    tls_.set_verify_mode(ssl::verify_peer);
  }

  Awaitable<Result<ClientResponse>> Send(ClientRequest request) override {
    std::string body;
    size_t limit = request.max_response_bytes;
    auto sink = [&body, limit](std::string_view chunk) -> Awaitable<Status> {
      if (body.size() + chunk.size() > limit)
        co_return Status::BadGateway("upstream response exceeds the size limit");
      body.append(chunk);
      co_return Status::Ok();
    };
    auto res = co_await Stream(std::move(request), sink, nullptr, nullptr);
    if (!res.ok()) co_return res;
    res->body = std::move(body);
    co_return res;
  }

  Awaitable<Result<ClientResponse>> Stream(ClientRequest request, ChunkSink sink,
                                           CancelSignal* cancel, HeadersSink on_headers) override {
    GH_CO_ASSIGN_OR_RETURN(auto parsed, ParseUrl(request.url));
    auto& [origin, target] = parsed;
    auto ex = co_await net::this_coro::executor;
    ConnectionPool& pool =
        net::use_service<ConnectionPool>(net::query(ex, net::execution::context));
    const std::string key = origin.key();

    // A pooled connection may have been closed by the server; retry once on a fresh one when
    // nothing of the response arrived.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = false;
      std::unique_ptr<Conn> conn = pool.Take(key);
      if (conn)
        reused = true;
      else {
        auto made = co_await Connect(ex, origin, request.timeout);
        if (!made.ok()) co_return made.status();
        conn = std::move(made).value();
      }
      if (cancel && cancel->cancelled()) co_return Status::Cancelled("request cancelled");
      int subscription = cancel ? cancel->Subscribe([c = conn.get()] { c->Close(); }) : 0;
      bool got_response = false, keep_alive = false;
      auto res = co_await Exchange(*conn, origin, target, request, sink, on_headers, got_response,
                                   keep_alive);
      if (cancel) cancel->Unsubscribe(subscription);
      if (cancel && cancel->cancelled()) co_return Status::Cancelled("request cancelled");
      if (!res.ok() && reused && !got_response && attempt == 0) continue;
      if (res.ok() && keep_alive) pool.Put(key, std::move(conn));
      co_return res;
    }
    co_return Status::Internal("unreachable");
  }

 private:
  Awaitable<Result<std::unique_ptr<Conn>>> Connect(net::any_io_executor ex, const Origin& o,
                                                   std::chrono::milliseconds timeout) {
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(o.host, o.port, kTuple);
    if (rec)
      co_return Status::Unavailable(fmt::format("cannot resolve {}: {}", o.host, rec.message()));
    auto conn = std::make_unique<Conn>();
    if (o.tls()) {
      auto s = std::make_unique<TlsStream>(ex, tls_);
      if (!SSL_set_tlsext_host_name(s->native_handle(), o.host.c_str()))
        co_return Status::Unavailable("TLS SNI setup failed");
      s->set_verify_callback(ssl::host_name_verification(o.host));
      conn->s = std::move(s);
    } else {
      conn->s = std::make_unique<beast::tcp_stream>(ex);
    }
    auto& t = conn->tcp();
    t.expires_after(timeout);
    auto [cec, ep] = co_await t.async_connect(results, kTuple);
    if (cec)
      co_return Status::Unavailable(
          fmt::format("cannot connect to {}:{}: {}", o.host, o.port, cec.message()));
    t.socket().set_option(tcp::no_delay(true));
    if (o.tls()) {
      auto [hec] = co_await std::get<1>(conn->s)->async_handshake(ssl::stream_base::client, kTuple);
      if (hec)
        co_return Status::Unavailable(
            fmt::format("TLS handshake with {} failed: {}", o.host, hec.message()));
    }
    co_return std::move(conn);
  }

  template <typename S>
  Awaitable<Result<ClientResponse>> ExchangeOn(S& s, Conn& conn, const Origin& o,
                                               const std::string& target, const ClientRequest& req,
                                               const ChunkSink& sink, const HeadersSink& on_headers,
                                               bool& got_response, bool& keep_alive) {
    bhttp::request<bhttp::string_body> breq{bhttp::string_to_verb(req.method), target, 11};
    if (breq.method() == bhttp::verb::unknown) breq.method_string(req.method);
    breq.set(bhttp::field::host, o.host_header);
    breq.set(bhttp::field::user_agent, "gatehouse");
    for (const auto& [k, v] : req.headers.entries()) breq.set(k, v);
    breq.body() = req.body;
    breq.keep_alive(true);
    breq.prepare_payload();
    auto& t = conn.tcp();
    t.expires_after(req.timeout);
    auto [wec, wn] = co_await bhttp::async_write(s, breq, kTuple);
    if (wec)
      co_return Status::Unavailable(fmt::format("sending to {} failed: {}", o.host, wec.message()));

    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    parser.header_limit(64 * 1024);
    auto [hec, hn] = co_await bhttp::async_read_header(s, conn.buffer, parser, kTuple);
    if (hec) {
      if (hec == beast::error::timeout)
        co_return Status::DeadlineExceeded(fmt::format("{} did not answer in time", o.host));
      co_return Status::Unavailable(
          fmt::format("reading from {} failed: {}", o.host, hec.message()));
    }
    got_response = true;
    ClientResponse out;
    out.status = static_cast<int>(parser.get().result_int());
    for (const auto& f : parser.get())
      out.headers.Add(std::string(f.name_string()), std::string(f.value()));
    keep_alive = parser.get().keep_alive();
    if (on_headers) on_headers(out);
    char buf[16 * 1024];
    while (!parser.is_done()) {
      parser.get().body().data = buf;
      parser.get().body().size = sizeof buf;
      t.expires_after(req.idle_timeout);
      // async_read_some returns as soon as some body bytes are parsed, so each chunk of a stream
      // reaches the sink when it arrives (async_read would wait for a full buffer), and the idle
      // timeout measures the gap between chunks.
      auto [rec, rn] = co_await bhttp::async_read_some(s, conn.buffer, parser, kTuple);
      if (rec && rec != bhttp::error::need_buffer) {
        keep_alive = false;
        if (rec == beast::error::timeout)
          co_return Status::DeadlineExceeded(
              fmt::format("{} stalled while sending the response", o.host));
        co_return Status::Unavailable(
            fmt::format("reading from {} failed: {}", o.host, rec.message()));
      }
      size_t got = sizeof buf - parser.get().body().size;
      if (got > 0) {
        Status st = co_await sink(std::string_view(buf, got));
        if (!st.ok()) {
          keep_alive = false;
          conn.Close();
          co_return st;
        }
      }
    }
    co_return out;
  }

  Awaitable<Result<ClientResponse>> Exchange(Conn& conn, const Origin& o, const std::string& target,
                                             const ClientRequest& req, const ChunkSink& sink,
                                             const HeadersSink& on_headers, bool& got_response,
                                             bool& keep_alive) {
    keep_alive = false;
    if (auto* p = std::get_if<0>(&conn.s))
      co_return co_await ExchangeOn(**p, conn, o, target, req, sink, on_headers, got_response,
                                    keep_alive);
    co_return co_await ExchangeOn(*std::get<1>(conn.s), conn, o, target, req, sink, on_headers,
                                  got_response, keep_alive);
  }

  ssl::context tls_;
};

}  // namespace

std::shared_ptr<HttpClient> MakeBeastHttpClient() { return std::make_shared<BeastHttpClient>(); }

}  // namespace gh::http
