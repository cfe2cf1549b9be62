#include "metering/metering.h"

#include <algorithm>

namespace gh::metering {

Result<PriceCatalogPtr> LoadCatalog(const MeteringOptions& o) {
  Result<CatalogData> data =
      o.price_file.empty() ? ParsePriceFile(DefaultPriceFile()) : LoadPriceFile(o.price_file);
  if (!data.ok()) return data.status();
  return std::make_shared<const PriceCatalog>(
      ApplyOverrides(std::move(data).value(), o.price_overrides));
}

Metering::Metering(storage::Database& db, const Clock& clock, Random& random,
                   observability::Metrics& metrics, PriceCatalogPtr prices)
    : db_(db),
      clock_(clock),
      random_(random),
      metrics_(metrics),
      prices_(std::move(prices)),
      reports_(db),
      budgets_(db, clock),
      audit_(db, clock) {}

Metering::~Metering() = default;

Result<std::unique_ptr<Metering>> Metering::Create(const MeteringOptions& o, storage::Database& db,
                                                   const Clock& clock, Random& random,
                                                   observability::Metrics& metrics,
                                                   std::shared_ptr<http::HttpClient> client) {
  GH_ASSIGN_OR_RETURN(PriceCatalogPtr prices, LoadCatalog(o));
  std::unique_ptr<Metering> m(new Metering(db, clock, random, metrics, std::move(prices)));
  if (!client) client = http::MakeBeastHttpClient();
  if (!o.otlp.endpoint.empty())
    m->exporter_ = std::make_unique<observability::OtlpExporter>(o.otlp, client, &metrics);
  m->notifier_ = std::make_unique<AlertNotifier>(o.webhook, db, clock, client);
  m->recorder_ = std::make_unique<Recorder>(db, clock, o.recorder, &metrics, m->exporter_.get(),
                                            m->notifier_.get());
  return m;
}

std::unique_ptr<TurnMeter> Metering::StartTurn(TurnInfo info) {
  auto request = traces_.Find(info.trace.value());
  if (request) request->MarkTurn();
  return std::make_unique<TurnMeter>(std::move(info), prices_, clock_, random_, &metrics_,
                                     std::move(request));
}

void Metering::RecordTurnSpans(std::vector<observability::Span> spans) {
  if (spans.empty()) return;
  const observability::Span& first = spans.front();
  storage::TraceRow summary;
  summary.tenant_id = TenantId(first.tenant_id);
  summary.trace_id = TraceId(first.trace_id);
  summary.user_id = first.user_id;
  summary.session_id = first.session_id;
  summary.started_us = first.start_us;
  summary.ended_us = first.end_us;
  summary.status = "ok";  // a merge keeps an error the trace has already
  for (const auto& s : spans) {
    summary.started_us = std::min(summary.started_us, s.start_us);
    summary.ended_us = std::max(summary.ended_us, s.end_us);
    if (s.error) summary.status = "error";  // (an agent's failureTrace, say)
  }
  summary.span_count = static_cast<int64_t>(spans.size());
  observability::RequestTrace::Turn turn{std::move(spans), std::move(summary)};
  if (auto request = traces_.Find(turn.summary.trace_id.value()); request && request->Adopt(turn))
    return;
  Batch b;
  b.spans = std::move(turn.spans);
  b.traces.push_back(std::move(turn.summary));
  recorder_->Enqueue(std::move(b));
}

}  // namespace gh::metering
