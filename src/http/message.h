// Request and Response: Gatehouse's own HTTP message types. They carry no Beast types, so the
// pipeline, filters and handlers compile without Boost.Beast; only server.cc and client.cc
// translate between these and the wire. Plain values: one owner, no sharing between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gh::http {

// Header names are stored lower-case; lookups are case-insensitive.
class Headers {
 public:
  void Set(std::string name, std::string value);
  void Add(std::string name, std::string value);
  std::optional<std::string_view> Get(std::string_view name) const;
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

struct Request {
  std::string method;                 // upper-case
  std::string target;                 // as received
  std::string path;                   // percent-decoded path
  std::vector<std::string> segments;  // decoded path segments, without empty leading one
  std::vector<std::pair<std::string, std::string>> query;  // decoded
  Headers headers;
  std::string body;
  std::string remote_address;
  std::string request_id;  // accepted from X-Request-Id when well-formed, else generated

  std::optional<std::string_view> Query(std::string_view name) const;
  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Extra key/values for the access-log line (tenant, user, ...). Never secrets.
  std::vector<std::pair<std::string, std::string>> log_fields;

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body, std::string content_type);
  static Response NoContent();
};

// Parses an origin-form target ("/a/b?x=1") into path, segments and query. False if malformed.
bool ParseTarget(std::string_view target, Request& req);

}  // namespace gh::http
