#include "approvals/service.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "approvals/policy.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "crypto/hash.h"
#include "storage/repositories.h"

namespace gh::approvals {

namespace st = gh::storage;
namespace bj = boost::json;

namespace {

constexpr int64_t kSlowDownStep = 5;   // seconds added to the interval (CIBA §7.3)
constexpr int64_t kPollGraceMs = 250;  // timer jitter forgiven before calling a poll too fast
constexpr size_t kMaxAuthorizationDetails = 8 * 1024;
constexpr size_t kMaxPolicies = 50;

std::string Iso(int64_t ms) { return FormatRfc3339(FromUnixMillis(ms)); }
bj::value OptIso(const std::optional<int64_t>& ms) {
  return ms ? bj::value(Iso(*ms)) : bj::value(nullptr);
}

Status OAuth(std::string code, std::string message) {
  return Status::InvalidArgument(std::move(message), std::move(code));
}

bool PrintableUtf8(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

bool HasScope(std::string_view scope, std::string_view want) {
  for (auto s : Split(scope, ' '))
    if (s == want) return true;
  return false;
}

// RFC 9396: a JSON array of objects, each with a string "type".
Status CheckAuthorizationDetails(const std::string& text) {
  if (text.empty()) return Status::Ok();
  if (text.size() > kMaxAuthorizationDetails)
    return OAuth("invalid_authorization_details", "authorization_details is too large");
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec || !v.is_array() || v.get_array().empty())
    return OAuth("invalid_authorization_details",
                 "authorization_details must be a non-empty JSON array");
  for (const auto& item : v.get_array()) {
    if (!item.is_object())
      return OAuth("invalid_authorization_details", "each authorization detail must be an object");
    const bj::value* type = item.get_object().if_contains("type");
    if (!type || !type->is_string() || type->get_string().empty())
      return OAuth("invalid_authorization_details",
                   "each authorization detail needs a string \"type\"");
  }
  return Status::Ok();
}

std::string PendingResultJson(const std::string& id, const std::string& message) {
  return bj::serialize(
      bj::object{{"status", "approval_pending"}, {"approval_id", id}, {"message", message}});
}

}  // namespace

bj::object ApprovalJson(const st::ApprovalRecord& rec) {
  bj::object o{{"id", rec.id},
               {"kind", rec.kind},
               {"status", rec.state},
               {"binding_message", rec.binding_message},
               {"created_at", Iso(rec.created_at)},
               {"expires_at", Iso(rec.expires_at)},
               {"decided_at", OptIso(rec.decided_at)}};
  if (rec.kind == "ciba") {
    o["client_id"] = rec.client_id;
    o["client_name"] = rec.client_name.empty() ? rec.client_id : rec.client_name;
    o["scope"] = rec.scope;
    bj::value details = nullptr;
    if (!rec.authorization_details.empty()) {
      boost::system::error_code ec;
      details = bj::parse(rec.authorization_details, ec);
      if (ec) details = nullptr;
    }
    o["authorization_details"] = std::move(details);
  } else {
    boost::system::error_code ec;
    bj::value args = bj::parse(rec.arguments, ec);
    if (ec) args = bj::object{};
    o["tool"] = bj::object{{"name", rec.tool_name},
                           {"arguments", std::move(args)},
                           {"arguments_hash", rec.arguments_hash}};
    o["session_id"] = rec.session_id;
    o["resumed"] = rec.resumed;
    if (rec.finished_at) {
      bj::value result = bj::parse(rec.result, ec);
      if (ec) result = bj::string(rec.result);
      o["outcome"] = bj::object{{"is_error", rec.result_is_error},
                                {"result", std::move(result)},
                                {"finished_at", Iso(*rec.finished_at)}};
    }
  }
  return o;
}

ApprovalService::ApprovalService(ApprovalOptions options, st::Database& db, const Clock& clock,
                                 Random& random, UserFeed& feed)
    : options_(options), db_(db), clock_(clock), random_(random), feed_(feed) {}

void ApprovalService::PublishUpdate(const st::ApprovalRecord& rec, const std::string& event) {
  feed_.Publish(rec.tenant_id, rec.user_id, event,
                bj::serialize(bj::object{{"approval", ApprovalJson(rec)}}));
}

// ---- the agent's gate ----

Result<agent::ApprovalHold> ApprovalService::Check(const agent::TenantContext& context,
                                                   const agent::Tool& tool,
                                                   const agent::ToolCall& call,
                                                   const bj::object& arguments) {
  const std::string& name = tool.spec().name;
  // The tool's own requirement first, then the tenant's policies, in order: the first that applies
  // decides.
  std::vector<agent::ApprovalRequirement> rules;
  if (!tool.approval().empty()) rules.push_back(tool.approval());
  std::vector<st::ApprovalPolicyRecord> policies;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(policies, st::approval_policies::List(tx, context.tenant_id));
    return Status::Ok();
  }));
  for (const auto& p : policies)
    if (p.tool_name == name || p.tool_name == "*")
      rules.push_back({p.when_expr, p.binding_message, p.expires_in_seconds});
  const agent::ApprovalRequirement* applies = nullptr;
  for (const auto& rule : rules) {
    auto cond = CompileCached(rule.when);
    // A rule that no longer compiles asks rather than lets the call through.
    if (!cond.ok() || cond->Requires(arguments)) {
      applies = &rule;
      break;
    }
  }
  if (!applies) return agent::ApprovalHold{};

  const int64_t now = clock_.NowUnixMillis();
  int64_t expiry = applies->expires_in_seconds > 0 ? applies->expires_in_seconds
                                                   : options_.tool_default_expiry_seconds;
  expiry = std::min(expiry, options_.tool_max_expiry_seconds);
  st::ApprovalRecord rec;
  rec.tenant_id = context.tenant_id;
  rec.id = random_.Uuid();
  rec.user_id = context.user_id;
  rec.kind = "tool_call";
  rec.state = "pending";
  rec.binding_message = RenderBindingMessage(applies->binding_message, name, arguments);
  rec.tool_name = name;
  rec.arguments = CanonicalJson(bj::value(arguments));
  rec.arguments_hash = ArgumentsHash(arguments);
  rec.session_id = context.session_id.value();
  rec.tool_call_id = call.id;
  rec.trace_id = context.trace_id.value();
  rec.created_at = now;
  rec.expires_at = now + expiry * 1000;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) { return st::approvals::Insert(tx, rec); }));
  log::Info("tool call held for approval", {{"tenant_id", rec.tenant_id.value()},
                                            {"user_id", rec.user_id.value()},
                                            {"approval_id", rec.id},
                                            {"tool", name}});
  PublishUpdate(rec, "approval_requested");
  agent::ApprovalHold hold;
  hold.held = true;
  hold.approval_id = rec.id;
  hold.notice = fmt::format(
      "Approval needed: {} I have not done it yet. Approve or deny it on the Approvals page; "
      "I will continue once you decide.",
      rec.binding_message);
  hold.tool_result = PendingResultJson(
      rec.id,
      "This action needs the user's approval. It has not run; it runs once if the user approves.");
  return hold;
}

