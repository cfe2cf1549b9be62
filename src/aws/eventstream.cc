#include "aws/eventstream.h"

#include <algorithm>
#include <cstring>

#include "crypto/hash.h"

namespace gh::aws {
namespace {

constexpr uint32_t kPreludeLength = 12;  // total length, headers length, prelude CRC
constexpr uint32_t kTrailerLength = 4;   // message CRC
constexpr uint32_t kMinMessageLength = kPreludeLength + kTrailerLength;
constexpr size_t kMaxHeaderNameLength = 255;
constexpr size_t kMaxEncodedValueLength = 32767;

uint64_t ReadBigEndian(std::string_view bytes, size_t offset, size_t width) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[offset + i]);
  return v;
}

uint32_t ReadU32(std::string_view bytes, size_t offset) {
  return static_cast<uint32_t>(ReadBigEndian(bytes, offset, 4));
}

void AppendBigEndian(std::string& out, uint64_t v, size_t width) {
  for (size_t i = width; i-- > 0;) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

Status DecodeError(EventStreamError error, std::string message) {
  return Status::BadGateway("event stream: " + std::move(message),
                            std::string(EventStreamErrorCode(error)));
}

Status EncodeError(std::string message) {
  return Status::InvalidArgument("event stream: " + std::move(message),
                                 "eventstream_invalid_message");
}

// Parses the header block of a message whose CRCs have been verified.
Result<std::vector<EventStreamHeader>> ParseHeaders(std::string_view block) {
  std::vector<EventStreamHeader> headers;
  size_t pos = 0;
  auto need = [&](size_t n) { return block.size() - pos >= n; };
  auto truncated = [] {
    return DecodeError(EventStreamError::kInvalidHeader, "header runs past the header block");
  };
  while (pos < block.size()) {
    const size_t name_length = static_cast<uint8_t>(block[pos++]);
    if (!need(name_length + 1)) return truncated();
    std::string name(block.substr(pos, name_length));
    pos += name_length;
    const auto type = static_cast<uint8_t>(block[pos++]);
    EventStreamHeaderValue value;
    auto fixed = [&](size_t width) -> std::optional<uint64_t> {
      if (!need(width)) return std::nullopt;
      uint64_t v = ReadBigEndian(block, pos, width);
      pos += width;
      return v;
    };
    auto sized = [&]() -> std::optional<std::string> {
      if (!need(2)) return std::nullopt;
      const size_t n = ReadBigEndian(block, pos, 2);
      pos += 2;
      if (!need(n)) return std::nullopt;
      std::string s(block.substr(pos, n));
      pos += n;
      return s;
    };
    switch (static_cast<EventStreamHeaderType>(type)) {
      case EventStreamHeaderType::kBoolTrue:
        value = true;
        break;
      case EventStreamHeaderType::kBoolFalse:
        value = false;
        break;
      case EventStreamHeaderType::kByte: {
        auto v = fixed(1);
        if (!v) return truncated();
        value = static_cast<int8_t>(static_cast<uint8_t>(*v));
        break;
      }
      case EventStreamHeaderType::kShort: {
        auto v = fixed(2);
        if (!v) return truncated();
        value = static_cast<int16_t>(static_cast<uint16_t>(*v));
        break;
      }
      case EventStreamHeaderType::kInt: {
        auto v = fixed(4);
        if (!v) return truncated();
        value = static_cast<int32_t>(static_cast<uint32_t>(*v));
        break;
      }
      case EventStreamHeaderType::kLong: {
        auto v = fixed(8);
        if (!v) return truncated();
        value = static_cast<int64_t>(*v);
        break;
      }
      case EventStreamHeaderType::kTimestamp: {
        auto v = fixed(8);
        if (!v) return truncated();
        value = EventStreamTimestamp{static_cast<int64_t>(*v)};
        break;
      }
      case EventStreamHeaderType::kBytes: {
        auto s = sized();
        if (!s) return truncated();
        value = EventStreamBytes{std::move(*s)};
        break;
      }
      case EventStreamHeaderType::kString: {
        auto s = sized();
        if (!s) return truncated();
        value = std::move(*s);
        break;
      }
      case EventStreamHeaderType::kUuid: {
        if (!need(16)) return truncated();
        EventStreamUuid uuid;
        std::memcpy(uuid.bytes.data(), block.data() + pos, 16);
        pos += 16;
        value = uuid;
        break;
      }
      default:
        return DecodeError(EventStreamError::kInvalidHeader,
                           "unknown header value type " + std::to_string(type));
    }
    const bool duplicate = std::any_of(headers.begin(), headers.end(),
                                       [&](const EventStreamHeader& h) { return h.name == name; });
    if (duplicate) return DecodeError(EventStreamError::kDuplicateHeader, "duplicate header");
    headers.push_back({std::move(name), std::move(value)});
  }
  return headers;
}

// Validates the 12-byte prelude at the start of `bytes`; returns the total message length.
Result<uint32_t> ValidatePrelude(std::string_view bytes, const EventStreamLimits& limits) {
  const uint32_t total_length = ReadU32(bytes, 0);
  const uint32_t headers_length = ReadU32(bytes, 4);
  const uint32_t prelude_crc = ReadU32(bytes, 8);
  // CRC first: a corrupted length field must read as corruption, not as a size violation.
  if (crypto::Crc32(bytes.substr(0, 8)) != prelude_crc) {
    return DecodeError(EventStreamError::kChecksumMismatch, "prelude checksum mismatch");
  }
  if (headers_length > limits.max_headers_length) {
    return DecodeError(EventStreamError::kInvalidHeadersLength,
                       "headers length " + std::to_string(headers_length) + " over the limit");
  }
  if (total_length > limits.max_message_length) {
    return DecodeError(EventStreamError::kInvalidPayloadLength,
                       "message length " + std::to_string(total_length) + " over the limit");
  }
  if (total_length < kMinMessageLength) {
    return DecodeError(EventStreamError::kInvalidMessageLength,
                       "message length " + std::to_string(total_length) + " under the minimum");
  }
  if (headers_length > total_length - kMinMessageLength) {
    return DecodeError(EventStreamError::kInvalidHeadersLength,
                       "headers length beyond the message");
  }
  return total_length;
}

// Decodes one whole message whose prelude has been validated.
Result<EventStreamMessage> DecodeMessage(std::string_view bytes) {
  EventStreamMessage m;
  m.total_length = ReadU32(bytes, 0);
  m.headers_length = ReadU32(bytes, 4);
  m.prelude_crc = ReadU32(bytes, 8);
  m.message_crc = ReadU32(bytes, m.total_length - kTrailerLength);
  if (crypto::Crc32(bytes.substr(0, m.total_length - kTrailerLength)) != m.message_crc) {
    return DecodeError(EventStreamError::kChecksumMismatch, "message checksum mismatch");
  }
  GH_ASSIGN_OR_RETURN(m.headers, ParseHeaders(bytes.substr(kPreludeLength, m.headers_length)));
  const size_t payload_start = kPreludeLength + m.headers_length;
  m.payload =
      std::string(bytes.substr(payload_start, m.total_length - kTrailerLength - payload_start));
  return m;
}

}  // namespace

