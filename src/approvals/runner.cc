#include "approvals/runner.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "approvals/policy.h"
#include "common/log.h"
#include "storage/repositories.h"

namespace gh::approvals {

namespace st = gh::storage;
namespace bj = boost::json;
namespace net = boost::asio;

namespace {

agent::ToolResult ErrorResult(const std::string& message, const std::string& approval_id) {
  return {bj::serialize(bj::object{{"error", message}, {"approval_id", approval_id}}), true};
}

// The continuation has no client attached: its progress goes nowhere; the outcome is published.
class SilentEvents final : public chat::ChatEvents {
 public:
  http::Awaitable<Status> OnStart(const SessionId&, const MessageId&, const TraceId&) override {
    co_return Status::Ok();
  }
  http::Awaitable<Status> OnTextDelta(std::string_view) override { co_return Status::Ok(); }
  http::Awaitable<Status> OnToolCall(const agent::ToolCall&) override { co_return Status::Ok(); }
  http::Awaitable<Status> OnToolResult(const agent::ToolCall&, const agent::ToolResult&) override {
    co_return Status::Ok();
  }
};

bool Final(const std::string& state) {
  return state == "denied" || state == "expired" || state == "completed" || state == "failed" ||
         state == "interrupted";
}

}  // namespace

ApprovalRunner::ApprovalRunner(RunnerOptions options, st::Database& db, const Clock& clock,
                               ApprovalService& approvals, const agent::ToolRegistry& tools,
                               chat::ChatService& chat,
                               std::function<tenancy::PlanCatalogPtr()> plans)
    : options_(options),
      db_(db),
      clock_(clock),
      approvals_(approvals),
      tools_(tools),
      chat_(chat),
      plans_(std::move(plans)) {}

void ApprovalRunner::Start(net::any_io_executor executor) {
  auto timer = std::make_shared<net::steady_timer>(executor);
  {
    std::lock_guard lock(mu_);
    timer_ = timer;
  }
  net::co_spawn(executor, Loop(std::move(timer)), net::detached);
}

void ApprovalRunner::Wake() {
  std::shared_ptr<net::steady_timer> timer;
  {
    std::lock_guard lock(mu_);
    timer = timer_.lock();
  }
  if (timer) net::post(timer->get_executor(), [timer] { timer->cancel(); });
}

void ApprovalRunner::Kick() {
  kicked_ = true;
  Wake();
}

void ApprovalRunner::Stop() {
  stopped_ = true;
  Wake();
}

bool ApprovalRunner::Begin(const std::string& id) {
  std::lock_guard lock(mu_);
  return running_.insert(id).second;
}

void ApprovalRunner::End(const std::string& id) {
  std::lock_guard lock(mu_);
  running_.erase(id);
}

http::Awaitable<void> ApprovalRunner::Loop(std::shared_ptr<net::steady_timer> timer) {
  while (!stopped_) {
    kicked_ = false;
    co_await Sweep();
    if (stopped_) break;
    if (kicked_) continue;  // a decision arrived during the sweep
    timer->expires_after(options_.sweep_interval);
    boost::system::error_code ec;
    co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

http::Awaitable<void> ApprovalRunner::Sweep() {
  const int64_t now = clock_.NowUnixMillis();
  std::vector<st::ApprovalRecord> due, stale;
  Status st = db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(due, st::approvals::ListDue(tx, now, 100));
    GH_ASSIGN_OR_RETURN(stale, st::approvals::ListStaleExecutions(tx, now, 100));
    return Status::Ok();
  });
  if (!st.ok()) {
    log::Warn("approval sweep failed", {{"error", st.message()}});
    co_return;
  }
  for (const auto& rec : stale) {
    // The process that claimed it stopped midway: the call may or may not have happened. Never
    // run it again; tell the model so.
    (void)db_.Write([&](st::Tx& tx) {
      return st::approvals::Finish(
          tx, rec.tenant_id, rec.id, "interrupted",
          bj::serialize(bj::object{{"error",
                                    "the action was interrupted (the server stopped while it "
                                    "ran); it may or may not have completed"}}),
          true, now);
    });
    log::Warn("approved tool call interrupted",
              {{"tenant_id", rec.tenant_id.value()}, {"approval_id", rec.id}});
  }
  if (!stale.empty()) kicked_ = true;  // their conversations are due now
  auto executor = co_await net::this_coro::executor;
  for (auto& rec : due) {
    if (!Begin(rec.id)) continue;
    net::co_spawn(executor, Process(std::move(rec)), net::detached);
  }
}

http::Awaitable<agent::ToolResult> ApprovalRunner::Execute(const st::ApprovalRecord& rec,
                                                           const agent::TenantContext& context,
                                                           const tenancy::Plan* plan) {
  boost::system::error_code ec;
  bj::value args = bj::parse(rec.arguments, ec);
  if (ec || !args.is_object() || ArgumentsHash(args.get_object()) != rec.arguments_hash)
    co_return ErrorResult("the stored call does not match what was approved; it did not run",
                          rec.id);
  auto tool = tools_.Find(context, rec.tool_name);
  if (!tool || !plan || !tool->AllowedBy(*plan))
    co_return ErrorResult("tool '" + rec.tool_name + "' is no longer available; it did not run",
                          rec.id);
  if (Status valid = agent::ValidateArguments(args.get_object(), tool->spec().parameters_schema);
      !valid.ok())
    co_return ErrorResult(valid.message(), rec.id);
  agent::AuthzDecision d = tools_.Authorize(context, *tool, args.get_object());
  if (!d.allowed) co_return ErrorResult("not authorized", rec.id);
  co_return co_await agent::RunTool(*tool, context, args.get_object());
}

http::Awaitable<void> ApprovalRunner::Process(st::ApprovalRecord rec) {
  const std::string id = rec.id;
  const TenantId tenant_id = rec.tenant_id;
  // Whose call it is, as they are now.
  std::optional<st::TenantRecord> tenant;
  std::optional<st::UserRecord> user;
  std::vector<std::string> groups;
  Status loaded = db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(tenant, st::tenants::Get(tx, rec.tenant_id));
    GH_ASSIGN_OR_RETURN(user, st::users::Get(tx, rec.tenant_id, rec.user_id));
    if (user) {
      GH_ASSIGN_OR_RETURN(groups, st::users::Groups(tx, rec.tenant_id, rec.user_id));
    }
    return Status::Ok();
  });
  if (!loaded.ok()) {
    End(id);
    co_return;
  }
  if (rec.state == "pending") {  // past its expiry
    auto moved = approvals_.Expire(rec);
    if (!moved.ok() || !*moved) {
      End(id);
      co_return;
    }
    rec.state = "expired";
  }
  if (rec.kind != "tool_call") {
    End(id);
    co_return;
  }
  if (!tenant || !user) {
    // The account is gone: nobody to continue for.
    (void)db_.Write([&](st::Tx& tx) { return st::approvals::MarkResumed(tx, tenant_id, id); });
    End(id);
    co_return;
  }
  identity::Principal who;
  who.user_id = user->id;
  who.tenant_id = tenant->id;
  who.email = user->email;
  who.subscription_tier = tenant->tier;
  who.groups = groups;
  const tenancy::PlanCatalogPtr plans = plans_();
  const tenancy::Plan* plan = plans->Find(tenant->tier);
  const agent::TenantContext context{who.tenant_id,         who.user_id, who.email,
                                     who.subscription_tier, who.role(),  SessionId(rec.session_id),
                                     TraceId(rec.trace_id)};

  if (rec.state == "approved") {
    bool claimed = false;
    const int64_t now = clock_.NowUnixMillis();
    Status st = db_.Write([&](st::Tx& tx) -> Status {
      GH_ASSIGN_OR_RETURN(
          claimed, st::approvals::ClaimForExecution(tx, tenant_id, id, now,
                                                    now + options_.execution_lease_seconds * 1000));
      return Status::Ok();
    });
    if (!st.ok() || !claimed) {  // another runner has it
      End(id);
      co_return;
    }
    log::Info("running approved tool call",
              {{"tenant_id", tenant_id.value()}, {"approval_id", id}, {"tool", rec.tool_name}});
    agent::ToolResult tr = co_await Execute(rec, context, plan);
    const std::string state = tr.is_error ? "failed" : "completed";
    const int64_t done = clock_.NowUnixMillis();
    (void)db_.Write([&](st::Tx& tx) {
      return st::approvals::Finish(tx, tenant_id, id, state, tr.content, tr.is_error, done);
    });
    rec.state = state;
    rec.result = tr.content;
    rec.result_is_error = tr.is_error;
    rec.finished_at = done;
    approvals_.PublishUpdate(rec);
  }
  if (!Final(rec.state) || rec.resumed || !plan) {
    End(id);
    co_return;
  }
  bool leased = false;
  const int64_t now = clock_.NowUnixMillis();
  Status st = db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(leased,
                        st::approvals::LeaseResume(tx, tenant_id, id, now,
                                                   now + options_.resume_lease_seconds * 1000));
    return Status::Ok();
  });
  if (!st.ok() || !leased) {
    End(id);
    co_return;
  }
  agent::ToolResult told;
  if (rec.state == "completed" || rec.state == "failed" || rec.state == "interrupted") {
    told = {rec.result, rec.result_is_error || rec.state != "completed"};
  } else if (rec.state == "denied") {
    told = ErrorResult("the user denied this action; it did not run", id);
  } else {
    told = ErrorResult("the user did not approve this action in time; it did not run", id);
  }
  chat::ContinuationRequest cr;
  cr.principal = who;
  cr.plan = plan;
  cr.tenant = *tenant;
  cr.session_id = SessionId(rec.session_id);
  cr.trace_id = TraceId(rec.trace_id);
  // The call as approved, under an id of its own: the original call was answered "pending".
  cr.call = agent::ToolCall{rec.tool_call_id + "_decided", rec.tool_name, rec.arguments};
  cr.result = told;
  cr.in_record = [tenant_id, id](st::Tx& tx) {
    return st::approvals::MarkResumed(tx, tenant_id, id);
  };
  SilentEvents events;
  auto out = co_await chat_.ContinueAfterApproval(cr, events);
  bool resumed = false;
  (void)db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto now_rec, st::approvals::Get(tx, tenant_id, id));
    resumed = now_rec && now_rec->resumed;
    return Status::Ok();
  });
  if (!out.ok() && !resumed) {
    const Status& why = out.status();
    const bool later = why.error_code() == "session_busy" || why.code() == StatusCode::kUnavailable;
    if (later) {
      (void)db_.Write([&](st::Tx& tx) { return st::approvals::ReleaseResume(tx, tenant_id, id); });
    } else {
      // Nothing to continue (the session is gone): stop trying.
      log::Warn("conversation could not go on after an approval",
                {{"tenant_id", tenant_id.value()}, {"approval_id", id}, {"error", why.message()}});
      (void)db_.Write([&](st::Tx& tx) { return st::approvals::MarkResumed(tx, tenant_id, id); });
    }
    End(id);
    co_return;
  }
  rec.resumed = true;
  approvals_.PublishUpdate(rec);
  bj::object event{{"approval_id", id}, {"session_id", rec.session_id}};
  if (out.ok()) {
    event["message_id"] = out->message_id.value();
    event["response"] = out->response;
  } else {
    event["error"] = out.status().error_code();
  }
  approvals_.feed().Publish(tenant_id, rec.user_id, "chat_continued", bj::serialize(event));
  log::Info("conversation went on after an approval",
            {{"tenant_id", tenant_id.value()}, {"approval_id", id}, {"state", rec.state}});
  End(id);
}

}  // namespace gh::approvals
