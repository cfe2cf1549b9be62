#include "filters/metering/metering_filter.h"

#include <boost/json.hpp>

#include "observability/trace_context.h"
#include "pipeline/router.h"

namespace gh::filters {

namespace bj = boost::json;
namespace obs = gh::observability;
using pipeline::FilterStatus;
using pipeline::RequestContext;

namespace {

int64_t NowUs(const Clock& clock) { return ToUnixMicros(clock.Now()); }

bool WantsEventStream(const http::Request& req) {
  auto accept = req.Header("accept");
  return accept && accept->find("text/event-stream") != std::string_view::npos;
}

std::string LimitOf(const Status& st) {
  for (const auto& [k, v] : st.details())
    if (k == "limit" && std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  return "";
}

// Times one filter's OnRequest into a span of the request's trace.
class TimedFilter final : public pipeline::Filter {
 public:
  TimedFilter(std::shared_ptr<pipeline::Filter> inner, metering::Metering& m)
      : inner_(std::move(inner)), m_(m) {}
  std::string_view name() const override { return inner_->name(); }
  FilterStatus OnRequest(RequestContext& ctx) override {
    const int64_t start = NowUs(m_.clock());
    const FilterStatus st = inner_->OnRequest(ctx);
    if (auto trace = m_.traces().Find(ctx.trace_id.value())) {
      obs::Span s;
      s.trace_id = trace->trace_id();
      s.span_id = obs::NewSpanId(m_.random());
      s.parent_span_id = trace->span_id();
      s.name = std::string(inner_->name());
      s.start_us = start;
      s.end_us = NowUs(m_.clock());
      if (st == FilterStatus::kStop) {
        s.error = true;
        s.status_message = ctx.outcome.error_code();
        if (std::string limit = LimitOf(ctx.outcome); !limit.empty()) s.Set("limit", limit);
      }
      if (inner_->name() == obs::spans::kLimits && ctx.reservation) {
        if (ctx.reservation->remaining_day)
          s.Set("quota.remaining_messages_day", *ctx.reservation->remaining_day);
        if (ctx.reservation->remaining_month)
          s.Set("quota.remaining_messages_month", *ctx.reservation->remaining_month);
      }
      trace->Add(std::move(s));
    }
    return st;
  }
  void OnResponse(RequestContext& ctx) override { inner_->OnResponse(ctx); }

 private:
  std::shared_ptr<pipeline::Filter> inner_;
  metering::Metering& m_;
};

}  // namespace

FilterStatus MeteringFilter::OnRequest(RequestContext& ctx) {
  m_.metrics().RequestStarted();
  InFlight f;
  f.start_us = NowUs(m_.clock());
  std::optional<obs::TraceContext> incoming;
  if (auto tp = ctx.request.Header("traceparent")) incoming = obs::ParseTraceparent(*tp);
  const std::string trace_id =
      incoming ? incoming->trace_id : obs::NewTraceId(m_.clock().NowUnixMillis(), m_.random());
  ctx.trace_id = TraceId(trace_id);
  f.trace = std::make_shared<obs::RequestTrace>(trace_id, obs::NewSpanId(m_.random()),
                                                incoming ? incoming->span_id : std::string());
  f.registered = m_.traces().Register(f.trace);
  f.stream = WantsEventStream(ctx.request) && ctx.route && ctx.route->chat_quota;
  if (f.stream) m_.metrics().StreamOpened();
  std::lock_guard lock(mu_);
  in_flight_[&ctx] = std::move(f);
  return FilterStatus::kContinue;
}

void MeteringFilter::OnResponse(RequestContext& ctx) {
  InFlight f;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(&ctx);
    if (it != in_flight_.end()) {
      f = std::move(it->second);
      in_flight_.erase(it);
    }
  }
  const int64_t end_us = NowUs(m_.clock());
  const std::string route = ctx.route ? ctx.route->pattern : std::string();
  const int status = ctx.stream.begun() ? 200 : ctx.response.status;
  const bool failed = !ctx.outcome.ok() || status >= 400;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
  m_.metrics().ObserveRequest(route, ctx.request.method, status, seconds);
  if (status == 429) m_.metrics().CountLimitRefusal(ctx.outcome.error_code(), LimitOf(ctx.outcome));
  if (f.stream) m_.metrics().StreamClosed();
  m_.metrics().RequestFinished();