std::string_view EventStreamErrorCode(EventStreamError error) {
  switch (error) {
    case EventStreamError::kChecksumMismatch:
      return "eventstream_checksum_mismatch";
    case EventStreamError::kInvalidHeadersLength:
      return "eventstream_invalid_headers_length";
    case EventStreamError::kInvalidPayloadLength:
      return "eventstream_invalid_payload_length";
    case EventStreamError::kInvalidMessageLength:
      return "eventstream_invalid_message_length";
    case EventStreamError::kDuplicateHeader:
      return "eventstream_duplicate_header";
    case EventStreamError::kInvalidHeader:
      return "eventstream_invalid_header";
    case EventStreamError::kTruncated:
      return "eventstream_truncated";
  }
  return "eventstream_error";
}

const EventStreamHeaderValue* EventStreamMessage::FindHeader(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

std::optional<std::string_view> EventStreamMessage::StringHeader(std::string_view name) const {
  const EventStreamHeaderValue* v = FindHeader(name);
  if (v == nullptr) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(v)) return std::string_view(*s);
  return std::nullopt;
}

EventStreamDecoder::EventStreamDecoder(EventStreamLimits limits) : limits_(limits) {}

void EventStreamDecoder::Feed(std::string_view bytes) {
  if (!error_.ok()) return;
  // Drop consumed bytes before growing, so the buffer stays about one message long.
  if (offset_ > 0 && offset_ >= buffer_.size() / 2) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  buffer_.append(bytes);
}

Status EventStreamDecoder::Fail(Status status) {
  error_ = status;
  buffer_.clear();
  offset_ = 0;
  pending_length_.reset();
  return status;
}

