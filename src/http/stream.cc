#include "http/stream.h"

namespace gh::http {

std::string FormatSseEvent(std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(event.size() + data.size() + 16);
  if (!event.empty()) {
    out += "event: ";
    out += event;
    out += '\n';
  }
  size_t start = 0;
  for (;;) {
    size_t nl = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += '\n';
  return out;
}

Awaitable<Status> SseWriter::Begin(Headers extra) {
  extra.Set("content-type", "text/event-stream");
  extra.Set("cache-control", "no-cache");
  extra.Set("x-accel-buffering", "no");
  co_return co_await stream_.Begin(200, std::move(extra));
}

Awaitable<Status> SseWriter::Send(std::string_view event, std::string_view data) {
  co_return co_await stream_.Write(FormatSseEvent(event, data));
}

Awaitable<Status> SseWriter::Comment(std::string_view text) {
  std::string line = ": ";
  line += text;
  line += "\n\n";
  co_return co_await stream_.Write(line);
}

}  // namespace gh::http
