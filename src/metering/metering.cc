#include "metering/metering.h"

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

}  // namespace gh::metering
