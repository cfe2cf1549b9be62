#include "api/json_io.h"

#include "common/time_util.h"

namespace gh::api {

bj::value OptionalInt(const std::optional<int64_t>& v) {
  return v ? bj::value(*v) : bj::value(nullptr);
}

std::string Iso(int64_t unix_millis) { return FormatRfc3339(FromUnixMillis(unix_millis)); }

bj::object SessionJson(const storage::SessionRecord& s) {
  return bj::object{{"session_id", s.id.value()},
                    {"user_id", s.user_id.value()},
                    {"title", s.title},
                    {"created_at", Iso(s.created_at)},
                    {"last_active_at", Iso(s.last_active_at)},
                    {"expires_at", Iso(s.expires_at)},
                    {"ended_at", s.ended_at ? bj::value(Iso(*s.ended_at)) : bj::value(nullptr)},
                    {"message_count", s.message_count}};
}

bj::object TenantJson(const storage::TenantRecord& t) {
  return bj::object{{"tenant_id", t.id.value()},   {"name", t.name},
                    {"subscription_tier", t.tier}, {"status", t.status},
                    {"timezone", t.timezone},      {"created_at", Iso(t.created_at)}};
}

}  // namespace gh::api
