// A mock OpenAI-compatible Chat Completions server for the gateway benchmark
// (bench/gateway/run.sh). POST <any prefix>/chat/completions answers, streaming (`"stream": true`:
// SSE chat.completion.chunk frames, the finish chunk, a usage chunk when
// `stream_options.include_usage`, then `[DONE]`) or not (one chat.completion object), after a
// configurable latency and at a configurable token rate: token i (from 0) is due at arrival +
// latency + i / tokens_per_second, on absolute deadlines so timer jitter does not accumulate. With
// tokens_per_second 0 every token is due at once and the whole stream goes out in one write. GET
// /health answers 200.
//
// Defaults come from the command line; one request may override them with a directive anywhere in
// its body, e.g. a user message "hello [mock latency_ms=50 tokens=20 tps=20]", so one mock (and the
// Gatehouse and nginx in front of it) serves every scenario of a run.
//
// Usage: mock_upstream [--listen HOST:PORT] [--threads N] [--latency-ms N] [--tokens N]
//                      [--tokens-per-second N]
// Prints "listening <port>" on stdout once it accepts connections (port 0 picks a free one).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace bj = boost::json;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

namespace {

struct Profile {
  int64_t latency_ms = 0;
  int64_t tokens = 16;
  int64_t tokens_per_second = 0;
};

Profile g_defaults;

int64_t ParseInt(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// "[mock latency_ms=50 tokens=20 tps=20]" anywhere in the body overrides the defaults.
Profile ProfileFor(std::string_view body) {
  Profile p = g_defaults;
  size_t at = body.find("[mock ");
  if (at == std::string_view::npos) return p;
  size_t end = body.find(']', at);
  if (end == std::string_view::npos) return p;
  std::string_view spec = body.substr(at + 6, end - at - 6);
  while (!spec.empty()) {
    size_t sp = spec.find(' ');
    std::string_view item = spec.substr(0, sp);
    spec = sp == std::string_view::npos ? std::string_view() : spec.substr(sp + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = item.substr(0, eq);
    int64_t v = ParseInt(item.substr(eq + 1));
    if (key == "latency_ms")
      p.latency_ms = v;
    else if (key == "tokens")
      p.tokens = std::max<int64_t>(1, v);
    else if (key == "tps")
      p.tokens_per_second = v;
  }
  return p;
}

std::string Token(int64_t i) { return i == 0 ? "Hello" : " word" + std::to_string(i % 10); }

std::string ChunkFrame(const std::string& head, std::string_view delta_json,
                       std::string_view finish) {
  std::string f = "data: ";
  f += head;
  f += R"("choices":[{"index":0,"delta":)";
  f += delta_json;
  f += R"(,"finish_reason":)";
  f += finish;
  f += "}]}\n\n";
  return f;
}

std::string ContentFrame(const std::string& head, int64_t i) {
  return ChunkFrame(head, R"({"content":")" + Token(i) + R"("})", "null");
}

std::string TailFrames(const std::string& head, bool usage, int64_t prompt, int64_t completion) {
  std::string f = ChunkFrame(head, "{}", R"("stop")");
  if (usage)
    f += "data: " + head + R"("choices":[],"usage":{"prompt_tokens":)" + std::to_string(prompt) +
         R"(,"completion_tokens":)" + std::to_string(completion) + R"(,"total_tokens":)" +
         std::to_string(prompt + completion) + "}}\n\n";
  f += "data: [DONE]\n\n";
  return f;
}

struct Parsed {
  bool stream = false, include_usage = false;
  std::string model = "mock-model";
};

Parsed ParseBody(const std::string& body) {
  Parsed p;
  boost::system::error_code ec;
  bj::value v = bj::parse(body, ec);
  if (ec || !v.is_object()) return p;
  const auto& o = v.get_object();
  if (auto* s = o.if_contains("stream"); s && s->is_bool()) p.stream = s->get_bool();
  if (auto* m = o.if_contains("model"); m && m->is_string()) p.model = std::string(m->get_string());
  if (auto* so = o.if_contains("stream_options"); so && so->is_object())
    if (auto* u = so->get_object().if_contains("include_usage"); u && u->is_bool())
      p.include_usage = u->get_bool();
  return p;
}

net::awaitable<bool> WriteChunk(beast::tcp_stream& s, const std::string& data) {
  auto [ec, n] = co_await net::async_write(s, bhttp::make_chunk(net::buffer(data)), kTuple);
  co_return !ec;
}

// Answers one completion; returns false when the connection is to be closed.
net::awaitable<bool> Complete(beast::tcp_stream& s, const bhttp::request<bhttp::string_body>& req) {
  const auto arrived = SteadyClock::now();
  const Profile prof = ProfileFor(req.body());
  const Parsed body = ParseBody(req.body());
  const int64_t prompt_tokens = static_cast<int64_t>(req.body().size() / 4);
  const auto first_due = arrived + std::chrono::milliseconds(prof.latency_ms);
  const auto gap = prof.tokens_per_second > 0
                       ? std::chrono::nanoseconds(1'000'000'000 / prof.tokens_per_second)
                       : std::chrono::nanoseconds(0);
  net::steady_timer timer(s.get_executor());
  const std::string id = "chatcmpl-mock";

  if (!body.stream) {
    timer.expires_at(first_due + gap * (prof.tokens - 1));
    co_await timer.async_wait(kTuple);
    std::string text;
    for (int64_t i = 0; i < prof.tokens; ++i) text += Token(i);
    bj::object out{
        {"id", id},
        {"object", "chat.completion"},
        {"created", 1700000000},
        {"model", body.model},
        {"choices",
         bj::array{bj::object{{"index", 0},
                              {"message", bj::object{{"role", "assistant"}, {"content", text}}},
                              {"finish_reason", "stop"}}}},
        {"usage", bj::object{{"prompt_tokens", prompt_tokens},
                             {"completion_tokens", prof.tokens},
                             {"total_tokens", prompt_tokens + prof.tokens}}}};
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = bj::serialize(out);
    res.prepare_payload();
    auto [ec, n] = co_await bhttp::async_write(s, res, kTuple);
    co_return !ec && req.keep_alive();
  }

  const std::string head = R"({"id":")" + id +
                           R"(","object":"chat.completion.chunk","created":1700000000,"model":")" +
                           body.model + R"(",)";
  bhttp::response<bhttp::empty_body> res{bhttp::status::ok, req.version()};
  res.set(bhttp::field::content_type, "text/event-stream");
  res.set(bhttp::field::cache_control, "no-cache");
  res.keep_alive(req.keep_alive());
  res.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> sr(res);
  auto [hec, hn] = co_await bhttp::async_write_header(s, sr, kTuple);
  if (hec) co_return false;

  const std::string role = ChunkFrame(head, R"({"role":"assistant","content":""})", "null");
  const std::string tail = TailFrames(head, body.include_usage, prompt_tokens, prof.tokens);
  if (gap.count() == 0) {
    if (prof.latency_ms > 0) {
      timer.expires_at(first_due);
      co_await timer.async_wait(kTuple);
    }
    std::string all = role;
    for (int64_t i = 0; i < prof.tokens; ++i) all += ContentFrame(head, i);
    all += tail;
    bool written = co_await WriteChunk(s, all);
    if (!written) co_return false;
  } else {
    for (int64_t i = 0; i < prof.tokens; ++i) {
      timer.expires_at(first_due + gap * i);
      co_await timer.async_wait(kTuple);
      std::string frame = i == 0 ? role + ContentFrame(head, i) : ContentFrame(head, i);
      if (i == prof.tokens - 1) frame += tail;
      bool written = co_await WriteChunk(s, frame);
      if (!written) co_return false;
    }
  }
  auto [lec, ln] = co_await net::async_write(s, bhttp::make_chunk_last(), kTuple);
  co_return !lec && req.keep_alive();
}

net::awaitable<void> Session(tcp::socket socket) {
  beast::tcp_stream s(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request<bhttp::string_body> req;
    auto [ec, n] = co_await bhttp::async_read(s, buffer, req, kTuple);
    if (ec) break;
    bool keep = false;
    if (req.method() == bhttp::verb::post && req.target().ends_with("/chat/completions")) {
      keep = co_await Complete(s, req);
    } else {
      bhttp::response<bhttp::string_body> res{
          req.target() == "/health" ? bhttp::status::ok : bhttp::status::not_found, req.version()};
      res.set(bhttp::field::content_type, "text/plain");
      res.body() = req.target() == "/health" ? "ok\n" : "not found\n";
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await bhttp::async_write(s, res, kTuple);
      keep = !wec && req.keep_alive();
    }
    if (!keep) break;
  }
  beast::error_code ignored;
  s.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

net::awaitable<void> Accept(tcp::acceptor& acceptor,
                            std::vector<std::unique_ptr<net::io_context>>& ios) {
  size_t next = 0;
  for (;;) {
    auto& io = *ios[next++ % ios.size()];
    auto [ec, sock] = co_await acceptor.async_accept(io, kTuple);
    if (ec) {
      if (ec == net::error::operation_aborted) co_return;
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    net::co_spawn(io, Session(std::move(sock)), net::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  int threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view k = argv[i], v = argv[i + 1];
    if (k == "--listen")
      listen = std::string(v);
    else if (k == "--threads")
      threads = std::max<int>(1, static_cast<int>(ParseInt(v)));
    else if (k == "--latency-ms")
      g_defaults.latency_ms = ParseInt(v);
    else if (k == "--tokens")
      g_defaults.tokens = std::max<int64_t>(1, ParseInt(v));
    else if (k == "--tokens-per-second")
      g_defaults.tokens_per_second = ParseInt(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "--listen must be HOST:PORT\n");
    return 2;
  }
  std::vector<std::unique_ptr<net::io_context>> ios;
  for (int i = 0; i < threads; ++i) ios.push_back(std::make_unique<net::io_context>(1));
  tcp::endpoint ep(
      net::ip::make_address(listen.substr(0, colon)),
      static_cast<unsigned short>(ParseInt(std::string_view(listen).substr(colon + 1))));
  tcp::acceptor acceptor(*ios[0]);
  acceptor.open(ep.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(net::socket_base::max_listen_connections);
  std::printf("listening %u\n", acceptor.local_endpoint().port());
  std::fflush(stdout);

  net::signal_set signals(*ios[0], SIGTERM, SIGINT);
  signals.async_wait([&](const beast::error_code&, int) {
    for (auto& io : ios) io->stop();
  });
  net::co_spawn(*ios[0], Accept(acceptor, ios), net::detached);
  std::vector<std::thread> pool;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  for (auto& io : ios) guards.emplace_back(net::make_work_guard(*io));
  for (size_t i = 1; i < ios.size(); ++i) pool.emplace_back([io = ios[i].get()] { io->run(); });
  ios[0]->run();
  for (auto& io : ios) io->stop();
  for (auto& t : pool) t.join();
  return 0;
}
