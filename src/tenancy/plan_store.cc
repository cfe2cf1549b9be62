#include "tenancy/plan_store.h"

#include <boost/json.hpp>

#include "common/log.h"
#include "storage/limits_repository.h"
#include "tenancy/plan_json.h"

namespace gh::tenancy {

namespace bj = boost::json;

PlanStore::PlanStore(std::map<std::string, Plan> configured, storage::Database& db,
                     const Clock& clock)
    : configured_(std::move(configured)),
      db_(db),
      clock_(clock),
      current_(std::make_shared<const PlanCatalog>(configured_)) {}

Status PlanStore::Reload(int64_t version) {
  std::vector<storage::StoredPlan> stored;
  GH_RETURN_IF_ERROR(db_.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(stored, storage::plans::List(tx));
    return Status::Ok();
  }));
  std::map<std::string, Plan> merged = configured_;
  for (const auto& sp : stored) {
    boost::system::error_code ec;
    bj::value v = bj::parse(sp.definition, ec);
    Plan p = merged.count(sp.name) ? merged[sp.name] : PlanCatalog::Defaults().plans().at("basic");
    p.name = sp.name;
    if (ec || !v.is_object() || !ApplyPlanJson(v.get_object(), p).ok()) {
      log::Error("stored plan is invalid; keeping the configured one", {{"plan", sp.name}});
      continue;
    }
    merged[sp.name] = p;
  }
  std::lock_guard lock(mu_);
  current_ = std::make_shared<const PlanCatalog>(std::move(merged));
  version_ = version;
  return Status::Ok();
}

Status PlanStore::Load() {
  int64_t version = 0;
  GH_RETURN_IF_ERROR(db_.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(version, storage::plans::MaxVersion(tx));
    return Status::Ok();
  }));
  checked_at_ms_ = clock_.NowUnixMillis();
  return Reload(version);
}

PlanCatalogPtr PlanStore::Current() {
  const int64_t now = clock_.NowUnixMillis();
  {
    std::lock_guard lock(mu_);
    if (now - checked_at_ms_ < 1000) return current_;
    checked_at_ms_ = now;
  }
  int64_t version = 0;
  Status st = db_.Read([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(version, storage::plans::MaxVersion(tx));
    return Status::Ok();
  });
  if (st.ok() && version != version_) (void)Reload(version);
  std::lock_guard lock(mu_);
  return current_;
}

Status PlanStore::Put(const Plan& plan) {
  const int64_t now = clock_.NowUnixMillis();
  int64_t version = 0;
  GH_RETURN_IF_ERROR(db_.Write([&](storage::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(int64_t max, storage::plans::MaxVersion(tx));
    version = max + 1;
    return storage::plans::Upsert(tx, {plan.name, bj::serialize(PlanToJson(plan)), now, version});
  }));
  return Reload(version);
}

}  // namespace gh::tenancy