  auto& fields = ctx.response.log_fields;
  if (ctx.route) fields.emplace_back("route", route);
  if (ctx.principal) {
    fields.emplace_back("tenant_id", ctx.principal->tenant_id.value());
    fields.emplace_back("user_id", ctx.principal->user_id.value());
  }
  if (!ctx.trace_id.empty()) fields.emplace_back("trace_id", ctx.trace_id.value());
  if (!ctx.outcome.ok() && ctx.stream.begun())
    fields.emplace_back("stream_error", ctx.outcome.error_code());

  if (!f.trace) return;
  if (f.registered) m_.traces().Unregister(*f.trace);
  metering::Batch batch;
  const std::string tenant = ctx.principal ? ctx.principal->tenant_id.value() : std::string();
  const std::string user = ctx.principal ? ctx.principal->user_id.value() : std::string();

  // A chat's trace: the request's span, its filters' spans, and what its turn handed over.
  obs::RequestTrace::Taken taken = f.trace->Take();
  const bool chat = ctx.route && (ctx.route->chat_quota || f.trace->has_turn());
  if (chat && !tenant.empty()) {
    obs::Span server;
    server.trace_id = f.trace->trace_id();
    server.span_id = f.trace->span_id();
    server.parent_span_id = f.trace->remote_parent_span_id();
    server.name = ctx.request.method + " " + route;
    server.kind = "server";
    server.start_us = f.start_us;
    server.end_us = end_us;
    server.error = failed;
    if (!ctx.outcome.ok()) server.status_message = ctx.outcome.error_code();
    server.Set("http.request.method", ctx.request.method)
        .Set("http.route", route)
        .Set("http.response.status_code", int64_t(status))
        .Set("gatehouse.request_id", ctx.request.request_id);
    std::vector<obs::Span> spans = std::move(taken.spans);
    spans.insert(spans.begin(), std::move(server));
    for (auto& s : spans) {
      s.tenant_id = tenant;
      s.user_id = user;
    }
    storage::TraceRow row;
    row.tenant_id = TenantId(tenant);
    row.trace_id = TraceId(f.trace->trace_id());
    row.user_id = user;
    row.name = spans.front().name;
    row.started_us = f.start_us;
    row.ended_us = end_us;
    row.status = failed ? "error" : "ok";
    row.span_count = static_cast<int64_t>(spans.size());
    batch.traces.push_back(std::move(row));
    batch.spans = std::move(spans);
  }
  // The recorder merges the turn's summary with the request's: one row for the trace.
  for (auto& turn : taken.turns) {
    for (auto& s : turn.spans) batch.spans.push_back(std::move(s));
    batch.traces.push_back(std::move(turn.summary));
  }

  // Audit: authorization denials, and administrative requests that change something.
  const std::string actor = ctx.principal ? "user:" + user : "anonymous";
  if (status == 403) {
    batch.audit.push_back({tenant, actor, "authz.denied", ctx.request.method + " " + route,
                           ctx.outcome.error_code(),
                           bj::serialize(bj::object{{"trace_id", ctx.trace_id.value()},
                                                    {"request_id", ctx.request.request_id},
                                                    {"path_tenant_id", ctx.Param("tenant_id")}})});
  } else if (ctx.route && (ctx.route->tenant_admin || ctx.route->platform_operator) &&
             ctx.request.method != "GET" && ctx.principal) {
    bj::object params;
    for (const auto& [k, v] : ctx.params) params[k] = v;
    batch.audit.push_back({tenant, actor, "admin.request", ctx.request.method + " " + route,
                           std::to_string(status),
                           bj::serialize(bj::object{{"trace_id", ctx.trace_id.value()},
                                                    {"request_id", ctx.request.request_id},
                                                    {"params", std::move(params)}})});
  }
  if (!batch.empty()) m_.recorder().Enqueue(std::move(batch));
}

void InstrumentFilters(std::vector<std::shared_ptr<pipeline::Filter>>& filters,
                       metering::Metering& metering) {
  for (auto& f : filters)
    if (f->name() != "metering") f = std::make_shared<TimedFilter>(std::move(f), metering);
}

}  // namespace gh::filters
