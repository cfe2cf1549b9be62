// Chain: the request path. Matches the route (404 / 405), checks the body's media type (415),
// runs the filters in order, then the handler, then every filter's OnResponse in reverse. Adding
// a concern is adding a filter to the list given at construction; this file does not change.
// Implements http::Handler; shared by all connections.
#pragma once

#include <memory>
#include <vector>

#include "http/server.h"
#include "pipeline/filter.h"
#include "pipeline/router.h"

namespace gh::pipeline {

class Chain final : public http::Handler {
 public:
  Chain(const Router& router, std::vector<std::shared_ptr<Filter>> filters,
        std::function<bool(RequestContext&)> fallback = nullptr)
      : router_(router), filters_(std::move(filters)), fallback_(std::move(fallback)) {}

  http::Awaitable<void> Handle(http::Request& request, http::Response& response,
                               http::ResponseStream& stream) override;

 private:
  const Router& router_;
  std::vector<std::shared_ptr<Filter>> filters_;
  // Serves what no route matched (the web UI's files); returns false to answer 404.
  std::function<bool(RequestContext&)> fallback_;
};

}  // namespace gh::pipeline
