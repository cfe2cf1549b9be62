#include "chat/chat_service.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include "chat/system_prompt.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "models/resilient_model.h"
#include "storage/repositories.h"
#include "storage/tenant_settings_repository.h"

namespace gh::chat {

namespace st = gh::storage;
namespace bj = boost::json;
using agent::Awaitable;

namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHistoryLimit = 60;
constexpr int64_t kBusyLeaseMs = 15 * kMinute;

std::string ToolCallsJson(const std::vector<agent::ToolCall>& calls) {
  bj::array a;
  for (const auto& c : calls)
    a.push_back(bj::object{{"id", c.id}, {"name", c.name}, {"arguments", c.arguments_json}});
  return bj::serialize(a);
}

std::vector<agent::ToolCall> ParseToolCalls(const std::string& json) {
  std::vector<agent::ToolCall> out;
  boost::system::error_code ec;
  bj::value v = bj::parse(json, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& c : v.get_array()) {
    if (!c.is_object()) continue;
    const auto& o = c.get_object();
    auto s = [&](const char* k) {
      auto* x = o.if_contains(k);
      return x && x->is_string() ? std::string(x->get_string()) : std::string();
    };
    out.push_back({s("id"), s("name"), s("arguments")});
  }
  return out;
}

agent::Role RoleFrom(const std::string& r) {
  if (r == "assistant") return agent::Role::kAssistant;
  if (r == "tool") return agent::Role::kTool;
  if (r == "system") return agent::Role::kSystem;
  return agent::Role::kUser;
}

// Appends the session's stored history (the last kHistoryLimit messages, oldest first) to `out`.
// A window may start in the middle of a tool exchange: leading tool results are dropped.
Status AppendStoredHistory(st::Database& db, const TenantId& tenant, const SessionId& session,
                           std::vector<agent::ChatMessage>& out) {
  std::vector<st::MessageRecord> history;
  GH_RETURN_IF_ERROR(db.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(history, st::messages::ListForSession(tx, tenant, session, kHistoryLimit));
    return Status::Ok();
  }));
  size_t first = 0;
  while (first < history.size() && history[first].role == "tool") ++first;
  for (size_t i = first; i < history.size(); ++i) {
    const auto& h = history[i];
    agent::ChatMessage m{RoleFrom(h.role), h.content, {}, h.tool_call_id.value_or(""), "", false};
    if (h.tool_calls) m.tool_calls = ParseToolCalls(*h.tool_calls);
    out.push_back(std::move(m));
  }
  return Status::Ok();
}

// Appends `messages` to a session in order from `seq`: the final assistant answer (no tool calls)
// under `answer_id`, the rest under fresh ids. Returns how many were stored.
Result<int64_t> StoreMessages(st::Tx& tx, Random& random, const identity::Principal& who,
                              const SessionId& session, int64_t seq,
                              const std::vector<agent::ChatMessage>& messages,
                              const MessageId& answer_id, int64_t at) {
  int64_t added = 0;
  for (const auto& m : messages) {
    const bool answer = m.role == agent::Role::kAssistant && m.tool_calls.empty();
    std::optional<std::string> calls;
    if (!m.tool_calls.empty()) calls = ToolCallsJson(m.tool_calls);
    std::optional<std::string> call_id;
    if (!m.tool_call_id.empty()) call_id = m.tool_call_id;
    GH_RETURN_IF_ERROR(st::messages::Insert(
        tx,
        {answer ? answer_id : MessageId(random.TimeOrderedUuid(at)), who.tenant_id, session,
         who.user_id, seq++, std::string(agent::RoleName(m.role)), m.content, calls, call_id, at}));
    ++added;
  }
  return added;
}

std::string TitleFrom(const std::string& message) {
  std::string t = message.substr(0, 60);
  for (auto& c : t)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return message.size() > 60 ? t + "…" : t;
}

// Collects tool activity for the JSON answer while forwarding every event.
class RecordingEvents final : public ChatEvents {
 public:
  explicit RecordingEvents(ChatEvents& inner) : inner_(inner) {}
  Awaitable<Status> OnStart(const SessionId& s, const MessageId& m, const TraceId& t) override {
    co_return co_await inner_.OnStart(s, m, t);
  }
  Awaitable<Status> OnTextDelta(std::string_view text) override {
    if (meter) meter->TextDelta();
    co_return co_await inner_.OnTextDelta(text);
  }
  Awaitable<Status> OnToolCall(const agent::ToolCall& call) override {
    calls.push_back({call.id, call.name, call.arguments_json, "", false});
    if (meter) meter->ToolCallStarted(call.id, call.name, call.arguments_json.size());
    co_return co_await inner_.OnToolCall(call);
  }
  Awaitable<Status> OnToolResult(const agent::ToolCall& call,
                                 const agent::ToolResult& result) override {
    for (auto& c : calls)
      if (c.id == call.id) {
        c.result = result.content;
        c.is_error = result.is_error;
      }
    if (meter) meter->ToolCallFinished(call.id, result.is_error, result.content.size());
    co_return co_await inner_.OnToolResult(call, result);
  }
  std::vector<ToolCallSummary> calls;
  metering::TurnMeter* meter = nullptr;  // optional: times the turn's calls

