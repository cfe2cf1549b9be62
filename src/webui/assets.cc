#include "webui/assets.h"

namespace gh::webui {
namespace {

std::string ContentType(std::string_view path) {
  auto ends = [&](std::string_view ext) { return path.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".json")) return "application/json";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

const Asset* Find(std::string_view path) {
  for (const auto& a : Assets())
    if (a.path == path) return &a;
  return nullptr;
}

}  // namespace

bool Serve(const std::string& path, http::Response& response) {
  if (path.starts_with("/api/") || path.starts_with("/v1/") || path.starts_with("/.well-known/"))
    return false;
  const Asset* a = Find(path);
  bool spa_route = false;
  if (!a) {
    // Client-side routes (no file extension) get the app; missing files get a 404.
    std::string_view last = std::string_view(path).substr(path.rfind('/') + 1);
    if (last.find('.') != std::string_view::npos) return false;
    a = Find("/index.html");
    spa_route = true;
  }
  if (!a) return false;
  response = http::Response::Text(200, std::string(a->data), ContentType(a->path));
  const bool hashed = a->path.starts_with("/assets/");
  response.headers.Set("cache-control",
                       hashed && !spa_route ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.Set(
      "content-security-policy",
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
      "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'");
  response.headers.Set("x-content-type-options", "nosniff");
  response.headers.Set("referrer-policy", "no-referrer");
  response.headers.Set("x-frame-options", "DENY");
  return true;
}

}  // namespace gh::webui
