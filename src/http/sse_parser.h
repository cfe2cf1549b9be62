// Incremental parser for text/event-stream bodies (the client side of Server-Sent Events): feed
// bytes as they arrive, get complete events out. Handles CRLF/LF/CR line ends, multi-line data,
// comments, and events split across chunks at any byte. Not thread-safe (one per stream).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gh::http {

struct SseEvent {
  std::string event;  // empty when the stream gave none (the default "message")
  std::string data;
  std::string id;
};

class SseParser {
 public:
  // Appends bytes and returns the events completed by them.
  std::vector<SseEvent> Feed(std::string_view bytes);
  size_t buffered() const { return buffer_.size(); }

 private:
  void Line(std::string_view line, std::vector<SseEvent>& out);
  std::string buffer_;
  SseEvent current_;
  bool has_data_ = false;
  bool skip_lf_ = false;
};

}  // namespace gh::http
