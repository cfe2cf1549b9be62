#include "aws/eventstream.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::aws {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

const fs::path kVectorsFile = fs::path(GH_SHARED_TESTDATA) / "bedrock" / "eventstream-vectors.json";

// One comparable spelling per header value, shared by the decoded values and the JSON
// expectations (which write integers and timestamps as numbers, bytes and uuids as bytes_hex).
std::string Describe(const EventStreamHeaderValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, EventStreamBytes>) {
          return "hex:" + HexEncode(x.data);
        } else if constexpr (std::is_same_v<T, EventStreamUuid>) {
          return "hex:" + HexEncode(std::string_view(reinterpret_cast<const char*>(x.bytes.data()),
                                                     x.bytes.size()));
        } else if constexpr (std::is_same_v<T, std::string>) {
          return "str:" + x;
        } else if constexpr (std::is_same_v<T, EventStreamTimestamp>) {
          return std::to_string(x.unix_millis);
        } else {
          return std::to_string(static_cast<int64_t>(x));
        }
      },
      v);
}

std::string Describe(const bj::value& v) {
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_string()) return "str:" + std::string(v.get_string());
  return "hex:" + std::string(v.at("bytes_hex").as_string());
}

struct PositiveVector {
  std::string name;
  std::string bytes;
  uint32_t total_length, headers_length, prelude_crc, message_crc;
  std::map<std::string, std::string> headers;  // name -> Describe()
  std::string payload;
};

struct NegativeVector {
  std::string name;
  std::string bytes;
  std::string error;
};

struct Vectors {
  std::vector<PositiveVector> positive;
  std::vector<NegativeVector> negative;
};

std::string Unhex(std::string_view hex) { return HexDecode(hex).value_or("<bad hex>"); }

// Boost.JSON accessors throw on a shape mismatch; the test data is ours, but a broken file must
// fail the test with a message, not abort the binary.
std::optional<Vectors> LoadVectors(std::string* error) {
  std::ifstream in(kVectorsFile);
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    bj::value root = bj::parse(ss.str());
    Vectors out;
    for (const bj::value& v : root.at("positive").as_array()) {
      PositiveVector p;
      p.name = v.at("name").as_string();
      p.bytes = Unhex(v.at("hex").as_string());
      p.total_length = static_cast<uint32_t>(v.at("total_length").to_number<int64_t>());
      p.headers_length = static_cast<uint32_t>(v.at("headers_length").to_number<int64_t>());
      p.prelude_crc = static_cast<uint32_t>(v.at("prelude_crc").to_number<int64_t>());
      p.message_crc = static_cast<uint32_t>(v.at("message_crc").to_number<int64_t>());
      for (const auto& [key, value] : v.at("headers").as_object()) {
        p.headers[std::string(key)] = Describe(value);
      }
      p.payload = Unhex(v.at("payload_hex").as_string());
      out.positive.push_back(std::move(p));
    }
    for (const bj::value& v : root.at("negative").as_array()) {
      out.negative.push_back({std::string(v.at("name").as_string()), Unhex(v.at("hex").as_string()),
                              std::string(v.at("error").as_string())});
    }
    return out;
  } catch (const std::exception& e) {
    *error = e.what();
    return std::nullopt;
  }
}

// The vector file names botocore's exception classes; ours are error codes.
const std::map<std::string, EventStreamError> kExpectedErrors = {
    {"ChecksumMismatch", EventStreamError::kChecksumMismatch},
    {"DuplicateHeader", EventStreamError::kDuplicateHeader},
    {"InvalidHeadersLength", EventStreamError::kInvalidHeadersLength},
    {"InvalidPayloadLength", EventStreamError::kInvalidPayloadLength},
};

// Feeds `bytes` in chunks of `chunk` bytes, pulling after each chunk.
Result<std::vector<EventStreamMessage>> DecodeInChunks(std::string_view bytes, size_t chunk) {
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> out;
  for (size_t pos = 0; pos < bytes.size(); pos += chunk) {
    decoder.Feed(bytes.substr(pos, chunk));
    for (;;) {
      GH_ASSIGN_OR_RETURN(std::optional<EventStreamMessage> m, decoder.Next());
      if (!m) break;
      out.push_back(std::move(*m));
    }
  }
  GH_RETURN_IF_ERROR(decoder.Finish());
  return out;
}

class EventStreamVectorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kVectorsFile)) {
      GTEST_SKIP() << "shared event stream vectors not found at " << kVectorsFile;
    }
    std::string error;
    auto loaded = LoadVectors(&error);
    ASSERT_TRUE(loaded.has_value()) << "cannot read " << kVectorsFile << ": " << error;
    vectors_ = std::move(*loaded);
    ASSERT_EQ(vectors_.positive.size(), 9u);
    ASSERT_EQ(vectors_.negative.size(), 6u);
  }

  void ExpectMatches(const PositiveVector& v, const EventStreamMessage& m) {
    EXPECT_EQ(m.total_length, v.total_length);
    EXPECT_EQ(m.headers_length, v.headers_length);
    EXPECT_EQ(m.prelude_crc, v.prelude_crc);
    EXPECT_EQ(m.message_crc, v.message_crc);
    EXPECT_EQ(m.payload, v.payload);
    std::map<std::string, std::string> got;
    for (const auto& h : m.headers) got[h.name] = Describe(h.value);
    EXPECT_EQ(got, v.headers);
  }

  Vectors vectors_;
};

TEST_F(EventStreamVectorsTest, EveryValidVectorDecodesWhole) {
  for (const auto& v : vectors_.positive) {
    SCOPED_TRACE(v.name);
    auto messages = DecodeEventStream(v.bytes);
    ASSERT_TRUE(messages.ok()) << messages.status().ToString();
    ASSERT_EQ(messages->size(), 1u);
    ExpectMatches(v, messages->front());
  }
}

TEST_F(EventStreamVectorsTest, EveryValidVectorDecodesFedOneByteAtATime) {
  for (const auto& v : vectors_.positive) {
    SCOPED_TRACE(v.name);
    auto messages = DecodeInChunks(v.bytes, 1);
    ASSERT_TRUE(messages.ok()) << messages.status().ToString();
    ASSERT_EQ(messages->size(), 1u);
    ExpectMatches(v, messages->front());
  }
}

TEST_F(EventStreamVectorsTest, AllValidVectorsBackToBackDecodeInAnyChunking) {
  std::string stream;
  for (const auto& v : vectors_.positive) stream += v.bytes;
  std::mt19937 rng(42);
  for (size_t chunk : {1u, 2u, 3u, 7u, 12u, 13u, 64u, 1000u}) {
    SCOPED_TRACE(chunk);
    auto messages = DecodeInChunks(stream, chunk);
    ASSERT_TRUE(messages.ok()) << messages.status().ToString();
    ASSERT_EQ(messages->size(), vectors_.positive.size());
    for (size_t i = 0; i < messages->size(); ++i)
      ExpectMatches(vectors_.positive[i], (*messages)[i]);
  }
  // Random chunk boundaries, seeded.
  EventStreamDecoder decoder;
  size_t decoded = 0;
  for (size_t pos = 0; pos < stream.size();) {
    size_t n = std::uniform_int_distribution<size_t>(1, 40)(rng);
    decoder.Feed(std::string_view(stream).substr(pos, n));
    pos += n;
    for (;;) {
      auto m = decoder.Next();
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      if (!m->has_value()) break;
      ExpectMatches(vectors_.positive[decoded++], **m);
    }
  }
  EXPECT_EQ(decoded, vectors_.positive.size());
  EXPECT_TRUE(decoder.Finish().ok());
}

TEST_F(EventStreamVectorsTest, AllHeaderTypesDecodeToTheirOwnAlternatives) {
  const auto it = std::find_if(vectors_.positive.begin(), vectors_.positive.end(),
                               [](const auto& v) { return v.name == "ALL_HEADERS_TYPES"; });
  ASSERT_NE(it, vectors_.positive.end());
  auto messages = DecodeEventStream(it->bytes);
  ASSERT_TRUE(messages.ok());
  const EventStreamMessage& m = messages->front();
  auto type_of = [&](std::string_view name) {
    const EventStreamHeaderValue* v = m.FindHeader(name);
    return v == nullptr ? std::variant_npos : v->index();
  };
  EXPECT_EQ(std::get<bool>(*m.FindHeader("0")), true);
  EXPECT_EQ(std::get<bool>(*m.FindHeader("1")), false);
  EXPECT_TRUE(std::holds_alternative<int8_t>(*m.FindHeader("2")));
  EXPECT_TRUE(std::holds_alternative<int16_t>(*m.FindHeader("3")));
  EXPECT_TRUE(std::holds_alternative<int32_t>(*m.FindHeader("4")));
  EXPECT_TRUE(std::holds_alternative<int64_t>(*m.FindHeader("5")));
  EXPECT_TRUE(std::holds_alternative<EventStreamBytes>(*m.FindHeader("6")));
  EXPECT_EQ(m.StringHeader("7"), "utf8");
  EXPECT_EQ(std::get<EventStreamTimestamp>(*m.FindHeader("8")).unix_millis, 8);
  EXPECT_TRUE(std::holds_alternative<EventStreamUuid>(*m.FindHeader("9")));
  EXPECT_EQ(type_of("10"), std::variant_npos);
  EXPECT_EQ(m.StringHeader("6"), std::nullopt);  // bytes are not a string
}

