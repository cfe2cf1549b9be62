// ResilientModel: an ordered fallback list of models behind one agent::Model, with retries.
//
// Each entry is tried in order, with request.model replaced by the entry's provider_model_id.
// A failure is classified (ClassifyModelFailure): transient ones (429, 5xx, timeouts, connection
// failures, a stream cut short) are retried on the same entry with exponential backoff and jitter,
// or after the upstream's Retry-After when it gave one (up to a cap; a longer Retry-After moves
// on to the next entry at once); after max_attempts the next entry is tried. Permanent upstream
// failures (rejected request, bad credentials, unknown model) go to the next entry without
// retrying. A cancelled turn (the client went away) is never retried.
// Once any text delta has reached the client the turn is never retried or moved to another model
// (the client would see the answer twice): it fails with the original error's code and a message
// saying the answer was interrupted.
// The model that answered is reported through GenerateWithReport and the on_report observer.
//
// Waits use an asio steady_timer on the caller's executor; jitter comes from the injected Random.
// Thread-safety: immutable after construction; Generate may run concurrently. Random must be
// thread-safe (OsRandom, SeededRandom are) and outlive the model; on_report is called on the
// executor running Generate and must not block.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/model.h"
#include "agent/model_registry.h"
#include "common/random.h"
#include "common/status.h"

namespace gh::models {

struct RetryPolicy {
  int max_attempts = 3;  // per entry, the first try included
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{8'000};
  // The longest upstream Retry-After we wait for; a longer one moves on to the next entry.
  std::chrono::milliseconds max_retry_after{20'000};
};

struct ModelAttempt {
  std::string model_name;               // the entry's name
  int attempt = 1;                      // 1-based, per entry
  std::chrono::milliseconds waited{0};  // the wait before this attempt
  Status status;                        // OK for the attempt that answered
};

struct FallbackReport {
  std::string model_name;         // the entry that answered; empty when every entry failed
  std::string provider;           // its provider ("anthropic", "bedrock", ...)
  std::string provider_model_id;  // what that provider was asked for
  std::vector<ModelAttempt> attempts;
};

struct ResilientModelOptions {
  std::vector<agent::ModelEntry>
      chain;  // tried in this order (an entry without a model is skipped)
  RetryPolicy retry;
  // Optional: sees each Generate's report with the turn's context (for logs, metering).
  std::function<void(const agent::TenantContext&, const FallbackReport&)> on_report;
};

enum class FailureAction { kRetry, kFallBack, kFail };
// kRetry: ResourceExhausted "upstream_rate_limited", Unavailable, DeadlineExceeded, BadGateway
// "upstream_unavailable" / "upstream_incomplete". kFail: Cancelled. kFallBack: anything else.
FailureAction ClassifyModelFailure(const Status& status);

// The wait before retry number `retry` (1 = the first retry): the upstream's Retry-After when
// the status carries one (nullopt when it exceeds max_retry_after), else exponential backoff
// capped at max_backoff with "equal jitter" (half fixed, half uniform random).
std::optional<std::chrono::milliseconds> RetryDelay(const RetryPolicy& policy, int retry,
                                                    const Status& status, Random& random);

class ResilientModel final : public agent::Model {
 public:
  ResilientModel(ResilientModelOptions options, Random& random);
  std::string_view provider() const override { return "resilient"; }
  agent::Awaitable<Result<agent::ModelTurn>> Generate(const agent::ModelRequest& request,
                                                      agent::ModelEvents& events) override;
  // Like Generate; `report` is filled whether the turn succeeds or fails.
  agent::Awaitable<Result<agent::ModelTurn>> GenerateWithReport(const agent::ModelRequest& request,
                                                                agent::ModelEvents& events,
                                                                FallbackReport& report);
  // When some entry of the chain accepts the request; else the first entry's refusal.
  Status Accepts(const agent::ModelRequest& request) const override;

 private:
  ResilientModelOptions opt_;
  Random& random_;
};

}  // namespace gh::models