// ---- CIBA ----

Result<BackchannelStarted> ApprovalService::StartBackchannel(const st::OAuthClientRecord& client,
                                                             const BackchannelRequest& r) {
  if (r.scope.empty() || !HasScope(r.scope, "openid"))
    return OAuth("invalid_scope", "scope must include openid");
  if (r.scope.size() > 1024 || !PrintableUtf8(r.scope))
    return OAuth("invalid_scope", "scope is not valid");
  if (r.login_hint.empty())
    return OAuth("invalid_request", "login_hint is required (the user's email)");
  if (r.binding_message.size() > 200 || !PrintableUtf8(r.binding_message))
    return OAuth("invalid_binding_message",
                 "binding_message must be printable and at most 200 characters");
  GH_RETURN_IF_ERROR(CheckAuthorizationDetails(r.authorization_details));
  int64_t expiry = options_.ciba_default_expiry_seconds;
  if (r.requested_expiry) {
    if (*r.requested_expiry <= 0 || *r.requested_expiry > options_.ciba_max_expiry_seconds)
      return OAuth("invalid_request", fmt::format("requested_expiry must be 1 to {} seconds",
                                                  options_.ciba_max_expiry_seconds));
    expiry = *r.requested_expiry;
  }
  // The user must belong to the client's tenant: anyone else is "unknown" to this client.
  std::optional<st::UserRecord> user;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    if (r.login_hint.find('@') != std::string::npos) {
      GH_ASSIGN_OR_RETURN(user, st::users::FindByEmail(tx, ToLower(Trim(r.login_hint))));
    } else {
      GH_ASSIGN_OR_RETURN(user, st::users::Get(tx, client.tenant_id, UserId(r.login_hint)));
    }
    return Status::Ok();
  }));
  if (!user || user->tenant_id != client.tenant_id || !user->verified)
    return OAuth("unknown_user_id", "login_hint does not name a user of this tenant");

  const std::string auth_req_id = random_.Token(32);
  const int64_t now = clock_.NowUnixMillis();
  st::ApprovalRecord rec;
  rec.tenant_id = client.tenant_id;
  rec.id = random_.Uuid();
  rec.user_id = user->id;
  rec.kind = "ciba";
  rec.state = "pending";
  rec.client_id = client.client_id;
  rec.client_name = client.name;
  rec.auth_req_hash = crypto::Sha256Hex(auth_req_id);
  rec.scope = r.scope;
  rec.binding_message =
      r.binding_message.empty() ? client.name + " asks for your approval" : r.binding_message;
  rec.authorization_details = r.authorization_details;
  rec.poll_interval = options_.ciba_interval_seconds;
  rec.last_polled_at = now;  // the first poll, too, waits one interval
  rec.created_at = now;
  rec.expires_at = now + expiry * 1000;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) { return st::approvals::Insert(tx, rec); }));
  log::Info("backchannel authentication requested", {{"tenant_id", rec.tenant_id.value()},
                                                     {"client_id", client.client_id},
                                                     {"approval_id", rec.id}});
  PublishUpdate(rec, "approval_requested");
  return BackchannelStarted{auth_req_id, expiry, rec.poll_interval};
}