 private:
  ChatEvents& inner_;
};

// A turn's model with the plan's fallbacks behind it: calls go to the chosen model and, when it
// fails upstream (after its own retries) before any of its answer reached the client, to each
// fallback in turn, one attempt each (catalog models retry on their own). Remembers which model
// answered the latest call, so it is priced and recorded under that model's name.
// Belongs to one turn (one coroutine).
class FallbackModel final : public agent::Model {
 public:
  FallbackModel(std::vector<agent::ModelEntry> chain, Random& random)
      : chain_(chain), resilient_(Options(std::move(chain)), random) {}
  std::string_view provider() const override { return "fallback"; }
  Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                               agent::ModelEvents& events) override {
    models::FallbackReport report;
    auto turn = co_await resilient_.GenerateWithReport(request, events, report);
    answered_ = nullptr;
    for (const auto& e : chain_)
      if (e.name == report.model_name) answered_ = &e;
    if (answered_ && answered_ != &chain_.front())
      log::Info("a fallback model answered", {{"tenant_id", request.context.tenant_id.value()},
                                              {"model", chain_.front().name},
                                              {"answered_by", answered_->name}});
    co_return turn;
  }
  Status Accepts(const agent::ModelRequest& request) const override {
    return resilient_.Accepts(request);  // what some entry accepts
  }
  const std::vector<agent::ModelEntry>& chain() const { return chain_; }
  // The entry that answered the latest call; null before any call or when every entry failed.
  const agent::ModelEntry* answered() const { return answered_; }

 private:
  static models::ResilientModelOptions Options(std::vector<agent::ModelEntry> chain) {
    models::ResilientModelOptions o;
    o.chain = std::move(chain);
    o.retry.max_attempts = 1;
    return o;
  }
  const std::vector<agent::ModelEntry> chain_;
  models::ResilientModel resilient_;
  const agent::ModelEntry* answered_ = nullptr;
};

// The chosen model, then the plan's fallbacks that are registered (each once).
std::vector<agent::ModelEntry> FallbackChain(const agent::ModelRegistry& models,
                                             const tenancy::Plan& plan,
                                             const agent::ModelEntry& chosen) {
  std::vector<agent::ModelEntry> chain = {chosen};
  for (const auto& name : plan.fallback_models) {
    const agent::ModelEntry* e = models.Find(name);
    if (!e) {
      log::Warn("a plan's fallback model is not configured",
                {{"plan", plan.name}, {"model", name}});
      continue;
    }
    bool seen = false;
    for (const auto& c : chain) seen = seen || c.name == name;
    if (!seen) chain.push_back(*e);
  }
  return chain;
}

// Reserves each model call's worst case against the token and spend limits before it runs and
// settles the real figures after (written with the reservation's next unit of work, see
// QuotaService::SettleModelCallLater); charges tool executions. With a TurnMeter, the meter prices
// each call (markup included) and records it as a usage event and a span; without a reservation
// it only meters.
class QuotaGuard final : public agent::CallGuard {
 public:
  QuotaGuard(tenancy::QuotaService& quota, tenancy::Reservation& r,
             const metering::PriceCatalog& prices, std::string model)
      : QuotaGuard(quota, &r, prices, std::move(model), nullptr) {}
  QuotaGuard(tenancy::QuotaService& quota, tenancy::Reservation* r,
             const metering::PriceCatalog& prices, std::string model, metering::TurnMeter* meter)
      : quota_(quota), r_(r), prices_(prices), model_(std::move(model)), meter_(meter) {}

  // With fallbacks: a call is reserved at the worst case over the chain (any of them may answer)
  // and settled, priced and metered as the model that answered. `fallback` outlives the guard.
  void UseFallbacks(const FallbackModel* fallback) { fallback_ = fallback; }

