// The application/vnd.amazon.eventstream framing that Bedrock's streaming operations
// (ConverseStream, InvokeModelWithResponseStream) answer with.
//
// A message is: total length (u32), headers length (u32), prelude CRC32 (over the 8 bytes
// before it), headers, payload, message CRC32 (over everything before it); big-endian throughout.
// A header is: name length (u8), name, type (u8), value (see EventStreamHeaderType).
//
// EventStreamDecoder is incremental: Feed() it chunks of any size as they arrive (one byte at a
// time works) and pull complete messages with Next(). Untrusted input never asserts: corruption
// is a Status whose error_code() names the fault (EventStreamErrorCode), and the decoder then
// stays failed. Checks run in botocore's order: prelude CRC, then length limits, then (once the
// whole message is there) message CRC, then headers.
//
// Ownership: the decoder owns a copy of the bytes it has not yet returned; messages are values.
// Thread-safety: a decoder is single-threaded (one per response stream); free functions are
// reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace gh::aws {

enum class EventStreamHeaderType : uint8_t {
  kBoolTrue = 0,
  kBoolFalse = 1,
  kByte = 2,
  kShort = 3,
  kInt = 4,
  kLong = 5,
  kBytes = 6,
  kString = 7,
  kTimestamp = 8,  // i64 milliseconds since the Unix epoch
  kUuid = 9,
};

// Distinct wrapper types so that bytes, strings, timestamps and longs stay distinguishable.
struct EventStreamBytes {
  std::string data;
  bool operator==(const EventStreamBytes&) const = default;
};
struct EventStreamTimestamp {
  int64_t unix_millis = 0;
  bool operator==(const EventStreamTimestamp&) const = default;
  Timestamp ToTimestamp() const { return FromUnixMillis(unix_millis); }
};
struct EventStreamUuid {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const EventStreamUuid&) const = default;
};

// The alternatives are in wire-type order except that bool covers types 0 and 1.
using EventStreamHeaderValue =
    std::variant<bool, int8_t, int16_t, int32_t, int64_t, EventStreamBytes, std::string,
                 EventStreamTimestamp, EventStreamUuid>;

struct EventStreamHeader {
  std::string name;
  EventStreamHeaderValue value;
  bool operator==(const EventStreamHeader&) const = default;
};

struct EventStreamMessage {
  std::vector<EventStreamHeader> headers;  // wire order; names are unique
  std::string payload;
  // As read from the wire by the decoder (left 0 in messages built for encoding).
  uint32_t total_length = 0;
  uint32_t headers_length = 0;
  uint32_t prelude_crc = 0;
  uint32_t message_crc = 0;

  const EventStreamHeaderValue* FindHeader(std::string_view name) const;
  // The value of a string-typed header; nullopt when absent or of another type.
  std::optional<std::string_view> StringHeader(std::string_view name) const;

  // "event", "exception" or "error".
  std::optional<std::string_view> message_type() const { return StringHeader(":message-type"); }
  std::optional<std::string_view> event_type() const { return StringHeader(":event-type"); }
  std::optional<std::string_view> exception_type() const { return StringHeader(":exception-type"); }
  std::optional<std::string_view> content_type() const { return StringHeader(":content-type"); }
  std::optional<std::string_view> error_code() const { return StringHeader(":error-code"); }
  std::optional<std::string_view> error_message() const { return StringHeader(":error-message"); }
};

// Faults, named after botocore's exceptions where botocore has one.
enum class EventStreamError {
  kChecksumMismatch,      // prelude or message CRC32 differs
  kInvalidHeadersLength,  // headers length over the limit or beyond the message
  kInvalidPayloadLength,  // total length over the limit
  kInvalidMessageLength,  // total length under the 16-byte minimum
  kDuplicateHeader,       // the same header name twice in one message
  kInvalidHeader,         // a header runs past the header block, or has an unknown type
  kTruncated,             // the stream ended inside a message (Finish)
};
// The Status error_code() for each fault, e.g. "eventstream_checksum_mismatch".
std::string_view EventStreamErrorCode(EventStreamError error);

struct EventStreamLimits {
  uint32_t max_message_length = 16u * 1024 * 1024;
  uint32_t max_headers_length = 128u * 1024;
};

class EventStreamDecoder {
 public:
  explicit EventStreamDecoder(EventStreamLimits limits = {});

  // Buffers bytes; cheap, never fails. Ignored once the decoder has failed.
  void Feed(std::string_view bytes);
  // The next complete message, nullopt when more bytes are needed, or the (sticky) error.
  Result<std::optional<EventStreamMessage>> Next();
  // Call at end of stream: OK only if no error occurred and no partial message is buffered.
  Status Finish() const;

  size_t buffered_bytes() const { return buffer_.size() - offset_; }

 private:
  Status Fail(Status status);

  EventStreamLimits limits_;
  std::string buffer_;
  size_t offset_ = 0;                       // start of the next message in buffer_
  std::optional<uint32_t> pending_length_;  // total length once its prelude is validated
  Status error_;
};

// Decodes a buffer that must hold whole messages only (tests, fixtures, non-streamed bodies).
Result<std::vector<EventStreamMessage>> DecodeEventStream(std::string_view bytes,
                                                          EventStreamLimits limits = {});

// Encodes one message. Fails (InvalidArgument, "eventstream_invalid_message") on a header name
// that is empty or over 255 bytes, a duplicate name, a string or bytes value over 32767 bytes, or
// a message over limits. The length and CRC fields of `message` are ignored.
Result<std::string> EncodeEventStreamMessage(const EventStreamMessage& message,
                                             EventStreamLimits limits = {});

}  // namespace gh::aws