TEST_F(EventStreamVectorsTest, EncoderReproducesEveryValidVectorByteForByte) {
  for (const auto& v : vectors_.positive) {
    SCOPED_TRACE(v.name);
    auto messages = DecodeEventStream(v.bytes);
    ASSERT_TRUE(messages.ok());
    auto encoded = EncodeEventStreamMessage(messages->front());
    ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
    EXPECT_EQ(HexEncode(*encoded), HexEncode(v.bytes));
  }
}

TEST_F(EventStreamVectorsTest, EveryCorruptVectorRaisesTheExpectedErrorWholeOrByteByByte) {
  for (const auto& v : vectors_.negative) {
    SCOPED_TRACE(v.name);
    auto expected = kExpectedErrors.find(v.error);
    ASSERT_NE(expected, kExpectedErrors.end()) << "unmapped error " << v.error;
    const std::string_view code = EventStreamErrorCode(expected->second);

    auto whole = DecodeEventStream(v.bytes);
    ASSERT_FALSE(whole.ok());
    EXPECT_EQ(whole.status().error_code(), code);
    EXPECT_EQ(whole.status().code(), StatusCode::kBadGateway);

    auto bytewise = DecodeInChunks(v.bytes, 1);
    ASSERT_FALSE(bytewise.ok());
    EXPECT_EQ(bytewise.status().error_code(), code);
  }
}

EventStreamMessage BedrockEvent(std::string event_type, std::string json) {
  EventStreamMessage m;
  m.headers = {{":event-type", std::move(event_type)},
               {":content-type", std::string("application/json")},
               {":message-type", std::string("event")}};
  m.payload = std::move(json);
  return m;
}

TEST(EventStreamTest, BedrockStyleMessagesRoundTripAndExposeTheirTypes) {
  auto delta = EncodeEventStreamMessage(
      BedrockEvent("contentBlockDelta", R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})"));
  EventStreamMessage exception;
  exception.headers = {{":exception-type", std::string("throttlingException")},
                       {":content-type", std::string("application/json")},
                       {":message-type", std::string("exception")}};
  exception.payload = R"({"message":"slow down"})";
  auto encoded_exception = EncodeEventStreamMessage(exception);
  ASSERT_TRUE(delta.ok() && encoded_exception.ok());

  auto messages = DecodeEventStream(*delta + *encoded_exception);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(messages->size(), 2u);
  const auto& d = (*messages)[0];
  EXPECT_EQ(d.message_type(), "event");
  EXPECT_EQ(d.event_type(), "contentBlockDelta");
  EXPECT_EQ(d.content_type(), "application/json");
  EXPECT_EQ(d.exception_type(), std::nullopt);
  EXPECT_EQ(d.payload, R"({"contentBlockIndex":0,"delta":{"text":"Hi"}})");
  const auto& e = (*messages)[1];
  EXPECT_EQ(e.message_type(), "exception");
  EXPECT_EQ(e.exception_type(), "throttlingException");
  EXPECT_EQ(e.headers, exception.headers);
}

TEST(EventStreamTest, EveryHeaderTypeRoundTripsIncludingExtremes) {
  EventStreamMessage m;
  EventStreamUuid uuid;
  for (size_t i = 0; i < 16; ++i) uuid.bytes[i] = static_cast<uint8_t>(0xf0 + i);
  m.headers = {{"t", true},
               {"f", false},
               {"b", int8_t{-128}},
               {"s", int16_t{32767}},
               {"i", int32_t{-2147483647 - 1}},
               {"l", int64_t{INT64_MAX}},
               {"by", EventStreamBytes{std::string("\0\xff", 2)}},
               {"str", std::string("")},
               {"ts", EventStreamTimestamp{-1}},
               {"u", uuid}};
  m.payload = std::string(100000, 'x');
  auto encoded = EncodeEventStreamMessage(m);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  auto decoded = DecodeEventStream(*encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 1u);
  EXPECT_EQ(decoded->front().headers, m.headers);
  EXPECT_EQ(decoded->front().payload, m.payload);
}