Result<st::ApprovalRecord> ApprovalService::PollBackchannel(const st::OAuthClientRecord& client,
                                                            const std::string& auth_req_id) {
  const Status invalid = OAuth("invalid_grant", "auth_req_id is not valid");
  if (auth_req_id.empty() || auth_req_id.size() > 256) return invalid;
  const std::string hash = crypto::Sha256Hex(auth_req_id);
  Status outcome;
  std::optional<st::ApprovalRecord> rec;
  bool expired_now = false;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    outcome = Status::Ok();
    expired_now = false;
    const int64_t now = clock_.NowUnixMillis();
    GH_ASSIGN_OR_RETURN(rec, st::approvals::FindByAuthReq(tx, client.tenant_id, hash));
    // Another client's request is reported exactly like an unknown one.
    if (!rec || rec->kind != "ciba" || rec->client_id != client.client_id) {
      outcome = invalid;
      return Status::Ok();
    }
    if (rec->state == "pending" || rec->state == "approved") {
      if (rec->expires_at <= now) {
        GH_ASSIGN_OR_RETURN(expired_now, st::approvals::Transition(tx, client.tenant_id, rec->id,
                                                                   rec->state, "expired", now));
        rec->state = "expired";
        outcome = OAuth("expired_token", "the request expired before the user approved it");
        return Status::Ok();
      }
    }
    if (rec->state == "approved") {
      GH_ASSIGN_OR_RETURN(bool consumed, st::approvals::Transition(tx, client.tenant_id, rec->id,
                                                                   "approved", "consumed", now));
      if (!consumed)
        outcome = invalid;
      else
        rec->state = "consumed";
      return Status::Ok();
    }
    if (rec->state == "denied") {
      outcome = OAuth("access_denied", "the user denied the request");
      return Status::Ok();
    }
    if (rec->state == "expired") {
      outcome = OAuth("expired_token", "the request expired before the user approved it");
      return Status::Ok();
    }
    if (rec->state != "pending") {  // consumed: single use
      outcome = invalid;
      return Status::Ok();
    }
    if (now - rec->last_polled_at < rec->poll_interval * 1000 - kPollGraceMs) {
      rec->poll_interval += kSlowDownStep;
      outcome =
          OAuth("slow_down", fmt::format("poll at most every {} seconds", rec->poll_interval));
    } else {
      outcome = OAuth("authorization_pending", "the user has not decided yet");
    }
    return st::approvals::RecordPoll(tx, client.tenant_id, rec->id, now, rec->poll_interval);
  }));
  if (expired_now) PublishUpdate(*rec);
  if (!outcome.ok()) return outcome;
  log::Info("backchannel authentication granted", {{"tenant_id", rec->tenant_id.value()},
                                                   {"client_id", client.client_id},
                                                   {"approval_id", rec->id}});
  PublishUpdate(*rec);
  return *rec;
}

// ---- decisions ----

Result<std::vector<st::ApprovalRecord>> ApprovalService::ListForUser(const TenantId& tenant,
                                                                     const UserId& user) {
  std::vector<st::ApprovalRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(out, st::approvals::ListForUser(tx, tenant, user, 100));
    return Status::Ok();
  }));
  // A pending request past its expiry reads as expired even before the sweep marks it.
  const int64_t now = clock_.NowUnixMillis();
  for (auto& r : out)
    if (r.state == "pending" && r.expires_at <= now) r.state = "expired";
  return out;
}

Result<st::ApprovalRecord> ApprovalService::Get(const TenantId& tenant, const UserId& user,
                                                const std::string& id) {
  std::optional<st::ApprovalRecord> rec;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(rec, st::approvals::Get(tx, tenant, id));
    return Status::Ok();
  }));
  if (!rec || rec->user_id != user)
    return Status::NotFound("no such approval request", "approval_not_found");
  return *rec;
}