  Status BeforeModelCall(const agent::ModelRequest& req) override {
    // A token is at least one byte, so the bytes sent bound the input tokens from above.
    int64_t max_in = 0;
    for (const auto& m : req.messages) {
      max_in += static_cast<int64_t>(m.content.size()) + 16;
      for (const auto& c : m.tool_calls)
        max_in += static_cast<int64_t>(c.name.size() + c.arguments_json.size()) + 16;
    }
    for (const auto& t : req.tools)
      max_in +=
          static_cast<int64_t>(t.name.size() + t.description.size() + t.parameters_schema.size()) +
          16;
    const int64_t max_out = req.max_output_tokens;
    int64_t worst = 0;
    if (!fallback_) {
      worst = meter_ ? meter_->WorstCaseModelCost(max_in, max_out)
                     : prices_.WorstCaseModelCost(model_, max_in, max_out);
    } else {
      for (const auto& e : fallback_->chain()) {
        if (meter_) meter_->UseModel(e.name, e.provider_model_id);
        worst = std::max(worst, meter_ ? meter_->WorstCaseModelCost(max_in, max_out)
                                       : prices_.WorstCaseModelCost(e.name, max_in, max_out));
      }
      UseModelThatAnswered();
    }
    if (r_) GH_RETURN_IF_ERROR(quota_.ReserveModelCall(*r_, max_in + max_out, worst));
    if (meter_) meter_->ModelCallStarted();
    return Status::Ok();
  }
  void AfterModelCall(const agent::ModelRequest&, const agent::Usage& u) override {
    const metering::TokenCounts tokens{u.input_tokens, u.output_tokens, u.cache_read_tokens,
                                       u.cache_write_tokens};
    if (fallback_) UseModelThatAnswered();
    const std::string& priced =
        fallback_ && fallback_->answered() ? fallback_->answered()->name : model_;
    int64_t cost =
        meter_ ? meter_->ModelCallFinished(tokens, true) : prices_.ModelCost(priced, tokens);
    if (!r_) return;
    // Written by the next unit on the reservation (the next call's or tool's reservation, or the
    // turn's final transaction): one write transaction fewer per model call.
    quota_.SettleModelCallLater(*r_, u.input_tokens + u.cache_read_tokens + u.cache_write_tokens,
                                u.output_tokens, cost);
  }
  Status BeforeToolCall(const agent::ToolCall& call) override {
    const int64_t fee = meter_ ? meter_->ToolFee() : prices_.tool_call_micros();
    if (r_) GH_RETURN_IF_ERROR(quota_.Charge(*r_, fee));
    if (meter_) meter_->ToolCallCharged(call.id, fee);
    return Status::Ok();
  }

 private:
  // The meter follows the model that answered the latest call (the chosen one before any call).
  void UseModelThatAnswered() {
    if (!meter_) return;
    const agent::ModelEntry& e =
        fallback_->answered() ? *fallback_->answered() : fallback_->chain().front();
    meter_->UseModel(e.name, e.provider_model_id);
  }

  tenancy::QuotaService& quota_;
  tenancy::Reservation* r_;  // null: meter only
  const metering::PriceCatalog& prices_;
  std::string model_;
  metering::TurnMeter* meter_;  // null: no metering
  const FallbackModel* fallback_ = nullptr;
};

}  // namespace

ChatService::ChatService(st::Database& db, const Clock& clock, Random& random,
                         const agent::ModelRegistry& models, const agent::ToolRegistry& tools,
                         tenancy::QuotaService& quota, metering::PriceCatalogPtr prices)
    : db_(db),
      clock_(clock),
      random_(random),
      models_(models),
      tools_(tools),
      quota_(quota),
      prices_(std::move(prices)) {}

Result<const agent::ModelEntry*> ChatService::ResolveModel(
    const tenancy::Plan& plan, const std::optional<std::string>& requested) const {
  if (requested) {
    const agent::ModelEntry* e = models_.Find(*requested);
    if (!e)
      return Status::NotFound(fmt::format("model '{}' does not exist", *requested),
                              "model_not_found");
    if (!plan.AllowsModel(*requested))
      return Status::PermissionDenied(
          fmt::format("the {} plan does not include model '{}'", plan.name, *requested),
          "model_not_allowed");
    return e;
  }
  const agent::ModelEntry* e = models_.Find(plan.default_model);
  if (!e) e = models_.Find(models_.default_name());
  if (!e) return Status::Unavailable("no model is configured", "model_unavailable");
  return e;
}

Result<std::string> ChatService::SystemPrompt(const identity::Principal& who,
                                              const std::string& tenant_name,
                                              const tenancy::Plan& plan, Timestamp at) {
  std::optional<st::TenantSettingsRecord> settings;
  if (directory_) {
    GH_ASSIGN_OR_RETURN(settings, directory_->Settings(who.tenant_id));
  } else {
    GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
      GH_ASSIGN_OR_RETURN(settings, st::tenant_settings::Get(tx, who.tenant_id));
      return Status::Ok();
    }));
  }
  const PromptValues values{
      tenant_name, who.tenant_id.value(), who.email, who.user_id.value(), plan.name, who.role(),
      DayKey(at)};
  if (settings && settings->system_prompt_template && !settings->system_prompt_template->empty())
    return RenderPromptTemplate(*settings->system_prompt_template, values);
  return DefaultSystemPrompt(values);
}

namespace {

// Opens a session within the plan's concurrent-session limit (check-then-act: a serialisable
// Write).
// A new session of `who`, opened at `now`, lasting as long as the plan allows.
st::SessionRecord NewSession(Random& random, const identity::Principal& who,
                             const tenancy::Plan& plan, int64_t now) {
  return {SessionId(random.Uuid()),
          who.tenant_id,
          who.user_id,
          "",
          now,
          now,
          now + plan.session_minutes * kMinute,
          {},
          0,
          0};
}

Status InsertSessionIn(st::Tx& tx, const st::SessionRecord& s, const tenancy::Plan& plan,
                       int64_t now) {
  GH_ASSIGN_OR_RETURN(int64_t open,
                      st::sessions::CountOpen(tx, s.tenant_id, s.user_id, now,
                                              now - plan.idle_timeout_minutes * kMinute));
  if (open >= plan.concurrent_sessions)
    return Status::ResourceExhausted(
               fmt::format(
                   "the {} plan allows {} open session(s); end one or wait for it to expire",
                   plan.name, plan.concurrent_sessions),
               "too_many_sessions")
        .WithDetail("limit", "concurrent_sessions")
        .WithDetail("limit_value", plan.concurrent_sessions);
  return st::sessions::Insert(tx, s);
}

}  // namespace

