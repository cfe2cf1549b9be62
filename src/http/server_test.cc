#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "http/client.h"
#include "http/errors.h"

namespace gh::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// A handler that echoes, streams, or waits, depending on the path.
class TestHandler : public Handler {
 public:
  std::atomic<bool> client_saw_first{false};
  std::atomic<bool> saw_before_second{false};
  std::atomic<bool> watched_left{false};
  std::atomic<int> watches_done{0};

  Awaitable<void> Handle(Request& req, Response& resp, ResponseStream& stream) override {
    if (req.path == "/handshake") {
      // Sends one chunk, then waits (up to 5 s) until the client says it received it.
      (void)co_await stream.Begin(200, {});
      (void)co_await stream.Write("first");
      net::steady_timer t(co_await net::this_coro::executor);
      for (int i = 0; i < 500 && !client_saw_first; ++i) {
        t.expires_after(std::chrono::milliseconds(10));
        co_await t.async_wait(net::use_awaitable);
      }
      saw_before_second = client_saw_first.load();
      (void)co_await stream.Write("second");
      co_return;
    }
    if (req.path == "/stream") {
      SseWriter sse(stream);
      (void)co_await sse.Begin();
      for (int i = 0; i < 3; ++i)
        (void)co_await sse.Send("delta", "{\"i\":" + std::to_string(i) + "}");
      co_return;
    }
    if (req.path == "/slow") {
      net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(300));
      co_await t.async_wait(net::use_awaitable);
      resp = Response::Json(200, R"({"slow":true})");
      co_return;
    }
    if (req.path == "/watch") {
      // Waits up to ?ms= for the server to say the client left, and answers whether it did.
      CancelSignal* left = stream.client_left();
      const int ms = std::stoi(std::string(req.Query("ms").value_or("2000")));
      net::steady_timer t(co_await net::this_coro::executor);
      for (int waited = 0; waited < ms && left && !left->cancelled(); waited += 10) {
        t.expires_after(std::chrono::milliseconds(10));
        co_await t.async_wait(net::use_awaitable);
      }
      const bool gone = left && left->cancelled();
      watched_left = gone;
      watches_done.fetch_add(1);
      resp = Response::Json(200, gone ? R"({"left":true})" : R"({"left":false})");
      co_return;
    }
    if (req.path == "/error") {
      resp = ErrorResponse(Status::Internal("secret database path /var/x"));
      co_return;
    }
    std::string q(req.Query("q").value_or(""));
    resp = Response::Json(200, "{\"method\":\"" + req.method + "\",\"path\":\"" + req.path +
                                   "\",\"q\":\"" + q +
                                   "\",\"body\":" + std::to_string(req.body.size()) + "}");
  }
};

class ServerTest : public ::testing::Test {
 protected:
  virtual ServerOptions Options() {
    ServerOptions opt;
    opt.port = 0;
    opt.threads = 2;
    opt.max_body_bytes = 1000;
    opt.max_header_bytes = 2000;
    opt.access_log = false;
    opt.drain_timeout = std::chrono::milliseconds(5000);
    return opt;
  }
  void SetUp() override {
    server_ = std::make_unique<Server>(Options(), handler_);
    auto port = server_->Listen();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    server_->Drain();
    thread_.join();
  }

  // Sends raw bytes and reads until the server closes or `until` appears.
  std::string Raw(const std::string& bytes, const std::string& until = "") {
    net::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    net::write(s, net::buffer(bytes));
    return ReadUntil(s, until);
  }
  // Reads until the server closes or `until` (when not empty) appears.
  static std::string ReadUntil(tcp::socket& s, const std::string& until = "") {
    std::string out;
    char buf[4096];
    boost::system::error_code ec;
    for (;;) {
      size_t n = s.read_some(net::buffer(buf), ec);
      out.append(buf, n);
      if (ec) break;
      if (!until.empty() && out.find(until) != std::string::npos) break;
    }
    return out;
  }

  TestHandler handler_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, AnswersAndKeepsTheConnectionAlive) {
  std::string two =
      "GET /a?q=x%20y HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\nConnection: "
      "close\r\n\r\n";
  std::string out = Raw(two);
  EXPECT_NE(out.find(R"("path":"/a","q":"x y")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("path":"/b")"), std::string::npos) << out;
  EXPECT_NE(out.find("x-request-id: "), std::string::npos);
}

