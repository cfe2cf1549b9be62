// Small helpers shared by the handlers: reading the JSON body and writing JSON answers.
#pragma once

#include <boost/json.hpp>

#include "common/json.h"
#include "pipeline/context.h"
#include "storage/records.h"
#include "tenancy/plan.h"
#include "tenancy/plan_json.h"

namespace gh::api {

namespace bj = boost::json;

inline Result<bj::object> Body(pipeline::RequestContext& ctx) {
  if (ctx.request.body.empty())
    return Status::InvalidArgument("request body is required", "invalid_json");
  return json::ParseObject(ctx.request.body);
}

inline void ReplyJson(pipeline::RequestContext& ctx, int status, const bj::value& v) {
  ctx.Reply(status, bj::serialize(v));
}

bj::value OptionalInt(const std::optional<int64_t>& v);
std::string Iso(int64_t unix_millis);
bj::object SessionJson(const storage::SessionRecord& s);
bj::object TenantJson(const storage::TenantRecord& t);

}  // namespace gh::api
