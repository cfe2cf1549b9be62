#include "filters/authenticate/authenticate_filter.h"

#include <algorithm>

#include "common/strings.h"
#include "pipeline/router.h"

namespace gh::filters {

using pipeline::FilterStatus;

FilterStatus AuthenticateFilter::OnRequest(pipeline::RequestContext& ctx) {
  if (ctx.route->auth == pipeline::Auth::kNone) return FilterStatus::kContinue;
  auto header = ctx.request.Header("authorization");
  auto challenge = [&](Status st) {
    ctx.Fail(std::move(st));
    ctx.response.headers.Set("www-authenticate", "Bearer realm=\"gatehouse\"");
    return FilterStatus::kStop;
  };
  if (!header) return challenge(Status::Unauthenticated("missing bearer token"));
  std::string_view value = Trim(*header);
  if (value.size() < 7 || ToLower(value.substr(0, 7)) != "bearer ")
    return challenge(Status::Unauthenticated("authorization must use the Bearer scheme"));
  auto claims = identity_.verifier().Verify(Trim(value.substr(7)));
  if (!claims.ok()) return challenge(std::move(claims).status());
  identity::Principal p = std::move(claims->principal);
  p.platform_operator = std::find(p.groups.begin(), p.groups.end(), "platform-operators") != p.groups.end();
  ctx.principal = std::move(p);
  return FilterStatus::kContinue;
}

}  // namespace gh::filters
