// HttpClient: the seam for outbound HTTP (model providers, tools, OAuth providers, exporters).
// Tests point it at fake servers on loopback that speak the real wire protocol.
// BeastHttpClient speaks HTTP/1.1 over TCP or TLS (OpenSSL, system trust store, SNI and host-name
// verification), keeps idle connections per worker thread and origin for reuse, and streams
// response bodies chunk by chunk as they arrive. Calls run on the caller's executor; the client
// object is thread-safe and shared.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/cancel.h"
#include "common/status.h"
#include "http/message.h"
#include "http/stream.h"

namespace gh::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http:// or https://
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{60'000};        // connect + response headers
  std::chrono::milliseconds idle_timeout{120'000};  // between body chunks when streaming
  size_t max_response_bytes = 16 * 1024 * 1024;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;  // empty when streamed
};

// Receives body bytes as they arrive. Returning a non-OK status aborts the transfer (the
// connection is closed), e.g. when the downstream client went away.
using ChunkSink = std::function<Awaitable<Status>(std::string_view chunk)>;
// Sees the status and headers once they arrive, before the first body chunk.
using HeadersSink = std::function<void(const struct ClientResponse&)>;

// Lets a caller abort an in-flight request from elsewhere on the same executor.
using CancelSignal = gh::CancelSignal;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Awaitable<Result<ClientResponse>> Send(ClientRequest request) = 0;
  // Like Send, but the body goes to `sink` as it arrives; the returned response has no body.
  // `on_headers` (optional) sees status and headers before the first chunk.
  virtual Awaitable<Result<ClientResponse>> Stream(ClientRequest request, ChunkSink sink,
                                                   CancelSignal* cancel = nullptr,
                                                   HeadersSink on_headers = nullptr) = 0;
};

std::shared_ptr<HttpClient> MakeBeastHttpClient();

}  // namespace gh::http