Result<st::SessionRecord> ChatService::CreateSession(const identity::Principal& who,
                                                     const tenancy::Plan& plan) {
  const int64_t now = clock_.NowUnixMillis();
  const st::SessionRecord s = NewSession(random_, who, plan, now);
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) { return InsertSessionIn(tx, s, plan, now); }));
  return s;
}

Result<std::vector<st::SessionRecord>> ChatService::ListSessions(const identity::Principal& who) {
  std::vector<st::SessionRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    if (who.IsTenantAdmin()) {
      GH_ASSIGN_OR_RETURN(out, st::sessions::ListForTenant(tx, who.tenant_id, 200));
    } else {
      GH_ASSIGN_OR_RETURN(out, st::sessions::ListForUser(tx, who.tenant_id, who.user_id, 200));
    }
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<st::MessageRecord>> ChatService::Messages(const identity::Principal& who,
                                                             const SessionId& id) {
  std::vector<st::MessageRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto s, st::sessions::Get(tx, who.tenant_id, id));
    if (!s || (s->user_id != who.user_id && !who.IsTenantAdmin()))
      return Status::NotFound("no such session", "session_not_found");
    GH_ASSIGN_OR_RETURN(out, st::messages::ListForSession(tx, who.tenant_id, id, 1000));
    return Status::Ok();
  }));
  return out;
}

Status ChatService::EndSession(const identity::Principal& who, const SessionId& id) {
  const int64_t now = clock_.NowUnixMillis();
  return db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto s, st::sessions::Get(tx, who.tenant_id, id));
    if (!s || (s->user_id != who.user_id && !who.IsTenantAdmin()))
      return Status::NotFound("no such session", "session_not_found");
    return st::sessions::End(tx, who.tenant_id, id, now);
  });
}

Result<st::SessionRecord> ChatService::OpenSessionFor(const ChatRequest& r, int64_t now) {
  const identity::Principal& who = r.principal;
  if (!r.session_id) {  // a new session, opened already busy: one transaction
    const int64_t opened = clock_.NowUnixMillis();
    const st::SessionRecord created = NewSession(random_, who, *r.plan, opened);
    GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
      GH_RETURN_IF_ERROR(InsertSessionIn(tx, created, *r.plan, opened));
      GH_ASSIGN_OR_RETURN(bool busy, st::sessions::TryMarkBusy(tx, who.tenant_id, created.id, now,
                                                               now + kBusyLeaseMs));
      return busy ? Status::Ok() : Status::Conflict("session is busy", "session_busy");
    }));
    return created;
  }
  std::optional<st::SessionRecord> s;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(s, st::sessions::Get(tx, who.tenant_id, *r.session_id));
    // Another user's session (or another tenant's) is reported exactly like a missing one.
    if (!s || s->user_id != who.user_id)
      return Status::NotFound("no such session", "session_not_found");
    if (s->ended_at)
      return Status::Conflict("this session has ended; start a new one", "session_ended");
    if (s->expires_at <= now)
      return Status::Conflict("this session reached its maximum duration; start a new one",
                              "session_expired");
    if (s->last_active_at + r.plan->idle_timeout_minutes * kMinute <= now)
      return Status::Conflict("this session expired after being idle; start a new one",
                              "session_expired");
    GH_ASSIGN_OR_RETURN(
        bool busy, st::sessions::TryMarkBusy(tx, who.tenant_id, s->id, now, now + kBusyLeaseMs));
    if (!busy)
      return Status::Conflict("a message is still being answered in this session", "session_busy");
    return Status::Ok();
  }));
  return *s;
}

