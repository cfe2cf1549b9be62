#include "models/resilient_model.h"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "models/provider_common.h"

namespace gh::models {

using namespace agent;
using std::chrono::milliseconds;

namespace {

// Forwards deltas and remembers whether any reached (or was offered to) the client, and whether
// the client refused one.
class TrackingEvents final : public ModelEvents {
 public:
  explicit TrackingEvents(ModelEvents& inner) : inner_(inner) {}
  Awaitable<Status> OnTextDelta(std::string_view text) override {
    delivered_ = true;
    Status st = co_await inner_.OnTextDelta(text);
    if (!st.ok()) client_refused_ = true;
    co_return st;
  }
  bool delivered() const { return delivered_; }
  bool client_refused() const { return client_refused_; }

 private:
  ModelEvents& inner_;
  bool delivered_ = false;
  bool client_refused_ = false;
};

}  // namespace

FailureAction ClassifyModelFailure(const Status& st) {
  switch (st.code()) {
    case StatusCode::kCancelled:
      return FailureAction::kFail;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return FailureAction::kRetry;
    case StatusCode::kResourceExhausted:
      return st.error_code() == "upstream_rate_limited" ? FailureAction::kRetry
                                                        : FailureAction::kFallBack;
    case StatusCode::kBadGateway:
      return st.error_code() == "upstream_unavailable" || st.error_code() == "upstream_incomplete"
                 ? FailureAction::kRetry
                 : FailureAction::kFallBack;
    default:
      return FailureAction::kFallBack;
  }
}

std::optional<milliseconds> RetryDelay(const RetryPolicy& policy, int retry, const Status& status,
                                       Random& random) {
  if (std::optional<int64_t> ra = status.retry_after_seconds(); ra && *ra > 0) {
    // Compared in seconds first so an absurd Retry-After cannot overflow the conversion.
    if (*ra > policy.max_retry_after.count() / 1000) return std::nullopt;
    return milliseconds(*ra * 1000);
  }
  const int64_t cap = std::max<int64_t>(0, policy.max_backoff.count());
  int64_t base = std::max<int64_t>(0, policy.initial_backoff.count());
  for (int i = 1; i < retry && base < cap; ++i) base *= 2;
  base = std::min(base, cap);
  const int64_t fixed = base / 2;
  return milliseconds(
      fixed + static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(base - fixed) + 1)));
}

ResilientModel::ResilientModel(ResilientModelOptions options, Random& random)
    : opt_(std::move(options)), random_(random) {}

Status ResilientModel::Accepts(const ModelRequest& request) const {
  Status first = Status::Ok();
  for (const ModelEntry& entry : opt_.chain) {
    if (!entry.model) continue;
    Status st = entry.model->Accepts(request);
    if (st.ok()) return st;
    if (first.ok()) first = std::move(st);
  }
  return first;
}

Awaitable<Result<ModelTurn>> ResilientModel::Generate(const ModelRequest& request,
                                                      ModelEvents& events) {
  FallbackReport report;
  Result<ModelTurn> turn = co_await GenerateWithReport(request, events, report);
  if (opt_.on_report) opt_.on_report(request.context, report);
  co_return turn;
}

Awaitable<Result<ModelTurn>> ResilientModel::GenerateWithReport(const ModelRequest& request,
                                                                ModelEvents& events,
                                                                FallbackReport& report) {
  report = FallbackReport{};
  if (opt_.chain.empty())
    co_return Status::Unavailable("no model is configured", "model_unavailable");
  const int max_attempts = std::max(1, opt_.retry.max_attempts);
  Status last;
  std::string last_name;

  for (const ModelEntry& entry : opt_.chain) {
    if (!entry.model) {  // a configuration slip must not crash a turn: skip the entry
      last = Status::Unavailable(fmt::format("model '{}' is not configured", entry.name),
                                 "model_unavailable");
      last_name = entry.name;
      continue;
    }
    ModelRequest req = request;
    req.model = entry.provider_model_id;
    milliseconds wait{0};
    for (int attempt = 1; attempt <= max_attempts; ++attempt) {
      // A client that went away is not waited on (a Retry-After may be many seconds) nor asked
      // for again.
      if (request.cancel && request.cancel->cancelled())
        co_return Status::Cancelled("the turn was cancelled before it could be retried");
      if (wait.count() > 0) {
        boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
        timer.expires_after(wait);
        const int subscription =
            request.cancel ? request.cancel->Subscribe([&timer] { timer.cancel(); }) : 0;
        auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (request.cancel) request.cancel->Unsubscribe(subscription);
        if (ec || (request.cancel && request.cancel->cancelled()))
          co_return Status::Cancelled("the turn was cancelled while waiting to retry");
      }
      TrackingEvents tracking(events);
      Result<ModelTurn> turn = co_await entry.model->Generate(req, tracking);
      report.attempts.push_back({entry.name, attempt, wait, turn.status()});
      if (turn.ok()) {
        report.model_name = entry.name;
        report.provider = std::string(entry.model->provider());
        report.provider_model_id = entry.provider_model_id;
        co_return turn;
      }
      Status st = std::move(turn).status();
      if (tracking.client_refused()) co_return st;
      if (tracking.delivered()) {
        co_return WithMessage(
            st, fmt::format("the answer from model '{}' was interrupted after it had started, so "
                            "it was not retried: {}",
                            entry.name, st.message()))
            .WithDetail("model", entry.name);
      }
      const FailureAction action = ClassifyModelFailure(st);
      if (action == FailureAction::kFail) co_return st;
      last = std::move(st);
      last_name = entry.name;
      if (action == FailureAction::kFallBack || attempt == max_attempts) break;
      std::optional<milliseconds> delay = RetryDelay(opt_.retry, attempt, last, random_);
      if (!delay) break;  // the upstream asks for a longer pause than we wait: try the next entry
      wait = *delay;
    }
  }
  if (opt_.chain.size() == 1) co_return last;
  co_return WithMessage(last, fmt::format("all {} models failed; the last, '{}', said: {}",
                                          opt_.chain.size(), last_name, last.message()));
}

}  // namespace gh::models