Result<std::optional<EventStreamMessage>> EventStreamDecoder::Next() {
  if (!error_.ok()) return error_;
  const std::string_view available = std::string_view(buffer_).substr(offset_);
  if (!pending_length_) {
    if (available.size() < kPreludeLength) return std::optional<EventStreamMessage>();
    auto length = ValidatePrelude(available, limits_);
    if (!length.ok()) return Fail(length.status());
    pending_length_ = *length;
  }
  if (available.size() < *pending_length_) return std::optional<EventStreamMessage>();
  auto message = DecodeMessage(available.substr(0, *pending_length_));
  if (!message.ok()) return Fail(message.status());
  offset_ += *pending_length_;
  pending_length_.reset();
  if (offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  return std::optional<EventStreamMessage>(std::move(message).value());
}

Status EventStreamDecoder::Finish() const {
  if (!error_.ok()) return error_;
  if (buffered_bytes() > 0) {
    return DecodeError(EventStreamError::kTruncated,
                       std::to_string(buffered_bytes()) + " bytes of an incomplete message");
  }
  return Status::Ok();
}

Result<std::vector<EventStreamMessage>> DecodeEventStream(std::string_view bytes,
                                                          EventStreamLimits limits) {
  EventStreamDecoder decoder(limits);
  decoder.Feed(bytes);
  std::vector<EventStreamMessage> out;
  for (;;) {
    GH_ASSIGN_OR_RETURN(std::optional<EventStreamMessage> m, decoder.Next());
    if (!m) break;
    out.push_back(std::move(*m));
  }
  GH_RETURN_IF_ERROR(decoder.Finish());
  return out;
}

Result<std::string> EncodeEventStreamMessage(const EventStreamMessage& message,
                                             EventStreamLimits limits) {
  std::string headers;
  for (size_t i = 0; i < message.headers.size(); ++i) {
    const EventStreamHeader& h = message.headers[i];
    if (h.name.empty() || h.name.size() > kMaxHeaderNameLength) {
      return EncodeError("header name must be 1 to 255 bytes");
    }
    for (size_t j = 0; j < i; ++j) {
      if (message.headers[j].name == h.name) return EncodeError("duplicate header " + h.name);
    }
    headers.push_back(static_cast<char>(h.name.size()));
    headers.append(h.name);
    auto sized = [&](EventStreamHeaderType type, const std::string& data) -> Status {
      if (data.size() > kMaxEncodedValueLength) {
        return EncodeError("header value over 32767 bytes");
      }
      headers.push_back(static_cast<char>(type));
      AppendBigEndian(headers, data.size(), 2);
      headers.append(data);
      return Status::Ok();
    };
    auto fixed = [&](EventStreamHeaderType type, uint64_t v, size_t width) {
      headers.push_back(static_cast<char>(type));
      AppendBigEndian(headers, v, width);
    };
    Status st = std::visit(
        [&](const auto& v) -> Status {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, bool>) {
            headers.push_back(static_cast<char>(v ? EventStreamHeaderType::kBoolTrue
                                                  : EventStreamHeaderType::kBoolFalse));
          } else if constexpr (std::is_same_v<T, int8_t>) {
            fixed(EventStreamHeaderType::kByte, static_cast<uint8_t>(v), 1);
          } else if constexpr (std::is_same_v<T, int16_t>) {
            fixed(EventStreamHeaderType::kShort, static_cast<uint16_t>(v), 2);
          } else if constexpr (std::is_same_v<T, int32_t>) {
            fixed(EventStreamHeaderType::kInt, static_cast<uint32_t>(v), 4);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            fixed(EventStreamHeaderType::kLong, static_cast<uint64_t>(v), 8);
          } else if constexpr (std::is_same_v<T, EventStreamBytes>) {
            return sized(EventStreamHeaderType::kBytes, v.data);
          } else if constexpr (std::is_same_v<T, std::string>) {
            return sized(EventStreamHeaderType::kString, v);
          } else if constexpr (std::is_same_v<T, EventStreamTimestamp>) {
            fixed(EventStreamHeaderType::kTimestamp, static_cast<uint64_t>(v.unix_millis), 8);
          } else {
            static_assert(std::is_same_v<T, EventStreamUuid>);
            headers.push_back(static_cast<char>(EventStreamHeaderType::kUuid));
            headers.append(reinterpret_cast<const char*>(v.bytes.data()), v.bytes.size());
          }
          return Status::Ok();
        },
        h.value);
    GH_RETURN_IF_ERROR(st);
  }
  if (headers.size() > limits.max_headers_length) return EncodeError("headers over the limit");
  const uint64_t total = uint64_t{kMinMessageLength} + headers.size() + message.payload.size();
  if (total > limits.max_message_length) return EncodeError("message over the limit");

  std::string out;
  out.reserve(total);
  AppendBigEndian(out, total, 4);
  AppendBigEndian(out, headers.size(), 4);
  AppendBigEndian(out, crypto::Crc32(out), 4);
  out.append(headers);
  out.append(message.payload);
  AppendBigEndian(out, crypto::Crc32(out), 4);
  return out;
}

}  // namespace gh::aws
