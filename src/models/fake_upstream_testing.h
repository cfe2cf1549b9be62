// Test support for the provider tests (header-only, test targets only): FakeUpstream hosts an
// in-process gh::http::Server on a loopback port 0 that answers with scripted replies, streamed
// chunk by chunk exactly as given, and records every request our client sent. RunGenerate drives
// a Model's coroutine to completion on a private io_context. SigV4 and event-stream helpers let
// tests speak AWS's wire format and check signatures by recomputing them.
// Thread-safety: FakeUpstream's recorder is guarded by a mutex (the server runs on its own thread).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/model.h"
#include "aws/eventstream.h"
#include "aws/sigv4.h"
#include "common/strings.h"
#include "http/server.h"

namespace gh::models::testing {

namespace net = boost::asio;
using agent::Awaitable;

struct ScriptedReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> chunks;  // each one written (and flushed) on its own
  std::chrono::milliseconds pause_between_chunks{0};
};

struct ReceivedRequest {
  std::string method;
  std::string target;  // as it arrived on the request line (still percent-encoded)
  http::Headers headers;
  std::string body;
};

class FakeUpstream final : public http::Handler {
 public:
  FakeUpstream() {
    http::ServerOptions opt;
    opt.port = 0;
    opt.threads = 1;
    opt.access_log = false;
    opt.drain_timeout = std::chrono::milliseconds(2000);
    server_ = std::make_unique<http::Server>(opt, *this);
    auto port = server_->Listen();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    port_ = port.ok() ? *port : 0;
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~FakeUpstream() override {
    server_->Drain();
    thread_.join();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Replies are used in order; once they run out, the last one repeats.
  void Enqueue(ScriptedReply reply) {
    std::lock_guard lock(mu_);
    replies_.push_back(std::move(reply));
  }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  ReceivedRequest last_request() const {
    std::lock_guard lock(mu_);
    return received_.empty() ? ReceivedRequest{} : received_.back();
  }

  Awaitable<void> Handle(http::Request& req, http::Response& resp,
                         http::ResponseStream& stream) override {
    ScriptedReply reply;
    {
      std::lock_guard lock(mu_);
      received_.push_back({req.method, req.target, req.headers, req.body});
      if (!replies_.empty()) {
        last_reply_ = std::move(replies_.front());
        replies_.pop_front();
      }
      reply = last_reply_;
    }
    http::Headers headers;
    for (const auto& [k, v] : reply.headers) headers.Set(k, v);
    if (!(co_await stream.Begin(reply.status, headers)).ok()) co_return;
    for (size_t i = 0; i < reply.chunks.size(); ++i) {
      if (i > 0 && reply.pause_between_chunks.count() > 0) {
        net::steady_timer t(co_await net::this_coro::executor, reply.pause_between_chunks);
        co_await t.async_wait(net::use_awaitable);
      }
      if (!(co_await stream.Write(reply.chunks[i])).ok()) co_return;
    }
    (void)co_await stream.End();
  }

 private:
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::deque<ScriptedReply> replies_;
  ScriptedReply last_reply_;
  std::vector<ReceivedRequest> received_;
};

// Splits bytes into pieces of `size` (the last may be shorter): frames and events then straddle
// chunk boundaries, as they do on a real network.
inline std::vector<std::string> SplitEvery(std::string_view bytes, size_t size) {
  std::vector<std::string> out;
  for (size_t i = 0; i < bytes.size(); i += size) out.emplace_back(bytes.substr(i, size));
  return out;
}

// Collects deltas; refuses the delta after `accept_limit` of them, as a departed client does.
class RecordingEvents final : public agent::ModelEvents {
 public:
  Awaitable<Status> OnTextDelta(std::string_view text) override {
    if (accept_limit >= 0 && static_cast<int>(deltas.size()) >= accept_limit)
      co_return Status::Cancelled("the client went away");
    deltas.emplace_back(text);
    co_return Status::Ok();
  }
  std::vector<std::string> deltas;
  int accept_limit = -1;
};

struct Outcome {
  Status status;
  agent::ModelTurn turn;
};

// One io_context for the whole test program. BeastHttpClient pools idle connections per
// io_context *address*; a fresh io_context per call could reuse a destroyed one's address and be
// handed its dangling connections.
inline net::io_context& TestIoContext() {
  static net::io_context io;
  return io;
}

template <typename F>
Outcome RunCoroutine(F make) {
  net::io_context& io = TestIoContext();
  io.restart();
  auto fut = net::co_spawn(
      io,
      [&]() -> Awaitable<Outcome> {
        Result<agent::ModelTurn> r = co_await make();
        Outcome out;
        if (r.ok()) {
          out.turn = std::move(r).value();
        } else {
          out.status = std::move(r).status();
        }
        co_return out;
      },
      net::use_future);
  io.run();
  return fut.get();
}

inline Outcome RunGenerate(agent::Model& model, const agent::ModelRequest& request,
                           agent::ModelEvents& events) {
  return RunCoroutine([&] { return model.Generate(request, events); });
}

// --- AWS wire helpers ---

inline aws::EventStreamHeader StringHeader(std::string name, std::string value) {
  return aws::EventStreamHeader{std::move(name), aws::EventStreamHeaderValue(std::move(value))};
}

inline std::string EventFrame(std::string event_type, std::string payload) {
  aws::EventStreamMessage m;
  m.headers.push_back(StringHeader(":event-type", std::move(event_type)));
  m.headers.push_back(StringHeader(":content-type", "application/json"));
  m.headers.push_back(StringHeader(":message-type", "event"));
  m.payload = std::move(payload);
  auto bytes = aws::EncodeEventStreamMessage(m);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

inline std::string ExceptionFrame(std::string exception_type, std::string message) {
  aws::EventStreamMessage m;
  m.headers.push_back(StringHeader(":exception-type", std::move(exception_type)));
  m.headers.push_back(StringHeader(":content-type", "application/json"));
  m.headers.push_back(StringHeader(":message-type", "exception"));
  m.payload = "{\"message\":\"" + message + "\"}";
  auto bytes = aws::EncodeEventStreamMessage(m);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

// The SignedHeaders list of an AWS4-HMAC-SHA256 Authorization value.
inline std::vector<std::string> SignedHeaderNames(std::string_view authorization) {
  std::vector<std::string> out;
  size_t at = authorization.find("SignedHeaders=");
  if (at == std::string_view::npos) return out;
  std::string_view rest = authorization.substr(at + 14);
  rest = rest.substr(0, rest.find(','));
  for (std::string_view name : Split(rest, ';')) out.emplace_back(name);
  return out;
}

// Re-signs a received request the way AWS would check it (same signed headers, the wire path as
// received, the body) and returns the Authorization value it should have carried.
inline std::string ExpectedAuthorization(const ReceivedRequest& r,
                                         const aws::AwsCredentials& credentials,
                                         const std::string& region, Timestamp when) {
  aws::SigV4Request s;
  s.method = r.method;
  s.path = r.target.substr(0, r.target.find('?'));
  s.body = r.body;
  std::string authorization(r.headers.Get("authorization").value_or(""));
  for (const std::string& name : SignedHeaderNames(authorization))
    if (name != "x-amz-date" && name != "x-amz-security-token")  // the signer adds these itself
      s.headers.emplace_back(name, std::string(r.headers.Get(name).value_or("")));
  aws::SigV4Signer signer(region, "bedrock");
  auto sig = signer.Sign(s, credentials, when);
  EXPECT_TRUE(sig.ok()) << sig.status().ToString();
  return sig.ok() ? sig->authorization : std::string();
}

// A json_schema response_format for a city's weather, as the providers' response_format tests ask.
inline agent::ResponseFormat WeatherFormat() {
  agent::ResponseFormat f;
  f.kind = agent::ResponseFormat::Kind::kJsonSchema;
  f.name = "weather";
  f.description = "The weather in a city";
  f.schema =
      R"({"type":"object","properties":{"city":{"type":"string"},"temp_c":{"type":"number"}},)"
      R"("required":["city","temp_c"]})";
  return f;
}

}  // namespace gh::models::testing