Awaitable<Result<ChatOutcome>> ChatService::Chat(const ChatRequest& r,
                                                 tenancy::Reservation* reservation,
                                                 ChatEvents& outer_events) {
  const identity::Principal& who = r.principal;
  const auto started = clock_.Now();
  const int64_t now = ToUnixMillis(started);
  GH_CO_ASSIGN_OR_RETURN(const agent::ModelEntry* model, ResolveModel(*r.plan, r.model));
  GH_CO_ASSIGN_OR_RETURN(st::SessionRecord session, OpenSessionFor(r, now));

  ChatOutcome out;
  out.session_id = session.id;
  out.message_id = MessageId(random_.TimeOrderedUuid(now));
  out.trace_id = r.trace_id;
  out.model = model->name;

  // History, oldest first, then the new message.
  std::vector<agent::ChatMessage> messages;
  Result<std::string> prompt = SystemPrompt(who, r.tenant_name, *r.plan, started);
  if (!prompt.ok()) {
    (void)db_.Write([&](st::Tx& tx) {
      return st::sessions::FinishTurn(tx, who.tenant_id, session.id, now, 0, "");
    });
    co_return std::move(prompt).status();
  }
  messages.push_back({agent::Role::kSystem, std::move(prompt).value(), {}, "", "", false});
  if (r.history) {
    for (const auto& m : *r.history) messages.push_back(m);
  } else if (Status hs = AppendStoredHistory(db_, who.tenant_id, session.id, messages); !hs.ok()) {
    (void)db_.Write([&](st::Tx& tx) {
      return st::sessions::FinishTurn(tx, who.tenant_id, session.id, now, 0, "");
    });
    co_return hs;
  }
  messages.push_back({agent::Role::kUser, r.message, {}, "", "", false});

  std::unique_ptr<metering::TurnMeter> meter;
  if (metering_)
    meter = metering_->StartTurn({who.tenant_id, who.user_id, session.id, r.trace_id, model->name,
                                  model->provider_model_id});
  // The plan's fallback models stand behind the chosen one (see FallbackModel).
  std::shared_ptr<FallbackModel> fallback;
  if (!r.plan->fallback_models.empty()) {
    auto chain = FallbackChain(models_, *r.plan, *model);
    if (chain.size() > 1) fallback = std::make_shared<FallbackModel>(std::move(chain), random_);
  }
  std::optional<QuotaGuard> guard;
  if (reservation || meter) {
    guard.emplace(quota_, reservation, *prices_, model->name, meter.get());
    if (fallback) guard->UseFallbacks(fallback.get());
    const int64_t fee_micros = meter ? meter->InvocationFee() : prices_->invocation_micros();
    if (Status fee = reservation ? quota_.Charge(*reservation, fee_micros) : Status::Ok();
        !fee.ok()) {
      (void)db_.Write([&](st::Tx& tx) {
        return st::sessions::FinishTurn(tx, who.tenant_id, session.id, now, 0, "");
      });
      co_return fee;
    }
    if (meter) meter->InvocationCharged(fee_micros);
  }
  agent::AgentRequest areq;
  areq.guard = guard ? &*guard : nullptr;
  areq.cancel = r.cancel;
  areq.model_id = model->provider_model_id;
  areq.messages = std::move(messages);
  areq.plan = r.plan;
  areq.clock = &clock_;
  areq.context = {who.tenant_id, who.user_id, who.email, who.subscription_tier,
                  who.role(),    session.id,  r.trace_id};
  if (meter) areq.context.traceparent = meter->Traceparent();

  RecordingEvents events(outer_events);
  events.meter = meter.get();
  Status start = co_await events.OnStart(session.id, out.message_id, r.trace_id);
  agent::AgentResult partial;
  // (No co_await inside a conditional expression or on a temporary: GCC 12 miscompiles both.)
  std::shared_ptr<agent::Model> turn_model = model->model;
  if (fallback) turn_model = fallback;
  agent::AgentLoop loop(turn_model, tools_);
  Result<agent::AgentResult> result = start.ok() ? Result<agent::AgentResult>(agent::AgentResult{})
                                                 : Result<agent::AgentResult>(start);
  if (start.ok()) {
    auto ran = co_await loop.Run(areq, events, &partial);
    result = std::move(ran);
  }
  const agent::AgentResult& ar = result.ok() ? *result : partial;
  // Usage is recorded under the model that answered (a fallback, when the chosen one failed).
  if (fallback && fallback->answered()) out.model = fallback->answered()->name;
  const auto finished = clock_.Now();
  out.latency_ms = ToUnixMillis(finished) - now;
  out.usage = ar.usage;
  out.response = ar.text;
  out.tool_calls = events.calls;
  const bool consumed = ar.usage.input_tokens + ar.usage.output_tokens > 0;

  // The last model call's settlement goes first, in a unit of its own at READ COMMITTED: the
  // turn's transaction below is serialisable (it reads the session's next sequence number), and
  // hot counter rows updated there would make concurrent turns fail to serialise on PostgreSQL.
  if (reservation) {
    // The message's tallies too, when the turn is kept (see QuotaService::KeepMessageLater).
    if (result.ok() || consumed) tenancy::QuotaService::KeepMessageLater(*reservation);
    Status flushed = quota_.Flush(*reservation);
    if (!flushed.ok())
      log::Warn("settling a turn's model call failed; retried with the turn",
                {{"error", flushed.message()}});
  }
  // One transaction: messages, usage, session activity, quota settlement.
  tenancy::Reservation res_copy;
  Status saved = db_.Write([&](st::Tx& tx) -> Status {
    // Copied inside the unit of work: a backend may run it more than once.
    if (reservation) res_copy = *reservation;
    int64_t added = 0;
    GH_ASSIGN_OR_RETURN(int64_t seq, st::messages::NextSeq(tx, who.tenant_id, session.id));
    if (result.ok() || consumed) {
      GH_RETURN_IF_ERROR(st::messages::Insert(tx, {MessageId(random_.TimeOrderedUuid(now)),
                                                   who.tenant_id,
                                                   session.id,
                                                   who.user_id,
                                                   seq++,
                                                   "user",
                                                   r.message,
                                                   {},
                                                   {},
                                                   now}));
      ++added;
      GH_ASSIGN_OR_RETURN(int64_t stored,
                          StoreMessages(tx, random_, who, session.id, seq, ar.new_messages,
                                        out.message_id, ToUnixMillis(finished)));
      added += stored;
    }
    GH_RETURN_IF_ERROR(st::sessions::FinishTurn(
        tx, who.tenant_id, session.id, ToUnixMillis(finished), added, TitleFrom(r.message)));
    if (reservation) {
      if (result.ok() || consumed) {
        GH_RETURN_IF_ERROR(tenancy::QuotaService::SettleIn(tx, res_copy));
      } else {
        GH_RETURN_IF_ERROR(tenancy::QuotaService::ReleaseIn(tx, res_copy));
      }
    }
    return Status::Ok();
  });
  if (meter) {  // the turn's usage events and spans, committed before the answer completes
    metering::Batch batch =
        meter->Finish(result.ok(), result.ok() ? std::string() : result.status().error_code());
    Status recorded = co_await metering_->recorder().Commit(std::move(batch));
    if (!recorded.ok())
      log::Error("usage events could not be recorded", {{"error", recorded.message()}});
  }
  if (!saved.ok()) {
    log::Error("chat turn could not be recorded",
               {{"tenant_id", who.tenant_id.value()}, {"error", saved.message()}});
    (void)db_.Write([&](st::Tx& tx) {
      return st::sessions::FinishTurn(tx, who.tenant_id, session.id, now, 0, "");
    });
    co_return saved;
  }
  if (reservation) *reservation = std::move(res_copy);
  if (!result.ok()) co_return std::move(result).status();
  co_return out;
}