Result<st::ApprovalRecord> ApprovalService::Decide(
    const TenantId& tenant, const UserId& user, const std::string& id, bool approve,
    const std::optional<std::string>& arguments_hash) {
  Status outcome;
  std::optional<st::ApprovalRecord> rec;
  bool expired_now = false;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    outcome = Status::Ok();
    expired_now = false;
    const int64_t now = clock_.NowUnixMillis();
    GH_ASSIGN_OR_RETURN(rec, st::approvals::Get(tx, tenant, id));
    // Someone else's request is reported exactly like a missing one.
    if (!rec || rec->user_id != user) {
      outcome = Status::NotFound("no such approval request", "approval_not_found");
      return Status::Ok();
    }
    if (arguments_hash && rec->kind == "tool_call" &&
        !ConstantTimeEquals(*arguments_hash, rec->arguments_hash)) {
      outcome = Status::Conflict("the request's arguments are not the ones you reviewed",
                                 "arguments_mismatch");
      return Status::Ok();
    }
    if (rec->state != "pending") {
      outcome = Status::Conflict("this request was decided already (" + rec->state + ")",
                                 "approval_already_decided")
                    .WithDetail("status", rec->state);
      return Status::Ok();
    }
    if (rec->expires_at <= now) {
      GH_ASSIGN_OR_RETURN(expired_now,
                          st::approvals::Transition(tx, tenant, id, "pending", "expired", now));
      rec->state = "expired";
      outcome = Status::Conflict("this request expired before you decided", "approval_expired");
      return Status::Ok();
    }
    const std::string to = approve ? "approved" : "denied";
    GH_ASSIGN_OR_RETURN(bool moved, st::approvals::Transition(tx, tenant, id, "pending", to, now));
    if (!moved) {
      outcome = Status::Conflict("this request was decided already", "approval_already_decided");
      return Status::Ok();
    }
    rec->state = to;
    rec->decided_at = now;
    return Status::Ok();
  }));
  if (expired_now) {
    PublishUpdate(*rec);
    if (rec->kind == "tool_call" && on_decided_) on_decided_();
  }
  if (!outcome.ok()) return outcome;
  log::Info(approve ? "approval granted" : "approval denied", {{"tenant_id", tenant.value()},
                                                               {"user_id", user.value()},
                                                               {"approval_id", id},
                                                               {"kind", rec->kind}});
  PublishUpdate(*rec);
  if (rec->kind == "tool_call" && on_decided_) on_decided_();
  return *rec;
}

Result<bool> ApprovalService::Expire(const st::ApprovalRecord& rec) {
  bool moved = false;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(moved, st::approvals::Transition(tx, rec.tenant_id, rec.id, "pending",
                                                         "expired", clock_.NowUnixMillis()));
    return Status::Ok();
  }));
  if (moved) {
    st::ApprovalRecord updated = rec;
    updated.state = "expired";
    PublishUpdate(updated);
    log::Info("approval request expired",
              {{"tenant_id", rec.tenant_id.value()}, {"approval_id", rec.id}});
  }
  return moved;
}

// ---- policies ----

Result<std::vector<st::ApprovalPolicyRecord>> ApprovalService::Policies(const TenantId& tenant) {
  std::vector<st::ApprovalPolicyRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(out, st::approval_policies::List(tx, tenant));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<st::ApprovalPolicyRecord>> ApprovalService::SetPolicies(
    const TenantId& tenant, const std::vector<PolicyInput>& policies) {
  if (policies.size() > kMaxPolicies)
    return Status::Unprocessable("at most 50 policies", "invalid_policy");
  std::vector<st::ApprovalPolicyRecord> records;
  const int64_t now = clock_.NowUnixMillis();
  for (size_t i = 0; i < policies.size(); ++i) {
    const PolicyInput& p = policies[i];
    const std::string where = fmt::format("policy {}: ", i + 1);
    if (p.tool.empty() || p.tool.size() > 64 || !PrintableUtf8(p.tool))
      return Status::Unprocessable(where + "tool must name a tool (or be \"*\")", "invalid_policy");
    auto cond = Condition::Compile(p.when);
    if (!cond.ok()) return Status::Unprocessable(where + cond.status().message(), "invalid_policy");
    if (p.binding_message.size() > 200 || !PrintableUtf8(p.binding_message))
      return Status::Unprocessable(
          where + "binding_message must be printable, at most 200 characters", "invalid_policy");
    if (p.expires_in_seconds < 0 || p.expires_in_seconds > options_.tool_max_expiry_seconds)
      return Status::Unprocessable(where + "expires_in_seconds is out of range", "invalid_policy");
    records.push_back({tenant, fmt::format("p{}", i + 1), p.tool, std::string(Trim(p.when)),
                       p.binding_message, p.expires_in_seconds, now + static_cast<int64_t>(i)});
  }
  GH_RETURN_IF_ERROR(
      db_.Write([&](st::Tx& tx) { return st::approval_policies::Replace(tx, tenant, records); }));
  return records;
}

}  // namespace gh::approvals
