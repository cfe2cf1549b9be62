#include "common/json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace gh::json {

Result<bj::object> ParseObject(std::string_view body) {
  boost::system::error_code ec;
  bj::parse_options opts;
  opts.max_depth = 64;
  bj::value v = bj::parse(body, ec, {}, opts);
  if (ec) return Status::InvalidArgument("request body is not valid JSON", "invalid_json");
  if (!v.is_object())
    return Status::InvalidArgument("request body must be a JSON object", "invalid_json");
  return std::move(v.as_object());
}

Result<std::optional<std::string>> OptionalString(const bj::object& o, std::string_view key,
                                                  size_t max_len) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string())
    return Status::InvalidArgument(fmt::format("field '{}' must be a string", key));
  const auto& s = it->value().get_string();
  if (s.size() > max_len)
    return Status::InvalidArgument(
        fmt::format("field '{}' is longer than {} characters", key, max_len));
  return std::optional<std::string>(std::string(s));
}

Result<std::string> RequiredString(const bj::object& o, std::string_view key, size_t max_len) {
  GH_ASSIGN_OR_RETURN(auto v, OptionalString(o, key, max_len));
  if (!v || v->empty())
    return Status::InvalidArgument(fmt::format("missing required field '{}'", key), "missing_field")
        .WithDetail("field", std::string(key));
  return std::move(*v);
}

Result<std::optional<int64_t>> OptionalInt(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>();
  const auto& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() <= uint64_t(INT64_MAX))
    return std::optional<int64_t>(int64_t(v.get_uint64()));
  return Status::InvalidArgument(fmt::format("field '{}' must be an integer", key));
}

Result<std::optional<bool>> OptionalBool(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool())
    return Status::InvalidArgument(fmt::format("field '{}' must be a boolean", key));
  return std::optional<bool>(it->value().get_bool());
}

std::string Serialize(const bj::value& v) { return bj::serialize(v); }

}  // namespace gh::json