// ---- the conversation after an approval ----

Awaitable<Result<ChatOutcome>> ChatService::ContinueAfterApproval(const ContinuationRequest& r,
                                                                  ChatEvents& events) {
  const identity::Principal& who = r.principal;
  const auto started = clock_.Now();
  const int64_t now = ToUnixMillis(started);
  GH_CO_ASSIGN_OR_RETURN(const agent::ModelEntry* model, ResolveModel(*r.plan, std::nullopt));
  GH_CO_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto s, st::sessions::Get(tx, who.tenant_id, r.session_id));
    if (!s || s->user_id != who.user_id)
      return Status::NotFound("no such session", "session_not_found");
    GH_ASSIGN_OR_RETURN(
        bool busy, st::sessions::TryMarkBusy(tx, who.tenant_id, s->id, now, now + kBusyLeaseMs));
    return busy ? Status::Ok()
                : Status::Conflict("a message is still being answered in this session",
                                   "session_busy");
  }));
  auto unmark = [&] {
    (void)db_.Write([&](st::Tx& tx) {
      return st::sessions::FinishTurn(tx, who.tenant_id, r.session_id, now, 0, "");
    });
  };

  ChatOutcome out;
  out.session_id = r.session_id;
  out.message_id = MessageId(random_.TimeOrderedUuid(now));
  out.trace_id = r.trace_id;
  out.model = model->name;

  // The same prompt and history a turn sees (see Chat), then the call that waited and its outcome.
  std::vector<agent::ChatMessage> messages;
  Result<std::string> prompt = SystemPrompt(who, r.tenant.name, *r.plan, started);
  if (!prompt.ok()) {
    unmark();
    co_return std::move(prompt).status();
  }
  messages.push_back({agent::Role::kSystem, std::move(prompt).value(), {}, "", "", false});
  if (Status hs = AppendStoredHistory(db_, who.tenant_id, r.session_id, messages); !hs.ok()) {
    unmark();
    co_return hs;
  }
  const agent::ChatMessage asked{agent::Role::kAssistant, "", {r.call}, "", "", false};
  const agent::ChatMessage answered{agent::Role::kTool, r.result.content, {},
                                    r.call.id,          r.call.name,      r.result.is_error};
  messages.push_back(asked);
  messages.push_back(answered);

  // Model calls are reserved and settled like a turn's; no message is counted.
  std::optional<QuotaGuard> guard;
  tenancy::Reservation reservation;
  auto limits = quota_.LimitsFor(r.tenant, who.user_id, *r.plan);
  if (limits.ok()) {
    static const TimeZone kUtc = TimeZone::Utc();
    reservation.tenant = who.tenant_id;
    reservation.user = who.user_id;
    reservation.limits = *limits;
    reservation.windows = tenancy::WindowsAt(started, limits->zone ? *limits->zone : kUtc);
    guard.emplace(quota_, reservation, *prices_, model->name);
  } else {
    log::Error("limits unavailable for a continuation",
               {{"tenant_id", who.tenant_id.value()}, {"error", limits.status().message()}});
  }
  agent::AgentRequest areq;
  areq.guard = guard ? &*guard : nullptr;
  areq.model_id = model->provider_model_id;
  areq.messages = std::move(messages);
  areq.plan = r.plan;
  areq.clock = &clock_;
  areq.context = {who.tenant_id, who.user_id,  who.email, who.subscription_tier,
                  who.role(),    r.session_id, r.trace_id};

  RecordingEvents recording(events);
  Status start = co_await recording.OnStart(r.session_id, out.message_id, r.trace_id);
  agent::AgentResult partial;
  agent::AgentLoop loop(model->model, tools_);
  Result<agent::AgentResult> result = start.ok() ? Result<agent::AgentResult>(agent::AgentResult{})
                                                 : Result<agent::AgentResult>(start);
  if (start.ok()) {
    auto ran = co_await loop.Run(areq, recording, &partial);
    result = std::move(ran);
  }
  const agent::AgentResult& ar = result.ok() ? *result : partial;
  const auto finished = clock_.Now();
  out.latency_ms = ToUnixMillis(finished) - now;
  out.usage = ar.usage;
  out.response = ar.text;
  out.tool_calls = recording.calls;

  if (guard) {  // the model calls' settlements (see Chat)
    Status flushed = quota_.Flush(reservation);
    if (!flushed.ok())
      log::Error("settling a continuation's model calls failed", {{"error", flushed.message()}});
  }
  Status saved = db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(int64_t seq, st::messages::NextSeq(tx, who.tenant_id, r.session_id));
    std::vector<agent::ChatMessage> to_store = {asked, answered};
    to_store.insert(to_store.end(), ar.new_messages.begin(), ar.new_messages.end());
    GH_ASSIGN_OR_RETURN(int64_t added, StoreMessages(tx, random_, who, r.session_id, seq, to_store,
                                                     out.message_id, ToUnixMillis(finished)));
    GH_RETURN_IF_ERROR(st::sessions::FinishTurn(tx, who.tenant_id, r.session_id,
                                                ToUnixMillis(finished), added, ""));
    if (r.in_record) GH_RETURN_IF_ERROR(r.in_record(tx));
    return Status::Ok();
  });
  if (!saved.ok()) {
    log::Error("continuation could not be recorded",
               {{"tenant_id", who.tenant_id.value()}, {"error", saved.message()}});
    unmark();
    co_return saved;
  }
  if (!result.ok()) co_return std::move(result).status();
  co_return out;
}