std::string PreludeWithValidCrc(uint32_t total, uint32_t headers) {
  std::string p;
  for (uint32_t v : {total, headers}) {
    for (int shift = 24; shift >= 0; shift -= 8)
      p.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  const uint32_t crc = crypto::Crc32(p);
  for (int shift = 24; shift >= 0; shift -= 8)
    p.push_back(static_cast<char>((crc >> shift) & 0xff));
  return p;
}

TEST(EventStreamTest, AbsurdLengthIsRejectedFromThePreludeAloneWithoutBuffering) {
  EventStreamDecoder decoder;
  decoder.Feed(PreludeWithValidCrc(16u * 1024 * 1024 + 1, 0));
  auto r = decoder.Next();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_code(), EventStreamErrorCode(EventStreamError::kInvalidPayloadLength));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(EventStreamTest, LengthsInconsistentWithTheMessageAreRejected) {
  auto too_short = DecodeEventStream(PreludeWithValidCrc(15, 0) + "abcd");
  ASSERT_FALSE(too_short.ok());
  EXPECT_EQ(too_short.status().error_code(),
            EventStreamErrorCode(EventStreamError::kInvalidMessageLength));
  auto headers_beyond = DecodeEventStream(PreludeWithValidCrc(20, 5) + "abcdefgh");
  ASSERT_FALSE(headers_beyond.ok());
  EXPECT_EQ(headers_beyond.status().error_code(),
            EventStreamErrorCode(EventStreamError::kInvalidHeadersLength));
}

TEST(EventStreamTest, HeaderRunningPastItsBlockOrOfUnknownTypeIsInvalid) {
  // A string header claiming 100 bytes inside a 6-byte header block; CRCs valid.
  auto build = [](std::string headers) {
    std::string msg = PreludeWithValidCrc(static_cast<uint32_t>(16 + headers.size()),
                                          static_cast<uint32_t>(headers.size()));
    msg += headers;
    const uint32_t crc = crypto::Crc32(msg);
    for (int shift = 24; shift >= 0; shift -= 8) {
      msg.push_back(static_cast<char>((crc >> shift) & 0xff));
    }
    return msg;
  };
  auto overrun = DecodeEventStream(build(std::string("\x01x\x07\x00\x64y", 6)));
  ASSERT_FALSE(overrun.ok());
  EXPECT_EQ(overrun.status().error_code(), EventStreamErrorCode(EventStreamError::kInvalidHeader));
  auto unknown_type = DecodeEventStream(build(std::string("\x01x\x0a", 3)));
  ASSERT_FALSE(unknown_type.ok());
  EXPECT_EQ(unknown_type.status().error_code(),
            EventStreamErrorCode(EventStreamError::kInvalidHeader));
}

TEST(EventStreamTest, StreamEndingInsideAMessageIsTruncated) {
  auto encoded = EncodeEventStreamMessage(BedrockEvent("messageStop", "{}"));
  ASSERT_TRUE(encoded.ok());
  EventStreamDecoder decoder;
  decoder.Feed(std::string_view(*encoded).substr(0, encoded->size() - 1));
  auto m = decoder.Next();
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());
  Status end = decoder.Finish();
  EXPECT_EQ(end.error_code(), EventStreamErrorCode(EventStreamError::kTruncated));
}

TEST(EventStreamTest, DecoderStaysFailedAfterAnError) {
  std::string corrupt = *EncodeEventStreamMessage(BedrockEvent("messageStop", "{}"));
  corrupt[corrupt.size() - 5] ^= 1;  // payload byte
  EventStreamDecoder decoder;
  decoder.Feed(corrupt);
  EXPECT_FALSE(decoder.Next().ok());
  decoder.Feed(*EncodeEventStreamMessage(BedrockEvent("messageStop", "{}")));
  auto again = decoder.Next();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().error_code(), EventStreamErrorCode(EventStreamError::kChecksumMismatch));
  EXPECT_FALSE(decoder.Finish().ok());
}

TEST(EventStreamTest, EncoderRefusesWhatTheWireCannotCarry) {
  EventStreamMessage dup;
  dup.headers = {{"a", true}, {"a", false}};
  EXPECT_FALSE(EncodeEventStreamMessage(dup).ok());
  EventStreamMessage long_name;
  long_name.headers = {{std::string(256, 'n'), true}};
  EXPECT_FALSE(EncodeEventStreamMessage(long_name).ok());
  EventStreamMessage empty_name;
  empty_name.headers = {{"", true}};
  EXPECT_FALSE(EncodeEventStreamMessage(empty_name).ok());
  EventStreamMessage long_value;
  long_value.headers = {{"v", std::string(32768, 'v')}};
  EXPECT_FALSE(EncodeEventStreamMessage(long_value).ok());
  EventStreamMessage big;
  big.payload = std::string(64, 'x');
  EXPECT_FALSE(EncodeEventStreamMessage(big, {.max_message_length = 64}).ok());
  EXPECT_TRUE(EncodeEventStreamMessage(big, {.max_message_length = 80}).ok());
}

}  // namespace
}  // namespace gh::aws