TEST_F(ServerTest, AcceptsAWellFormedRequestIdAndReplacesABadOne) {
  std::string out =
      Raw("GET / HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc-123\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("x-request-id: abc-123"), std::string::npos) << out;
  out = Raw("GET / HTTP/1.1\r\nHost: t\r\nX-Request-Id: bad id\"\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.find("bad id"), std::string::npos) << out;
}

TEST_F(ServerTest, RejectsAnOversizedBodyWith413BeforeReadingIt) {
  std::string out = Raw("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find(R"("code":"payload_too_large")"), std::string::npos);
}

// The client is still sending its body when the 413 goes out: the server keeps reading (and
// discarding) what arrives instead of closing on unread bytes, which would reset the connection
// and could destroy the response before the client reads it.
TEST_F(ServerTest, TheClientStillSendingAnOversizedBodyReadsThe413) {
  net::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  net::write(
      s, net::buffer(std::string("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 400000\r\n\r\n")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the 413 is out by now
  std::string piece(16384, 'x');
  boost::system::error_code ec;
  for (int i = 0; i < 24 && !ec; ++i) {
    net::write(s, net::buffer(piece), ec);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_FALSE(ec) << "the server reset the connection while the client was sending: "
                   << ec.message();
  s.shutdown(tcp::socket::shutdown_send, ec);
  std::string out;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(net::buffer(buf), ec);
    out.append(buf, n);
    if (ec) break;
  }
  EXPECT_EQ(ec, net::error::eof) << ec.message();
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
  EXPECT_NE(out.find(R"("code":"payload_too_large")"), std::string::npos) << out;
}

// The server with a short read_timeout, and one connection to it.
class ServerTimeoutTest : public ServerTest {
 protected:
  ServerOptions Options() override {
    ServerOptions opt = ServerTest::Options();
    opt.read_timeout = std::chrono::milliseconds(500);
    opt.idle_timeout = std::chrono::milliseconds(500);
    return opt;
  }
  void SetUp() override {
    ServerTest::SetUp();
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  }
  void Send(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }
  std::string ReadToEnd() { return ReadUntil(socket_); }  // until the server closes

  net::io_context io_;
  tcp::socket socket_{io_};
};

// A body that does not arrive within read_timeout gets a 408 (not just a closed connection).
TEST_F(ServerTimeoutTest, ABodyThatStopsArrivingGets408) {
  Send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly ten b");
  const std::string out = ReadToEnd();  // the client sends nothing more
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_NE(out.find(R"("code":"request_timeout")"), std::string::npos) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
}

// Headers begun and not finished within the idle timeout (a slow-loris client) get a 408 too.
TEST_F(ServerTimeoutTest, AnUnfinishedRequestHeaderGets408) {
  Send("GET / HTTP/1.1\r\nHost: t\r\n");
  const std::string out = ReadToEnd();
  EXPECT_EQ(out.rfind("HTTP/1.1 408", 0), 0u) << out;
  EXPECT_NE(out.find(R"("code":"request_timeout")"), std::string::npos) << out;
}

// A keep-alive connection that sends nothing is closed quietly: there is no request to answer.
TEST_F(ServerTimeoutTest, AnIdleConnectionIsClosedWithoutAResponse) { EXPECT_EQ(ReadToEnd(), ""); }

// A body that arrives in time is not cut off by the timer (a slow but steady client).
TEST_F(ServerTimeoutTest, ABodyArrivingInPiecesWithinTheTimeoutIsRead) {
  Send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\nConnection: close\r\n\r\n0123456789");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Send("abcdefghij");
  const std::string out = ReadToEnd();
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find(R"("body":20)"), std::string::npos) << out;
}

TEST_F(ServerTest, RejectsAnOversizedChunkedBodyWith413) {
  std::string chunk(900, 'a');
  std::string req = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n384\r\n" +
                    chunk + "\r\n384\r\n" + chunk + "\r\n0\r\n\r\n";
  std::string out = Raw(req);
  EXPECT_EQ(out.rfind("HTTP/1.1 413", 0), 0u) << out;
}

TEST_F(ServerTest, RejectsOversizedHeadersWith431) {
  std::string out =
      Raw("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(3000, 'a') + "\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out;
}

TEST_F(ServerTest, RejectsGarbageWith400) {
  std::string out = Raw("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
}

TEST_F(ServerTest, InternalErrorsDoNotLeakDetails) {
  std::string out = Raw("GET /error HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 500", 0), 0u) << out;
  EXPECT_EQ(out.find("/var/x"), std::string::npos) << out;
  EXPECT_NE(out.find(R"({"error":{"code":"internal","message":"internal server error"}})"),
            std::string::npos);
}

TEST_F(ServerTest, StreamsServerSentEventsChunked) {
  std::string out = Raw("GET /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("Transfer-Encoding: chunked"), std::string::npos) << out;
  EXPECT_NE(out.find("content-type: text/event-stream"), std::string::npos) << out;
  EXPECT_NE(out.find("event: delta\ndata: {\"i\":2}\n\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n0\r\n\r\n"), std::string::npos) << out;
}

TEST_F(ServerTest, ClientStreamsAndReusesConnections) {
  auto client = MakeBeastHttpClient();
  net::io_context io;
  std::string url = "http://127.0.0.1:" + std::to_string(port_);
  auto fut = net::co_spawn(
      io,
      [&]() -> Awaitable<std::vector<std::string>> {
        std::vector<std::string> chunks;
        ClientRequest req;
        req.url = url + "/stream";
        auto res = co_await client->Stream(req, [&](std::string_view c) -> Awaitable<Status> {
          chunks.emplace_back(c);
          co_return Status::Ok();
        });
        EXPECT_TRUE(res.ok());
        EXPECT_EQ(res->status, 200);
        ClientRequest post;
        post.method = "POST";
        post.url = url + "/echo?q=1";
        post.body = "hello";
        for (int i = 0; i < 3; ++i) {
          auto r = co_await client->Send(post);
          EXPECT_TRUE(r.ok());
          EXPECT_EQ(r->body, R"({"method":"POST","path":"/echo","q":"1","body":5})");
        }
        co_return chunks;
      },
      net::use_future);
  io.run();
  auto chunks = fut.get();
  std::string all;
  for (auto& c : chunks) all += c;
  EXPECT_EQ(all,
            "event: delta\ndata: {\"i\":0}\n\nevent: delta\ndata: {\"i\":1}\n\nevent: delta\ndata: "
            "{\"i\":2}\n\n");
  EXPECT_LE(server_->open_connections(), 2u);
}

TEST_F(ServerTest, TheClientDeliversEachChunkAsItArrives) {
  auto client = MakeBeastHttpClient();
  net::io_context io;
  std::vector<std::string> chunks;
  net::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        ClientRequest req;
        req.url = "http://127.0.0.1:" + std::to_string(port_) + "/handshake";
        auto res = co_await client->Stream(req, [&](std::string_view c) -> Awaitable<Status> {
          chunks.emplace_back(c);
          if (c.find("first") != std::string_view::npos) handler_.client_saw_first = true;
          co_return Status::Ok();
        });
        EXPECT_TRUE(res.ok());
      },
      net::detached);
  io.run();
  EXPECT_TRUE(handler_.saw_before_second.load())
      << "the first chunk was held back until more arrived";
  ASSERT_GE(chunks.size(), 2u);
}

// A client that closes its connection while its answer is being prepared (nothing written yet,
// as for a non-streaming completion) is noticed: the handler's client_left() fires, so the work
// can be cancelled.
TEST_F(ServerTest, AClientThatClosesWhileItsAnswerIsPreparedIsNoticed) {
  {
    net::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    net::write(s, net::buffer(std::string("GET /watch?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }  // closed
  for (int i = 0; i < 400 && handler_.watches_done == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(handler_.watches_done, 1);
  EXPECT_TRUE(handler_.watched_left);
}

// A client that waits for its answer is not taken for gone, nor is one whose next request
// (pipelined) arrives while the first is prepared: both answers come, in order.
TEST_F(ServerTest, AClientWaitingOrSendingItsNextRequestIsNotTakenForGone) {
  net::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  net::write(s, net::buffer(std::string("GET /watch?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  net::write(s, net::buffer(std::string("GET /echo?q=next HTTP/1.1\r\nHost: t\r\n\r\n")));
  std::string out = ReadUntil(s, "\"q\":\"next\"");
  EXPECT_NE(out.find(R"({"left":false})"), std::string::npos) << out;
  EXPECT_LT(out.find(R"({"left":false})"), out.find(R"("q":"next")")) << out;
  EXPECT_EQ(handler_.watches_done, 1);
  EXPECT_FALSE(handler_.watched_left);
  // And with the connection kept open and idle: still not gone.
  net::write(s, net::buffer(std::string("GET /watch?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n")));
  out = ReadUntil(s, "}");
  EXPECT_NE(out.find(R"({"left":false})"), std::string::npos) << out;
}

// A client that half-closes its side once its request is sent (it sends nothing more) still gets
// a streamed answer whole: the watch only signals, it does not fail the stream's writes.
TEST_F(ServerTest, AClientThatHalfClosesAfterItsRequestStillGetsItsStream) {
  net::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  net::write(s, net::buffer(std::string("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")));
  s.shutdown(tcp::socket::shutdown_send);
  std::string out = ReadUntil(s, "0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  for (int i = 0; i < 3; ++i)
    EXPECT_NE(out.find("{\"i\":" + std::to_string(i) + "}"), std::string::npos) << out;
}

TEST_F(ServerTest, DrainLetsInFlightRequestsFinish) {
  std::promise<std::string> got;
  std::thread t(
      [&] { got.set_value(Raw("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n", "{\"slow\":true}")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_->Drain();
  std::string out = got.get_future().get();
  t.join();
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
}

}  // namespace
}  // namespace gh::http