// ---- one model call for the OpenAI-compatible API ----

namespace {

// Forwards what a model call streams, counting it (a failed call's consumption is estimated from
// it, as the agent loop does) and noting it to the meter: not for a whole answer, whose one delta
// comes at its end and is no first token.
class CountingModelEvents final : public agent::ModelEvents {
 public:
  CountingModelEvents(agent::ModelEvents& inner, metering::TurnMeter* meter, bool stream)
      : inner_(inner), meter_(stream ? meter : nullptr) {}
  Awaitable<Status> OnTextDelta(std::string_view text) override {
    streamed_bytes += text.size();
    if (meter_) meter_->TextDelta();
    co_return co_await inner_.OnTextDelta(text);
  }
  size_t streamed_bytes = 0;

 private:
  agent::ModelEvents& inner_;
  metering::TurnMeter* meter_;
};

}  // namespace

std::vector<std::string> ChatService::AllowedModels(const tenancy::Plan& plan) const {
  std::vector<std::string> out;
  for (auto& name : models_.Names())
    if (plan.AllowsModel(name)) out.push_back(std::move(name));
  return out;
}

Awaitable<Result<CompletionOutcome>> ChatService::Complete(const CompletionRequest& r,
                                                           tenancy::Reservation* reservation,
                                                           CompletionEvents& events) {
  const identity::Principal& who = r.principal;
  const auto started = clock_.Now();
  const int64_t now = ToUnixMillis(started);
  GH_CO_ASSIGN_OR_RETURN(const agent::ModelEntry* model, ResolveModel(*r.plan, r.model));

  CompletionOutcome out;
  out.id = "chatcmpl-" + HexEncode(random_.Bytes(12));
  out.model = model->name;
  out.created = now / 1000;

  agent::ModelRequest mreq;
  mreq.model = model->provider_model_id;
  mreq.messages = r.messages;
  mreq.tools = r.tools;
  mreq.tool_required = r.tool_required && !r.tools.empty();
  mreq.response_format = r.response_format;
  mreq.max_output_tokens = r.plan->max_output_tokens;
  if (r.max_output_tokens)
    mreq.max_output_tokens = std::min(*r.max_output_tokens, r.plan->max_output_tokens);
  mreq.sampling = r.sampling;  // the fallbacks' calls too: ResilientModel passes it on
  mreq.context = {who.tenant_id, who.user_id, who.email,  who.subscription_tier,
                  who.role(),    SessionId(), r.trace_id, ""};
  mreq.cancel = r.cancel;
  mreq.stream = r.stream;

  std::shared_ptr<FallbackModel> fallback;
  if (!r.plan->fallback_models.empty()) {
    auto chain = FallbackChain(models_, *r.plan, *model);
    if (chain.size() > 1) fallback = std::make_shared<FallbackModel>(std::move(chain), random_);
  }
  std::shared_ptr<agent::Model> call_model = model->model;
  if (fallback) call_model = fallback;
  // What the model (and every fallback) could never serve, a response_format a Bedrock agent
  // cannot honour, is refused now: unmetered, and before a stream begins.
  if (call_model) {
    GH_CO_RETURN_IF_ERROR(call_model->Accepts(mreq));
  }

  std::unique_ptr<metering::TurnMeter> meter;
  if (metering_)
    meter = metering_->StartTurn({who.tenant_id, who.user_id, SessionId(), r.trace_id, model->name,
                                  model->provider_model_id});
  if (meter) mreq.context.traceparent = meter->Traceparent();

  // Admitted like a turn: the invocation fee, then the call's worst case against tokens and spend.
  std::optional<QuotaGuard> guard;
  Status admitted = Status::Ok();
  if (reservation || meter) {
    guard.emplace(quota_, reservation, *prices_, model->name, meter.get());
    if (fallback) guard->UseFallbacks(fallback.get());
    const int64_t fee_micros = meter ? meter->InvocationFee() : prices_->invocation_micros();
    // A prepared turn (the limits filter's PrepareTurn) is admitted by the call's reservation, in
    // one transaction with the fee: the fee is metered once that succeeded.
    const bool admitted_with_call = reservation && reservation->admission_pending;
    if (reservation) admitted = quota_.Charge(*reservation, fee_micros);
    if (admitted.ok() && meter && !admitted_with_call) meter->InvocationCharged(fee_micros);
    if (admitted.ok()) admitted = guard->BeforeModelCall(mreq);
    if (admitted.ok() && meter && admitted_with_call) meter->InvocationCharged(fee_micros);
  }

  Result<agent::ModelTurn> turn = agent::ModelTurn{};
  agent::Usage used;
  if (!admitted.ok()) {
    turn = admitted;
  } else {
    // (No co_await inside a conditional expression or on a temporary: GCC 12 miscompiles both.)
    Status start = co_await events.OnStart(out);
    if (start.ok()) {
      CountingModelEvents counting(events, meter.get(), mreq.stream);
      auto generated = co_await call_model->Generate(mreq, counting);
      turn = std::move(generated);
      if (fallback && fallback->answered()) out.model = fallback->answered()->name;
      if (turn.ok()) {
        used = turn->usage;
      } else if (counting.streamed_bytes > 0) {
        // Failed midway: it consumed its prompt and what it streamed (see agent.cc).
        for (const auto& m : mreq.messages)
          used.input_tokens += agent::EstimateTokens(m.content) + 4;
        used.output_tokens = static_cast<int64_t>((counting.streamed_bytes + 3) / 4);
      }
    } else {
      turn = start;
    }
    if (guard) guard->AfterModelCall(mreq, used);
  }

  const auto finished = clock_.Now();
  out.latency_ms = ToUnixMillis(finished) - now;
  const bool consumed = used.input_tokens + used.output_tokens > 0;

  // The call's settlement and the message's, in one unit. READ COMMITTED: unconditional counter
  // adjustments, nothing read and acted on (see Database::WriteReadCommitted), so hot counter rows
  // cannot fail it on PostgreSQL. With metering on SQLite it rides in the recorder's group
  // transaction with the usage events (awaited below anyway), as counter deltas summed with the
  // group's others, which saves the request a transaction of its own; on PostgreSQL several
  // completions' settlements in one transaction would lock counter rows in no common order (see
  // metering::Batch::counter_deltas), so it keeps its own there. (What the completion consumed is
  // recorded by its usage events and its trace: no row of its own.)
  tenancy::Reservation res_copy;
  const bool settle = turn.ok() || consumed;
  const bool in_recorder = meter && db_.dialect() == st::Dialect::kSqlite;
  auto save = [&](st::Tx& tx) -> Status {
    res_copy = *reservation;  // inside the unit: it may run more than once
    return settle ? tenancy::QuotaService::SettleIn(tx, res_copy)
                  : tenancy::QuotaService::ReleaseIn(tx, res_copy);
  };
  Status saved = in_recorder || !reservation ? Status::Ok() : db_.WriteReadCommitted(save);
  if (meter) {
    metering::Batch batch =
        meter->Finish(turn.ok(), turn.ok() ? std::string() : turn.status().error_code());
    if (in_recorder && reservation) {  // the settlement, summed with the group's others
      res_copy = *reservation;
      std::vector<st::CounterDelta> deltas = settle
                                                 ? tenancy::QuotaService::SettleDeltas(res_copy)
                                                 : tenancy::QuotaService::ReleaseDeltas(res_copy);
      for (auto& d : deltas) batch.counter_deltas.emplace_back(who.tenant_id, std::move(d));
    }
    Status recorded = co_await metering_->recorder().Commit(std::move(batch));
    if (in_recorder) {
      saved = recorded;
    } else if (!recorded.ok()) {
      log::Error("usage events could not be recorded", {{"error", recorded.message()}});
    }
  }
  if (!saved.ok()) {
    log::Error("completion could not be recorded",
               {{"tenant_id", who.tenant_id.value()}, {"error", saved.message()}});
    co_return saved;
  }
  if (reservation) *reservation = std::move(res_copy);
  if (!turn.ok()) co_return std::move(turn).status();
  out.turn = std::move(turn).value();
  co_return out;
}

}  // namespace gh::chat
