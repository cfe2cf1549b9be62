// Metering: the cost-attribution and observability services of a running Gatehouse, built from
// configuration and owned together — the price catalog, the group-committing Recorder (usage
// events, roll-ups, spans, audit), cost reports, budgets and the alert webhook, the registry of
// request traces and the OTLP exporter. main/ creates one; the chat service starts a TurnMeter
// per turn; the metering filter and the cost / trace / metrics APIs use the rest.
// Thread-safe. Destroying it commits what is queued and delivers what is pending, then stops.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "common/clock.h"
#include "common/random.h"
#include "http/client.h"
#include "metering/budgets.h"
#include "metering/cost_reports.h"
#include "metering/price_catalog.h"
#include "metering/price_file.h"
#include "metering/recorder.h"
#include "metering/turn_meter.h"
#include "observability/metrics.h"
#include "observability/otlp_exporter.h"
#include "observability/trace_registry.h"
#include "storage/database.h"

namespace gh::metering {

struct MeteringOptions {
  std::string price_file;  // empty: the catalog compiled in (config/prices.yaml)
  PriceOverrides price_overrides;
  RecorderOptions recorder;
  WebhookOptions webhook;
  observability::OtlpOptions otlp;  // endpoint empty: no export
};

// The catalog the options describe.
Result<PriceCatalogPtr> LoadCatalog(const MeteringOptions& options);

class Metering {
 public:
  // `client` is for the exporter and the webhook (null: a client of their own).
  static Result<std::unique_ptr<Metering>> Create(
      const MeteringOptions& options, storage::Database& db, const Clock& clock, Random& random,
      observability::Metrics& metrics, std::shared_ptr<http::HttpClient> client = nullptr);
  ~Metering();

  PriceCatalogPtr prices() const { return prices_; }
  const Clock& clock() const { return clock_; }
  Random& random() { return random_; }
  storage::Database& db() { return db_; }
  observability::Metrics& metrics() { return metrics_; }
  observability::TraceRegistry& traces() { return traces_; }
  Recorder& recorder() { return *recorder_; }
  CostReports& reports() { return reports_; }
  Budgets& budgets() { return budgets_; }
  AlertNotifier& notifier() { return *notifier_; }
  audit::AuditLog& audit() { return audit_; }

  // A meter for one chat turn, under the request's trace when one is in flight.
  std::unique_ptr<TurnMeter> StartTurn(TurnInfo info);
  // Spans a chat turn's provider reported while the turn ran (a Bedrock agent's trace events),
  // all of one trace, each carrying its tenant, user and session. Recorded the way a finished
  // turn's spans are: handed to the request in flight with that trace id (RequestTrace::Adopt,
  // stored with its spans; as an adopted turn's, they keep their own tenant), or, with no such
  // request (a turn not under a live request, or one that outlived it), enqueued on their own with
  // a summary that merges into the trace's row (span count, times). Never waits for storage; any
  // thread.
  void RecordTurnSpans(std::vector<observability::Span> spans);

 private:
  Metering(storage::Database& db, const Clock& clock, Random& random,
           observability::Metrics& metrics, PriceCatalogPtr prices);

  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  observability::Metrics& metrics_;
  PriceCatalogPtr prices_;
  observability::TraceRegistry traces_;
  CostReports reports_;
  Budgets budgets_;
  audit::AuditLog audit_;
  // Destroyed in reverse: the recorder first (it feeds the other two).
  std::unique_ptr<observability::OtlpExporter> exporter_;
  std::unique_ptr<AlertNotifier> notifier_;
  std::unique_ptr<Recorder> recorder_;
};

}  // namespace gh::metering
