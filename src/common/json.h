// Helpers for reading untrusted JSON with Boost.JSON: every accessor returns a Status naming the
// field, so handlers answer 400 with a clear message instead of throwing.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gh::json {

namespace bj = boost::json;

// Parses a request body that must be a JSON object.
Result<bj::object> ParseObject(std::string_view body);

Result<std::string> RequiredString(const bj::object& o, std::string_view key,
                                   size_t max_len = 4096);
Result<std::optional<std::string>> OptionalString(const bj::object& o, std::string_view key,
                                                  size_t max_len = 4096);
Result<std::optional<int64_t>> OptionalInt(const bj::object& o, std::string_view key);
Result<std::optional<bool>> OptionalBool(const bj::object& o, std::string_view key);

std::string Serialize(const bj::value& v);

}  // namespace gh::json
