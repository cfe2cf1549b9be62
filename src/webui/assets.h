// The web UI's files, compiled into the binary (see embed.cmake), and how to serve them: the SPA's
// index.html for "/" and unknown non-API paths (no-cache), hashed files under /assets/ cached for a
// year, with a strict Content-Security-Policy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace gh::webui {

struct Asset {
  std::string_view path;  // "/index.html", "/assets/index-abc123.js"
  std::string_view data;
};

const std::vector<Asset>& Assets();
// Fills `response` for a GET of `path`; false when the path is not the UI's (e.g. under /api/).
bool Serve(const std::string& path, http::Response& response);

}  // namespace gh::webui
