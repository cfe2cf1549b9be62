// Small string utilities shared by every module: encodings, slugs, constant-time comparison.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gh {

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);
std::string Base64UrlEncode(std::string_view bytes);  // no padding
std::optional<std::string> Base64UrlDecode(
    std::string_view text);  // strict: rejects padding, bad chars

// "Acme Corp!" -> "acme-corp". Empty when nothing usable remains.
std::string Slugify(std::string_view name);
std::string ToLower(std::string_view s);
std::string_view Trim(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// Where to cut `s` to keep at most `max` bytes without splitting a UTF-8 sequence: `max` itself,
// or less when byte `max` continues a character (s.size() when that is within `max`).
size_t Utf8CutPoint(std::string_view s, size_t max);
// Replaces anything that is not printable ASCII, to keep untrusted text out of log structure.
std::string Printable(std::string_view s, size_t max_len = 256);

}  // namespace gh
