#include "http/message.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "common/strings.h"

namespace gh::http {

void Headers::Set(std::string name, std::string value) {
  name = ToLower(name);
  Remove(name);
  entries_.emplace_back(std::move(name), std::move(value));
}

void Headers::Add(std::string name, std::string value) {
  entries_.emplace_back(ToLower(name), std::move(value));
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : entries_) {
    if (k.size() == name.size()) {
      bool same = true;
      for (size_t i = 0; i < k.size() && same; ++i)
        same = k[i] == std::tolower(static_cast<unsigned char>(name[i]));
      if (same) return std::string_view(v);
    }
  }
  return std::nullopt;
}

void Headers::Remove(std::string_view name) {
  std::string lower = ToLower(name);
  std::erase_if(entries_, [&](const auto& e) { return e.first == lower; });
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.Set("content-type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  return r;
}

bool ParseTarget(std::string_view target, Request& req) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return false;
  const boost::urls::url_view& u = *parsed;
  req.path = u.path();
  req.segments.clear();
  for (auto seg : u.segments()) req.segments.push_back(seg);
  if (!req.segments.empty() && req.segments.back().empty()) req.segments.pop_back();
  req.query.clear();
  for (auto p : u.params()) req.query.emplace_back(p.key, p.has_value ? p.value : "");
  return true;
}

}  // namespace gh::http
