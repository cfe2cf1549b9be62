#include "pipeline/router.h"

#include "common/strings.h"

namespace gh::pipeline {

// Defined here, where RouteSpec is complete.
FilterStatus RequestContext::Fail(Status status) {
  response =
      route && route->error_response ? route->error_response(status) : http::ErrorResponse(status);
  outcome = std::move(status);
  return FilterStatus::kStop;
}

void Router::Add(RouteSpec spec) {
  std::vector<std::string> parts;
  for (auto p : Split(spec.pattern, '/'))
    if (!p.empty()) parts.emplace_back(p);
  patterns_.push_back(std::move(parts));
  routes_.push_back(std::make_unique<RouteSpec>(std::move(spec)));
}

Match Router::Find(const std::string& method, const std::vector<std::string>& segments) const {
  Match out;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& pat = patterns_[i];
    if (pat.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t j = 0; j < pat.size() && ok; ++j) {
      const std::string& p = pat[j];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        if (segments[j].empty())
          ok = false;
        else
          params[p.substr(1, p.size() - 2)] = segments[j];
      } else {
        ok = p == segments[j];
      }
    }
    if (!ok) continue;
    const std::string& m = routes_[i]->method;
    if (m == method || (method == "HEAD" && m == "GET")) {
      out.route = routes_[i].get();
      out.params = std::move(params);
      out.allowed.clear();
      return out;
    }
    out.allowed.push_back(m);
  }
  return out;
}

}  // namespace gh::pipeline
